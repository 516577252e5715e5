// CREATE USER / ALTER USER / DROP USER / GRANT / REVOKE, parsed here and carried out by the catalog.
import { Cursor } from './lexer';
import { hasOnClause } from './storage';

export type UserStatement =
  | { kind: 'create_user'; name: string; password: string | null }
  | { kind: 'alter_user'; name: string; password: string | null }
  | { kind: 'drop_user'; name: string; ifExists: boolean }
  | { kind: 'grant'; role: string; user: string }
  | { kind: 'revoke'; role: string; user: string };

const nameOf = (t: { kind: string; value: string }) => t.value;

function passwordClause(c: Cursor): string | null {
  c.acceptKeyword('with');
  if (c.atEnd()) return null;
  c.expectKeyword('password', 'PASSWORD');
  if (c.acceptKeyword('null')) return null;
  return c.string('a quoted password').value;
}

export function parseUserStatement(sql: string): UserStatement | null {
  const c = Cursor.of(sql);
  if (c.isKeyword('create') && (c.isKeyword('user', 1) || c.isKeyword('role', 1))) {
    c.next();
    c.next();
    const name = nameOf(c.name('a user name'));
    const password = passwordClause(c);
    c.expectEnd();
    return { kind: 'create_user', name, password };
  }
  if (c.isKeyword('alter') && (c.isKeyword('user', 1) || c.isKeyword('role', 1))) {
    c.next();
    c.next();
    const name = nameOf(c.name('a user name'));
    const password = passwordClause(c);
    c.expectEnd();
    return { kind: 'alter_user', name, password };
  }
  if (c.isKeyword('drop') && (c.isKeyword('user', 1) || c.isKeyword('role', 1))) {
    c.next();
    c.next();
    let ifExists = false;
    if (c.acceptKeyword('if')) {
      c.expectKeyword('exists', 'EXISTS');
      ifExists = true;
    }
    const name = nameOf(c.name('a user name'));
    c.expectEnd();
    return { kind: 'drop_user', name, ifExists };
  }
  // GRANT ... ON TABLE t is a table privilege (ddl/storage.ts), not a role.
  if ((c.isKeyword('grant') || c.isKeyword('revoke')) && !hasOnClause(c)) {
    const grant = c.next().value === 'grant';
    const role = nameOf(c.name('a role name'));
    c.expectKeyword(grant ? 'to' : 'from', grant ? 'TO' : 'FROM');
    const user = nameOf(c.name('a user name'));
    c.expectEnd();
    return { kind: grant ? 'grant' : 'revoke', role, user };
  }
  return null;
}
