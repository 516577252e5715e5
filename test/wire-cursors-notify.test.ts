// SQL-level prepared statements, cursors, LISTEN / NOTIFY and statement logging through real clients:
// psql 15 (FETCH_COUNT, notifications), node-postgres, psycopg 3, psqlODBC through pyodbc, and the log the
// server writes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import pg from 'pg';
import { type App, startApp, TASK_CHANNEL } from '../src/app';
import { startServerProcess } from './helpers/process';
import { PYTHON, run } from './helpers/run';
import { ADMIN_PASSWORD } from './helpers/server';

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

let app: App;
let dataDir: string;
const log: LogLine[] = [];

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'segtasks-cursors-'));
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) log.push(JSON.parse(line));
      cb();
    },
  });
  app = await startApp({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    auth: 'scram',
    adminPassword: ADMIN_PASSWORD,
    logLevel: 'info',
    logStream: stream,
    say: () => {},
  });
});
test.after.always(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const dsn = () => `host=127.0.0.1 port=${app.port} user=admin password=${ADMIN_PASSWORD} dbname=segtasks`;
const psql = (args: string[], input?: string, env: Record<string, string> = {}) =>
  run('psql', [dsn(), '-X', '-v', 'ON_ERROR_STOP=0', ...args], {
    input,
    env: { PGCONNECT_TIMEOUT: '10', ...env },
  });
const pgConfig = (extra: object = {}) => ({
  host: '127.0.0.1',
  port: app.port,
  user: 'admin',
  password: ADMIN_PASSWORD,
  database: 'segtasks',
  ...extra,
});
const linesOf = (appName: string) => log.filter((l) => l.application_name === appName);

test('psql: PREPARE / EXECUTE / DEALLOCATE and a scrollable cursor, with PostgreSQL errors', async (t) => {
  const r = await psql(
    ['-A', '-t'],
    `PREPARE p (int) AS SELECT $1 * 2 AS twice;
EXECUTE p (21);
PREPARE p AS SELECT 1;
DEALLOCATE p;
EXECUTE p (1);
DECLARE c CURSOR FOR SELECT 1;
BEGIN;
DECLARE c SCROLL CURSOR FOR SELECT n FROM generate_series(1, 5) AS g(n);
FETCH 2 FROM c;
FETCH PRIOR c;
FETCH LAST c;
MOVE ABSOLUTE 2 IN c;
FETCH RELATIVE 2 c;
CLOSE c;
COMMIT;
`,
  );
  t.is(
    r.stdout.trim().split('\n').join(' '),
    'PREPARE 42 DEALLOCATE BEGIN DECLARE CURSOR 1 2 1 5 MOVE 1 4 CLOSE CURSOR COMMIT',
  );
  t.regex(r.stderr, /ERROR: {2}prepared statement "p" already exists/);
  t.regex(r.stderr, /ERROR: {2}prepared statement "p" does not exist/);
  t.regex(r.stderr, /ERROR: {2}DECLARE CURSOR can only be used in transaction blocks/);
});

test('psql: FETCH_COUNT runs the query through DECLARE _psql_cursor / FETCH FORWARD and prints every row', async (t) => {
  const r = await psql(
    ['-A', '-t', '-v', 'FETCH_COUNT=3', '-c', 'SELECT n FROM generate_series(1, 8) AS g(n)'],
    undefined,
    {
      PGOPTIONS: '-c log_statement=all',
      PGAPPNAME: 'fetch-count',
    },
  );
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim(), '1\n2\n3\n4\n5\n6\n7\n8');
  const statements = linesOf('fetch-count')
    .filter((l) => l.msg === 'statement')
    .map((l) => String(l.statement).replace(/\s+/g, ' '));
  t.deepEqual(statements, [
    'BEGIN',
    'DECLARE _psql_cursor NO SCROLL CURSOR FOR SELECT n FROM generate_series(1, 8) AS g(n)',
    'FETCH FORWARD 3 FROM _psql_cursor',
    'FETCH FORWARD 3 FROM _psql_cursor',
    'FETCH FORWARD 3 FROM _psql_cursor',
    'CLOSE _psql_cursor',
    'COMMIT',
  ]);
});

