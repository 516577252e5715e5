// bench/stream: a 1,000,000-row result (SELECT g, repeat('x', 100) FROM generate_series(1, 1000000) g) read
// through the clients' cursor mechanisms, this server against a real PostgreSQL 15, alternated round by
// round: node-postgres Execute(100) + Flush (pg-cursor's protocol), psql FETCH_COUNT=1000 (DECLARE NO SCROLL
// CURSOR / FETCH FORWARD 1000), pgjdbc setFetchSize(1000). Prints per client the median and spread of time
// to first row, rows/s, (this server) RSS growth and CPU seconds per million rows (all its threads: the figure
// that does not depend on what else the machine runs), and the ratio of the medians of rows/s.
// BENCH_BASELINE=<another build's dist/> runs that build's server too, in the same rounds (baseline, this,
// PostgreSQL), and prints this build's rows/s and CPU against it: a change measured side by side.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ServerProcess, startServerProcess } from '../test/helpers/process';
import { machine, runAsync, sh, startRealPostgres } from './common';
import { emitResult } from './results';
import { pairRatios, spread as stats } from './stats';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SQL = `SELECT g, repeat('x', 100) FROM generate_series(1, ${ROWS}) g`;
/** Only the clients whose name contains this (BENCH_CLIENTS=psql), to measure one alone. */
const ONLY = process.env.BENCH_CLIENTS ?? '';
const BASELINE = process.env.BENCH_BASELINE;
const JDBC_JAR = '/usr/share/java/postgresql.jar';
const JDBC_PROGRAM = join(__dirname, '..', '..', 'test', 'clients', 'JdbcStream.java');

interface Sample {
  firstMs: number;
  rowsPerSecond: number;
  rssGrowthMiB: number;
  /** The server's CPU (user + system, all threads) per million rows, seconds. */
  cpuSecondsPerMillion: number;
}

type Client = (port: number, user: string) => Promise<{ rows: number; firstMs: number; totalMs: number }>;

const clients: Record<string, Client> = {
  'node-postgres Execute(100)': async (port, user) => {
    const r = await runAsync(process.execPath, [
      join(__dirname, 'stream-client.js'),
      String(port),
      user,
      SQL,
      '100',
    ]);
    if (r.code !== 0) throw new Error(r.err);
    return JSON.parse(r.out);
  },
  'psql FETCH_COUNT=1000': (port, user) =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const p = spawn('psql', [
        `host=127.0.0.1 port=${port} user=${user} dbname=segtasks`,
        '-X',
        '-At',
        '-v',
        'FETCH_COUNT=1000',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        SQL,
      ]);
      let first = -1;
      let lines = 0;
      p.stdout.on('data', (d: Buffer) => {
        if (first < 0) first = performance.now() - t0;
        for (const b of d) if (b === 10) lines++;
      });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('close', (code) =>
        code === 0
          ? resolve({ rows: lines, firstMs: first, totalMs: performance.now() - t0 })
          : reject(new Error(err)),
      );
    }),
  'pgjdbc setFetchSize(1000)': async (port, user) => {
    const r = await runAsync('java', [
      '-cp',
      JDBC_JAR,
      JDBC_PROGRAM,
      String(port),
      user,
      '',
      'segtasks',
      '1000',
      SQL,
    ]);
    if (r.code !== 0) throw new Error(r.err);
    const kv = Object.fromEntries(
      r.out
        .trim()
        .split('\n')
        .map((l) => l.split('=')),
    );
    return { rows: Number(kv.rows), firstMs: Number(kv.first_ms), totalMs: Number(kv.total_ms) };
  },
};

