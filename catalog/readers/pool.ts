// A pool of reader worker threads.
//
// Throughput: each worker takes several requests at once (they queue in its message port), so the latency of
// passing messages between threads overlaps instead of adding up.
// Isolation: a worker whose current request has run longer than STALL_MS gets no more work until it finishes,
// and when every worker is stalled or full a new one is started (up to maxWorkers), so one slow query never
// delays another connection's SELECT 1 by more than a few milliseconds.
// Cancellation: cancelling a running request terminates its worker (the only way to stop an SQLite statement
// from another thread); requests queued behind it on that worker are re-sent to others.
// Streaming: a query whose caller reads its rows as a stream returns its first batch; when rows remain, its
// worker keeps the statement open as a cursor and serves nothing else until the cursor is closed or read to
// its end (an SQLite connection inside an open statement stays on that statement's snapshot). Held workers
// do not count against maxWorkers, so the others keep their full pool; at most maxHeld workers are held at
// once, and a streamed query that finds them all held is materialized instead, within
// segtasks.result_memory_limit, as a scrollable cursor is: it never waits for a cursor to close.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlError } from '../../pg/errors';
import type {
  Described,
  ReaderOptions,
  RunResult,
  SessionSnapshot,
  StreamedBatch,
  StreamedRun,
} from './reader-engine';
import type { ReaderRequest, ReaderResponse } from './worker';

const MAX_IN_FLIGHT = 8;
const STALL_MS = 10;

interface Pending {
  req: ReaderRequest;
  /** The request as made, with the session's settings, for re-sending to another worker. */
  original: ReaderRequest;
  resolve(v: unknown): void;
  reject(e: Error): void;
  signal?: AbortSignal;
  /** When the worker started on it (approximately: when it reached the head of the worker's queue). */
  startedAt: number;
  /** Rows of a large result received so far (they come in parts ahead of the result). */
  rowsSoFar?: unknown[][];
}

/** The rows of a streamed query that remain on the worker holding it. */
export interface ReaderCursor {
  /** The next batch (at most max rows); the cursor is closed on the worker after the last one. */
  next(max: number, signal?: AbortSignal, formats?: number[]): Promise<StreamedBatch>;
  /** Ends the query and frees its worker; the cursor is then unusable. */
  close(): void;
}

