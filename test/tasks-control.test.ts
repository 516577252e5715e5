// PAUSE / RESUME / WAIT FOR TASK, the transaction-block rule, the answers that point the right way, schedules
// and the task log, through real clients (node-postgres and psql) on a real server.
import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import test from 'ava';
import pg from 'pg';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';
import { createTask, load, waitTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
const log: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n').filter(Boolean)) log.push(JSON.parse(line));
    cb();
  },
});

type PgError = Error & { code: string; position?: string; hint?: string };

const SLOW = 'TYPE check_disk OPTIONS max_bytes_per_sec = 100000, parallelism = 1';

test.before(async () => {
  server = await startTestServer({ logStream: sink });
  client = new pg.Client(server.pgConfig);
  await client.connect();
  await createTopology(client, server.dataDir);
  await load(client, 'data', 3 * 1024 * 1024);
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

async function task(id: string) {
  return (await client.query('SELECT * FROM sys.tasks WHERE id = $1', [id])).rows[0];
}

test.serial(
  'PAUSE TASK keeps what is done, RESUME TASK continues, WAIT FOR TASK returns the ended task',
  async (t) => {
    const id = await createTask(client, `CREATE TASK pausable ${SLOW}`);
    // Pause once some subtask has finished: what is done must stay done.
    for (let i = 0; i < 200; i++) {
      const n = await client.query(
        "SELECT count(*) AS n FROM sys.subtasks WHERE task_id = $1 AND status = 'COMPLETE'",
        [id],
      );
      if (Number(n.rows[0].n) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    client.on('notice', onNotice);
    const p = await client.query("PAUSE TASK 'pausable'");
    client.off('notice', onNotice);
    t.is(p.command, 'PAUSE');
    t.regex(notices[0] ?? '', /^task [0-9a-f-]{36} \(pausable\) paused at \d+%$/);
    const paused = await task(id);
    t.is(paused.status, 'PAUSED');
    t.true(Number(paused.bytes_done) > 0);
    const subs = await client.query('SELECT DISTINCT status FROM sys.subtasks WHERE task_id = $1', [id]);
    t.true(
      subs.rows.every((r) => ['COMPLETE', 'PENDING'].includes(r.status)),
      JSON.stringify(subs.rows),
    );
    await new Promise((r) => setTimeout(r, 400));
    t.is((await task(id)).bytes_done, paused.bytes_done, 'no progress while paused');
    const again = await t.throwsAsync<PgError>(client.query("PAUSE TASK 'pausable'"));
    t.like(again, { code: '55000', message: 'task "pausable" cannot be paused: its status is PAUSED' });
    t.is((await client.query(`RESUME TASK '${id}'`)).command, 'RESUME');
    t.is((await task(id)).status, 'RUNNING');
    const running = await t.throwsAsync<PgError>(client.query("RESUME TASK 'pausable'"));
    t.like(running, { code: '55000', message: 'task "pausable" cannot be resumed: its status is RUNNING' });
    // WAIT FOR TASK, by a user without sysadmin: one row once the task has ended
    await client.query("CREATE USER watcher WITH PASSWORD 'pw'");
    const watcher = new pg.Client({ ...server.pgConfig, user: 'watcher', password: 'pw' });
    await watcher.connect();
    try {
      t.is((await t.throwsAsync<PgError>(watcher.query("PAUSE TASK 'pausable'")))?.code, '42501');
      t.is((await t.throwsAsync<PgError>(watcher.query("RESUME TASK 'pausable'")))?.code, '42501');
      const w = await watcher.query("WAIT FOR TASK 'pausable'");
      t.deepEqual(w.rows, [{ id, name: 'pausable', status: 'COMPLETE', error: null }]);
      t.deepEqual(
        w.fields.map((f) => [f.name, f.dataTypeID]),
        [
          ['id', 2950],
          ['name', 25],
          ['status', 25],
          ['error', 25],
        ],
      );
      const at = Date.now();
      t.is((await watcher.query(`WAIT FOR TASK '${id}'`)).rows[0].status, 'COMPLETE');
      t.true(Date.now() - at < 500, 'an ended task answers at once');
    } finally {
      await watcher.end();
    }
    const done = await task(id);
    t.is(done.fraction_complete, 1);
    t.is(done.segments_done, done.segments_total);
  },
);

test.serial('CANCEL TASK of a PAUSED task ends it CANCELLED', async (t) => {
  const id = await createTask(client, `CREATE TASK pause_then_cancel ${SLOW}`);
  await new Promise((r) => setTimeout(r, 300));
  await client.query(`PAUSE TASK '${id}'`);
  await client.query(`CANCEL TASK '${id}'`);
  t.like(await waitTask(client, id, 5000), { status: 'CANCELLED' });
  const r = await client.query(`WAIT FOR TASK '${id}'`);
  t.is(r.rows[0].status, 'CANCELLED');
  const e = await t.throwsAsync<PgError>(client.query(`PAUSE TASK '${id}'`));
  t.like(e, { code: '55000', message: 'task "pause_then_cancel" cannot be paused: its status is CANCELLED' });
});

test.serial('WAIT FOR TASK ends with 57014 on statement_timeout and on a CancelRequest', async (t) => {
  const id = await createTask(client, `CREATE TASK waited ${SLOW}`);
  const other = new pg.Client(server.pgConfig);
  await other.connect();
  try {
    await other.query("SET statement_timeout = '300ms'");
    const at = Date.now();
    const e = await t.throwsAsync<PgError>(other.query(`WAIT FOR TASK '${id}'`));
    t.like(e, { code: '57014', message: 'canceling statement due to statement timeout' });
    t.true(Date.now() - at < 3000);
    await other.query('SET statement_timeout = 0');
    const waiting = other.query(`WAIT FOR TASK '${id}'`);
    await new Promise((r) => setTimeout(r, 200));
    const canceller = new pg.Client(server.pgConfig) as unknown as {
      cancel(client: unknown, query: unknown): void;
    };
    canceller.cancel(other, (other as unknown as { activeQuery: unknown }).activeQuery);
    const c = await t.throwsAsync<PgError>(waiting);
    t.like(c, { code: '57014', message: 'canceling statement due to user request' });
    t.is((await other.query('SELECT 1 AS one')).rows[0].one, 1);
  } finally {
    await other.end();
  }
  await client.query(`CANCEL TASK '${id}'`);
  await waitTask(client, id);
});

test.serial('psql: BEGIN; CREATE TASK ... is 25001, and after ROLLBACK no task exists', async (t) => {
  const r = await run('psql', [server.dsn, '-X', '-v', 'ON_ERROR_STOP=0', '-At'], {
    input: [
      'BEGIN;',
      'CREATE TASK in_block TYPE check_disk;',
      'ROLLBACK;',
      'BEGIN;',
      "CANCEL TASK 'pausable';",
      'ROLLBACK;',
      'BEGIN;',
      "PAUSE TASK 'pausable';",
      'ROLLBACK;',
      'BEGIN;',
      "CREATE SCHEDULE in_block EVERY '1 day' FOR CREATE TASK TYPE check_disk;",
      'ROLLBACK;',
      "SELECT count(*) FROM sys.tasks WHERE name = 'in_block';",
      "SELECT count(*) FROM sys.task_schedules WHERE name = 'in_block';",
    ].join('\n'),
  });
  t.is(
    r.stderr
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .join('\n'),
    [
      'ERROR:  CREATE TASK cannot run inside a transaction block',
      'ERROR:  CANCEL TASK cannot run inside a transaction block',
      'ERROR:  PAUSE TASK cannot run inside a transaction block',
      'ERROR:  CREATE SCHEDULE cannot run inside a transaction block',
    ].join('\n'),
  );
  t.deepEqual(r.stdout.trim().split('\n').slice(-2), ['0', '0']);
  // The SQLSTATE, through node-postgres
  await client.query('BEGIN');
  const e = await t.throwsAsync<PgError>(client.query('CREATE TASK in_block TYPE check_disk'));
  await client.query('ROLLBACK');
  t.is(e?.code, '25001');
  // A Query string of several statements is one implicit block, as in PostgreSQL (`VACUUM; SELECT 1`).
  const multi = await run('psql', [
    server.dsn,
    '-X',
    '-At',
    '-c',
    'CREATE TASK implicit TYPE check_disk; SELECT 1',
  ]);
  t.regex(multi.stderr, /ERROR: {2}CREATE TASK cannot run inside a transaction block/);
  t.is(multi.stdout, '');
  t.is((await client.query("SELECT count(*)::int AS n FROM sys.tasks WHERE name = 'implicit'")).rows[0].n, 0);
  // Alone in its string (a trailing semicolon is no second statement) it runs.
  const alone = await run('psql', [server.dsn, '-X', '-At', '-c', 'CREATE TASK implicit TYPE check_disk;']);
  t.is(alone.stdout.trim(), 'CREATE TASK', alone.stderr);
  await waitTask(client, (await client.query("SELECT id FROM sys.tasks WHERE name = 'implicit'")).rows[0].id);
});

test.serial('answers that point the right way: hints, uuids, booleans, typos', async (t) => {
  const node = await t.throwsAsync<PgError>(client.query('CREATE TASK x TYPE rebalance LOCATION NODE c1_n1'));
  t.is(node?.code, '22023');
  t.regex(node?.hint ?? '', /use LOCATION CLUSTER <cluster>/);
  t.notRegex(node?.hint ?? '', /OPTIONS node/);
  const uuid = await t.throwsAsync<PgError>(
    client.query("CREATE TASK x TYPE check_disk OPTIONS storage_ids = ['abc']"),
  );
  t.like(uuid, { code: '22P02', message: 'invalid input syntax for type uuid: "abc"' });
  const typo = await t.throwsAsync<PgError>(client.query('CREATE TASKS x TYPE check_disk'));
  t.like(typo, { code: '42601', message: 'syntax error at or near "TASKS"', position: '8' });
  // a real PostgreSQL statement this server does not run is still refused as such
  t.is((await t.throwsAsync<PgError>(client.query('CREATE INDEX i ON t (a)')))?.code, '42501');
  const bools: [string, boolean][] = [
    ['on', true],
    ['off', false],
    ["'true'", true],
    ["'yes'", true],
    ["'no'", false],
    ['1', true],
    ['0', false],
    ['yes', true],
  ];
  for (const [text, value] of bools) {
    const id = await createTask(
      client,
      `CREATE TASK TYPE check_disk OPTIONS fix = ${text}, only_unhealthy = true`,
    );
    t.is((await task(id)).options.fix, value, text);
    await waitTask(client, id);
  }
  const hint = await t.throwsAsync<PgError>(
    client.query('CREATE TASK x TYPE check_disk OPTIONS max_bytes_per_sec = 0'),
  );
  t.regex(hint?.hint ?? '', /per device: bytes read plus written/);
});

test.serial(
  'schedules: CREATE, sys.task_schedules, a run per interval, never two at once, PAUSE, DROP',
  async (t) => {
    const notices: string[] = [];
    const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
    client.on('notice', onNotice);
    const c = await client.query(
      "CREATE SCHEDULE quick EVERY '1 second' STARTING AT '2020-01-01 00:00:00+00' FOR CREATE TASK quick_check TYPE check_disk OPTIONS sample = true",
    );
    client.off('notice', onNotice);
    t.is(c.command, 'CREATE');
    t.regex(
      notices[0] ?? '',
      /^schedule quick created: every 00:00:01, next run at 2020-01-01 00:00:00\+00$/,
    );
    const dup = await t.throwsAsync<PgError>(
      client.query("CREATE SCHEDULE quick EVERY '1 day' FOR CREATE TASK TYPE check_disk"),
    );
    t.is(dup?.code, '42710');
    const bad: [string, string][] = [
      ["CREATE SCHEDULE b EVERY 'often' FOR CREATE TASK TYPE check_disk", '22007'],
      ["CREATE SCHEDULE b EVERY '1 month' FOR CREATE TASK TYPE check_disk", '22023'],
      ["CREATE SCHEDULE b EVERY '1 day' STARTING AT 'soon' FOR CREATE TASK TYPE check_disk", '22007'],
      ["CREATE SCHEDULE b EVERY '1 day' FOR CREATE TASK TYPE nope", '22023'],
      ["CREATE SCHEDULE b EVERY '1 day' FOR CREATE TASK TYPE check_disk LOCATION NODE nowhere", '42704'],
      ["CREATE SCHEDULE b EVERY '1 day' CREATE TASK TYPE check_disk", '42601'],
      ['ALTER SCHEDULE nope PAUSE', '42704'],
      ['DROP SCHEDULE nope', '42704'],
    ];
    for (const [sql, code] of bad) t.is((await t.throwsAsync<PgError>(client.query(sql)))?.code, code, sql);
    // The due run (2020) runs once, and the schedule moves to the next slot after now
    let row: Record<string, unknown> = {};
    for (let i = 0; i < 100 && row.last_status !== 'COMPLETE'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      row = (await client.query("SELECT * FROM sys.task_schedules WHERE name = 'quick'")).rows[0];
    }
    t.like(row, {
      definition: 'CREATE TASK quick_check TYPE check_disk OPTIONS sample = true',
      interval: { seconds: 1 },
      paused: false,
      created_by: 'admin',
      last_status: 'COMPLETE',
    });
    t.true((row.next_run as Date).getTime() > Date.now() - 2000);
    const first = await task(row.last_task_id as string);
    t.is(first.name, 'quick_check');
    t.is(first.type, 'check_disk');
    t.is((await client.query('ALTER SCHEDULE quick PAUSE')).command, 'ALTER');
    t.is(
      (await client.query("SELECT paused FROM sys.task_schedules WHERE name = 'quick'")).rows[0].paused,
      true,
    );
    const runs = Number(
      (await client.query("SELECT count(*) AS n FROM sys.tasks WHERE name = 'quick_check'")).rows[0].n,
    );
    await new Promise((r) => setTimeout(r, 1500));
    t.is(
      Number(
        (await client.query("SELECT count(*) AS n FROM sys.tasks WHERE name = 'quick_check'")).rows[0].n,
      ),
      runs,
      'a paused schedule starts nothing',
    );
    t.is((await client.query('DROP SCHEDULE quick')).command, 'DROP');
    t.is((await client.query('DROP SCHEDULE IF EXISTS quick')).command, 'DROP');

    // A slow run every second: the runs due while it is active are skipped, and the row says so
    await client.query(
      `CREATE SCHEDULE busy EVERY '1 second' FOR CREATE TASK busy_check TYPE check_disk OPTIONS max_bytes_per_sec = 20000`,
    );
    let busy: Record<string, unknown> = {};
    for (let i = 0; i < 60 && Number(busy.skipped_runs ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      busy = (await client.query("SELECT * FROM sys.task_schedules WHERE name = 'busy'")).rows[0];
    }
    t.true(Number(busy.skipped_runs) >= 2, JSON.stringify(busy));
    t.regex(String(busy.note), /skipped: the previous run \(task [0-9a-f-]{36}\) is still (PENDING|RUNNING)/);
    const active = await client.query(
      "SELECT count(*) AS n FROM sys.tasks WHERE name = 'busy_check' AND status IN ('PENDING', 'RUNNING')",
    );
    t.is(Number(active.rows[0].n), 1);
    await client.query('DROP SCHEDULE busy');
    await client.query("CANCEL TASK 'busy_check'");
    // Visible to psql like the other sys tables
    const d = await run('psql', [server.dsn, '-X', '-c', '\\d sys.task_schedules']);
    t.is(d.stderr, '');
    t.regex(d.stdout, /Table "sys.task_schedules"/);
    t.regex(d.stdout, /next_run\s+\| timestamp with time zone \|\s+\| not null/);
    t.regex(d.stdout, /interval\s+\| interval/);
  },
);

test.serial(
  'the log tells each task lifecycle and its summary, findings by kind, as JSON with ISO-8601 times',
  async (t) => {
    const seg = (
      await client.query("SELECT path FROM sys.segments WHERE status = 'INTACT' ORDER BY storage_id LIMIT 1")
    ).rows[0];
    const bytes = readFileSync(seg.path);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(seg.path, bytes);
    const id = await createTask(client, 'CREATE TASK logged TYPE check_disk');
    await client.query(`WAIT FOR TASK '${id}'`);
    await new Promise((r) => setTimeout(r, 50));
    const mine = log.filter((l) => l.task === id);
    t.deepEqual(
      mine.map((l) => l.event),
      ['task.created', 'task.started', 'task.finished'],
    );
    for (const l of mine) t.regex(String(l.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    t.like(mine[0], { name: 'logged', type: 'check_disk', location: 'SYSTEM', by: 'admin', app: 'segtasks' });
    const done = await task(id);
    t.like(mine[2].summary as object, {
      status: 'COMPLETE',
      segments_done: Number(done.segments_done),
      bytes_done: Number(done.bytes_done),
      findings: { CHECKSUM_MISMATCH: 1 },
      rebuilt: 0,
      moved: 0,
    });
    t.true(((mine[2].summary as { duration_ms: number }).duration_ms ?? -1) >= 0);
    // the pause and cancel of the earlier tests, with who asked
    const pausable = log.filter((l) => l.name === 'pausable').map((l) => [l.event, l.by]);
    t.deepEqual(pausable, [
      ['task.created', 'admin'],
      ['task.started', 'engine'],
      ['task.paused', 'admin'],
      ['task.resumed', 'admin'],
      ['task.finished', 'engine'],
    ]);
  },
);
