// A copy of a catalogued segment through LocalDeviceIO: hashed before it is written (a payload that does not
// give the catalog's checksum is refused and leaves no file), written without a sync, made durable later; a
// move's copy with the header and table its source was verified against, refused unless they are its own.
// Each test runs twice: with a payload in ordinary memory (written on the main thread) and with one in shared
// memory (written on the writer thread, its file kept open until its makeDurable).
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
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

/** A source segment written and read back verified into a buffer, as a move reads it: its payload and head. */
async function verifiedSource(t: { teardown(fn: () => void): void }, payload: Buffer, alloc: Alloc) {
  const src = await device(t);
  const io = new LocalDeviceIO();
  const w = await io.writeSegment(src, meta, payload, { durable: true });
  const into = alloc(payload.length, 0);
  const r = await io.readSegment(w.path, { ...meta, payloadLength: payload.length }, { into });
  return { into, head: r.head!, checksum: w.checksum };
}

/** A payload of `size` bytes of `fill`, in ordinary or shared memory. */
type Alloc = (size: number, fill: number) => Buffer;
const inMemory: Alloc = (size, fill) => Buffer.alloc(size, fill);
const inShared: Alloc = (size, fill) => Buffer.from(new SharedArrayBuffer(size)).fill(fill);

for (const [where, alloc] of [
  ['main thread', inMemory],
  ['writer thread', inShared],
] as const) {
  test(`${where}: a payload that does not hash to the expected checksum is not written`, async (t) => {
    const d = await device(t);
    const io = new LocalDeviceIO();
    const payload = alloc(300_000, 3);
    const { checksum } = buildHeader(meta, Buffer.alloc(300_000, 4));
    await t.throwsAsync(io.writeSegment(d, meta, payload, { durable: false, checksum }), {
      instanceOf: CopyMismatch,
    });
    // Nothing at all on the device: no file, temporary or not, and not even the segments directory (made by
    // the first write that needs it).
    t.deepEqual(readdirSync(d.path), [IDENTITY_FILE]);
  });

  test(`${where}: a copy written without a sync and then made durable verifies with the expected checksum`, async (t) => {
    const d = await device(t);
    const io = new LocalDeviceIO();
    const payload = alloc(300_000, 3);
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

  test(`${where}: a move's copy takes the verified source's header and table, and verifies with the catalog's checksum`, async (t) => {
    const payload = alloc(300_000, 5);
    const { into, head, checksum } = await verifiedSource(t, payload, alloc);
    const d = await device(t);
    const io = new LocalDeviceIO();
    const w = await io.writeSegment(d, meta, into, { durable: false, checksum, verifiedHead: head });
    t.is(w.checksum, checksum);
    await io.makeDurable([w.path]);
    const back = Buffer.alloc(payload.length);
    await verifySegmentFile(w.path, { ...meta, payloadLength: payload.length }, { into: back });
    t.true(back.equals(payload));
  });

  test(`${where}: a verified header that is not the segment's, is corrupt, or gives another checksum is refused, and nothing is written`, async (t) => {
    const payload = alloc(300_000, 6);
    const { into, head, checksum } = await verifiedSource(t, payload, alloc);
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
}

/** The files this process has open under `dir`. */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
}

/**
 * openUnder(dir) once it is `expected`, or as it is after a second: a replaced or removed copy's descriptor
 * is closed without waiting for the close.
 */
async function openUnderSettled(dir: string, expected: string[]): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const now = openUnder(dir);
    if (JSON.stringify(now) === JSON.stringify(expected)) return now;
    await new Promise((r) => setTimeout(r, 10));
  }
  return openUnder(dir);
}

test('a copy written on the writer thread stays open until its makeDurable, one descriptor per path', async (t) => {
  const d = await device(t);
  const io = new LocalDeviceIO();
  const payload = inShared(300_000, 8);
  const { checksum } = buildHeader(meta, payload);
  const w = await io.writeSegment(d, meta, payload, { durable: false, checksum });
  t.deepEqual(openUnder(d.path), [w.path]);
  // Written again in place (a segment rebuilt again): the first file's descriptor is closed, not synced for it.
  await io.writeSegment(d, meta, payload, { durable: false, checksum });
  t.deepEqual(await openUnderSettled(d.path, [w.path]), [w.path]);
  await io.makeDurable([w.path]);
  t.deepEqual(openUnder(d.path), []);
  const other = { ...meta, storageId: '0c3d2e1f-aaaa-4bbb-8ccc-0123456789ab' };
  const w2 = await io.writeSegment(d, other, payload, {
    durable: false,
    checksum: buildHeader(other, payload).checksum,
  });
  t.deepEqual(openUnder(d.path), [w2.path]);
  await io.remove([w2.path]);
  t.deepEqual(await openUnderSettled(d.path, []), []);
});

test("a copy's write-back syncs through the descriptor of its write and closes it: no second open, and its makeDurable is left with the directory", async (t) => {
  const d = await device(t);
  const io = new LocalDeviceIO();
  const payload = inShared(300_000, 9);
  const { checksum } = buildHeader(meta, payload);
  const w = await io.writeSegment(d, meta, payload, { durable: false, checksum });
  t.deepEqual(openUnder(d.path), [w.path]);
  await io.writeBack([w.path]);
  // The kept descriptor was the one synced (a reopen would have left it open until the makeDurable).
  t.deepEqual(openUnder(d.path), []);
  await io.makeDurable([w.path], new Set([w.path]));
  t.deepEqual(openUnder(d.path), []);
  t.is((await verifySegmentFile(w.path, { ...meta, payloadLength: payload.length })).checksum, checksum);
});
