// max_bytes_per_sec per device, measured from outside the throttle: check_disk's rate per device from its
// progress over time, rebuild's write rate on the one device that takes every rebuilt segment (from the
// REBUILT rows as they appear) with four subtasks writing to it at once; ALTER TASK changes a running
// task's rate without a restart, and sys.subtasks.bytes_per_sec shows the rate.
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';
import { createTask, load, runTask, waitTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
// small segments, so that one device holds enough of them for four rebuild subtasks (16 groups each)
const SEG = 16384;

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
  await createTopology(client, server.dataDir, { segmentSize: SEG });
  await load(client, 'data', 8 * 1024 * 1024);
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

interface Sample {
  at: number;
  byDevice: Map<string, number>;
  rates: number[];
}

async function sampleSubtasks(taskId: string): Promise<Sample> {
  const rows = (
    await client.query('SELECT device_id, bytes_done, bytes_per_sec FROM sys.subtasks WHERE task_id = $1', [
      taskId,
    ])
  ).rows;
  return {
    at: Date.now(),
    byDevice: new Map(rows.map((r) => [r.device_id as string, Number(r.bytes_done)])),
    rates: rows.map((r) => Number(r.bytes_per_sec)),
  };
}

/** Per device, bytes per second between two samples. */
function ratesBetween(a: Sample, b: Sample): number[] {
  return [...b.byDevice].map(([d, done]) => ((done - (a.byDevice.get(d) ?? 0)) * 1000) / (b.at - a.at));
}

const kB = (n: number) => `${(n / 1000).toFixed(0)} kB/s`;

test.serial('check_disk at 100 kB/s per device, then ALTER TASK to 200 kB/s while it runs', async (t) => {
  const rate = 100_000;
  // 1.75 MB per device with this table (dropped at the end, the rebuild test counts its device's segments):
  // at 100 kB/s, then 200 kB/s, the task still runs seconds after the last ALTER TASK below (with only the
  // shared 8 MiB it could end just before it, and the ALTER was 55000).
  await load(client, 'throttled_extra', 6 * 1024 * 1024);
  const id = await createTask(client, `CREATE TASK slow TYPE check_disk OPTIONS max_bytes_per_sec = ${rate}`);
  // after the first second's burst, three seconds at the rate (progress moves a batch, ~33 kB, at a time)
  await sleep(1200);
  const a = await sampleSubtasks(id);
  await sleep(3000);
  const b = await sampleSubtasks(id);
  const first = ratesBetween(a, b);
  t.log(
    `per device at ${kB(rate)}: ${first.map(kB).join(', ')}; sys.subtasks.bytes_per_sec ${b.rates.map(kB).join(', ')}`,
  );
  for (const r of first) t.true(r <= rate * 1.2 && r >= rate * 0.6, `device rate ${r}`);
  for (const r of b.rates) t.true(r > 0 && r <= rate * 1.3, `bytes_per_sec ${r}`);

  // The task's rate is its running subtasks' rates summed; its ETA is when the bytes left are done at it.
  const task = (
    await client.query(
      `SELECT t.bytes_per_sec, t.bytes_total - t.bytes_done AS left, extract(epoch FROM t.eta - now()) AS eta_in,
              (SELECT sum(s.bytes_per_sec) FROM sys.subtasks s WHERE s.task_id = t.id AND s.status = 'RUNNING') AS sum,
              (SELECT count(*) FROM sys.subtasks s WHERE s.task_id = t.id AND s.status = 'RUNNING' AND s.eta > now()) AS with_eta,
              (SELECT count(*) FROM sys.subtasks s WHERE s.task_id = t.id AND s.status = 'RUNNING') AS running
       FROM sys.tasks t WHERE t.id = $1`,
      [id],
    )
  ).rows[0];
  t.log(`sys.tasks: ${JSON.stringify(task)}`);
  const taskRate = Number(task.bytes_per_sec);
  t.true(taskRate > 0, 'a running task has a rate');
  // Both were written in one progress transaction; the query reads one snapshot.
  t.true(Math.abs(taskRate - Number(task.sum)) <= 1, 'the sum of its running subtasks');
  const expected = Number(task.left) / taskRate;
  const etaIn = Number(task.eta_in);
  // The ETA was computed at the last progress write (every 250 ms; later on a loaded machine), from the same
  // bytes left and rate: it is that long before bytes left / rate, never after.
  t.true(
    etaIn > expected - 5 && etaIn <= expected + 0.1,
    `eta in ${etaIn} s, bytes left / rate ${expected} s`,
  );
  t.is(Number(task.with_eta), Number(task.running), 'every running subtask has an ETA in the future');

  await client.query(`ALTER TASK 'slow' SET max_bytes_per_sec = ${2 * rate}`);
  // options is json: the driver hands it over parsed
  const { options } = (await client.query('SELECT options FROM sys.tasks WHERE id = $1', [id])).rows[0];
  t.is(options.max_bytes_per_sec, 2 * rate, 'kept in the options');
  // As after the start: past the burst the new rate allows at once, three seconds at the new rate.
  await sleep(1200);
  const c = await sampleSubtasks(id);
  await sleep(3000);
  const d = await sampleSubtasks(id);
  const second = ratesBetween(c, d);
  t.log(`per device after ALTER TASK to ${kB(2 * rate)}: ${second.map(kB).join(', ')}`);
  for (const r of second) t.true(r <= 2 * rate * 1.2 && r >= rate * 1.3, `device rate ${r}`);
  await client.query("ALTER TASK 'slow' RESET max_bytes_per_sec");
  const done = await waitTask(client, id);
  t.is(done.status, 'COMPLETE');
  const ended = (
    await client.query(
      `SELECT t.bytes_per_sec, t.eta, (SELECT count(*) FROM sys.subtasks s
         WHERE s.task_id = t.id AND (s.eta IS NOT NULL OR s.bytes_per_sec <> 0)) AS still
       FROM sys.tasks t WHERE t.id = $1`,
      [id],
    )
  ).rows[0];
  t.deepEqual(
    [Number(ended.bytes_per_sec), ended.eta, Number(ended.still)],
    [0, null, 0],
    'an ended task and its subtasks have no rate and no ETA',
  );
  await client.query('DROP TABLE throttled_extra');
  const e = await t.throwsAsync<Error & { code: string }>(
    client.query("ALTER TASK 'slow' SET max_bytes_per_sec = 5"),
  );
  t.is(e?.code, '55000');
  const p = await t.throwsAsync<Error & { code: string }>(
    client.query("ALTER TASK 'nope' SET max_bytes_per_sec = 5"),
  );
  t.is(p?.code, '42704');
  const o = await t.throwsAsync<Error & { code: string }>(
    client.query("ALTER TASK 'slow' SET parallelism = 5"),
  );
  t.is(o?.code, '0A000');
});

test.serial('rebuild with four subtasks writing to one device: that device stays at its rate', async (t) => {
  // every segment of one device lost: all of them are rebuilt in place, on that device
  const dev = (
    await client.query(
      "SELECT id, path FROM sys.storage_devices WHERE node_name = 'c1_n1' ORDER BY path LIMIT 1",
    )
  ).rows[0];
  const dir = join(dev.path, 'segments');
  const lost = readdirSync(dir);
  for (const f of lost) unlinkSync(join(dir, f));
  await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
  const rate = 100_000;
  const id = await createTask(
    client,
    `CREATE TASK heal TYPE rebuild OPTIONS max_bytes_per_sec = ${rate}, parallelism = 4`,
  );
  const subtasks = Number(
    (await client.query('SELECT count(*)::int4 AS n FROM sys.subtasks WHERE task_id = $1', [id])).rows[0].n,
  );
  const written = async () =>
    Number(
      (
        await client.query(
          "SELECT count(*)::int4 AS n FROM sys.result_cache WHERE task_id = $1 AND result = 'REBUILT' AND device_id = $2",
          [id, dev.id],
        )
      ).rows[0].n,
    );
  const fileBytes = Number(
    (await client.query('SELECT max(size_bytes)::int8 AS s FROM sys.segments WHERE device_id = $1', [dev.id]))
      .rows[0].s,
  );
  await sleep(1500);
  const a = { at: Date.now(), n: await written() };
  const peak: number[] = [];
  for (let i = 0; i < 6; i++) {
    await sleep(500);
    const s = await client.query('SELECT bytes_per_sec FROM sys.subtasks WHERE task_id = $1', [id]);
    peak.push(s.rows.reduce((x, r) => x + Number(r.bytes_per_sec), 0));
  }
  const b = { at: Date.now(), n: await written() };
  const onDevice = ((b.n - a.n) * fileBytes * 1000) / (b.at - a.at);
  t.log(
    `${lost.length} segments to rebuild on one device, ${subtasks} subtasks, parallelism 4: written on that device ${kB(onDevice)} at max_bytes_per_sec ${kB(rate)}; the subtasks' bytes_per_sec summed ${peak.map(kB).join(', ')}`,
  );
  t.true(b.n > a.n, 'the rebuild progressed');
  // four subtasks each throttled on their own would write four times the rate
  t.true(onDevice <= rate * 1.2, `device rate ${onDevice}`);
  await client.query("ALTER TASK 'heal' SET max_bytes_per_sec = DEFAULT");
  const done = await waitTask(client, id, 60_000);
  t.is(done.status, 'COMPLETE', done.error ?? '');
  t.is(await written(), lost.length);
});
