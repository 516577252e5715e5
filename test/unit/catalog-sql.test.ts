// catalog/sql.ts on SQLite: a transaction is all or nothing, a nested one is a savepoint, and a statement
// from outside a transaction in progress waits for it instead of landing inside it; durable() syncs the WAL.
// Statements are kept prepared, a bounded number of them, and a kept one follows a change of the schema.
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import Database from 'better-sqlite3';
import { SqliteSql, STATEMENT_CACHE_SIZE } from '../../catalog/sql';

function sql(): SqliteSql {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v integer)');
  return new SqliteSql(db);
}

const count = (s: SqliteSql) => s.value<number>('SELECT count(*) FROM t');

test('a transaction that rejects leaves nothing; one that resolves commits everything', async (t) => {
  const s = sql();
  await t.throwsAsync(
    s.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (1)');
      throw new Error('no');
    }),
    { message: 'no' },
  );
  t.is(await count(s), 0);
  t.is(
    await s.transaction(
      async (tx) => (await tx.runEach('INSERT INTO t VALUES (?)', [[1], [2], [3]])).changes,
    ),
    3,
  );
  t.is(await count(s), 3);
});

test('a nested transaction is a savepoint: its failure undoes only its own statements', async (t) => {
  const s = sql();
  await s.transaction(async (tx) => {
    await tx.run('INSERT INTO t VALUES (1)');
    await t.throwsAsync(
      tx.transaction(async (inner) => {
        await inner.run('INSERT INTO t VALUES (2)');
        throw new Error('inner');
      }),
    );
    await tx.transaction((inner) => inner.run('INSERT INTO t VALUES (3)'));
  });
  t.deepEqual(await s.column('SELECT v FROM t ORDER BY v'), [1, 3]);
});

test('statements from outside wait for the transaction in progress, and are not rolled back with it', async (t) => {
  const s = sql();
  let seenInside = -1;
  const tx = s.transaction(async (tx) => {
    await tx.run('INSERT INTO t VALUES (1)');
    await sleep(50);
    seenInside = (await tx.value<number>('SELECT count(*) FROM t')) ?? -1;
    throw new Error('rolled back');
  });
  const outside = (async () => {
    await sleep(10);
    await s.run('INSERT INTO t VALUES (2)');
    return count(s);
  })();
  await t.throwsAsync(tx);
  t.is(seenInside, 1, 'the outside insert did not land inside the transaction');
  t.is(await outside, 1, 'it ran after the rollback, and stayed');
  t.deepEqual(await s.column('SELECT v FROM t'), [2]);
});

test('durable() syncs the WAL file the commits went to, and is refused inside a transaction', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-sql-durable-'));
  const db = new Database(join(dir, 'c.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (v integer)');
  const s = new SqliteSql(db);
  try {
    await s.run('INSERT INTO t VALUES (1)');
    await s.durable();
    // The handle it synced is the WAL file's (the commit's frames are there until a checkpoint).
    const open = readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    });
    t.true(open.includes(join(dir, 'c.sqlite-wal')));
    await s.transaction(async (tx) => {
      await t.throwsAsync(tx.durable(), { message: /inside a transaction/ });
    });
    await s.durable(); // again, on the same handle
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('arrays() gives rows as arrays; the same text through all() still gives objects', async (t) => {
  const s = sql();
  await s.runEach('INSERT INTO t VALUES (?)', [[1], [2]]);
  const text = "SELECT v, 'x' || v AS w FROM t ORDER BY v";
  t.deepEqual(await s.arrays(text), [
    [1, 'x1'],
    [2, 'x2'],
  ]);
  t.deepEqual(await s.all(text), [
    { v: 1, w: 'x1' },
    { v: 2, w: 'x2' },
  ]);
  t.deepEqual(await s.arrays(text), [
    [1, 'x1'],
    [2, 'x2'],
  ]);
  await s.transaction(async (tx) => {
    await tx.run('INSERT INTO t VALUES (3)');
    t.deepEqual(await tx.arrays('SELECT v FROM t WHERE v > ?', [2]), [[3]]);
  });
});

test('one statement is kept per text, whichever form its rows are read in, in any order', async (t) => {
  const s = sql();
  await s.runEach('INSERT INTO t VALUES (?)', [[1], [2]]);
  const text = 'SELECT v, v * 10 AS w FROM t ORDER BY v';
  const kept = s.cachedStatements;
  const objects = [
    { v: 1, w: 10 },
    { v: 2, w: 20 },
  ];
  const arrays = [
    [1, 10],
    [2, 20],
  ];
  t.deepEqual(await s.column(text), [1, 2]);
  t.deepEqual(await s.all(text), objects); // from the first column's form
  t.deepEqual(await s.arrays(text), arrays);
  t.deepEqual(await s.get(text), objects[0]); // from arrays
  t.deepEqual(await s.arrays(text), arrays);
  t.is(await s.value(text), 1); // from arrays to the first column
  t.deepEqual(await s.arrays(text), arrays); // and back
  t.is(s.cachedStatements, kept + 1);
  await s.transaction(async (tx) => {
    t.deepEqual(await tx.all(text), objects);
    t.deepEqual(await tx.column(text), [1, 2]);
  });
});

test('kept statements are bounded, and one kept across a schema change sees the new schema', async (t) => {
  const s = sql();
  await s.run('INSERT INTO t VALUES (1)');
  const star = 'SELECT * FROM t';
  t.deepEqual(await s.all(star), [{ v: 1 }]);
  // As a migration does: the kept statement was compiled against the old table.
  await s.run('ALTER TABLE t ADD COLUMN w text');
  await s.run("UPDATE t SET w = 'new'");
  t.deepEqual(await s.all(star), [{ v: 1, w: 'new' }]);
  for (let i = 0; i < STATEMENT_CACHE_SIZE + 50; i++) t.is(await s.value(`SELECT ${i} + v FROM t`), i + 1);
  t.is(s.cachedStatements, STATEMENT_CACHE_SIZE);
  // An evicted text is prepared again when it comes back.
  t.is(await s.value('SELECT 0 + v FROM t'), 1);
});
