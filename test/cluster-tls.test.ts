// TLS between the coordinator and its storage agents, and between agents: six agents (child processes on
// 127.0.0.1) serve HTTPS with certificates that openssl makes here (a CA, one certificate per agent for
// 127.0.0.1, one for the coordinator) and require client certificates (mutual TLS). COPY round trip and a
// peer-to-peer rebuild over TLS; a plain HTTP client and a client without a certificate are refused at the
// handshake and logged; a coordinator that trusts another CA sees every node go OFFLINE with the TLS failure as
// the reason, and cannot create a node.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AgentClient } from '../src/agent/client';
import { parseSecret } from '../src/agent/signing';
import type { AgentClientTls } from '../src/agent/tls';
import { DeviceUnavailable } from '../src/store/device-io';
import { type AgentProcess, createAgentCluster, startAgentProcess, within } from './helpers/agents';
import { startTestServer, type TestServer } from './helpers/server';
import { copyOutBytes, findings, runTask } from './helpers/tasks';
import { agentTlsArgs, type CertFiles, makeCa, makeCert } from './helpers/tls-certs';

const SEG = 65536;
const OFFLINE_AFTER_MS = 2000;
let root: string;
let secretFile: string;
let secret: Buffer;
let ca: CertFiles;
let otherCa: CertFiles;
let coordinatorCert: CertFiles;
const agents: AgentProcess[] = [];
let dataDir: string;
let server: TestServer;
let client: pg.Client;
let data: Buffer;
const log: Record<string, unknown>[] = [];

const deviceDir = (i: number, d: number) => join(root, `host${i}`, `d${d}`);
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n').filter(Boolean)) log.push(JSON.parse(line));
    cb();
  },
});

function clientTls(trust: CertFiles, withCert = true): AgentClientTls {
  return {
    ca: readFileSync(trust.cert),
    ...(withCert ? { cert: readFileSync(coordinatorCert.cert), key: readFileSync(coordinatorCert.key) } : {}),
  };
}

async function startCoordinator(trust: CertFiles): Promise<void> {
  server = await startTestServer({
    dataDir,
    secret,
    agentHeartbeatMs: 200,
    agentOfflineAfterMs: OFFLINE_AFTER_MS,
    agentTls: clientTls(trust),
    logStream: sink,
  });
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
}

async function stopCoordinator(): Promise<void> {
  await client.end();
  await server.stop();
}

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'segtasks-tls-'));
  secretFile = join(root, 'cluster.secret');
  writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  secret = parseSecret(readFileSync(secretFile), secretFile);
  const pki = join(root, 'pki');
  mkdirSync(pki);
  ca = makeCa(pki, 'ca');
  otherCa = makeCa(pki, 'other-ca');
  coordinatorCert = makeCert(pki, 'coordinator', ca, []);
  const agentCert = makeCert(pki, 'agent', ca, ['127.0.0.1']);
  for (let i = 1; i <= 6; i++) {
    for (const d of [1, 2]) mkdirSync(deviceDir(i, d), { recursive: true });
    agents.push(
      await startAgentProcess(
        secretFile,
        join(root, `host${i}`, 'agent'),
        0,
        agentTlsArgs(agentCert, ca, true),
      ),
    );
  }
  dataDir = join(root, 'coordinator');
  mkdirSync(dataDir);
  await startCoordinator(ca);
  await createAgentCluster(client, agents, deviceDir, SEG);
  await client.query('CREATE TABLE t (b bytea) IN CLUSTER c1');
  data = randomBytes(30 * 3 * SEG + 4321);
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

async function listFrom(c: AgentClient): Promise<unknown> {
  try {
    return await c.json('POST', '/v1/list', { device: deviceDir(1, 1) });
  } finally {
    c.close();
  }
}

test.serial('agents serving TLS: COPY writes through them and reads back byte-identical', async (t) => {
  t.regex(agents[0].output(), /agent listening on 127\.0\.0\.1:\d+ \(TLS\)/);
  t.true((await readBack()).equals(data));
  const segs = (await client.query('SELECT node_name FROM sys.segments')).rows;
  t.is(segs.length, 31 * 5);
  t.is(new Set(segs.map((s) => s.node_name)).size, 6);
  // The same request over TLS with the coordinator's certificate is answered: what is refused below is TLS.
  const answer = (await listFrom(new AgentClient(agents[0].address, secret, { tls: clientTls(ca) }))) as {
    names: string[];
  };
  t.true(answer.names.length > 0);
});

