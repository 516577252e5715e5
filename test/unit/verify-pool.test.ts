// The verifier threads' batches travel in columns (packJobs, unpackOutcomes): what arrives is what was sent,
// absent fields stay absent, and a batch's outcomes come back in job order, faults in their places; a thread
// that is held up keeps no more than the next batch, the rest go to the threads that are free.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { writeSegmentFile } from '../../src/store/segment-file';
import {
  packJobs,
  unpackJobs,
  unpackOutcomes,
  type VerifyJob,
  VerifyPool,
} from '../../src/store/verify-pool';

test('jobs unpack to what was packed, absent fields absent', (t) => {
  const jobs: VerifyJob[] = [
    {
      path: '/d/a.seg',
      expected: { storageId: 'x', groupId: 0, position: 5, payloadLength: 4096 },
      sampleRate: 1,
    },
    { path: '/d/b.seg', expected: {}, sampleRate: 0.1 },
    { path: '/d/c.seg', expected: { groupId: 2 ** 40 }, sampleRate: 0.5 },
  ];
  t.deepEqual(unpackJobs(structuredClone(packJobs(jobs))), jobs);
});

test('outcomes unpack in job order, faults in their places', (t) => {
  t.deepEqual(
    unpackOutcomes({
      checksums: ['c0', '', 'c2'],
      bytesRead: new Float64Array([10, 0, 30]),
      faults: [{ index: 1, kind: 'MISSING', message: 'gone' }],
    }),
    [
      { ok: true, checksum: 'c0', bytesRead: 10 },
      { ok: false, kind: 'MISSING', message: 'gone' },
      { ok: true, checksum: 'c2', bytesRead: 30 },
    ],
  );
});

test('a batch through the threads: clean, truncated and missing files, each outcome at its job', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-verify-pool-'));
  const pool = new VerifyPool(2);
  // The verifier threads do not keep a process alive (a server's sockets do): this test has nothing else.
  const alive = setInterval(() => {}, 1000);
  try {
    const meta = (i: number) => ({
      storageId: `4b7d0000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      groupId: i,
      position: 0,
      isParity: false,
    });
    const written = [];
    for (let i = 0; i < 3; i++) written.push(await writeSegmentFile(dir, meta(i), randomBytes(5000)));
    truncateSync(written[1].path, 100);
    const jobs: VerifyJob[] = written.map((w, i) => ({
      path: w.path,
      expected: { storageId: meta(i).storageId, groupId: i, position: 0, payloadLength: 5000 },
      sampleRate: 1,
    }));
    jobs.push({ ...jobs[0], path: join(dir, 'nothing.seg') });
    const out = await pool.verify(jobs);
    t.deepEqual(out[0], { ok: true, checksum: written[0].checksum, bytesRead: written[0].size });
    t.like(out[1], { ok: false, kind: 'WRONG_LENGTH' });
    t.deepEqual(out[2], { ok: true, checksum: written[2].checksum, bytesRead: written[2].size });
    t.like(out[3], { ok: false, kind: 'MISSING' });
  } finally {
    clearInterval(alive);
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a thread held up by a batch keeps one more at most: the others go to the thread that is free', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-verify-pool-'));
  const pool = new VerifyPool(2);
  const alive = setInterval(() => {}, 1000);
  // Opening a FIFO for reading blocks until a writer comes: the thread that takes this job is held up.
  const fifo = join(dir, 'held.seg');
  execFileSync('mkfifo', [fifo]);
  let heldDone = false;
  try {
    const w = await writeSegmentFile(
      dir,
      { storageId: '4b7d0000-0000-4000-8000-000000000099', groupId: 1, position: 0, isParity: false },
      randomBytes(5000),
    );
    const job = (path: string): VerifyJob => ({
      path,
      expected: {
        storageId: '4b7d0000-0000-4000-8000-000000000099',
        groupId: 1,
        position: 0,
        payloadLength: 5000,
      },
      sampleRate: 1,
    });
    const held = pool.verify([job(fifo)]);
    held.then(
      () => (heldDone = true),
      () => (heldDone = true),
    );
    const small = Array.from({ length: 6 }, () => pool.verify([job(w.path)]));
    let finished = 0;
    for (const p of small) p.then(() => finished++);
    // Five of the six are verified while the held thread waits; only the one it keeps waits with it.
    const deadline = Date.now() + 5_000;
    while (finished < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.is(finished, 5);
    await release(fifo, () => heldDone);
    t.like((await held)[0], { ok: false });
    for (const out of await Promise.all(small))
      t.deepEqual(out[0], { ok: true, checksum: w.checksum, bytesRead: w.size });
  } finally {
    // also when an assertion failed: a thread blocked in open() would keep the process alive
    await release(fifo, () => heldDone);
    clearInterval(alive);
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Ends the wait of the thread blocked opening `fifo` for reading (a writer that comes and goes at once),
 * again until `done`: the thread may not have reached its open() yet (it may still be starting).
 */
async function release(fifo: string, done: () => boolean): Promise<void> {
  for (const until = Date.now() + 5_000; !done() && Date.now() < until; ) {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader is waiting yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
