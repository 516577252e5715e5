// A run of DataRow messages encoded together: cut into views of exactly its rows' messages, never copied.
import test from 'ava';
import { encodeDataRow, encodeDataRows } from '../../pg/data-row';
import { Oid } from '../../pg/types';
import { DataRowRun } from '../../wire/data-row-run';

const OIDS = [Oid.int4, Oid.text];
const rows = Array.from({ length: 7 }, (_, i) => [i + 1, i % 3 ? 'x'.repeat(i * 5) : null]);
const message = (i: number) => encodeDataRow(rows[i], OIDS, []);
const run = () => DataRowRun.of(encodeDataRows(rows, OIDS, []));

test('a run holds its batch: each row its own DataRow message, and all of them back to back', (t) => {
  const r = run();
  t.is(r.length, 7);
  for (let i = 0; i < 7; i++) t.deepEqual(r.at(i), message(i));
  t.is(r.at(7), undefined);
  t.is(r.at(-1), undefined);
  t.deepEqual(r.bytes, Buffer.concat(rows.map((_, i) => message(i))));
});

test('slices are the rows of Array.prototype.slice, as views of the same bytes', (t) => {
  const r = run();
  const cases: [number, number | undefined][] = [
    [0, 7],
    [2, 5],
    [5, undefined],
    [3, 3],
    [6, 99],
    [9, 12],
    [4, 2],
  ];
  for (const [from, to] of cases) {
    const s = r.slice(from, to);
    const want = rows.map((_, i) => i).slice(from, to);
    t.is(s.length, want.length, `${from}..${to}`);
    t.deepEqual(s.bytes, Buffer.concat(want.map(message)), `${from}..${to}`);
  }
  // A slice of a slice counts from its own first row.
  const inner = r.slice(1, 6).slice(2, 4);
  t.deepEqual([inner.at(0), inner.at(1)], [message(3), message(4)]);
  // Views: a slice shares the batch's memory.
  t.is(inner.bytes.buffer, r.bytes.buffer);
});
