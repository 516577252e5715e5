// Writes segment files on a thread of their own: a COPY's new segments, and the copies a rebuild or rebalance
// makes of catalogued ones. The block hashing and the file-system calls (create, write, close; for a copy
// create, write, rename) run there synchronously, so the main thread only posts each segment and takes its
// answer, instead of hashing and making three to four thread-pool round trips and their promises per segment.
// The payload crosses without a copy: it must lie in shared memory (a COPY's group buffers and a repair's do).
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CopyMismatch, SegmentFault, type SegmentMeta } from './segment-file';
import type { WriteJob, WriteOutcome } from './segment-writer-worker';

export interface WrittenFile {
  path: string;
  checksum: string;
  size: number;
  /** A copy's: the file, left open for its fdatasync (the caller closes it). */
  fd?: number;
}

/** The writer thread died with the write unanswered: the file may be there, partly written. */
export class WriterThreadFailed extends Error {}

/** Whether a payload can go to the writer thread without a copy. */
export function isShared(payload: Buffer): boolean {
  return payload.buffer instanceof SharedArrayBuffer;
}

function threadError(e: Extract<WriteOutcome, { error: unknown }>['error']): Error {
  if (e.name === 'CopyMismatch') return new CopyMismatch(e.message);
  if (e.name === 'SegmentFault') return new SegmentFault(e.fault!, e.message, e.block);
  return Object.assign(new Error(e.message), { code: e.code });
}

export class SegmentWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve(w: WrittenFile): void; reject(e: Error): void }>();
  private nextId = 1;

  /**
   * writeFreshSegmentFileSync (`fresh`) or writeCopySegmentFileSync on the writer thread; errors keep their errno
   * code (ENOSPC, EEXIST, ...), a copy's refusals their class (CopyMismatch, SegmentFault).
   */
  write(dir: string, meta: SegmentMeta, payload: Buffer, kind: WriteJob['kind']): Promise<WrittenFile> {
    if (!isShared(payload)) throw new TypeError('a segment for the writer thread must lie in shared memory');
    const id = this.nextId++;
    const job: WriteJob = {
      id,
      dir,
      meta,
      memory: payload.buffer as unknown as SharedArrayBuffer,
      offset: payload.byteOffset,
      length: payload.length,
      kind,
    };
    const worker = this.thread();
    // Held while it has writes to answer (a write awaited keeps the process alive), unref'd when idle.
    if (!this.pending.size) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(job);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    // A copy's file is left open for the main thread (fds are the process's): the thread must not take the
    // descriptors it opened as its own, closing them when it exits (trackUnmanagedFds).
    const worker = new Worker(join(__dirname, 'segment-writer-worker.js'), { trackUnmanagedFds: false });
    worker.on('message', (m: WriteOutcome) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!this.pending.size) worker.unref();
      if (!p) return;
      if ('error' in m) p.reject(threadError(m.error));
      else p.resolve({ path: m.path, checksum: m.checksum, size: m.size, fd: m.fd });
    });
    // A writer thread that dies fails the writes it held (their COPY fails and removes its files); the next
    // write starts a new one.
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const [, p] of this.pending)
        p.reject(new WriterThreadFailed(`segment writer thread failed: ${why}`));
      this.pending.clear();
    };
    worker.on('error', (e) => fail(e.message));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}
