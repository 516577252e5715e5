// The long run of the protocol fuzzer: node dist/bench/fuzz.js --seconds N [--seed S]. Prints the counts.
// First: the app in process runs with the server's libuv pool size (src/threadpool.ts).
import '../src/threadpool';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startApp } from '../src/app';
import { fuzzProtocol } from '../test/helpers/protocol-fuzz';
import { numberArg } from './common';

async function main(): Promise<void> {
  const seconds = numberArg('seconds', 60);
  const seed = numberArg('seed', 16);
  const dataDir = mkdtempSync(join(tmpdir(), 'segtasks-fuzz-'));
  const app = await startApp({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    auth: 'trust',
    logLevel: 'silent',
    say: () => {},
  });
  const probe = new pg.Client({ host: '127.0.0.1', port: app.port, user: 'admin', database: 'segtasks' });
  await probe.connect();
  let slowest = 0;
  const stats = await fuzzProtocol(app.port, seed, { untilMs: Date.now() + seconds * 1000 }, async () => {
    const t0 = performance.now();
    await probe.query('SELECT 1');
    slowest = Math.max(slowest, performance.now() - t0);
  });
  await probe.end();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify({ seconds, seed, ...stats, slowestHealthMs: Math.round(slowest) })}\n`,
  );
  if (stats.badFraming || stats.hangs) process.exit(1);
}

void main();
