// Storage DDL and COPY, parsed by recursive descent on the shared lexer:
//   CREATE STORAGESPACE s WIDTH 6 PARITY_WIDTH 2 [SEGMENT_SIZE 1048576]
//   CREATE CLUSTER c STORAGESPACE s
//   CREATE NODE n IN CLUSTER c [ADDRESS 'host:port'] DEVICES ('/path/a', '/path/b')
//   ALTER NODE n ADD DEVICE '/path/c' | ALTER NODE n SET OFFLINE | ONLINE
//   CREATE TABLE t [(column definitions)] IN CLUSTER c
//   DROP NODE n | DROP TABLE t | DROP CLUSTER c | DROP STORAGESPACE s
//   COPY t FROM STDIN [WITH] [(FORMAT text|csv|binary, ...)] | COPY t TO STDOUT [...]
//   GRANT privilege [, ...] | ALL [PRIVILEGES] ON [TABLE] t [, ...] TO user | PUBLIC [, ...]
//   REVOKE privilege [, ...] | ALL [PRIVILEGES] ON [TABLE] t [, ...] FROM user | PUBLIC [, ...]
import { Cursor, syntaxError } from './lexer';

export type StorageStatement =
  | { kind: 'create_space'; name: string; width: number; parity: number; segmentSize: number | null }
  | { kind: 'create_cluster'; name: string; space: string }
  | { kind: 'create_node'; name: string; cluster: string; address: string | null; devices: string[] }
  | { kind: 'add_device'; node: string; path: string }
  | { kind: 'set_node'; node: string; status: 'ONLINE' | 'OFFLINE' }
  | { kind: 'create_table'; name: string; cluster: string; columns: string }
  | { kind: 'drop'; what: 'node' | 'table' | 'cluster' | 'storagespace'; name: string; ifExists: boolean }
  | { kind: 'copy'; table: string; direction: 'in' | 'out'; binary: boolean }
  | {
      kind: 'table_privileges';
      grant: boolean;
      /** PostgreSQL's aclitem letters, in its order (arwdDxt). */
      privileges: string[];
      tables: string[];
      /** User names; 'public' for PUBLIC. */
      grantees: string[];
    };

/** Table privileges and their aclitem letters, in the order PostgreSQL prints them. */
export const TABLE_PRIVILEGES: [string, string][] = [
  ['insert', 'a'],
  ['select', 'r'],
  ['update', 'w'],
  ['delete', 'd'],
  ['truncate', 'D'],
  ['references', 'x'],
  ['trigger', 't'],
];
const ACL_ORDER = 'arwdDxt';

function tablePrivileges(c: Cursor, grant: boolean): StorageStatement {
  c.next();
  const letters = new Set<string>();
  if (c.acceptKeyword('all')) {
    c.acceptKeyword('privileges');
    for (const [, l] of TABLE_PRIVILEGES) letters.add(l);
  } else {
    do {
      const t = c.peek();
      const p = TABLE_PRIVILEGES.find(([word]) => t.kind === 'ident' && t.value === word);
      if (!p)
        throw c.unexpected(
          'a table privilege (SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER or ALL)',
        );
      c.next();
      letters.add(p[1]);
    } while (c.acceptPunct(','));
  }
  c.expectKeyword('on', 'ON');
  c.acceptKeyword('table');
  const tables: string[] = [];
  do {
    let name = c.name('a table name').value;
    if (c.acceptPunct('.')) name = c.name('a table name').value; // public.t
    tables.push(name);
  } while (c.acceptPunct(','));
  c.expectKeyword(grant ? 'to' : 'from', grant ? 'TO' : 'FROM');
  const grantees: string[] = [];
  do grantees.push(c.name('a user name or PUBLIC').value);
  while (c.acceptPunct(','));
  c.expectEnd();
  const privileges = [...ACL_ORDER].filter((l) => letters.has(l));
  return { kind: 'table_privileges', grant, privileges, tables, grantees };
}

