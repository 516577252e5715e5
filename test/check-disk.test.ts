// check_disk, end to end through SQL: every option and location, real corruption on disk.
import { readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';
import { createTask, findings, load, runTask, waitTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
const MiB = 1024 * 1024;

interface Seg {
  storage_id: string;
  path: string;
  node_name: string;
  device_id: string;
  status: string;
  segment_group_id: string;
}

async function segments(): Promise<Seg[]> {
  return (
    await client.query(
      'SELECT storage_id, path, node_name, device_id, status, segment_group_id FROM sys.segments ORDER BY storage_id',
    )
  ).rows;
}

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  await client.connect();
  // 1 MiB segments (8 blocks of 128 KiB), so that sampling has blocks to choose from.
  await createTopology(client, server.dataDir, { segmentSize: MiB });
  await load(client, 'data', 12 * MiB); // 3 groups, 18 segments
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

test.serial('a clean system: COMPLETE, every segment counted, nothing reported', async (t) => {
  const task = await runTask(client, 'CREATE TASK clean TYPE check_disk');
  t.is(task.status, 'COMPLETE');
  t.is(task.fraction_complete, 1);
  t.is(Number(task.segments_total), 18);
  t.is(Number(task.segments_done), 18);
  t.is(Number(task.segments_failed), 0);
  t.is(task.bytes_done, task.bytes_total);
  t.deepEqual(await findings(client, task.id), []);
  const subs = await client.query(
    'SELECT count(*)::int4 AS n, count(DISTINCT node_name)::int4 AS nodes FROM sys.subtasks WHERE task_id = $1',
    [task.id],
  );
  t.is(subs.rows[0].nodes, 6);
  t.true(subs.rows[0].n >= 6, 'one subtask per node and device');
});

test.serial(
  'flipped byte (header or data), truncation, deletion: reported; fix = false changes nothing, fix = true marks them',
  async (t) => {
    const segs = await segments();
    const [a, b, c, d] = segs;
    const originalA = readFileSync(a.path);
    const flipped = Buffer.from(originalA);
    flipped[Math.floor(Math.random() * flipped.length)] ^= 0x20; // random offset: header, table or data
    writeFileSync(a.path, flipped);
    const hdr = readFileSync(d.path);
    hdr[12] ^= 0x01; // inside the storage id in the header
    writeFileSync(d.path, hdr);
    truncateSync(b.path, 1000);
    unlinkSync(c.path);

    const report = await runTask(client, 'CREATE TASK look TYPE check_disk');
    t.is(report.status, 'COMPLETE');
    t.is(Number(report.segments_failed), 4);
    const f = new Map((await findings(client, report.id)).map((x) => [x.storage_id, x]));
    t.is(f.get(a.storage_id)?.result, 'CHECKSUM_MISMATCH');
    t.is(f.get(d.storage_id)?.result, 'CHECKSUM_MISMATCH');
    t.is(f.get(b.storage_id)?.result, 'WRONG_LENGTH');
    t.is(f.get(c.storage_id)?.result, 'MISSING');
    t.regex(f.get(a.storage_id)?.detail ?? '', new RegExp(a.storage_id)); // the file path names the segment
    t.true(
      (await segments()).every((s) => s.status === 'INTACT'),
      'no status changes without fix',
    );

    const fixed = await runTask(client, 'CREATE TASK fixit TYPE check_disk OPTIONS fix = true');
    t.is(fixed.status, 'COMPLETE');
    const after = new Map((await segments()).map((s) => [s.storage_id, s.status]));
    t.is(after.get(a.storage_id), 'DAMAGED');
    t.is(after.get(d.storage_id), 'DAMAGED');
    t.is(after.get(b.storage_id), 'DAMAGED');
    t.is(after.get(c.storage_id), 'MISSING');
    const groupStatus = (
      await client.query('SELECT status FROM sys.segment_groups WHERE id = $1', [c.segment_group_id])
    ).rows[0].status;
    t.is(groupStatus, 'MISSING');

    // A DAMAGED segment that verifies cleanly again is left for rebuild, never promoted.
    writeFileSync(a.path, originalA);
    await runTask(client, 'CREATE TASK again TYPE check_disk OPTIONS fix = true');
    t.is(new Map((await segments()).map((s) => [s.storage_id, s.status])).get(a.storage_id), 'DAMAGED');

    // only_unhealthy looks at the four non-INTACT segments only
    const unhealthy = await runTask(client, 'CREATE TASK sick TYPE check_disk OPTIONS only_unhealthy = true');
    t.is(Number(unhealthy.segments_total), 4);
  },
);

test.serial(
  'locations: NODE checks that node only, CLUSTER that cluster; storage_ids only those',
  async (t) => {
    const segs = await segments();
    const node = segs[5].node_name;
    const onNode = segs.filter((s) => s.node_name === node).length;
    const byNode = await runTask(client, `CREATE TASK one_node TYPE check_disk LOCATION NODE '${node}'`);
    t.is(Number(byNode.segments_total), onNode);
    const subs = await client.query('SELECT DISTINCT node_name FROM sys.subtasks WHERE task_id = $1', [
      byNode.id,
    ]);
    t.deepEqual(
      subs.rows.map((r) => r.node_name),
      [node],
    );
    const byCluster = await runTask(client, 'CREATE TASK one_cluster TYPE check_disk LOCATION CLUSTER c1');
    t.is(Number(byCluster.segments_total), 18);
    const ids = [segs[6].storage_id, segs[7].storage_id];
    const some = await runTask(
      client,
      `CREATE TASK some TYPE check_disk OPTIONS storage_ids = ['${ids[0]}', '${ids[1]}']`,
    );
    t.is(Number(some.segments_total), 2);
  },
);

test.serial(
  'sample mode reads a fraction of the blocks, and finds a one-block corruption across repeated runs',
  async (t) => {
    const target = (await segments()).find((s) => s.status === 'INTACT')!;
    const bytes = readFileSync(target.path);
    const off = bytes.length - 1000; // inside the last block
    bytes[off] ^= 0xff;
    writeFileSync(target.path, bytes);
    let found = 0;
    let missed = 0;
    let sampledBytes = 0;
    let fullBytes = 0;
    for (let i = 0; i < 25; i++) {
      const r = await runTask(
        client,
        `CREATE TASK TYPE check_disk OPTIONS sample = true, sample_rate = 0.25, storage_ids = ['${target.storage_id}']`,
      );
      sampledBytes = Number(r.bytes_done);
      const f = await findings(client, r.id);
      if (f.length) found++;
      else missed++;
    }
    const full = await runTask(
      client,
      `CREATE TASK TYPE check_disk OPTIONS storage_ids = ['${target.storage_id}']`,
    );
    fullBytes = Number(full.bytes_done);
    t.log(`sample_rate 0.25: found in ${found} of 25 runs; bytes ${sampledBytes} vs full ${fullBytes}`);
    t.true(found > 0, 'the corruption is found by some sampled run');
    t.true(missed > 0, 'and missed by others: the sample really is partial');
    t.true(sampledBytes < fullBytes / 2);
  },
);

test.serial(
  'a removed device directory: every segment on it MISSING; with fix the device is FAILED',
  async (t) => {
    const dev = (
      await client.query(
        "SELECT id, path FROM sys.storage_devices WHERE used_bytes > 0 AND status = 'ACTIVE' ORDER BY path LIMIT 1",
      )
    ).rows[0];
    const onDev = (await segments()).filter((s) => s.device_id === dev.id);
    renameSync(dev.path, `${dev.path}.gone`);
    try {
      const r = await runTask(
        client,
        `CREATE TASK gone TYPE check_disk OPTIONS fix = true, storage_ids = [${onDev.map((s) => `'${s.storage_id}'`).join(', ')}]`,
      );
      const f = await findings(client, r.id);
      t.is(f.length, onDev.length);
      t.true(f.every((x) => x.result === 'MISSING' && /is gone/.test(x.detail)));
      t.is(
        (await client.query('SELECT status FROM sys.storage_devices WHERE id = $1', [dev.id])).rows[0].status,
        'FAILED',
      );
    } finally {
      renameSync(`${dev.path}.gone`, dev.path);
    }
  },
);

test.serial(
  'CANCEL TASK stops a running check at a safe point: CANCELLED, partial progress kept',
  async (t) => {
    const id = await createTask(
      client,
      'CREATE TASK slow TYPE check_disk OPTIONS max_bytes_per_sec = 300000, parallelism = 1',
    );
    await new Promise((r) => setTimeout(r, 600));
    const mid = (await client.query('SELECT status, fraction_complete FROM sys.tasks WHERE id = $1', [id]))
      .rows[0];
    t.is(mid.status, 'RUNNING');
    await client.query("CANCEL TASK 'slow'");
    const done = await waitTask(client, id, 15_000);
    t.is(done.status, 'CANCELLED');
    t.true(done.fraction_complete > 0 && done.fraction_complete < 1, `fraction ${done.fraction_complete}`);
    t.true(Number(done.segments_done) < Number(done.segments_total));
    const subs = await client.query('SELECT DISTINCT status FROM sys.subtasks WHERE task_id = $1', [id]);
    t.true(subs.rows.every((r) => ['COMPLETE', 'CANCELLED'].includes(r.status)));
  },
);

test.serial(
  "the payload length a file must have comes from the segment's size_bytes, the group's shard size where no payload gives that size",
  async (t) => {
    const db = server.app.sqlite!.db;
    const seg = (await segments())[0];
    const size = (
      db.prepare('SELECT size_bytes FROM segments WHERE storage_id = ?').get(seg.storage_id) as {
        size_bytes: number;
      }
    ).size_bytes;
    const setSize = (n: number) =>
      db.prepare('UPDATE segments SET size_bytes = ? WHERE storage_id = ?').run(n, seg.storage_id);
    const check = () =>
      runTask(client, `CREATE TASK sized TYPE check_disk OPTIONS storage_ids = ['${seg.storage_id}']`);
    try {
      // A size no payload of the format gives: the group's shard size is expected, and the file is clean.
      setSize(size + 1);
      const fallback = await check();
      t.is(Number(fallback.segments_failed), 0);
      t.deepEqual(await findings(client, fallback.id), []);
      // The size of another payload (one block more): the file's header disagrees with the catalog.
      setSize(size + 128 * 1024 + 8);
      const other = await check();
      t.is(Number(other.segments_failed), 1);
      const [found] = await findings(client, other.id);
      t.is(found.result, 'CHECKSUM_MISMATCH');
      t.regex(found.detail, new RegExp(`payloadLength is ${MiB}, the catalog says ${MiB + 128 * 1024}`));
    } finally {
      setSize(size);
    }
  },
);

test.serial('two tasks at once both finish, with the same findings', async (t) => {
  const a = await createTask(client, 'CREATE TASK twin_a TYPE check_disk');
  const b = await createTask(client, 'CREATE TASK twin_b TYPE check_disk');
  const [ta, tb] = await Promise.all([waitTask(client, a), waitTask(client, b)]);
  t.is(ta.status, 'COMPLETE');
  t.is(tb.status, 'COMPLETE');
  const key = (f: { result: string; storage_id: string }[]) =>
    f.map((x) => `${x.storage_id}:${x.result}`).sort();
  t.deepEqual(key(await findings(client, a)), key(await findings(client, b)));
  t.true((await findings(client, a)).length > 0);
});
