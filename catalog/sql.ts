// The catalog's data access: every statement of the catalog modules runs through this one small interface,
// so that the same code runs on SQLite (the embedded default, one process) and on PostgreSQL (several
// coordinators on one catalog, docs/cluster.md). Statements are written with `?` placeholders; a
// transaction is a callback that gets an Sql of its own, and everything done through that one is committed
// together (a nested transaction is a savepoint).
import { open } from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';

export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface Sql {
  readonly dialect: Dialect;
  all<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** The first column of every row. */
  column<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** The first column of the first row. */
  value<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /**
   * Every row as an array of its columns, in the order of the select list: for pages of thousands of rows
   * (check_disk's segments), which the drivers build about twice as fast as objects with named fields.
   */
  arrays<T extends readonly unknown[]>(text: string, params?: readonly unknown[]): Promise<T[]>;
  run(text: string, params?: readonly unknown[]): Promise<RunResult>;
  /** Runs one statement once for each list of parameters, in order (the rows of a load, a batch of checks). */
  runEach(text: string, rows: readonly (readonly unknown[])[]): Promise<RunResult>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * Resolves once every transaction committed so far survives a power loss: what must hold before something
   * that cannot be undone follows a commit (the replaced files of a switch removed) or a client is told its
   * statement committed (COPY). Outside a transaction only.
   */
  durable(): Promise<void>;
}

/** SQL that differs between the two dialects, named by what it means. */
export interface DialectSql {
  /** `expr IN (the values of a JSON array passed as the next parameter)`, the values of PostgreSQL type pgType. */
  inJsonArray(expr: string, pgType?: 'text' | 'uuid' | 'int8'): string;
  /** The larger of two numbers (SQLite's two-argument max, PostgreSQL's greatest). */
  greatest(a: string, b: string): string;
  least(a: string, b: string): string;
  /** `a IS b`: equal, NULLs equal. */
  isNotDistinct(a: string, b: string): string;
  /** Now, by the catalog's clock (one clock for every coordinator), in the catalog's timestamptz form. */
  now: string;
  /** Now plus a number of seconds, in the catalog's timestamptz text form. */
  nowPlusSeconds(seconds: string): string;
  /** A timestamptz parameter where PostgreSQL cannot infer its type (CASE, coalesce): `CAST(? AS timestamptz)`. */
  timestamp: string;
  /** INSERT that skips rows whose key exists: the words before `INTO`, and what follows the VALUES. */
  insertIgnore: { verb: string; tail: string };
}

export const DIALECTS: Record<Dialect, DialectSql> = {
  sqlite: {
    inJsonArray: (e) => `${e} IN (SELECT value FROM json_each(?))`,
    greatest: (a, b) => `max(${a}, ${b})`,
    least: (a, b) => `min(${a}, ${b})`,
    isNotDistinct: (a, b) => `${a} IS ${b}`,
    now: "strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00'",
    nowPlusSeconds: (s) => `strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || (${s}) || ' seconds') || '+00'`,
    timestamp: '?',
    insertIgnore: { verb: 'INSERT OR IGNORE', tail: '' },
  },
  postgres: {
    inJsonArray: (e, t = 'text') =>
      `${e} IN (SELECT CAST(json_array_elements_text(CAST(? AS json)) AS ${t}))`,
    greatest: (a, b) => `greatest(${a}, ${b})`,
    least: (a, b) => `least(${a}, ${b})`,
    isNotDistinct: (a, b) => `${a} IS NOT DISTINCT FROM ${b}`,
    now: 'now()',
    nowPlusSeconds: (s) => `now() + (${s}) * interval '1 second'`,
    timestamp: 'CAST(? AS timestamptz)',
    insertIgnore: { verb: 'INSERT', tail: ' ON CONFLICT DO NOTHING' },
  },
};

/** Prepared statements kept per connection, the least recently used dropped beyond this many. */
export const STATEMENT_CACHE_SIZE = 512;

/**
 * SQLite through better-sqlite3. Statements run synchronously under the promises (prepared once and kept, up
 * to STATEMENT_CACHE_SIZE texts), so a transaction's statements cost what they cost before; a transaction
 * holds the one connection until its callback settles, and statements from outside it wait for it to end
 * (they would otherwise land inside it). A kept statement survives schema changes (migrations): SQLite
 * prepares it again by itself when the schema it was compiled against has changed (sqlite3_prepare_v2).
 */
export class SqliteSql implements Sql {
  readonly dialect = 'sqlite';
  /** By text; a Map iterates in insertion order, and a statement used is moved to the end (least recent first). */
  private readonly statements = new Map<string, Kept>();
  /** Settles when the transaction in progress ends; null when none is. */
  private busy: Promise<void> | null = null;

  constructor(private readonly db: BetterSqlite3.Database) {}

  /** False once SQLite has ended a transaction by itself (it rolls back on some errors, SQLITE_FULL ...). */
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  /** The kept statement for `text`, its rows given as they were last (for statements whose rows are not read). */
  prepare(text: string): BetterSqlite3.Statement {
    return this.kept(text).statement;
  }

  /** The kept statement for `text`, giving its rows as `rows` says. */
  prepareFor(text: string, rows: RowForm): BetterSqlite3.Statement {
    const kept = this.kept(text);
    if (kept.rows !== rows) {
      // better-sqlite3 keeps one form per statement: pluck(true) and raw(true) set theirs from any other,
      // pluck(false) and raw(false) go back to objects from their own.
      const s = kept.statement;
      if (rows === 'first') s.pluck(true);
      else if (rows === 'array') s.raw(true);
      else if (kept.rows === 'first') s.pluck(false);
      else s.raw(false);
      kept.rows = rows;
    }
    return kept.statement;
  }

