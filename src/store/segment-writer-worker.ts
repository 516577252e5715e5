// Worker-thread entry of the segment writer (segment-writer.ts): writes segment files with synchronous calls,
// hashing their blocks here, off the main thread. The payloads lie in shared memory.
import { parentPort } from 'node:worker_threads';
import {
  CopyMismatch,
  SegmentFault,
  type SegmentMeta,
  writeCopySegmentFileSync,
  writeFreshSegmentFileSync,
} from './segment-file';

export interface WriteJob {
  id: number;
  dir: string;
  meta: SegmentMeta;
  memory: SharedArrayBuffer;
  offset: number;
  length: number;
  /**
   * A new segment (COPY FROM): written under its final name, fsynced with `syncFile`, closed. A copy of a
   * catalogued segment: checked against `expectChecksum`, written under a temporary name, renamed, left open.
   */
  kind:
    | { fresh: true; syncFile: boolean }
    | { fresh: false; expectChecksum?: string; verifiedHead?: Uint8Array };
}

export type WriteOutcome =
  | { id: number; path: string; checksum: string; size: number; fd?: number }
  | {
      id: number;
      error: {
        message: string;
        code?: string;
        name?: 'CopyMismatch' | 'SegmentFault';
        fault?: SegmentFault['kind'];
        block?: number;
      };
    };

function run(job: WriteJob): WriteOutcome {
  const payload = Buffer.from(job.memory, job.offset, job.length);
  const { kind } = job;
  if (kind.fresh)
    return { id: job.id, ...writeFreshSegmentFileSync(job.dir, job.meta, payload, kind.syncFile) };
  return {
    id: job.id,
    ...writeCopySegmentFileSync(job.dir, job.meta, payload, {
      expectChecksum: kind.expectChecksum,
      verifiedHead: kind.verifiedHead && Buffer.from(kind.verifiedHead),
    }),
  };
}

parentPort!.on('message', (job: WriteJob) => {
  let out: WriteOutcome;
  try {
    out = run(job);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    out = {
      id: job.id,
      error: {
        message: e.message,
        code: e.code,
        name:
          err instanceof CopyMismatch
            ? 'CopyMismatch'
            : err instanceof SegmentFault
              ? 'SegmentFault'
              : undefined,
        fault: err instanceof SegmentFault ? err.kind : undefined,
        block: err instanceof SegmentFault ? err.block : undefined,
      },
    };
  }
  parentPort!.postMessage(out);
});
