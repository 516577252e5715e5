// Which translated statements the wire thread may run itself (catalog/readers/bounded-plan.ts): judged from
// SQLite's own plan on a scratch database, lookups by a whole unique key and constant rows only.
import test from 'ava';
import Database from 'better-sqlite3';
import { callsAmplifier, isBoundedPlan } from '../../catalog/readers/bounded-plan';

const db = new Database(':memory:');
db.exec(`
  CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT UNIQUE, a TEXT, b TEXT, c TEXT, UNIQUE (a, b));
  CREATE INDEX t_c ON t (c);
  CREATE UNIQUE INDEX t_lower_c ON t (lower(c));
  CREATE UNIQUE INDEX t_partial ON t (b) WHERE b IS NOT NULL;
  CREATE TABLE s (id INTEGER PRIMARY KEY, t_id INTEGER, name TEXT);
`);
const bounded = (sql: string, params = 0) => isBoundedPlan(db, sql, params);

test('a lookup by the integer primary key or a whole unique key is bounded', (t) => {
  t.true(bounded('SELECT * FROM t WHERE id = ?1', 1));
  t.true(bounded('SELECT * FROM t WHERE u = ?1', 1));
  t.true(bounded('SELECT * FROM t WHERE a = ?1 AND b = ?2', 2));
  t.true(bounded('SELECT u, upper(a) FROM t WHERE id = ?1', 1));
  // An IN list: one lookup per element, bounded by the statement's length.
  t.true(bounded('SELECT * FROM t WHERE id IN (?1, ?2, ?3)', 3));
});

test('a statement that reads no table is bounded', (t) => {
  t.true(bounded('SELECT 1'));
  t.true(bounded('SELECT ?1 || ?2', 2));
  t.true(bounded('SELECT 1 UNION ALL SELECT 2'));
});

test('a join whose every table is reached by a whole key is bounded', (t) => {
  t.true(bounded('SELECT * FROM s JOIN t ON t.id = s.t_id WHERE s.id = ?1', 1));
  t.true(bounded('SELECT (SELECT u FROM t WHERE t.id = s.t_id) FROM s WHERE s.id = ?1', 1));
});

test('scans, part of a key, non-unique, partial and expression indexes are not bounded', (t) => {
  t.false(bounded('SELECT * FROM t'));
  t.false(bounded('SELECT count(*) FROM t'));
  t.false(bounded('SELECT * FROM t WHERE a = ?1', 1)); // the first column of UNIQUE (a, b)
  t.false(bounded('SELECT * FROM t WHERE c = ?1', 1)); // t_c is not unique
  t.false(bounded('SELECT * FROM t WHERE id > ?1', 1));
  t.false(bounded('SELECT * FROM t WHERE lower(c) = ?1', 1));
  t.false(bounded('SELECT * FROM t WHERE b = ?1 AND b IS NOT NULL', 1));
  t.false(bounded('SELECT * FROM s JOIN t ON t.c = s.name WHERE s.id = ?1', 1));
  t.false(bounded('SELECT * FROM t WHERE id IN (SELECT t_id FROM s)'));
  t.false(bounded('SELECT * FROM (SELECT * FROM t LIMIT 5) x WHERE x.id = 1'));
  t.false(bounded('WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r LIMIT 5'));
  t.false(bounded('SELECT * FROM json_each(?1)', 1));
});

test('native functions that can make a large value from a small one are not bounded', (t) => {
  t.false(bounded('SELECT zeroblob(?1)', 1));
  t.false(bounded("SELECT printf('%*d', ?1, 1)", 1));
  t.false(bounded("SELECT replace(?1, 'a', ?2) FROM t WHERE id = 1", 2));
  t.false(bounded('SELECT RandomBlob (?1)', 1));
  t.true(callsAmplifier('SELECT zeroblob(1)'));
  t.true(callsAmplifier('SELECT "zeroblob" (1)'));
  // A name inside a string, or a quoted name not called, is no call.
  t.false(callsAmplifier(`SELECT 'zeroblob(1)', "replace" FROM t`));
});

test('a statement SQLite cannot plan is not bounded', (t) => {
  t.false(bounded('SELECT * FROM nowhere WHERE id = ?1', 1));
});
