// A copy of a catalogued segment through LocalDeviceIO: hashed before it is written (a payload that does not
// give the catalog's checksum is refused and leaves no file), written without a sync, made durable later; a
// move's copy with the header and table its source was verified against, refused unless they are its own.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { IDENTITY_FILE, writeIdentity } from '../../src/store/device-identity';
import { LocalDeviceIO } from '../../src/store/device-io';
import {
  buildHeader,
  CopyMismatch,
  HEADER_LEN,
  SegmentFault,
  segmentDir,
  verifySegmentFile,
} from '../../src/store/segment-file';

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

/** A source segment written and read back verified into a buffer, as a move reads it: its payload and head. */
async function verifiedSource(t: { teardown(fn: () => void): void }, payload: Buffer) {
  const src = await device(t);
  const io = new LocalDeviceIO();
  const w = await io.writeSegment(src, meta, payload, { durable: true });
  const into = Buffer.alloc(payload.length);
  const r = await io.readSegment(w.path, { ...meta, payloadLength: payload.length }, { into });
  return { into, head: r.head!, checksum: w.checksum };
}

test("a move's copy takes the verified source's header and table, and verifies with the catalog's checksum", async (t) => {
  const payload = Buffer.alloc(300_000, 5);
  const { into, head, checksum } = await verifiedSource(t, payload);
  const d = await device(t);
  const io = new LocalDeviceIO();
  const w = await io.writeSegment(d, meta, into, { durable: false, checksum, verifiedHead: head });
  t.is(w.checksum, checksum);
  await io.makeDurable([w.path]);
  const back = Buffer.alloc(payload.length);
  await verifySegmentFile(w.path, { ...meta, payloadLength: payload.length }, { into: back });
  t.true(back.equals(payload));
});

test("a verified header that is not the segment's, is corrupt, or gives another checksum is refused, and nothing is written", async (t) => {
  const payload = Buffer.alloc(300_000, 6);
  const { into, head, checksum } = await verifiedSource(t, payload);
  const d = await device(t);
  const io = new LocalDeviceIO();
  const other = { ...meta, storageId: '0c3d2e1f-aaaa-4bbb-8ccc-0123456789ab' };
  await t.throwsAsync(io.writeSegment(d, other, into, { durable: false, checksum, verifiedHead: head }), {
    instanceOf: SegmentFault,
  });
  await t.throwsAsync(
    io.writeSegment(d, { ...meta, position: 3 }, into, { durable: false, checksum, verifiedHead: head }),
    { instanceOf: SegmentFault },
  );
  await t.throwsAsync(
    io.writeSegment(d, meta, into.subarray(1), { durable: false, checksum, verifiedHead: head }),
    { instanceOf: SegmentFault },
  );
  const flipped = Buffer.from(head);
  flipped[HEADER_LEN] ^= 1; // a block checksum in the table
  await t.throwsAsync(io.writeSegment(d, meta, into, { durable: false, checksum, verifiedHead: flipped }), {
    instanceOf: SegmentFault,
  });
  const { checksum: another } = buildHeader(meta, Buffer.alloc(300_000, 7));
  await t.throwsAsync(
    io.writeSegment(d, meta, into, { durable: false, checksum: another, verifiedHead: head }),
    { instanceOf: CopyMismatch },
  );
  // Nothing at all: not even the segments directory, which the first write that needs it makes.
  t.deepEqual(readdirSync(d.path), [IDENTITY_FILE]);
});
