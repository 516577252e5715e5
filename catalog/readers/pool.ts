// A pool of reader worker threads.
//
// Throughput: each worker takes several requests at once (they queue in its message port), so the latency of
// passing messages between threads overlaps instead of adding up.
// Isolation: a worker whose current request has run longer than STALL_MS gets no more work until it finishes,
// and the requests already queued behind it are taken back and given to another worker (the stalled one is
// told, through shared memory, to skip them), so a slow query delays another connection's statement by about
// STALL_MS at most.
// Fairness between users (docs/robustness.md, "Fair readers"): requests wait in one queue per user, served
// round-robin, so a user's backlog is behind that user alone. A user whose requests are on workers gets a
// further worker only while KEPT_FREE stay free; a user with nothing running may take any free one. So a
// heavy user (or several) fills all workers but one, a newcomer takes that one at once, and each worker that
// frees up goes to the next user in the round, which shares the busy workers evenly between the heavy users.
// As PostgreSQL's superuser_reserved_connections, with "has nothing running" in place of "is superuser".
// Cancellation: cancelling a running request terminates its worker (the only way to stop an SQLite statement
// from another thread); requests queued behind it on that worker are re-sent to others.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlError } from '../../pg/errors';
import { newClaims, resetClaim, withdraw } from './claims';
import { FairQueue } from './fair-queue';
import type { Described, ReaderOptions, RunResult, SessionSnapshot } from './reader-engine';
import type { ReaderRequest, ReaderResponse, WorkerData } from './worker';

