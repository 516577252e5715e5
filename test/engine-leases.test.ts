// Two task engines (coordinators) on one PostgreSQL 15 catalog (a real one, started in a temporary directory),
// with leased task ownership (src/engine/ownership.ts) and the fake task type: a task runs on the engine that
// created it and nowhere else; an engine that dies as kill -9 would leave it has its task adopted by the other
// within the lease's TTL plus one adoption scan, and only the work after the last checkpoint is redone, once;
// an engine that lost its lease writes nothing more (fencing); CANCEL, PAUSE, RESUME and ALTER TASK given to
// the engine that does not run the task reach the one that does; WAIT FOR TASK and the task events cross too.
// One coordinator is a real process, killed with SIGKILL mid-task.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import pino from 'pino';
import { type RealPostgres, startRealPostgres } from '../bench/common';
import { openPostgresCatalog, type PostgresCatalog } from '../catalog/postgres';
import { ScheduleCatalog } from '../catalog/schedules';
import { type NewGroup, StorageCatalog } from '../catalog/storage';
import type { TaskCatalog, TaskRow } from '../catalog/tasks';
import type { TaskEngine } from '../src/engine/engine';
import type { LeaseOptions } from '../src/engine/ownership';
import { TaskScheduler } from '../src/engine/scheduler';
import type { TaskEvent } from '../src/engine/task-events';
import { FILE_BYTES, type Probe } from './helpers/fake-task-type';
import { createTask, leasedCoordinator } from './helpers/lease-coordinator';

const PORT = 57000 + (process.pid % 1000);
/**
 * Short leases for the tests (the defaults are 10 s, 2 s, 2 s). The TTL leaves room for heartbeats that come
 * seconds late on a loaded machine: a live coordinator must not lose its tasks here.
 */
const LEASES = { ttlMs: 3000, heartbeatMs: 300, adoptMs: 300 } satisfies LeaseOptions;

let real: RealPostgres;
let root: string;

