// The reader engine of a catalog in PostgreSQL (coordinator mode): user queries run in PostgreSQL itself, on
// connections of their own that log in as the reader role (catalog/reader-schema.ts), which may read the sys
// views and nothing else; never through the catalog's own connections, never by SET ROLE (a query could
// set_config its way back). Each statement runs in a read-only transaction with the client session's output
// settings (SET LOCAL), its rows come a batch at a time from a live portal (Execute with a row count, see
// pg-step.ts), and its connection is cleaned (DISCARD ALL) before another user's statement gets it.
// Values reach the wire as PostgreSQL printed them (pg-rows.ts).

import pg from 'pg';
import { type Cancellation, signalOf } from '../../pg/cancel';
import { encodeText } from '../../pg/codecs';
import { SqlError } from '../../pg/errors';
import { READER_ROLE, readerUrl } from '../reader-schema';
import { encodePgRows, type OutputStyle, pgValues } from './pg-rows';
import { cancelBackend, type PgField, type StepResult, sqlErrorOf, step } from './pg-step';
import type {
  Described,
  Field,
  RunResult,
  SessionSnapshot,
  StatementEffects,
  StreamedBatch,
} from './reader-engine';
import {
  cursorGone,
  materialized,
  type OpenedRun,
  type ReaderCursor,
  type ReaderStats,
  type Readers,
} from './readers';
import { rowBytes } from './result-budget';

export interface PostgresReadersOptions {
  /** The catalog's URL (postgres://...): readers connect to its host, port, database and options. */
  url: string;
  /** The cluster secret: the reader role's password derives from it (readerPassword). */
  secret: Buffer;
  /** Reader connections at most (default 10). */
  maxConnections?: number;
  /**
   * Connections that open cursors (streamed results) may hold at once (default maxConnections - 2): past it
   * a streamed query is read whole, within resultMemoryLimitBytes, and its connection freed at once.
   */
  maxCursors?: number;
  /** segtasks.result_memory_limit in bytes, for results taken whole (absent: unbounded). */
  resultMemoryLimitBytes?: number;
}

/** Rows of a batch, and of the first batch (as the SQLite readers: the first rows go out sooner). */
const BATCH_ROWS = 2000;
const FIRST_BATCH_ROWS = 250;

/**
 * The session settings that change what PostgreSQL prints or how long it may run, applied to each statement
 * (lower-case names, as the wire keeps them). Everything else of the session means nothing to PostgreSQL.
 */
const APPLIED_SETTINGS = [
  'timezone',
  'datestyle',
  'intervalstyle',
  'extra_float_digits',
  'bytea_output',
  'statement_timeout',
] as const;

/** The reader sessions' output settings before a statement sets the client's: those of a wire session. */
const SESSION_DEFAULTS: Record<string, string> = {
  timezone: 'UTC',
  datestyle: 'ISO,MDY',
  intervalstyle: 'postgres',
  extra_float_digits: '1',
  bytea_output: 'hex',
};

/**
 * Startup options of a reader connection. search_path: on SQLite an unqualified name finds pg_catalog's
 * relations and never sys's (SELECT * FROM tasks is 42P01 there): the same here, where the catalog's own
 * tables are in public.
 */
const STARTUP_OPTIONS = [
  '-c default_transaction_read_only=on',
  '-c search_path=pg_catalog',
  ...Object.entries(SESSION_DEFAULTS).map(([k, v]) => `-c ${k}=${v}`),
].join(' ');

const NO_EFFECTS = (): StatementEffects => ({
  changedSettings: [],
  notifications: [],
  signals: [],
  warnings: [],
});

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new SqlError('57014', 'canceling statement due to user request');
}

const fieldsOf = (fields: PgField[] | null): Field[] =>
  (fields ?? []).map((f) => ({ name: f.name, typeOid: f.dataTypeID }));

