// The verifier threads' synchronous check of a segment file (verifySegmentFileSync): a clean file is checked
// in as few reads as its chosen blocks allow, and every fault is reported exactly as the step-by-step checks
// of verifySegmentFile report it (same kind, same message), at any sample rate.
import { randomBytes } from 'node:crypto';
import fs, { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  BLOCK_SIZE,
  fileSizeFor,
  HEADER_LEN,
  SegmentFault,
  verifySegmentFile,
  verifySegmentFileSync,
  writeSegmentFile,
} from '../../src/store/segment-file';

const dir = mkdtempSync(join(tmpdir(), 'segtasks-verify-sync-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const meta = (i: number) => ({
  storageId: `5e9a0000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  groupId: 11,
  position: 1,
  isParity: false,
});
const expectedOf = (i: number, payloadLength: number) => ({
  storageId: meta(i).storageId,
  groupId: 11,
  position: 1,
  payloadLength,
});

/** What the sync check throws, as kind and message (null when the file verifies). */
function syncFault(path: string, expected: object, rate: number, buffer: Buffer): string | null {
  try {
    verifySegmentFileSync(path, expected, rate, buffer);
    return null;
  } catch (err) {
    if (!(err instanceof SegmentFault)) throw err;
    return `${err.kind}: ${err.message} (block ${err.block})`;
  }
}

async function stepFault(path: string, expected: object, into?: Buffer): Promise<string | null> {
  try {
    await verifySegmentFile(path, expected, { into });
    return null;
  } catch (err) {
    if (!(err instanceof SegmentFault)) throw err;
    return `${err.kind}: ${err.message} (block ${err.block})`;
  }
}

test('clean files verify at any rate and buffer size, with the checksum and bytes of the full check', async (t) => {
  const sizes = [0, 1, BLOCK_SIZE, 3 * BLOCK_SIZE + 1000, 9 * BLOCK_SIZE];
  for (const [i, n] of sizes.entries()) {
    const w = await writeSegmentFile(dir, meta(i), randomBytes(n));
    // A buffer of two blocks makes a full check of the larger files take several reads.
    for (const buffer of [Buffer.alloc(4 * 1024 * 1024), Buffer.alloc(2 * BLOCK_SIZE)]) {
      const full = verifySegmentFileSync(w.path, expectedOf(i, n), 1, buffer);
      t.is(full.checksum, w.checksum, `${n} bytes`);
      t.is(full.bytesRead, fileSizeFor(n), `${n} bytes`);
      for (const rate of [0.01, 0.1, 0.5]) {
        const r = verifySegmentFileSync(w.path, expectedOf(i, n), rate, buffer);
        t.is(r.checksum, w.checksum);
        t.true(r.bytesRead >= HEADER_LEN && r.bytesRead <= fileSizeFor(n));
      }
    }
  }
});

test('every fault is reported as the step-by-step checks report it', async (t) => {
  const n = 3 * BLOCK_SIZE + 1000;
  const w = await writeSegmentFile(dir, meta(20), randomBytes(n));
  const original = readFileSync(w.path);
  const expected = expectedOf(20, n);
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  const damage: [string, () => void][] = [
    ['one byte more', () => appendFileSync(w.path, Buffer.from([0]))],
    ['a block more', () => appendFileSync(w.path, Buffer.alloc(BLOCK_SIZE))],
    ['one byte less', () => truncateSync(w.path, original.length - 1)],
    ['the last block cut', () => truncateSync(w.path, original.length - 1000)],
    ['the header only', () => truncateSync(w.path, HEADER_LEN)],
    ['shorter than a header', () => truncateSync(w.path, 10)],
    ['empty', () => truncateSync(w.path, 0)],
  ];
  const offsets = [0, 5, 9, 30, 33, 40, 50, 57, HEADER_LEN + 3, HEADER_LEN + 8 * 4 + 1, original.length - 1];
  for (let b = 0; b < 4; b++) offsets.push(HEADER_LEN + 32 + b * BLOCK_SIZE + 17);
  for (const off of offsets)
    damage.push([
      `byte ${off} flipped`,
      () => {
        const bad = Buffer.from(original);
        bad[off] ^= 0x10;
        writeFileSync(w.path, bad);
      },
    ]);
  for (const [what, harm] of damage) {
    writeFileSync(w.path, original);
    harm();
    const step = await stepFault(w.path, expected);
    t.not(step, null, what);
    t.is(syncFault(w.path, expected, 1, buffer), step, what);
    // and the whole-file read of a check that keeps the payload (a rebuild's or a move's source)
    t.is(await stepFault(w.path, expected, Buffer.alloc(n)), step, what);
  }
  // The header must also say what the catalog says.
  writeFileSync(w.path, original);
  for (const other of [
    { ...expected, position: 2 },
    { ...expected, payloadLength: n + 1 },
    { ...expected, storageId: meta(21).storageId },
    // the same id written otherwise than the header's bytes read back (upper case, no dashes)
    { ...expected, storageId: expected.storageId.toUpperCase() },
    { ...expected, storageId: `${expected.storageId.replaceAll('-', '')}----` },
    { ...expected, groupId: 12 },
    // a group id that differs from the header's only above 32 bits
    { ...expected, groupId: 11 + 2 ** 32 },
  ]) {
    const step = await stepFault(w.path, other);
    t.regex(step ?? '', /^BAD_HEADER/);
    t.is(syncFault(w.path, other, 1, buffer), step);
    t.is(syncFault(w.path, other, 0.1, buffer), step);
  }
});

test('a sampled check finds a file of the wrong length whether or not it reads the last block', async (t) => {
  const n = 8 * BLOCK_SIZE;
  const path = join(dir, 'sampled.seg');
  const w = await writeSegmentFile(dir, meta(30), randomBytes(n));
  {
    const original = readFileSync(w.path);
    const buffer = Buffer.alloc(4 * 1024 * 1024);
    for (const size of [original.length - 1, original.length + 1]) {
      const bad = Buffer.alloc(size);
      original.copy(bad, 0, 0, Math.min(size, original.length));
      writeFileSync(path, bad);
      // At these rates some checks read the last block and most do not: all of them must say WRONG_LENGTH
      // (the blocks read are intact, so nothing else could tell).
      for (const rate of [0.01, 0.3]) {
        for (let k = 0; k < 40; k++) {
          t.is(
            syncFault(path, expectedOf(30, n), rate, buffer),
            `WRONG_LENGTH: file is ${size} bytes, expected ${original.length} (block undefined)`,
          );
        }
      }
    }
  }
});

test('a sampled check that meets a bad block reports it: the step-by-step checks look at the same blocks', async (t) => {
  // 8 blocks at rate 1/8: exactly one block a check, so one bad block is found once in 8 checks. Were the
  // blocks chosen anew for the step-by-step checks, it would be once in 64.
  const n = 8 * BLOCK_SIZE;
  const w = await writeSegmentFile(dir, meta(40), randomBytes(n));
  const bad = readFileSync(w.path);
  bad[HEADER_LEN + 64 + 5 * BLOCK_SIZE + 100] ^= 0x01;
  writeFileSync(w.path, bad);
  const buffer = Buffer.alloc(4 * 1024 * 1024);
  let found = 0;
  const checks = 400;
  for (let k = 0; k < checks; k++) {
    const f = syncFault(w.path, expectedOf(40, n), 1 / 8, buffer);
    if (f === null) continue;
    t.is(f, 'CHECKSUM_MISMATCH: block 5 of 8 does not match its checksum (block 5)');
    found++;
  }
  // Binomial(400, 1/8): mean 50, standard deviation 6.6; with fresh blocks mean 6.25, sd 2.4.
  t.true(found > 25, `found in ${found} of ${checks} checks`);
});

test('a faulty file is reported from the reads of its check: no more reads than a clean file takes', async (t) => {
  const n = 3 * BLOCK_SIZE + 1000;
  const w = await writeSegmentFile(dir, meta(50), randomBytes(n));
  const original = readFileSync(w.path);
  const expected = expectedOf(50, n);
  let reads = 0;
  const { readSync, readvSync } = fs;
  fs.readSync = ((...a: Parameters<typeof readSync>) => {
    reads++;
    return readSync(...a);
  }) as typeof readSync;
  fs.readvSync = ((...a: Parameters<typeof readvSync>) => {
    reads++;
    return readvSync(...a);
  }) as typeof readvSync;
  t.teardown(() => {
    fs.readSync = readSync;
    fs.readvSync = readvSync;
  });
  // A buffer of two blocks: a full check reads the header, table and blocks 0-1, then blocks 2-3.
  for (const buffer of [Buffer.alloc(4 * 1024 * 1024), Buffer.alloc(2 * BLOCK_SIZE)]) {
    writeFileSync(w.path, original);
    reads = 0;
    verifySegmentFileSync(w.path, expected, 1, buffer);
    const clean = reads;
    for (const off of [9, 57, HEADER_LEN + 3, HEADER_LEN + 32 + 3 * BLOCK_SIZE + 17]) {
      const bad = Buffer.from(original);
      bad[off] ^= 0x10;
      writeFileSync(w.path, bad);
      reads = 0;
      t.not(syncFault(w.path, expected, 1, buffer), null);
      t.true(reads <= clean, `byte ${off}: ${reads} reads, a clean file ${clean}`);
    }
  }
});
