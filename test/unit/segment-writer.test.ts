// The segment writer thread (segment-writer.ts) writes a COPY's new segments from shared memory: the file is
// the one writeSegmentFile's fresh write makes (it verifies, with the checksum the writer answered), an
// existing file is never overwritten, a vanished device directory is not recreated, errors keep their errno
// code, and a payload outside shared memory is refused rather than copied. A repair's copy is renamed into
// place and its file left open for the caller's fdatasync, also after the thread has exited.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { segmentFileName, verifySegmentFile } from '../../src/store/segment-file';
import { SegmentWriter } from '../../src/store/segment-writer';

const meta = { storageId: '0b6e2b5e-3a3c-4e39-9a53-6c7a0c9a1b11', groupId: 7, position: 2, isParity: false };
const SIZE = 300_000; // not a multiple of the block size: a short last block

function sharedPayload(): Buffer {
  const group = Buffer.from(new SharedArrayBuffer(3 * SIZE));
  for (let i = 0; i < group.length; i++) group[i] = (i * 13) & 0xff;
  return group.subarray(SIZE, 2 * SIZE);
}

const FRESH = { fresh: true, syncFile: false } as const;
const writer = new SegmentWriter();
test.after.always(() => writer.close());

test('writes a verifiable segment from shared memory, creating the segments directory', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'segtasks-writer-')), 'segments');
  t.teardown(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
  const payload = sharedPayload();
  const w = await writer.write(dir, meta, payload, FRESH);
  t.is(w.path, join(dir, segmentFileName(meta.storageId)));
  const into = Buffer.alloc(SIZE);
  const v = await verifySegmentFile(w.path, { ...meta, payloadLength: SIZE }, { into });
  t.is(v.checksum, w.checksum);
  t.true(into.equals(payload));
  t.is(w.size, readFileSync(w.path).length);
});

test('an existing file is not overwritten (EEXIST), and stays as it was', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-writer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, segmentFileName(meta.storageId));
  writeFileSync(path, 'someone else');
  const err = await t.throwsAsync(writer.write(dir, meta, sharedPayload(), { fresh: true, syncFile: true }));
  t.is((err as NodeJS.ErrnoException).code, 'EEXIST');
  t.is(readFileSync(path, 'utf8'), 'someone else');
});

test('a vanished device directory fails the write (ENOENT) and is not recreated', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'segtasks-writer-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const device = join(base, 'unmounted');
  const err = await t.throwsAsync(writer.write(join(device, 'segments'), meta, sharedPayload(), FRESH));
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
  t.false(existsSync(device));
  mkdirSync(device); // the directory back: the writer goes on
  await t.notThrowsAsync(writer.write(join(device, 'segments'), meta, sharedPayload(), FRESH));
});

test('a payload outside shared memory is refused', (t) => {
  t.throws(() => writer.write(tmpdir(), meta, Buffer.alloc(SIZE), FRESH), { instanceOf: TypeError });
});

test("a copy's file is left open for the caller, and stays open when the thread exits", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-writer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const own = new SegmentWriter();
  const payload = sharedPayload();
  const w = await own.write(dir, meta, payload, { fresh: false });
  t.is(w.path, join(dir, segmentFileName(meta.storageId)));
  // Renamed: no temporary file left, and the descriptor is of the file under its final name.
  t.deepEqual(readdirSync(dir), [segmentFileName(meta.storageId)]);
  await own.close();
  t.is(fstatSync(w.fd!).ino, statSync(w.path).ino);
  fdatasyncSync(w.fd!);
  closeSync(w.fd!);
  const v = await verifySegmentFile(w.path, { ...meta, payloadLength: SIZE }, { into: Buffer.alloc(SIZE) });
  t.is(v.checksum, w.checksum);
});
