// CREATE TASK / CANCEL TASK through a real client: every example of tasks.md, and the invalid statements
// with their SQLSTATEs and positions.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startTestServer, type TestServer } from './helpers/server';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
const notices: string[] = [];

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  // Two clusters so that CLUSTER locations have somewhere to point.
  await createTopology(client, server.dataDir, { cluster: 'my_lts_cluster1', nodes: 6 });
  await client.query('CREATE NODE my_node1 IN CLUSTER my_lts_cluster1');
  await client.query('CREATE TABLE data1 (b bytea) IN CLUSTER my_lts_cluster1');
  await pipeline(Readable.from([randomBytes(600_000)]), client.query(copyFrom('COPY data1 FROM STDIN')));
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

const EXAMPLES = [
  "CREATE TASK my_check TYPE check_disk LOCATION NODE 'node1x'",
  "CREATE TASK my_rebuild_task TYPE check_disk LOCATION NODE 'my_node1'",
  'CREATE TASK TYPE check_disk',
  'create task lower_case type check_disk location system',
  'CREATE TASK c1 TYPE check_disk LOCATION CLUSTER my_lts_cluster1',
  "CREATE TASK c2 TYPE check_disk LOCATION NODE 'my_node1' OPTIONS fix = true",
  'CREATE TASK c3 TYPE check_disk OPTIONS sample = true, sample_rate = 0.25, only_unhealthy = false',
  "CREATE TASK 'quoted name' TYPE check_disk OPTIONS storage_ids = [ ]",
  'CREATE TASK c4 TYPE check_disk OPTIONS max_bytes_per_sec = 1048576, parallelism = 4;',
];

test.serial(
  'the example statements are accepted, return CREATE TASK with no rows, and NOTICE the new id',
  async (t) => {
    for (const sql of EXAMPLES.slice(1)) {
      notices.length = 0;
      const r = await client.query(sql);
      t.is(r.command, 'CREATE', sql); // pg reports the first word of the tag
      t.deepEqual(r.rows, []);
      t.regex(
        notices[0] ?? '',
        /^task [0-9a-f-]{36}( \(.+\))? created: check_disk on (SYSTEM|NODE my_node1|CLUSTER my_lts_cluster1)$/,
        sql,
      );
    }
    const names = (await client.query("SELECT name, options FROM sys.tasks WHERE name = 'c3'")).rows[0];
    t.deepEqual(names.options, {
      fix: false,
      sample: true,
      sample_rate: 0.25,
      only_unhealthy: false,
      storage_ids: null,
      max_bytes_per_sec: null,
      parallelism: 2,
    });
  },
);

test.serial('a parameter can carry an option value (extended protocol)', async (t) => {
  const r = await client.query('CREATE TASK p1 TYPE check_disk OPTIONS fix = $1, parallelism = $2', [
    'false',
    3,
  ]);
  t.is(r.command, 'CREATE');
  const o = (await client.query("SELECT options FROM sys.tasks WHERE name = 'p1'")).rows[0].options;
  t.is(o.fix, false);
  t.is(o.parallelism, 3);
  // CANCEL TASK takes its target as a parameter too: either it cancels, or the task had already finished
  const c = await client.query('CANCEL TASK $1', ['p1']).then(
    () => 'cancelled',
    (e: Error & { code: string }) => e.code,
  );
  t.true(['cancelled', '55000'].includes(c), c);
});

// [statement, SQLSTATE, expects a position]
const INVALID: [string, string, boolean][] = [
  ['CREATE TASK', '42601', true],
  ['CREATE TASK x', '42601', true],
  ['CREATE TASK x TYPE', '42601', true],
  ['CREATE TASK TYPE', '42601', true],
  ['CREATE TASK x TYPE check_disk LOCATION', '42601', true],
  ['CREATE TASK x TYPE check_disk LOCATION PLANET earth', '42601', true],
  ['CREATE TASK x TYPE check_disk LOCATION CLUSTER', '42601', true],
  ['CREATE TASK x TYPE check_disk LOCATION NODE', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix =', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix = true,', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix = true fix = false', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS storage_ids = [', '42601', true],
  ["CREATE TASK x TYPE check_disk OPTIONS storage_ids = ['a' 'b']", '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS storage_ids = [true]', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix = maybe', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS sample_rate = 0.1 LOCATION SYSTEM', '42601', true],
  ['CREATE TASK x TYPE check_disk LOCATION SYSTEM LOCATION SYSTEM', '42601', true],
  ['CREATE TASK x TYPE check_disk extra', '42601', true],
  ["CREATE TASK x TYPE check_disk OPTIONS fix = 'unterminated", '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS = true', '42601', true],
  ['CREATE TASK x TYPE 42', '42601', true],
  ["CREATE TASK '' TYPE check_disk", '42601', true],
  ['CANCEL TASK', '42601', true],
  ["CANCEL TASK 'a' 'b'", '42601', true],
  ['CREATE TASK x TYPE REBUILD', '22023', true],
  ['CREATE TASK x TYPE Check_Disk', '22023', true],
  ['CREATE TASK x TYPE scrub', '22023', true],
  ["CREATE TASK x TYPE rebuild LOCATION NODE 'my_node1'", '22023', true],
  ["CREATE TASK x TYPE rebalance LOCATION NODE 'my_node1'", '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fixx = true', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS threshold = 0.5', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix = 2', '22023', true],
  ["CREATE TASK x TYPE check_disk OPTIONS fix = 'maybe'", '22023', true],
  ["CREATE TASK x TYPE check_disk OPTIONS storage_ids = ['abc']", '22P02', true],
  ['CREATE TASKS x TYPE check_disk', '42601', true],
  ["PAUSE TASK 'no_such_task'", '42704', false],
  ["RESUME TASK 'no_such_task'", '42704', false],
  ["WAIT FOR TASK 'no_such_task'", '42704', false],
  ['PAUSE TASK', '42601', true],
  ['CREATE TASK x TYPE check_disk OPTIONS sample = true, sample_rate = 0', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS sample = true, sample_rate = 1.5', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS sample_rate = 0.5', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS parallelism = 0', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS max_bytes_per_sec = -5', '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS storage_ids = [1, 2]', '22023', true],
  ["CREATE TASK x TYPE check_disk OPTIONS storage_ids = 'one'", '22023', true],
  ['CREATE TASK x TYPE check_disk OPTIONS fix = true, fix = false', '42710', true],
  ['CREATE TASK x TYPE check_disk LOCATION CLUSTER no_such_cluster', '42704', false],
  ["CREATE TASK x TYPE check_disk LOCATION NODE 'no_such_node'", '42704', false],
  [
    "CREATE TASK x TYPE check_disk OPTIONS storage_ids = ['6f1c0000-0000-4000-8000-000000000001']",
    '42704',
    false,
  ],
  ["CANCEL TASK 'no_such_task'", '42704', false],
];

