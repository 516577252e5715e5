// bench/rebuild and bench/rebalance, in one run:
//   rebuild: rebuilt bytes/s against the I/O bound, i.e. reading the surviving shards (cat to /dev/null) plus
//            writing the rebuilt bytes with fsync (dd conv=fsync), measured in the same run.
//   rebalance: moved bytes/s against cp + sync of the same files.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, ratio, runBenchTask, startBenchApp, timed } from './common';

const DEMO_MB = Number(process.env.BENCH_MB ?? 256);

async function main() {
  console.log(
    `bench/rebuild + bench/rebalance on the embedded default with ${DEMO_MB} MiB (WIDTH 6, PARITY_WIDTH 2, 1 MiB segments)`,
  );
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-repair-'));
  const app = await startBenchApp(join(dir, 'data'), DEMO_MB * 1024 * 1024);
  const db = app.catalog.db;
  const rows: string[] = [];
  try {
    for (let round = 1; round <= 2; round++) {
      // Lose every segment on node1 (both disks) and one more per group on node2: two per group.
      const lost = db
        .prepare(
          "SELECT storage_id, path, size_bytes, segment_group_id FROM segments WHERE node_name IN ('node1', 'node2')",
        )
        .all() as { storage_id: string; path: string; size_bytes: number; segment_group_id: number }[];
      for (const s of lost) unlinkSync(s.path);
      app.storage.setSegmentStatus(
        lost.map((s) => ({ storageId: s.storage_id, status: 'MISSING' as const })),
      );
      const survivors = db
        .prepare(
          "SELECT path FROM segments WHERE status = 'INTACT' AND segment_group_id IN (SELECT DISTINCT segment_group_id FROM segments WHERE status = 'MISSING') ORDER BY segment_group_id, position",
        )
        .pluck()
        .all() as string[];
      // the rebuild reads k = 4 survivors of each group
      const perGroup = new Map<string, string[]>();
      for (const p of survivors) {
        const g = db.prepare('SELECT segment_group_id FROM segments WHERE path = ?').pluck().get(p) as number;
        const l = perGroup.get(String(g)) ?? [];
        if (l.length < 4) l.push(p);
        perGroup.set(String(g), l);
      }
      const readFiles = [...perGroup.values()].flat();
      const rebuiltBytes = lost.reduce((s, x) => s + x.size_bytes, 0);
      const r = await runBenchTask(app, 'CREATE TASK TYPE rebuild');
      if (r.status !== 'COMPLETE') throw new Error(`rebuild ${r.status}`);
      const tCat = await timed('sh', ['-c', `cat ${readFiles.join(' ')} > /dev/null`]);
      const tDd = await timed('dd', [
        'if=/dev/zero',
        `of=${join(dir, 'dd.out')}`,
        'bs=1M',
        `count=${Math.ceil(rebuiltBytes / 2 ** 20)}`,
        'conv=fsync',
        'status=none',
      ]);
      const ours = rebuiltBytes / r.wallSeconds;
      const bound = rebuiltBytes / (tCat + tDd);
      const line = `| ${round} | rebuild | ${(ours / 1e6).toFixed(0)} MB/s (${(rebuiltBytes / 2 ** 20).toFixed(0)} MiB in ${r.wallSeconds.toFixed(2)} s) | ${(bound / 1e6).toFixed(0)} MB/s (cat ${tCat.toFixed(2)} s + dd fsync ${tDd.toFixed(2)} s) | ${ratio(ours, bound)} |`;
      console.log(line);
      rows.push(line);
    }
    // Rebalance: one new disk on each of four nodes.
    for (let n = 1; n <= 4; n++) {
      const p = join(dir, 'data', 'devices', `node${n}`, 'disk3');
      mkdirSync(p, { recursive: true });
      app.storage.addDevice(`node${n}`, p, app.storage.devices(`node${n}`)[0].capacity_bytes);
    }
    const r = await runBenchTask(app, 'CREATE TASK TYPE rebalance OPTIONS threshold = 0.1');
    const moved = db
      .prepare(
        "SELECT r.storage_id, s.path, s.size_bytes FROM result_cache r JOIN segments s ON s.storage_id = r.storage_id WHERE r.task_id = ? AND r.result = 'MOVED'",
      )
      .all(r.id) as { path: string; size_bytes: number }[];
    const movedBytes = moved.reduce((s, x) => s + x.size_bytes, 0);
    const target = join(dir, 'cp');
    mkdirSync(target);
    const tCp = await timed('sh', ['-c', `cp ${moved.map((m) => m.path).join(' ')} ${target}/ && sync`]);
    const summary = db
      .prepare("SELECT detail FROM result_cache WHERE task_id = ? AND result = 'BALANCE'")
      .pluck()
      .all(r.id) as string[];
    const line = `| 1 | rebalance | ${(movedBytes / r.wallSeconds / 1e6).toFixed(0)} MB/s (${moved.length} segments, ${(movedBytes / 2 ** 20).toFixed(0)} MiB in ${r.wallSeconds.toFixed(2)} s) | ${(movedBytes / tCp / 1e6).toFixed(0)} MB/s (cp + sync ${tCp.toFixed(2)} s) | ${ratio(movedBytes / r.wallSeconds, movedBytes / tCp)} |`;
    console.log(line);
    console.log(`rebalance summary: ${summary.join('; ')}`);
    rows.push(line);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| round | task | segtasks | I/O reference | ratio |\n|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