test("psql: a session receives its own and other sessions' notifications, and the server's", async (t) => {
  const r = await psql(
    ['-A', '-t'],
    `LISTEN chan;
LISTEN ${TASK_CHANNEL};
NOTIFY chan, 'hello';
BEGIN; NOTIFY chan, 'twice'; NOTIFY chan, 'twice'; COMMIT;
BEGIN; NOTIFY chan, 'never'; ROLLBACK;
NOTIFY ${TASK_CHANNEL}, 'forged';
SELECT 1;
`,
  );
  const got = [
    ...r.stdout.matchAll(
      /Asynchronous notification "(\w+)" with payload "(\w+)" received from server process with PID (\d+)\./g,
    ),
  ];
  t.deepEqual(
    got.map((m) => [m[1], m[2]]),
    [
      ['chan', 'hello'],
      ['chan', 'twice'],
    ],
  );
  t.true(Number(got[0][3]) > 0);
  t.regex(r.stderr, /ERROR: {2}permission denied to notify channel "segtasks_tasks"/);
});

/** A listening and a sending node-postgres session, ended whatever the test does. */
async function withListenerAndSender(
  body: (listener: pg.Client, sender: pg.Client) => Promise<void>,
): Promise<void> {
  const listener = new pg.Client(pgConfig());
  const sender = new pg.Client(pgConfig());
  await listener.connect();
  await sender.connect();
  try {
    await body(listener, sender);
  } finally {
    await listener.end();
    await sender.end();
  }
}

test('node-postgres: notification events from another session at its COMMIT, and from the server', (t) =>
  withListenerAndSender(async (listener, sender) => {
    const received: pg.Notification[] = [];
    const arrived = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (received.length >= n ? resolve() : setTimeout(check, 10));
        check();
      });
    listener.on('notification', (n) => received.push(n));
    await listener.query(`LISTEN ${TASK_CHANNEL}`);
    await listener.query('LISTEN "Mixed Case"');
    await sender.query('BEGIN');
    await sender.query(`NOTIFY "Mixed Case", 'in block'`);
    await new Promise((r) => setTimeout(r, 100));
    t.is(received.length, 0);
    await sender.query('COMMIT');
    await arrived(1);
    t.like(received[0], { channel: 'Mixed Case', payload: 'in block' });
    app.notify(TASK_CHANNEL, JSON.stringify({ id: 7, status: 'RUNNING' }));
    await arrived(2);
    t.is(received[1].channel, TASK_CHANNEL);
    t.deepEqual(JSON.parse(received[1].payload ?? ''), { id: 7, status: 'RUNNING' });
    t.is(received[1].processId, process.pid);
    const err = await sender.query(`NOTIFY ${TASK_CHANNEL}, 'x'`).catch((e) => e);
    t.is(err.code, '42501');
    // A statement made by Parse is dropped by DEALLOCATE; a second DEALLOCATE is 26000.
    await sender.query({ name: 'by_parse', text: 'SELECT 1 AS one' });
    t.is((await sender.query('DEALLOCATE by_parse')).command, 'DEALLOCATE');
    t.is((await sender.query('DEALLOCATE by_parse').catch((e) => e)).code, '26000');
  }));

