// The streamed checks of a segment file (what an agent runs on a write and a coordinator on a read): the same
// verdicts as the file checks, whatever the chunking, with the payload left in the caller's buffer.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { BLOCK_SIZE, buildHeader, SegmentFault } from '../../src/store/segment-file';
import { SegmentStreamCheck } from '../../src/store/segment-stream';

const meta = { storageId: '7d4c1e1a-8a4e-4a8e-9d7e-3f3f3f3f3f3f', groupId: 7, position: 2, isParity: false };

function file(payloadLength: number): { bytes: Buffer; payload: Buffer; checksum: string } {
  const payload = randomBytes(payloadLength);
  const { head, checksum } = buildHeader(meta, payload);
  return { bytes: Buffer.concat([head, payload]), payload, checksum };
}

function feed(check: SegmentStreamCheck, bytes: Buffer, chunk: number) {
  for (let off = 0; off < bytes.length; off += chunk) check.push(bytes.subarray(off, off + chunk));
  return check.finish();
}

for (const chunk of [1, 7, 64, 4096, BLOCK_SIZE + 3, 1 << 22]) {
  test(`a sound file passes in chunks of ${chunk} bytes, the payload lands in the buffer`, (t) => {
    const f = file(2 * BLOCK_SIZE + 1000);
    const into = Buffer.alloc(f.payload.length);
    const r = feed(
      new SegmentStreamCheck({ ...meta, payloadLength: f.payload.length }, f.bytes.length, into),
      f.bytes,
      chunk,
    );
    t.is(r.checksum, f.checksum);
    t.is(r.bytes, f.bytes.length);
    t.true(into.equals(f.payload));
    // without a buffer: only checked
    t.is(feed(new SegmentStreamCheck({}, f.bytes.length), f.bytes, chunk).checksum, f.checksum);
  });
}

test('a flipped payload byte is a checksum mismatch naming its block', (t) => {
  const f = file(3 * BLOCK_SIZE);
  f.bytes[f.bytes.length - BLOCK_SIZE - 5] ^= 1; // in the second block
  const err = t.throws(() => feed(new SegmentStreamCheck({}, f.bytes.length), f.bytes, 5000), {
    instanceOf: SegmentFault,
  });
  t.is(err?.kind, 'CHECKSUM_MISMATCH');
  t.is(err?.block, 1);
});

test('a flipped byte in the header or the checksum table is found', (t) => {
  for (const at of [20, 64 + 3]) {
    const f = file(BLOCK_SIZE);
    f.bytes[at] ^= 0x10;
    const err = t.throws(() => feed(new SegmentStreamCheck({}, f.bytes.length), f.bytes, 999), {
      instanceOf: SegmentFault,
    });
    t.true(['CHECKSUM_MISMATCH', 'BAD_HEADER'].includes(err!.kind), err!.kind);
  }
});

test('another segment than expected, a wrong length and a short stream are refused', (t) => {
  const f = file(1000);
  t.is(
    t.throws(() => feed(new SegmentStreamCheck({ groupId: 8 }, f.bytes.length), f.bytes, 100), {
      instanceOf: SegmentFault,
    })?.kind,
    'BAD_HEADER',
  );
  t.is(
    t.throws(() => feed(new SegmentStreamCheck({}, f.bytes.length + 1), f.bytes, 100), {
      instanceOf: SegmentFault,
    })?.kind,
    'WRONG_LENGTH',
  );
  t.is(
    t.throws(
      () => feed(new SegmentStreamCheck({}, f.bytes.length), f.bytes.subarray(0, f.bytes.length - 1), 100),
      {
        instanceOf: SegmentFault,
      },
    )?.kind,
    'WRONG_LENGTH',
  );
  const extra = Buffer.concat([f.bytes, Buffer.from([0])]);
  t.is(
    t.throws(() => feed(new SegmentStreamCheck({}, f.bytes.length), extra, 100), { instanceOf: SegmentFault })
      ?.kind,
    'WRONG_LENGTH',
  );
});
