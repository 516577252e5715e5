// Answers read-only queries on one read-only SQLite connection: parse (with the normalising pass), translate,
// type, run. It runs inside a worker thread (worker.ts) so that a slow query never holds up the event loop
// that serves the wire and the task engine.
import Database from 'better-sqlite3';
import type { BackendActivity, BackendSignal } from '../../pg/activity';
import { checkJsonText, decodeParam, formatTimestampMicros, type RegValue } from '../../pg/codecs';
import { type EncodedRows, encodeDataRows } from '../../pg/data-row';
import { SqlError } from '../../pg/errors';
import { canonicalType, Oid, typeNameOfOid } from '../../pg/types';
import { buildEmulation, type Emulation } from '../pg-catalog';
import { compileQuery } from '../query/compile';
import { type FunctionContext, registerFunctions } from '../query/functions';
import { parameterizeLiterals } from '../query/parameterize';
import { typeOid } from '../query/pgtypes';
import { isBoundedPlan } from './bounded-plan';
import { type InlineGuard, NotInline } from './inline-guard';
import { InlineStalls } from './inline-stalls';
import { collectRows, rowBytes, takeRows } from './result-budget';
import { CLOCK_EVERY, RowRuns, type RowSource, runsSql } from './row-runs';
import { translateSqliteError } from './sqlite-errors';

export interface SessionSnapshot {
  user: string;
  database: string;
  pid: number;
  /** Bumped by the connection whenever a setting changes. */
  settingsVersion: number;
  /** The settings, or null when this worker was already sent this version (see the pool). */
  settings: [string, string][] | null;
  /** Every session, for pg_stat_activity and pg_cancel_backend(): sent only with statements that name them. */
  activity?: BackendActivity[];
}

export interface Field {
  name: string;
  typeOid: number;
}

export interface Described {
  paramTypes: number[];
  fields: Field[];
}

/** What a statement's functions ask of the session, which runs in another thread. */
export interface StatementEffects {
  changedSettings: [string, string][];
  notifications: [string, string][];
  /** pg_cancel_backend() / pg_terminate_backend() calls that passed their checks, for the session to send. */
  signals: [number, BackendSignal][];
  /** WARNINGs raised by functions (a pid that is no backend), for the session to send as notices. */
  warnings: string[];
}

/** The settings of a session not seen yet: one list, so that its settings map is made once (settingsMap). */
const NO_SETTINGS: [string, string][] = [];

/** The effects of a statement that had none (frozen: it is every such statement's). */
const NO_EFFECTS: StatementEffects = Object.freeze({
  changedSettings: Object.freeze([]) as unknown as [string, string][],
  notifications: Object.freeze([]) as unknown as [string, string][],
  signals: Object.freeze([]) as unknown as [number, BackendSignal][],
  warnings: Object.freeze([]) as unknown as string[],
});

export interface RunResult extends StatementEffects {
  fields: Field[];
  rows: unknown[][];
  /** The statement's plan is bounded (bounded-plan.ts): the pool may run it inline next time. */
  bounded?: boolean;
}

/**
 * A streamed result's batch: its rows (as values, or encoded as DataRow messages when the result formats were
 * given), whether they were the last, settings its functions changed.
 */
export interface StreamedBatch extends StatementEffects {
  rows: unknown[][];
  encoded: EncodedRows | null;
  done: boolean;
}

export interface StreamedRun extends StreamedBatch {
  fields: Field[];
  /** As RunResult's. */
  bounded?: boolean;
}

/**
 * A streamed result's batch size: rows enough that passing a batch between threads costs little per row, few
 * enough (and bytes few enough) that a batch is milliseconds of work for the thread that encodes it.
 */
export const BATCH_ROWS = 2000;
/** The first batch is smaller: the first rows reach the client sooner; a small result still fits in it. */
const FIRST_BATCH_ROWS = 250;
const BATCH_BYTES = 1024 * 1024;
/** How long a reader reads ahead of the next batch: bounded, as nobody waits for these rows yet. */
const READ_AHEAD_MS = 50;

