// A streamed query stepped in runs (catalog/readers/row-runs.ts): the same rows, values and order as the
// statement's own iterator gives, whatever the query's shape, runs of the size asked for, and an error after
// some rows coming after those rows.
import test from 'ava';
import Database from 'better-sqlite3';
import { RowRuns, runsSql } from '../../catalog/readers/row-runs';

function setup(maxBytes = 1024 * 1024) {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB);
    INSERT INTO t VALUES (3, 1.5, 'c', x'00ff'), (1, NULL, 'a', NULL), (2, -0.25, 'é', x''),
      (9007199254740993, 1e300, '', x'01'), (NULL, 2.0, NULL, NULL);`);
  let failAt = Number.POSITIVE_INFINITY;
  db.function('fail_at', { deterministic: false }, (n: unknown) => {
    if (Number(n) >= failAt) throw new Error(`failed at ${n}`);
    return n as number;
  });
  const runs = new RowRuns(db, maxBytes);
  const plain = (sql: string) => db.prepare(sql).raw(true).all() as unknown[][];
  const inRuns = (sql: string, runRows: number) => {
    const columns = db.prepare(sql).columns().length;
    const source = runs.rows(db.prepare(runsSql(sql, columns)!).iterate());
    const rows: unknown[][] = [];
    for (;;) {
      source.expect(runRows);
      const r = source.next();
      if (r.done) return rows;
      rows.push(r.value);
    }
  };
  return { db, runs, plain, inRuns, failAfter: (n: number) => (failAt = n) };
}

test("the rows, their values and their order are the plain iterator's, for every shape of query", (t) => {
  const { plain, inRuns } = setup();
  const queries = [
    'SELECT * FROM t',
    'SELECT i, s FROM t ORDER BY i DESC',
    'SELECT s, i, s FROM t ORDER BY s LIMIT 3',
    'SELECT i, i FROM t ORDER BY 1 LIMIT 2 OFFSET 1',
    'SELECT count(*), max(s) FROM t GROUP BY i IS NULL ORDER BY 1',
    'SELECT DISTINCT i % 2 FROM t ORDER BY 1',
    'SELECT i FROM t UNION ALL SELECT i + 10 FROM t ORDER BY 1 DESC',
    'WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 1000) SELECT v, v * v FROM s',
    'SELECT i, row_number() OVER (ORDER BY s DESC) FROM t ORDER BY 2',
    "VALUES (1, 'x'), (2, NULL)",
  ];
  for (const q of queries)
    for (const runRows of [1, 2, 7, 5000])
      t.deepEqual(inRuns(q, runRows), plain(q), `${q}, runs of ${runRows}`);
});

test('a run stops at the rows expected or at its bytes, whichever comes first', (t) => {
  const { db, runs } = setup(10_000);
  const sql =
    "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 1000) SELECT v, printf('%100d', v) FROM s";
  const wrapped = runsSql(sql, 2)!;
  t.regex(wrapped, /LIMIT -1 OFFSET 0/);
  const it = db.prepare(wrapped).iterate();
  let steps = 0;
  const source = runs.rows({
    next: () => {
      steps++;
      return it.next();
    },
    return: () => it.return?.() ?? { value: undefined, done: true },
  });
  source.expect(10);
  for (let i = 0; i < 10; i++) t.false(source.next().done);
  t.is(steps, 1, 'ten rows in one run');
  source.expect(1000);
  let n = 10;
  while (!source.next().done) n++;
  t.is(n, 1000);
  // 10,000 bytes hold about 30 of these rows (rowBytes): the rest came in many runs, not one.
  t.true(steps > 20, `${steps} runs`);
});

test('an error after some rows of a run comes once those rows are out; closing early ends the statement', (t) => {
  const { db, runs, inRuns, failAfter } = setup();
  failAfter(5);
  const sql =
    'WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < 10) SELECT fail_at(v) FROM s';
  const source = runs.rows(db.prepare(runsSql(sql, 1)!).iterate());
  source.expect(100);
  const got: unknown[] = [];
  const e = t.throws(() => {
    for (;;) {
      const r = source.next();
      if (r.done) break;
      got.push(r.value[0]);
    }
  });
  t.regex(e!.message, /failed at 5/);
  t.deepEqual(got, [1, 2, 3, 4]);
  t.true(source.next().done, 'ended after the error');
  failAfter(Number.POSITIVE_INFINITY);
  t.deepEqual(
    inRuns(sql, 3).map((r) => r[0]),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const open = runs.rows(db.prepare(runsSql(sql, 1)!).iterate());
  open.expect(2);
  t.false(open.next().done);
  open.return!();
  t.true(open.next().done);
  // The connection is free again: a statement that writes runs (it could not while the cursor was open).
  t.notThrows(() => db.exec('CREATE TABLE u(x)'));
});

test('queries a run cannot carry stream row by row', (t) => {
  t.is(runsSql('SELECT 1', 0), null);
  t.is(runsSql('SELECT 1', 1001), null);
  t.truthy(runsSql('SELECT 1', 1000));
});
