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