export interface OpenedRun extends StreamedRun {
  /** Where the rest of the rows come from, when they did not all come with the first batch. */
  cursor: ReaderCursor | null;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** Requests sent to this worker, in the order it answers them. */
  inFlight: Pending[];
  /** Session settings versions this worker already has, by backend pid. */
  settingsSeen: Map<number, number>;
  dead: boolean;
  /** Started: a worker still starting answers nothing for a while (hundreds of ms on a loaded machine). */
  started: boolean;
  /** The request id of the cursor this worker holds open, which alone it serves until it closes. */
  cursor: number | null;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** 34000: a held cursor whose reader was freed (closed, committed, cancelled, or its session ended). */
const cursorGone = () => new SqlError('34000', 'the cursor of this portal is no longer open');

export class ReaderPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly opts: ReaderOptions,
    private readonly minWorkers = 2,
    private readonly maxWorkers = 6,
    /** Workers that open cursors may hold at once (beyond maxWorkers). */
    private readonly maxHeld = 4,
  ) {
    for (let i = 0; i < minWorkers; i++) this.spawn();
  }

  /** Resolves when the initial workers have built their catalog emulation. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  describe(sql: string, types: number[]): Promise<Described> {
    return this.request({ op: 'describe', sql, types }) as Promise<Described>;
  }

  run(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    signal?: AbortSignal,
    autoParams = false,
  ): Promise<RunResult> {
    const body = {
      op: 'run' as const,
      sql,
      types,
      params,
      session,
      autoParams,
      stream: false,
      formats: null,
    };
    return this.request(body, signal) as Promise<RunResult>;
  }

  /**
   * Runs a query whose rows the caller reads as a stream: the first batch, and a cursor over the rest when
   * the worker holds them (or every row at once when no worker may hold a cursor now).
   */
  async open(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    signal: AbortSignal | undefined,
    autoParams: boolean,
    /** The result formats, when the rows are to come encoded as DataRow messages. */
    formats: number[] | null,
  ): Promise<OpenedRun> {
    const body = { op: 'run' as const, sql, types, params, session, autoParams, stream: true, formats };
    return (await this.request(body, signal)) as OpenedRun;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0))
      p.reject(new SqlError('57P01', 'terminating connection due to shutdown'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const worker = new Worker(join(__dirname, 'worker.js'), { workerData: this.opts });
    const slot: Slot = {
      worker,
      inFlight: [],
      settingsSeen: new Map(),
      dead: false,
      started: false,
      cursor: null,
      ready: new Promise((resolve, reject) => {
        const onFirst = (m: ReaderResponse) => {
          if (m.id === 0) {
            worker.off('message', onFirst);
            slot.started = true;
            this.dispatch();
            resolve();
          }
        };
        worker.on('message', onFirst);
        worker.once('error', reject);
      }),
    };
    worker.on('message', (m: ReaderResponse) => {
      if (m.id === 0) return;
      const i = slot.inFlight.findIndex((p) => p.req.id === m.id);
      if (i < 0) {
        // Cancelled before it started; a streamed query it opened anyway is closed at once.
        if (m.ok && 'result' in m && (m.result as Partial<StreamedRun>).done === false)
          worker.postMessage({ id: this.nextId++, op: 'close', cursor: m.id } satisfies ReaderRequest);
        return;
      }
      if (!m.ok && 'bounced' in m) {
        const [p] = slot.inFlight.splice(i, 1);
        p.req = p.original;
        this.queue.unshift(p);
        this.dispatch();
        return;
      }
      if (m.ok && 'rowsPart' in m) {
        const head = slot.inFlight[i];
        head.rowsSoFar ??= [];
        for (const row of m.rowsPart) head.rowsSoFar.push(row);
        return;
      }
      const [p] = slot.inFlight.splice(i, 1);
      if (m.ok && p.rowsSoFar) {
        const result = m.result as RunResult;
        for (const row of result.rows) p.rowsSoFar.push(row);
        result.rows = p.rowsSoFar;
      }
      if (slot.inFlight[0]) slot.inFlight[0].startedAt = Date.now();
      if (p.req.op === 'next' && (!m.ok || (m.result as StreamedBatch).done)) {
        // The worker closes its cursor after the last batch or an error.
        if (slot.cursor === p.req.cursor) slot.cursor = null;
      }
      if (m.ok && p.req.op === 'run' && p.req.stream) {
        const run = m.result as StreamedRun;
        if (run.done) p.resolve({ ...run, cursor: null });
        else {
          // Counted before this one: the held workers, whose cursors are open.
          const held = this.slots.filter((s) => s.cursor !== null).length;
          slot.cursor = p.req.id;
          const cursor = this.cursorOn(slot, p.req.id);
          if (held < this.maxHeld) {
            p.resolve({ ...run, cursor });
            // A worker ready for other requests is kept at hand: starting one takes a while.
            if (this.slots.filter((s) => s.cursor === null).length < this.minWorkers) this.spawn();
          } else {
            // Every worker that may hold a cursor is held: the rest is materialized now, within the result
            // memory limit, and this worker freed; the query never waits for another cursor to close.
            const { resolve, reject } = p;
            cursor.next(0, p.signal).then((rest) => resolve({ ...run, cursor: materialized(rest) }), reject);
          }
        }
      } else if (m.ok) p.resolve(m.result);
      else p.reject(new SqlError(m.error.code, m.error.message, m.error));
      this.dispatch();
    });
    worker.on('error', (err) =>
      this.retire(slot, new SqlError('XX000', `catalog reader failed: ${err.message}`)),
    );
    worker.on('exit', () => this.retire(slot, new SqlError('XX000', 'catalog reader exited')));
    this.slots.push(slot);
    return slot;
  }

  /** Takes a worker out of service; its queued requests go back to the pool, the running one fails. */
  private retire(slot: Slot, reason: Error, keepHead = false): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const [head, ...rest] = slot.inFlight.splice(0);
    if (head && !keepHead) head.reject(reason);
    // Requests that were only waiting behind the head are sent again elsewhere, settings included; the
    // batches of this worker's cursor are gone with it.
    const gone = cursorGone();
    for (const p of rest.reverse()) {
      if (p.req.op === 'next') {
        p.reject(gone);
        continue;
      }
      p.req = p.original;
      this.queue.unshift(p);
    }
    if (!this.closed && this.slots.length < this.minWorkers) this.spawn();
    this.dispatch();
  }

  private request(body: DistributiveOmit<ReaderRequest, 'id'>, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new SqlError('57P01', 'server is shutting down'));
    return new Promise((resolve, reject) => {
      const req = { ...body, id: this.nextId++ } as ReaderRequest;
      const p: Pending = { req, original: req, resolve, reject, signal, startedAt: 0 };
      if (signal) {
        if (signal.aborted) return reject(abortError(signal));
        signal.addEventListener('abort', () => this.abort(p), { once: true });
      }
      this.queue.push(p);
      this.dispatch();
    });
  }

  private abort(p: Pending): void {
    const qi = this.queue.indexOf(p);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      p.reject(abortError(p.signal!));
      return;
    }
    const slot = this.slots.find((s) => s.inFlight.includes(p));
    if (!slot) return;
    if (slot.inFlight[0] === p) {
      p.reject(abortError(p.signal!));
      this.retire(slot, abortError(p.signal!), true);
      void slot.worker.terminate();
    } else {
      // Not started yet: drop it from the worker's list; its answer, when it comes, is ignored.
      slot.inFlight.splice(slot.inFlight.indexOf(p), 1);
      p.reject(abortError(p.signal!));
    }
  }

  /** The open cursor a worker holds: its batches go to that worker alone, ahead of the queue. */
  private cursorOn(slot: Slot, cursor: number): ReaderCursor {
    let closed = false;
    return {
      next: (max, signal, formats) => {
        if (closed || slot.dead || slot.cursor !== cursor) return Promise.reject(cursorGone());
        // max 0: every remaining row at once (see materialized()), collected within the memory limit.
        if (signal?.aborted) return Promise.reject(abortError(signal));
        // The signal outlives this batch (it is the stream's): its listener goes when the batch is answered.
        let onAbort = () => {};
        return new Promise((resolve, reject) => {
          const req: ReaderRequest = { id: this.nextId++, op: 'next', cursor, max, formats };
          const p: Pending = { req, original: req, resolve, reject, signal, startedAt: Date.now() };
          onAbort = () => this.abort(p);
          signal?.addEventListener('abort', onAbort, { once: true });
          slot.inFlight.push(p);
          slot.worker.postMessage(req);
        }).finally(() => signal?.removeEventListener('abort', onAbort)) as Promise<StreamedBatch>;
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (slot.dead || slot.cursor !== cursor) return;
        // The worker reads messages in order: whatever is sent after the close finds the cursor gone.
        slot.worker.postMessage({ id: this.nextId++, op: 'close', cursor } satisfies ReaderRequest);
        slot.cursor = null;
        this.dispatch();
      },
    };
  }

  /** The worker to give the next request to, or null when none may take one now. */
  private pick(now: number): Slot | null {
    let best: Slot | null = null;
    let holding = 0;
    for (const s of this.slots) {
      if (s.cursor !== null) {
        holding++;
        continue;
      }
      if (s.inFlight.length >= MAX_IN_FLIGHT) continue;
      if (s.inFlight.length && now - s.inFlight[0].startedAt > STALL_MS) continue;
      // A started worker is better than one still starting, whatever their queues.
      if (
        !best ||
        (s.started && !best.started) ||
        (s.started === best.started && s.inFlight.length < best.inFlight.length)
      )
        best = s;
    }
    if (!best && this.slots.length - holding < this.maxWorkers) return this.spawn();
    return best;
  }

  private dispatch(): void {
    const now = Date.now();
    while (this.queue.length) {
      const slot = this.pick(now);
      if (!slot) {
        // Re-check soon: a stalled worker may free up, or the stall threshold may pass for all of them.
        setTimeout(() => this.dispatch(), STALL_MS).unref();
        return;
      }
      const p = this.queue.shift()!;
      if (p.req.op === 'run') {
        const s = p.req.session;
        if (slot.settingsSeen.get(s.pid) === s.settingsVersion)
          p.req = { ...p.req, session: { ...s, settings: null } };
        else slot.settingsSeen.set(s.pid, s.settingsVersion);
        if (p.req.stream) p.req = { ...p.req, hold: true };
      }
      if (!slot.inFlight.length) p.startedAt = now;
      slot.inFlight.push(p);
      slot.worker.postMessage(p.req);
    }
  }

  /** Workers, the statements they are running, and the statements waiting for one (for metrics). */
  stats(): { workers: number; running: number; queued: number; cursors: number } {
    return {
      cursors: this.slots.filter((s) => s.cursor !== null).length,
      workers: this.slots.length,
      running: this.slots.reduce((n, s) => n + s.inFlight.length, 0),
      queued: this.queue.length,
    };
  }
}

/** A cursor over the rest of a result already taken whole: one batch, the last. */
function materialized(rest: StreamedBatch): ReaderCursor {
  let taken = false;
  return {
    next: async () => {
      if (taken) throw cursorGone();
      taken = true;
      return rest;
    },
    close: () => {},
  };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new SqlError('57014', 'canceling statement due to user request');
}
