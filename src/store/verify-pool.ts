// Verifies segment files on worker threads, one per core: hashing (xxHash3) is CPU work, and on the main
// thread it would cap every check at one core and compete with the wire. Jobs travel in batches so that small
// segments do not pay a thread hop each.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FindingKind, SegmentMeta } from './segment-file';

export interface VerifyJob {
  path: string;
  expected: Partial<SegmentMeta> & { payloadLength?: number };
  sampleRate: number;
}

/**
 * The job that verifies a catalogued segment against what its row says (storage id, group, position) and its
 * group's row (the payload's length, shard_bytes).
 */
export function verifyJobFor(
  path: string,
  storageId: string,
  groupId: number,
  position: number,
  shardBytes: number,
  sampleRate: number,
): VerifyJob {
  return { path, expected: { storageId, groupId, position, payloadLength: shardBytes }, sampleRate };
}

export type VerifyOutcome =
  | { ok: true; checksum: string; bytesRead: number }
  | { ok: false; kind: FindingKind; message: string; block?: number };

/**
 * A batch as it crosses to a verifier thread and back: in columns, one array per field, not one object per
 * job (a batch is up to 1024 segments, and cloning arrays of strings and numbers costs the main thread a
 * fraction of what as many small objects cost). A number that is absent is NaN.
 */
export interface PackedJobs {
  paths: string[];
  storageIds: (string | null)[];
  /** groupId, position, payloadLength, sampleRate of each job. */
  numbers: Float64Array;
}
export interface PackedOutcomes {
  /** The whole-segment checksum of each job that verified ('' for the others). */
  checksums: string[];
  bytesRead: Float64Array;
  faults: { index: number; kind: FindingKind; message: string; block?: number }[];
}

const FIELDS = 4;

export function packJobs(jobs: VerifyJob[]): PackedJobs {
  const numbers = new Float64Array(jobs.length * FIELDS);
  const num = (v: number | undefined) => v ?? Number.NaN;
  jobs.forEach((j, i) => {
    numbers[i * FIELDS] = num(j.expected.groupId);
    numbers[i * FIELDS + 1] = num(j.expected.position);
    numbers[i * FIELDS + 2] = num(j.expected.payloadLength);
    numbers[i * FIELDS + 3] = j.sampleRate;
  });
  return {
    paths: jobs.map((j) => j.path),
    storageIds: jobs.map((j) => j.expected.storageId ?? null),
    numbers,
  };
}

export function unpackJobs(p: PackedJobs): VerifyJob[] {
  const num = (v: number) => (Number.isNaN(v) ? undefined : v);
  return p.paths.map((path, i) => {
    const expected: VerifyJob['expected'] = {};
    const storageId = p.storageIds[i];
    const groupId = num(p.numbers[i * FIELDS]);
    const position = num(p.numbers[i * FIELDS + 1]);
    const payloadLength = num(p.numbers[i * FIELDS + 2]);
    if (storageId !== null) expected.storageId = storageId;
    if (groupId !== undefined) expected.groupId = groupId;
    if (position !== undefined) expected.position = position;
    if (payloadLength !== undefined) expected.payloadLength = payloadLength;
    return { path, expected, sampleRate: p.numbers[i * FIELDS + 3] };
  });
}

export function unpackOutcomes(p: PackedOutcomes): VerifyOutcome[] {
  const out: VerifyOutcome[] = p.checksums.map((checksum, i) => ({
    ok: true,
    checksum,
    bytesRead: p.bytesRead[i],
  }));
  for (const f of p.faults) {
    const o: VerifyOutcome = { ok: false, kind: f.kind, message: f.message };
    if (f.block !== undefined) o.block = f.block;
    out[f.index] = o;
  }
  return out;
}

interface Slot {
  worker: Worker;
  pending: Map<number, (r: VerifyOutcome[] | Error) => void>;
}

/** A batch not yet handed to a thread. */
interface Queued {
  id: number;
  jobs: VerifyJob[];
  done: (r: VerifyOutcome[] | Error) => void;
}

/**
 * Batches a thread holds at most: the one it verifies and the next, so that it never waits for the main
 * thread between two (a reply and the next hand-off cross while it works). The rest wait here and go to
 * whichever thread frees a place first: a batch is not tied at hand-off to a thread that may be slower
 * (larger batches, or descheduled on a busy machine) while another runs dry at the end.
 */
const HELD_PER_THREAD = 2;

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Queued[] = [];
  private nextId = 1;

  constructor(size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(join(__dirname, 'verify-worker.js'));
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: { id: number; results: PackedOutcomes }) => {
      const done = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      this.dispatch();
      done?.(unpackOutcomes(m.results));
    });
    // A crashed verifier fails the batches it held (their subtasks fail with the reason) and is replaced.
    const fail = (why: string) => {
      for (const [, done] of slot.pending) done(new Error(`segment verifier thread failed: ${why}`));
      slot.pending.clear();
      const i = this.slots.indexOf(slot);
      if (i >= 0) {
        this.slots.splice(i, 1);
        this.spawn();
        this.dispatch();
      }
    };
    worker.on('error', (e) => fail(e.message));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** Verifies a batch; results are in job order. The first thread with a free place takes it. */
  verify(jobs: VerifyJob[]): Promise<VerifyOutcome[]> {
    if (!jobs.length) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        jobs,
        done: (results) => (results instanceof Error ? reject(results) : resolve(results)),
      });
      this.dispatch();
    });
  }

  /** Hands queued batches to the threads with a free place, the least busy first. */
  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.slots.reduce<Slot | null>(
        (a, b) => (b.pending.size < HELD_PER_THREAD && (!a || b.pending.size < a.pending.size) ? b : a),
        null,
      );
      if (!slot) return;
      const q = this.queue.shift()!;
      slot.pending.set(q.id, q.done);
      slot.worker.postMessage({ id: q.id, jobs: packJobs(q.jobs) });
    }
  }

  async close(): Promise<void> {
    for (const q of this.queue.splice(0)) q.done(new Error('the segment verifier threads were stopped'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}
