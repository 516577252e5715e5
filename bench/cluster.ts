// bench/cluster (root: ip netns): rebuild and check_disk over network namespaces (test/helpers/netns.ts), six
// storage agents each in a namespace of its own and the coordinator in another, against socat moving the same
// bytes between the same namespaces, in ROUNDS alternated rounds (segtasks, socat, segtasks, ...):
//   rebuild: the node with the most segments set OFFLINE, `rebuild ... OPTIONS node = ...`: each destination
//            agent pulls k survivors of each group from its peers. Figure: the survivors' bytes pulled per
//            second (wall time of the task). socat: the same survivor files sent from the namespaces that hold
//            them to the destinations' namespaces, one stream per (source, destination) pair, all at once.
//   check_disk: `check_disk LOCATION CLUSTER` of the six agent nodes: the hashing runs on each agent. Figure:
//            segment bytes verified per second. socat: each node's files sent from its namespace to the
//            coordinator's, six streams at once (what checking them at the coordinator would move first).
// Both also against the same task on a second cluster of six nodes served in process (devices on this
// machine's disk, the coordinator reading the survivors itself), for the local-disk figures. Then the same
// with mutual TLS (certificates made by openssl): a second agent in each namespace serves TLS, with devices
// of its own, to a second coordinator; and the TLS and plain tasks alternated against each other.
// Files are in the page cache (written just before); nothing is dropped. A task's time is its run time in the
// catalog (started_at to finished_at); socat's is from starting the senders to the last receiver's end.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { AGENT_PORT, NetnsHosts } from '../test/helpers/netns';
import { createTask, type TaskInfo, waitTask } from '../test/helpers/tasks';
import { agentTlsArgs, makeCa, makeCert } from '../test/helpers/tls-certs';
import { machine } from './common';
import { emitResult } from './results';
import { alternate, pairRatios, spread } from './stats';

const TABLE_MB = Number(process.env.BENCH_MB ?? 128);
/** Longest a task may run (the machine is shared; a round can be slow). */
const TASK_MS = 600_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const AGENTS = 6;
const SEGMENT = 1024 * 1024;
const PASSWORD = 'bench-cluster';

const hosts = new NetnsHosts(`${process.pid % 10000}`, `10.214.${process.pid % 250}`, AGENTS);

interface Segment {
  storage_id: string;
  segment_group_id: number;
  position: number;
  node_name: string;
  path: string;
  size_bytes: number;
}

/** Bytes to move from one node's namespace to another's (or to the coordinator's: 'coordinator'). */
type Transfers = Map<string, Map<string, string[]>>;

const mbps = (bytes: number, s: number) => `${(bytes / s / 1e6).toFixed(0)} MB/s`;

function nsOf(node: string): string {
  return node === 'coordinator' ? hosts.coordNs : hosts.agentNs(Number(node.slice(1)));
}

