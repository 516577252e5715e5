// Worker-thread entry for the verify pool: checks batches of segment files, hashing off the main thread.
import { parentPort } from 'node:worker_threads';
import { SegmentFault, verifySegmentFileSync } from './segment-file';
import type { VerifyJob, VerifyOutcome } from './verify-pool';

const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
// Batches are handled one after another: they share the read buffer.
let chain: Promise<void> = Promise.resolve();

parentPort!.on('message', (msg: { id: number; jobs: VerifyJob[] }) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: { id: number; jobs: VerifyJob[] }): Promise<void> {
  const results: VerifyOutcome[] = [];
  for (const job of msg.jobs) {
    try {
      const r = verifySegmentFileSync(job.path, job.expected, job.sampleRate, buffer);
      results.push({ ok: true, checksum: r.checksum, bytesRead: r.bytesRead });
    } catch (err) {
      if (err instanceof SegmentFault)
        results.push({ ok: false, kind: err.kind, message: err.message, block: err.block });
      else results.push({ ok: false, kind: 'UNREADABLE', message: (err as Error).message });
    }
  }
  parentPort!.postMessage({ id: msg.id, results });
}
