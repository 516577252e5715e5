// A cluster whose six nodes are served by six storage agents (segtasks agent, child processes on 127.0.0.1):
// COPY through the agents, check_disk hashing on the agent, requests without the cluster's signature refused,
// and an agent killed with -9: its node goes OFFLINE by itself, COPY TO reconstructs from parity, the agent's
// return brings the node ONLINE with its segments verified, and a rebuild moves its segments to the others.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AgentClient } from '../src/agent/client';
import { parseSecret, signRequest } from '../src/agent/signing';
import { type AgentProcess, createAgentCluster, startAgentProcess, within } from './helpers/agents';
import { startTestServer, type TestServer } from './helpers/server';
import { copyOutBytes, findings, runTask } from './helpers/tasks';

const SEG = 65536;
const OFFLINE_AFTER_MS = 2000;
let root: string;
let secretFile: string;
const agents: AgentProcess[] = [];
let server: TestServer;
let client: pg.Client;
let data: Buffer;

const deviceDir = (i: number, d: number) => join(root, `host${i}`, `d${d}`);

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'segtasks-agents-'));
  secretFile = join(root, 'cluster.secret');
  writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  for (let i = 1; i <= 6; i++) {
    for (const d of [1, 2]) mkdirSync(deviceDir(i, d), { recursive: true });
    agents.push(await startAgentProcess(secretFile, join(root, `host${i}`, 'agent')));
  }
  server = await startTestServer({
    secret: parseSecret(readFileSync(secretFile), secretFile),
    agentHeartbeatMs: 200,
    agentOfflineAfterMs: OFFLINE_AFTER_MS,
  });
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
  await createAgentCluster(client, agents, deviceDir, SEG);
  await client.query('CREATE TABLE t (b bytea) IN CLUSTER c1');
  data = randomBytes(40 * 3 * SEG + 12345);
  await pipeline(Readable.from([data]), client.query(copyFrom('COPY t FROM STDIN WITH (FORMAT binary)')));
});

test.after.always(async () => {
  await client?.end().catch(() => {});
  await server?.stop();
  for (const a of agents) await a.stop().catch(() => {});
  if (root) rmSync(root, { recursive: true, force: true });
});

function readBack(): Promise<Buffer> {
  return copyOutBytes(client, 'COPY t TO STDOUT WITH (FORMAT binary)');
}

async function nodeStatus(node: string): Promise<string> {
  return (await client.query('SELECT status FROM sys.nodes WHERE name = $1', [node])).rows[0].status;
}

async function segmentsOn(node: string): Promise<{ storage_id: string; path: string; status: string }[]> {
  return (
    await client.query(
      'SELECT storage_id, path, status FROM sys.segments WHERE node_name = $1 ORDER BY path',
      [node],
    )
  ).rows;
}

test.serial('six agents: COPY FROM writes through them and COPY TO reads back byte-identical', async (t) => {
  t.true((await readBack()).equals(data));
  const nodes = (await client.query('SELECT name, address FROM sys.nodes ORDER BY name')).rows;
  t.deepEqual(
    nodes.map((n) => n.address),
    agents.map((a) => a.address),
  );
  const segs = (await client.query('SELECT node_name, path FROM sys.segments')).rows as {
    node_name: string;
    path: string;
  }[];
  t.is(segs.length, 41 * 5);
  for (const s of segs) t.true(s.path.startsWith(`${join(root, `host${s.node_name.slice(1)}`)}/d`), s.path);
  // Every node holds some: a group of five on six nodes.
  t.is(new Set(segs.map((s) => s.node_name)).size, 6);
});