test.before(() => {
  real = startRealPostgres(PORT);
  root = mkdtempSync(join(tmpdir(), 'segtasks-leases-'));
});
test.after.always(() => {
  real?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** One coordinator: its own catalog connections (as another process would have), engine and probe. */
interface Coordinator {
  name: string;
  catalog: PostgresCatalog;
  tasks: TaskCatalog;
  engine: TaskEngine;
  probe: Probe;
}

/** Each file written, by storage id: the coordinators that wrote it, in order. */
type Writes = Map<string, string[]>;

async function coordinator(db: string, name: string, writes: Writes, lease: LeaseOptions = LEASES) {
  return (await leasedCoordinator(real.url(db), name, lease, (id) =>
    writes.set(id, [...(writes.get(id) ?? []), name]),
  )) satisfies Coordinator;
}

interface Pair {
  a: Coordinator;
  b: Coordinator;
  files: string;
  writes: Writes;
  close(): Promise<void>;
}

async function pair(db: string, leaseA: LeaseOptions = LEASES): Promise<Pair> {
  await real.createDatabase(db);
  const files = join(root, db);
  mkdirSync(files);
  const writes: Writes = new Map();
  const a = await coordinator(db, 'A', writes, leaseA);
  const b = await coordinator(db, 'B', writes);
  let stopped = false;
  return {
    a,
    b,
    files,
    writes,
    async close() {
      if (stopped) return;
      stopped = true;
      for (const c of [a, b]) {
        await c.engine.stop().catch(() => {});
        await c.catalog.close();
      }
    },
  };
}

const create = createTask;

async function until<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 20_000,
) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const ended = (c: Coordinator, id: string) =>
  until(`task ${id} to end`, async () => {
    const t = await c.tasks.task(id);
    return t && ['COMPLETE', 'FAILED', 'CANCELLED'].includes(t.status) ? t : undefined;
  });

const leaseOwner = async (c: Coordinator, id: string) =>
  (await c.catalog.pool.query('SELECT owner FROM task_leases WHERE task_id = $1', [id])).rows[0]?.owner ??
  null;

/** When (ms after `since`) the coordinator took the task's lease. */
async function adopted(c: Coordinator, id: string, since: number): Promise<number> {
  await until(`${c.name} to take the lease`, async () => (await leaseOwner(c, id)) === c.name);
  return Date.now() - since;
}

const resultRows = async (c: Coordinator, id: string) =>
  (
    await c.catalog.pool.query<{ storage_id: string }>(
      'SELECT storage_id FROM result_cache WHERE task_id = $1 ORDER BY id',
      [id],
    )
  ).rows.map((r) => r.storage_id);

test('a task runs on the engine that created it, and on no other', async (t) => {
  const p = await pair('runs_on_creator');
  try {
    p.a.probe.beforeFile = () => sleep(100);
    p.b.probe.beforeFile = () => sleep(100);
    const id = await create(
      p.a.engine,
      `CREATE TASK TYPE write_files OPTIONS dir = '${p.files}', nodes = ['n1', 'n2'], subtasks_per_node = 2, files = 8`,
    );
    t.is(await leaseOwner(p.a, id), 'A', 'the lease is taken with the insert');
    const done = await ended(p.a, id);
    t.is(done.status, 'COMPLETE');
    // It ran for longer than several of B's adoption scans, and B never took a subtask of it.
    t.is(p.a.probe.started.length, 4);
    t.deepEqual(p.b.probe.started, []);
    t.is(p.a.probe.written, 32);
    const rows = await resultRows(p.a, id);
    t.is(rows.length, 32);
    t.is(new Set(rows).size, 32);
    t.true([...p.writes.values()].every((w) => w.join() === 'A'));
    await until('the lease to be released', async () => (await leaseOwner(p.a, id)) === null);
  } finally {
    await p.close();
  }
});

test('a coordinator killed mid-task: the other adopts it within TTL + one scan and completes it; nothing done is redone or reported twice', async (t) => {
  const p = await pair('adoption');
  try {
    p.a.probe.beforeFile = () => sleep(60);
    p.b.probe.beforeFile = () => sleep(20);
    const id = await create(
      p.a.engine,
      `CREATE TASK TYPE write_files OPTIONS dir = '${p.files}', nodes = ['n1', 'n2'], subtasks_per_node = 2, files = 12, checkpoints = true`,
    );
    await until('A to have written some files', () => p.a.probe.written >= 10);
    const killedAt = Date.now();
    const killed = p.a.engine.abandon();
    // How long A's lease had left when it died, by the catalog's clock.
    const lease = (
      await p.b.catalog.pool.query(
        'SELECT owner, extract(epoch FROM expires_at - clock_timestamp()) * 1000 AS ms FROM task_leases WHERE task_id = $1',
        [id],
      )
    ).rows[0];
    const leftMs = Number(lease.ms) + (Date.now() - killedAt);
    t.is(lease.owner, 'A');
    await killed;
    // What A had committed (its checkpoints, with their result rows) when it died.
    const committedByA = new Set(await resultRows(p.b, id));
    t.true(committedByA.size > 0);
    const adoptedMs = await adopted(p.b, id, killedAt);
    await until('B to run the task', () => p.b.probe.started.length > 0);
    t.log(
      `adopted ${adoptedMs} ms after the kill, the lease expiring ${Math.round(leftMs)} ms after it (TTL ${LEASES.ttlMs} ms, scan every ${LEASES.adoptMs} ms); running on B ${Date.now() - killedAt} ms after it`,
    );
    t.true(adoptedMs >= leftMs - 50, 'not before the lease expired');
    // Plus the scan's statements, on a loaded machine.
    t.true(adoptedMs <= LEASES.ttlMs + LEASES.adoptMs + 1000, 'within TTL + one adoption scan');
    const done = await ended(p.b, id);
    t.is(done.status, 'COMPLETE');
    t.like(done, { segments_done: 48, fraction_complete: 1 });
    // One result row per file: nothing reported twice.
    const rows = await resultRows(p.b, id);
    t.is(rows.length, 48);
    t.is(new Set(rows).size, 48);
    // B redid no file A had checkpointed; a file A wrote after its last checkpoint was redone once, by B.
    for (const [storageId, by] of p.writes) {
      if (committedByA.has(storageId)) t.deepEqual(by, ['A'], `${storageId} was checkpointed by A`);
      else t.true(by.join() === 'B' || by.join() === 'A,B', `${storageId} written by ${by.join()}`);
    }
    t.is(p.writes.size, 48);
    t.true(p.a.probe.written + p.b.probe.written - 48 <= 4 * 5, 'only the in-flight work is redone');
    await until('B to release the lease of the ended task', async () => (await leaseOwner(p.b, id)) === null);
  } finally {
    await p.close();
  }
});

test('kill -9 of the coordinator process that runs a task: the other adopts it within TTL + one scan and completes it, nothing reported twice', async (t) => {
  const db = 'kill_nine';
  await real.createDatabase(db);
  const files = join(root, db);
  mkdirSync(files);
  const writes: Writes = new Map();
  const b = await coordinator(db, 'B', writes);
  const child = spawn(
    process.execPath,
    [
      join(__dirname, 'helpers', 'lease-coordinator.js'),
      real.url(db),
      'A',
      JSON.stringify(LEASES),
      `CREATE TASK TYPE write_files OPTIONS dir = '${files}', nodes = ['n1', 'n2'], subtasks_per_node = 2, files = 12, checkpoints = true`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    let id = '';
    let writtenByA = 0;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, value] = line.split(' ');
      if (kind === 'T') id = value;
      if (kind === 'W') {
        writtenByA++;
        writes.set(value, [...(writes.get(value) ?? []), 'A']);
      }
    });
    await until('A to have written some files', () => id && writtenByA >= 10);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    const lease = (
      await b.catalog.pool.query(
        'SELECT owner, extract(epoch FROM expires_at - clock_timestamp()) * 1000 AS ms FROM task_leases WHERE task_id = $1',
        [id],
      )
    ).rows[0];
    const leftMs = Number(lease.ms) + (Date.now() - killedAt);
    t.is(lease.owner, 'A', 'a killed coordinator releases nothing');
    const committedByA = new Set(await resultRows(b, id));
    const adoptedMs = await adopted(b, id, killedAt);
    await until('B to run the task', () => b.probe.started.length > 0);
    t.log(
      `adopted ${adoptedMs} ms after kill -9, the lease expiring ${Math.round(leftMs)} ms after it; running on B ${Date.now() - killedAt} ms after it`,
    );
    t.true(adoptedMs >= leftMs - 50, 'not before the lease expired');
    t.true(adoptedMs <= LEASES.ttlMs + LEASES.adoptMs + 1000, 'within TTL + one adoption scan');
    const done = await ended(b, id);
    t.like(done, { status: 'COMPLETE', segments_done: 48, fraction_complete: 1 });
    const rows = await resultRows(b, id);
    t.is(rows.length, 48);
    t.is(new Set(rows).size, 48, 'nothing reported twice');
    for (const [storageId, by] of writes) {
      if (committedByA.has(storageId)) t.deepEqual(by, ['A'], `${storageId} was checkpointed by A`);
      else t.true(by.join() === 'B' || by.join() === 'A,B', `${storageId} written by ${by.join()}`);
    }
    t.is(writes.size, 48);
  } finally {
    child.kill('SIGKILL');
    await b.engine.stop();
    await b.catalog.close();
  }
});