interface Plan {
  stmt: Database.Statement;
  /** The statement wrapped to step its rows in runs (row-runs.ts), once a stream needed it; null: it cannot be. */
  runs?: Database.Statement | null;
  /** The translated SQL (to know which lookups its functions need). */
  sql: string;
  /** Parameter numbers (1-based) that the translated SQL really contains: SQLite must be given exactly these. */
  used: number[];
  fields: Field[];
  /** The fields' type OIDs, for naming reg values and encoding rows. */
  oids: number[];
  paramTypes: number[];
  noColumns: boolean;
  usesSettings: boolean;
  usesActivity: boolean;
  /** Proven cheap whatever its parameters (bounded-plan.ts); cleared when the guard refuses what it calls. */
  bounded: boolean;
  /** How long its inline runs took: too many stalls in a row pause its inline runs (inline-stalls.ts). */
  stalls: InlineStalls;
}

export interface ReaderOptions {
  catalogPath: string;
  serverVersion: string;
  startedAt: string;
  /** segtasks.result_memory_limit in bytes (absent: unbounded). */
  resultMemoryLimitBytes?: number;
}

export class ReaderEngine {
  private readonly db: Database.Database;
  private readonly emulation: Emulation;
  private readonly runs: RowRuns;
  private readonly plans = new Map<string, Plan>();
  /** Last settings seen per backend, so the pool need not send them with every request. */
  private readonly sessionSettings = new Map<number, [string, string][]>();
  private ctx: FunctionContext;
  /** The query whose rows are being streamed, between its batches. */
  private cursor: {
    id: number;
    rows: Iterator<unknown[]> | RowSource;
    noColumns: boolean;
    oids: number[];
    /** Encode the rows as DataRow messages in these result formats (a batch may say others). */
    encoding: { formats: number[] } | null;
    /** Rows read ahead of the next request (readAhead), their reg values named. */
    ahead: unknown[][];
    /** How reading ahead ended, when it reached the end of the rows or an error. */
    aheadEnd: { error: unknown } | 'done' | null;
    /** The formats the last batch was encoded in (null: it went as values). */
    lastFormats: number[] | null;
    /**
     * The rows read ahead, encoded in the last batch's formats, which the next request most likely asks for
     * again (every FETCH of psql's FETCH_COUNT, every Execute of a portal): it then finds its batch ready to
     * send, the encoding done while the wire sent the last one.
     */
    aheadEncoded: { formats: number[]; encoded: EncodedRows } | null;
  } | null = null;

  constructor(
    private readonly opts: ReaderOptions,
    /** How the statement's functions wait (pg_sleep): the worker's wait gives up when the pool cancels. */
    private readonly sleep?: (ms: number) => void,
    /** Set on the inline lane's engine, which runs only bounded plans (runInline). */
    private readonly guard?: InlineGuard,
  ) {
    this.db = new Database(opts.catalogPath, { readonly: true, fileMustExist: true });
    this.db.pragma('case_sensitive_like = ON');
    this.emulation = buildEmulation(this.db);
    this.ctx = this.makeContext();
    registerFunctions(this.db, () => this.ctx, guard);
    this.runs = new RowRuns(this.db, BATCH_BYTES);
  }

  private settingsOf(s: SessionSnapshot): [string, string][] {
    if (s.settings) {
      if (this.sessionSettings.size > 2000) this.sessionSettings.clear();
      this.sessionSettings.set(s.pid, s.settings);
      return s.settings;
    }
    return this.sessionSettings.get(s.pid) ?? NO_SETTINGS;
  }

