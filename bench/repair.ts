// bench/rebuild and bench/rebalance, each in ROUNDS alternated rounds (segtasks, reference, segtasks, ...),
// the page cache dropped before each side:
//   rebuild: rebuilt bytes/s against its I/O bound: reading the surviving shards it needs (cat to /dev/null)
//            plus writing the rebuilt bytes with fsync (dd conv=fsync), one after the other.
//   rebalance: moved bytes/s against cp + sync of the same files.
// Emits the median and spread of the rounds' ratios (results.ts).
// First: the app in process runs with the server's libuv pool size (src/threadpool.ts).
import '../src/threadpool';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../src/app';
import {
  dropCaches,
  machine,
  psqlAsync,
  runBenchTask,
  schedStat,
  startBenchAppWithTable,
  timed,
} from './common';
import { emitResult } from './results';
import { alternate, pairRatios, spread } from './stats';

const DEMO_MB = Number(process.env.BENCH_MB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function psql(app: App, sql: string): Promise<void> {
  const r = await psqlAsync(app, sql);
  if (r.code !== 0) throw new Error(`${sql}: ${r.err}`);
}

const mbps = (bytes: number, s: number) => `${(bytes / s / 1e6).toFixed(0)} MB/s`;

/** The CPU time this process's threads had during a task, and the time they were runnable without a CPU. */
function sched(before: ReturnType<typeof schedStat>, after: ReturnType<typeof schedStat>) {
  return { cpu: after.cpu - before.cpu, waited: after.waited - before.waited };
}

/** Every segment on node1 and node2 lost (two per group, the most a group can lose); what a rebuild reads. */
async function loseTwoNodes(app: App): Promise<{ rebuiltBytes: number; survivors: string[] }> {
  const db = app.sqlite!.db;
  const lost = db
    .prepare("SELECT storage_id, path, size_bytes FROM segments WHERE node_name IN ('node1', 'node2')")
    .all() as { storage_id: string; path: string; size_bytes: number }[];
  for (const s of lost) unlinkSync(s.path);
  await app.storage.setSegmentStatus(
    lost.map((s) => ({ storageId: s.storage_id, status: 'MISSING' as const })),
  );
  // The rebuild reads k = 4 survivors of each group: the lowest positions that are intact.
  const survivors = db
    .prepare(
      `SELECT path FROM (SELECT path, row_number() OVER (PARTITION BY segment_group_id ORDER BY position) AS n
         FROM segments WHERE status = 'INTACT') WHERE n <= 4`,
    )
    .pluck()
    .all() as string[];
  return { rebuiltBytes: lost.reduce((s, x) => s + x.size_bytes, 0), survivors };
}

async function benchRebuild(dir: string): Promise<void> {
  const app = await startBenchAppWithTable(join(dir, 'data'), 'data', DEMO_MB * 1024 * 1024);
  try {
    let round = { rebuiltBytes: 0, survivors: [] as string[] };
    const dd = join(dir, 'dd.out');
    const r = await alternate(
      ROUNDS,
      async () => {
        const before = schedStat();
        const t = await runBenchTask(app, 'CREATE TASK TYPE rebuild');
        const after = schedStat();
        if (t.status !== 'COMPLETE') throw new Error(`rebuild ended ${t.status}`);
        return { bytes: round.rebuiltBytes, seconds: t.seconds, ...sched(before, after) };
      },
      async () => {
        const cat = await timed('sh', ['-c', `cat ${round.survivors.join(' ')} > /dev/null`]);
        const write = await timed('dd', [
          'if=/dev/zero',
          `of=${dd}`,
          'bs=1M',
          `count=${Math.ceil(round.rebuiltBytes / 2 ** 20)}`,
          'conv=fsync',
          'status=none',
        ]);
        unlinkSync(dd);
        return { bytes: round.rebuiltBytes, cat, write };
      },
      async (side) => {
        if (side === 'ours') round = await loseTwoNodes(app);
        dropCaches();
      },
    );
    console.log(
      '\n| round | rebuild | CPU / waiting for a CPU | I/O bound (cat survivors + dd conv=fsync) | ratio |\n|---|---|---|---|---|',
    );
    const ours = r.ours.map((o) => o.bytes / o.seconds);
    const peer = r.peer.map((p) => p.bytes / (p.cat + p.write));
    const ratios = pairRatios(ours, peer);
    r.ours.forEach((o, i) => {
      const p = r.peer[i];
      console.log(
        `| ${i + 1} | ${mbps(o.bytes, o.seconds)} (${(o.bytes / 2 ** 20).toFixed(0)} MiB in ${o.seconds.toFixed(2)} s) | ${o.cpu.toFixed(2)} s / ${o.waited.toFixed(2)} s | ${mbps(p.bytes, p.cat + p.write)} (cat ${p.cat.toFixed(2)} s + dd ${p.write.toFixed(2)} s) | ${ratios[i].toFixed(2)}x |`,
      );
    });
    emitResult({
      target: 'rebuild',
      value: spread(ratios),
      detail: `segtasks median ${mbps(spread(ours).median, 1)}, bound median ${mbps(spread(peer).median, 1)}`,
    });
  } finally {
    await app.close();
  }
}

async function benchRebalance(dir: string): Promise<void> {
  let app: App | null = null;
  let moved: string[] = [];
  let movedBytes = 0;
  const target = join(dir, 'cp');
  try {
    const r = await alternate(
      ROUNDS,
      async () => {
        const before = schedStat();
        const t = await runBenchTask(app!, 'CREATE TASK TYPE rebalance OPTIONS threshold = 0.1');
        const after = schedStat();
        if (t.status !== 'COMPLETE') throw new Error(`rebalance ended ${t.status}`);
        const rows = app!
          .sqlite!.db.prepare(
            "SELECT s.path, s.size_bytes FROM result_cache r JOIN segments s ON s.storage_id = r.storage_id WHERE r.task_id = ? AND r.result = 'MOVED'",
          )
          .all(t.id) as { path: string; size_bytes: number }[];
        if (!rows.length) throw new Error('rebalance moved nothing');
        moved = rows.map((x) => x.path);
        movedBytes = rows.reduce((s, x) => s + x.size_bytes, 0);
        return { bytes: movedBytes, seconds: t.seconds, segments: rows.length, ...sched(before, after) };
      },
      async () => {
        mkdirSync(target);
        const seconds = await timed('sh', ['-c', `cp ${moved.join(' ')} ${target}/ && sync`]);
        rmSync(target, { recursive: true });
        return { bytes: movedBytes, seconds };
      },
      async (side, round) => {
        if (side === 'ours') {
          // A fresh embedded default each round, and one new disk on each of four nodes.
          await app?.close();
          rmSync(join(dir, 'data'), { recursive: true, force: true });
          app = await startBenchAppWithTable(join(dir, 'data'), 'data', DEMO_MB * 1024 * 1024);
          for (let n = 1; n <= 4; n++) {
            const p = join(dir, 'data', 'devices', `node${n}`, `disk-new-${round}`);
            mkdirSync(p, { recursive: true });
            await psql(app, `ALTER NODE node${n} ADD DEVICE '${p}'`);
          }
        }
        dropCaches();
      },
    );
    console.log(
      '\n| round | rebalance | CPU / waiting for a CPU | cp + sync of the same files | ratio |\n|---|---|---|---|---|',
    );
    const ours = r.ours.map((o) => o.bytes / o.seconds);
    const peer = r.peer.map((p) => p.bytes / p.seconds);
    const ratios = pairRatios(ours, peer);
    r.ours.forEach((o, i) => {
      console.log(
        `| ${i + 1} | ${mbps(o.bytes, o.seconds)} (${o.segments} segments, ${(o.bytes / 2 ** 20).toFixed(0)} MiB in ${o.seconds.toFixed(2)} s) | ${o.cpu.toFixed(2)} s / ${o.waited.toFixed(2)} s | ${mbps(r.peer[i].bytes, r.peer[i].seconds)} (${r.peer[i].seconds.toFixed(2)} s) | ${ratios[i].toFixed(2)}x |`,
      );
    });
    emitResult({
      target: 'rebalance',
      value: spread(ratios),
      detail: `segtasks median ${mbps(spread(ours).median, 1)}, cp + sync median ${mbps(spread(peer).median, 1)}`,
    });
  } finally {
    await (app as App | null)?.close();
  }
}

async function main() {
  console.log(
    `bench/rebuild + bench/rebalance on the embedded default with a table of ${DEMO_MB} MiB (WIDTH 6, PARITY_WIDTH 2, 1 MiB segments), ${ROUNDS} alternated rounds`,
  );
  console.log(machine());
  if (!dropCaches()) console.log('the page cache cannot be dropped here (not root): figures are warm-cache');
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-repair-'));
  try {
    await benchRebuild(join(dir, 'rebuild'));
    await benchRebalance(join(dir, 'rebalance'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
