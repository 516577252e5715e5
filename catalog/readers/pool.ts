// A pool of reader worker threads. Each request goes to an idle worker; when all are busy a new one is started
// (up to a maximum), so one slow query never delays another connection's SELECT 1. Cancelling a request
// terminates its worker, which is the only way to stop a running SQLite statement from outside.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlError } from '../../wire/handler';
import type { Described, ReaderOptions, RunResult, SessionInfo } from './reader-engine';
import type { ReaderRequest, ReaderResponse } from './worker';

interface Pending {
  req: ReaderRequest;
  resolve(v: unknown): void;
  reject(e: Error): void;
  signal?: AbortSignal;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: Pending | null;
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
    session: SessionInfo,
    signal?: AbortSignal,
  ): Promise<RunResult> {
    return this.request({ op: 'run', sql, types, params, session }, signal) as Promise<RunResult>;
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
      busy: null,
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
      const p = slot.busy;
      slot.busy = null;
      if (p && p.req.id === m.id) {
        if (m.ok) p.resolve(m.result);
        else p.reject(new SqlError(m.error.code, m.error.message, m.error));
      }
      this.dispatch();
    });
    worker.on('error', (err) => {
      slot.busy?.reject(new SqlError('XX000', `catalog reader failed: ${err.message}`));
      slot.busy = null;
      this.remove(slot);
    });
    worker.on('exit', () => this.remove(slot));
    this.slots.push(slot);
    return slot;
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.busy) {
      slot.busy.reject(new SqlError('XX000', 'catalog reader exited'));
      slot.busy = null;
    }
    if (!this.closed && this.slots.length < this.minWorkers) this.spawn();
    this.dispatch();
  }

  private request(body: DistributiveOmit<ReaderRequest, 'id'>, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(new SqlError('57P01', 'server is shutting down'));
    return new Promise((resolve, reject) => {
      const p: Pending = { req: { ...body, id: this.nextId++ } as ReaderRequest, resolve, reject, signal };
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
    const slot = this.slots.find((s) => s.busy === p);
    if (slot) {
      // Take the slot out at once: no new request may reach a worker that is being terminated.
      slot.busy = null;
      this.slots.splice(this.slots.indexOf(slot), 1);
      p.reject(abortError(p.signal!));
      void slot.worker.terminate();
      if (this.slots.length < this.minWorkers) this.spawn();
      this.dispatch();
    }
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot) {
        if (this.slots.length >= this.maxWorkers) return;
        slot = this.spawn();
      }
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.postMessage(p.req);
    }
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new SqlError('57014', 'canceling statement due to user request');
}
