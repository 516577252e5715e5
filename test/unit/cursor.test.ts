// Cursor positioning as PostgreSQL's DoPortalRunFetch does it, over a materialized source.
import test from 'ava';
import { ALL, Cursor, type FetchDirection, materializedRows } from '../../wire/cursor';

const five = (scrollable = true) => new Cursor(materializedRows([[1], [2], [3], [4], [5]]), scrollable);
const fetch = async (c: Cursor, d: FetchDirection, move = false) => (await c.fetch(d, move)).map((r) => r[0]);

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
  t.is((await c.fetch({ kind: 'forward', count: 0 }, true)).length, 0);
  t.is((await c.fetch({ kind: 'forward', count: 3 }, true)).length, 3);
  t.is((await c.fetch({ kind: 'forward', count: 0 }, true)).length, 1);
  t.is((await c.fetch({ kind: 'forward', count: ALL }, true)).length, 2);
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
  t.is((await c.fetch({ kind: 'forward', count: ALL })).length, 2498);
  t.true(await c.hasMore().then((m) => !m));
});