test("pg_notify() in a query: sent at COMMIT, one per distinct row, with NOTIFY's checks", (t) =>
  withListenerAndSender(async (listener, sender) => {
    const received: pg.Notification[] = [];
    listener.on('notification', (n) => received.push(n));
    await listener.query('LISTEN from_sql');
    const settle = () => new Promise((r) => setTimeout(r, 150));
    await sender.query('BEGIN');
    // One call per row; identical notifications in one transaction collapse, as in PostgreSQL.
    const r = await sender.query(
      "SELECT pg_notify('from_sql', 'row ' || (g % 2)) AS v FROM generate_series(1, 4) g",
    );
    t.deepEqual(
      r.rows.map((x) => x.v),
      ['', '', '', ''],
      'void prints as the empty string',
    );
    await settle();
    t.is(received.length, 0, 'nothing before COMMIT');
    await sender.query('COMMIT');
    await settle();
    t.deepEqual(
      received.map((n) => n.payload),
      ['row 1', 'row 0'],
    );
    // Outside a block it is sent when the statement ends; a rolled-back one never.
    await sender.query("SELECT pg_notify('from_sql', $1)", ['with a parameter']);
    await sender.query('BEGIN');
    await sender.query("SELECT pg_notify('from_sql', 'never')");
    await sender.query('ROLLBACK');
    await settle();
    t.deepEqual(
      received.map((n) => n.payload),
      ['row 1', 'row 0', 'with a parameter'],
    );
    const empty = await sender.query("SELECT pg_notify(NULL, 'x')").catch((e) => e);
    t.like(empty, { code: '22023', message: 'channel name cannot be empty' });
    const long = await sender.query("SELECT pg_notify('from_sql', repeat('x', 8000))").catch((e) => e);
    t.like(long, { code: '22023', message: 'payload string too long' });
    const server = await sender.query(`SELECT pg_notify('${TASK_CHANNEL}', 'forged')`).catch((e) => e);
    t.is(server.code, '42501');
  }));

test('psycopg 3: conn.notifies() yields notifications sent by another connection', async (t) => {
  const code = `
import json, sys, psycopg
dsn = sys.argv[1]
listener = psycopg.connect(dsn, autocommit=True)
listener.execute("LISTEN events")
sender = psycopg.connect(dsn, autocommit=True)
sender.execute("NOTIFY events, 'first'")
sender.execute("SELECT 1")
with sender.transaction():
    sender.execute("NOTIFY events, 'second'")
got = []
for n in listener.notifies():
    got.append([n.channel, n.payload, n.pid > 0])
    if len(got) == 2:
        break
print(json.dumps(got))
`;
  const r = await run(PYTHON, ['-c', code, dsn()]);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout.trim()), [
    ['events', 'first', true],
    ['events', 'second', true],
  ]);
});

const odbcScript = `
import json, sys, pyodbc
port, extra = sys.argv[1], sys.argv[2]
conn = pyodbc.connect("Driver=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;Server=127.0.0.1;Port=%s;"
                      "Database=segtasks;Uid=admin;Pwd=%s;ConnSettings={SET log_statement='all'};%s"
                      % (port, sys.argv[3], extra))
out = []
for i in range(4):
    cur = conn.cursor()
    cur.execute("SELECT n, n * 10 AS tens FROM generate_series(1, ?) AS g(n) ORDER BY n", 3 + i)
    out.append([list(r) for r in cur.fetchall()])
    cur.close()
cur = conn.cursor()
cur.execute("SELECT x FROM (VALUES ('a'), ('b'), ('c')) AS v(x) ORDER BY x")
out.append([r[0] for r in cur.fetchall()])
cur.execute("SELECT usename FROM pg_catalog.pg_user WHERE usename = ?", "admin")
out.append([r[0] for r in cur.fetchall()])
conn.commit()
print(json.dumps(out))
`;

