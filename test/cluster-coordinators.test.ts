// Two coordinators (segtasks serve --catalog postgres://...) on one catalog in a real PostgreSQL 15, six
// storage agents, each host a network namespace made here (helpers/netns.ts: each agent in its own behind a
// veth pair; the coordinators and PostgreSQL in the namespace that holds the bridge; addresses 10.214.x.0/24
// exist only inside them; the test reaches each coordinator through a Unix socket). A table loaded through one
// coordinator reads back byte-identical through the other; a task created on one is seen, waited for and
// cancelled from the other; kill -9 of the coordinator that runs a rebuild: the other adopts it within the
// stated time (lease TTL + one scan) and completes it, nothing reported twice.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { type RealPostgres, startRealPostgres } from '../bench/common';
import { within } from './helpers/agents';
import { NetnsHosts } from './helpers/netns';
import { ADMIN_PASSWORD } from './helpers/server';
import { copyOutBytes, createTask, findings, load, waitTask } from './helpers/tasks';

const SEG = 65536;
const LEASE_TTL_MS = 3000;
const LEASE_INTERVAL_MS = 500;
const OFFLINE_AFTER_MS = 2000;
const PG_PORT = 5432;
const hosts = new NetnsHosts(`${process.pid % 10000}k`, `10.214.${process.pid % 250}`, 6);

let real: RealPostgres;
let root: string;
let secretFile: string;
const agents: ChildProcess[] = [];
const coordinators: { child: ChildProcess; output: () => string }[] = [];
const clients: pg.Client[] = [];
let data: Buffer;

const deviceDir = (i: number, d: number) => join(root, `host${i}`, `d${d}`);

async function startCoordinator(name: string) {
  const c = await hosts.startCoordinator(
    join(root, `sock-${name}`),
    [
      '--data-dir',
      join(root, name),
      '--secret-file',
      secretFile,
      // PostgreSQL listens on the coordinators' namespace's own loopback.
      '--catalog',
      real.url(),
      '--lease-ttl',
      `${LEASE_TTL_MS}ms`,
      '--lease-interval',
      `${LEASE_INTERVAL_MS}ms`,
      '--agent-heartbeat-interval',
      '200ms',
      '--agent-offline-after',
      `${OFFLINE_AFTER_MS}ms`,
      '--log-level',
      'warn',
    ],
    ADMIN_PASSWORD,
  );
  const client = new pg.Client(c.pgConfig);
  client.on('notice', () => {});
  client.on('error', () => {});
  await client.connect();
  return { coordinator: { child: c.child, output: c.output }, client };
}

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'segtasks-coord-'));
  hosts.create();
  real = startRealPostgres(PG_PORT, hosts.coordNs);
  secretFile = join(root, 'cluster.secret');
  writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  for (let i = 1; i <= 6; i++) {
    for (const d of [1, 2]) mkdirSync(deviceDir(i, d), { recursive: true });
    agents.push(await hosts.startAgent(i, secretFile));
  }
  // Started together: both migrate and bootstrap the same catalog at once (one must wait for the other).
  for (const { coordinator, client } of await Promise.all([startCoordinator('a'), startCoordinator('b')])) {
    coordinators.push(coordinator);
    clients.push(client);
  }
  const a = clients[0];
  await a.query(`CREATE STORAGESPACE s WIDTH 5 PARITY_WIDTH 2 SEGMENT_SIZE ${SEG}`);
  await a.query('CREATE CLUSTER c1 STORAGESPACE s');
  for (let i = 1; i <= 6; i++)
    await a.query(
      `CREATE NODE n${i} IN CLUSTER c1 ADDRESS '${hosts.agentAddress(i)}' DEVICES ('${deviceDir(i, 1)}', '${deviceDir(i, 2)}')`,
    );
  data = await load(a, 't', 60 * 3 * SEG + 4321);
});

