// How segment files are created: a `segments` directory missing is made by the write that finds it so (and
// only that directory, never its parent: a device directory that vanished is not recreated), and a fresh
// segment (a new storage id, COPY FROM) is written under its final name, never over an existing file, and
// removed again when the write fails or is aborted.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  segmentDir,
  segmentFileName,
  verifySegmentFile,
  writeSegmentFile,
} from '../../src/store/segment-file';

const meta = { storageId: '5b7c1e1a-8a4e-4a8e-9d7e-3f3f3f3f3f3f', groupId: 3, position: 1, isParity: false };

function deviceDir(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-write-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the segments directory is made by the first write that misses it; a vanished device is not', async (t) => {
  const dev = deviceDir(t);
  const dir = segmentDir(dev);
  const w = await writeSegmentFile(dir, meta, Buffer.alloc(3000, 2), {
    syncDir: false,
    syncFile: false,
    fresh: true,
  });
  t.is(w.path, join(dir, segmentFileName(meta.storageId)));
  t.is((await verifySegmentFile(w.path, { ...meta, payloadLength: 3000 })).header.groupId, 3);
  rmSync(dev, { recursive: true });
  const err = await t.throwsAsync(
    writeSegmentFile(dir, { ...meta, storageId: meta.storageId.replace('5b', '6b') }, Buffer.alloc(10)),
  );
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
  t.false(existsSync(dev), 'the device directory was recreated');
});

test('a fresh segment is written under its final name, without a temporary file', async (t) => {
  const dir = segmentDir(deviceDir(t));
  await writeSegmentFile(dir, meta, Buffer.alloc(5000, 1), { syncDir: false, syncFile: false, fresh: true });
  t.deepEqual(readdirSync(dir), [segmentFileName(meta.storageId)]);
});

test('a fresh name that exists already is neither overwritten nor removed', async (t) => {
  const dir = segmentDir(deviceDir(t));
  await writeSegmentFile(dir, meta, Buffer.alloc(10, 1));
  const path = join(dir, segmentFileName(meta.storageId));
  writeFileSync(path, 'someone else');
  const err = await t.throwsAsync(
    writeSegmentFile(dir, meta, Buffer.alloc(10, 2), { syncDir: false, syncFile: false, fresh: true }),
  );
  t.is((err as NodeJS.ErrnoException).code, 'EEXIST');
  t.is(readFileSync(path, 'utf8'), 'someone else');
});

test('a fresh segment whose write is aborted after it began leaves no file', async (t) => {
  const dir = segmentDir(deviceDir(t));
  await writeSegmentFile(dir, { ...meta, storageId: meta.storageId.replace('5b', '7b') }, Buffer.alloc(10));
  const abort = new AbortController();
  // The abort comes once the file is being written (the signal is checked again before it is kept).
  const write = writeSegmentFile(dir, meta, Buffer.alloc(1 << 20, 3), {
    syncDir: false,
    syncFile: false,
    signal: abort.signal,
    fresh: true,
  });
  abort.abort();
  await t.throwsAsync(write, { any: true, name: 'AbortError' });
  t.deepEqual(readdirSync(dir), [segmentFileName(meta.storageId.replace('5b', '7b'))]);
});
