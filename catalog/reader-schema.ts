// What user queries may read in a PostgreSQL catalog (coordinator mode): schema sys, one view per sys
// relation, and the role segtasks_reader that reads them. The user's SQL runs in PostgreSQL as that role
// (catalog/readers/postgres-readers.ts), which has SELECT on these views and nothing else: the internal tables
// (users with its password hashes, task_leases, ...) stay out of reach, whatever the query.
//
// The views' columns are exactly those the SQLite catalog's emulation declares for sys.<name> (names, order,
// types: buildEmulation's sysRelationColumns over a scratch SQLite catalog made by the same migrations), so a
// client sees one sys schema whichever catalog the server runs on.
import { createHmac } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import knexFactory from 'knex';
import type pg from 'pg';
import { makeScramVerifier } from '../pg/auth';
import { SYS_DESCRIPTIONS } from './descriptions';
import { sysRelationColumns } from './pg-catalog';
import type { ColumnDef } from './relations';
import { migrationSource, sysRelations, sysSources } from './schema';

export const READER_ROLE = 'segtasks_reader';

/**
 * The reader role's password, derived from the cluster secret every coordinator shares, so that none stores
 * it: hex HMAC-SHA256(secret, 'segtasks_reader').
 */
export const readerPassword = (secret: Buffer): string =>
  createHmac('sha256', secret).update(READER_ROLE).digest('hex');

/**
 * The catalog URL with the reader role's credentials: same host, port, database and connection parameters
 * (sslmode, ...), but not the catalog session's `options`: the readers' sessions set their own, which a URL's
 * would replace.
 */
export function readerUrl(catalogUrl: string, secret: Buffer): string {
  const u = new URL(catalogUrl);
  u.username = READER_ROLE;
  u.password = readerPassword(secret);
  u.searchParams.delete('options');
  return u.toString();
}

export interface SysRelationColumns {
  name: (typeof sysRelations)[number];
  columns: ColumnDef[];
}

let sysColumns: Promise<SysRelationColumns[]> | null = null;

/** The columns of every sys relation as a SQLite catalog has them (one scratch catalog, in memory, once). */
export function sqliteSysColumns(): Promise<SysRelationColumns[]> {
  sysColumns ??= (async () => {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: ':memory:' },
      useNullAsDefault: true,
      pool: { min: 1, max: 1 },
    });
    try {
      await knex.migrate.latest({ migrationSource });
      const db = (await knex.client.acquireConnection()) as BetterSqlite3.Database;
      try {
        return sysRelations.map((name) => ({ name, columns: sysRelationColumns(db, name) }));
      } finally {
        await knex.client.releaseConnection(db);
      }
    } finally {
      await knex.destroy();
    }
  })();
  sysColumns.catch(() => {
    sysColumns = null;
  });
  return sysColumns;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** A canonical type name (canonicalType's output) as it is written in a cast. */
function castType(type: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(type)) throw new Error(`sys column type ${type} is not a plain type name`);
  return type;
}

/** Key of the transaction-level advisory lock under which coordinators set the reader schema up. */
const SCHEMA_LOCK = 0x5e67_0001;

/**
 * Creates (or brings up to date) schema sys, its views and the reader role, and gives the role what it may
 * use. Idempotent, and safe when several coordinators start against the database at once (they take turns
 * under an advisory lock). The catalog's PostgreSQL user must be able to create roles (CREATEROLE) and
 * schemas in the database.
 */
export async function ensureReaderSchema(pool: pg.Pool, secret: Buffer): Promise<void> {
  const relations = await sqliteSysColumns();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const { rows } = await client.query<{ schema: string; db: string }>(
      'SELECT current_schema() AS schema, current_database() AS db',
    );
    const { schema, db } = rows[0];
    await client.query('CREATE SCHEMA IF NOT EXISTS sys');
    for (const rel of relations) {
      const select = rel.columns
        .map((c) => `${ident(c.name)}::${castType(c.type)} AS ${ident(c.name)}`)
        .join(', ');
      const view = `VIEW sys.${ident(rel.name)} AS SELECT ${select} FROM ${ident(schema)}.${ident(sysSources[rel.name] ?? rel.name)}`;
      // A view whose columns changed (a migration altered its table) cannot be replaced: it is made again.
      await client.query('SAVEPOINT view');
      try {
        await client.query(`CREATE OR REPLACE ${view}`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42P16') throw err;
        await client.query('ROLLBACK TO view');
        await client.query(`DROP VIEW sys.${ident(rel.name)}`);
        await client.query(`CREATE ${view}`);
      }
      await client.query('RELEASE view');
      // The same comments as the SQLite mode shows (psql's \d+, obj_description, col_description).
      const about = SYS_DESCRIPTIONS[rel.name];
      await client.query(
        `COMMENT ON VIEW sys.${ident(rel.name)} IS ${about ? literal(about.table) : 'NULL'}`,
      );
      for (const c of rel.columns) {
        const text = about?.columns?.[c.name];
        await client.query(
          `COMMENT ON COLUMN sys.${ident(rel.name)}.${ident(c.name)} IS ${text ? literal(text) : 'NULL'}`,
        );
      }
    }
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [READER_ROLE]);
    // The password goes as a SCRAM verifier, never as text a statement log would keep.
    const password = literal(makeScramVerifier(readerPassword(secret)));
    if (!exists.rowCount) {
      // Roles are shared by the databases of a PostgreSQL server: another catalog's coordinator may create it
      // at the same moment.
      await client.query('SAVEPOINT role');
      try {
        await client.query(`CREATE ROLE ${READER_ROLE} LOGIN NOINHERIT PASSWORD ${password}`);
      } catch (err) {
        if ((err as { code?: string }).code !== '42710') throw err;
        await client.query('ROLLBACK TO role');
      }
      await client.query('RELEASE role');
    }
    await client.query(`ALTER ROLE ${READER_ROLE} LOGIN PASSWORD ${password}`);
    // Even a reader connection made without the session options reads only.
    await client.query(`ALTER ROLE ${READER_ROLE} SET default_transaction_read_only = on`);
    await client.query(`GRANT CONNECT ON DATABASE ${ident(db)} TO ${READER_ROLE}`);
    await client.query('REVOKE ALL ON SCHEMA sys FROM PUBLIC');
    await client.query(`GRANT USAGE ON SCHEMA sys TO ${READER_ROLE}`);
    await client.query(
      `GRANT SELECT ON ${relations.map((r) => `sys.${ident(r.name)}`).join(', ')} TO ${READER_ROLE}`,
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