test.after.always(async () => {
  for (const c of clients) await c.end().catch(() => {});
  hosts.destroy();
  real?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

const readBack = (c: pg.Client) => copyOutBytes(c, 'COPY t TO STDOUT WITH (FORMAT binary)');

async function rows(c: pg.Client, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await c.query(sql, params)).rows;
}

test.serial(
  'a table loaded through one coordinator reads back byte-identical through the other',
  async (t) => {
    const [a, b] = clients;
    t.true((await readBack(b)).equals(data));
    t.true((await readBack(a)).equals(data));
    const q = 'SELECT name, address, status FROM sys.nodes ORDER BY name';
    t.deepEqual(await rows(b, q), await rows(a, q));
    t.is((await rows(b, q)).length, 6);
    const segs = 'SELECT storage_id, node_name, path, status FROM sys.segments ORDER BY storage_id';
    const onB = await rows(b, segs);
    t.is(onB.length, 61 * 5);
    t.deepEqual(onB, await rows(a, segs));
  },
);

test.serial('a task created on one coordinator is waited for and seen on the other', async (t) => {
  const [a, b] = clients;
  const id = await createTask(a, 'CREATE TASK shared_check TYPE check_disk LOCATION CLUSTER c1');
  // WAIT FOR TASK on the coordinator that does not run it returns when the owner finishes it.
  const waited = await b.query('WAIT FOR TASK shared_check');
  t.truthy(waited);
  const onB = (
    await rows(b, 'SELECT status, segments_done, segments_failed FROM sys.tasks WHERE id = $1', [id])
  )[0];
  t.is(onB.status, 'COMPLETE');
  t.is(Number(onB.segments_done), 61 * 5);
  t.is(Number(onB.segments_failed), 0);
});

test.serial('CANCEL TASK on one coordinator stops a task that the other runs', async (t) => {
  const [a, b] = clients;
  const id = await createTask(
    b,
    'CREATE TASK slow_check TYPE check_disk LOCATION CLUSTER c1 OPTIONS max_bytes_per_sec = 65536',
  );
  await within(10_000, 'slow_check running', async () => {
    const s = (await rows(a, 'SELECT status FROM sys.tasks WHERE id = $1', [id]))[0];
    return s.status === 'RUNNING';
  });
  const askedAt = Date.now();
  await a.query("CANCEL TASK 'slow_check'");
  const ended = await waitTask(a, id, 20_000);
  t.is(ended.status, 'CANCELLED');
  t.true(Date.now() - askedAt < LEASE_INTERVAL_MS * 2 + 3000, `cancelled in ${Date.now() - askedAt} ms`);
});

test.serial(
  'kill -9 of the coordinator that runs a rebuild: the other adopts it within the stated time and completes it',
  async (t) => {
    const [a, b] = clients;
    const lost = await rows(b, "SELECT storage_id FROM sys.segments WHERE node_name = 'n6'");
    t.true(lost.length > 20);
    await hosts.kill(agents[5]);
    await within(OFFLINE_AFTER_MS + 10_000, 'n6 OFFLINE', async () => {
      const n = (await rows(b, "SELECT status FROM sys.nodes WHERE name = 'n6'"))[0];
      return n.status === 'OFFLINE';
    });
    // Throttled so that it runs for several seconds: long enough to be killed in the middle.
    const id = await createTask(
      a,
      "CREATE TASK rb TYPE rebuild LOCATION CLUSTER c1 OPTIONS node = 'n6', max_bytes_per_sec = 400000",
    );
    const state = async () =>
      (await rows(b, 'SELECT status, bytes_done, segments_done FROM sys.tasks WHERE id = $1', [id]))[0];
    let last: Record<string, unknown> = {};
    await within(20_000, 'rb under way', async () => {
      last = await state();
      return last.status === 'RUNNING' && Number(last.bytes_done) > 0;
    }).catch(async (err) => {
      t.log(
        last,
        await rows(b, 'SELECT status, bytes_done, bytes_total, error FROM sys.subtasks WHERE task_id = $1', [
          id,
        ]),
      );
      t.log(coordinators[0].output().slice(-3000));
      t.log(await rows(b, "SELECT status, count(*) FROM sys.segments WHERE node_name = 'n6' GROUP BY 1"));
      t.log(await rows(b, 'SELECT * FROM sys.tasks WHERE id = $1', [id]));
      throw err;
    });
    await hosts.kill(coordinators[0].child);
    const killedAt = Date.now();
    const atKill = await state();
    t.is(atKill.status, 'RUNNING');
    t.true(
      Number(atKill.segments_done) < lost.length,
      `${atKill.segments_done} of ${lost.length} done at the kill`,
    );
    // The survivor says when it adopts (a warning: a coordinator stopped renewing its lease).
    const adoptedIn = await within(LEASE_TTL_MS + LEASE_INTERVAL_MS + 10_000, 'rb adopted', async () =>
      new RegExp(`"event":"task.adopted","task":"${id}"`).test(coordinators[1].output()),
    );
    t.log(
      `adopted ${adoptedIn} ms after the kill (lease TTL ${LEASE_TTL_MS} ms, scans every ${LEASE_INTERVAL_MS} ms)`,
    );
    // Not before the lease could have expired, and within TTL + one scan (+ slack for a loaded machine).
    t.true(Date.now() - killedAt >= LEASE_TTL_MS - 2 * LEASE_INTERVAL_MS, 'not before the lease ran out');
    t.true(adoptedIn <= LEASE_TTL_MS + LEASE_INTERVAL_MS + 3000, `adopted ${adoptedIn} ms after the kill`);
    const done = await waitTask(b, id, 120_000);
    t.is(done.status, 'COMPLETE', done.error ?? '');
    t.is(Number(done.segments_done), lost.length);
    // Nothing reported twice: one REBUILT row per lost segment.
    const rebuilt = (await findings(b, id)).filter((r) => r.result === 'REBUILT');
    t.is(rebuilt.length, lost.length);
    t.is(new Set(rebuilt.map((r) => r.storage_id)).size, lost.length);
    t.deepEqual(await rows(b, "SELECT storage_id FROM sys.segments WHERE node_name = 'n6'"), []);
    t.true((await rows(b, 'SELECT status FROM sys.segments')).every((s) => s.status === 'INTACT'));
    t.true((await readBack(b)).equals(data));
  },
);
