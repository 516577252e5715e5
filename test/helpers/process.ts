// Runs the real server (the CLI) as a child process, so that tests can kill -9 it and start it again.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { IDENTITY_FILE } from '../../src/store/device-identity';
import { ADMIN_PASSWORD } from './server';

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

export async function startServerProcess(
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    // --http-port 0: the HTTP side runs as in production, on a free port (never the shared default).
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--http-port',
      '0',
      '--data-dir',
      dataDir,
      '--no-demo',
      '--log-level',
      'warn',
    ],
    {
      env: { ...process.env, SEGTASKS_ADMIN_PASSWORD: ADMIN_PASSWORD, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const check = () => {
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    port,
    child,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A pg client for the admin user of a server process; errors of a killed server are expected, not thrown. */
export async function connectAdmin(port: number): Promise<pg.Client> {
  const c = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'admin',
    password: ADMIN_PASSWORD,
    database: 'segtasks',
  });
  c.on('error', () => {});
  c.on('notice', () => {});
  await c.connect();
  return c;
}

/** Every file below a directory (segment files, temporary files, anything), recursively. */
export function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      // A device's identity file belongs to the device, not to the catalog's segments.
      else if (e.name !== IDENTITY_FILE) out.push(join(d, e.name));
    }
  };
  if (existsSync(root)) walk(root);
  return out;
}

/**
 * Kills the server with SIGKILL `kills` times at random moments (20-170 ms apart), restarting it each time on
 * the same data directory. Returns the running server and how many restarts found the task still active.
 */
export async function killRepeatedly(
  server: ServerProcess,
  dataDir: string,
  taskId: string,
  kills: number,
): Promise<{ server: ServerProcess; interrupted: number }> {
  let interrupted = 0;
  for (let i = 0; i < kills; i++) {
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 150));
    await server.kill9();
    server = await startServerProcess(dataDir);
    const c = await connectAdmin(server.port);
    const st = (await c.query('SELECT status FROM sys.tasks WHERE id = $1', [taskId])).rows[0].status;
    if (st === 'RUNNING' || st === 'PENDING') interrupted++;
    await c.end();
  }
  return { server, interrupted };
}

/**
 * After crashes: every segment INTACT, every file below the devices catalogued and every catalogued segment
 * on disk (no orphan, no temporary file, no row without its file).
 */
export async function assertStoreConsistent(
  t: ExecutionContext,
  client: pg.Client,
  dataDir: string,
): Promise<void> {
  const statuses = (await client.query('SELECT DISTINCT status FROM sys.segments')).rows.map((r) => r.status);
  t.deepEqual(statuses, ['INTACT']);
  const catalogued = (await client.query('SELECT path FROM sys.segments')).rows
    .map((r) => r.path as string)
    .sort();
  t.deepEqual(
    filesUnder(join(dataDir, 'devices')).sort(),
    catalogued,
    'no orphan file, no catalogue row without its file',
  );
}