function addrOf(node: string): string {
  return node === 'coordinator' ? `${hosts.subnet}.1` : hosts.agentAddr(Number(node.slice(1)));
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/**
 * socat: every transfer at once, one TCP stream per (source, destination) pair, read with cat from the files
 * and written to /dev/null on the receiving side. Returns the seconds from the first sender's start to the
 * last receiver's end.
 */
async function socatTransfers(transfers: Transfers): Promise<number> {
  const receivers: Promise<number | null>[] = [];
  const senders: { ns: string; args: string[] }[] = [];
  let port = 20000;
  for (const [from, tos] of transfers)
    for (const [to, files] of tos) {
      port++;
      receivers.push(
        exited(
          hosts.spawnIn(nsOf(to), 'socat', [
            '-u',
            `TCP-LISTEN:${port},bind=${addrOf(to)},reuseaddr`,
            'OPEN:/dev/null',
          ]),
        ),
      );
      senders.push({
        ns: nsOf(from),
        args: [
          '-c',
          `cat "$@" | socat -u STDIN TCP:${addrOf(to)}:${port},retry=100,interval=0.02`,
          'sh',
          ...files,
        ],
      });
    }
  const t0 = process.hrtime.bigint();
  const sent = senders.map((s) => exited(hosts.spawnIn(s.ns, 'sh', s.args)));
  const codes = await Promise.all([...sent, ...receivers]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (codes.some((c) => c !== 0)) throw new Error(`socat failed: exit codes ${codes.join(',')}`);
  return seconds;
}

/** A cluster of the benchmark: its name and the prefix of its nodes' names (n1..n6 on agents, l1..l6 local). */
interface Cluster {
  name: string;
  prefix: string;
}
const AGENT_CLUSTER: Cluster = { name: 'c1', prefix: 'n' };
const LOCAL_CLUSTER: Cluster = { name: 'c2', prefix: 'l' };

async function segments(client: pg.Client, c: Cluster): Promise<Segment[]> {
  return (
    await client.query(
      "SELECT storage_id, segment_group_id, position, node_name, path, size_bytes FROM sys.segments WHERE status = 'INTACT'",
    )
  ).rows
    .filter((r) => r.node_name.startsWith(c.prefix))
    .map((r) => ({ ...r, size_bytes: Number(r.size_bytes), position: Number(r.position) }));
}

function busiestNode(segs: Segment[]): string {
  const count = new Map<string, number>();
  for (const s of segs) count.set(s.node_name, (count.get(s.node_name) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1])[0][0];
}

function add(t: Transfers, from: string, to: string, file: string): void {
  if (!t.has(from)) t.set(from, new Map());
  const m = t.get(from)!;
  if (!m.has(to)) m.set(to, []);
  m.get(to)!.push(file);
}

/** Runs a task; its time is its run time as the catalog records it (started_at to finished_at). */
async function runTask(client: pg.Client, text: string) {
  const task = (await waitTask(client, await createTask(client, text), TASK_MS)) as TaskInfo & {
    started_at: Date;
    finished_at: Date;
  };
  if (task.status !== 'COMPLETE') throw new Error(`${text}: ended ${task.status}: ${task.error}`);
  return { ...task, seconds: (task.finished_at.getTime() - task.started_at.getTime()) / 1000 };
}

async function sql(client: pg.Client, text: string): Promise<void> {
  await client.query(text);
}

/**
 * One rebuild round: the busiest node OFFLINE, its segments rebuilt by the destination agents from their
 * peers, the node ONLINE again (empty of them). Returns the survivors' bytes pulled, the seconds, and what
 * socat is to move for the same: for each rebuilt segment, the k lowest intact positions of its group, from
 * their nodes to the segment's new node.
 */
async function rebuildRound(client: pg.Client, k: number, c: Cluster) {
  const before = await segments(client, c);
  const node = busiestNode(before);
  const lost = before.filter((s) => s.node_name === node);
  await sql(client, `ALTER NODE ${node} SET OFFLINE`);
  const { seconds } = await runTask(
    client,
    `CREATE TASK TYPE rebuild LOCATION CLUSTER ${c.name} OPTIONS node = '${node}'`,
  );
  await sql(client, `ALTER NODE ${node} SET ONLINE`);
  const after = await segments(client, c);
  const byId = new Map(after.map((s) => [s.storage_id, s]));
  const transfers: Transfers = new Map();
  let pulled = 0;
  for (const l of lost) {
    const now = byId.get(l.storage_id);
    if (!now) throw new Error(`segment ${l.storage_id} not rebuilt`);
    const survivors = before
      .filter((s) => s.segment_group_id === l.segment_group_id && s.node_name !== node)
      .sort((a, b) => a.position - b.position)
      .slice(0, k);
    for (const s of survivors) {
      add(transfers, s.node_name, now.node_name, s.path);
      pulled += s.size_bytes;
    }
  }
  return { node, segments: lost.length, pulled, seconds, transfers };
}

/** check_disk of every node of a cluster at once; socat is to send each node's files to the coordinator. */
async function checkDiskRound(client: pg.Client, c: Cluster) {
  const segs = await segments(client, c);
  const { seconds } = await runTask(client, `CREATE TASK TYPE check_disk LOCATION CLUSTER ${c.name}`);
  const transfers: Transfers = new Map();
  for (const s of segs) add(transfers, s.node_name, 'coordinator', s.path);
  return { bytes: segs.reduce((n, s) => n + s.size_bytes, 0), seconds, transfers };
}

/** Rebuild and check_disk on the agents against socat of the same bytes, and (`local`) against in-process nodes. */
async function measure(client: pg.Client, k: number, label: string, suffix: string, local: boolean) {
  let plan: Transfers = new Map();
  let planBytes = 0;
  const rebuildOnAgents = async () => {
    const r = await rebuildRound(client, k, AGENT_CLUSTER);
    plan = r.transfers;
    planBytes = r.pulled;
    console.log(
      `  ${label} rebuild of ${r.node}: ${r.segments} segments, ${(r.pulled / 2 ** 20).toFixed(0)} MiB pulled in ${r.seconds.toFixed(2)} s (${mbps(r.pulled, r.seconds)} pulled, ${mbps(r.pulled / k, r.seconds)} rebuilt)`,
    );
    return r.pulled / r.seconds;
  };
  const socat = async (what: string) => {
    const s = await socatTransfers(plan);
    console.log(`  socat of ${what}: ${s.toFixed(2)} s (${mbps(planBytes, s)})`);
    return planBytes / s;
  };
  const rebuild = await alternate(ROUNDS, rebuildOnAgents, () => socat('the same files'));
  emitResult({
    target: `cluster.rebuild${suffix}`,
    value: spread(pairRatios(rebuild.ours, rebuild.peer)),
    detail: `rebuild pulls ${mbps(spread(rebuild.ours).median, 1)} vs socat ${mbps(spread(rebuild.peer).median, 1)} (medians)`,
  });
  if (local) {
    // Per rebuilt byte on both sides (the local rebuild reads the survivors from its own disk).
    const vsLocal = await alternate(ROUNDS, rebuildOnAgents, async () => {
      const r = await rebuildRound(client, k, LOCAL_CLUSTER);
      console.log(
        `  in-process rebuild of ${r.node}: ${r.segments} segments in ${r.seconds.toFixed(2)} s (${mbps(r.pulled / k, r.seconds)} rebuilt)`,
      );
      return r.pulled / r.seconds;
    });
    emitResult({
      target: 'cluster.rebuild.local',
      value: spread(pairRatios(vsLocal.ours, vsLocal.peer)),
      detail: `rebuilt ${mbps(spread(vsLocal.ours).median / k, 1)} on agents vs ${mbps(spread(vsLocal.peer).median / k, 1)} in process (medians)`,
    });
  }
  const checkOnAgent = async () => {
    const r = await checkDiskRound(client, AGENT_CLUSTER);
    plan = r.transfers;
    planBytes = r.bytes;
    console.log(
      `  ${label} check_disk of cluster c1: ${(r.bytes / 2 ** 20).toFixed(0)} MiB in ${r.seconds.toFixed(2)} s (${mbps(r.bytes, r.seconds)})`,
    );
    return r.bytes / r.seconds;
  };
  const check = await alternate(ROUNDS, checkOnAgent, () => socat('its files to the coordinator'));
  emitResult({
    target: `cluster.check_disk${suffix}`,
    value: spread(pairRatios(check.ours, check.peer)),
    detail: `check_disk ${mbps(spread(check.ours).median, 1)} vs socat ${mbps(spread(check.peer).median, 1)} (medians)`,
  });
  if (local) {
    const vsLocal = await alternate(ROUNDS, checkOnAgent, async () => {
      const r = await checkDiskRound(client, LOCAL_CLUSTER);
      console.log(
        `  in-process check_disk of cluster c2: ${(r.bytes / 2 ** 20).toFixed(0)} MiB in ${r.seconds.toFixed(2)} s (${mbps(r.bytes, r.seconds)})`,
      );
      return r.bytes / r.seconds;
    });
    emitResult({
      target: 'cluster.check_disk.local',
      value: spread(pairRatios(vsLocal.ours, vsLocal.peer)),
      detail: `check_disk ${mbps(spread(vsLocal.ours).median, 1)} on an agent vs ${mbps(spread(vsLocal.peer).median, 1)} in process (medians)`,
    });
  }
}

/** Port of the agents that serve TLS, beside the plain ones (AGENT_PORT) in the same namespaces. */
const TLS_PORT = AGENT_PORT + 1;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/cluster needs root (ip netns)');
  execFileSync('socat', ['-V'], { stdio: 'ignore' });
  console.log(
    `${machine()}; ${AGENTS} agents in network namespaces, a ${TABLE_MB} MiB table, ${ROUNDS} rounds`,
  );
  const root = mkdtempSync(join(tmpdir(), 'segtasks-bench-cluster-'));
  const clients: pg.Client[] = [];
  try {
    hosts.create();
    const secretFile = join(root, 'cluster.secret');
    writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const pki = join(root, 'pki');
    mkdirSync(pki);
    const ca = makeCa(pki);
    const coordinatorCert = makeCert(pki, 'coordinator', ca, []);
    // Two agents in each namespace: one plain, one serving mutual TLS, each with devices of its own.
    for (let i = 1; i <= AGENTS; i++) {
      await hosts.startAgent(i, secretFile);
      const cert = makeCert(pki, `agent${i}`, ca, [hosts.agentAddr(i)]);
      await hosts.startAgent(i, secretFile, agentTlsArgs(cert, ca, true), TLS_PORT);
    }
    const coordinator = async (name: string, extra: string[]) => {
      const c = await hosts.startCoordinator(
        join(root, `sock-${name}`),
        ['--data-dir', join(root, name), '--secret-file', secretFile, '--log-level', 'warn', ...extra],
        PASSWORD,
      );
      const pgc = new pg.Client(c.pgConfig);
      pgc.on('notice', () => {});
      await pgc.connect();
      clients.push(pgc);
      return pgc;
    };
    // The plain coordinator: cluster c1 on the plain agents, c2 on six nodes served in process (devices on
    // this machine's disk, for the local figures). The TLS one: its c1 on the TLS agents.
    const plain = await coordinator('coordinator-plain', []);
    const tls = await coordinator('coordinator-tls', [
      '--agent-ca',
      ca.cert,
      '--tls-client-cert',
      coordinatorCert.cert,
      '--tls-client-key',
      coordinatorCert.key,
    ]);
    const chunk = randomBytes(SEGMENT);
    /** A cluster of six nodes (`address`: its agent's, or null for a node served in process) and its table. */
    const setUp = async (
      client: pg.Client,
      c: Cluster,
      address: (i: number) => string | null,
      host: string,
    ) => {
      const cluster = c.name;
      await sql(client, `CREATE CLUSTER ${cluster} STORAGESPACE s`);
      for (let i = 1; i <= AGENTS; i++) {
        const devices = [1, 2].map((d) => join(root, `${host}${i}`, `d${d}`));
        for (const d of devices) mkdirSync(d, { recursive: true });
        const at = address(i);
        await sql(
          client,
          `CREATE NODE ${c.prefix}${i} IN CLUSTER ${cluster}${at ? ` ADDRESS '${at}'` : ''} DEVICES (${devices.map((d) => `'${d}'`).join(', ')})`,
        );
      }
      await sql(client, `CREATE TABLE t_${cluster} (b bytea) IN CLUSTER ${cluster}`);
      const t0 = Date.now();
      await pipeline(
        Readable.from(Array.from({ length: TABLE_MB }, () => chunk)),
        client.query(copyFrom(`COPY t_${cluster} FROM STDIN WITH (FORMAT binary)`)),
      );
      console.log(
        `loaded ${TABLE_MB} MiB into cluster ${cluster} (${host}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    };
    for (const client of [plain, tls])
      await sql(client, `CREATE STORAGESPACE s WIDTH 5 PARITY_WIDTH 2 SEGMENT_SIZE ${SEGMENT}`);
    await setUp(plain, AGENT_CLUSTER, (i) => hosts.agentAddress(i), 'host');
    await setUp(plain, LOCAL_CLUSTER, () => null, 'local');
    await setUp(tls, AGENT_CLUSTER, (i) => hosts.agentAddress(i, TLS_PORT), 'tlshost');
    const k = 3;
    console.log('plain HTTP:');
    await measure(plain, k, 'plain', '', true);
    console.log('mutual TLS:');
    await measure(tls, k, 'TLS', '.tls', false);
    console.log('mutual TLS against plain HTTP, alternated:');
    const rebuilds = await alternate(
      ROUNDS,
      async () => {
        const r = await rebuildRound(tls, k, AGENT_CLUSTER);
        console.log(`  TLS rebuild of ${r.node}: ${mbps(r.pulled, r.seconds)} pulled`);
        return r.pulled / r.seconds;
      },
      async () => {
        const r = await rebuildRound(plain, k, AGENT_CLUSTER);
        console.log(`  plain rebuild of ${r.node}: ${mbps(r.pulled, r.seconds)} pulled`);
        return r.pulled / r.seconds;
      },
    );
    emitResult({
      target: 'cluster.rebuild.tls_vs_plain',
      value: spread(pairRatios(rebuilds.ours, rebuilds.peer)),
      detail: `rebuild pulls ${mbps(spread(rebuilds.ours).median, 1)} with TLS vs ${mbps(spread(rebuilds.peer).median, 1)} plain (medians)`,
    });
    const checks = await alternate(
      ROUNDS,
      async () => {
        const r = await checkDiskRound(tls, AGENT_CLUSTER);
        console.log(`  TLS check_disk: ${mbps(r.bytes, r.seconds)}`);
        return r.bytes / r.seconds;
      },
      async () => {
        const r = await checkDiskRound(plain, AGENT_CLUSTER);
        console.log(`  plain check_disk: ${mbps(r.bytes, r.seconds)}`);
        return r.bytes / r.seconds;
      },
    );
    emitResult({
      target: 'cluster.check_disk.tls_vs_plain',
      value: spread(pairRatios(checks.ours, checks.peer)),
      detail: `check_disk ${mbps(spread(checks.ours).median, 1)} with TLS vs ${mbps(spread(checks.peer).median, 1)} plain (medians)`,
    });
  } finally {
    for (const c of clients) await c.end().catch(() => {});
    hosts.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
