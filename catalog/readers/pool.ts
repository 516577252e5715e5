// A pool of reader worker threads.
//
// Throughput: each worker takes several requests at once (they queue in its message port), so the latency of
// passing messages between threads overlaps instead of adding up.
// Isolation: a worker whose current request has run longer than STALL_MS gets no more work until it finishes,
// and when every worker is stalled or full a new one is started (up to maxWorkers), so one slow query never
// delays another connection's SELECT 1 by more than a few milliseconds.
// Cancellation: cancelling a running request terminates its worker (the only way to stop an SQLite statement
// from another thread); requests queued behind it on that worker are re-sent to others.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlError } from '../../pg/errors';
import type { Described, ReaderOptions, RunResult, SessionSnapshot } from './reader-engine';
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

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** Requests sent to this worker, in the order it answers them. */
  inFlight: Pending[];
  /** Session settings versions this worker already has, by backend pid. */
  settingsSeen: Map<number, number>;
  dead: boolean;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class ReaderPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

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
    return this.request({ op: 'run', sql, types, params, session, autoParams }, signal) as Promise<RunResult>;
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
      if (m.id === 0) return;
      const i = slot.inFlight.findIndex((p) => p.req.id === m.id);
      if (i < 0) return; // cancelled meanwhile
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

  /** The worker to give the next request to, or null when none may take one now. */
  private pick(now: number): Slot | null {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (s.inFlight.length >= MAX_IN_FLIGHT) continue;
      if (s.inFlight.length && now - s.inFlight[0].startedAt > STALL_MS) continue;
      if (!best || s.inFlight.length < best.inFlight.length) best = s;
    }
    if (!best && this.slots.length < this.maxWorkers) return this.spawn();
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
      }
      if (!slot.inFlight.length) p.startedAt = now;
      slot.inFlight.push(p);
      slot.worker.postMessage(p.req);
    }
  }

  /** Workers, the statements they are running, and the statements waiting for one (for metrics). */
  stats(): { workers: number; running: number; queued: number } {
    return {
      workers: this.slots.length,
      running: this.slots.reduce((n, s) => n + s.inFlight.length, 0),
      queued: this.queue.length,
    };
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new SqlError('57014', 'canceling statement due to user request');
}
