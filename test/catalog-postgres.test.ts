// The catalog's data access on PostgreSQL 15 (a real one, started in a temporary directory) against the same on
// SQLite: one scenario of every kind of statement the catalog modules run (topology, segments and their
// paging, tasks with a checkpoint that switches a segment, results, schedules, users, DROP TABLE), run on both,
// must give the same answers. Then the task leases of several coordinators (catalog/leases.ts): a lease is
// taken from another coordinator only after it has expired, renewal keeps it, and concurrent subtask claims
// (FOR UPDATE SKIP LOCKED) never hand one subtask out twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { type RealPostgres, startRealPostgres } from '../bench/common';
import { type Catalog, openCatalog } from '../catalog/db';
import { TaskLeases } from '../catalog/leases';
import { numberedPlaceholders, openPostgresCatalog, type PostgresCatalog } from '../catalog/postgres';
import { ScheduleCatalog } from '../catalog/schedules';
import { type NewGroup, StorageCatalog, VERIFY_COLUMN } from '../catalog/storage';
import { TaskCatalog } from '../catalog/tasks';
import { Users } from '../catalog/users';

const PORT = 56000 + (process.pid % 1000);
let real: RealPostgres;
let dir: string;

test.before(() => {
  real = startRealPostgres(PORT);
  dir = mkdtempSync(join(tmpdir(), 'segtasks-pgcat-'));
});
test.after.always(() => {
  real?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A catalog in a database of its own (tests in this file run side by side). */
async function freshCatalog(name: string): Promise<PostgresCatalog> {
  return openPostgresCatalog(await real.createDatabase(name));
}

const newTask = (tasks: TaskCatalog, subtasks: number) =>
  tasks.createTask(
    {
      name: null,
      type: 'check_disk',
      location_type: 'SYSTEM',
      location_name: null,
      options: {},
      created_by: 'admin',
    },
    Array.from({ length: subtasks }, (_, i) => ({
      node_name: null,
      cluster_name: null,
      device_id: null,
      description: `part ${i}`,
      bytes_total: 0,
      segments_total: 0,
      plan: i,
    })),
  );

/** A storage id that is the same in both runs. */
const sid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function scenario(catalog: Catalog): Promise<unknown[]> {
  const storage = new StorageCatalog(catalog);
  const tasks = new TaskCatalog(catalog);
  const users = new Users(catalog);
  const schedules = new ScheduleCatalog(catalog);
  const out: unknown[] = [];
  const code = async (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? String(e),
    );

  out.push(await users.bootstrapAdmin('secret'), await users.bootstrapAdmin('secret'));
  await users.create('bob', 'pw');
  out.push(await users.roles('admin'), await users.isSysadmin('bob'), await code(users.create('bob', null)));
  out.push(!!(await users.credentials('bob'))?.scramVerifier);

  await storage.createStorageSpace('s', 3, 1, 4096);
  await storage.createCluster('c', 's');
  for (let n = 1; n <= 3; n++) await storage.createNode(`n${n}`, 'c', [{ path: `/d${n}`, capacity: 1e9 }]);
  out.push(await code(storage.createNode('n1', 'c', [])), await code(storage.addDevice('n2', '/d2', 1)));
  const devices = await storage.devices();
  const table = await storage.createTable('t', 'c', '(line text)', 'admin');
  out.push(await code(storage.createTable('t', 'c', '', 'admin')));
  const first = await storage.reserveGroupIds(2);
  const groups: NewGroup[] = [0, 1].map((g) => ({
    id: first + g,
    seq: g,
    data_bytes: 8192,
    shard_bytes: 4096,
    segments: [0, 1, 2].map((p) => ({
      storage_id: sid(g * 3 + p),
      position: p,
      is_parity: p === 2,
      node_name: `n${p + 1}`,
      device_id: devices[p].id,
      path: `/d${p + 1}/segments/${sid(g * 3 + p)}.seg`,
      size_bytes: 4160,
      checksum: `c${g}${p}`,
    })),
  }));
  await storage.addGroups(table, 'c', 3, 1, groups);
  out.push(
    (await storage.table('t'))?.bytes,
    (await storage.groupsOfTable(table.id)).map((g) => g.seq),
  );
  out.push((await storage.devices()).map((d) => d.used_bytes));
  const page = await storage.segmentsToVerify({ limit: 4, afterRowid: 0 });
  const next = await storage.segmentsToVerify({
    limit: 4,
    afterRowid: page[page.length - 1][VERIFY_COLUMN.rowid],
  });
  out.push([...page, ...next].map((s) => s[VERIFY_COLUMN.storageId]));
  const perDevice = async (f: Parameters<StorageCatalog['segmentsPerDevice']>[0]) =>
    (await storage.segmentsPerDevice(f)).map(({ device_id: _, ...rest }) => rest);
  out.push(await perDevice({}), await perDevice({ storageIds: [sid(1)] }));
  // check_disk's ranges of clean segments, read through the view sys.segments is made of.
  await storage.markCheckedRange(
    devices[0].id,
    [[page[0][VERIFY_COLUMN.rowid], next[next.length - 1][VERIFY_COLUMN.rowid]]],
    '2026-01-02 00:00:00+00',
  );
  out.push(await catalog.sql.all('SELECT storage_id, last_checked_at FROM sys_segments ORDER BY storage_id'));
  await storage.setSegmentStatus([{ storageId: sid(4), status: 'MISSING' }]);
  out.push((await storage.group(first + 1))?.status, await storage.groupsNeedingRebuild({ node: 'n2' }));
  out.push(await storage.unknownGroupIds([first, 999]), await storage.unknownStorageIds([sid(0), sid(99)]));

  const id = await tasks.createTask(
    {
      name: 'heal',
      type: 'rebuild',
      location_type: 'SYSTEM',
      location_name: null,
      options: { a: 1 },
      created_by: 'admin',
    },
    [
      {
        node_name: null,
        cluster_name: 'c',
        device_id: null,
        description: 'one',
        bytes_total: 100,
        segments_total: 1,
        plan: [first + 1],
      },
    ],
  );
  out.push(
    await code(
      tasks.createTask(
        {
          name: 'heal',
          type: 'x',
          location_type: 'SYSTEM',
          location_name: null,
          options: {},
          created_by: 'a',
        },
        [],
      ),
    ),
  );
  const [sub] = await tasks.subtasks(id);
  await tasks.setTaskStatus(id, 'RUNNING');
  await tasks.setSubtaskStatus(sub.id, 'RUNNING');
  const result = {
    node_name: 'n3',
    device_id: null,
    table_id: table.id,
    segment_group_id: first + 1,
    storage_id: sid(4),
    result: 'REBUILT',
    detail: 'x',
  };
  await tasks.writeProgress(
    new Map([
      [
        sub.id,
        {
          task_id: id,
          task_type: 'rebuild',
          bytes_total: 100,
          segments_total: 1,
          bytes_done: 50,
          segments_done: 1,
          segments_failed: 0,
          bytes_per_sec: 10,
          checkpoint: {
            position: 1,
            progress: { bytes_done: 50, segments_done: 1, segments_failed: 0 },
            results: [{ ...result, subtask_id: sub.id }],
            apply: [
              (s) =>
                s.switchSegment(
                  sid(4),
                  { device_id: devices[1].id, path: `/d2/segments/${sid(4)}.seg` },
                  {
                    device_id: devices[2].id,
                    node_name: 'n3',
                    path: '/d3/x.seg',
                    size_bytes: 4160,
                    checksum: 'new',
                  },
                  '2026-01-01 00:00:00+00',
                ),
            ],
          },
        },
      ],
    ]),
  );
  const row = (await tasks.task(id)) as unknown as Record<string, unknown> & { options: string };
  out.push([
    row.status,
    row.bytes_done,
    row.fraction_complete,
    row.bytes_per_sec,
    row.eta !== null && row.eta !== undefined,
    JSON.parse(row.options),
  ]);
  out.push(
    (await tasks.subtasks(id)).map((s) => [s.checkpoint, s.checkpoint_bytes_done, JSON.parse(s.plan!)]),
  );
  out.push(
    await tasks.resultCounts(id),
    (await tasks.results(id)).map((r) => r.result),
  );
  out.push(await storage.segment(sid(4)).then((s) => [s?.node_name, s?.status, s?.last_checked_at]));
  out.push(
    (await storage.devices()).map((d) => d.used_bytes),
    (await storage.group(first + 1))?.status,
  );
  await tasks.resumeSubtask(sub.id);
  await tasks.refreshTaskTotals(id);
  out.push(
    (await tasks.activeTasks()).map((t) => t.name),
    (await tasks.find('heal'))?.id === id,
  );

  const due = '2026-01-01 01:00:00+00';
  await schedules.insert({
    name: 'h',
    definition: 'CREATE TASK TYPE check_disk',
    interval: '1 hour',
    next_run: due,
    created_by: 'bob',
    created_at: due,
  });
  out.push(await schedules.advance('h', due, { next_run: '2026-01-01 02:00:00+00', paused: true }));
  out.push(await schedules.advance('h', due, { next_run: '2026-01-01 03:00:00+00' }));
  const s = (await schedules.get('h'))!;
  out.push([s.next_run, s.paused, s.skipped_runs], await code(users.drop('bob', false)));

  out.push((await storage.dropTable('t')).length, (await storage.pendingFileRemovals()).length);
  out.push(await storage.allSegmentPaths().then((p) => p.size), await code(storage.dropNode('n1')));
  return out;
}

test('the catalog modules answer the same on PostgreSQL as on SQLite', async (t) => {
  const lite = await openCatalog(join(dir, 'lite'));
  const onPg = await openPostgresCatalog(real.url());
  try {
    const expected = await scenario(lite);
    t.deepEqual(await scenario(onPg), expected);
  } finally {
    await lite.close();
    await onPg.close();
  }
});

test('? placeholders become $n outside quotes', (t) => {
  t.is(
    numberedPlaceholders(`SELECT '?', "a?" FROM x WHERE a = ? AND b IN (?, ?)`),
    `SELECT '?', "a?" FROM x WHERE a = $1 AND b IN ($2, $3)`,
  );
});

test('a lease is taken from its owner only after it expired; renewing keeps it', async (t) => {
  const catalog = await freshCatalog('leases');
  try {
    const tasks = new TaskCatalog(catalog);
    const a = new TaskLeases(catalog, 'coordinator-a', 600);
    const b = new TaskLeases(catalog, 'coordinator-b', 600);
    const id = await newTask(tasks, 1);
    t.deepEqual(await b.adoptable(), [id], 'a task nobody holds is adoptable');
    t.true(await a.acquire(id));
    t.true(await a.acquire(id), 'the owner takes it again');
    t.false(await b.acquire(id), 'not while it is held');
    t.deepEqual(await b.adoptable(), []);
    // Renewed within its time, it stays with its owner.
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      t.deepEqual(await a.renew(), new Set([id]));
      t.false(await b.acquire(id));
    }
    // Not renewed, it expires and the other coordinator adopts it; the old owner learns it at its next renewal.
    await sleep(800);
    t.deepEqual(await b.adoptable(), [id]);
    t.true(await b.acquire(id));
    t.false(await a.acquire(id));
    t.deepEqual(await a.renew(), new Set());
    t.deepEqual(await b.renew(), new Set([id]));
    // Only the holder claims subtasks.
    t.is(await a.claimSubtask(id), null);
    t.truthy(await b.claimSubtask(id));
    await b.release(id);
    t.deepEqual(await a.adoptable(), [id], 'released: adoptable at once');
  } finally {
    await catalog.close();
  }
});

test('concurrent subtask claims (SKIP LOCKED) hand each subtask out once', async (t) => {
  const catalog = await freshCatalog('claims');
  try {
    const tasks = new TaskCatalog(catalog);
    const leases = new TaskLeases(catalog, 'coordinator-a', 60_000);
    const id = await newTask(tasks, 40);
    t.true(await leases.acquire(id));
    // Eight claimers at once, on eight connections of the pool, until none is left.
    const claimed: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let s = await leases.claimSubtask(id); s; s = await leases.claimSubtask(id)) claimed.push(s);
      }),
    );
    t.is(claimed.length, 40);
    t.is(new Set(claimed).size, 40, 'no subtask claimed twice');
    t.true((await tasks.subtasks(id)).every((s) => s.status === 'RUNNING'));
  } finally {
    await catalog.close();
  }
});

test('group ids reserved at once by several connections are never handed out twice', async (t) => {
  const catalog = await freshCatalog('groupids');
  try {
    const storage = new StorageCatalog(catalog);
    // Runs of 1 and of 3, 200 at once over the pool's connections (as the groups a load has in flight, and
    // the loads of several coordinators, reserve them), in 10 rounds.
    const sizes = Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 3 : 1));
    const ids: number[] = [];
    for (let round = 0; round < 10; round++) {
      const starts = await Promise.all(sizes.map((n) => storage.reserveGroupIds(n)));
      ids.push(...starts.flatMap((s, i) => Array.from({ length: sizes[i] }, (_, j) => s + j)));
    }
    t.is(new Set(ids).size, ids.length, 'no id twice');
    t.is(ids.length, 10 * (50 * 3 + 150));
  } finally {
    await catalog.close();
  }
});
