// The framer on byte streams cut at every place: the same messages whatever the chunks, a CopyData body that
// lies inside one chunk is a view of it (not a copy), and the size limits hold before anything is buffered.
import test from 'ava';
import { serialize } from 'pg-protocol';
import { ProtocolViolation } from '../../wire/fatal';
import { type Frame, Framer } from '../../wire/framer';
import { FrontendCode } from '../../wire/message-codes';

const limits = { maxMessageBytes: 1000, maxCopyDataBytes: 100_000 };

/** A framer past the startup packet and logged in. */
function loggedInFramer(): Framer {
  const f = new Framer(limits);
  f.startup = false;
  f.authenticated = true;
  return f;
}

const payload = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

/** CopyData of several sizes (empty, smaller and larger than a header), a Query, CopyDone. */
const payloads = [payload(0, 1), payload(1, 2), payload(4, 3), payload(300, 4), payload(9, 5)];
const stream = Buffer.concat([
  ...payloads.map((p) => serialize.copyData(p)),
  serialize.query('SELECT 1'),
  serialize.copyDone(),
]);

const summary = (frames: Frame[]) => frames.map((f) => [f.type, f.body.toString('hex')]);

test('a stream cut in two at every byte gives the same messages as in one piece', (t) => {
  const whole = loggedInFramer().push(stream);
  t.deepEqual(
    whole.slice(0, payloads.length).map((f) => f.body),
    payloads,
  );
  t.deepEqual(
    whole.map((f) => f.type),
    [...payloads.map(() => FrontendCode.CopyData), FrontendCode.Query, FrontendCode.CopyDone],
  );
  const expected = JSON.stringify(summary(whole));
  const wrong: number[] = [];
  for (let cut = 0; cut <= stream.length; cut++) {
    const f = loggedInFramer();
    // Copies of the pieces, so that no piece shares memory with the one-piece run.
    const frames = [
      ...f.push(Buffer.from(stream.subarray(0, cut))),
      ...f.push(Buffer.from(stream.subarray(cut))),
    ];
    if (JSON.stringify(summary(frames)) !== expected || f.pending !== 0) wrong.push(cut);
  }
  t.deepEqual(wrong, [], 'cuts that gave other messages');
});

test('a stream cut at every byte at once (one-byte chunks) and at every pair of places', (t) => {
  const whole = summary(loggedInFramer().push(stream));
  const f = loggedInFramer();
  const frames: Frame[] = [];
  for (let i = 0; i < stream.length; i++) frames.push(...f.push(Buffer.from(stream.subarray(i, i + 1))));
  t.deepEqual(summary(frames), whole);
  const expected = JSON.stringify(whole);
  const wrong: string[] = [];
  for (let a = 0; a <= stream.length; a++)
    for (let b = a; b <= stream.length; b += 7) {
      const g = loggedInFramer();
      const got = [
        ...g.push(Buffer.from(stream.subarray(0, a))),
        ...g.push(Buffer.from(stream.subarray(a, b))),
        ...g.push(Buffer.from(stream.subarray(b))),
      ];
      if (JSON.stringify(summary(got)) !== expected) wrong.push(`${a},${b}`);
    }
  t.deepEqual(wrong, [], 'pairs of cuts that gave other messages');
});

test('a CopyData body inside one chunk shares the chunk’s memory; one that spans chunks is copied', (t) => {
  const f = loggedInFramer();
  // Larger than Buffer's shared pool takes (4 KiB), so that no two buffers share an ArrayBuffer by chance.
  const a = serialize.copyData(payload(5000, 1));
  const b = serialize.copyData(payload(6000, 2));
  const c = serialize.copyData(payload(4500, 3));
  // Chunk 1: a whole, the first 10 bytes of b. Chunk 2: the rest of b, c whole.
  const chunk1 = Buffer.concat([a, b.subarray(0, 10)]);
  const chunk2 = Buffer.concat([b.subarray(10), c]);
  const [fa] = f.push(chunk1);
  t.is(fa.body.buffer, chunk1.buffer);
  t.is(fa.body.byteOffset, chunk1.byteOffset + 5);
  t.is(fa.body.length, 5000);
  const [fb, fc] = f.push(chunk2);
  t.deepEqual(fb.body, payload(6000, 2));
  t.not(fb.body.buffer, chunk1.buffer);
  t.not(fb.body.buffer, chunk2.buffer);
  // The message after the spanning one is a view of its chunk again.
  t.deepEqual(fc.body, payload(4500, 3));
  t.is(fc.body.buffer, chunk2.buffer);
  t.is(fc.body.byteOffset, chunk2.byteOffset + (b.length - 10) + 5);
  // Its bytes are the chunk's: what the socket delivered is what the consumer reads.
  chunk2[chunk2.length - 1] ^= 0xff;
  t.is(fc.body[4499], chunk2[chunk2.length - 1]);
});

test('a message whose header spans chunks, and a large one over many chunks', (t) => {
  const f = loggedInFramer();
  const big = payload(90_000, 9);
  const msg = serialize.copyData(big);
  t.deepEqual(f.push(msg.subarray(0, 3)), []);
  const frames: Frame[] = [];
  for (let at = 3; at < msg.length; at += 1000) frames.push(...f.push(msg.subarray(at, at + 1000)));
  t.is(frames.length, 1);
  t.deepEqual(frames[0].body, big);
  t.is(f.pending, 0);
});

test('the limits are checked on the header, before the body is buffered', (t) => {
  // CopyData has its own, larger limit.
  const f = loggedInFramer();
  const head = serialize.copyData(Buffer.alloc(limits.maxCopyDataBytes + 1)).subarray(0, 5);
  t.throws(() => f.push(head), {
    instanceOf: ProtocolViolation,
    message: /exceeds the limit of 100000 bytes/,
  });
  const g = loggedInFramer();
  t.is(g.push(serialize.copyData(Buffer.alloc(limits.maxCopyDataBytes))).length, 1);
  const q = serialize.query('x'.repeat(limits.maxMessageBytes));
  t.throws(() => loggedInFramer().push(q.subarray(0, 5)), {
    instanceOf: ProtocolViolation,
    message: /exceeds the limit of 1000 bytes/,
  });
  // Before login, 8192 bytes at most, CopyData too.
  const h = new Framer(limits);
  h.startup = false;
  t.throws(() => h.push(serialize.copyData(Buffer.alloc(9000)).subarray(0, 5)), {
    instanceOf: ProtocolViolation,
    message: /exceeds the limit of 8192 bytes/,
  });
});

test('the startup packet (untyped) cut at every byte', (t) => {
  const startup = serialize.startup({ user: 'u', database: 'd' });
  const bytes = Buffer.concat([startup, serialize.query('SELECT 1')]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const f = new Framer(limits);
    const frames = [...f.push(bytes.subarray(0, cut)), ...f.push(bytes.subarray(cut))];
    t.deepEqual(summary(frames), [
      [0, startup.subarray(4).toString('hex')],
      [FrontendCode.Query, serialize.query('SELECT 1').subarray(5).toString('hex')],
    ]);
  }
});