  /** segtasks.result_memory_limit in bytes: what a result collected whole may hold. */
  private get resultLimit(): number {
    return this.opts.resultMemoryLimitBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Keeps a session's settings without running anything (a request the pool withdrew carried them). */
  rememberSettings(s: SessionSnapshot): void {
    this.settingsOf(s);
  }

  /** The engine's one functions' context: what is the session's or the statement's, contextFor sets. */
  private makeContext(): FunctionContext {
    const e = this.emulation;
    return {
      user: '',
      database: '',
      pid: 0,
      settings: new Map(),
      changedSettings: new Map(),
      notifications: [],
      activity: [],
      signals: [],
      warnings: [],
      serverVersion: this.opts.serverVersion,
      startedAt: this.opts.startedAt,
      regOid: (k, n) => e.regOid(k, n),
      regName: (k, o) => e.regName(k, o),
      userName: (o) => e.userName(o),
      relationVisible: (o) => e.registry.isVisible(o),
      description: (o, sub) => e.description(o, sub),
      relationSize: (o) => e.relationSize(o),
      databaseSize: () => e.databaseSize(),
      indexDef: (o, col) => e.indexDef(o, col),
      constraintDef: (o) => e.constraintDef(o),
      sleep: this.sleep,
    };
  }

  /**
   * The functions' context for the statement starting now. The engine runs one statement at a time (an open
   * cursor's batches belong to the statement that opened it), so the one context is reset in place: making
   * it anew, with a Map of every setting, was a fifth of a point lookup's time on the wire thread.
   */
  private contextFor(s: SessionSnapshot, settings: [string, string][]): FunctionContext {
    const c = this.ctx;
    c.user = s.user;
    c.database = s.database;
    c.pid = s.pid;
    c.settings = this.settingsMap(settings);
    c.activity = s.activity ?? [];
    c.statementStartedAt = Date.now();
    c.statementTimeText = undefined;
    // What a statement that failed left behind is not the next one's.
    if (c.changedSettings.size) c.changedSettings = new Map();
    if (c.notifications.length) c.notifications = [];
    if (c.signals.length) c.signals = [];
    if (c.warnings.length) c.warnings = [];
    return c;
  }

  /** A session's settings by lower-case name, made once per settings list (a list is one settings version). */
  private settingsMap(settings: [string, string][]): ReadonlyMap<string, string> {
    let m = this.settingsMaps.get(settings);
    if (!m) {
      m = new Map(settings.map(([k, v]) => [k.toLowerCase(), v]));
      this.settingsMaps.set(settings, m);
    }
    return m;
  }
  private readonly settingsMaps = new WeakMap<[string, string][], ReadonlyMap<string, string>>();

  describe(sql: string, clientTypes: number[]): Described {
    const p = this.plan(sql, clientTypes);
    return { paramTypes: p.paramTypes, fields: p.fields };
  }

  run(
    sql: string,
    clientTypes: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams = false,
  ): RunResult {
    const { plan, rows } = this.start(sql, clientTypes, params, session, autoParams);
    let collected: unknown[][];
    try {
      collected = collectRows(rows, this.resultLimit);
    } catch (err) {
      throw translateSqliteError(err);
    }
    collected = this.finishRows(plan, collected);
    return { fields: plan.fields, rows: collected, bounded: plan.bounded, ...this.takeEffects() };
  }

  /**
   * Plans a statement a reader found bounded, so that runInline can run it here next time (the pool asks the
   * inline lane to, for statements of at most a few KiB). An error leaves it unplanned.
   */
  learn(sql: string, clientTypes: number[], autoParams: boolean): void {
    try {
      const shape = autoParams ? this.shapeOf(sql) : null;
      if (shape) this.plan(shape.sql, shape.hints);
      else if (!autoParams) this.plan(sql, clientTypes);
    } catch {
      // it stays on the readers
    }
  }

  /**
   * Runs a statement on this (the wire thread's) engine if it is already planned here and bounded, within
   * budgetMs (no function call is allowed after it): its result, or null when it must go to a reader (not
   * planned, not bounded, refused by the guard, more rows than a first batch).
   */
  runInline(
    sql: string,
    clientTypes: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams: boolean,
    /** Stream the rows as open() does (a first batch), in these formats (null: as values). */
    stream: { formats: number[] | null } | null,
    budgetMs: number,
  ): StreamedRun | RunResult | null {
    const guard = this.guard;
    if (!guard) return null;
    const plan = this.cachedPlan(sql, clientTypes, autoParams);
    if (!plan?.bounded || plan.usesActivity || plan.usesSettings) return null;
    const t0 = performance.now();
    if (plan.stalls.paused(t0)) return null;
    try {
      return guard.within(budgetMs, () => {
        const { rows } = this.allRows(sql, clientTypes, params, session, autoParams, FIRST_BATCH_ROWS);
        if (!stream) {
          // Within the result memory limit, as run() collects them.
          return {
            fields: plan.fields,
            rows: collectRows(rows, this.resultLimit),
            bounded: true,
            ...this.takeEffects(),
          };
        }
        // As open() would have answered: one batch, the last, encoded when the formats are known; a batch's
        // bytes at most (more: a reader streams it).
        let bytes = 0;
        for (const r of rows) bytes += rowBytes(r);
        if (bytes > BATCH_BYTES) throw new NotInline('more bytes than a batch');
        const encoded = stream.formats ? encodeDataRows(rows, plan.oids, stream.formats) : null;
        return {
          fields: plan.fields,
          bounded: true,
          rows: encoded ? [] : rows,
          encoded,
          done: true,
          ...this.takeEffects(),
        };
      });
    } catch (err) {
      if (!(err instanceof NotInline)) throw err;
      this.takeEffects();
      // A call the guard refuses by what it is goes to the readers for good; one refused for time is a strike
      // (counted below).
      if (!err.outOfTime) plan.bounded = false;
      return null;
    } finally {
      const t1 = performance.now();
      plan.stalls.ran(t1 - t0, t1);
    }
  }

  /** The plan a statement would run with, if it is planned already (never plans). */
  private cachedPlan(sql: string, clientTypes: number[], autoParams: boolean): Plan | undefined {
    if (autoParams) {
      const shape = this.shapeOf(sql);
      return shape ? this.plans.get(planKey(shape.sql, shape.hints)) : undefined;
    }
    return this.plans.get(planKey(sql, clientTypes));
  }

  /**
   * A simple-protocol statement's shape (its constants as parameters), remembered for the last statement:
   * runInline looks its plan up and then runs it, and the statement is lexed once for both.
   */
  private shapeOf(sql: string): ReturnType<typeof parameterizeLiterals> {
    if (this.lastShape?.sql !== sql) this.lastShape = { sql, shape: parameterizeLiterals(sql) };
    return this.lastShape.shape;
  }
  private lastShape: { sql: string; shape: ReturnType<typeof parameterizeLiterals> } | null = null;

  /**
   * A regclass, regtype, regnamespace or regproc result is an OID in SQLite; PostgreSQL prints the object's name (the
   * OID itself when there is no such object, '-' for 0). Returns the rows, changed in place (from row `from`).
   */
  private nameRegValues(typeOids: readonly number[], rows: unknown[][], from = 0): unknown[][] {
    typeOids.forEach((typeOid, i) => {
      const kind = REG_KINDS.get(typeOid);
      if (!kind) return;
      for (let k = from; k < rows.length; k++) {
        const r = rows[k];
        const v = r[i];
        if (v === null || v === undefined || !/^\d+$/.test(String(v))) continue;
        const oid = Number(v);
        const regName = oid === 0 ? '-' : (this.emulation.regName(kind, oid) ?? String(oid));
        r[i] = { regOid: oid, regName } satisfies RegValue;
      }
    });
    return rows;
  }

  /**
   * Runs a query whose rows are streamed: returns the first batch, and when rows remain keeps the statement
   * open as this engine's cursor, which next() reads and closeCursor() ends. While it is open the engine runs
   * nothing else (its SQLite connection is inside the statement's read transaction).
   */
  open(
    sql: string,
    clientTypes: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams: boolean,
    id: number,
    formats: number[] | null,
  ): StreamedRun {
    const { plan, rows } = this.start(sql, clientTypes, params, session, autoParams, true);
    const bounded = plan.bounded;
    const oids = plan.oids;
    const encoding = formats && { formats };
    this.cursor = {
      id,
      rows: rows[Symbol.iterator](),
      noColumns: plan.noColumns,
      oids,
      encoding,
      ahead: [],
      aheadEnd: null,
      lastFormats: null,
      aheadEncoded: null,
    };
    const batch = this.next(id, FIRST_BATCH_ROWS);
    return { fields: plan.fields, bounded, ...batch };
  }

  /**
   * The next batch of the open cursor (maxRows 0: all the rest, within the result memory limit), encoded in
   * `formats` when given (else as the query was opened); the cursor is closed after its last batch or an
   * error.
   */
  next(id: number, maxRows: number, formats?: number[]): StreamedBatch {
    const c = this.cursor;
    if (!c || c.id !== id) throw new SqlError('34000', 'the cursor of this portal is no longer open');
    // The rest taken at once comes as values, to cross between threads in parts (see the worker).
    const encodeIn = maxRows === 0 ? null : (formats ?? c.encoding?.formats ?? null);
    c.lastFormats = encodeIn;
    const ready = this.encodedAhead(c, maxRows, encodeIn);
    if (ready) {
      if (ready.done) this.cursor = null;
      return { rows: [], encoded: ready.encoded, done: ready.done, ...this.takeEffects() };
    }
    let batch: { rows: unknown[][]; done: boolean };
    try {
      batch = this.take(c, maxRows);
    } catch (err) {
      this.closeCursor(id);
      throw translateSqliteError(err);
    }
    if (batch.done) this.cursor = null;
    const rows = c.noColumns ? batch.rows.map(() => []) : batch.rows;
    let encoded: EncodedRows | null = null;
    try {
      if (encodeIn) encoded = encodeDataRows(rows, c.oids, encodeIn);
    } catch (err) {
      this.closeCursor(id);
      throw err;
    }
    return {
      rows: encoded ? [] : rows,
      encoded,
      done: batch.done,
      ...this.takeEffects(),
    };
  }

  /**
   * The rows read ahead as they were encoded then, when they are this batch: the formats asked for are the
   * ones they were encoded in, and the batch takes all of them (as many rows as it asks for, or fewer where
   * the rows ended). Otherwise null, and they are taken as values and encoded again.
   */
  private encodedAhead(
    c: NonNullable<ReaderEngine['cursor']>,
    maxRows: number,
    formats: number[] | null,
  ): { encoded: EncodedRows; done: boolean } | null {
    const ready = c.aheadEncoded;
    c.aheadEncoded = null;
    if (!ready || !formats || !sameFormats(ready.formats, formats)) return null;
    const want = Math.min(maxRows, BATCH_ROWS);
    if (!(c.ahead.length === want || (c.ahead.length < want && c.aheadEnd !== null))) return null;
    c.ahead = [];
    // Rows read ahead before an error go out first; the error comes with the next batch (see take).
    return { encoded: ready.encoded, done: c.aheadEnd === 'done' };
  }

  /** The rows of the next batch: those read ahead first, then from the statement. */
  private take(
    c: NonNullable<ReaderEngine['cursor']>,
    maxRows: number,
  ): { rows: unknown[][]; done: boolean } {
    const want = maxRows === 0 ? Number.POSITIVE_INFINITY : Math.min(maxRows, BATCH_ROWS);
    const ahead = c.ahead.length <= want ? c.ahead.splice(0) : c.ahead.splice(0, want);
    if (ahead.length === want) return { rows: ahead, done: false };
    if (c.aheadEnd === 'done') return { rows: ahead, done: true };
    if (c.aheadEnd) {
      // Reading ahead failed after these rows: they go out first, the error with the next batch (a result
      // taken whole fails whole).
      if (ahead.length && maxRows !== 0) return { rows: ahead, done: false };
      throw c.aheadEnd.error;
    }
    if ('expect' in c.rows) c.rows.expect(want - ahead.length);
    if (maxRows === 0) {
      // The rest at once, as a materialized result is collected (the rows read ahead counted in it).
      const rows = collectRows(iterable(c.rows), this.resultLimit, ahead);
      this.nameRegValues(c.oids, rows, ahead.length);
      return { rows, done: true };
    }
    const more = takeRows(c.rows, want - ahead.length, BATCH_BYTES);
    this.nameRegValues(c.oids, more.rows);
    return { rows: ahead.length ? ahead.concat(more.rows) : more.rows, done: more.done };
  }

  /**
   * Reads up to maxRows of the open cursor's next rows (at most a batch's bytes, for at most READ_AHEAD_MS)
   * while the wire sends the batch just answered, so that the next request finds them read: a client that
   * FETCHes batch after batch waits for the encoding of each, not for the statement's stepping.
   */
  readAhead(maxRows: number): void {
    const c = this.cursor;
    if (!c || c.ahead.length || c.aheadEnd) return;
    const until = performance.now() + READ_AHEAD_MS;
    const max = Math.min(maxRows, BATCH_ROWS);
    if ('expect' in c.rows) c.rows.expect(max, until);
    let bytes = 0;
    try {
      // The clock is read every CLOCK_EVERY rows: a row is a fraction of a microsecond here.
      while (
        c.ahead.length < max &&
        bytes < BATCH_BYTES &&
        (c.ahead.length % CLOCK_EVERY !== 0 || performance.now() < until)
      ) {
        const r = c.rows.next();
        if (r.done) {
          c.aheadEnd = 'done';
          break;
        }
        c.ahead.push(r.value);
        bytes += rowBytes(r.value);
      }
    } catch (error) {
      c.aheadEnd = { error };
    }
    this.nameRegValues(c.oids, c.ahead);
    if (c.lastFormats && !c.noColumns && c.ahead.length) {
      try {
        c.aheadEncoded = { formats: c.lastFormats, encoded: encodeDataRows(c.ahead, c.oids, c.lastFormats) };
      } catch {
        // encoded again when asked for, where the error is the batch's
      }
    }
  }

  closeCursor(id: number): void {
    if (this.cursor?.id !== id) return;
    this.cursor.rows.return?.();
    this.cursor = null;
  }

  /** The id of the open cursor, if any. */
  get openCursor(): number | null {
    return this.cursor?.id ?? null;
  }

  /** Keeps a session's settings from a request this engine will not run (see the pool's bouncing). */
  rememberSession(session: SessionSnapshot): void {
    this.settingsOf(session);
  }

  /** What the functions the statement ran since the last batch ask of the session, and start again. */
  private takeEffects(): StatementEffects {
    const c = this.ctx;
    // Most statements have none: they share one answer instead of four new arrays each.
    if (!c.changedSettings.size && !c.notifications.length && !c.signals.length && !c.warnings.length)
      return NO_EFFECTS;
    const effects = {
      changedSettings: [...c.changedSettings],
      notifications: c.notifications,
      signals: c.signals,
      warnings: c.warnings,
    };
    c.changedSettings.clear();
    c.notifications = [];
    c.signals = [];
    c.warnings = [];
    return effects;
  }

  /** Plans (or finds the plan of) a query, binds its parameters and starts it. */
  private start(
    sql: string,
    clientTypes: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams: boolean,
    /** The rows are streamed: stepped in runs where the statement allows (row-runs.ts). */
    streamed = false,
  ): { plan: Plan; rows: Iterable<unknown[]> } {
    const { plan: p, bound } = this.bind(sql, clientTypes, params, session, autoParams);
    try {
      const wrapped = streamed ? this.runsStatement(p) : null;
      if (wrapped) {
        const runs = p.used.length ? wrapped.iterate(bound) : wrapped.iterate();
        return { plan: p, rows: this.runs.rows(runs) };
      }
      const rows = (p.used.length ? p.stmt.iterate(bound) : p.stmt.iterate()) as Iterable<unknown[]>;
      return { plan: p, rows };
    } catch (err) {
      throw translateSqliteError(err);
    }
  }

  /**
   * A bounded plan's rows, all at once (runInline): a bounded plan returns a few rows at most (bounded-plan.ts),
   * and `all()` spares the iterator that a streamed statement steps through (a native object and a call per
   * row, which cost as much as the lookup itself). More than `maxRows` rows: NotInline, for a reader to run.
   */
  private allRows(
    sql: string,
    clientTypes: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams: boolean,
    maxRows: number,
  ): { plan: Plan; rows: unknown[][] } {
    const { plan: p, bound } = this.bind(sql, clientTypes, params, session, autoParams);
    let rows: unknown[][];
    try {
      rows = (p.used.length ? p.stmt.all(bound) : p.stmt.all()) as unknown[][];
    } catch (err) {
      if (err instanceof NotInline) throw err;
      throw translateSqliteError(err);
    }
    if (rows.length > maxRows) throw new NotInline('more rows than a batch');
    return { plan: p, rows: this.finishRows(p, rows) };
  }

  /** A plan's rows as the client gets them: none of SQLite's placeholder column, reg values named. */
  private finishRows(p: Plan, rows: unknown[][]): unknown[][] {
    return p.noColumns ? rows.map(() => []) : this.nameRegValues(p.oids, rows);
  }

  /** Plans (or finds the plan of) a query, sets up its functions' context and binds its parameters. */
  private bind(
    sql: string,
    clientTypes: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams: boolean,
  ): { plan: Plan; bound: Record<number, unknown> } {
    let p: Plan | null = null;
    let values = params;
    if (autoParams && !params.length) {
      // Simple-protocol statements differ mostly in their constants: plan the shape once, bind the constants.
      const shape = this.shapeOf(sql);
      if (shape) {
        try {
          p = this.plan(shape.sql, shape.hints);
        } catch {
          p = null; // plan the statement as written: its errors then point at the user's text
        }
        // A constant that is not valid for its type is an error, as it would be in PostgreSQL.
        if (p) values = shape.values.map((v, i) => literalValue(v, p!.paramTypes[i]));
      }
    }
    p ??= this.plan(sql, clientTypes);
    if (values.length < p.paramTypes.length) {
      throw new SqlError('42P02', `there is no parameter $${values.length + 1}`);
    }
    this.emulation.prepareFor(p.sql);
    const settings = this.settingsOf(session);
    this.contextFor(session, settings);
    if (p.usesActivity) {
      this.db.exec('DELETE FROM pg_backend_activity');
      const ins = this.db.prepare(
        `INSERT INTO pg_backend_activity VALUES (${Array(13).fill('?').join(', ')})`,
      );
      const ts = (ms: number | null) => (ms === null ? null : formatTimestampMicros(BigInt(ms) * 1000n));
      for (const a of session.activity ?? [])
        ins.run(
          a.pid,
          a.usename,
          a.datname,
          a.superuser ? 1 : 0,
          a.application_name,
          a.client_addr,
          a.client_port,
          ts(a.backend_start),
          ts(a.xact_start),
          ts(a.query_start),
          ts(a.state_change),
          a.state,
          a.query,
        );
    }
    if (p.usesSettings) {
      this.db.exec('DELETE FROM pg_session_settings');
      const ins = this.db.prepare('INSERT INTO pg_session_settings VALUES (?, ?)');
      for (const [k, v] of settings) ins.run(k, v);
    }
    // Parameters are numbered (?1, ?2, ...) in the translated SQL; better-sqlite3 binds those by key.
    const bound: Record<number, unknown> = {};
    const used = p.used;
    for (let i = 0; i < used.length; i++)
      bound[i + 1] = toSqlite(values[used[i] - 1], p.paramTypes[used[i] - 1]);
    return { plan: p, bound };
  }

  /** The plan's statement wrapped to step in runs, or null where it cannot be (it then streams row by row). */
  private runsStatement(p: Plan): Database.Statement | null {
    if (p.runs === undefined) {
      const sql = p.noColumns ? null : runsSql(p.stmt.source, p.fields.length);
      try {
        p.runs = sql ? this.db.prepare(sql) : null;
      } catch {
        p.runs = null;
      }
    }
    return p.runs;
  }

  private plan(sql: string, clientTypes: number[]): Plan {
    const key = planKey(sql, clientTypes);
    const cached = this.plans.get(key);
    if (cached) return cached;
    const t = compileQuery(
      sql,
      this.emulation.registry,
      clientTypes.map((t) => (t ? typeNameOfOid(t) : null)),
    );
    // SQLite numbers parameter slots up to the largest ?N: a gap (a parameter the translation dropped, such as
    // an argument of an emulated constant function) would be an unnamed slot. Renumber them densely.
    const used = placeholders(t.sql);
    const dense = renumber(t.sql, used);
    let stmt: Database.Statement;
    try {
      stmt = this.db.prepare(dense);
    } catch (err) {
      throw translateSqliteError(err);
    }
    if (!stmt.reader || !stmt.readonly)
      throw new SqlError('42501', 'only read-only queries can run on the catalog');
    stmt.raw(true);
    // A select list of no columns reaches SQLite as one placeholder column, dropped from every row.
    const noColumns = t.columns.length === 0;
    const sqliteCols = noColumns ? [] : stmt.columns();
    const fields: Field[] = sqliteCols.map((c, i) => {
      const ours = t.columns.length === sqliteCols.length ? t.columns[i] : undefined;
      const type = ours?.type ?? canonicalType(c.type) ?? 'text';
      return { name: ours?.name ?? c.name, typeOid: typeOid(type) };
    });
    const paramTypes = t.paramTypes.map((p, i) => (clientTypes[i] ? clientTypes[i] : typeOid(p ?? 'text')));
    const plan: Plan = {
      stmt,
      sql: t.sql,
      used,
      fields,
      paramTypes,
      noColumns,
      usesSettings: /pg_settings|pg_session_settings/.test(t.sql),
      usesActivity: /pg_stat_activity|pg_backend_activity/.test(t.sql),
      bounded: false,
      oids: fields.map((f) => f.typeOid),
      stalls: new InlineStalls(),
    };
    plan.bounded = !plan.usesSettings && !plan.usesActivity && isBoundedPlan(this.db, dense, used.length);
    if (this.plans.size > 1000) this.plans.clear();
    this.plans.set(key, plan);
    return plan;
  }
}

/** The plan cache's key: the statement's text and its parameter types as the client gave them. */
function planKey(sql: string, clientTypes: number[]): string {
  return clientTypes.join(',') + '\0' + sql;
}

function sameFormats(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

function iterable<T>(it: Iterator<T>): Iterable<T> {
  return { [Symbol.iterator]: () => it };
}

/** The ?N placeholders of translated SQL, outside its quoted strings and identifiers. */
function placeholders(sql: string): number[] {
  const found = new Set<number>();
  const re = /'(?:[^']|'')*'|"(?:[^"]|"")*"|\?(\d+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(sql))) if (m[1]) found.add(Number(m[1]));
  return [...found].sort((a, b) => a - b);
}

