// kill -9 at random moments of a rebuild and of a rebalance, twenty times each; progress read before each kill
// and after each restart never goes back (progress moves only with checkpoints, so nothing in flight is
// shown); then the task finishes with every group INTACT, every file catalogued and every catalogued segment
// on disk, every step reported exactly once, and the data byte-identical.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import { from as copyFrom } from 'pg-copy-streams';
import {
  assertProgressKept,
  assertStoreConsistent,
  connectAdmin,
  killRepeatedly,
  startServerProcess,
} from './helpers/process';
import { copyOutBytes, createTask, waitTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

const SEG = 65536;
const KILLS = Number(process.env.SEGTASKS_CRASH_KILLS ?? 20);

test(`rebuild survives ${KILLS} kill -9 at random moments`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-crash-rebuild-'));
  let server = await startServerProcess(dir);
  try {
    let client = await connectAdmin(server.port);
    await createTopology(client, dir, { segmentSize: SEG });
    const data = randomBytes(30 * 4 * SEG);
    await client.query('CREATE TABLE precious (b bytea) IN CLUSTER c1');
    await pipeline(Readable.from([data]), client.query(copyFrom('COPY precious FROM STDIN')));
    const segs = (
      await client.query(
        'SELECT path, position, segment_group_id FROM sys.segments ORDER BY segment_group_id, position',
      )
    ).rows;
    // two segments of every group gone: the most each group can lose
    let lost = 0;
    for (const s of segs)
      if (s.position === Number(s.segment_group_id) % 4 || s.position === 5) {
        unlinkSync(s.path);
        lost++;
      }
    const fix = await createTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
    await waitTask(client, fix);
    const id = await createTask(client, 'CREATE TASK heal TYPE rebuild OPTIONS max_bytes_per_sec = 70000');
    await client.end();
    const killed = await killRepeatedly(server, dir, id, KILLS);
    server = killed.server;
    const killedWhileRunning = killed.interrupted;
    client = await connectAdmin(server.port);
    const done = await waitTask(client, id, 120_000);
    t.log(`${killedWhileRunning} of ${KILLS} restarts found the rebuild still running`);
    t.true(killedWhileRunning >= 3, 'the kills really interrupted the rebuild');
    t.is(done.status, 'COMPLETE', done.error ?? '');
    assertProgressKept(t, killed.steps, 0, Number(done.bytes_total));
    t.is(Number(done.segments_done), lost);
    t.is(Number(done.bytes_done), Number(done.bytes_total), 'no byte counted twice');
    // every lost segment reported REBUILT once: the row is written with the switch it reports
    const rebuilt = (
      await client.query(
        "SELECT storage_id, count(*)::int4 AS n FROM sys.result_cache WHERE task_id = $1 AND result = 'REBUILT' GROUP BY storage_id",
        [id],
      )
    ).rows;
    t.is(rebuilt.length, lost);
    t.true(
      rebuilt.every((r) => r.n === 1),
      'no segment reported twice',
    );
    await assertStoreConsistent(t, client, dir);
    t.true((await copyOutBytes(client, 'COPY precious TO STDOUT')).equals(data));
    const check = await waitTask(client, await createTask(client, 'CREATE TASK TYPE check_disk'));
    t.is(Number(check.segments_failed), 0, 'every file verifies');
    await client.end();
  } finally {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test(`rebalance survives ${KILLS} kill -9 at random moments`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-crash-rebalance-'));
  let server = await startServerProcess(dir);
  try {
    let client = await connectAdmin(server.port);
    await createTopology(client, dir, { segmentSize: SEG, nodes: 8 });
    const data = randomBytes(30 * 4 * SEG);
    await client.query('CREATE TABLE moving (b bytea) IN CLUSTER c1');
    await pipeline(Readable.from([data]), client.query(copyFrom('COPY moving FROM STDIN')));
    for (const n of ['c1_n1', 'c1_n2', 'c1_n3', 'c1_n4']) {
      const p = join(dir, 'devices', n, 'd3');
      mkdirSync(p, { recursive: true });
      await client.query(`ALTER NODE ${n} ADD DEVICE '${p}'`);
    }
    const id = await createTask(
      client,
      'CREATE TASK spread TYPE rebalance OPTIONS max_bytes_per_sec = 60000, parallelism = 1',
    );
    const planned = Number(
      (await client.query('SELECT segments_total FROM sys.tasks WHERE id = $1', [id])).rows[0].segments_total,
    );
    await client.end();
    const killed = await killRepeatedly(server, dir, id, KILLS);
    server = killed.server;
    const killedWhileRunning = killed.interrupted;
    client = await connectAdmin(server.port);
    const done = await waitTask(client, id, 120_000);
    t.log(
      `${planned} moves planned; ${killedWhileRunning} of ${KILLS} restarts found the rebalance still running`,
    );
    t.true(killedWhileRunning >= 3, 'the kills really interrupted the rebalance');
    t.is(done.status, 'COMPLETE', done.error ?? '');
    assertProgressKept(t, killed.steps, 0, Number(done.bytes_total));
    t.is(Number(done.segments_done), planned);
    // every planned move done and reported once (MOVED), none twice
    const moved = (
      await client.query(
        "SELECT storage_id, detail, count(*)::int4 AS n FROM sys.result_cache WHERE task_id = $1 AND result = 'MOVED' GROUP BY 1, 2",
        [id],
      )
    ).rows;
    t.is(moved.length, planned);
    t.true(
      moved.every((r) => r.n === 1),
      'no move reported twice',
    );
    const balance = (
      await client.query("SELECT detail FROM sys.result_cache WHERE task_id = $1 AND result = 'BALANCE'", [
        id,
      ])
    ).rows;
    t.is(balance.length, 1);
    await assertStoreConsistent(t, client, dir);
    const twice = await client.query(
      'SELECT 1 FROM sys.segments GROUP BY segment_group_id, node_name HAVING count(*) > 1',
    );
    t.is(twice.rows.length, 0);
    t.true((await copyOutBytes(client, 'COPY moving TO STDOUT')).equals(data));
    const used = (await client.query('SELECT sum(used_bytes)::int8 AS u FROM sys.storage_devices')).rows[0].u;
    const real = (await client.query('SELECT sum(size_bytes)::int8 AS s FROM sys.segments')).rows[0].s;
    t.is(used, real, 'device usage matches the segments on it');
    await client.end();
  } finally {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
