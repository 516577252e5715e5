// Worker-thread entry for the verify pool: checks batches of segment files, hashing off the main thread.
import { parentPort } from 'node:worker_threads';
import { SegmentFault, verifySegmentFileSync } from './segment-file';
import { type PackedJobs, type PackedOutcomes, unpackJobs } from './verify-pool';

const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
// Batches are handled one after another: they share the read buffer.
let chain: Promise<void> = Promise.resolve();

parentPort!.on('message', (msg: { id: number; jobs: PackedJobs }) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: { id: number; jobs: PackedJobs }): Promise<void> {
  const jobs = unpackJobs(msg.jobs);
  const results: PackedOutcomes = {
    checksums: new Array<string>(jobs.length).fill(''),
    bytesRead: new Float64Array(jobs.length),
    faults: [],
  };
  for (const [index, job] of jobs.entries()) {
    try {
      const r = verifySegmentFileSync(job.path, job.expected, job.sampleRate, buffer);
      results.checksums[index] = r.checksum;
      results.bytesRead[index] = r.bytesRead;
    } catch (err) {
      if (err instanceof SegmentFault)
        results.faults.push({ index, kind: err.kind, message: err.message, block: err.block });
      else results.faults.push({ index, kind: 'UNREADABLE', message: (err as Error).message });
    }
  }
  parentPort!.postMessage({ id: msg.id, results });
}
