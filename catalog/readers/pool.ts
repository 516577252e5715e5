// A pool of reader worker threads.
//
// Throughput: each worker takes several requests at once (they queue in its message port), so the latency of
// passing messages between threads overlaps instead of adding up.
// Isolation: a worker whose current request has run longer than STALL_MS gets no more work until it finishes,
// and the requests already queued behind it are taken back and given to another worker (the stalled one is
// told, through shared memory, to skip them: claims.ts), so a slow query delays another connection's
// statement by about STALL_MS at most. Requests go only to started workers; a spare one is started ahead
// whenever every started worker is busy, since starting one (its catalog emulation) takes a second on a
// loaded machine.
// Fairness between users (docs/robustness.md, "Fair readers"): requests wait in one queue per user, served
// round-robin, so a user's backlog is behind that user alone. A user who occupies workers (requests on them,
// or cursors held open on them) gets a further worker only while KEPT_FREE stay free; a user who occupies
// none may take any free one. So a heavy user (or several) fills all workers but one, a newcomer takes that
// one at once, and each worker that frees up goes to the next user in the round, which shares the busy
// workers evenly between the heavy users. As PostgreSQL's superuser_reserved_connections, with "occupies
// nothing" in place of "is superuser".
// Cancellation: cancelling a running request interrupts it (interrupt.ts: pg_sleep gives up at once) and
// requests queued behind it are re-sent to other workers; a worker that has not answered within
// STOP_GRACE_MS (a statement busy inside SQLite) is terminated, the only way to stop SQLite from another
// thread.
// Streaming: a query whose caller reads its rows as a stream returns its first batch; when rows remain, its
// worker keeps the statement open as a cursor and serves nothing else until the cursor is closed or read to
// its end (an SQLite connection inside an open statement stays on that statement's snapshot). Held workers
// do not count against maxWorkers, so the others keep their full pool; at most maxHeld workers are held at
// once, and a streamed query that finds them all held is materialized instead, within
// segtasks.result_memory_limit, as a scrollable cursor is: it never waits for a cursor to close. A held
// worker counts as its user's occupancy (above); its cursor's batches go to it directly, never queued.

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Cancellation, signalOf } from '../../pg/cancel';
import { SqlError } from '../../pg/errors';
import { newClaims, resetClaim, withdraw } from './claims';
import { FairQueue } from './fair-queue';
import { interrupt, newInterrupt } from './interrupt';
import { InlineLane } from './lane';
import type {
  Described,
  ReaderOptions,
  RunResult,
  SessionSnapshot,
  StreamedBatch,
  StreamedRun,
} from './reader-engine';
import {
  cursorGone,
  materialized,
  type OpenedRun,
  type ReaderCursor,
  type ReaderStats,
  type Readers,
} from './readers';
import type { Posted, ReaderRequest, ReaderResponse, WorkerData } from './worker';

const MAX_IN_FLIGHT = 8;
const STALL_MS = 10;
/** Workers kept free for users who occupy none, however many requests the others have waiting. */
const KEPT_FREE = 1;
/** How long an interrupted request may take to end before its worker is terminated. */
const STOP_GRACE_MS = 1000;
/**
 * Inline statements (see runInline): the longest statement text the inline lane plans, the most
 * parameter bytes it binds, and the time after which its functions may no longer be called (it then goes to a
 * reader).
 */
const INLINE_MAX_SQL = 4096;
const INLINE_MAX_PARAM_BYTES = 65536;
const INLINE_BUDGET_MS = 2;

interface Pending {
  /** Whose request it is: the unit of fair sharing. */
  user: string;
  req: ReaderRequest;
  /** The request as made, with the session's settings, for re-sending to another worker. */
  original: ReaderRequest;
  resolve(v: unknown): void;
  reject(e: Error): void;
  signal?: AbortSignal;
  /** When the worker started on it (approximately: when it reached the head of the worker's queue). */
  startedAt: number;
  /** Its sequence number on the worker it was posted to (its claim cell). */
  seq: number;
  /** Cancelled while its worker ran it: answered already, its worker's answer is dropped. */
  cancelled?: boolean;
  /** Rows of a large result received so far (they come in parts ahead of the result). */
  rowsSoFar?: unknown[][];
}