test('fencing: an engine whose lease was taken writes nothing more, and its run stops', async (t) => {
  // A's heartbeat is far apart: only the fencing of its writes can notice that it lost the task.
  const p = await pair('fencing', { ttlMs: 60_000, heartbeatMs: 30_000, adoptMs: 30_000 });
  try {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let held = false;
    p.a.probe.beforeFile = async () => {
      if (++calls === 3) {
        held = true;
        await gate;
      }
    };
    const id = await create(
      p.a.engine,
      `CREATE TASK TYPE write_files LOCATION NODE n1 OPTIONS dir = '${p.files}', subtasks_per_node = 1, files = 6, checkpoints = true`,
    );
    await until('the third file to be held', () => held);
    // Two files checkpointed and written by the next flush.
    await until('the checkpoint of two files', async () => (await resultRows(p.a, id)).length === 2);
    const before = (await p.a.tasks.subtasks(id))[0];
    t.is(before.checkpoint, 2);
    // Another coordinator takes the lease (A was too slow to renew it: partitioned, paused).
    await p.b.catalog.pool.query(
      "UPDATE task_leases SET owner = 'C', expires_at = now() + interval '1 minute' WHERE task_id = $1",
      [id],
    );
    release();
    await until('A to stop the run', async () => {
      await p.a.engine.wait(id);
      return true;
    });
    t.true(p.a.probe.written >= 3, 'A wrote a file after losing the lease');
    await sleep(600);
    t.is((await resultRows(p.a, id)).length, 2, 'no result row written after the loss');
    const after = (await p.a.tasks.subtasks(id))[0];
    t.is(after.checkpoint, 2, 'no checkpoint written after the loss');
    t.is(after.status, 'RUNNING', 'nor the end of the subtask');
    t.is((await p.a.tasks.task(id))!.status, 'RUNNING', 'nor the end of the task');
    t.is(await leaseOwner(p.a, id), 'C', 'the lease is not released by the loser');
  } finally {
    await p.close();
  }
});