test.serial('plain HTTP to a TLS agent is refused, and so is a client without a certificate', async (t) => {
  const a = agents[0];
  const plain = await t.throwsAsync(listFrom(new AgentClient(a.address, secret)), {
    instanceOf: DeviceUnavailable,
  });
  t.regex(plain.message, /unreachable: ECONNRESET \(if the agent serves TLS, give --agent-ca\)/);
  const anonymous = await t.throwsAsync(
    listFrom(new AgentClient(a.address, secret, { tls: clientTls(ca, false) })),
    { instanceOf: DeviceUnavailable },
  );
  t.regex(anonymous.message, /TLS: agent 127\.0\.0\.1:\d+ refused this server's client certificate/);
  await within(5000, 'both refusals logged', async () => {
    const refused = a.output().match(/"event":"agent_tls_refused"/g) ?? [];
    return refused.length >= 2;
  });
  t.regex(a.output(), /"event":"agent_tls_refused","reason":"ERR_SSL_HTTP_REQUEST"/);
  t.regex(a.output(), /"event":"agent_tls_refused","reason":"ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"/);
  t.notRegex(a.output(), /"event":"agent_request_refused"/, 'no request got as far as the signature check');
});

test.serial(
  'kill -9 of an agent, rebuild over TLS: the destination agents pull from their peers',
  async (t) => {
    const lost = (await client.query("SELECT storage_id FROM sys.segments WHERE node_name = 'n1'")).rows;
    t.true(lost.length > 0);
    await agents[0].kill9();
    await within(OFFLINE_AFTER_MS + 10_000, 'n1 OFFLINE', async () => (await nodeStatus('n1')) === 'OFFLINE');
    const task = await runTask(client, "CREATE TASK TYPE rebuild LOCATION CLUSTER c1 OPTIONS node = 'n1'");
    t.is(task.status, 'COMPLETE', task.error ?? '');
    const rebuilt = (await findings(client, task.id)).filter((r) => r.result === 'REBUILT');
    t.is(rebuilt.length, lost.length);
    for (const r of rebuilt) t.regex(r.detail, /on its agent from the survivors on its peers/);
    t.true(agents.slice(1).some((a) => /"event":"rebuilt_from_peers"/.test(a.output())));
    t.true(agents.slice(1).every((a) => !/"event":"agent_tls_refused"/.test(a.output())));
    t.true((await readBack()).equals(data));
    await client.query('DROP NODE n1');
  },
);

test.serial(
  'a coordinator that trusts another CA: its nodes go OFFLINE naming the TLS failure',
  async (t) => {
    await stopCoordinator();
    log.length = 0;
    await startCoordinator(otherCa);
    try {
      await within(
        OFFLINE_AFTER_MS + 10_000,
        'every node OFFLINE',
        async () =>
          (await client.query("SELECT status FROM sys.nodes WHERE status <> 'OFFLINE'")).rows.length === 0,
      );
      const offline = log.filter((l) => l.event === 'node_unreachable');
      t.is(new Set(offline.map((l) => l.node)).size, 5);
      for (const l of offline)
        t.regex(
          String(l.reason),
          /^TLS: the certificate of agent 127\.0\.0\.1:\d+ is not trusted \(SELF_SIGNED_CERT_IN_CHAIN: .*\); is --agent-ca the CA/,
        );
      t.is(
        (await client.query("SELECT count(*)::int AS n FROM sys.nodes WHERE offline_reason = 'unreachable'"))
          .rows[0].n,
        5,
      );
      // CREATE NODE on such an agent fails with the same reason.
      const err = await t.throwsAsync(
        client.query(
          `CREATE NODE n1 IN CLUSTER c1 ADDRESS '${agents[1].address}' DEVICES ('${deviceDir(1, 1)}')`,
        ),
      );
      t.regex(err.message, /TLS: the certificate of agent 127\.0\.0\.1:\d+ is not trusted/);
    } finally {
      await stopCoordinator();
    }
    await startCoordinator(ca);
    await within(
      10_000,
      'every node ONLINE again',
      async () =>
        (await client.query("SELECT status FROM sys.nodes WHERE status <> 'ONLINE'")).rows.length === 0,
    );
    await within(
      10_000,
      'every segment INTACT',
      async () =>
        (await client.query("SELECT status FROM sys.segments WHERE status <> 'INTACT'")).rows.length === 0,
    );
    t.true((await readBack()).equals(data));
  },
);
