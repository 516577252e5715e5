// bench/check_disk: verified bytes/s of check_disk against xxhsum -H3 over the same segment files (page cache),
// one device and two devices in parallel; sample mode against a full check; engine overhead on 10,000 small
// segments; planning time and memory with 1,000,000 catalogued segments.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoData } from '../src/store/demo';
import { VerifyPool } from '../src/store/verify-pool';
import { machine, ratio, runAsync, runBenchTask, startBenchApp } from './common';

const DEMO_MB = Number(process.env.BENCH_MB ?? 384);
const SMALL_SEGMENTS = Number(process.env.BENCH_SMALL ?? 10_000);
const PLAN_SEGMENTS = Number(process.env.BENCH_PLAN ?? 1_000_000);

async function xxhsum(files: string[]): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await runAsync('xxhsum', ['-H3', ...files]);
  if (r.code !== 0) throw new Error(r.err);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function main() {
  console.log(
    'bench/check_disk: check_disk vs xxhsum -H3 over the same segment files; sampling; overhead; planning',
  );
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-check-'));
  const app = await startBenchApp(join(dir, 'data'), DEMO_MB * 1024 * 1024);
  const lines: string[] = [];
  const out = (l: string) => {
    console.log(l);
    lines.push(l);
  };
  try {
    const db = app.catalog.db;
    const files = (node: string, path?: string) =>
      db
        .prepare(
          `SELECT s.path FROM segments s JOIN storage_devices d ON d.id = s.device_id WHERE s.node_name = ? ${path ? 'AND d.path = ?' : ''}`,
        )
        .pluck()
        .all(...(path ? [node, path] : [node])) as string[];
    const devs = db
      .prepare("SELECT path FROM storage_devices WHERE node_name = 'node1' ORDER BY path")
      .pluck()
      .all() as string[];
    const oneDev = files('node1', devs[0]);
    const bothDevs = files('node1');
    await xxhsum(bothDevs); // warm the page cache
    for (let round = 1; round <= 2; round++) {
      const x1 = await xxhsum(oneDev);
      const x2 = await xxhsum(bothDevs);
      const ids = (
        db
          .prepare('SELECT storage_id FROM segments WHERE path IN (SELECT value FROM json_each(?))')
          .pluck()
          .all(JSON.stringify(oneDev)) as string[]
      )
        .map((i) => `'${i}'`)
        .join(',');
      const c1 = await runBenchTask(
        app,
        `CREATE TASK TYPE check_disk OPTIONS parallelism = 1, storage_ids = [${ids}]`,
      );
      const c2 = await runBenchTask(
        app,
        "CREATE TASK TYPE check_disk LOCATION NODE 'node1' OPTIONS parallelism = 2",
      );
      const s1 = await runBenchTask(
        app,
        "CREATE TASK TYPE check_disk LOCATION NODE 'node1' OPTIONS parallelism = 2, sample = true, sample_rate = 0.1",
      );
      const gbps = (b: number, s: number) => (b / s / 1e9).toFixed(2);
      const x1r = c1.bytes / x1;
      out(
        `| ${round} | one device | ${gbps(c1.bytes, c1.seconds)} | ${gbps(c1.bytes, x1)} | ${ratio(c1.bytes / c1.seconds, x1r)} |`,
      );
      out(
        `| ${round} | two devices in parallel | ${gbps(c2.bytes, c2.seconds)} | ${gbps(c2.bytes, x2)} (one process) | ${ratio(c2.bytes / c2.seconds, c2.bytes / x2)} |`,
      );
      const all = db
        .prepare("SELECT path FROM segments WHERE node_name LIKE 'node%'")
        .pluck()
        .all() as string[];
      const xa = await xxhsum(all);
      const a1 = await runBenchTask(
        app,
        'CREATE TASK TYPE check_disk LOCATION CLUSTER cluster1 OPTIONS parallelism = 1',
      );
      const a2 = await runBenchTask(
        app,
        'CREATE TASK TYPE check_disk LOCATION CLUSTER cluster1 OPTIONS parallelism = 2',
      );
      const as = await runBenchTask(
        app,
        'CREATE TASK TYPE check_disk LOCATION CLUSTER cluster1 OPTIONS parallelism = 2, sample = true, sample_rate = 0.1',
      );
      out(
        `| ${round} | cluster, 12 devices, parallelism 1 | ${gbps(a1.bytes, a1.seconds)} | ${gbps(a1.bytes, xa)} (one process) | ${ratio(a1.bytes / a1.seconds, a1.bytes / xa)} |`,
      );
      out(
        `| ${round} | cluster, 12 devices, parallelism 2 | ${gbps(a2.bytes, a2.seconds)} | ${gbps(a2.bytes, xa)} (one process) | ${ratio(a2.bytes / a2.seconds, a2.bytes / xa)} |`,
      );
      out(
        `| ${round} | cluster sample_rate 0.1 vs full, time | ${as.seconds.toFixed(3)} s | ${a2.seconds.toFixed(3)} s | ${(as.seconds / a2.seconds).toFixed(2)} of full (target <= 0.15) |`,
      );
      out(
        `| ${round} | sample_rate 0.1 vs full, time | ${s1.seconds.toFixed(3)} s | ${c2.seconds.toFixed(3)} s | ${(s1.seconds / c2.seconds).toFixed(2)} of full (target <= 0.15) |`,
      );
    }

    // Engine overhead: 10,000 small segments, the task against verifying the same files directly.
    const small = join(dir, 'small');
    const sdb = app.storage;
    sdb.createStorageSpace('small_space', 6, 2, 4096);
    sdb.createCluster('small', 'small_space');
    for (let n = 1; n <= 6; n++) {
      const p = join(small, `n${n}`);
      mkdirSync(p, { recursive: true });
      sdb.createNode(`small_n${n}`, 'small', [{ path: p, capacity: 1e12 }]);
    }
    sdb.createTable('small_t', 'small', '', 'admin');
    const groups = Math.ceil(SMALL_SEGMENTS / 6);
    await app.store.load('small_t', demoData(groups * 4 * 4096));
    const smallSegs = db
      .prepare(
        "SELECT s.path, s.storage_id, s.segment_group_id, s.position, g.shard_bytes FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id WHERE s.node_name LIKE 'small_n%'",
      )
      .all() as {
      path: string;
      storage_id: string;
      segment_group_id: number;
      position: number;
      shard_bytes: number;
    }[];
    const byNode = new Map<string, typeof smallSegs>();
    for (const s of smallSegs) {
      const k = s.path.split('/').slice(-3, -2)[0];
      byNode.set(k, [...(byNode.get(k) ?? []), s]);
    }
    for (let round = 1; round <= 2; round++) {
      // The same verifier threads and batches as the task, without the engine: what is left is the engine.
      const pool = new VerifyPool();
      const t0 = process.hrtime.bigint();
      await Promise.all(
        [...byNode.values()].map(async (list) => {
          for (let i = 0; i < list.length; i += 64) {
            await pool.verify(
              list.slice(i, i + 64).map((s) => ({
                path: s.path,
                expected: {
                  storageId: s.storage_id,
                  groupId: s.segment_group_id,
                  position: s.position,
                  payloadLength: s.shard_bytes,
                },
                sampleRate: 1,
              })),
            );
          }
        }),
      );
      const direct = Number(process.hrtime.bigint() - t0) / 1e9;
      await pool.close();
      const task = await runBenchTask(
        app,
        'CREATE TASK TYPE check_disk LOCATION CLUSTER small OPTIONS parallelism = 1',
      );
      out(
        `| ${round} | ${smallSegs.length} small segments | task ${task.seconds.toFixed(3)} s | same verifier threads without the engine ${direct.toFixed(3)} s | overhead ${(((task.seconds - direct) / task.seconds) * 100).toFixed(1)}% of the run (target < 10%) |`,
      );
    }

    // Planning over 1,000,000 catalogued segments (rows only: the files do not exist).
    const tbl = sdb.createTable('huge', 'cluster1', '', 'admin');
    const dev = db
      .prepare("SELECT id, node_name FROM storage_devices WHERE node_name LIKE 'node%' ORDER BY path")
      .all() as { id: string; node_name: string }[];
    const start = sdb.reserveGroupIds(Math.ceil(PLAN_SEGMENTS / 6));
    const ig = db.prepare(
      "INSERT INTO segment_groups (id, table_id, seq, cluster_name, width, parity_width, data_bytes, shard_bytes, status) VALUES (?, ?, ?, 'cluster1', 6, 2, 4194304, 1048576, 'INTACT')",
    );
    const is = db.prepare(
      "INSERT INTO segments (storage_id, segment_group_id, position, is_parity, node_name, device_id, path, size_bytes, status, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, 1048648, 'INTACT', NULL)",
    );
    const tIns = Date.now();
    db.transaction(() => {
      for (let g = 0; g < Math.ceil(PLAN_SEGMENTS / 6); g++) {
        ig.run(start + g, tbl.id, g);
        for (let p = 0; p < 6; p++) {
          const d = dev[(g + p * 2) % dev.length];
          const id = randomUUID();
          is.run(id, start + g, p, p >= 4 ? 1 : 0, d.node_name, d.id, `/nonexistent/${id}.seg`);
        }
      }
    })();
    const inserted = db.prepare('SELECT count(*) FROM segments').pluck().get() as number;
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t0 = process.hrtime.bigint();
    const r = await runAsync('psql', [
      `host=127.0.0.1 port=${app.port} user=admin dbname=segtasks`,
      '-X',
      '-q',
      '-c',
      'CREATE TASK planning TYPE check_disk',
    ]);
    const stmtSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const id = /task ([0-9a-f-]{36})/.exec(r.err)?.[1];
    const subtasks = db.prepare('SELECT count(*) FROM subtasks WHERE task_id = ?').pluck().get(id) as number;
    app.engine.cancel('planning');
    await app.engine.wait(id!);
    clearInterval(sampler);
    out(
      `| planning | ${inserted} segments catalogued (inserted in ${((Date.now() - tIns) / 1000).toFixed(1)} s) | CREATE TASK returned in ${stmtSeconds.toFixed(3)} s with ${subtasks} subtasks planned | peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB | targets < 1 s, < 5 s, < 1 GiB |`,
    );
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| round | what | segtasks | reference | ratio |\n|---|---|---|---|---|');
  for (const l of lines) console.log(l);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
