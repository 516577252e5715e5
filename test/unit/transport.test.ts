// The transport's output side over a recording stream: one corked batch per flush, small messages joined,
// large ones passed as they are (not copied), and `written` waiting for the stream's own write callback.
import { Duplex } from 'node:stream';
import test from 'ava';
import { Transport, WRITE_ALONE_BYTES } from '../../wire/transport';

const limits = { maxMessageBytes: 1 << 20, maxCopyDataBytes: 1 << 20 };

/** A stream that records each batch it is given and completes a batch only when `complete` is called. */
function recordingStream() {
  const batches: Buffer[][] = [];
  const pending: (() => void)[] = [];
  const stream = new Duplex({
    read() {},
    writev(chunks, cb) {
      batches.push(chunks.map((c) => c.chunk as Buffer));
      pending.push(() => cb());
    },
    write(chunk, _enc, cb) {
      batches.push([chunk as Buffer]);
      pending.push(() => cb());
    },
  });
  const complete = () => {
    for (const done of pending.splice(0)) done();
  };
  return { stream, batches, complete };
}

test('flush: runs of small messages joined, large buffers written as they are, in order, in one batch', async (t) => {
  const { stream, batches, complete } = recordingStream();
  const transport = new Transport(stream, limits);
  const small = [Buffer.from('ab'), Buffer.from('cd'), Buffer.from('ef')];
  const large = Buffer.alloc(WRITE_ALONE_BYTES, 1);
  const large2 = Buffer.alloc(WRITE_ALONE_BYTES + 1, 2);
  transport.send(small[0]);
  transport.send(small[1]);
  transport.send(large);
  transport.send(large2);
  transport.send(small[2]);
  const flushed = transport.flush();
  complete();
  await flushed;
  t.is(batches.length, 1);
  const [batch] = batches;
  t.is(batch.length, 4);
  t.deepEqual(batch[0], Buffer.from('abcd'));
  // The very buffers that were sent: no copy.
  t.is(batch[1], large);
  t.is(batch[2], large2);
  t.is(batch[3], small[2]);
  t.deepEqual(Buffer.concat(batch), Buffer.concat([...small.slice(0, 2), large, large2, small[2]]));
});

test('views that go on in the same memory are written as one buffer, not copied together', async (t) => {
  const { stream, batches, complete } = recordingStream();
  const transport = new Transport(stream, limits);
  // A run of rows cut in four, as a FETCH of 1000 rows sends a batch 256 rows at a time.
  const run = Buffer.alloc(2 * WRITE_ALONE_BYTES);
  for (let i = 0; i < run.length; i++) run[i] = i % 251;
  const cuts = [0, 1000, 40_000, 90_000, run.length];
  transport.send(Buffer.from('head'));
  for (let i = 0; i + 1 < cuts.length; i++) transport.send(run.subarray(cuts[i], cuts[i + 1]));
  // Not contiguous with the last piece (a gap), nor in the same memory: sent as they are.
  const apart = run.subarray(10, 20);
  const elsewhere = Buffer.alloc(WRITE_ALONE_BYTES, 7);
  transport.send(apart);
  transport.send(elsewhere);
  const flushed = transport.flush();
  complete();
  await flushed;
  const [batch] = batches;
  t.is(batch.length, 4);
  t.deepEqual(batch[0], Buffer.from('head'));
  // The whole run, as one view of its own memory.
  t.is(batch[1].buffer, run.buffer);
  t.is(batch[1].byteOffset, run.byteOffset);
  t.is(batch[1].length, run.length);
  t.deepEqual(batch[2], apart);
  t.is(batch[3], elsewhere);
  t.deepEqual(Buffer.concat(batch), Buffer.concat([Buffer.from('head'), run, apart, elsewhere]));
});

test('flush({ written }) resolves only once the stream has taken every byte', async (t) => {
  const { stream, batches, complete } = recordingStream();
  const transport = new Transport(stream, limits);
  transport.send(Buffer.from('header'));
  transport.send(Buffer.alloc(WRITE_ALONE_BYTES, 3));
  let settled = false;
  const flushed = transport.flush({ written: true }).then(() => {
    settled = true;
  });
  await new Promise((r) => setImmediate(r));
  t.is(batches.length, 1);
  t.false(settled, 'the write is not done yet: the sender may not reuse its buffer');
  complete();
  await flushed;
  t.true(settled);
});

test('flush({ written }) resolves when the stream closes before the write is done', async (t) => {
  const { stream } = recordingStream();
  const transport = new Transport(stream, limits);
  transport.send(Buffer.alloc(WRITE_ALONE_BYTES, 4));
  const flushed = transport.flush({ written: true });
  await new Promise((r) => setImmediate(r));
  stream.destroy();
  await flushed;
  t.true(stream.destroyed);
});
