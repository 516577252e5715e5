// Users and roles. Only SCRAM verifiers and md5 hashes are stored, never passwords.

import { randomBytes } from 'node:crypto';
import { makeMd5Hash, makeScramVerifier, type StoredCredentials } from '../pg/auth';
import { SqlError } from '../pg/errors';
import { type Catalog, nowText } from './db';

export const SYSADMIN = 'sysadmin';
/** The first administrator, created when there are no users: PostgreSQL's bootstrap superuser (OID 10). */
export const FIRST_ADMIN = 'admin';

/** A role error (42710, 42704): a SqlError of its own so that callers can tell it from others. */
export class UserError extends SqlError {}

export class Users {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  credentials(name: string): StoredCredentials | null {
    const row = this.db.prepare('SELECT scram_verifier, md5_hash FROM users WHERE name = ?').get(name) as
      | { scram_verifier: string | null; md5_hash: string | null }
      | undefined;
    return row ? { scramVerifier: row.scram_verifier, md5Hash: row.md5_hash } : null;
  }

  roles(name: string): string[] {
    return (
      this.db.prepare('SELECT role FROM user_roles WHERE user_name = ?').all(name) as { role: string }[]
    ).map((r) => r.role);
  }

  isSysadmin(name: string): boolean {
    return this.roles(name).includes(SYSADMIN);
  }

  exists(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM users WHERE name = ?').get(name) !== undefined;
  }

  create(name: string, password: string | null): void {
    if (this.exists(name)) throw new UserError('42710', `role "${name}" already exists`);
    this.db
      .prepare('INSERT INTO users (name, scram_verifier, md5_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(
        name,
        password ? makeScramVerifier(password) : null,
        password ? makeMd5Hash(name, password) : null,
        nowText(),
      );
  }

  setPassword(name: string, password: string | null): void {
    const r = this.db
      .prepare('UPDATE users SET scram_verifier = ?, md5_hash = ? WHERE name = ?')
      .run(
        password ? makeScramVerifier(password) : null,
        password ? makeMd5Hash(name, password) : null,
        name,
      );
    if (r.changes === 0) throw new UserError('42704', `role "${name}" does not exist`);
  }

  drop(name: string, ifExists: boolean): void {
    const dependents = this.dependentsOf(name);
    if (dependents.length)
      throw new UserError('2BP01', `role "${name}" cannot be dropped because some objects depend on it`, {
        detail: dependents.join('\n'),
      });
    const r = this.db.prepare('DELETE FROM users WHERE name = ?').run(name);
    if (r.changes === 0 && !ifExists) throw new UserError('42704', `role "${name}" does not exist`);
  }

  /**
   * What a role owns or was granted, in PostgreSQL's words for DROP ROLE's detail (checkSharedDependencies):
   * tables it owns, tables it holds privileges on, and the schedules that run as it.
   */
  private dependentsOf(name: string): string[] {
    const rows = this.db
      .prepare(
        `SELECT 'owner of table ' || name AS d, name AS k FROM tables WHERE owner = @name
         UNION ALL
         SELECT DISTINCT 'privileges for table ' || t.name, t.name FROM table_privileges p
           JOIN tables t ON t.id = p.table_id WHERE p.grantee = @name
         UNION ALL
         SELECT 'owner of schedule ' || name, name FROM task_schedules WHERE created_by = @name
         ORDER BY 2, 1`,
      )
      .all({ name }) as { d: string }[];
    return rows.map((r) => r.d);
  }

  grant(role: string, user: string): void {
    if (role !== SYSADMIN) throw new UserError('42704', `role "${role}" does not exist`);
    if (!this.exists(user)) throw new UserError('42704', `role "${user}" does not exist`);
    this.db.prepare('INSERT OR IGNORE INTO user_roles (user_name, role) VALUES (?, ?)').run(user, role);
  }

  revoke(role: string, user: string): void {
    if (role !== SYSADMIN) throw new UserError('42704', `role "${role}" does not exist`);
    if (!this.exists(user)) throw new UserError('42704', `role "${user}" does not exist`);
    this.db.prepare('DELETE FROM user_roles WHERE user_name = ? AND role = ?').run(user, role);
  }

  /**
   * Creates the first administrator when there are no users yet. Returns the generated password when one
   * was generated (to be printed once), or null.
   */
  bootstrapAdmin(password: string | undefined): { created: boolean; generated: string | null } {
    const count = (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
    if (count > 0) return { created: false, generated: null };
    const generated = password ? null : randomBytes(12).toString('base64url');
    this.db.transaction(() => {
      this.create(FIRST_ADMIN, password ?? generated);
      this.grant(SYSADMIN, FIRST_ADMIN);
    })();
    return { created: true, generated };
  }
}
