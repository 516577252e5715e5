// The verifier threads' batches travel in columns (packJobs, unpackOutcomes): what arrives is what was sent,
// absent fields stay absent, and a batch's outcomes come back in job order, faults in their places.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
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
