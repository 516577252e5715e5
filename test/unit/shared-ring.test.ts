// The shared-memory ring between the wire thread and the inline lane (catalog/readers/shared-ring.ts) and the
// codec of its messages (lane-codec.ts): messages come out whole and in order across the wrap-around, a full
// ring refuses a message instead of overwriting one, and every value kind the codec carries comes back as it
// went, while one it does not carry is refused (never guessed).
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { ByteReader, ByteWriter, Unsendable } from '../../catalog/readers/lane-codec';
import { ringMemory, SharedRing } from '../../catalog/readers/shared-ring';

const message = (n: number, fill: number) => Buffer.alloc(n, fill);

test('messages come out whole and in order, across many wrap-arounds', (t) => {
  const ring = new SharedRing(ringMemory(1024));
  let sent = 0;
  let got = 0;
  // Lengths that are not multiples of 4 and do not divide the ring, so that messages straddle its end.
  for (let round = 0; round < 500; round++) {
    for (let k = 0; k < 3; k++) {
      const m = message(1 + ((sent * 37) % 200), sent & 0xff);
      if (!ring.tryWrite(m)) break;
      sent++;
    }
    for (let m = ring.read(); m; m = ring.read()) {
      t.is(m.length, 1 + ((got * 37) % 200), `message ${got}`);
      if (!m.every((b) => b === (got & 0xff))) t.fail(`message ${got} is not as written`);
      got++;
    }
  }
  t.is(got, sent);
  t.true(sent > 1000);
});

test('a full ring refuses a message and takes it once the reader has made room', (t) => {
  const ring = new SharedRing(ringMemory(1024));
  let n = 0;
  while (ring.tryWrite(message(100, n))) n++;
  t.true(n >= 9 && n <= 10, `${n} messages of 100 bytes in 1 KiB`);
  t.is(ring.read()?.[0], 0);
  t.true(ring.tryWrite(message(100, 99)));
  for (let i = 1; i < n; i++) t.is(ring.read()?.[0], i);
  t.is(ring.read()?.[0], 99);
  t.is(ring.read(), null);
});

test('a message larger than half the ring is refused, never written in part', (t) => {
  const ring = new SharedRing(ringMemory(1024));
  t.false(ring.tryWrite(message(ring.maxMessage + 1, 1)));
  t.true(ring.tryWrite(message(ring.maxMessage, 2)));
  t.is(ring.read()?.length, ring.maxMessage);
});

test('another thread reads what this one writes, woken by each write', async (t) => {
  const memory = ringMemory(4096);
  const ring = new SharedRing(memory);
  // The worker sums what it reads and says the sum after a message of length 0.
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const { SharedRing } = require(${JSON.stringify(require.resolve('../../catalog/readers/shared-ring'))});
     const ring = new SharedRing(workerData);
     let sum = 0;
     for (;;) {
       const seen = ring.signal;
       for (let m = ring.read(); m; m = ring.read()) {
         if (!m.length) { parentPort.postMessage(sum); sum = 0; }
         for (const b of m) sum += b;
       }
       ring.waitForWrite(seen);
     }`,
    { eval: true, workerData: memory },
  );
  const answer = new Promise((resolve) => worker.once('message', resolve));
  let expected = 0;
  for (let i = 0; i < 5000; i++) {
    const m = message(1 + (i % 50), i % 7);
    while (!ring.tryWrite(m)) await new Promise((r) => setImmediate(r));
    expected += m.length * (i % 7);
  }
  while (!ring.tryWrite(Buffer.alloc(0))) await new Promise((r) => setImmediate(r));
  t.is(await answer, expected);
  await worker.terminate();
});

test('the codec carries each kind of value as it went, and refuses one it does not know', (t) => {
  const values = [
    null,
    'text',
    'ünïcödé ✓',
    '',
    0,
    -1.5,
    2 ** 53,
    Number.NaN,
    -0,
    12345678901234567890n,
    true,
    false,
  ];
  const w = new ByteWriter();
  w.values([...values, Buffer.from([1, 2, 3])]);
  w.u32s([0, 0xffffffff, 7]);
  const r = new ByteReader(Buffer.from(w.bytes));
  const back = r.values();
  t.deepEqual(back.slice(0, values.length), values);
  t.true(Object.is(back[8], -0));
  t.deepEqual([...(back[values.length] as Buffer)], [1, 2, 3]);
  t.deepEqual(r.u32s(), [0, 0xffffffff, 7]);
  t.throws(() => w.reset().value(new Date()), { instanceOf: Unsendable });
  t.throws(() => w.reset().value({ a: 1 }), { instanceOf: Unsendable });
});

test('a long text grows the writer', (t) => {
  const long = 'x'.repeat(100_000);
  const w = new ByteWriter();
  w.text(long);
  t.is(new ByteReader(Buffer.from(w.bytes)).text(), long);
});

test('an aligned u32 array comes back at any position of the message', (t) => {
  for (let lead = 0; lead < 8; lead++) {
    const w = new ByteWriter();
    for (let i = 0; i < lead; i++) w.u8(i);
    w.alignedU32s([1, 0xffffffff, 42]);
    w.u8(9);
    // A copy at an odd place in a larger buffer, as a message might lie in memory.
    const host = Buffer.alloc(w.bytes.length + 1);
    w.bytes.copy(host, 1);
    for (const msg of [Buffer.from(w.bytes), host.subarray(1)]) {
      const r = new ByteReader(msg);
      for (let i = 0; i < lead; i++) r.u8();
      t.deepEqual([...r.alignedU32s()], [1, 0xffffffff, 42]);
      t.is(r.u8(), 9);
    }
  }
});
