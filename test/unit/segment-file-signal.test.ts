// The store's segment file reads and writes take an AbortSignal: an abort stops them with an AbortError (a
// cancellation, not a SegmentFault), and a write it stops leaves no file behind.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SegmentFault, verifySegmentFile, writeSegmentFile } from '../../src/store/segment-file';

const meta = { storageId: '7d4c1e1a-8a4e-4a8e-9d7e-3f3f3f3f3f3f', groupId: 1, position: 0, isParity: false };

test('an aborted write leaves no file, temporary or not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-signal-'));
  const abort = new AbortController();
  abort.abort();
  // The abort's reason is a DOMException, which ava counts as an error only when told to.
  await t.throwsAsync(writeSegmentFile(dir, meta, Buffer.alloc(5000, 1), { signal: abort.signal }), {
    any: true,
    name: 'AbortError',
  });
  t.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test('an aborted read stops with the abort, not as a finding about the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-signal-'));
  const w = await writeSegmentFile(dir, meta, Buffer.alloc(5000, 1));
  const abort = new AbortController();
  abort.abort();
  const err = await t.throwsAsync(verifySegmentFile(w.path, {}, { signal: abort.signal }), {
    any: true,
    name: 'AbortError',
  });
  t.false(err instanceof SegmentFault);
  // Without an abort the same file verifies.
  t.is((await verifySegmentFile(w.path, {}, { signal: new AbortController().signal })).header.position, 0);
  rmSync(dir, { recursive: true, force: true });
});
