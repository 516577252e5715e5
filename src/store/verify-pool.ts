// Verifies segment files on worker threads, one per core: hashing (xxHash3) is CPU work, and on the main
// thread it would cap every check at one core and compete with the wire. Jobs travel in batches so that small
// segments do not pay a thread hop each.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Segment } from '../../catalog/storage';
import type { FindingKind, SegmentMeta } from './segment-file';

export interface VerifyJob {
  path: string;
  expected: Partial<SegmentMeta> & { payloadLength?: number };
  sampleRate: number;
}

/** The job that verifies a catalogued segment against what its row and its group's row say it holds. */
export function verifyJobFor(
  seg: Pick<Segment, 'path' | 'storage_id' | 'segment_group_id' | 'position'> & { shard_bytes: number },
  sampleRate: number,
): VerifyJob {
  return {
    path: seg.path,
    expected: {
      storageId: seg.storage_id,
      groupId: seg.segment_group_id,
      position: seg.position,
      payloadLength: seg.shard_bytes,
    },
    sampleRate,
  };
}

export type VerifyOutcome =
  | { ok: true; checksum: string; bytesRead: number }
  | { ok: false; kind: FindingKind; message: string; block?: number };

interface Slot {
  worker: Worker;
  pending: Map<number, (r: VerifyOutcome[] | Error) => void>;
}

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private next = 0;
  private nextId = 1;

  constructor(size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(join(__dirname, 'verify-worker.js'));
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: { id: number; results: VerifyOutcome[] }) => {
      const done = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      done?.(m.results);
    });
    // A crashed verifier fails the batches it held (their subtasks fail with the reason) and is replaced.
    const fail = (why: string) => {
      for (const [, done] of slot.pending) done(new Error(`segment verifier thread failed: ${why}`));
      slot.pending.clear();
      const i = this.slots.indexOf(slot);
      if (i >= 0) {
        this.slots.splice(i, 1);
        this.spawn();
      }
    };
    worker.on('error', (e) => fail(e.message));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** Verifies a batch; results are in job order. The least busy worker takes it. */
  verify(jobs: VerifyJob[]): Promise<VerifyOutcome[]> {
    if (!jobs.length) return Promise.resolve([]);
    const slot = this.slots.reduce(
      (a, b) => (b.pending.size < a.pending.size ? b : a),
      this.slots[this.next++ % this.slots.length],
    );
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, (results) => (results instanceof Error ? reject(results) : resolve(results)));
      slot.worker.postMessage({ id, jobs });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