test.serial('an agent streams a byte range of a segment file, digest and signature checked', async (t) => {
  const seg = (await segmentsOn('n2'))[0];
  const file = readFileSync(seg.path);
  const client2 = new AgentClient(agents[1].address, parseSecret(readFileSync(secretFile), secretFile));
  try {
    const device = seg.path.slice(0, seg.path.indexOf('/segments/'));
    const parts: Buffer[] = [];
    let size = '';
    await client2.stream(
      `/v1/segment?${new URLSearchParams({ device, id: seg.storage_id })}`,
      seg.storage_id,
      {
        start(h) {
          size = String(h['x-segtasks-file-size']);
        },
        chunk(b) {
          parts.push(b);
        },
      },
      { range: [100, 100 + 70_000 - 1] },
    );
    t.is(size, String(file.length));
    t.true(Buffer.concat(parts).equals(file.subarray(100, 100 + 70_000)));
  } finally {
    client2.close();
  }
});

test.serial('check_disk of an agent node hashes on the agent and finds a flipped byte', async (t) => {
  const clean = await runTask(client, 'CREATE TASK TYPE check_disk LOCATION NODE n2');
  t.is(clean.status, 'COMPLETE', clean.error ?? '');
  t.is(Number(clean.segments_failed), 0);
  const victim = (await segmentsOn('n2'))[0];
  const bytes = readFileSync(victim.path);
  bytes[bytes.length - 100] ^= 0xff;
  writeFileSync(victim.path, bytes);
  const check = await runTask(client, 'CREATE TASK TYPE check_disk LOCATION NODE n2 OPTIONS fix = true');
  t.is(check.status, 'COMPLETE', check.error ?? '');
  const found = await findings(client, check.id);
  t.deepEqual(
    found.map((f) => [f.storage_id, f.result]),
    [[victim.storage_id, 'CHECKSUM_MISMATCH']],
  );
  const rebuilt = await runTask(client, 'CREATE TASK TYPE rebuild LOCATION CLUSTER c1');
  t.is(rebuilt.status, 'COMPLETE', rebuilt.error ?? '');
  const repaired = (await findings(client, rebuilt.id)).filter((r) => r.result === 'REBUILT');
  t.deepEqual(
    repaired.map((r) => r.storage_id),
    [victim.storage_id],
  );
  t.regex(repaired[0].detail, /rebuilt in place .*on its agent from the survivors on its peers/);
  t.true((await segmentsOn('n2')).every((s) => s.status === 'INTACT'));
  t.true((await readBack()).equals(data));
});

