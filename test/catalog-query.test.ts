// The SELECT path over the catalog: translation, typing, constants turned into parameters.
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
let client: pg.Client;
test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  await client.connect();
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

test('integer parameters stay integers through casts and arithmetic', async (t) => {
  const r = await client.query('SELECT $1::int4::text AS s, $1::int4 * 2 AS d, lpad($1::text, 5, $2) AS p', [
    42,
    '0',
  ]);
  t.deepEqual(r.rows[0], { s: '42', d: 84, p: '00042' });
});

test('simple-protocol constants become parameters without changing results or column types', async (t) => {
  // pg without parameters uses the simple protocol
  const r = await client.query(
    "SELECT 1 AS one, 'a' AS a, 2.5 AS n, 3000000000 AS big, lpad(7::text, 3, '0') AS p",
  );
  t.deepEqual(r.rows[0], { one: 1, a: 'a', n: '2.5', big: '3000000000', p: '007' });
  t.deepEqual(
    r.fields.map((f) => f.dataTypeID),
    [23, 25, 1700, 20, 25],
  );
  // positions in ORDER BY stay positions, typed literals stay typed
  const o = await client.query('SELECT value AS v FROM generate_series(1, 3) AS g(value) ORDER BY 1 DESC');
  t.deepEqual(
    o.rows.map((x) => x.v),
    [3, 2, 1],
  );
  const iv = await client.query("SELECT now() - interval '1 hour' < now() AS earlier");
  t.is(iv.rows[0].earlier, true);
  // a bad constant is reported as PostgreSQL would
  const e = await t.throwsAsync<Error & { code: string }>(
    client.query("SELECT * FROM sys.tasks WHERE id = 'not-a-uuid'"),
  );
  t.is(e?.code, '22P02');
});

test('boolean columns and expressions print as PostgreSQL prints them', async (t) => {
  const r = await client.query("SELECT true AS t, 1 = 2 AS f, 'x' || true AS s, NOT false AS n");
  t.deepEqual(r.rows[0], { t: true, f: false, s: 'xtrue', n: true });
});

test('a relation outside the search path gets a hint naming sys', async (t) => {
  const e = await t.throwsAsync<Error & { code: string; hint: string }>(client.query('SELECT * FROM tasks'));
  t.is(e?.code, '42P01');
  t.regex(e?.hint ?? '', /sys\.tasks/);
});

test('user SQL cannot write the catalog, by any route', async (t) => {
  for (const sql of [
    "INSERT INTO sys.tasks (id) VALUES ('x')",
    'UPDATE sys.tasks SET status = 1',
    'DROP TABLE sys.tasks',
    "ATTACH DATABASE '/tmp/x' AS x",
    'PRAGMA journal_mode = DELETE',
    'CREATE TABLE foo (a int)',
  ]) {
    const e = await t.throwsAsync<Error & { code: string }>(client.query(sql), undefined, sql);
    t.true(['42501', '0A000'].includes(e?.code ?? ''), `${sql}: ${e?.code}`);
  }
  const e = await t.throwsAsync<Error & { code: string }>(
    client.query('WITH x AS (DELETE FROM sys.tasks RETURNING *) SELECT * FROM x'),
  );
  t.truthy(e?.code);
  const r = await client.query('SELECT count(*)::int4 AS n FROM sys.tasks');
  t.is(r.rows[0].n, 0);
});

test('timestamp arithmetic: differences are intervals, extract(epoch) measures them', async (t) => {
  const r = await client.query(
    "SELECT ('2026-11-27 20:16:30.5+00'::timestamptz - '2026-11-27 20:15:00+00'::timestamptz)::text AS took, '2026-11-28 20:15:00+00'::timestamptz - '2026-11-27 20:15:00+00'::timestamptz AS day, extract(epoch FROM '2026-11-27 20:16:30.5+00'::timestamptz - '2026-11-27 20:15:00+00'::timestamptz) AS secs, '2026-11-27 20:00:00+00'::timestamptz + interval '90 minutes' AS later",
  );
  t.is(r.rows[0].took, '00:01:30.5');
  t.is(r.rows[0].day.days, 1);
  t.is(Number(r.rows[0].secs), 90.5);
  t.is(r.rows[0].later.toISOString(), '2026-11-27T21:30:00.000Z');
  t.deepEqual(
    r.fields.map((f) => f.dataTypeID),
    [25, 1186, 1700, 1184],
  );
});

test('JSON ->> gives PostgreSQL text, division by zero is 22012, integer division stays integer', async (t) => {
  const r = await client.query(
    `SELECT '{"fix": false, "rate": 0.1, "name": "x"}'::json ->> 'fix' AS fix, '{"fix": false, "rate": 0.1, "name": "x"}'::json ->> 'name' AS name, 7 / 2 AS i, 7.0 / 2 AS n`,
  );
  t.deepEqual(r.rows[0], { fix: 'false', name: 'x', i: 3, n: '3.5' });
  const e = await t.throwsAsync<Error & { code: string }>(client.query('SELECT 1 / 0'));
  t.is(e?.code, '22012');
});
