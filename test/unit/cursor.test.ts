// Cursor positioning as PostgreSQL's DoPortalRunFetch does it, over a materialized source, and over batches of
// encoded DataRow messages, which it hands out cut where each FETCH ends.
import test from 'ava';
import { encodeDataRows } from '../../pg/data-row';
import { Oid } from '../../pg/types';
import {
  ALL,
  Cursor,
  type FetchDirection,
  materializedRows,
  type RowSource,
  rowCount,
} from '../../wire/cursor';
import { DataRowRun } from '../../wire/data-row-run';
import type { RowBatch } from '../../wire/handler';

const five = (scrollable = true) => new Cursor(materializedRows([[1], [2], [3], [4], [5]]), scrollable);
// The first column of each row fetched, out of the batches the cursor hands them out in.
const fetch = async (c: Cursor, d: FetchDirection, move = false) =>
  (await c.fetch(d, move)).flatMap((b) =>
    Array.from({ length: b.length }, (_, i) => (b.at(i) as unknown[])[0]),
  );

test('FORWARD, BACKWARD, ALL and running off either end', async (t) => {
  const c = five();
  t.deepEqual(await fetch(c, { kind: 'forward', count: 2 }), [1, 2]);
  t.deepEqual(await fetch(c, { kind: 'backward', count: 1 }), [1]);
  t.deepEqual(await fetch(c, { kind: 'backward', count: 5 }), []);
  t.deepEqual(await fetch(c, { kind: 'forward', count: ALL }), [1, 2, 3, 4, 5]);
  t.deepEqual(await fetch(c, { kind: 'forward', count: 1 }), []);
  // After the end, PRIOR is the last row.
  t.deepEqual(await fetch(c, { kind: 'backward', count: 1 }), [5]);
  t.deepEqual(await fetch(c, { kind: 'backward', count: ALL }), [4, 3, 2, 1]);
  t.deepEqual(await fetch(c, { kind: 'forward', count: 1 }), [1]);
});

test('ABSOLUTE and RELATIVE, positive and negative, and FETCH 0 refetching the current row', async (t) => {
  const c = five();
  t.deepEqual(await fetch(c, { kind: 'absolute', count: -1 }), [5]);
  t.deepEqual(await fetch(c, { kind: 'absolute', count: 2 }), [2]);
  t.deepEqual(await fetch(c, { kind: 'relative', count: 2 }), [4]);
  t.deepEqual(await fetch(c, { kind: 'relative', count: -3 }), [1]);
  t.deepEqual(await fetch(c, { kind: 'forward', count: 0 }), [1]);
  t.deepEqual(await fetch(c, { kind: 'relative', count: 0 }), [1]);
  t.deepEqual(await fetch(c, { kind: 'absolute', count: 9 }), []);
  t.deepEqual(await fetch(c, { kind: 'backward', count: 1 }), [5]);
  t.deepEqual(await fetch(c, { kind: 'absolute', count: -9 }), []);
  t.deepEqual(await fetch(c, { kind: 'forward', count: 1 }), [1]);
  t.deepEqual(await fetch(c, { kind: 'absolute', count: 0 }), []);
  t.deepEqual(await fetch(c, { kind: 'forward', count: -1 }), []);
});

test('MOVE counts what FETCH would return; MOVE 0 says whether it is on a row', async (t) => {
  const c = five();
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 0 }, true)), 0);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 3 }, true)), 3);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 0 }, true)), 1);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: ALL }, true)), 2);
  t.deepEqual(await fetch(c, { kind: 'backward', count: 1 }), [5]);
});

test('a NO SCROLL cursor goes forward only: 55000 for backward moves and rewinds, with the hint', async (t) => {
  const c = five(false);
  // Going to the first row before moving is no rewind.
  t.deepEqual(await fetch(c, { kind: 'absolute', count: 1 }), [1]);
  t.deepEqual(await fetch(c, { kind: 'absolute', count: 3 }), [3]);
  t.deepEqual(await fetch(c, { kind: 'relative', count: 1 }), [4]);
  // FETCH 0 on a row refetches it by going back one.
  for (const d of [
    { kind: 'forward', count: 0 },
    { kind: 'backward', count: 1 },
    { kind: 'absolute', count: 1 },
    { kind: 'relative', count: -1 },
  ] as FetchDirection[]) {
    const err = await t.throwsAsync(c.fetch(d));
    t.is((err as { code?: string }).code, '55000', JSON.stringify(d));
  }
  t.deepEqual(await fetch(c, { kind: 'forward', count: ALL }), [5]);
  const err = await t.throwsAsync(c.fetch({ kind: 'absolute', count: -1 }));
  t.is(err?.message, 'cursor can only scan forward');
  // After the end, FETCH 0 has no row to return: no error.
  t.deepEqual(await fetch(c, { kind: 'forward', count: 0 }), []);
});