/** The process's CPU time so far (user + system of all its threads), seconds. */
function cpuSeconds(pid: number): number {
  // Fields after the command's parenthesis: utime and stime are the 12th and 13th, in clock ticks (100 a second).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

async function measure(client: Client, port: number, user: string, pid: number | null): Promise<Sample> {
  const before = pid ? rss(pid) : 0;
  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  let peak = before;
  const timer = pid ? setInterval(() => (peak = Math.max(peak, rss(pid))), 20) : null;
  try {
    const r = await client(port, user);
    if (r.rows !== ROWS) throw new Error(`got ${r.rows} rows, not ${ROWS}`);
    return {
      firstMs: r.firstMs,
      rowsPerSecond: r.rows / (r.totalMs / 1000),
      rssGrowthMiB: (peak - before) / 2 ** 20,
      cpuSecondsPerMillion: pid ? ((cpuSeconds(pid) - cpuBefore) * 1e6) / r.rows : 0,
    };
  } finally {
    if (timer) clearInterval(timer);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[], digits = 0) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

async function main() {
  console.log(
    `bench/stream: ${ROWS.toLocaleString('en')} rows through cursors, ${ROUNDS} alternated rounds; this server vs PostgreSQL 15`,
  );
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-stream-'));
  const pg = startRealPostgres(55433);
  sh('psql', [
    '-h',
    '127.0.0.1',
    '-p',
    String(pg.port),
    '-U',
    pg.user,
    '-X',
    '-q',
    '-d',
    'postgres',
    '-c',
    'CREATE DATABASE segtasks',
  ]);
  // A process of its own (its RSS is what is measured), trust authentication.
  const ours = await startServerProcess(join(dir, 'data'), {
    SEGTASKS_AUTH: 'trust',
    SEGTASKS_ADMIN_PASSWORD: 'bench',
  });
  const base = BASELINE ? await startBaseline(join(dir, 'baseline')) : null;
  const results: Record<string, { ours: Sample[]; theirs: Sample[]; base: Sample[] }> = {};
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, client] of Object.entries(clients).filter(([n]) => n.includes(ONLY))) {
        const r = (results[name] ??= { ours: [], theirs: [], base: [] });
        if (base) {
          r.base.push(await measure(client, base.port, 'admin', base.child.pid!));
          const b = r.base.at(-1)!;
          console.log(
            `round ${round} ${name}: baseline first ${b.firstMs.toFixed(0)} ms, ${b.rowsPerSecond.toFixed(0)} rows/s, RSS +${b.rssGrowthMiB.toFixed(0)} MiB, CPU ${b.cpuSecondsPerMillion.toFixed(2)} s per 1M rows`,
          );
        }
        r.ours.push(await measure(client, ours.port, 'admin', ours.child.pid!));
        r.theirs.push(await measure(client, pg.port, pg.user, null));
        const [o, t] = [r.ours.at(-1)!, r.theirs.at(-1)!];
        console.log(
          `round ${round} ${name}: segtasks first ${o.firstMs.toFixed(0)} ms, ${o.rowsPerSecond.toFixed(0)} rows/s, RSS +${o.rssGrowthMiB.toFixed(0)} MiB, CPU ${o.cpuSecondsPerMillion.toFixed(2)} s per 1M rows; PostgreSQL first ${t.firstMs.toFixed(0)} ms, ${t.rowsPerSecond.toFixed(0)} rows/s`,
        );
      }
    }
  } finally {
    await base?.stop();
    await ours.stop();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    '\n| client | segtasks first row ms | PostgreSQL first row ms | segtasks rows/s | PostgreSQL rows/s | ratio of medians | segtasks RSS growth MiB | segtasks CPU s per 1M rows |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    const ratio = median(r.ours.map((s) => s.rowsPerSecond)) / median(r.theirs.map((s) => s.rowsPerSecond));
    console.log(
      `| ${name} | ${spread(r.ours.map((s) => s.firstMs))} | ${spread(r.theirs.map((s) => s.firstMs))} | ${spread(r.ours.map((s) => s.rowsPerSecond))} | ${spread(r.theirs.map((s) => s.rowsPerSecond))} | ${ratio.toFixed(2)}x | ${spread(r.ours.map((s) => s.rssGrowthMiB))} | ${spread(
        r.ours.map((s) => s.cpuSecondsPerMillion),
        2,
      )} |`,
    );
  }
  if (base) {
    console.log(`\nAgainst the baseline build (${BASELINE}), the same rounds:`);
    console.log(
      '| client | baseline rows/s | this rows/s | this / baseline, median of rounds (min-max) | baseline / PostgreSQL | this / PostgreSQL | baseline CPU s per 1M rows | this CPU s per 1M rows |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [name, r] of Object.entries(results)) {
      const rows = (xs: Sample[]) => xs.map((s) => s.rowsPerSecond);
      const vs = stats(pairRatios(rows(r.ours), rows(r.base)));
      const ofPg = (xs: Sample[]) => stats(pairRatios(rows(xs), rows(r.theirs))).median.toFixed(2);
      console.log(
        `| ${name} | ${spread(rows(r.base))} | ${spread(rows(r.ours))} | ${vs.median.toFixed(2)}x (${vs.min.toFixed(2)}-${vs.max.toFixed(2)}) | ${ofPg(r.base)}x | ${ofPg(r.ours)}x | ${spread(
          r.base.map((s) => s.cpuSecondsPerMillion),
          2,
        )} | ${spread(
          r.ours.map((s) => s.cpuSecondsPerMillion),
          2,
        )} |`,
      );
    }
  }
  // For the summary of npm run bench: each target as its worst client has it (rows/s as the ratio of each
  // round, taken next to each other in time).
  const per = Object.entries(results).map(([name, r]) => ({
    name,
    first: stats(r.ours.map((s) => s.firstMs)),
    rss: stats(r.ours.map((s) => s.rssGrowthMiB)),
    rows: stats(
      pairRatios(
        r.ours.map((s) => s.rowsPerSecond),
        r.theirs.map((s) => s.rowsPerSecond),
      ),
    ),
  }));
  const worst = (key: 'first' | 'rss' | 'rows', higherIsWorse: boolean) =>
    per.reduce((a, b) => (b[key].median > a[key].median === higherIsWorse ? b : a));
  const others = (key: 'first' | 'rss' | 'rows') =>
    per.map((p) => `${p.name} ${p[key].median.toFixed(2)}`).join('; ');
  const f = worst('first', true);
  emitResult({
    target: 'stream.first_rows',
    value: f.first,
    detail: `${f.name} (medians: ${others('first')})`,
  });
  const m = worst('rss', true);
  emitResult({ target: 'stream.rss', value: m.rss, detail: `${m.name} (medians: ${others('rss')})` });
  const w = worst('rows', false);
  emitResult({ target: 'stream.rows', value: w.rows, detail: `${w.name} (medians: ${others('rows')})` });
}

/** The baseline build's server, started by that build's own helper (its CLI). */
async function startBaseline(dataDir: string): Promise<ServerProcess> {
  const helper = join(resolve(BASELINE!), 'test', 'helpers', 'process.js');
  const { startServerProcess: start } = require(helper) as typeof import('../test/helpers/process');
  return start(dataDir, { SEGTASKS_AUTH: 'trust', SEGTASKS_ADMIN_PASSWORD: 'bench' });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
