// A streamed result as the wire reads it: one batch asked for ahead and no more (a portal), exact pulls in the
// FETCH's formats (a cursor), the producer freed on close and stopped by a cancel.
import test from 'ava';
import { signalOf } from '../../pg/cancel';
import { Cursor, rowCount, streamedRows } from '../../wire/cursor';
import type { ResultRow, RowStream } from '../../wire/handler';

/** A producer of `total` rows numbered from 1 that records what it is asked. */
function producer(total: number, from = 1) {
  const asked: { max: number; formats?: number[] }[] = [];
  const signals: AbortSignal[] = [];
  let next = from;
  let closed = 0;
  const stream: RowStream = {
    async next(max, cancel, formats) {
      asked.push({ max, formats });
      // As a producer that listens for the abort (a reader's cursor) takes it.
      const signal = signalOf(cancel);
      if (signal) signals.push(signal);
      const rows: ResultRow[] = [];
      while (rows.length < max && next <= total) rows.push([next++]);
      return { rows, done: next > total };
    },
    close() {
      closed++;
    },
  };
  return { stream, asked, signals, closed: () => closed };
}

test('a portal reads one batch ahead and no more, and frees the producer when closed early', async (t) => {
  const p = producer(100_000, 3);
  const source = streamedRows([[1], [2]], p.stream, true);
  t.deepEqual(await source.pull(2), [[1], [2]]);
  // The first rows are sent: one batch is asked for while they are, not more.
  await new Promise((r) => setImmediate(r));
  t.is(p.asked.length, 1);
  const batch = await source.pull(1000);
  t.deepEqual(batch.at(0), [3]);
  await new Promise((r) => setImmediate(r));
  t.is(p.asked.length, 2);
  source.close();
  t.is(p.closed(), 1);
  t.deepEqual(await source.pull(1000), []);
});

test('the producer is not closed again after its last row', async (t) => {
  const p = producer(5, 2);
  const c = new Cursor(streamedRows([[1]], p.stream, true), false);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 10 })), 5);
  c.close();
  t.is(p.closed(), 0);
});

test('a cursor pulls exactly the rows of each FETCH, in its formats', async (t) => {
  const p = producer(10_000, 1);
  const c = new Cursor(streamedRows([], p.stream, false), false);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 7 }, false, undefined, [1])), 7);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 3 }, false, undefined, [])), 3);
  t.deepEqual(p.asked, [
    { max: 7, formats: [1] },
    { max: 3, formats: [] },
  ]);
});

test('a cancel of the statement waiting for a batch aborts the producer', async (t) => {
  const p = producer(10_000, 2);
  const source = streamedRows([[1]], p.stream, true);
  await source.pull(1);
  const statement = new AbortController();
  const pulling = source.pull(1000, statement.signal);
  statement.abort(new Error('canceled'));
  await pulling;
  t.true(p.signals.every((s) => s === p.signals[0]));
  t.true(p.signals[0].aborted);
});
