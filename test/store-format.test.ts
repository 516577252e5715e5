// The segment file format and the erasure code, below the SQL layer.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { coderFor } from '../src/store/erasure';
import {
  BLOCK_SIZE,
  HEADER_LEN,
  SegmentFault,
  verifySegmentFile,
  writeSegmentFile,
} from '../src/store/segment-file';

const dir = mkdtempSync(join(tmpdir(), 'segtasks-format-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const meta = (i: number) => ({
  storageId: `6f1c0000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  groupId: 7,
  position: 2,
  isParity: false,
});

test('a written segment verifies, and its payload reads back', async (t) => {
  const payload = randomBytes(3 * BLOCK_SIZE + 1000);
  const w = await writeSegmentFile(dir, meta(1), payload);
  const into = Buffer.alloc(payload.length);
  const r = await verifySegmentFile(
    w.path,
    { storageId: meta(1).storageId, groupId: 7, position: 2, payloadLength: payload.length },
    { into },
  );
  t.true(into.equals(payload));
  t.is(r.checksum, w.checksum);
  t.is(r.blocksChecked, 4);
  t.is(readFileSync(w.path).length, w.size);
});

test('a flipped byte anywhere in the file is detected (header, checksum table, every block)', async (t) => {
  const payload = randomBytes(2 * BLOCK_SIZE + 10);
  const w = await writeSegmentFile(dir, meta(2), payload);
  const original = readFileSync(w.path);
  const offsets = [
    0,
    5,
    9,
    30,
    40,
    57,
    HEADER_LEN + 3,
    HEADER_LEN + 8 * 3 + 1,
    HEADER_LEN + 24 + BLOCK_SIZE + 7,
    original.length - 1,
  ];
  for (let i = 0; i < 20; i++) offsets.push(Math.floor(Math.random() * original.length));
  for (const off of offsets) {
    const bad = Buffer.from(original);
    bad[off] ^= 1 << (off % 8);
    writeFileSync(w.path, bad);
    const e = await t.throwsAsync(
      verifySegmentFile(w.path, { storageId: meta(2).storageId }),
      { instanceOf: SegmentFault },
      `offset ${off}`,
    );
    t.true(
      ['CHECKSUM_MISMATCH', 'BAD_HEADER', 'WRONG_LENGTH'].includes((e as SegmentFault).kind),
      `offset ${off}: ${(e as SegmentFault).kind}`,
    );
  }
  writeFileSync(w.path, original);
  await t.notThrowsAsync(verifySegmentFile(w.path, {}));
});

test('a payload flip names the first bad block; truncation and deletion are told apart', async (t) => {
  const payload = randomBytes(4 * BLOCK_SIZE);
  const w = await writeSegmentFile(dir, meta(3), payload);
  const bad = readFileSync(w.path);
  bad[HEADER_LEN + 32 + 2 * BLOCK_SIZE + 5] ^= 0xff;
  writeFileSync(w.path, bad);
  const e = await t.throwsAsync<SegmentFault>(verifySegmentFile(w.path, {}));
  t.is(e?.kind, 'CHECKSUM_MISMATCH');
  t.is(e?.block, 2);
  truncateSync(w.path, bad.length - 100);
  t.is((await t.throwsAsync<SegmentFault>(verifySegmentFile(w.path, {})))?.kind, 'WRONG_LENGTH');
  unlinkSync(w.path);
  t.is((await t.throwsAsync<SegmentFault>(verifySegmentFile(w.path, {})))?.kind, 'MISSING');
});

test('the header must match what the catalog expects', async (t) => {
  const w = await writeSegmentFile(dir, meta(4), randomBytes(1000));
  const e = await t.throwsAsync<SegmentFault>(verifySegmentFile(w.path, { position: 3 }));
  t.is(e?.kind, 'BAD_HEADER');
});

test('Reed-Solomon: any two lost shards of 4+2 are rebuilt; three are refused', async (t) => {
  const k = 4;
  const m = 2;
  const S = 4096;
  const coder = coderFor(k, m);
  const data = randomBytes(k * S);
  const parity = Buffer.alloc(m * S);
  await coder.encode(data, parity, S);
  const all = [...Array(k + m).keys()];
  for (const a of all) {
    for (const b of all) {
      if (b <= a) continue;
      const d = Buffer.from(data);
      const p = Buffer.from(parity);
      for (const i of [a, b])
        (i < k ? d.subarray(i * S, (i + 1) * S) : p.subarray((i - k) * S, (i - k + 1) * S)).fill(0);
      await coder.reconstruct(d, p, S, [a, b]);
      t.true(d.equals(data) && p.equals(parity), `lost ${a},${b}`);
    }
  }
  t.throws(() => coder.reconstruct(Buffer.from(data), Buffer.from(parity), S, [0, 1, 2]));
});
