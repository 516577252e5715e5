// GET /metrics against what sys.* says, after a COPY, a failing query and check_disk runs (one finding a
// corrupted segment, so that a group is at reduced fault tolerance).
import { readFileSync, writeFileSync } from 'node:fs';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';
import { load, runTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
const MiB = 1024 * 1024;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (the subset prom-client writes). */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${server.app.httpPort}/metrics`);
  if (res.status !== 200) throw new Error(`metrics: ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain')) throw new Error('content type');
  return parse(await res.text());
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

test.before(async () => {
  server = await startTestServer({ httpPort: 0 });
  client = new pg.Client(server.pgConfig);
  await client.connect();
  await createTopology(client, server.dataDir, { segmentSize: MiB });
  await load(client, 'data', 8 * MiB);
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

test.serial('the HTTP port is served and /metrics needs no login', async (t) => {
  t.true(typeof server.app.httpPort === 'number' && server.app.httpPort > 0);
  const { types } = await scrape();
  t.is(types.get('segtasks_tasks'), 'gauge');
  t.is(types.get('segtasks_bytes_verified_total'), 'counter');
  t.is(types.get('segtasks_query_duration_seconds'), 'histogram');
  // Process metrics from prom-client's default collectors.
  t.is(types.get('segtasks_process_resident_memory_bytes'), 'gauge');
  t.truthy(types.get('segtasks_nodejs_eventloop_lag_seconds'));
});

test.serial('storage metrics match sys.storage_devices, sys.nodes and sys.segments', async (t) => {
  const { samples } = await scrape();
  const devices = (
    await client.query(
      'SELECT d.path, d.node_name, d.capacity_bytes, d.used_bytes FROM sys.storage_devices d',
    )
  ).rows;
  t.is(devices.length, 12);
  for (const d of devices) {
    const labels = { cluster: 'c1', node: d.node_name, device: d.path };
    t.is(value(samples, 'segtasks_device_capacity_bytes', labels), Number(d.capacity_bytes));
    t.is(value(samples, 'segtasks_device_used_bytes', labels), Number(d.used_bytes));
  }
  t.true(sum(samples, 'segtasks_device_used_bytes') > 8 * MiB, 'data and parity are on the devices');
  const segs = (await client.query('SELECT status, count(*)::int AS n FROM sys.segments GROUP BY status'))
    .rows;
  t.deepEqual(segs, [{ status: 'INTACT', n: 12 }]);
  t.is(value(samples, 'segtasks_segments', { cluster: 'c1', status: 'INTACT' }), 12);
  t.is(value(samples, 'segtasks_nodes', { cluster: 'c1', status: 'ONLINE' }), 6);
  t.is(value(samples, 'segtasks_segment_groups_reduced_fault_tolerance', { cluster: 'c1' }), 0);
  t.is(value(samples, 'segtasks_segment_groups', { cluster: 'c1', tolerance: '2' }), 2);
  // the wire and the reader pool report themselves: this test's own connection at least, and a live pool
  t.true((value(samples, 'segtasks_wire_connections', {}) ?? 0) >= 1);
  t.true((value(samples, 'segtasks_reader_pool_workers', {}) ?? 0) >= 1);
  t.is(value(samples, 'segtasks_reader_pool_queued', {}), 0);
  t.is(value(samples, 'segtasks_reader_pool_cursors', {}), 0);
});

test.serial('COPY, queries and errors are counted', async (t) => {
  const before = (await scrape()).samples;
  await t.throwsAsync(client.query('SELECT * FROM sys.no_such_table'), { message: /does not exist/ });
  await load(client, 'more', 1 * MiB);
  const after = (await scrape()).samples;
  const delta = (name: string, labels: Record<string, string>) =>
    sum(after, name, labels) - sum(before, name, labels);
  t.is(delta('segtasks_query_errors_total', { sqlstate: '42P01' }), 1);
  t.true(
    delta('segtasks_copy_bytes_total', { direction: 'in' }) >= MiB,
    'the binary COPY data, with its framing',
  );
  t.is(delta('segtasks_queries_total', { kind: 'copyIn' }), 1);
  t.true(delta('segtasks_queries_total', { kind: 'command' }) >= 1, 'CREATE TABLE');
  t.true(delta('segtasks_query_duration_seconds_count', {}) >= 3);
  t.is(delta('segtasks_queries_total', { kind: 'error' }), 1);
});

test.serial(
  'check_disk: tasks by status and bytes verified by node and device match sys.tasks/subtasks',
  async (t) => {
    const task = await runTask(client, 'CREATE TASK scrub TYPE check_disk');
    t.is(task.status, 'COMPLETE');
    const { samples } = await scrape();
    const counts = (
      await client.query('SELECT type, status, count(*)::int AS n FROM sys.tasks GROUP BY 1, 2')
    ).rows;
    for (const c of counts) t.is(value(samples, 'segtasks_tasks', { type: c.type, status: c.status }), c.n);
    t.is(sum(samples, 'segtasks_bytes_verified_total'), Number(task.bytes_done));
    t.true(Number(task.bytes_done) > 0);
    const subs = (
      await client.query(
        `SELECT s.node_name, d.path, sum(s.bytes_done)::int8 AS b FROM sys.subtasks s
       JOIN sys.storage_devices d ON d.id = s.device_id WHERE s.task_id = $1 GROUP BY 1, 2`,
        [task.id],
      )
    ).rows;
    t.true(subs.length >= 6);
    for (const s of subs)
      t.is(
        value(samples, 'segtasks_bytes_verified_total', { node: s.node_name, device: s.path }),
        Number(s.b),
      );
    t.is(sum(samples, 'segtasks_bytes_rebuilt_total'), 0);
  },
);

test.serial(
  'a corrupted segment found by check_disk fix = true: a group at reduced fault tolerance',
  async (t) => {
    const seg = (await client.query("SELECT path FROM sys.segments WHERE status = 'INTACT' LIMIT 1")).rows[0];
    const bytes = readFileSync(seg.path);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(seg.path, bytes);
    const task = await runTask(client, 'CREATE TASK fixit TYPE check_disk OPTIONS fix = true');
    t.is(task.status, 'COMPLETE');
    const { samples } = await scrape();
    const damaged = (
      await client.query("SELECT count(*)::int AS n FROM sys.segments WHERE status = 'DAMAGED'")
    ).rows[0].n;
    t.is(damaged, 1);
    t.is(value(samples, 'segtasks_segments', { cluster: 'c1', status: 'DAMAGED' }), 1);
    t.is(value(samples, 'segtasks_segment_groups_reduced_fault_tolerance', { cluster: 'c1' }), 1);
    t.is(value(samples, 'segtasks_segment_groups', { cluster: 'c1', tolerance: '1' }), 1);
    t.is(value(samples, 'segtasks_tasks', { type: 'check_disk', status: 'COMPLETE' }), 2);
  },
);
