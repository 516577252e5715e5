// A copy of a catalogued segment through LocalDeviceIO: hashed before it is written (a payload that does not
// give the catalog's checksum is refused and leaves no file), written without a sync, made durable later.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { IDENTITY_FILE, writeIdentity } from '../../src/store/device-identity';
import { LocalDeviceIO } from '../../src/store/device-io';
import { buildHeader, CopyMismatch, segmentDir, verifySegmentFile } from '../../src/store/segment-file';

const meta = { storageId: '5b0c2f7e-1d2a-4c3b-8e9f-0a1b2c3d4e5f', groupId: 7, position: 2, isParity: false };

async function device(t: { teardown(fn: () => void): void }) {
  const path = mkdtempSync(join(tmpdir(), 'segtasks-dio-'));
  t.teardown(() => rmSync(path, { recursive: true, force: true }));
  const d = { id: 'dev-1', node_name: 'n1', path };
  await writeIdentity(d);
  return d;
}

test('a payload that does not hash to the expected checksum is not written', async (t) => {
  const d = await device(t);
  const io = new LocalDeviceIO();
  const payload = Buffer.alloc(300_000, 3);
  const { checksum } = buildHeader(meta, Buffer.alloc(300_000, 4));
  await t.throwsAsync(io.writeSegment(d, meta, payload, { durable: false, checksum }), {
    instanceOf: CopyMismatch,
  });
  // Nothing at all on the device: no file, temporary or not, and not even the segments directory (made by
  // the first write that needs it).
  t.deepEqual(readdirSync(d.path), [IDENTITY_FILE]);
});

test('a copy written without a sync and then made durable verifies with the expected checksum', async (t) => {
  const d = await device(t);
  const io = new LocalDeviceIO();
  const payload = Buffer.alloc(300_000, 3);
  const { checksum } = buildHeader(meta, payload);
  const w = await io.writeSegment(d, meta, payload, { durable: false, checksum });
  t.is(w.checksum, checksum);
  await io.makeDurable([w.path]);
  const into = Buffer.alloc(payload.length);
  const r = await verifySegmentFile(w.path, { ...meta, payloadLength: payload.length }, { into });
  t.is(r.checksum, checksum);
  t.true(into.equals(payload));
  t.deepEqual(readdirSync(segmentDir(d.path)), [`${meta.storageId}.seg`]);
});