/** Rewrites ?N placeholders to ?1..?k in the order of `used` (outside quoted strings and identifiers). */
function renumber(sql: string, used: number[]): string {
  const index = new Map(used.map((n, i) => [n, i + 1]));
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?(\d+)/g, (m, n) =>
    n ? `?${index.get(Number(n))}` : m,
  );
}

/** A literal's text as the value its inferred parameter type takes (validated as PostgreSQL would). */
function literalValue(text: string, oid: number): unknown {
  if (oid === Oid.numeric) {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  return decodeParam(Buffer.from(text, 'utf8'), oid, false);
}

const REG_KINDS = new Map<number, string>([
  [Oid.regclass, 'regclass'],
  [Oid.regtype, 'regtype'],
  [Oid.regnamespace, 'regnamespace'],
  [Oid.regproc, 'regproc'],
]);

const INTEGER_OIDS = new Set<number>([Oid.int2, Oid.int4, Oid.int8, Oid.oid]);

/** A parameter value as SQLite should see it. Integers go in as BigInt: a JS number binds as a double. */
function toSqlite(v: unknown, oid: number): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isInteger(v) && INTEGER_OIDS.has(oid)) return BigInt(v);
  if (v === undefined) return null;
  // A value sent as text before its type was known: json's input function checks it here.
  if (typeof v === 'string' && (oid === Oid.json || oid === Oid.jsonb)) return checkJsonText(v);
  return v;
}

export { typeNameOfOid };
