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
  logLevel = 'warn',
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
      logLevel,
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

/** A task's counters as sys.tasks shows them. */
export interface TaskProgress {
  status: string;
  bytes_done: number;
  segments_done: number;
  fraction_complete: number;
}

async function progressOf(c: pg.Client, taskId: string): Promise<TaskProgress> {
  const r = (
    await c.query(
      'SELECT status, bytes_done, segments_done, fraction_complete FROM sys.tasks WHERE id = $1',
      [taskId],
    )
  ).rows[0];
  return {
    status: r.status,
    bytes_done: Number(r.bytes_done),
    segments_done: Number(r.segments_done),
    fraction_complete: Number(r.fraction_complete),
  };
}

/** One kill: the task's progress just before it and just after the restart, and how soon it ran again. */
export interface KillStep {
  before: TaskProgress;
  after: TaskProgress;
  /**
   * By the server's clock, from its being ready (listening) to a subtask of the task RUNNING again
   * (adoptedAfterReady); null if none was left; Infinity if none ran.
   */
  adoptedMs: number | null;
}

/**
 * Kills the server with SIGKILL `kills` times at random moments (0.1-1.2 s after it has taken the task up
 * again, so that the task gets on between kills), restarting it each time on the same data directory. Reads the task's progress before each kill and
 * after each restart, and measures how long after the restart the task runs again. Returns the running
 * server, how many restarts found the task still active, and the steps.
 */
export async function killRepeatedly(
  server: ServerProcess,
  dataDir: string,
  taskId: string,
  kills: number,
): Promise<{ server: ServerProcess; interrupted: number; steps: KillStep[] }> {
  let interrupted = 0;
  const steps: KillStep[] = [];
  let c = await connectAdmin(server.port);
  for (let i = 0; i < kills; i++) {
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 1100));
    const before = await progressOf(c, taskId);
    await server.kill9();
    // the connection died with the server: its end() would wait for a goodbye that never comes
    void c.end().catch(() => {});
    // At level info: its JSON log says when it listened (adoptedAfterReady).
    server = await startServerProcess(dataDir, {}, 'info');
    const ready = Date.now();
    c = await connectAdmin(server.port);
    const after = await progressOf(c, taskId);
    let adoptedMs: number | null = null;
    if (after.status === 'RUNNING' || after.status === 'PENDING') {
      interrupted++;
      for (;;) {
        const running = (
          await c.query(
            "SELECT count(*)::int4 AS n FROM sys.subtasks WHERE task_id = $1 AND status = 'RUNNING'",
            [taskId],
          )
        ).rows[0].n;
        const st = (await progressOf(c, taskId)).status;
        if (running > 0 || !(st === 'RUNNING' || st === 'PENDING')) break;
        if (Date.now() - ready > 10_000) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      adoptedMs = await adoptedAfterReady(c, taskId, server.output);
    }
    steps.push({ before, after, adoptedMs });
  }
  await c.end();
  return { server, interrupted, steps };
}

/** A timestamptz as pg gives it (a Date), or as text ('2026-12-02 15:40:00.123456+00'), in ms since the epoch. */
const epochMs = (v: unknown) =>
  v instanceof Date
    ? v.getTime()
    : Date.parse(
        String(v)
          .replace(' ', 'T')
          .replace(/([+-]\d\d)$/, '$1:00'),
      );

/**
 * How soon after it was ready the server ran the task again, by the server's own clock: from the time of its
 * 'listening' log line to the first started_at (in the catalog) of the task's subtasks since it started
 * (pg_postmaster_start_time()); negative when one ran before it listened. Not timed by this process, whose
 * connection and polls a loaded machine delays. Infinity when no subtask of the task has started since.
 */
async function adoptedAfterReady(c: pg.Client, taskId: string, log: () => string): Promise<number> {
  const line = () =>
    log()
      .split('\n')
      .find((l) => l.startsWith('{') && l.includes('"msg":"listening"') && l.endsWith('}'));
  // The JSON log is on stderr, which may come a little after the stdout line the start waited for (bounded).
  for (let i = 0; !line() && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
  const found = line();
  if (!found) throw new Error(`no 'listening' line in the server's log: ${log()}`);
  const listening = JSON.parse(found) as { time: string };
  const first = (
    await c.query(
      `SELECT min(started_at) AS first FROM sys.subtasks
       WHERE task_id = $1 AND started_at >= pg_postmaster_start_time()`,
      [taskId],
    )
  ).rows[0].first;
  return first === null ? Number.POSITIVE_INFINITY : epochMs(first) - epochMs(listening.time);
}

/**
 * The progress a restart shows is never below what was shown before the kill, less `inFlightBytes` (the
 * work of the groups in flight, redone after the restart); segments done and the fraction likewise. Logs
 * the figures and the adoption times, and checks that an interrupted task ran again within 2 s.
 */
export function assertProgressKept(
  t: ExecutionContext,
  steps: KillStep[],
  inFlightBytes: number,
  bytesTotal: number,
) {
  let worst = 0;
  for (const [i, s] of steps.entries()) {
    const lostBytes = s.before.bytes_done - s.after.bytes_done;
    worst = Math.max(worst, lostBytes);
    t.true(
      lostBytes <= inFlightBytes,
      `kill ${i + 1}: bytes_done ${s.before.bytes_done} -> ${s.after.bytes_done}`,
    );
    t.true(
      s.after.fraction_complete >= s.before.fraction_complete - inFlightBytes / bytesTotal - 1e-9,
      `kill ${i + 1}: fraction_complete ${s.before.fraction_complete} -> ${s.after.fraction_complete}`,
    );
    t.true(
      s.after.segments_done >= s.before.segments_done,
      `kill ${i + 1}: segments_done ${s.before.segments_done} -> ${s.after.segments_done}`,
    );
  }
  const adopted = steps.flatMap((s) => (s.adoptedMs === null ? [] : [s.adoptedMs]));
  t.log(
    `progress before/after each kill (fraction): ${steps.map((s) => `${s.before.fraction_complete.toFixed(3)}/${s.after.fraction_complete.toFixed(3)}`).join(' ')}`,
  );
  t.log(
    `most bytes_done lost to a kill: ${worst} (in-flight allowance ${inFlightBytes}); running again after a restart within ${adopted.length ? Math.max(...adopted) : '-'} ms (median ${adopted.length ? adopted.sort((a, b) => a - b)[Math.floor(adopted.length / 2)] : '-'} ms)`,
  );
  for (const ms of adopted)
    t.true(ms <= 2000, `running again ${ms} ms after the server was ready (its clock)`);
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