/**
 * A parameter as text for Bind: the wire has decoded it into a value of its type, whose text PostgreSQL's
 * input function reads (a string as the client sent it, bytea as hex, a boolean as t/f, an array literal).
 */
function paramText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return encodeText(v, 0);
}

/** The session's values of the applied settings (lower-case names). */
function appliedSettings(session: SessionSnapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of session.settings ?? []) {
    const key = k.toLowerCase();
    if ((APPLIED_SETTINGS as readonly string[]).includes(key)) out.set(key, v);
  }
  return out;
}

function outputStyle(applied: Map<string, string>): OutputStyle {
  const get = (k: string) => applied.get(k) ?? SESSION_DEFAULTS[k];
  return {
    datestyle: get('datestyle'),
    intervalstyle: get('intervalstyle'),
    extra_float_digits: get('extra_float_digits'),
    bytea_output: get('bytea_output'),
  };
}

/** How long a cancelled statement may take to end before its connection is closed under it. */
const CANCEL_GRACE_MS = 5000;

/** One statement's connection, from BEGIN to the clean-up that gives it back to the pool. */
class Statement {
  private busy: Promise<unknown> = Promise.resolve();
  private released = false;
  /** WARNINGs PostgreSQL raised since the last batch (pg_cancel_backend of a pid that is no backend). */
  private warnings: string[] = [];
  private readonly onNotice = (n: { severity?: string; message?: string }) => {
    if (n.severity === 'WARNING' && n.message) this.warnings.push(n.message);
  };

  constructor(
    private readonly readers: PostgresReaders,
    readonly client: pg.PoolClient,
    /** The statements whose connections are out of the pool (the engine's close ends them). */
    private readonly live: Set<Statement>,
  ) {
    client.on('notice', this.onNotice);
    live.add(this);
  }

  /** What the statement asks of the client's session since the last batch: its warnings, as notices. */
  takeEffects(): StatementEffects {
    const warnings = this.warnings;
    this.warnings = [];
    return { ...NO_EFFECTS(), warnings };
  }