for (const [label, extra, expected] of [
  ['the default DSN (server-side prepare, DEALLOCATE)', '', /^SAVEPOINT _per_query_svp_;DEALLOCATE "_PLAN0x/],
  [
    'UseDeclareFetch=1 (DECLARE / FETCH)',
    'UseDeclareFetch=1;Fetch=2',
    /^declare "SQL_CUR0x\w+" cursor with hold for /,
  ],
] as const) {
  test.serial(`psqlODBC through pyodbc with ${label}: several statements in a row`, async (t) => {
    const before = log.length;
    const r = await run(PYTHON, ['-c', odbcScript, String(app.port), extra, ADMIN_PASSWORD]);
    t.is(r.code, 0, r.stderr);
    const rows = (n: number) => Array.from({ length: n }, (_, i) => [i + 1, (i + 1) * 10]);
    t.deepEqual(JSON.parse(r.stdout.trim()), [
      rows(3),
      rows(4),
      rows(5),
      rows(6),
      ['a', 'b', 'c'],
      ['admin'],
    ]);
    const sent = log
      .slice(before)
      .filter((l) => l.msg === 'statement')
      .map((l) => String(l.statement));
    t.true(
      sent.some((s) => expected.test(s)),
      sent.join('\n'),
    );
    if (extra) t.true(sent.some((s) => /^fetch 2 in "SQL_CUR0x\w+"$/.test(s)));
    // No statement of the driver failed, not even one whose error it would ignore.
    t.deepEqual(
      log.slice(before).filter((l) => l.msg === 'statement failed'),
      [],
    );
  });
}

test('statement logging: log_statement, log_min_error_statement with the SQLSTATE, log_min_duration_statement', async (t) => {
  const admin = new pg.Client(pgConfig({ application_name: 'logged' }));
  await admin.connect();
  try {
    await admin.query("SET log_statement = 'ddl'");
    await admin.query('SELECT 1');
    await admin.query(`CREATE USER logged_user WITH PASSWORD 'pw-1'`);
    await admin.query('SELECT nope FROM sys.tasks').catch(() => {});
    await admin.query("SET log_statement = 'none'; SET log_min_duration_statement = 0");
    await admin.query('SELECT 2 AS two');
    const mine = linesOf('logged');
    t.deepEqual(
      mine.filter((l) => l.msg === 'statement').map((l) => l.statement),
      ["CREATE USER logged_user WITH PASSWORD 'pw-1'"],
    );
    t.like(
      mine.find((l) => l.msg === 'statement failed'),
      { sqlstate: '42703', statement: 'SELECT nope FROM sys.tasks', user: 'admin', level: 50 },
    );
    const duration = mine.find((l) => l.msg === 'duration' && l.statement === 'SELECT 2 AS two');
    t.is(typeof duration?.duration_ms, 'number');
    t.is(typeof duration?.pid, 'number');
    const shown = await admin.query(
      "SELECT name, setting FROM pg_settings WHERE name IN ('log_statement', 'log_min_duration_statement') ORDER BY name",
    );
    t.deepEqual(shown.rows, [
      { name: 'log_min_duration_statement', setting: '0' },
      { name: 'log_statement', setting: 'none' },
    ]);
  } finally {
    await admin.end();
  }
  const user = new pg.Client(pgConfig({ user: 'logged_user', password: 'pw-1' }));
  await user.connect();
  try {
    const err = await user.query("SET log_statement = 'all'").catch((e) => e);
    t.is(err.code, '42501');
    t.is(err.message, 'permission denied to set parameter "log_statement"');
  } finally {
    await user.end();
  }
});

test('CLI: the log settings come from the environment; a bad value stops the start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-logenv-'));
  const server = await startServerProcess(dir, {
    SEGTASKS_LOG_STATEMENT: 'mod',
    SEGTASKS_LOG_MIN_DURATION_STATEMENT: '1500',
  });
  try {
    const c = new pg.Client({ ...pgConfig(), port: server.port });
    await c.connect();
    const r = await c.query('SHOW log_statement');
    const d = await c.query('SHOW log_min_duration_statement');
    await c.end();
    t.is(r.rows[0].log_statement, 'mod');
    t.is(d.rows[0].log_min_duration_statement, '1500ms');
  } finally {
    await server.stop();
  }
  const bad = await startServerProcess(dir, { SEGTASKS_LOG_MIN_DURATION_STATEMENT: 'soon' }).catch((e) => e);
  t.regex(String(bad?.message), /invalid value for parameter "log_min_duration_statement": "soon"/);
  rmSync(dir, { recursive: true, force: true });
});
