// node-postgres (extended protocol, unnamed statements) and postgres.js (named statements, Describe + Flush)
// against the real server.
import test from 'ava';
import pg from 'pg';
import postgres from 'postgres';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  // 100 connections of one test run beside the other tests' own: room above PostgreSQL's default of 100.
  server = await startTestServer({ limits: { maxConnections: 150 } });
});
test.after.always(async () => {
  await server?.stop();
});

test('pg: SCRAM login, parameterised query on sys.tasks returns typed values', async (t) => {
  const client = new pg.Client(server.pgConfig);
  await client.connect();
  try {
    const r = await client.query(
      'SELECT count(*) AS n, $1::int4 + 1 AS next, now() AS at, true AS yes, 1.5::float8 AS f FROM sys.tasks WHERE status = $2',
      [41, 'RUNNING'],
    );
    t.is(r.rows[0].n, '0'); // int8 comes back as a string in pg, as from PostgreSQL
    t.is(r.rows[0].next, 42);
    t.true(r.rows[0].at instanceof Date);
    t.is(r.rows[0].yes, true);
    t.is(r.rows[0].f, 1.5);
    const types = Object.fromEntries(r.fields.map((f) => [f.name, f.dataTypeID]));
    t.deepEqual(types, { n: 20, next: 23, at: 1184, yes: 16, f: 701 });
    const cols = await client.query(
      'SELECT id, created_at, bytes_total, fraction_complete FROM sys.tasks LIMIT 0',
    );
    t.deepEqual(
      cols.fields.map((f) => f.dataTypeID),
      [2950, 1184, 20, 701],
    );
  } finally {
    await client.end();
  }
});

test('pg: an error carries its SQLSTATE and the session keeps working', async (t) => {
  const client = new pg.Client(server.pgConfig);
  await client.connect();
  try {
    const e = await t.throwsAsync<Error & { code: string; position: string }>(
      client.query('SELECT nope FROM sys.tasks'),
    );
    t.is(e?.code, '42703');
    const e2 = await t.throwsAsync<Error & { code: string }>(client.query('SELECT * FROM no_such_table'));
    t.is(e2?.code, '42P01');
    const e3 = await t.throwsAsync<Error & { code: string }>(client.query('DELETE FROM sys.tasks'));
    t.is(e3?.code, '42501');
    const r = await client.query('SELECT 1 AS one');
    t.is(r.rows[0].one, 1);
  } finally {
    await client.end();
  }
});

test('pg: wrong password is 28P01 and says nothing about whether the user exists', async (t) => {
  for (const user of ['admin', 'nobody']) {
    const client = new pg.Client({ ...server.pgConfig, user, password: 'wrong' });
    const e = await t.throwsAsync<Error & { code: string }>(client.connect());
    t.is(e?.code, '28P01');
    t.is(e?.message, `password authentication failed for user "${user}"`);
  }
});

test('pg: CancelRequest stops a running query with 57014', async (t) => {
  const client = new pg.Client(server.pgConfig);
  await client.connect();
  try {
    const slow = client.query(
      'SELECT count(*) FROM generate_series(1, 5000) a, generate_series(1, 5000) b, generate_series(1, 4) c',
    );
    await new Promise((r) => setTimeout(r, 300));
    // pg's own cancel path: a new connection that sends CancelRequest with this backend's key.
    const canceller = new pg.Client(server.pgConfig) as unknown as {
      cancel(client: unknown, query: unknown): void;
    };
    canceller.cancel(client, (client as unknown as { activeQuery: unknown }).activeQuery);
    const e = await t.throwsAsync<Error & { code: string }>(slow);
    t.is(e?.code, '57014');
    const r = await client.query('SELECT 2 AS two');
    t.is(r.rows[0].two, 2);
  } finally {
    await client.end();
  }
});

test.serial('a slow query on one connection does not stall SELECT 1 on another', async (t) => {
  const slowClient = new pg.Client(server.pgConfig);
  const fast = new pg.Client(server.pgConfig);
  await slowClient.connect();
  await fast.connect();
  try {
    const started = Date.now();
    const slow = slowClient.query(
      'SELECT count(*) FROM generate_series(1, 3000) a, generate_series(1, 3000) b',
    );
    await new Promise((r) => setTimeout(r, 100));
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = process.hrtime.bigint();
      await fast.query('SELECT 1');
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    await slow;
    const slowMs = Date.now() - started;
    times.sort((a, b) => a - b);
    const median = times[10];
    t.log(`slow query ${slowMs} ms; SELECT 1 median ${median.toFixed(2)} ms, max ${times[19].toFixed(2)} ms`);
    t.true(slowMs > 200, 'the slow query really was slow');
    t.true(median < 50, `SELECT 1 stayed fast (median ${median} ms)`);
  } finally {
    await slowClient.end();
    await fast.end();
  }
});

test('postgres.js: connects (runs its pg_type query), named statements, typed values, errors', async (t) => {
  const sql = postgres({ ...server.pgConfig, username: 'admin', max: 1, onnotice: () => {} });
  try {
    const rows =
      await sql`SELECT count(*)::int8 AS n, ${'x'}::text AS s, id FROM sys.tasks WHERE name = ${'nope'} GROUP BY id`;
    t.is(rows.length, 0);
    const [one] = await sql`SELECT ${7}::int4 * 6 AS v, current_user AS u`;
    t.is(one.v, 42);
    t.is(one.u, 'admin');
    for (let i = 0; i < 3; i++) {
      const [r] = await sql`SELECT ${i}::int4 AS i`;
      t.is(r.i, i);
    }
    const e = await t.throwsAsync<Error & { code: string }>(sql`SELECT * FROM sys.nothing`);
    t.is(e?.code, '42P01');
    const [again] = await sql`SELECT 'ok' AS fine`;
    t.is(again.fine, 'ok');
  } finally {
    await sql.end();
  }
});

test('100 concurrent connections each run a query', async (t) => {
  const clients = Array.from({ length: 100 }, () => new pg.Client(server.pgConfig));
  await Promise.all(clients.map((c) => c.connect()));
  try {
    const results = await Promise.all(
      clients.map((c, i) => c.query('SELECT $1::int4 AS i, count(*) AS n FROM sys.tasks', [i])),
    );
    t.deepEqual(
      results.map((r) => r.rows[0].i),
      Array.from({ length: 100 }, (_, i) => i),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
});
