// Storage agents (segtasks agent) as child processes on 127.0.0.1, for tests: started, killed with -9, and
// started again on the same port.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

export interface AgentProcess {
  port: number;
  address: string;
  dataDir: string;
  /** Everything the agent printed (its JSON log is on stderr). */
  output(): string;
  kill9(): Promise<void>;
  /** SIGSTOP / SIGCONT: the agent keeps its sockets but answers nothing (a hung host) until continued. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** `extra` are more options of `segtasks agent` (--tls-cert ... for TLS). */
export async function startAgentProcess(
  secretFile: string,
  dataDir: string,
  port = 0,
  extra: string[] = [],
): Promise<AgentProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      CLI,
      'agent',
      '--listen',
      `127.0.0.1:${port}`,
      '--secret-file',
      secretFile,
      '--data-dir',
      dataDir,
      '--log-level',
      'info',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${out}`)), 20_000);
    const check = () => {
      const m = /agent listening on [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}: ${out}`));
    });
  });
  return {
    port: bound,
    address: `127.0.0.1:${bound}`,
    dataDir,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `probe` every 100 ms until it returns true, for at most `ms`; returns the time it took. */
export async function within(ms: number, what: string, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  // Bounded both ways: at most one probe per 100 ms of the allowance, and never past it.
  for (let i = 0; i <= Math.ceil(ms / 100) && Date.now() - start < ms; i++) {
    if (await probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

/** A client that runs statements (pg.Client); only what the setup needs, so this file imports no driver. */
interface Queryable {
  query(sql: string): Promise<unknown>;
}

/**
 * The agents' cluster as SQL: storage space s (WIDTH 5, PARITY_WIDTH 2, segments of `segmentSize` bytes),
 * cluster c1, and node n<i> at agent i's address with devices deviceDir(i, 1) and deviceDir(i, 2).
 */
export async function createAgentCluster(
  client: Queryable,
  agents: AgentProcess[],
  deviceDir: (agent: number, device: number) => string,
  segmentSize: number,
): Promise<void> {
  await client.query(`CREATE STORAGESPACE s WIDTH 5 PARITY_WIDTH 2 SEGMENT_SIZE ${segmentSize}`);
  await client.query('CREATE CLUSTER c1 STORAGESPACE s');
  for (let i = 1; i <= agents.length; i++)
    await client.query(
      `CREATE NODE n${i} IN CLUSTER c1 ADDRESS '${agents[i - 1].address}' DEVICES ('${deviceDir(i, 1)}', '${deviceDir(i, 2)}')`,
    );
}