function rawRequest(
  port: number,
  headers: Record<string, string>,
  path = '/v1/list',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ device: deviceDir(1, 1) });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test.serial('requests without the cluster signature are refused with 401 and logged', async (t) => {
  const a = agents[0];
  const unsigned = await rawRequest(a.port, {});
  t.is(unsigned.status, 401);
  const wrong = signRequest(Buffer.from('not-the-cluster-secret-but-32-bytes-long'), {
    method: 'POST',
    path: '/v1/list',
  });
  const refused = await rawRequest(a.port, wrong);
  t.is(refused.status, 401);
  t.regex(refused.body, /wrong signature/);
  // A correctly signed request, sent again (a replay), is refused too.
  const secret = parseSecret(readFileSync(secretFile), secretFile);
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256')
    .update(JSON.stringify({ device: deviceDir(1, 1) }))
    .digest('hex');
  const good = signRequest(secret, { method: 'POST', path: '/v1/list', digest });
  t.is((await rawRequest(a.port, good)).status, 200);
  const replay = await rawRequest(a.port, good);
  t.is(replay.status, 401);
  t.regex(replay.body, /replayed/);
  // A signed request for a path outside the served devices is refused (403) and logged.
  const outside = { device: root };
  const d2 = createHash('sha256').update(JSON.stringify(outside)).digest('hex');
  const res = await new Promise<number>((resolve, reject) => {
    const body = JSON.stringify(outside);
    const req = request(
      {
        host: '127.0.0.1',
        port: a.port,
        method: 'POST',
        path: '/v1/list',
        headers: {
          ...signRequest(secret, { method: 'POST', path: '/v1/list', digest: d2 }),
          'content-length': String(body.length),
        },
      },
      (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  t.is(res, 403);
  await within(5000, 'refusals in the agent log', async () => /agent_path_refused/.test(a.output()));
  const log = a.output();
  t.regex(log, /"event":"agent_request_refused","reason":"request is not signed"/);
  t.regex(log, /"event":"agent_request_refused","reason":"wrong signature"/);
  t.regex(log, /"event":"agent_request_refused","reason":"replayed request/);
});

test.serial(
  'kill -9 of an agent: its node goes OFFLINE by itself, COPY TO still identical, back ONLINE when it answers',
  async (t) => {
    const before = await segmentsOn('n1');
    t.true(before.length > 0);
    const a = agents[0];
    await a.kill9();
    const killedAt = Date.now();
    // Read while the node is still ONLINE in the catalog: the shards of the dead agent are rebuilt from parity.
    t.true((await readBack()).equals(data), 'identical while the agent is down but not yet OFFLINE');
    await within(OFFLINE_AFTER_MS + 10_000, 'n1 OFFLINE', async () => (await nodeStatus('n1')) === 'OFFLINE');
    t.true(Date.now() - killedAt >= OFFLINE_AFTER_MS - 500, 'not before the stated time');
    t.true((await segmentsOn('n1')).every((s) => s.status === 'MISSING'));
    t.true((await readBack()).equals(data), 'identical with the node OFFLINE');
    // What a write cut by the kill leaves: a temporary file. The agent removes it when it starts again.
    const partial = join(deviceDir(1, 1), 'segments', `${before[0].storage_id}.seg.0badf00d.tmp`);
    writeFileSync(partial, 'torn');
    agents[0] = await startAgentProcess(secretFile, a.dataDir, a.port);
    t.false(existsSync(partial), 'partial write removed at start');
    t.regex(agents[0].output(), /partial_writes_removed/);
    await within(10_000, 'n1 ONLINE again', async () => (await nodeStatus('n1')) === 'ONLINE');
    await within(10_000, 'n1 segments verified', async () =>
      (await segmentsOn('n1')).every((s) => s.status === 'INTACT'),
    );
    t.true((await readBack()).equals(data));
  },
);

test.serial(
  'kill -9 again: rebuild with node = ... reconstructs its segments on the other agents',
  async (t) => {
    const lost = await segmentsOn('n1');
    await agents[0].kill9();
    await within(OFFLINE_AFTER_MS + 10_000, 'n1 OFFLINE', async () => (await nodeStatus('n1')) === 'OFFLINE');
    const task = await runTask(client, "CREATE TASK TYPE rebuild LOCATION CLUSTER c1 OPTIONS node = 'n1'");
    t.is(task.status, 'COMPLETE', task.error ?? '');
    t.is(Number(task.segments_done), lost.length);
    t.deepEqual(await segmentsOn('n1'), []);
    const all = (await client.query('SELECT status FROM sys.segments')).rows;
    t.true(all.every((s) => s.status === 'INTACT'));
    const results = await findings(client, task.id);
    const rebuilt = results.filter((r) => r.result === 'REBUILT');
    t.is(rebuilt.length, lost.length);
    // Every survivor and destination is an agent's: each destination agent pulled the survivors from its peers.
    for (const r of rebuilt) t.regex(r.detail, /on its agent from the survivors on its peers/);
    t.true(agents.slice(1).some((a) => /"event":"rebuilt_from_peers"/.test(a.output())));
    // Five of six nodes per group, one gone: every rebuilt segment finds a node without one of its group.
    t.is(results.filter((r) => r.result === 'FAULT_TOLERANCE_REDUCED').length, 0);
    t.true((await readBack()).equals(data));
  },
);

test.serial(
  'a peer rebuild whose reconstruction does not hash to the catalog checksum writes nothing (409)',
  async (t) => {
    // A segment on n2 rebuilt in place from the four others of its group, with a checksum that is not its own:
    // the agent must refuse before it writes (the rebuild of a batch is never read back, docs/durability.md).
    const [target] = (
      await client.query(
        `SELECT s.storage_id, s.segment_group_id, s.position, s.device_id, s.path, s.is_parity
         FROM sys.segments s WHERE s.node_name = 'n2' AND s.status = 'INTACT' AND NOT EXISTS (
           SELECT 1 FROM sys.segments o WHERE o.segment_group_id = s.segment_group_id AND o.status <> 'INTACT')
         ORDER BY s.path LIMIT 1`,
      )
    ).rows;
    const survivors = (
      await client.query(
        'SELECT storage_id, position, node_name, path FROM sys.segments WHERE segment_group_id = $1 AND storage_id <> $2',
        [target.segment_group_id, target.storage_id],
      )
    ).rows;
    const before = readFileSync(target.path);
    const client2 = new AgentClient(agents[1].address, parseSecret(readFileSync(secretFile), secretFile));
    try {
      const err = await t.throwsAsync(
        client2.json(
          'POST',
          '/v1/rebuild',
          {
            target: {
              device: target.path.slice(0, target.path.indexOf('/segments/')),
              device_id: target.device_id,
              storage_id: target.storage_id,
              group: Number(target.segment_group_id),
              position: Number(target.position),
              parity: target.is_parity,
              checksum: '0'.repeat(16),
            },
            k: 3,
            m: 2,
            shard_bytes: SEG,
            durable: false,
            survivors: survivors.map((s) => ({
              address: s.node_name === 'n2' ? null : agents[Number(s.node_name.slice(1)) - 1].address,
              path: s.path,
              storage_id: s.storage_id,
              position: Number(s.position),
            })),
          },
          { segment: target.storage_id },
        ),
      );
      t.is((err as { status?: number }).status, 409, err?.message);
    } finally {
      client2.close();
    }
    t.true(readFileSync(target.path).equals(before), 'the segment file is untouched');
    t.true((await readBack()).equals(data));
  },
);

test.serial('rebalance onto a seventh agent moves segments agent to agent, nothing lost', async (t) => {
  for (const d of [1, 2]) mkdirSync(deviceDir(7, d), { recursive: true });
  agents.push(await startAgentProcess(secretFile, join(root, 'host7', 'agent')));
  await client.query(
    `CREATE NODE n7 IN CLUSTER c1 ADDRESS '${agents[6].address}' DEVICES ('${deviceDir(7, 1)}', '${deviceDir(7, 2)}')`,
  );
  const task = await runTask(client, 'CREATE TASK TYPE rebalance LOCATION CLUSTER c1');
  t.is(task.status, 'COMPLETE', task.error ?? '');
  const moved = (await findings(client, task.id)).filter((r) => r.result === 'MOVED');
  t.true(moved.length > 0);
  const onNew = await segmentsOn('n7');
  t.is(onNew.length, moved.length);
  for (const s of onNew) t.true(existsSync(s.path), s.path);
  // Each source file is removed by its own agent once the catalog points at the copy.
  for (const m of moved) {
    const from = /^from (\S+) to /.exec(m.detail)![1];
    t.false(existsSync(from), from);
  }
  t.true((await readBack()).equals(data));
});

test.serial(
  'a hung agent (SIGSTOP): COPY TO reads parity after the hedge deadline instead of waiting',
  async (t) => {
    const a = agents[2];
    t.is(await nodeStatus('n3'), 'ONLINE');
    a.pause();
    try {
      const started = Date.now();
      t.true((await readBack()).equals(data));
      const took = Date.now() - started;
      // Without hedged reads the first groups would wait for the request timeout (10 s).
      t.true(took < 8000, `COPY TO took ${took} ms`);
      await within(
        OFFLINE_AFTER_MS + 10_000,
        'n3 OFFLINE',
        async () => (await nodeStatus('n3')) === 'OFFLINE',
      );
    } finally {
      a.resume();
    }
    await within(10_000, 'n3 ONLINE again', async () => (await nodeStatus('n3')) === 'ONLINE');
    await within(10_000, 'n3 segments verified', async () =>
      (await segmentsOn('n3')).every((s) => s.status === 'INTACT'),
    );
    t.true((await readBack()).equals(data));
  },
);
