// bench/wire: pgbench point SELECTs by id on sys.tasks (10,000 rows) against this server and against a real
// PostgreSQL 15 holding the same rows, -M simple and -M prepared, 1 and 16 clients, in the same run.
// Prints tps, the ratio to PostgreSQL, and p99 latency from pgbench's per-transaction log, as the median and
// spread of alternated rounds (BENCH_ROUNDS, default 5). A third side, the floor (bench/wire-floor.ts: a Node.js
// process answering from bytes made once), shows what one event loop thread can reach with the same traffic.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  machine,
  PG_BIN,
  POINT_SELECT,
  percentile,
  runAsync,
  seedTasks,
  sh,
  startBenchApp,
  startRealPostgres,
} from './common';
import { emitResult } from './results';
import { pairRatios, type Spread, spread } from './stats';

const ROWS = 10_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Client counts (BENCH_CLIENTS=16 for the targets alone) and protocol modes. */
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,16').split(',').map(Number);
const MODES = ['simple', 'prepared'];
const SCRIPT = `\\set id random(1, ${ROWS})\n${POINT_SELECT.replace('$1', ':id')};\n`;

interface Run {
  tps: number;
  p99ms: number;
}

async function pgbench(
  port: number,
  user: string,
  password: string,
  mode: string,
  clients: number,
  dir: string,
): Promise<Run> {
  const logDir = mkdtempSync(join(dir, 'log-'));
  const r = await runAsync(
    `${PG_BIN}/pgbench`,
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      user,
      '-n',
      '-M',
      mode,
      '-c',
      String(clients),
      '-j',
      String(Math.min(clients, 2)),
      '-T',
      String(SECONDS),
      '-f',
      join(dir, 'point.sql'),
      '-l',
      '--log-prefix',
      join(logDir, 'tx'),
      'segtasks',
    ],
    { PGPASSWORD: password },
  );
  if (r.code !== 0) throw new Error(`pgbench failed: ${r.err}`);
  const tps = Number(/tps = ([\d.]+)/.exec(r.out)?.[1] ?? 0);
  const lat: number[] = [];
  for (const f of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, f), 'utf8').split('\n')) {
      const cols = line.split(' ');
      if (cols.length > 3) lat.push(Number(cols[2]) / 1000);
    }
  }
  lat.sort((a, b) => a - b);
  return { tps, p99ms: percentile(lat, 99) };
}