/** A slow task on A, with the signal of its runs, once A has written a few files. */
async function slowTaskOnA(p: Pair) {
  const seen: { signal?: AbortSignal } = {};
  p.a.probe.beforeFile = async (_s, ctx) => {
    seen.signal = ctx.signal;
    await sleep(50);
  };
  const id = await create(
    p.a.engine,
    `CREATE TASK TYPE write_files OPTIONS dir = '${p.files}', nodes = ['n1'], subtasks_per_node = 2, files = 100`,
  );
  await until('A to run it', () => p.a.probe.written >= 2);
  return { id, seen };
}

test('CANCEL TASK on the other coordinator reaches the owner at once (NOTIFY), well before its heartbeat', async (t) => {
  // A's heartbeat is 5 s apart: only the catalog channel can tell it sooner.
  const p = await pair('cancel_elsewhere', { ttlMs: 15_000, heartbeatMs: 5_000, adoptMs: 5_000 });
  try {
    const { id, seen } = await slowTaskOnA(p);
    await p.b.engine.cancel(id, 'admin');
    const at = Date.now();
    t.is((await p.b.tasks.task(id))!.status, 'CANCELLING', 'B only asks: A runs it');
    await until('A to abort the run', () => seen.signal?.aborted);
    const noticed = Date.now() - at;
    const done = await ended(p.b, id);
    t.log(
      `A aborted its run ${noticed} ms, and the task was CANCELLED ${Date.now() - at} ms, after CANCEL TASK on B`,
    );
    t.is(done.status, 'CANCELLED');
    t.true(noticed < 2000, `noticed after ${noticed} ms`);
    t.deepEqual(p.b.probe.started, []);
    t.true((await p.a.tasks.subtasks(id)).every((s) => s.status === 'CANCELLED'));
  } finally {
    await p.close();
  }
});

test('a cancel the owner was not told of (no notification) is seen at its next heartbeat', async (t) => {
  const p = await pair('cancel_unnotified');
  try {
    const { id, seen } = await slowTaskOnA(p);
    // Written straight into the catalog, as a coordinator whose notification was lost would leave it.
    await p.b.catalog.pool.query("UPDATE tasks SET status = 'CANCELLING' WHERE id = $1", [id]);
    const at = Date.now();
    await until('A to abort the run', () => seen.signal?.aborted);
    const noticed = Date.now() - at;
    t.log(`A aborted its run ${noticed} ms after the unnotified cancel (heartbeat ${LEASES.heartbeatMs} ms)`);
    t.true(noticed <= LEASES.heartbeatMs + 1000, `noticed after ${noticed} ms`);
    t.is((await ended(p.b, id)).status, 'CANCELLED');
  } finally {
    await p.close();
  }
});

