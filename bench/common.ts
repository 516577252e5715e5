// Shared helpers for benchmarks: machine facts, subprocesses, a throwaway real PostgreSQL 15.
// First: the app in process runs with the server's libuv pool size (src/threadpool.ts).
import '../src/threadpool';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { nowText } from '../catalog/db';
import { type App, startApp } from '../src/app';

export function machine(): string {
  return `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
}

export function sh(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; user?: string } = {},
): string {
  const full = opts.user ? ['runuser', ['-u', opts.user, '--', cmd, ...args]] : [cmd, args];
  return execFileSync(full[0] as string, full[1] as string[], {
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface RealPostgres {
  port: number;
  user: string;
  /** The URL of one of its databases, over TCP on 127.0.0.1 (trust authentication). */
  url(database?: string): string;
  /** Creates a database (tests give each scenario its own) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

/**
 * Starts a real PostgreSQL 15 in a temporary directory, owned by an unprivileged user; inside network
 * namespace `netns` when given (its 127.0.0.1 is then the namespace's own).
 */
export function startRealPostgres(port: number, netns?: string): RealPostgres {
  const osUser = spawnSync('id', ['postgres']).status === 0 ? 'postgres' : 'nobody';
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  sh(`${PG_BIN}/initdb`, ['-D', data, '-U', 'bench', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], {
    user: osUser,
  });
  const inNs = (cmd: string, args: string[]): [string, string[]] =>
    netns ? ['ip', ['netns', 'exec', netns, 'runuser', '-u', osUser, '--', cmd, ...args]] : [cmd, args];
  const [ctl, ctlArgs] = inNs(`${PG_BIN}/pg_ctl`, [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off`,
    'start',
  ]);
  sh(ctl, ctlArgs, netns ? {} : { user: osUser });
  const url = (database = 'postgres') => `postgres://bench@127.0.0.1:${port}/${database}`;
  return {
    port,
    user: 'bench',
    url,
    async createDatabase(name: string) {
      const admin = new pg.Client(url());
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    stop() {
      spawnSync('runuser', ['-u', osUser, '--', `${PG_BIN}/pg_ctl`, '-D', data, '-m', 'fast', 'stop'], {
        stdio: 'ignore',
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function runAsync(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

export function ratio(a: number, b: number): string {
  return b ? (a / b).toFixed(2) + 'x' : 'n/a';
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Times a command run as a subprocess (asynchronously: a benchmark's server runs in this very process). */
export async function timed(cmd: string, args: string[]): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await runAsync(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} failed: ${r.err}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** A numeric command-line option `--name N`, or the fallback when it is not given. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** One statement through psql, as the admin user, against an in-process server (trust authentication). */
export function psqlAsync(app: App, sql: string): ReturnType<typeof runAsync> {
  return runAsync('psql', [
    `host=127.0.0.1 port=${app.port} user=admin dbname=segtasks`,
    '-X',
    '-q',
    '-c',
    sql,
  ]);
}

/**
 * This process's threads (main, libuv pool, workers) from /proc/self/task/N/schedstat, in seconds: time on a CPU
 * and time runnable but waiting for one. On a shared machine the second says how much of a run was lost to
 * the other jobs, which a `cat` or `dd` beside it hardly needs CPU to avoid.
 */
export function schedStat(): { cpu: number; waited: number } {
  let cpu = 0;
  let waited = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ').map(Number);
      cpu += run / 1e9;
      waited += wait / 1e9;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { cpu, waited };
}

/**
 * Runs CREATE TASK through psql against an in-process server and waits for the task. Returns its id, status,
 * bytes done, and its run time as the catalog recorded it (started_at to finished_at) and as seen from here.
 */
export async function runBenchTask(
  app: App,
  sql: string,
): Promise<{ id: string; status: string; bytes: number; seconds: number; wallSeconds: number }> {
  const r = await psqlAsync(app, sql);
  const id = /task ([0-9a-f-]{36})/.exec(r.err)?.[1];
  if (!id) throw new Error(`no task id: ${r.err}`);
  const t = process.hrtime.bigint();
  await app.engine.wait(id);
  const wallSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const row = app
    .sqlite!.db.prepare(
      "SELECT status, bytes_done, (julianday(replace(replace(finished_at,'+00',''),' ','T')) - julianday(replace(replace(started_at,'+00',''),' ','T'))) * 86400 AS s FROM tasks WHERE id = ?",
    )
    .get(id) as { status: string; bytes_done: number; s: number };
  return { id, status: row.status, bytes: row.bytes_done, seconds: row.s, wallSeconds };
}

/**
 * A server for a benchmark, in this process: quiet, trust authentication (psql and pgbench connect without a
 * password), the embedded default topology with `demoBytes` of demo data (none when 0).
 */
export function startBenchApp(
  dataDir: string,
  demoBytes: number,
  auth: 'trust' | 'scram' = 'trust',
): Promise<App> {
  return startApp({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    auth,
    adminPassword: 'bench',
    logLevel: 'silent',
    say: () => {},
    embeddedDefault: demoBytes > 0,
    demoBytes,
  });
}

/**
 * Writes dirty pages back, then empties the page cache, so that the next side of a round reads from the disk
 * (root only). Returns false where the kernel does not allow it: the figures are then warm-cache ones.
 */
export function dropCaches(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** Seconds since `t0` (from process.hrtime.bigint()). */
export function since(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** `total` bytes in 4 MiB chunks of one random buffer: table data made at memory speed. */
export async function* filler(total: number): AsyncGenerator<Buffer> {
  const chunk = randomBytes(4 * 1024 * 1024);
  for (let left = total; left > 0; left -= chunk.length)
    yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

/** The id of bench task i, as bench/wire's point SELECT computes it. */
const benchTaskId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** bench/wire's point SELECT on sys.tasks, by a task number as $1. */
export const POINT_SELECT =
  "SELECT * FROM sys.tasks WHERE id = ('00000000-0000-4000-8000-' || lpad($1::text, 12, '0'))::uuid";

/** Writes `rows` COMPLETE check_disk tasks into the app's embedded catalog, in one transaction. */
export function seedTasks(app: App, rows: number): void {
  const ins = app.sqlite!.db.prepare(
    `INSERT INTO tasks (id, name, type, location_type, options, status, created_by, created_at) VALUES (?, ?, 'check_disk', 'SYSTEM', '{}', 'COMPLETE', 'admin', ?)`,
  );
  app.sqlite!.db.transaction(() => {
    for (let i = 1; i <= rows; i++) ins.run(benchTaskId(i), `task-${i}`, nowText());
  })();
}

/**
 * The embedded default topology with a token demo table and a table `name` of `bytes` arbitrary bytes beside
 * it (generating the demo's text lines runs at a few MB/s on a loaded machine).
 */
export async function startBenchAppWithTable(dataDir: string, name: string, bytes: number): Promise<App> {
  const app = await startBenchApp(dataDir, 1024 * 1024);
  await app.storage.createTable(name, 'cluster1', '', 'admin');
  await app.store.load(name, filler(bytes));
  return app;
}
