// Worker-thread entry of the segment writer (segment-writer.ts): writes new segment files with synchronous
// calls, hashing their blocks here, off the main thread. The payloads lie in shared memory.
import { parentPort } from 'node:worker_threads';
import { type SegmentMeta, writeFreshSegmentFileSync } from './segment-file';

export interface WriteJob {
  id: number;
  dir: string;
  meta: SegmentMeta;
  memory: SharedArrayBuffer;
  offset: number;
  length: number;
  syncFile: boolean;
}

export type WriteOutcome =
  | { id: number; path: string; checksum: string; size: number }
  | { id: number; error: { message: string; code?: string } };

parentPort!.on('message', (job: WriteJob) => {
  let out: WriteOutcome;
  try {
    const payload = Buffer.from(job.memory, job.offset, job.length);
    out = { id: job.id, ...writeFreshSegmentFileSync(job.dir, job.meta, payload, job.syncFile) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    out = { id: job.id, error: { message: e.message, code: e.code } };
  }
  parentPort!.postMessage(out);
});
