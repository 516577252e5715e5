// bench/copy-growth: does COPY FROM slow down as the catalog grows? Issue 16 saw 200 MB into a table of 4 KiB
// segments take 25 s, and 86 s later on the same server. Two servers with the same topology (4 KiB segments:
// a group holds 4 x 4 KiB of data, so 20 MiB makes ~7,700 segment rows): one whose catalog already holds
// ~100,000 segments, one whose catalog is empty. The same file is loaded into each in alternated rounds
// (full, empty, full, ...; the table dropped after each COPY, so both catalogs stay as they were), and the
// figure is the median of the rounds' time ratios full / empty: 1.0 when a COPY's cost does not depend on what
// is already catalogued.
// First: the app in process runs with the server's libuv pool size (src/threadpool.ts).
import '../src/threadpool';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../src/app';
import { filler, machine, numberArg, psqlAsync, startBenchApp, timed } from './common';
import { emitResult } from './results';
import { alternate, pairRatios, spread } from './stats';

const MB = numberArg('mb', 20);
const ROUNDS = numberArg('rounds', Number(process.env.BENCH_ROUNDS ?? 5));
const PREFILL_SEGMENTS = numberArg('segments', 100_000);
const SEGMENT = 4096;

async function sql(app: App, s: string): Promise<string> {
  const r = await psqlAsync(app, s);
  if (r.code !== 0) throw new Error(`${s}: ${r.err}`);
  return r.out;
}

async function segmentCount(app: App): Promise<number> {
  return Number((await sql(app, 'SELECT count(*) FROM sys.segments')).match(/\d+/)?.[0]);
}

/** A server with six nodes of one device each, in a storage space of 4 KiB segments. */
async function startServer(dir: string): Promise<App> {
  const app = await startBenchApp(join(dir, 'data'), 0);
  await sql(app, `CREATE STORAGESPACE g WIDTH 6 PARITY_WIDTH 2 SEGMENT_SIZE ${SEGMENT}`);
  await sql(app, 'CREATE CLUSTER gc STORAGESPACE g');
  for (let n = 1; n <= 6; n++) {
    const dev = join(dir, 'devices', `n${n}`);
    mkdirSync(dev, { recursive: true });
    await sql(app, `CREATE NODE gn${n} IN CLUSTER gc DEVICES ('${dev}')`);
  }
  return app;
}

async function main(): Promise<void> {
  console.log(
    `bench/copy-growth: COPY of ${MB} MiB into 4 KiB segments, a catalog of ~${PREFILL_SEGMENTS} segments vs an empty one, ${ROUNDS} alternated rounds`,
  );
  console.log(machine());
  const root = mkdtempSync(join(tmpdir(), 'segtasks-bench-growth-'));
  const file = join(root, 'input.bin');
  writeFileSync(file, randomBytes(MB * 1024 * 1024));
  const full = await startServer(join(root, 'full'));
  const empty = await startServer(join(root, 'empty'));
  try {
    // The prefill goes through the store directly (the COPY path without the client), 20 MiB per table.
    for (let i = 0; (await segmentCount(full)) < PREFILL_SEGMENTS; i++) {
      await sql(full, `CREATE TABLE prefill${i} (b bytea) IN CLUSTER gc`);
      await full.store.load(`prefill${i}`, filler(20 * 1024 * 1024));
    }
    console.log(`full catalog: ${await segmentCount(full)} segments; empty: ${await segmentCount(empty)}`);
    const copyInto = async (app: App) => {
      await sql(app, 'CREATE TABLE t (b bytea) IN CLUSTER gc');
      const dsn = `host=127.0.0.1 port=${app.port} user=admin dbname=segtasks`;
      const s = await timed('psql', [dsn, '-X', '-q', '-c', `\\copy t from '${file}' with (format binary)`]);
      await sql(app, 'DROP TABLE t');
      return s;
    };
    const r = await alternate(
      ROUNDS,
      () => copyInto(full),
      () => copyInto(empty),
    );
    for (let i = 0; i < ROUNDS; i++)
      console.log(`round ${i + 1}: full ${r.ours[i].toFixed(2)} s, empty ${r.peer[i].toFixed(2)} s`);
    const s = spread(pairRatios(r.ours, r.peer));
    console.log(`full / empty: median ${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})`);
    emitResult({
      target: 'copy.growth',
      value: s,
      detail: `${MB} MiB per COPY; full median ${spread(r.ours).median.toFixed(2)} s, empty ${spread(r.peer).median.toFixed(2)} s`,
    });
  } finally {
    await full.close();
    await empty.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