test('PAUSE TASK on the other coordinator stops it there; RESUME TASK on it runs it here', async (t) => {
  const p = await pair('pause_elsewhere');
  try {
    p.a.probe.beforeFile = () => sleep(50);
    p.b.probe.beforeFile = () => sleep(10);
    const id = await create(
      p.a.engine,
      `CREATE TASK TYPE write_files OPTIONS dir = '${p.files}', nodes = ['n1'], subtasks_per_node = 2, files = 20, checkpoints = true`,
    );
    await until('A to run it', () => p.a.probe.written >= 4);
    const paused = await p.b.engine.pause(id, 'admin');
    t.is(paused.status, 'PAUSED');
    // PAUSE returns once A has released the lease (or let it expire: heartbeats seconds late on a loaded
    // machine); A releases it once its run is over.
    await until('A to release the lease', async () => (await leaseOwner(p.b, id)) === null);
    const writtenByA = p.a.probe.written;
    await sleep(400);
    t.is(p.a.probe.written, writtenByA, 'A runs nothing more');
    t.true((await p.b.tasks.subtasks(id)).every((s) => s.status === 'PENDING'));
    t.is((await p.b.engine.resume(id, 'admin')).status, 'RUNNING');
    const done = await ended(p.b, id);
    t.is(done.status, 'COMPLETE');
    t.true(p.b.probe.started.length > 0, 'resumed on B');
    t.is(p.a.probe.written, writtenByA, 'and not on A');
    const rows = await resultRows(p.b, id);
    t.is(rows.length, 40);
    t.is(new Set(rows).size, 40);
  } finally {
    await p.close();
  }
});

test('ALTER TASK on the other coordinator changes the rate where the task runs', async (t) => {
  const p = await pair('alter_elsewhere');
  try {
    const id = await create(
      p.a.engine,
      `CREATE TASK TYPE write_files LOCATION NODE n1 OPTIONS dir = '${p.files}', subtasks_per_node = 1, files = 40, max_bytes_per_sec = ${FILE_BYTES}`,
    );
    // At one file a second, forty take forty seconds.
    await until('A to run it', () => p.a.probe.written >= 2);
    const at = Date.now();
    await p.b.engine.setThrottle(id, null);
    const done = await ended(p.b, id);
    const ms = Date.now() - at;
    t.log(`the last ${40 - 2} files took ${ms} ms once unthrottled from B`);
    t.is(done.status, 'COMPLETE');
    t.true(ms < 15_000, `${ms} ms`);
    t.deepEqual(p.b.probe.started, []);
  } finally {
    await p.close();
  }
});

test('WAIT FOR TASK on the other coordinator returns when the task ends; its events arrive there once each', async (t) => {
  const p = await pair('events_elsewhere');
  try {
    const onB: TaskEvent[] = [];
    p.b.engine.events.on('task', (e) => onB.push(e));
    p.a.probe.beforeFile = () => sleep(30);
    const id = await create(
      p.a.engine,
      `CREATE TASK TYPE write_files OPTIONS dir = '${p.files}', nodes = ['n1'], subtasks_per_node = 2, files = 5`,
    );
    const row: TaskRow = await p.b.engine.waitFor(id, new AbortController().signal);
    t.is(row.status, 'COMPLETE');
    t.deepEqual(p.b.probe.started, []);
    // The events cross through the catalog's notifications, which may come after WAIT FOR TASK returned: until
    // the last status and every finding have arrived (bounded), not a fixed wait a loaded machine outlasts.
    await until('every event of the task on B', () => {
      const of = onB.filter((e) => e.task_id === id);
      return (
        of.some((e) => e.event === 'status' && e.status === 'COMPLETE') &&
        of.filter((e) => e.event === 'finding').length >= 10
      );
    });
    // Then a while for one that would come twice (its absence cannot be waited for otherwise).
    await sleep(300);
    const mine = onB.filter((e) => e.task_id === id);
    t.deepEqual(
      mine.filter((e) => e.event === 'status').map((e) => e.status),
      ['PENDING', 'RUNNING', 'COMPLETE'],
    );
    const findings = mine.filter((e) => e.event === 'finding').map((e) => e.finding!.storage_id);
    t.is(findings.length, 10);
    t.deepEqual(findings.sort(), (await resultRows(p.b, id)).sort());
  } finally {
    await p.close();
  }
});