async function main() {
  console.log(
    'bench/wire: pgbench point SELECT by id on sys.tasks, 10,000 rows; this server vs PostgreSQL 15',
  );
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-wire-'));
  writeFileSync(join(dir, 'point.sql'), SCRIPT);

  // Real PostgreSQL with the same table and rows.
  const pg = startRealPostgres(55432);
  const psql = (sql: string, db = 'postgres') =>
    sh('psql', ['-h', '127.0.0.1', '-p', '55432', '-U', 'bench', '-X', '-q', '-d', db, '-c', sql]);
  psql('CREATE DATABASE segtasks');
  psql(
    `CREATE SCHEMA sys; CREATE TABLE sys.tasks (id uuid PRIMARY KEY, name text, type text NOT NULL, location_type text NOT NULL,
     location_name text, options json NOT NULL, status text NOT NULL, created_by text NOT NULL, created_at timestamptz NOT NULL,
     started_at timestamptz, finished_at timestamptz, fraction_complete float8 NOT NULL DEFAULT 0, bytes_total int8 NOT NULL DEFAULT 0,
     bytes_done int8 NOT NULL DEFAULT 0, segments_total int8 NOT NULL DEFAULT 0, segments_done int8 NOT NULL DEFAULT 0,
     segments_failed int8 NOT NULL DEFAULT 0, error text);
     INSERT INTO sys.tasks (id, name, type, location_type, location_name, options, status, created_by, created_at)
       SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'task-' || i, 'check_disk', 'SYSTEM', NULL, '{}',
              'COMPLETE', 'admin', now() FROM generate_series(1, ${ROWS}) i; ANALYZE sys.tasks;`,
    'segtasks',
  );

  // This server with the same rows, written into its catalog before the run.
  const dataDir = join(dir, 'data');
  const app = await startBenchApp(dataDir, 0, 'scram');
  seedTasks(app, ROWS);

  const floor = await startFloor();

  // Alternated rounds (bench/stats.ts): in each round every case runs against this server, then against
  // PostgreSQL, then against the floor, next to each other in time; the ratios of the rounds are summarized by
  // their median.
  const cases = CLIENTS.flatMap((clients) => MODES.map((mode) => ({ mode, clients })));
  const runs = new Map<string, { ours: Run[]; theirs: Run[]; floor: Run[] }>();
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const c of cases) {
        const key = `${c.mode} ${c.clients}`;
        const r = runs.get(key) ?? { ours: [], theirs: [], floor: [] };
        runs.set(key, r);
        r.ours.push(await pgbench(app.port, 'admin', 'bench', c.mode, c.clients, dir));
        r.theirs.push(await pgbench(55432, 'bench', '', c.mode, c.clients, dir));
        r.floor.push(await pgbench(floor.port, 'bench', '', c.mode, c.clients, dir));
        const [o, t, f] = [r.ours.at(-1)!, r.theirs.at(-1)!, r.floor.at(-1)!];
        console.log(
          `round ${round} ${key}: segtasks ${o.tps.toFixed(0)} tps p99 ${o.p99ms.toFixed(2)} ms; PostgreSQL ${t.tps.toFixed(0)} tps p99 ${t.p99ms.toFixed(2)} ms; floor ${f.tps.toFixed(0)} tps (load ${loadavg()[0].toFixed(1)})`,
        );
      }
    }
  } finally {
    await app.close();
    pg.stop();
    floor.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    '\n| mode | clients | segtasks tps | PostgreSQL tps | ratio, median (min-max) of rounds | segtasks p99 ms | PostgreSQL p99 ms | p99 ratio | floor tps | floor vs PostgreSQL |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const fmt = (x: Spread, d = 2) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}-${x.max.toFixed(d)})`;
  const summary = new Map<string, { tps: Spread; p99: Spread }>();
  for (const [key, r] of runs) {
    const tps = spread(
      pairRatios(
        r.ours.map((x) => x.tps),
        r.theirs.map((x) => x.tps),
      ),
    );
    const p99 = spread(
      pairRatios(
        r.ours.map((x) => x.p99ms),
        r.theirs.map((x) => x.p99ms),
      ),
    );
    summary.set(key, { tps, p99 });
    const [mode, clients] = key.split(' ');
    const floorRatio = spread(
      pairRatios(
        r.floor.map((x) => x.tps),
        r.theirs.map((x) => x.tps),
      ),
    );
    console.log(
      `| ${mode} | ${clients} | ${fmt(spread(r.ours.map((x) => x.tps)), 0)} | ${fmt(spread(r.theirs.map((x) => x.tps)), 0)} | ${fmt(tps)}x | ${fmt(spread(r.ours.map((x) => x.p99ms)))} | ${fmt(spread(r.theirs.map((x) => x.p99ms)))} | ${fmt(p99)}x | ${fmt(spread(r.floor.map((x) => x.tps)), 0)} | ${fmt(floorRatio)}x |`,
    );
  }
  const at16 = (mode: string) => summary.get(`${mode} 16`);
  const simple = at16('simple');
  const prepared = at16('prepared');
  if (simple)
    emitResult({ target: 'wire.simple', value: simple.tps, detail: `${ROUNDS} rounds of ${SECONDS} s` });
  if (prepared)
    emitResult({ target: 'wire.prepared', value: prepared.tps, detail: `${ROUNDS} rounds of ${SECONDS} s` });
  // p99 as the worse of the two modes at 16 clients.
  const worst = [simple, prepared]
    .filter((x) => x !== undefined)
    .sort((a, b) => b.p99.median - a.p99.median)[0];
  if (worst) emitResult({ target: 'wire.p99', value: worst.p99, detail: 'the worse of simple and prepared' });
}

/** The floor server (bench/wire-floor.ts) in a process of its own, as this server and PostgreSQL have. */
async function startFloor(): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, [join(__dirname, 'wire-floor.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