function int(c: Cursor, what: string): number {
  const t = c.peek();
  if (t.kind !== 'number' || !/^\d+$/.test(t.value)) throw c.unexpected(what);
  c.next();
  return Number(t.value);
}

/** GRANT/REVOKE of privileges ON an object, as against GRANT role TO user (ddl/users.ts). */
export function hasOnClause(c: Cursor): boolean {
  for (let k = 1; c.peek(k).kind !== 'end'; k++) {
    if (c.isKeyword('on', k)) return true;
    if (c.isKeyword('to', k) || c.isKeyword('from', k)) return false;
  }
  return false;
}

/** Returns the parsed statement, or null when the SQL is not a storage statement at all. */
export function parseStorageStatement(sql: string): StorageStatement | null {
  const c = Cursor.of(sql);
  if (c.isKeyword('create')) {
    if (c.isKeyword('storagespace', 1)) {
      c.next();
      c.next();
      const name = c.name('a storage space name').value;
      let width: number | null = null;
      let parity: number | null = null;
      let segmentSize: number | null = null;
      while (!c.atEnd()) {
        const t = c.peek();
        if (c.acceptKeyword('width')) width = int(c, 'a number of segments');
        else if (c.acceptKeyword('parity_width')) parity = int(c, 'a number of parity segments');
        else if (c.acceptKeyword('segment_size')) segmentSize = int(c, 'a segment size in bytes');
        else
          throw syntaxError(
            `syntax error at or near "${t.raw}": expected WIDTH, PARITY_WIDTH or SEGMENT_SIZE`,
            t.at,
          );
      }
      c.expectEnd();
      if (width === null) throw syntaxError('CREATE STORAGESPACE needs WIDTH', sql.length);
      if (parity === null) throw syntaxError('CREATE STORAGESPACE needs PARITY_WIDTH', sql.length);
      return { kind: 'create_space', name, width, parity, segmentSize };
    }
    if (c.isKeyword('cluster', 1)) {
      c.next();
      c.next();
      const name = c.name('a cluster name').value;
      c.expectKeyword('storagespace', 'STORAGESPACE');
      const space = c.name('a storage space name').value;
      c.expectEnd();
      return { kind: 'create_cluster', name, space };
    }
    if (c.isKeyword('node', 1)) {
      c.next();
      c.next();
      const name = c.name('a node name', true).value;
      c.expectKeyword('in', 'IN CLUSTER');
      c.expectKeyword('cluster', 'CLUSTER');
      const cluster = c.name('a cluster name', true).value;
      // ADDRESS names the storage agent that serves the node; without it the node is served in process.
      const address = c.acceptKeyword('address')
        ? c.string("the agent's address as 'host:port'").value
        : null;
      const devices: string[] = [];
      if (c.acceptKeyword('devices')) {
        c.expectPunct('(');
        do devices.push(c.string('a quoted device path').value);
        while (c.acceptPunct(','));
        c.expectPunct(')');
      }
      c.expectEnd();
      return { kind: 'create_node', name, cluster, address, devices };
    }
    if (c.isKeyword('table', 1)) {
      c.next();
      c.next();
      const name = c.name('a table name').value;
      let columns = '';
      if (c.peek().kind === 'punct' && c.peek().value === '(') {
        const start = c.peek().at;
        let depth = 0;
        let end = start;
        do {
          const t = c.next();
          if (t.kind === 'end')
            throw syntaxError('syntax error at end of input: unbalanced parentheses', t.at);
          if (t.value === '(' && t.kind === 'punct') depth++;
          if (t.value === ')' && t.kind === 'punct') depth--;
          end = t.at + t.raw.length;
        } while (depth > 0);
        columns = sql.slice(start, end);
      }
      if (!c.isKeyword('in')) return null; // an ordinary CREATE TABLE: refused by the router
      c.expectKeyword('in');
      c.expectKeyword('cluster', 'CLUSTER');
      const cluster = c.name('a cluster name', true).value;
      c.expectEnd();
      return { kind: 'create_table', name, cluster, columns };
    }
    return null;
  }
  if (c.isKeyword('alter') && c.isKeyword('node', 1)) {
    c.next();
    c.next();
    const node = c.name('a node name', true).value;
    if (c.acceptKeyword('add')) {
      c.expectKeyword('device', 'DEVICE');
      const path = c.string('a quoted device path').value;
      c.expectEnd();
      return { kind: 'add_device', node, path };
    }
    c.expectKeyword('set', 'ADD DEVICE or SET');
    const t = c.next();
    if (t.kind !== 'ident' || (t.value !== 'online' && t.value !== 'offline')) {
      throw syntaxError(`syntax error at or near "${t.raw}": expected ONLINE or OFFLINE`, t.at);
    }
    c.expectEnd();
    return { kind: 'set_node', node, status: t.value === 'online' ? 'ONLINE' : 'OFFLINE' };
  }
  if (c.isKeyword('drop')) {
    const what = c.peek(1).value;
    if (!['node', 'table', 'cluster', 'storagespace'].includes(what) || c.peek(1).kind !== 'ident')
      return null;
    c.next();
    c.next();
    let ifExists = false;
    if (c.acceptKeyword('if')) {
      c.expectKeyword('exists', 'EXISTS');
      ifExists = true;
    }
    const name = c.name(`a ${what} name`, what === 'node').value;
    // A qualified name (sys.tasks, pg_catalog.x) is no user table: the router refuses it as a catalog write.
    if (c.peek().kind === 'punct' && c.peek().value === '.') return null;
    c.expectEnd();
    return { kind: 'drop', what: what as 'node' | 'table' | 'cluster' | 'storagespace', name, ifExists };
  }
  if ((c.isKeyword('grant') || c.isKeyword('revoke')) && hasOnClause(c))
    return tablePrivileges(c, c.isKeyword('grant'));
  if (c.isKeyword('copy')) {
    c.next();
    if (c.peek().kind === 'punct' && c.peek().value === '(') return null; // COPY (query): refused by the router
    let table = c.name('a table name').value;
    if (c.acceptPunct('.')) table = c.name('a table name').value; // public.t
    if (c.peek().kind === 'punct' && c.peek().value === '(') {
      // column list: the data is opaque bytes, so it is accepted and ignored
      while (!(c.peek().kind === 'punct' && c.peek().value === ')') && c.peek().kind !== 'end') c.next();
      c.expectPunct(')');
    }
    let direction: 'in' | 'out';
    if (c.acceptKeyword('from')) {
      direction = 'in';
      if (!c.acceptKeyword('stdin')) throw c.unexpected('STDIN (the server reads no files: use psql \\copy)');
    } else if (c.acceptKeyword('to')) {
      direction = 'out';
      if (!c.acceptKeyword('stdout'))
        throw c.unexpected('STDOUT (the server writes no files: use psql \\copy)');
    } else throw c.unexpected('FROM STDIN or TO STDOUT');
    c.acceptKeyword('with');
    let binary = false;
    if (c.acceptPunct('(')) {
      do {
        const opt = c.name('a COPY option').value;
        if (opt === 'format') {
          const f = c.name('text, csv or binary').value;
          if (!['text', 'csv', 'binary'].includes(f))
            throw syntaxError(`COPY format "${f}" not recognized`, c.peek().at);
          binary = f === 'binary';
        } else {
          // other options (delimiter, header, ...) do not apply to opaque bytes; skip their value
          const t = c.peek();
          if (!(t.kind === 'punct' && (t.value === ',' || t.value === ')'))) c.next();
        }
      } while (c.acceptPunct(','));
      c.expectPunct(')');
    } else if (c.acceptKeyword('binary')) binary = true;
    else if (c.acceptKeyword('csv')) binary = false;
    c.expectEnd();
    return { kind: 'copy', table, direction, binary };
  }
  return null;
}