test('two schedulers on one catalog create a due run once', async (t) => {
  const p = await pair('schedules');
  try {
    const schedulers = [p.a, p.b].map(
      (c) => new TaskScheduler(new ScheduleCatalog(c.catalog), c.tasks, c.engine, pino({ level: 'silent' })),
    );
    const schedules = new ScheduleCatalog(p.a.catalog);
    for (let i = 0; i < 5; i++)
      await schedules.insert({
        name: `s${i}`,
        definition: `CREATE TASK TYPE write_files LOCATION NODE n1 OPTIONS dir = '${p.files}', subtasks_per_node = 1, files = 1`,
        interval: '1 day',
        next_run: '2026-01-01 00:00:00+00',
        created_by: 'admin',
        created_at: '2026-01-01 00:00:00+00',
      });
    // Both coordinators tick at once, twice.
    await Promise.all([...schedulers, ...schedulers].map((s) => s.tick()));
    const made = (await p.a.catalog.pool.query('SELECT count(*)::int AS n FROM tasks')).rows[0].n;
    t.is(made, 5, 'one run per schedule');
    const rows = (await p.a.catalog.pool.query('SELECT last_task_id FROM task_schedules')).rows;
    t.true(rows.every((r) => r.last_task_id !== null));
  } finally {
    await p.close();
  }
});

test('two coordinators switching one segment (group locks are per process): the first switch wins, the other changes nothing', async (t) => {
  await real.createDatabase('switch_conflict');
  const one = await openPostgresCatalog(real.url('switch_conflict'));
  const two = await openPostgresCatalog(real.url('switch_conflict'));
  try {
    const storage = new StorageCatalog(one);
    await storage.createStorageSpace('s', 3, 1, 4096);
    await storage.createCluster('c', 's');
    for (let n = 1; n <= 4; n++) await storage.createNode(`n${n}`, 'c', [{ path: `/d${n}`, capacity: 1e9 }]);
    const devices = await storage.devices();
    const table = await storage.createTable('t', 'c', '(line text)', 'admin');
    const first = await storage.reserveGroupIds(1);
    const sid = (p: number) => `00000000-0000-4000-8000-00000000000${p}`;
    const group: NewGroup = {
      id: first,
      seq: 0,
      data_bytes: 8192,
      shard_bytes: 4096,
      segments: [0, 1, 2].map((p) => ({
        storage_id: sid(p),
        position: p,
        is_parity: p === 2,
        node_name: `n${p + 1}`,
        device_id: devices[p].id,
        path: `/d${p + 1}/${sid(p)}.seg`,
        size_bytes: 4160,
        checksum: `c${p}`,
      })),
    };
    await storage.addGroups(table, 'c', 3, 1, [group]);
    const from = { device_id: devices[0].id, path: `/d1/${sid(0)}.seg` };
    // Both copied segment 0 from n1: one to n4, one (a rebuild in place, say) back to n1 under a new name.
    const to = (n: number, name: string) => ({
      device_id: devices[n - 1].id,
      node_name: `n${n}`,
      path: `/d${n}/${name}`,
      size_bytes: 4160,
      checksum: name,
    });
    const at = '2026-01-01 00:00:00+00';
    const outcomes = await Promise.allSettled([
      new StorageCatalog(one).switchSegment(sid(0), from, to(4, 'moved.seg'), at),
      new StorageCatalog(two).switchSegment(sid(0), from, to(1, 'rebuilt.seg'), at),
    ]);
    t.is(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'one switch commits');
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    t.like(refused.reason, { code: '40001' });
    const seg = (await storage.segment(sid(0)))!;
    const winner = outcomes[0].status === 'fulfilled' ? to(4, 'moved.seg') : to(1, 'rebuilt.seg');
    t.like(seg, { device_id: winner.device_id, path: winner.path, checksum: winner.checksum });
    // The used bytes moved once: from n1's device to the winner's.
    const used = new Map((await storage.devices()).map((d) => [d.id, d.used_bytes]));
    t.is(
      [...used.values()].reduce((a, b) => a + b, 0),
      3 * 4160,
    );
    t.is(used.get(winner.device_id), 4160);
  } finally {
    await one.close();
    await two.close();
  }
});
