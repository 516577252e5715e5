// The catalog in PostgreSQL (segtasks serve --catalog postgres://...): the same knex migrations and the same
// statements as on SQLite (catalog/sql.ts), through node-postgres. Values come back as the SQLite catalog
// gives them, so that no caller tells the two apart: int8 and numeric as numbers (the catalog's counts and
// byte totals stay far below 2^53), timestamptz, interval and json as PostgreSQL's text (the session runs in
// UTC with ISO dates, so a timestamp reads '2026-11-27 20:16:28.5+00', the form nowText writes).
import knexFactory from 'knex';
import pg from 'pg';
import type { Catalog } from './db';
import { ensureReaderSchema } from './reader-schema';
import { migrationSource } from './schema';
import type { RunResult, Sql } from './sql';

const TEXT_TYPES = new Set([1184, 1114, 1082, 1083, 1186, 114, 3802]);
const NUMBER_TYPES = new Set([20, 1700]);

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (TEXT_TYPES.has(oid)) return (v: string) => v;
    if (NUMBER_TYPES.has(oid)) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

/** `?` placeholders as PostgreSQL's `$n` (outside quoted strings and identifiers). */
export function numberedPlaceholders(text: string): string {
  let n = 0;
  let out = '';
  let quote: string | null = null;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '?') {
      out += `$${++n}`;
      continue;
    }
    out += c;
  }
  return out;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

const converted = new Map<string, string>();
function pgText(text: string): string {
  let t = converted.get(text);
  if (t === undefined) {
    t = numberedPlaceholders(text);
    converted.set(text, t);
  }
  return t;
}

/** Statements on one connection or on the pool; `depth` > 0 inside a transaction (savepoints beyond). */
class PostgresStatements implements Sql {
  readonly dialect = 'postgres';
  constructor(
    private readonly on: Queryable,
    private readonly begin: <T>(fn: (tx: Sql) => Promise<T>) => Promise<T>,
  ) {}

  /** PostgreSQL's commits are durable when they return (synchronous_commit, which the catalog leaves on). */
  async durable(): Promise<void> {}

  private async rows<T>(text: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    return this.on.query<T & pg.QueryResultRow>(pgText(text), params as unknown[]);
  }

  async all<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.rows<T>(text, params)).rows as T[];
  }
  async get<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(text, params)).rows[0] as T | undefined;
  }
  async column<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const r = await this.on.query({ text: pgText(text), values: params as unknown[], rowMode: 'array' });
    return r.rows.map((row: unknown[]) => row[0] as T);
  }
  async value<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.column<T>(text, params))[0];
  }
  async arrays<T extends readonly unknown[]>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const r = await this.on.query({ text: pgText(text), values: params as unknown[], rowMode: 'array' });
    return r.rows as unknown[] as T[];
  }
  async run(text: string, params: readonly unknown[] = []): Promise<RunResult> {
    return { changes: (await this.rows(text, params)).rowCount ?? 0 };
  }
  async runEach(text: string, rows: readonly (readonly unknown[])[]): Promise<RunResult> {
    let changes = 0;
    for (const r of rows) changes += (await this.run(text, r)).changes;
    return { changes };
  }
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.begin(fn);
  }
}

/** The pool's Sql: each statement on any connection, each transaction on one of its own. */
function poolSql(pool: pg.Pool): Sql {
  return new PostgresStatements(pool, async (fn) => {
    const client = await pool.connect();
    let depth = 0;
    const nested = async <T>(inner: (tx: Sql) => Promise<T>): Promise<T> => {
      const sp = `sp${++depth}`;
      await client.query(`SAVEPOINT ${sp}`);
      try {
        const v = await inner(tx);
        await client.query(`RELEASE ${sp}`);
        return v;
      } catch (err) {
        await client.query(`ROLLBACK TO ${sp}`);
        throw err;
      } finally {
        depth--;
      }
    };
    const tx: Sql = new PostgresStatements(client, nested);
    try {
      await client.query('BEGIN');
      const v = await fn(tx);
      await client.query('COMMIT');
      return v;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  });
}

/** The URL without its password, for messages and the log. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export interface PostgresCatalog extends Catalog {
  pool: pg.Pool;
}

export interface PostgresCatalogOptions {
  /**
   * The cluster secret: when given, the catalog also gets what user queries read through PostgresReaders
   * (schema sys, its views and the reader role whose password derives from it; see reader-schema.ts).
   */
  readerSecret?: Buffer;
}

/** The advisory lock key that orders the migrations of coordinators starting together ('segt' in ASCII). */
const MIGRATION_LOCK = 0x73656774;

/** Opens (and migrates) the catalog in the PostgreSQL database at `url`. */
export async function openPostgresCatalog(
  url: string,
  opts: PostgresCatalogOptions = {},
): Promise<PostgresCatalog> {
  const session = { options: '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres' };
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: url, ...session },
    pool: { min: 0, max: 2 },
  });
  // Coordinators that start together must not migrate at once: knex's own migration lock is a table that the
  // first migration creates, so two first starts race to create it. A session advisory lock, held on a
  // connection of its own while knex migrates on others, orders them; the later one finds nothing to do.
  const lock = new pg.Client({ connectionString: url, ...session });
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await knex.migrate.latest({ migrationSource });
  } catch (err) {
    await knex.destroy();
    throw err;
  } finally {
    // Ending the session releases the lock.
    await lock.end().catch(() => {});
  }
  const pool = new pg.Pool({ connectionString: url, ...session, types, max: 10 });
  // An idle connection that breaks (PostgreSQL restarted) is dropped by the pool; it must not crash us.
  pool.on('error', () => {});
  if (opts.readerSecret) {
    try {
      await ensureReaderSchema(pool, opts.readerSecret);
    } catch (err) {
      await pool.end();
      await knex.destroy();
      throw err;
    }
  }
  return {
    knex,
    pool,
    sql: poolSql(pool),
    path: redactedUrl(url),
    close: async () => {
      await pool.end();
      await knex.destroy();
    },
  };
}