  private kept(text: string): Kept {
    return cached(this.statements, text, () => ({ statement: this.db.prepare(text), rows: 'object' }));
  }

  /** How many statements are kept (for the tests of the bound). */
  get cachedStatements(): number {
    return this.statements.size;
  }

  private async idle(): Promise<void> {
    while (this.busy) await this.busy;
  }

  async all<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.busy) await this.idle();
    return this.prepareFor(text, 'object').all(...params) as T[];
  }

  async get<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    if (this.busy) await this.idle();
    return this.prepareFor(text, 'object').get(...params) as T | undefined;
  }

  async column<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.busy) await this.idle();
    return this.prepareFor(text, 'first').all(...params) as T[];
  }

  async value<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    if (this.busy) await this.idle();
    return this.prepareFor(text, 'first').get(...params) as T | undefined;
  }

  async arrays<T extends readonly unknown[]>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.busy) await this.idle();
    return this.prepareFor(text, 'array').all(...params) as T[];
  }

  async run(text: string, params: readonly unknown[] = []): Promise<RunResult> {
    if (this.busy) await this.idle();
    return { changes: this.prepare(text).run(...params).changes };
  }

  async runEach(text: string, rows: readonly (readonly unknown[])[]): Promise<RunResult> {
    if (this.busy) await this.idle();
    return runRows(this.prepare(text), rows);
  }

  /**
   * The catalog runs in WAL mode with synchronous = NORMAL: a commit writes its frames to the WAL file but
   * syncs the WAL only at checkpoints, so the last commits can be lost with the power (never torn). One
   * fdatasync of the WAL file, off the event loop, makes every frame written so far durable; frames already
   * checkpointed are in the database file, which SQLite syncs after each checkpoint. (The writer connection
   * stays open for the server's life, so the WAL file is never deleted under the handle.)
   */
  async durable(): Promise<void> {
    // A failed open is not kept: the next call tries again.
    this.wal ??= open(`${this.db.name}-wal`, 'r').catch((err) => {
      this.wal = null;
      throw err;
    });
    await (await this.wal).datasync();
  }
  private wal: ReturnType<typeof open> | null = null;

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.busy) await this.idle();
    let end!: () => void;
    this.busy = new Promise((resolve) => (end = resolve));
    try {
      return await new SqliteTransaction(this, 0).within(fn);
    } finally {
      this.busy = null;
      end();
    }
  }
}

/** The statements of one SQLite transaction (depth 0) or savepoint (depth > 0). */
class SqliteTransaction implements Sql {
  readonly dialect = 'sqlite';
  constructor(
    private readonly root: SqliteSql,
    private readonly depth: number,
  ) {}

  durable(): Promise<void> {
    return Promise.reject(new Error('durable() inside a transaction: it would not cover this one'));
  }

  async within<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const sp = `sp${this.depth}`;
    this.root.prepare(this.depth ? `SAVEPOINT ${sp}` : 'BEGIN').run();
    try {
      const v = await fn(this);
      this.root.prepare(this.depth ? `RELEASE ${sp}` : 'COMMIT').run();
      return v;
    } catch (err) {
      if (this.root.inTransaction) {
        if (this.depth) {
          this.root.prepare(`ROLLBACK TO ${sp}`).run();
          this.root.prepare(`RELEASE ${sp}`).run();
        } else this.root.prepare('ROLLBACK').run();
      }
      throw err;
    }
  }

  async all<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.root.prepareFor(text, 'object').all(...params) as T[];
  }
  async get<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return this.root.prepareFor(text, 'object').get(...params) as T | undefined;
  }
  async column<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.root.prepareFor(text, 'first').all(...params) as T[];
  }
  async value<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return this.root.prepareFor(text, 'first').get(...params) as T | undefined;
  }
  async arrays<T extends readonly unknown[]>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.root.prepareFor(text, 'array').all(...params) as T[];
  }
  async run(text: string, params: readonly unknown[] = []): Promise<RunResult> {
    return { changes: this.root.prepare(text).run(...params).changes };
  }
  async runEach(text: string, rows: readonly (readonly unknown[])[]): Promise<RunResult> {
    return runRows(this.root.prepare(text), rows);
  }
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return new SqliteTransaction(this.root, this.depth + 1).within(fn);
  }
}

/** How a statement gives its rows: objects by column name, the first column alone, or arrays of the columns. */
type RowForm = 'object' | 'first' | 'array';

/** A kept statement and the form of rows it is set to give. */
interface Kept {
  readonly statement: BetterSqlite3.Statement;
  rows: RowForm;
}

/** The kept statement for `text`, prepared by `make` when there is none; the least recently used go first. */
function cached(kept: Map<string, Kept>, text: string, make: () => Kept): Kept {
  let s = kept.get(text);
  if (s) {
    kept.delete(text);
  } else {
    s = make();
    if (kept.size >= STATEMENT_CACHE_SIZE) kept.delete(kept.keys().next().value!);
  }
  kept.set(text, s);
  return s;
}

/** One prepared statement run for every row, synchronously: a load's thousands of rows cost no awaits. */
function runRows(stmt: BetterSqlite3.Statement, rows: readonly (readonly unknown[])[]): RunResult {
  let changes = 0;
  for (const r of rows) changes += stmt.run(...r).changes;
  return { changes };
}
