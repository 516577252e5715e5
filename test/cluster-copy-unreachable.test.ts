// COPY FROM while agents are unreachable but their nodes not yet OFFLINE (the heartbeat has not given up on
// them): the load asks every agent of the cluster first and places its groups around those that do not answer
// within a second, so a hung agent (SIGSTOP) costs the load a second rather than the 10 s request timeout and
// a failure; when too few nodes answer for a group, the COPY fails at once with an error naming the nodes.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parseSecret } from '../src/agent/signing';
import { type AgentProcess, createAgentCluster, startAgentProcess } from './helpers/agents';
import { startTestServer, type TestServer } from './helpers/server';
import { copyOutBytes } from './helpers/tasks';

const SEG = 65536;
let root: string;
const agents: AgentProcess[] = [];
let server: TestServer;
let client: pg.Client;

const deviceDir = (i: number, d: number) => join(root, `host${i}`, `d${d}`);

function load(table: string, data: Buffer): Promise<void> {
  return pipeline(
    Readable.from([data]),
    client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT binary)`)),
  );
}

async function segmentsOn(node: string): Promise<number> {
  return (await client.query('SELECT count(*)::int AS n FROM sys.segments WHERE node_name = $1', [node]))
    .rows[0].n;
}

function segmentFiles(): number {
  let n = 0;
  for (let i = 1; i <= 6; i++)
    for (const d of [1, 2]) {
      try {
        n += readdirSync(join(deviceDir(i, d), 'segments')).length;
      } catch {
        // no segments directory yet
      }
    }
  return n;
}

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'segtasks-copy-away-'));
  const secretFile = join(root, 'cluster.secret');
  writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  for (let i = 1; i <= 6; i++) {
    for (const d of [1, 2]) mkdirSync(deviceDir(i, d), { recursive: true });
    agents.push(await startAgentProcess(secretFile, join(root, `host${i}`, 'agent')));
  }
  // The nodes stay ONLINE in the catalog throughout: the heartbeat gives up only after a minute.
  server = await startTestServer({
    secret: parseSecret(readFileSync(secretFile), secretFile),
    agentHeartbeatMs: 200,
    agentOfflineAfterMs: 60_000,
  });
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
  await createAgentCluster(client, agents, deviceDir, SEG);
  for (const t of ['t1', 't2', 't3']) await client.query(`CREATE TABLE ${t} (b bytea) IN CLUSTER c1`);
});

test.after.always(async () => {
  await client?.end().catch(() => {});
  await server?.stop();
  for (const a of agents) await a.stop().catch(() => {});
  if (root) rmSync(root, { recursive: true, force: true });
});

test.serial(
  'a hung agent at the start of a COPY: the groups are placed on the nodes that answer',
  async (t) => {
    const all = randomBytes(10 * 3 * SEG + 99);
    await load('t1', all);
    t.true((await segmentsOn('n6')) > 0, 'with every agent up, n6 takes segments too');
    const before = await segmentsOn('n6');
    agents[5].pause();
    try {
      const data = randomBytes(10 * 3 * SEG + 5);
      const started = Date.now();
      await load('t2', data);
      const took = Date.now() - started;
      // Writing to the hung agent would have waited for the 10 s request timeout, then failed the COPY.
      t.true(took < 8000, `COPY took ${took} ms`);
      t.is(await segmentsOn('n6'), before, 'nothing of t2 on the hung node');
      t.is((await client.query("SELECT status FROM sys.nodes WHERE name = 'n6'")).rows[0].status, 'ONLINE');
      t.true((await copyOutBytes(client, 'COPY t2 TO STDOUT WITH (FORMAT binary)')).equals(data));
    } finally {
      agents[5].resume();
    }
  },
);

test.serial('too few agents answer for a group: the COPY fails at once, naming them', async (t) => {
  await agents[4].kill9();
  await agents[5].kill9();
  const files = segmentFiles();
  const started = Date.now();
  const err = await t.throwsAsync<Error & { code?: string; hint?: string }>(
    load('t3', randomBytes(4 * 3 * SEG)),
  );
  t.true(Date.now() - started < 3000, `failed after ${Date.now() - started} ms`);
  t.is(err.code, '58030');
  t.regex(
    err.message,
    /^cannot load table "t3": a segment group needs 5 nodes of cluster c1, and only 4 answer; unreachable: node n5 \(agent 127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED\), node n6 \(agent 127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED\)$/,
  );
  t.regex(err.hint ?? '', /Start the storage agents of those nodes again/);
  t.is(segmentFiles(), files, 'nothing written');
  // t1 and t2: eleven groups of five each; none of t3.
  t.is((await client.query('SELECT count(*)::int AS n FROM sys.segments')).rows[0].n, 2 * 11 * 5);
});