  /** Runs a step after the previous one, cancelling it in PostgreSQL when the signal aborts. */
  run(messages: Parameters<typeof step>[1], signal?: AbortSignal): Promise<StepResult> {
    const p = this.busy.then(() => {
      if (this.released) throw cursorGone();
      return this.readers.counted(step(this.client, messages));
    });
    this.busy = p.catch(() => {});
    if (!signal) return p;
    if (signal.aborted) {
      this.cancel();
      return Promise.reject(abortError(signal));
    }
    return new Promise<StepResult>((resolve, reject) => {
      const onAbort = () => {
        reject(abortError(signal));
        this.cancel();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * Ends the transaction and cleans the session (settings a query changed with set_config, advisory locks
   * it took, ...) once the running step is over, then gives the connection back; one that fails is dropped.
   */
  end(): void {
    if (this.released) return;
    this.released = true;
    const client = this.client;
    client.off('notice', this.onNotice);
    void this.busy
      .then(() => client.query('ROLLBACK'))
      .then(() => client.query('DISCARD ALL'))
      .then(
        () => this.giveBack(),
        (err: Error) => this.giveBack(err),
      );
  }

  /** Back to the pool, or (with a reason) closed. */
  private giveBack(reason?: Error): void {
    if (!this.live.delete(this)) return;
    this.client.release(reason);
  }

  /**
   * The engine is closing: what runs on the connection is cancelled in PostgreSQL (which would otherwise run
   * it to its end, not noticing the closed socket), and the connection closed.
   */
  destroy(): void {
    this.released = true;
    this.client.off('notice', this.onNotice);
    cancelBackend(this.client);
    this.giveBack(new Error('catalog readers closed'));
  }

  /**
   * Cancels the running step in PostgreSQL and drops the connection once it has ended (or after a grace
   * period): a CancelRequest that arrived late must not find another statement on that backend.
   */
  private cancel(): void {
    if (this.released) return;
    this.released = true;
    this.client.off('notice', this.onNotice);
    cancelBackend(this.client);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => {
      timer = setTimeout(resolve, CANCEL_GRACE_MS);
    });
    void Promise.race([this.busy, grace]).then(() => {
      clearTimeout(timer);
      this.giveBack(new Error('cancelled'));
    });
  }
}

export class PostgresReaders implements Readers {
  private readonly pool: pg.Pool;
  private readonly maxCursors: number;
  private running = 0;
  private cursors = 0;
  private spawned = 0;
  private closed = false;
  private readonly live = new Set<Statement>();

  constructor(private readonly opts: PostgresReadersOptions) {
    const max = opts.maxConnections ?? 10;
    this.maxCursors = opts.maxCursors ?? Math.max(1, max - 2);
    this.pool = new pg.Pool({
      connectionString: readerUrl(opts.url, opts.secret),
      options: STARTUP_OPTIONS,
      application_name: 'segtasks reader',
      max,
      // Values stay PostgreSQL's text: the steps read DataRows themselves, and nothing here parses them.
      types: { getTypeParser: () => (v: string) => v },
    } as pg.PoolConfig);
    this.pool.on('connect', () => this.spawned++);
    // An idle connection that breaks (PostgreSQL restarted) is dropped by the pool; it must not crash us.
    this.pool.on('error', () => {});
  }

  /** Counts a step as running while it is. */
  counted<T>(p: Promise<T>): Promise<T> {
    this.running++;
    return p.finally(() => this.running--);
  }

  /** Resolves once a reader connection has logged in (the role exists and the password is right). */
  async ready(): Promise<void> {
    const client = await this.connect();
    try {
      const { rows } = await client.query<{ u: string }>('SELECT current_user AS u');
      if (rows[0]?.u !== READER_ROLE)
        throw new SqlError('XX000', `catalog readers logged in as ${rows[0]?.u}, not ${READER_ROLE}`);
    } finally {
      client.release();
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    const shutdown = () => new SqlError('57P01', 'server is shutting down');
    if (this.closed) throw shutdown();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.closed ? shutdown() : sqlErrorOf(err);
    }
    // Closed while it waited: the statement never starts (close ends only what has started).
    if (this.closed) {
      client.release(shutdown());
      throw shutdown();
    }
    return client;
  }

  async describe(sql: string, types: number[]): Promise<Described> {
    // Parse and Describe run nothing: no transaction, nothing to clean after.
    const client = await this.connect();
    try {
      const r = await this.counted(
        step(client, (w) => {
          w.parse({ text: sql, types });
          w.describe({ type: 'S' });
        }),
      );
      return { paramTypes: r.paramTypes ?? [], fields: fieldsOf(r.fields) };
    } finally {
      client.release();
    }
  }

  async run(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    cancel?: Cancellation,
  ): Promise<RunResult> {
    const signal = signalOf(cancel);
    const opened = await this.open(sql, types, params, session, signal, false, null);
    const rows = opened.rows;
    const warnings = opened.warnings;
    if (opened.cursor) {
      const rest = await opened.cursor.next(0, signal);
      for (const r of rest.rows) rows.push(r);
      warnings.push(...rest.warnings);
    }
    return { fields: opened.fields, rows, ...NO_EFFECTS(), warnings };
  }

  async open(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    cancel: Cancellation | undefined,
    _autoParams: boolean,
    formats: number[] | null,
  ): Promise<OpenedRun> {
    const signal = signalOf(cancel);
    if (signal?.aborted) throw abortError(signal);
    const client = await this.connect();
    if (signal?.aborted) {
      // Cancelled while it waited for a connection: nothing ran on it.
      client.release();
      throw abortError(signal);
    }
    const stmt = new Statement(this, client, this.live);
    try {
      const applied = appliedSettings(session);
      const style = outputStyle(applied);
      const sets = [...applied].map(
        ([k, v]) => `set_config(${pg.escapeLiteral(k)}, ${pg.escapeLiteral(v)}, true)`,
      );
      await this.counted(
        client.query(`BEGIN READ ONLY${sets.length ? `; SELECT ${sets.join(', ')}` : ''}`),
      ).catch((err) => {
        throw sqlErrorOf(err);
      });
      const first = await stmt.run((w) => {
        w.parse({ text: sql, types });
        w.bind({ values: params.map(paramText) });
        w.describe({ type: 'P' });
        w.execute({ rows: FIRST_BATCH_ROWS });
      }, signal);
      const fields = fieldsOf(first.fields);
      const oids = fields.map((f) => f.typeOid);
      const batch = (
        rows: (string | null)[][],
        done: boolean,
        f: number[] | null | undefined,
      ): StreamedBatch =>
        f
          ? { rows: [], encoded: encodePgRows(rows, oids, f, style), done, ...stmt.takeEffects() }
          : { rows: pgValues(rows, oids, style), encoded: null, done, ...stmt.takeEffects() };
      const head = batch(first.rows, !first.suspended, formats);
      if (!first.suspended) {
        stmt.end();
        return { fields, ...head, cursor: null };
      }
      const cursor = this.cursorOn(stmt, (rows, done, f) => batch(rows, done, f ?? formats));
      if (this.cursors > this.maxCursors) {
        // Every connection that may hold a cursor is held: the rest is read now, within the result memory
        // limit, and this one freed; the query never waits for another cursor to close.
        return { fields, ...head, cursor: materialized(await cursor.next(0, signal)) };
      }
      return { fields, ...head, cursor };
    } catch (err) {
      stmt.end();
      throw signal?.aborted ? abortError(signal) : sqlErrorOf(err);
    }
  }

  /** The open portal of a statement: batches by Execute(n), the connection freed after the last. */
  private cursorOn(
    stmt: Statement,
    batch: (rows: (string | null)[][], done: boolean, formats: number[] | undefined) => StreamedBatch,
  ): ReaderCursor {
    this.cursors++;
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      this.cursors--;
      stmt.end();
    };
    const limit = this.opts.resultMemoryLimitBytes ?? Number.POSITIVE_INFINITY;
    return {
      next: async (max, signal, formats) => {
        if (!open) throw cursorGone();
        try {
          if (max > 0) {
            const r = await stmt.run((w) => w.execute({ rows: Math.min(max, BATCH_ROWS) }), signal);
            if (!r.suspended) close();
            return batch(r.rows, !r.suspended, formats);
          }
          // max 0: all the rest, a batch at a time within the memory limit.
          const rows: (string | null)[][] = [];
          let bytes = 0;
          for (;;) {
            const r = await stmt.run((w) => w.execute({ rows: BATCH_ROWS }), signal);
            for (const row of r.rows) {
              bytes += rowBytes(row);
              if (bytes > limit) throw outOfMemory(limit, rows.length);
              rows.push(row);
            }
            if (!r.suspended) break;
          }
          close();
          return batch(rows, true, formats);
        } catch (err) {
          close();
          throw signal?.aborted ? abortError(signal) : sqlErrorOf(err);
        }
      },
      close,
    };
  }

  stats(): ReaderStats {
    return {
      workers: this.pool.totalCount,
      running: this.running,
      queued: this.pool.waitingCount,
      cursors: this.cursors,
      spawned: this.spawned,
      inlined: 0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.live) s.destroy();
    await this.pool.end();
  }
}

function outOfMemory(limitBytes: number, rows: number): SqlError {
  return new SqlError('53200', 'out of memory', {
    detail: `The result of this query passed segtasks.result_memory_limit (${Math.round(limitBytes / 1024)} kB) after ${rows} rows.`,
    hint: 'Read it through a cursor that is not SCROLL or WITH HOLD, narrow it with WHERE or LIMIT, or read large data with COPY.',
  });
}
