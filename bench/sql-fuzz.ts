// The long run of the SQL fuzzer: node dist/bench/sql-fuzz.js --seconds N [--seed S]. Prints the counts and
// the problems found (there must be none).
// First: the app in process runs with the server's libuv pool size (src/threadpool.ts).
import '../src/threadpool';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startApp } from '../src/app';
import { catalogRelations, fuzzSql } from '../test/helpers/sql-fuzz';
import { numberArg } from './common';

async function main(): Promise<void> {
  const seconds = numberArg('seconds', 300);
  const seed = numberArg('seed', 17);
  const dataDir = mkdtempSync(join(tmpdir(), 'segtasks-sql-fuzz-'));
  const app = await startApp({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    auth: 'trust',
    logLevel: 'silent',
    say: () => {},
  });
  const config = { host: '127.0.0.1', port: app.port, user: 'admin', database: 'segtasks' };
  const admin = new pg.Client(config);
  await admin.connect();
  await admin.query("CREATE USER fuzzer WITH PASSWORD 'fuzzer-pw'");
  const plain = new pg.Client({ ...config, user: 'fuzzer' });
  await plain.connect();
  const probe = new pg.Client(config);
  await probe.connect();
  for (const c of [admin, plain]) await c.query("SET statement_timeout = '3s'");
  let slowest = 0;
  const relations = await catalogRelations(admin);
  const t0 = Date.now();
  const stats = await fuzzSql([plain, admin], relations, seed, {
    untilMs: t0 + seconds * 1000,
    health: async () => {
      const h0 = performance.now();
      await probe.query('SELECT 1');
      slowest = Math.max(slowest, performance.now() - h0);
    },
  });
  await Promise.all([admin.end(), plain.end(), probe.end()]);
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  const { problems, ...counts } = stats;
  process.stdout.write(
    `${JSON.stringify({ seconds, seed, relations: relations.length, ...counts, slowestHealthMs: Math.round(slowest) })}\n`,
  );
  for (const p of problems) process.stdout.write(`${p.kind}: ${p.detail}\n  ${p.sql}\n`);
  if (problems.length) process.exit(1);
}

void main();