test.serial(
  `${INVALID.length} malformed or invalid statements get their SQLSTATE, a position where it helps, and the session goes on`,
  async (t) => {
    t.true(INVALID.length >= 40);
    for (const [sql, code, positioned] of INVALID) {
      const e = await t.throwsAsync<Error & { code: string; position?: string; hint?: string }>(
        client.query(sql),
        undefined,
        sql,
      );
      t.is(e?.code, code, `${sql}: ${e?.message}`);
      if (positioned) {
        const pos = Number(e?.position);
        t.true(pos >= 1 && pos <= sql.length + 1, `${sql}: position ${e?.position}`);
      }
    }
    const hint = await t.throwsAsync<Error & { hint: string }>(client.query('CREATE TASK x TYPE REBUILD'));
    t.regex(hint?.hint ?? '', /rebuild, check_disk, rebalance/);
    const node = await t.throwsAsync<Error & { hint: string }>(
      client.query("CREATE TASK x TYPE rebuild LOCATION NODE 'my_node1'"),
    );
    t.regex(node?.hint ?? '', /LOCATION CLUSTER <cluster> OPTIONS node = 'my_node1'/);
    const opt = await t.throwsAsync<Error & { hint: string }>(
      client.query('CREATE TASK x TYPE check_disk OPTIONS fixx = true'),
    );
    t.regex(
      opt?.hint ?? '',
      /Valid options for check_disk: fix, sample, sample_rate, only_unhealthy, storage_ids/,
    );
    t.is((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
  },
);

test.serial(
  'a second active task with the same name is 42710; a finished task cannot be cancelled (55000)',
  async (t) => {
    await client.query('CREATE TASK slowpoke TYPE check_disk OPTIONS max_bytes_per_sec = 1000');
    const dup = await t.throwsAsync<Error & { code: string }>(
      client.query('CREATE TASK slowpoke TYPE check_disk'),
    );
    t.is(dup?.code, '42710');
    const r = await client.query("CANCEL TASK 'slowpoke'");
    t.is(r.command, 'CANCEL');
    await waitFor(
      async () =>
        (await client.query("SELECT status FROM sys.tasks WHERE name = 'slowpoke'")).rows[0].status ===
        'CANCELLED',
    );
    const again = await t.throwsAsync<Error & { code: string; message: string }>(
      client.query("CANCEL TASK 'slowpoke'"),
    );
    t.is(again?.code, '55000');
    t.regex(again?.message ?? '', /CANCELLED/);
    // the name is free again once the task has finished
    await client.query('CREATE TASK slowpoke TYPE check_disk');
  },
);

test.serial('only sysadmin creates and cancels tasks (42501)', async (t) => {
  await client.query("CREATE USER operator1 WITH PASSWORD 'pw'");
  const other = new pg.Client({ ...server.pgConfig, user: 'operator1', password: 'pw' });
  await other.connect();
  try {
    t.is(
      (await t.throwsAsync<Error & { code: string }>(other.query('CREATE TASK TYPE check_disk')))?.code,
      '42501',
    );
    t.is((await t.throwsAsync<Error & { code: string }>(other.query("CANCEL TASK 'c1'")))?.code, '42501');
    // but may read the tasks
    t.true((await other.query('SELECT count(*) AS n FROM sys.tasks')).rows[0].n > 0);
    await client.query('GRANT sysadmin TO operator1');
    const r = await other.query('CREATE TASK by_operator TYPE check_disk');
    t.is(r.command, 'CREATE');
  } finally {
    await other.end();
  }
});

async function waitFor(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting');
}