const MAX_IN_FLIGHT = 8;
const STALL_MS = 10;
/** Workers kept free for users who have nothing running, however many requests the others have waiting. */
const KEPT_FREE = 1;

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
  /** Its sequence number on the worker it was posted to. */
  seq: number;
  /** Rows of a large result received so far (they come in parts ahead of the result). */
  rowsSoFar?: unknown[][];
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** Set when it has built its catalog emulation: requests go only to started workers. */
  started: boolean;
  /** Requests sent to this worker, in the order it answers them. */
  inFlight: Pending[];
  /** Session settings versions this worker already has, by backend pid. */
  settingsSeen: Map<number, number>;
  dead: boolean;
  /** Which posted requests the worker has started or must skip (shared with its thread; see claims.ts). */
  claims: Int32Array;
  /** Sequence number of the last request posted to this worker. */
  posted: number;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class ReaderPool {
  private readonly slots: Slot[] = [];
  private readonly queue = new FairQueue<Pending>();
  private nextId = 1;
  private closed = false;
  private checkTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly opts: ReaderOptions,
    private readonly minWorkers = 2,
    private readonly maxWorkers = 6,
  ) {
    for (let i = 0; i < minWorkers; i++) this.spawn();
  }

  /** Resolves when the initial workers have built their catalog emulation. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  describe(sql: string, types: number[], user: string): Promise<Described> {
    return this.request(user, { op: 'describe', sql, types }) as Promise<Described>;
  }

  run(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    signal?: AbortSignal,
    autoParams = false,
  ): Promise<RunResult> {
    return this.request(
      session.user,
      { op: 'run', sql, types, params, session, autoParams },
      signal,
    ) as Promise<RunResult>;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    for (const p of this.queue.drain())
      p.reject(new SqlError('57P01', 'terminating connection due to shutdown'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const claims = newClaims();
    const workerData: WorkerData = { ...this.opts, claims };
    const worker = new Worker(join(__dirname, 'worker.js'), { workerData });
    const slot: Slot = {
      worker,
      inFlight: [],
      settingsSeen: new Map(),
      dead: false,
      claims,
      posted: 0,
      started: false,
      ready: new Promise((resolve, reject) => {
        const onFirst = (m: ReaderResponse) => {
          if (m.id === 0) {
            worker.off('message', onFirst);
            resolve();
          }
        };
        worker.on('message', onFirst);
        worker.once('error', reject);
      }),
    };
    worker.on('message', (m: ReaderResponse) => {
      if (m.id === 0) {
        slot.started = true;
        this.dispatch();
        return;
      }
      const i = slot.inFlight.findIndex((p) => p.req.id === m.id);
      if (i < 0) return; // cancelled or withdrawn meanwhile
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
      if (m.ok) p.resolve(m.result);
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
    // Requests that were only waiting behind the head are sent again elsewhere, settings included.
    for (const p of rest.reverse()) {
      p.req = p.original;
      this.queue.unshift(p.user, p);
    }
    if (!this.closed && this.slots.length < this.minWorkers) this.spawn();
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
    if (!slot) return;
    if (slot.inFlight[0] === p) {
      p.reject(abortError(p.signal!));
      this.retire(slot, abortError(p.signal!), true);
      void slot.worker.terminate();
    } else {
      // Not started yet: the worker skips it (or, if it began it just now, its answer is ignored).
      withdraw(slot.claims, p.seq);
      slot.inFlight.splice(slot.inFlight.indexOf(p), 1);
      p.reject(abortError(p.signal!));
    }
  }

  /**
   * The worker to give user's next request to, or null when none may take one now. A user may put a request
   * on a worker that already carries one of its requests (behind a head that has not stalled), or take a
   * further worker while KEPT_FREE others stay free; a user with nothing on any worker may take any.
   */
  private pick(user: string, now: number): Slot | null {
    const carries = (s: Slot) => s.inFlight.some((p) => p.user === user);
    const newcomer = !this.slots.some(carries);
    const free = this.slots.filter((s) => !s.inFlight.length).length + this.maxWorkers - this.slots.length;
    const mayOccupy = (takesAFreeOne: boolean) => newcomer || free - (takesAFreeOne ? 1 : 0) >= KEPT_FREE;
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (!s.started || s.inFlight.length >= MAX_IN_FLIGHT) continue;
      if (s.inFlight.length && now - s.inFlight[0].startedAt > STALL_MS) continue;
      if (!carries(s) && !mayOccupy(!s.inFlight.length)) continue;
      if (!best || s.inFlight.length < best.inFlight.length) best = s;
    }
    // Otherwise a worker that is starting, or one started now, takes it when ready (dispatch runs then).
    if (
      !best &&
      !this.slots.some((s) => !s.started) &&
      this.slots.length < this.maxWorkers &&
      mayOccupy(true)
    )
      this.spawn();
    return best;
  }

  /**
   * Takes back the requests waiting behind a stalled worker's running one; the worker will skip them. One it
   * has already begun (its previous one just ended, the answer is on its way) stays.
   */
  private withdrawStalled(now: number): void {
    for (const s of this.slots) {
      if (s.inFlight.length < 2 || now - s.inFlight[0].startedAt <= STALL_MS) continue;
      const back = s.inFlight.slice(1).filter((p) => withdraw(s.claims, p.seq));
      if (!back.length) continue;
      s.inFlight = s.inFlight.filter((p) => !back.includes(p));
      for (const p of back.reverse()) {
        p.req = p.original;
        this.queue.unshift(p.user, p);
      }
    }
  }

  private dispatch(): void {
    const now = Date.now();
    this.withdrawStalled(now);
    for (;;) {
      const next = this.queue.take((user) => this.pick(user, now));
      if (!next) break;
      const { item: p, place: slot } = next;
      if (p.req.op === 'run') {
        const s = p.req.session;
        if (slot.settingsSeen.get(s.pid) === s.settingsVersion)
          p.req = { ...p.req, session: { ...s, settings: null } };
        else slot.settingsSeen.set(s.pid, s.settingsVersion);
      }
      if (!slot.inFlight.length) p.startedAt = now;
      slot.inFlight.push(p);
      p.seq = ++slot.posted;
      resetClaim(slot.claims, p.seq);
      slot.worker.postMessage({ req: p.req, seq: p.seq });
    }
    // A spare worker starts ahead (building its catalog emulation takes a while), so the one kept free is ready.
    if (!this.closed && this.slots.length < this.maxWorkers && this.slots.every((s) => s.inFlight.length))
      this.spawn();
    // Re-check soon: a worker may stall with requests behind it, or free up for what waits.
    if (!this.checkTimer && (this.queue.size || this.slots.some((s) => s.inFlight.length > 1))) {
      this.checkTimer = setTimeout(() => {
        this.checkTimer = null;
        this.dispatch();
      }, STALL_MS);
      this.checkTimer.unref();
    }
  }

  /** Started workers, the statements they are running, and the statements waiting for one (for metrics). */
  stats(): { workers: number; running: number; queued: number } {
    return {
      workers: this.slots.filter((s) => s.started).length,
      running: this.slots.reduce((n, s) => n + s.inFlight.length, 0),
      queued: this.queue.size,
    };
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new SqlError('57014', 'canceling statement due to user request');
}
