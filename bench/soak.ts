// Soak: catalog queries, COPY loads and tasks together, the server killed with -9 at a random moment, again
// and again (bounded in rounds and time); after each restart every table is read back and compared byte by
// byte with what was loaded, and the store checked (every segment INTACT, no orphan or missing file).
//   node dist/bench/soak.js [--rounds 6] [--seconds 180] [--seed 16]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { connectAdmin, filesUnder, type ServerProcess, startServerProcess } from '../test/helpers/process';
import { rng } from '../test/helpers/protocol-fuzz';
import { createTopology } from '../test/helpers/topology';
import { machine, numberArg } from './common';

interface Loaded {
  data: Buffer;
  /** False while its COPY had not answered when the server was killed: then it may be empty or whole. */
  acknowledged: boolean;
}

function bytesOf(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(Math.floor(r() * 2 ** 32), i);
  return b;
}

async function readTable(c: pg.Client, table: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of c.query(copyTo(`COPY ${table} TO STDOUT WITH (FORMAT binary)`)))
    parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Load until stopped: COPY loaders, catalog readers and check_disk tasks, errors ignored (the kill ends them). */
function startLoad(port: number, r: () => number, tables: Map<string, Loaded>, round: number) {
  let stopping = false;
  const counts = { copies: 0, queries: 0, tasks: 0 };
  const loop = async (body: (c: pg.Client) => Promise<void>) => {
    let c: pg.Client | null = null;
    try {
      c = await connectAdmin(port);
      c.on('error', () => {});
      while (!stopping) await body(c);
    } catch {
      // the server was killed
    } finally {
      await c?.end().catch(() => {});
    }
  };
  let next = 0;
  const copier = (c: pg.Client) => async () => {
    const name = `soak_${round}_${next++}`;
    const data = bytesOf(r, 4096 * (1 + Math.floor(r() * 200)));
    await c.query(`CREATE TABLE ${name} (b bytea) IN CLUSTER c1`);
    const entry: Loaded = { data, acknowledged: false };
    tables.set(name, entry);
    await pipeline(Readable.from([data]), c.query(copyFrom(`COPY ${name} FROM STDIN WITH (FORMAT binary)`)));
    entry.acknowledged = true;
    counts.copies++;
  };
  const loops = [
    ...[0, 1].map(() => loop((c) => copier(c)())),
    ...[0, 1, 2].map(() =>
      loop(async (c) => {
        await c.query(
          'SELECT t.name, count(s.storage_id) FROM sys.tables t LEFT JOIN sys.segment_groups g ON g.table_id = t.id LEFT JOIN sys.segments s ON s.segment_group_id = g.id GROUP BY t.name',
        );
        await c.query('SELECT relname FROM pg_catalog.pg_class WHERE relnamespace = 11 LIMIT 50');
        counts.queries += 2;
      }),
    ),
    loop(async (c) => {
      await c.query('CREATE TASK TYPE check_disk');
      counts.tasks++;
      await new Promise((res) => setTimeout(res, 300));
    }),
  ];
  return {
    counts,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

async function main(): Promise<void> {
  const rounds = numberArg('rounds', 6);
  const seconds = numberArg('seconds', 180);
  const r = rng(numberArg('seed', 16));
  console.log(machine());
  const dataDir = mkdtempSync(join(tmpdir(), 'segtasks-soak-'));
  const deadline = Date.now() + seconds * 1000;
  const tables = new Map<string, Loaded>();
  let server: ServerProcess = await startServerProcess(dataDir);
  const totals = {
    rounds: 0,
    copies: 0,
    queries: 0,
    tasks: 0,
    tablesChecked: 0,
    bytesChecked: 0,
    inFlightAtKill: 0,
  };
  const restarts: number[] = [];
  const failures: string[] = [];
  try {
    const admin = await connectAdmin(server.port);
    await createTopology(admin, dataDir, { cluster: 'c1', segmentSize: 16384 });
    await admin.end();
    for (let round = 1; round <= rounds && Date.now() < deadline; round++) {
      const load = startLoad(server.port, r, tables, round);
      await new Promise((res) => setTimeout(res, 2000 + r() * 4000));
      await server.kill9();
      await load.stop();
      for (const k of ['copies', 'queries', 'tasks'] as const) totals[k] += load.counts[k];
      const t0 = Date.now();
      server = await startServerProcess(dataDir);
      const c = await connectAdmin(server.port);
      restarts.push((Date.now() - t0) / 1000);
      for (const [name, entry] of tables) {
        let got: Buffer;
        try {
          got = await readTable(c, name);
        } catch (e) {
          // A table whose CREATE never answered may not exist.
          if (!entry.acknowledged && (e as { code?: string }).code === '42P01') {
            tables.delete(name);
            continue;
          }
          failures.push(`round ${round}: ${name}: ${(e as Error).message}`);
          continue;
        }
        if (!entry.acknowledged) {
          totals.inFlightAtKill++;
          if (got.length && !got.equals(entry.data))
            failures.push(`round ${round}: ${name}: in-flight COPY left partial data`);
          // From now on the table holds what it holds.
          if (got.length) entry.acknowledged = true;
          else tables.delete(name);
        } else if (!got.equals(entry.data))
          failures.push(`round ${round}: ${name}: ${got.length} bytes, ${entry.data.length} loaded`);
        totals.tablesChecked++;
        totals.bytesChecked += got.length;
      }
      const statuses = (await c.query('SELECT status, count(*) AS n FROM sys.segments GROUP BY status')).rows;
      for (const s of statuses)
        if (s.status !== 'INTACT') failures.push(`round ${round}: ${s.n} segments ${s.status}`);
      const catalogued = new Set(
        (await c.query('SELECT path FROM sys.segments')).rows.map((x) => x.path as string),
      );
      const onDisk = filesUnder(join(dataDir, 'devices'));
      const orphans = onDisk.filter((p) => !catalogued.has(p));
      const missing = [...catalogued].filter((p) => !onDisk.includes(p));
      if (orphans.length || missing.length)
        failures.push(`round ${round}: ${orphans.length} orphan files, ${missing.length} missing`);
      await c.end();
      totals.rounds = round;
    }
  } finally {
    await server.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
  restarts.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      ...totals,
      tables: tables.size,
      restartMedianSeconds: restarts[Math.floor(restarts.length / 2)],
      restartMaxSeconds: restarts.at(-1),
      failures,
    }),
  );
  if (failures.length) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
