// Opens the catalog: one SQLite file in the data directory, WAL mode, foreign keys on, migrated with knex.
// The server process holds the only writing connection; queries from users run on read-only connections
// in worker threads (see readers/).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './schema';
import { type Sql, SqliteSql } from './sql';

export interface Catalog {
  knex: Knex;
  /** The catalog's statements (catalog/sql.ts): the data-access modules run everything through it. */
  sql: Sql;
  /** Where the catalog is, for the log and the readers: a file path, or a PostgreSQL URL without password. */
  path: string;
  close(): Promise<void>;
}

/** The embedded catalog: one SQLite file in the data directory. */
export interface SqliteCatalog extends Catalog {
  /** The writer connection itself (tests read it directly). */
  db: BetterSqlite3.Database;
}

export function catalogPath(dataDir: string): string {
  return join(dataDir, 'catalog.sqlite');
}

export async function openCatalog(dataDir: string): Promise<SqliteCatalog> {
  mkdirSync(dataDir, { recursive: true });
  const path = catalogPath(dataDir);
  const knex = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: BetterSqlite3.Database, done: (err: Error | null, conn: unknown) => void) => {
        conn.pragma('journal_mode = WAL');
        conn.pragma('foreign_keys = ON');
        conn.pragma('synchronous = NORMAL');
        conn.pragma('busy_timeout = 5000');
        done(null, conn);
      },
    },
  });
  await knex.migrate.latest({ migrationSource });
  const db = (await knex.client.acquireConnection()) as BetterSqlite3.Database;
  // The connection stays with us for the server's lifetime; knex's pool has exactly this one.
  await knex.client.releaseConnection(db);
  return {
    knex,
    db,
    sql: new SqliteSql(db),
    path,
    close: async () => {
      await knex.destroy();
    },
  };
}

/** Current time in the catalog's timestamptz text form. */
export function nowText(): string {
  const d = new Date();
  return d.toISOString().replace('T', ' ').replace('Z', '+00');
}
