// Restart on an existing data directory: 100,000 catalogued segments (their files exist, empty: start-up
// reads no segment, but its scan sees directories of that size), the server killed with -9, then
// started again. Prints the time from spawning the process to the first answered query (ready for psql).
//   node dist/bench/restart.js
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { catalogPath } from '../catalog/db';
import { SEGMENT_SUFFIX, segmentDir } from '../src/store/segment-file';
import { connectAdmin, type ServerProcess, startServerProcess } from '../test/helpers/process';
import { createTopology } from '../test/helpers/topology';
import { machine } from './common';

const SEGMENTS = 100_000;
const WIDTH = 6;
const ROUNDS = 5;

/** Spawns the server and returns once a query has been answered, with the seconds that took. */
async function timedStart(dataDir: string): Promise<{ server: ServerProcess; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const server = await startServerProcess(dataDir);
  const c = await connectAdmin(server.port);
  await c.query('SELECT count(*) FROM sys.tasks');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.end();
  return { server, seconds };
}

async function main() {
  console.log(machine());
  const dataDir = mkdtempSync(join(tmpdir(), 'segtasks-bench-restart-'));
  try {
    let { server } = await timedStart(dataDir);
    const c = await connectAdmin(server.port);
    await createTopology(c, dataDir, { cluster: 'cluster1', segmentSize: 4096 });
    await c.query('CREATE TABLE big (b bytea) IN CLUSTER cluster1');
    await c.end();
    await server.stop();

    const db = new Database(catalogPath(dataDir));
    const table = db.prepare("SELECT id FROM tables WHERE name = 'big'").pluck().get() as string;
    const devices = db.prepare('SELECT id, node_name, path FROM storage_devices ORDER BY path').all() as {
      id: string;
      node_name: string;
      path: string;
    }[];
    for (const d of devices) mkdirSync(segmentDir(d.path), { recursive: true });
    const groups = Math.ceil(SEGMENTS / WIDTH);
    const ig = db.prepare(
      "INSERT INTO segment_groups (id, table_id, seq, cluster_name, width, parity_width, data_bytes, shard_bytes, status) VALUES (?, ?, ?, 'cluster1', 6, 2, 16384, 4096, 'INTACT')",
    );
    const is = db.prepare(
      "INSERT INTO segments (storage_id, segment_group_id, position, is_parity, node_name, device_id, path, size_bytes, status, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, 4168, 'INTACT', NULL)",
    );
    const tIns = Date.now();
    db.transaction(() => {
      for (let g = 1; g <= groups; g++) {
        ig.run(g, table, g - 1);
        for (let p = 0; p < WIDTH; p++) {
          // positions on different nodes: devices are ordered by path, two per node
          const d = devices[(p * 2 + (g % 2)) % devices.length];
          const id = randomUUID();
          const path = join(segmentDir(d.path), id + SEGMENT_SUFFIX);
          closeSync(openSync(path, 'w'));
          is.run(id, g, p, p >= 4 ? 1 : 0, d.node_name, d.id, path);
        }
      }
      db.prepare('UPDATE tables SET segment_groups = ?, bytes = ? WHERE id = ?').run(
        groups,
        groups * 16384,
        table,
      );
    })();
    const segments = db.prepare('SELECT count(*) FROM segments').pluck().get() as number;
    db.close();
    console.log(
      `catalogued ${segments} segments with their files in ${((Date.now() - tIns) / 1000).toFixed(1)} s`,
    );

    ({ server } = await timedStart(dataDir));
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await server.kill9();
      const r = await timedStart(dataDir);
      server = r.server;
      times.push(r.seconds);
    }
    await server.stop();
    times.sort((a, b) => a - b);
    console.log(
      `| restart after kill -9 | ${segments} segments | time to ready for psql: median ${times[Math.floor(ROUNDS / 2)].toFixed(2)} s, max ${times[ROUNDS - 1].toFixed(2)} s over ${ROUNDS} restarts | target < 2 s |`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