export type { OpenedRun, ReaderCursor } from './readers';

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
  /** Whose cursor it holds: a held worker counts as that user's occupancy. */
  cursorUser: string | null;
  /** Which posted requests the worker has started or must skip (shared with its thread; see claims.ts). */
  claims: Int32Array;
  /** Sequence number of the last message posted to this worker. */
  posted: number;
  /** Where the pool names the request the worker should stop (shared with its thread; see interrupt.ts). */
  interrupt: Int32Array;
  /** Set while its running request is interrupted: terminates the worker if it does not answer in time. */
  stopping: NodeJS.Timeout | null;
  /** Messages posted in this turn of the event loop, sent together (see post()). */
  outbox: Posted[];
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class ReaderPool implements Readers {
  private readonly slots: Slot[] = [];
  private readonly queue = new FairQueue<Pending>();
  private nextId = 1;
  private closed = false;
  private checkTimer: NodeJS.Timeout | null = null;
  /** A send() is scheduled. */
  private sending = false;
  /** Workers started, ever. */
  private spawned = 0;
  /** The inline lane, for statements proven bounded (runInline); null when disabled. */
  private readonly inline: InlineLane | null;
  private inlined = 0;

  constructor(
    private readonly opts: ReaderOptions,
    private readonly minWorkers = 2,
    private readonly maxWorkers = 6,
    /** Workers that open cursors may hold at once (beyond maxWorkers). */
    private readonly maxHeld = 4,
    inline = true,
  ) {
    for (let i = 0; i < minWorkers; i++) this.spawn();
    this.inline = inline ? new InlineLane(opts, INLINE_BUDGET_MS) : null;
  }

  /** Resolves when the initial workers have built their catalog emulation. */
  async ready(): Promise<void> {
    await Promise.all([...this.slots.map((s) => s.ready), this.inline?.started]);
  }

  /** user: whose request it is (fair sharing; see above). */
  describe(sql: string, types: number[], user = ''): Promise<Described> {
    return this.request(user, { op: 'describe', sql, types }) as Promise<Described>;
  }

  async run(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    cancel?: Cancellation,
    autoParams = false,
  ): Promise<RunResult> {
    const inline = await this.runInline(sql, types, params, session, cancel, autoParams, null);
    if (inline) return inline as RunResult;
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
    return (await this.request(session.user, body, signalOf(cancel))) as RunResult;
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
    cancel: Cancellation | undefined,
    autoParams: boolean,
    /** The result formats, when the rows are to come encoded as DataRow messages. */
    formats: number[] | null,
  ): Promise<OpenedRun> {
    const inline = await this.runInline(sql, types, params, session, cancel, autoParams, { formats });
    if (inline) {
      // A fresh object of the engine's, completed in place rather than copied.
      const opened = inline as OpenedRun;
      opened.cursor = null;
      return opened;
    }
    const body = { op: 'run' as const, sql, types, params, session, autoParams, stream: true, formats };
    return (await this.request(session.user, body, signalOf(cancel))) as OpenedRun;
  }

  /**
   * Point lookups and other statements whose cost their plan bounds (bounded-plan.ts) run on the inline lane
   * (lane.ts), once a reader has planned them and found them bounded: they take microseconds, and the two
   * thread hops a reader costs (a message each way, and the wait for each thread to be scheduled on a busy
   * machine) were most of their latency; the lane costs a copy into shared memory each way. The guard
   * (inline-guard.ts) refuses what the plan does not bound: a statement refused for what it calls goes to the
   * readers for good, one refused for time only this once. Resolves to null when the statement is to go to a
   * reader; rejects with the statement's own error (a bad value, say), as a reader would give it.
   */
  private async runInline(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    cancel: Cancellation | undefined,
    autoParams: boolean,
    stream: { formats: number[] | null } | null,
  ): Promise<StreamedRun | RunResult | null> {
    // Only whether it is cancelled already: a statement run inline runs to its end in one go (its guard
    // bounds it), so nothing needs to listen for an abort, and no AbortSignal is made.
    if (!this.inline || this.closed || cancel?.aborted || session.activity) return null;
    if (sql.length > INLINE_MAX_SQL || paramBytes(params) > INLINE_MAX_PARAM_BYTES) return null;
    const running = this.inline.run(sql, types, params, session, autoParams, stream);
    if (!running) return null;
    try {
      const r = await running;
      if (r) this.inlined++;
      return r;
    } catch (err) {
      this.inlined++; // it ran inline, and failed as it would have on a reader
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    for (const p of this.queue.drain())
      p.reject(new SqlError('57P01', 'terminating connection due to shutdown'));
    const slots = this.slots.splice(0);
    for (const s of slots) if (s.stopping) clearTimeout(s.stopping);
    await Promise.all([...slots.map((s) => s.worker.terminate()), this.inline?.close()]);
  }

  private spawn(): Slot {
    this.spawned++;
    const claims = newClaims();
    const cell = newInterrupt();
    const workerData: WorkerData = { ...this.opts, claims, interrupt: cell };
    const worker = new Worker(join(__dirname, 'worker.js'), { workerData });
    const slot: Slot = {
      worker,
      inFlight: [],
      settingsSeen: new Map(),
      dead: false,
      started: false,
      cursor: null,
      cursorUser: null,
      claims,
      posted: 0,
      interrupt: cell,
      stopping: null,
      outbox: [],
      ready: new Promise((resolve, reject) => {
        const onFirst = ([m]: ReaderResponse[]) => {
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
    worker.on('message', (answers: ReaderResponse[]) => {
      for (const m of answers) this.answered(slot, m);
      this.dispatch();
    });
    worker.on('error', (err) =>
      this.retire(slot, new SqlError('XX000', `catalog reader failed: ${err.message}`)),
    );
    worker.on('exit', () => this.retire(slot, new SqlError('XX000', 'catalog reader exited')));
    this.slots.push(slot);
    return slot;
  }

  /**
   * Posts a message to a worker under a fresh claim cell; returns its sequence number. Messages go out at the
   * end of the event loop's turn, all of a worker's in one (what every connection that had input in this
   * turn asked), so that passing them between threads costs one message, not one each.
   */
  private post(slot: Slot, req: ReaderRequest): number {
    const seq = ++slot.posted;
    resetClaim(slot.claims, seq);
    slot.outbox.push({ req, seq });
    if (!this.sending) {
      this.sending = true;
      setImmediate(() => this.send());
    }
    return seq;
  }

  private send(): void {
    this.sending = false;
    for (const s of this.slots) {
      if (!s.outbox.length) continue;
      s.worker.postMessage(s.outbox);
      s.outbox = [];
    }
  }

  /** One answer of a worker (the caller dispatches after all of a message's answers). */
  private answered(slot: Slot, m: ReaderResponse): void {
    if (m.id === 0) return;
    const i = slot.inFlight.findIndex((p) => p.req.id === m.id);
    if (i < 0) {
      // Cancelled before it started; a streamed query it opened anyway is closed at once.
      if (m.ok && 'result' in m && (m.result as Partial<StreamedRun>).done === false)
        this.post(slot, { id: this.nextId++, op: 'close', cursor: m.id });
      return;
    }
    if (!m.ok && 'bounced' in m) {
      const [p] = slot.inFlight.splice(i, 1);
      p.req = p.original;
      this.queue.unshift(p.user, p);
      return;
    }
    if (m.ok && 'rowsPart' in m) {
      const head = slot.inFlight[i];
      if (head.cancelled) return;
      head.rowsSoFar ??= [];
      for (const row of m.rowsPart) head.rowsSoFar.push(row);
      return;
    }
    const [p] = slot.inFlight.splice(i, 1);
    if (slot.inFlight[0]) slot.inFlight[0].startedAt = Date.now();
    if (p.req.op === 'next' && (!m.ok || (m.result as StreamedBatch).done)) {
      // The worker closes its cursor after the last batch or an error.
      if (slot.cursor === p.req.cursor) this.release(slot);
    }
    if (p.cancelled) {
      // The interrupted request ended: the worker serves again. A cursor it left open is closed (a cancel
      // frees the reader, as terminating it did).
      if (slot.stopping) clearTimeout(slot.stopping);
      slot.stopping = null;
      const opened = p.req.op === 'run' && m.ok && (m.result as Partial<StreamedRun>).done === false;
      const cursor = opened ? p.req.id : p.req.op === 'next' ? p.req.cursor : null;
      if (cursor !== null && (opened || slot.cursor === cursor)) {
        this.post(slot, { id: this.nextId++, op: 'close', cursor });
        if (slot.cursor === cursor) this.release(slot);
      }
    } else if (m.ok && p.req.op === 'run' && p.req.stream) {
      this.learn(p.req, m.result as StreamedRun);
      this.opened(slot, p, m.result as StreamedRun);
    } else if (m.ok) {
      if (p.req.op === 'run') this.learn(p.req, m.result as RunResult);
      if (p.rowsSoFar) {
        const result = m.result as RunResult;
        for (const row of result.rows) p.rowsSoFar.push(row);
        result.rows = p.rowsSoFar;
      }
      p.resolve(m.result);
    } else p.reject(new SqlError(m.error.code, m.error.message, m.error));
  }

  /** A reader found the statement's plan bounded: the wire thread plans it too, to run it itself next time. */
  private learn(req: ReaderRequest & { op: 'run' }, result: { bounded?: boolean }): void {
    if (result.bounded && this.inline && req.sql.length <= INLINE_MAX_SQL)
      this.inline.learn(req.sql, req.types, req.autoParams);
  }

  /** A streamed query's first batch: its worker holds the rest as a cursor, or hands it all over now. */
  private opened(slot: Slot, p: Pending, run: StreamedRun): void {
    if (run.done) {
      p.resolve({ ...run, cursor: null });
      return;
    }
    // Counted before this one: the held workers, whose cursors are open.
    const held = this.slots.filter((s) => s.cursor !== null).length;
    slot.cursor = p.req.id;
    slot.cursorUser = p.user;
    const cursor = this.cursorOn(slot, p.req.id);
    // Requests posted to it before it held the cursor are re-sent elsewhere now rather than bounced.
    this.withdrawQueued(slot, 0);
    if (held < this.maxHeld) p.resolve({ ...run, cursor });
    else {
      // Every worker that may hold a cursor is held: the rest is materialized now, within the result
      // memory limit, and this worker freed; the query never waits for another cursor to close.
      const { resolve, reject } = p;
      cursor.next(0, p.signal).then((rest) => resolve({ ...run, cursor: materialized(rest) }), reject);
    }
  }

  /**
   * The worker no longer holds a cursor: it serves the queue again, or ends when the pool has its maxWorkers
   * without it (it was beyond the pool while held).
   */
  private release(slot: Slot): void {
    slot.cursor = null;
    slot.cursorUser = null;
    const inPool = this.slots.filter((s) => s.cursor === null).length;
    if (inPool > this.maxWorkers && !slot.inFlight.length) {
      this.retire(slot, cursorGone());
      void slot.worker.terminate();
    }
  }

  /** Takes a worker out of service; its queued requests go back to the pool, the running one fails. */
  private retire(slot: Slot, reason: Error, keepHead = false): void {
    if (slot.dead) return;
    slot.dead = true;
    if (slot.stopping) clearTimeout(slot.stopping);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    const [head, ...rest] = slot.inFlight.splice(0);
    if (head && !keepHead && !head.cancelled) head.reject(reason);
    // Requests that were only waiting behind the head are sent again elsewhere, settings included; the
    // batches of this worker's cursor are gone with it.
    const gone = cursorGone();
    for (const p of rest.reverse()) {
      if (p.req.op === 'next') {
        p.reject(gone);
        continue;
      }
      p.req = p.original;
      this.queue.unshift(p.user, p);
    }
    this.dispatch();
  }

  private request(
    user: string,
    body: DistributiveOmit<ReaderRequest, 'id'>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new SqlError('57P01', 'server is shutting down'));
    return new Promise((resolve, reject) => {
      const req = { ...body, id: this.nextId++ } as ReaderRequest;
      const p: Pending = { user, req, original: req, resolve, reject, signal, startedAt: 0, seq: 0 };
      if (signal) {
        if (signal.aborted) return reject(abortError(signal));
        signal.addEventListener('abort', () => this.abort(p), { once: true });
      }
      this.queue.push(user, p);
      this.dispatch();
    });
  }

  private abort(p: Pending): void {
    if (this.queue.remove(p.user, p)) {
      p.reject(abortError(p.signal!));
      return;
    }
    const slot = this.slots.find((s) => s.inFlight.includes(p));
    if (!slot || p.cancelled) return;
    p.reject(abortError(p.signal!));
    if (slot.inFlight[0] !== p) {
      // Not started yet: the worker skips it (or, if it began it just now, its answer is ignored).
      withdraw(slot.claims, p.seq);
      slot.inFlight.splice(slot.inFlight.indexOf(p), 1);
      return;
    }
    // Running: interrupted, and what waits behind it goes elsewhere; the worker takes nothing new until it
    // answers, and is ended if it does not answer soon.
    p.cancelled = true;
    this.withdrawQueued(slot);
    interrupt(slot.interrupt, p.req.id);
    slot.stopping = setTimeout(() => {
      slot.stopping = null;
      if (slot.inFlight[0] !== p) return;
      this.retire(slot, abortError(p.signal!), true);
      void slot.worker.terminate();
    }, STOP_GRACE_MS);
    slot.stopping.unref();
    this.dispatch();
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
          const user = slot.cursorUser ?? '';
          const p: Pending = {
            user,
            req,
            original: req,
            resolve,
            reject,
            signal,
            startedAt: Date.now(),
            seq: 0,
          };
          onAbort = () => this.abort(p);
          signal?.addEventListener('abort', onAbort, { once: true });
          slot.inFlight.push(p);
          p.seq = this.post(slot, req);
        }).finally(() => signal?.removeEventListener('abort', onAbort)) as Promise<StreamedBatch>;
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (slot.dead || slot.cursor !== cursor) return;
        // The worker reads messages in order: whatever is sent after the close finds the cursor gone. A wait
        // while it reads the cursor's rows ahead (pg_sleep) is interrupted: nobody wants those rows now.
        const id = this.nextId++;
        this.post(slot, { id, op: 'close', cursor });
        interrupt(slot.interrupt, id);
        this.release(slot);
        this.dispatch();
      },
    };
  }

  /** Pool workers (not held by a cursor) that may take a request: started, and not being stopped. */
  private serving(s: Slot): boolean {
    return s.started && s.cursor === null && s.stopping === null;
  }

  /**
   * The worker to give user's next request to, or null when none may take one now. A user may put a request
   * on a worker that already carries one of its requests (behind a head that has not stalled), or take a
   * further worker while KEPT_FREE others stay free; a user who occupies no worker may take any.
   */
  private pick(user: string, now: number): Slot | null {
    const occupies = (s: Slot) => s.cursorUser === user || s.inFlight.some((p) => p.user === user);
    const newcomer = !this.slots.some(occupies);
    const free = this.freeWorkers();
    const mayOccupy = (takesAFreeOne: boolean) => newcomer || free - (takesAFreeOne ? 1 : 0) >= KEPT_FREE;
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (!this.serving(s) || s.inFlight.length >= MAX_IN_FLIGHT) continue;
      if (s.inFlight.length && now - s.inFlight[0].startedAt > STALL_MS) continue;
      if (!occupies(s) && !mayOccupy(!s.inFlight.length)) continue;
      if (!best || s.inFlight.length < best.inFlight.length) best = s;
    }
    return best;
  }

  /**
   * Pool workers free for another user: started ones with nothing to do, and those the pool may still start
   * (spare() starts one as soon as no started worker can take a request).
   */
  private freeWorkers(): number {
    let inPool = 0;
    let idle = 0;
    for (const s of this.slots) {
      if (s.cursor !== null) continue;
      inPool++;
      if (this.serving(s) && !s.inFlight.length) idle++;
    }
    return idle + Math.max(0, this.maxWorkers - inPool);
  }

  /**
   * Takes back the requests waiting behind a worker's running one (it stalled or is being stopped), or from
   * 0 all of them (it now holds a cursor); the worker will skip them. One it has already begun (its previous
   * one just ended, the answer is on its way) stays.
   */
  private withdrawQueued(slot: Slot, from = 1): void {
    if (slot.inFlight.length <= from) return;
    const back = slot.inFlight.slice(from).filter((p) => p.req.op !== 'next' && withdraw(slot.claims, p.seq));
    if (!back.length) return;
    slot.inFlight = slot.inFlight.filter((p) => !back.includes(p));
    for (const p of back.reverse()) {
      p.req = p.original;
      this.queue.unshift(p.user, p);
    }
  }

  /**
   * Keeps minWorkers, and a spare: a worker starts (one at a time, up to maxWorkers) as soon as no started
   * pool worker can take a request (each is stalled, full or being stopped), so that one is ready before a
   * newcomer needs it rather than a second after.
   */
  private spare(now: number): void {
    let inPool = 0;
    let canTake = false;
    for (const s of this.slots) {
      if (s.cursor !== null) continue;
      inPool++;
      if (!s.started) return; // one is starting
      if (
        s.stopping === null &&
        (!s.inFlight.length ||
          (s.inFlight.length < MAX_IN_FLIGHT && now - s.inFlight[0].startedAt <= STALL_MS))
      )
        canTake = true;
    }
    if (inPool < this.minWorkers || (inPool < this.maxWorkers && !canTake)) this.spawn();
  }

  private dispatch(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const s of this.slots)
      if (s.cursor === null && s.inFlight.length > 1 && now - s.inFlight[0].startedAt > STALL_MS)
        this.withdrawQueued(s);
    for (;;) {
      const next = this.queue.take((user) => this.pick(user, now));
      if (!next) break;
      const { item: p, place: slot } = next;
      if (p.req.op === 'run') {
        const s = p.req.session;
        if (slot.settingsSeen.get(s.pid) === s.settingsVersion)
          p.req = { ...p.req, session: { ...s, settings: null } };
        else slot.settingsSeen.set(s.pid, s.settingsVersion);
        if (p.req.stream) p.req = { ...p.req, hold: true };
      }
      if (!slot.inFlight.length) p.startedAt = now;
      slot.inFlight.push(p);
      p.seq = this.post(slot, p.req);
    }
    this.spare(now);
    // Re-check soon: a worker may stall (with requests behind it, or leaving no spare), or free up for what
    // waits.
    if (!this.checkTimer && (this.queue.size || this.slots.some((s) => s.inFlight.length))) {
      this.checkTimer = setTimeout(() => {
        this.checkTimer = null;
        this.dispatch();
      }, STALL_MS);
      this.checkTimer.unref();
    }
  }

  /**
   * Started workers, the statements they are running, the statements waiting for one, workers held by
   * cursors, and workers started since the pool began (a cancel that ends one shows there) (for metrics).
   */
  stats(): ReaderStats {
    return {
      spawned: this.spawned,
      cursors: this.slots.filter((s) => s.cursor !== null).length,
      inlined: this.inlined,
      workers: this.slots.filter((s) => s.started).length,
      running: this.slots.reduce((n, s) => n + s.inFlight.length, 0),
      queued: this.queue.size,
    };
  }
}

/** The bytes of a statement's parameter values (strings and byte arrays; anything else counts little). */
function paramBytes(params: unknown[]): number {
  let n = 0;
  for (const p of params) n += typeof p === 'string' || p instanceof Uint8Array ? p.length : 8;
  return n;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new SqlError('57014', 'canceling statement due to user request');
}