test('rows are pulled from the source in batches, not all at DECLARE', async (t) => {
  const pulls: number[] = [];
  let next = 0;
  const source = {
    async pull(max: number) {
      pulls.push(max);
      const rows: unknown[][] = [];
      while (rows.length < max && next < 2500) rows.push([++next]);
      return rows;
    },
    close() {},
  };
  const c = new Cursor(source, false);
  t.deepEqual(await fetch(c, { kind: 'forward', count: 2 }), [1, 2]);
  t.is(pulls.length, 1);
  t.is(next, 1000);
  t.is(rowCount(await c.fetch({ kind: 'forward', count: ALL })), 2498);
  t.true(await c.hasMore().then((m) => !m));
});

/** A source of `total` int4 rows numbered from 1, in encoded runs of `per` rows, recording what it gives. */
function runs(total: number, per: number) {
  let next = 1;
  const given: number[] = [];
  const source: RowSource = {
    async pull() {
      const values: unknown[][] = [];
      while (values.length < per && next <= total) values.push([next++]);
      given.push(values.length);
      return values.length ? DataRowRun.of(encodeDataRows(values, [Oid.int4], [])) : [];
    },
    close() {},
  };
  return { source, given };
}

/** The int4 values of DataRow messages (text format), out of their batches. */
const numbers = (batches: RowBatch[]) =>
  batches.flatMap((b) =>
    Array.from({ length: b.length }, (_, i) => {
      const m = b.at(i) as Buffer;
      return Number(m.subarray(11, 11 + m.readInt32BE(7)).toString());
    }),
  );

test('encoded runs are handed out whole where they can be, cut where a FETCH ends, in order', async (t) => {
  const { source } = runs(5000, 700);
  const c = new Cursor(source, false);
  const first = await c.fetch({ kind: 'forward', count: 1000 });
  // 1000 rows of runs of 700: the first run whole, 300 rows of the second.
  t.true(first.every((b) => b instanceof DataRowRun));
  t.deepEqual(
    first.map((b) => b.length),
    [700, 300],
  );
  t.deepEqual(
    numbers(first),
    Array.from({ length: 1000 }, (_, i) => i + 1),
  );
  const second = await c.fetch({ kind: 'forward', count: 1000 });
  t.deepEqual(
    second.map((b) => b.length),
    [400, 600],
  );
  t.deepEqual(
    numbers(second),
    Array.from({ length: 1000 }, (_, i) => i + 1001),
  );
  t.is(rowCount(await c.fetch({ kind: 'forward', count: 3 }, true)), 3);
  t.deepEqual(
    numbers(await c.fetch({ kind: 'forward', count: ALL })),
    Array.from({ length: 2997 }, (_, i) => i + 2004),
  );
});

test('a forward-only cursor forgets the runs behind it; a scrollable one finds any row among its runs', async (t) => {
  const forward = new Cursor(runs(100_000, 100).source, false);
  for (let i = 0; i < 500; i++) await forward.fetch({ kind: 'forward', count: 100 });
  // What it keeps is bounded: at most a batch behind the position and the run it is in.
  t.true((forward as unknown as { kept: RowBatch[] }).kept.length <= 11);
  t.deepEqual(numbers(await forward.fetch({ kind: 'forward', count: 2 })), [50_001, 50_002]);

  const scroll = new Cursor(runs(10_000, 333).source, true);
  t.deepEqual(numbers(await scroll.fetch({ kind: 'absolute', count: 9000 })), [9000]);
  t.deepEqual(numbers(await scroll.fetch({ kind: 'backward', count: 3 })), [8999, 8998, 8997]);
  t.deepEqual(numbers(await scroll.fetch({ kind: 'absolute', count: 334 })), [334]);
  t.deepEqual(numbers(await scroll.fetch({ kind: 'relative', count: -1 })), [333]);
  t.deepEqual(numbers(await scroll.fetch({ kind: 'absolute', count: -1 })), [10_000]);
  t.deepEqual(numbers(await scroll.fetch({ kind: 'forward', count: 0 })), [10_000]);
});
