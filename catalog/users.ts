// Users and roles. Only SCRAM verifiers and md5 hashes are stored, never passwords.

import { randomBytes } from 'node:crypto';
import { makeMd5Hash, makeScramVerifier, type StoredCredentials } from '../pg/auth';
import { SqlError } from '../pg/errors';
import { nowText } from './db';
import { DIALECTS, type Sql } from './sql';

export const SYSADMIN = 'sysadmin';
/** The first administrator, created when there are no users: PostgreSQL's bootstrap superuser (OID 10). */
export const FIRST_ADMIN = 'admin';

/** A role error (42710, 42704): a SqlError of its own so that callers can tell it from others. */
export class UserError extends SqlError {}

export class Users {
  constructor(private readonly catalog: { sql: Sql }) {}

  private get sql(): Sql {
    return this.catalog.sql;
  }

  async credentials(name: string): Promise<StoredCredentials | null> {
    const row = await this.sql.get<{ scram_verifier: string | null; md5_hash: string | null }>(
      'SELECT scram_verifier, md5_hash FROM users WHERE name = ?',
      [name],
    );
    return row ? { scramVerifier: row.scram_verifier, md5Hash: row.md5_hash } : null;
  }

  roles(name: string): Promise<string[]> {
    return this.sql.column<string>('SELECT role FROM user_roles WHERE user_name = ?', [name]);
  }

  async isSysadmin(name: string): Promise<boolean> {
    return (await this.roles(name)).includes(SYSADMIN);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.sql.get('SELECT 1 FROM users WHERE name = ?', [name])) !== undefined;
  }

  async create(name: string, password: string | null): Promise<void> {
    if (await this.exists(name)) throw new UserError('42710', `role "${name}" already exists`);
    await this.sql.run('INSERT INTO users (name, scram_verifier, md5_hash, created_at) VALUES (?, ?, ?, ?)', [
      name,
      password ? makeScramVerifier(password) : null,
      password ? makeMd5Hash(name, password) : null,
      nowText(),
    ]);
  }

  async setPassword(name: string, password: string | null): Promise<void> {
    const r = await this.sql.run('UPDATE users SET scram_verifier = ?, md5_hash = ? WHERE name = ?', [
      password ? makeScramVerifier(password) : null,
      password ? makeMd5Hash(name, password) : null,
      name,
    ]);
    if (r.changes === 0) throw new UserError('42704', `role "${name}" does not exist`);
  }

  async drop(name: string, ifExists: boolean): Promise<void> {
    const dependents = await this.dependentsOf(name);
    if (dependents.length)
      throw new UserError('2BP01', `role "${name}" cannot be dropped because some objects depend on it`, {
        detail: dependents.join('\n'),
      });
    const r = await this.sql.run('DELETE FROM users WHERE name = ?', [name]);
    if (r.changes === 0 && !ifExists) throw new UserError('42704', `role "${name}" does not exist`);
  }

  /**
   * What a role owns or was granted, in PostgreSQL's words for DROP ROLE's detail (checkSharedDependencies):
   * tables it owns, tables it holds privileges on, and the schedules that run as it.
   */
  private async dependentsOf(name: string): Promise<string[]> {
    const rows = await this.sql.all<{ d: string }>(
      `SELECT d FROM (
         SELECT 'owner of table ' || name AS d, name AS k FROM tables WHERE owner = ?
         UNION ALL
         SELECT DISTINCT 'privileges for table ' || t.name, t.name FROM table_privileges p
           JOIN tables t ON t.id = p.table_id WHERE p.grantee = ?
         UNION ALL
         SELECT 'owner of schedule ' || name, name FROM task_schedules WHERE created_by = ?) AS x
       ORDER BY k, d`,
      [name, name, name],
    );
    return rows.map((r) => r.d);
  }

  async grant(role: string, user: string): Promise<void> {
    if (role !== SYSADMIN) throw new UserError('42704', `role "${role}" does not exist`);
    if (!(await this.exists(user))) throw new UserError('42704', `role "${user}" does not exist`);
    const { verb, tail } = DIALECTS[this.sql.dialect].insertIgnore;
    await this.sql.run(`${verb} INTO user_roles (user_name, role) VALUES (?, ?)${tail}`, [user, role]);
  }

  async revoke(role: string, user: string): Promise<void> {
    if (role !== SYSADMIN) throw new UserError('42704', `role "${role}" does not exist`);
    if (!(await this.exists(user))) throw new UserError('42704', `role "${user}" does not exist`);
    await this.sql.run('DELETE FROM user_roles WHERE user_name = ? AND role = ?', [user, role]);
  }

  /**
   * Creates the first administrator when there are no users yet. Returns the generated password when one
   * was generated (to be printed once), or null.
   */
  async bootstrapAdmin(
    password: string | undefined,
  ): Promise<{ created: boolean; generated: string | null }> {
    const generated = password ? null : randomBytes(12).toString('base64url');
    const created = await this.sql.transaction(async (tx) => {
      // Coordinators starting together on one PostgreSQL catalog: only the first creates the admin.
      if (tx.dialect === 'postgres') await tx.run('LOCK TABLE users IN EXCLUSIVE MODE');
      if (Number(await tx.value('SELECT count(*) FROM users')) > 0) return false;
      const u = new Users({ sql: tx });
      await u.create(FIRST_ADMIN, password ?? generated);
      await u.grant(SYSADMIN, FIRST_ADMIN);
      return true;
    });
    return created ? { created, generated } : { created, generated: null };
  }
}
