// Bounded work per turn of the event loop: while one connection sends a pathological statement or asks for
// a large result (and reads it, or does not), SELECT 1 on another connection is answered with p99 < 50 ms.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { startLatencyProbe } from './helpers/latency';
import { type ServerProcess, startServerProcess } from './helpers/process';
import { ADMIN_PASSWORD } from './helpers/server';

// The server runs in a process of its own and the probe in a worker thread: what is measured is the
// server's event loop, not the test client's parsing of what it sent or received.
let server: ServerProcess & { pgConfig: pg.ClientConfig };
let dataDir: string;

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'segtasks-bound-'));
  const p = await startServerProcess(dataDir);
  server = Object.assign(p, {
    pgConfig: {
      host: '127.0.0.1',
      port: p.port,
      user: 'admin',
      password: ADMIN_PASSWORD,
      database: 'segtasks',
    },
  });
  const admin = new pg.Client(server.pgConfig);
  await admin.connect();
  await admin.query("CREATE USER plain WITH PASSWORD 'plain-pw'");
  // A server that has run for a while has its hot paths compiled: warm them with small versions of the cases.
  for (let i = 0; i < 50; i++) {
    await admin.query('SELECT 1');
    await admin.query(`SET application_name = ${','.repeat(1000)}`).catch(() => {});
    await admin.query("SELECT g, repeat('x', 40) AS pad FROM generate_series(1, 5000) g");
  }
  await admin.end();
});
test.after.always(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The bound on the longest single wait while one statement is refused (it was 2.8 s while the 9.8 MB
 * statement was lexed whole to learn it was not blank). */
const STATEMENT_MAX_MS = 1500;

/**
 * The target is p99 < 50 ms (docs/robustness.md has the figures). The assertion allows more because the test
 * machines run several suites on two cores at once; what it must catch is the old behaviour, where one
 * statement held every other connection for seconds.
 */
const P99_MS = 250;

/** Runs work while a probe measures SELECT 1 on another connection; returns the work's result. */
async function whileMeasuring<T>(
  t: import('ava').ExecutionContext,
  what: string,
  work: () => Promise<T>,
  maxMs = Number.POSITIVE_INFINITY,
): Promise<T> {
  const probe = await startLatencyProbe(server.pgConfig);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  let result: T;
  try {
    result = await work();
  } finally {
    await new Promise((r) => setTimeout(r, 100));
  }
  const took = Math.round(performance.now() - t0);
  const report = await probe.stop();
  t.log(`${what}: took ${took} ms; SELECT 1 meanwhile: ${JSON.stringify(report)}`);
  t.true(report.count > 10, 'the probe ran');
  t.true(report.p99 < P99_MS, `p99 ${report.p99} ms`);
  // A single stall of seconds can hide under the p99 of a long run: where the work is one statement, its
  // longest wait is bounded too.
  t.true(report.max < maxMs, `max ${report.max} ms`);
  return result;
}

async function asUser<T>(user: string, password: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ ...server.pgConfig, user, password });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

test.serial('SET application_name = followed by 60,000 commas does not stall the others', async (t) => {
  await whileMeasuring(
    t,
    'SET with 60,000 commas',
    () =>
      asUser('admin', ADMIN_PASSWORD, async (c) => {
        await c.query(`SET application_name = ${','.repeat(60_000)}`).catch(() => {});
        t.is(
          Buffer.byteLength((await c.query('SHOW application_name')).rows[0].application_name) <= 63,
          true,
        );
      }),
    STATEMENT_MAX_MS,
  );
});

test.serial('a 9.8 MB CREATE TASK from a non-sysadmin is refused before it is parsed', async (t) => {
  const options = Array.from({ length: 1_400_000 }, () => 'a = 1').join(', ');
  const sql = `CREATE TASK big TYPE rebuild OPTIONS ${options}`;
  t.true(sql.length > 9_000_000);
  const err = await whileMeasuring(
    t,
    'CREATE TASK of 9.8 MB',
    () =>
      asUser('plain', 'plain-pw', (c) =>
        c.query(sql).then(
          () => null,
          (e: Error & { code: string }) => e,
        ),
      ),
    STATEMENT_MAX_MS,
  );
  t.is(err?.code, '54000');
  // Under the size bound, a non-sysadmin's CREATE TASK is 42501 without parsing its options at all.
  const small = `CREATE TASK big TYPE rebuild OPTIONS ${Array.from({ length: 9000 }, () => 'a = 1').join(', ')}`;
  const denied = await asUser('plain', 'plain-pw', (c) =>
    c.query(small).then(
      () => null,
      (e) => e,
    ),
  );
  t.is(denied?.code, '42501');
});

test.serial(
  'a large result is sent in batches: a reader of 200,000 rows does not stall the others',
  async (t) => {
    const n = await whileMeasuring(t, '200,000 rows read', () =>
      asUser('admin', ADMIN_PASSWORD, async (c) => {
        const r = await c.query("SELECT g, repeat('x', 40) AS pad FROM generate_series(1, 200000) g");
        return r.rowCount;
      }),
    );
    t.is(n, 200_000);
  },
);

/** The server process's resident memory, from /proc. */
function serverRss(): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

test.serial(
  'a client that does not read its result stops its producer; the others are answered',
  async (t) => {
    const rssBefore = serverRss();
    const reader = new pg.Client(server.pgConfig);
    await reader.connect();
    // A pg client whose socket is paused after the query is sent: it reads nothing more.
    const stream = (reader as unknown as { connection: { stream: import('node:net').Socket } }).connection
      .stream;
    const pending = reader
      .query("SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 300000) g")
      .catch(() => null);
    setTimeout(() => stream.pause(), 5);
    await whileMeasuring(
      t,
      'a non-reading client of 300,000 rows',
      () => new Promise((r) => setTimeout(r, 3000)),
    );
    const grown = serverRss() - rssBefore;
    t.log(`server RSS grew by ${Math.round(grown / 1e6)} MB while the result was not read`);
    // The result is about 70 MB as rows; its encoding is never all buffered for a client that does not read.
    t.true(grown < 400 * 1024 * 1024);
    stream.resume();
    await pending;
    await reader.end();
  },
);
