// bench/check_disk: verified bytes/s of check_disk against xxhsum -H3 over the same segment files (page cache),
// one device against one xxhsum and two devices against two xxhsum processes in parallel; sample mode against
// a full check of a 1 GiB table; engine overhead on 10,000 small segments; each in ROUNDS alternated rounds
// (results.ts). Then planning time and memory with 1,000,000 catalogued segments, once.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BATCH_SEGMENTS } from '../src/engine/check-disk';
import { demoData } from '../src/store/demo';
import { writeIdentity } from '../src/store/device-identity';
import { VerifyPool } from '../src/store/verify-pool';
import {
  machine,
  psqlAsync,
  runAsync,
  runBenchTask,
  schedStat,
  since,
  startBenchAppWithTable,
} from './common';
import { emitResult } from './results';
import { alternate, pairRatios, spread } from './stats';

const DEMO_MB = Number(process.env.BENCH_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SMALL_SEGMENTS = Number(process.env.BENCH_SMALL ?? 10_000);
const PLAN_SEGMENTS = Number(process.env.BENCH_PLAN ?? 1_000_000);

/**
 * CPU seconds of this process's finished children (user + system, /proc/self/stat cutime and cstime, in
 * clock ticks of 10 ms): what the xxhsum processes used, load or not.
 */
function childCpu(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

/** CPU seconds used by this process's threads (the server: wire, engine, verifier threads) while `fn` runs. */
async function withCpu<T>(fn: () => Promise<T>): Promise<{ value: T; cpu: number }> {
  const c0 = schedStat().cpu;
  const value = await fn();
  return { value, cpu: schedStat().cpu - c0 };
}

async function xxhsum(files: string[], cpu?: number[]): Promise<number> {
  const t = process.hrtime.bigint();
  const c0 = childCpu();
  const r = await runAsync('xxhsum', ['-H3', ...files]);
  if (r.code !== 0) throw new Error(r.err);
  cpu?.push(childCpu() - c0);
  return since(t);
}

/** A task's run time (started_at to finished_at); the server's CPU seconds during it go to `cpu`. */
async function taskSeconds(
  app: Parameters<typeof runBenchTask>[0],
  sql: string,
  cpu: number[],
): Promise<number> {
  const r = await withCpu(() => runBenchTask(app, sql));
  cpu.push(r.cpu);
  return r.value.seconds;
}

const median = (v: number[]) => spread(v).median;
const perGiB = (cpu: number[], bytes: number) => `${(median(cpu) / (bytes / 2 ** 30)).toFixed(3)} s/GiB`;

/**
 * Where the files go: tmpfs (/dev/shm) when there is one, where no other job's `drop_caches` (bench/copy and
 * bench/repair drop the page cache before each side) or memory reclaim can turn the page-cache comparison into
 * one of disk reads halfway through a round; TMPDIR when set, the system's temporary directory otherwise.
 */
function pageCacheDir(): string {
  if (process.env.TMPDIR) return tmpdir();
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const gbps = (b: number, s: number) => `${(b / s / 1e9).toFixed(2)} GB/s`;

async function main() {
  console.log(
    `bench/check_disk: check_disk vs xxhsum -H3 over the same segment files (page cache warm); sampling on a ${DEMO_MB} MiB table; overhead; planning; ${ROUNDS} alternated rounds`,
  );
  console.log(machine());
  const dir = mkdtempSync(join(pageCacheDir(), 'segtasks-bench-check-'));
  console.log(`segment files in ${dir}`);
  if (spawnSync('xxhsum', ['-V']).error) throw new Error('xxhsum is not installed (apt-get install xxhash)');
  const app = await startBenchAppWithTable(join(dir, 'data'), 'big', DEMO_MB * 1024 * 1024);
  const lines: string[] = [];
  const out = (l: string) => {
    console.log(l);
    lines.push(l);
  };
  try {
    const db = app.sqlite!.db;
    const devs = db
      .prepare("SELECT id, path FROM storage_devices WHERE node_name = 'node1' ORDER BY path")
      .all() as { id: string; path: string }[];
    const files = (deviceId: string) =>
      db.prepare('SELECT path FROM segments WHERE device_id = ?').pluck().all(deviceId) as string[];
    const [filesA, filesB] = devs.map((d) => files(d.id));
    await xxhsum([...filesA, ...filesB]); // warm the page cache
    const bytesOf = (list: string[]) =>
      db
        .prepare('SELECT sum(size_bytes) FROM segments WHERE path IN (SELECT value FROM json_each(?))')
        .pluck()
        .get(JSON.stringify(list)) as number;
    const idsOf = (list: string[]) =>
      (
        db
          .prepare('SELECT storage_id FROM segments WHERE path IN (SELECT value FROM json_each(?))')
          .pluck()
          .all(JSON.stringify(list)) as string[]
      )
        .map((i) => `'${i}'`)
        .join(',');

    // One device: one subtask, against one xxhsum process over the same files.
    const oneBytes = bytesOf(filesA);
    const oneCpu: number[] = [];
    const onePeerCpu: number[] = [];
    const one = await alternate(
      ROUNDS,
      () =>
        taskSeconds(
          app,
          `CREATE TASK TYPE check_disk OPTIONS parallelism = 1, storage_ids = [${idsOf(filesA)}]`,
          oneCpu,
        ),
      () => xxhsum(filesA, onePeerCpu),
    );
    const oneRatios = pairRatios(one.peer, one.ours);
    one.ours.forEach((s, i) => {
      out(
        `| ${i + 1} | one device | ${gbps(oneBytes, s)} | one xxhsum ${gbps(oneBytes, one.peer[i])} | ${oneRatios[i].toFixed(2)}x |`,
      );
    });
    out(
      `| cpu | one device | ${perGiB(oneCpu, oneBytes)} (server threads, median) | ${perGiB(onePeerCpu, oneBytes)} (xxhsum) | ${(median(oneCpu) / median(onePeerCpu)).toFixed(2)}x of xxhsum's CPU |`,
    );
    emitResult({
      target: 'check_disk.one',
      value: spread(oneRatios),
      detail: `${(oneBytes / 2 ** 20).toFixed(0)} MiB; CPU ${perGiB(oneCpu, oneBytes)}, xxhsum ${perGiB(onePeerCpu, oneBytes)}`,
    });

    // Two devices of one node (two subtasks side by side), against two xxhsum processes, one per device.
    const twoBytes = bytesOf([...filesA, ...filesB]);
    const twoCpu: number[] = [];
    const twoPeerCpu: number[] = [];
    const two = await alternate(
      ROUNDS,
      () =>
        taskSeconds(app, "CREATE TASK TYPE check_disk LOCATION NODE 'node1' OPTIONS parallelism = 2", twoCpu),
      async () => {
        const t = process.hrtime.bigint();
        const c0 = childCpu();
        await Promise.all([xxhsum(filesA), xxhsum(filesB)]);
        twoPeerCpu.push(childCpu() - c0);
        return since(t);
      },
    );
    const twoRatios = pairRatios(two.peer, two.ours);
    two.ours.forEach((s, i) => {
      out(
        `| ${i + 1} | two devices in parallel | ${gbps(twoBytes, s)} | two xxhsum in parallel ${gbps(twoBytes, two.peer[i])} | ${twoRatios[i].toFixed(2)}x |`,
      );
    });
    out(
      `| cpu | two devices in parallel | ${perGiB(twoCpu, twoBytes)} (server threads, median) | ${perGiB(twoPeerCpu, twoBytes)} (two xxhsum) | ${(median(twoCpu) / median(twoPeerCpu)).toFixed(2)}x of xxhsum's CPU |`,
    );
    emitResult({
      target: 'check_disk.two',
      value: spread(twoRatios),
      detail: `${(twoBytes / 2 ** 20).toFixed(0)} MiB; CPU ${perGiB(twoCpu, twoBytes)}, xxhsum ${perGiB(twoPeerCpu, twoBytes)}`,
    });

    // Sampling: the whole table checked at sample_rate 0.1 against a full check, both through the engine.
    const sampleCpu: number[] = [];
    const fullCpu: number[] = [];
    const sample = await alternate(
      ROUNDS,
      () =>
        taskSeconds(
          app,
          'CREATE TASK TYPE check_disk LOCATION CLUSTER cluster1 OPTIONS sample = true, sample_rate = 0.1',
          sampleCpu,
        ),
      () => taskSeconds(app, 'CREATE TASK TYPE check_disk LOCATION CLUSTER cluster1', fullCpu),
    );
    const sampleRatios = pairRatios(sample.ours, sample.peer);
    sample.ours.forEach((s, i) => {
      out(
        `| ${i + 1} | ${DEMO_MB} MiB table, sample_rate 0.1 vs full | ${s.toFixed(3)} s | full ${sample.peer[i].toFixed(3)} s | ${sampleRatios[i].toFixed(3)} of the full time |`,
      );
    });
    out(
      `| cpu | ${DEMO_MB} MiB table, sample_rate 0.1 vs full | ${median(sampleCpu).toFixed(3)} s (server threads, median) | full ${median(fullCpu).toFixed(3)} s | ${(median(sampleCpu) / median(fullCpu)).toFixed(3)} of the full check's CPU |`,
    );
    emitResult({
      target: 'check_disk.sample',
      value: spread(sampleRatios),
      detail: `${DEMO_MB} MiB table; CPU ${median(sampleCpu).toFixed(3)} s vs ${median(fullCpu).toFixed(3)} s`,
    });

    // Engine overhead: 10,000 small segments, the task against verifying the same files directly.
    const small = join(dir, 'small');
    const sdb = app.storage;
    await sdb.createStorageSpace('small_space', 6, 2, 4096);
    await sdb.createCluster('small', 'small_space');
    for (let n = 1; n <= 6; n++) {
      const p = join(small, `n${n}`);
      mkdirSync(p, { recursive: true });
      await sdb.createNode(`small_n${n}`, 'small', [{ path: p, capacity: 1e12 }]);
      // what CREATE NODE does besides the catalog: the device's identity file
      for (const d of await sdb.devices(`small_n${n}`)) await writeIdentity(d);
    }
    await sdb.createTable('small_t', 'small', '', 'admin');
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
    // The same verifier threads and batches as the task, without the engine: every batch handed to the
    // threads at once, so that they never wait (the floor of the verification itself); what the task takes
    // beyond that is the engine's (planning, catalog reads and writes, checkpoints, hand-offs).
    const pool = new VerifyPool();
    const smallCpu: number[] = [];
    const floorCpu: number[] = [];
    const overhead = await alternate(
      ROUNDS,
      () =>
        taskSeconds(
          app,
          'CREATE TASK TYPE check_disk LOCATION CLUSTER small OPTIONS parallelism = 1',
          smallCpu,
        ),
      async () => {
        const t0 = process.hrtime.bigint();
        const c0 = schedStat().cpu;
        const batches: Promise<unknown>[] = [];
        for (const list of byNode.values()) {
          for (let i = 0; i < list.length; i += BATCH_SEGMENTS) {
            batches.push(
              pool.verify(
                list.slice(i, i + BATCH_SEGMENTS).map((s) => ({
                  path: s.path,
                  expected: {
                    storageId: s.storage_id,
                    groupId: s.segment_group_id,
                    position: s.position,
                    payloadLength: s.shard_bytes,
                  },
                  sampleRate: 1,
                })),
              ),
            );
          }
        }
        await Promise.all(batches);
        floorCpu.push(schedStat().cpu - c0);
        return since(t0);
      },
    );
    await pool.close();
    const shares = overhead.ours.map((task, i) => ((task - overhead.peer[i]) / task) * 100);
    overhead.ours.forEach((task, i) => {
      out(
        `| ${i + 1} | ${smallSegs.length} small segments | task ${task.toFixed(3)} s | same verifier threads without the engine ${overhead.peer[i].toFixed(3)} s | overhead ${shares[i].toFixed(1)}% of the run |`,
      );
    });
    // The same in CPU, which the load hardly moves: the server's CPU per segment in the task and without it.
    const usPerSeg = (cpu: number[]) => `${((median(cpu) / smallSegs.length) * 1e6).toFixed(1)} us`;
    out(
      `| cpu | ${smallSegs.length} small segments | task ${usPerSeg(smallCpu)} per segment (server threads, median) | without the engine ${usPerSeg(floorCpu)} | engine ${(((median(smallCpu) - median(floorCpu)) / median(smallCpu)) * 100).toFixed(1)}% of the task's CPU |`,
    );
    emitResult({
      target: 'engine.overhead',
      value: spread(shares),
      detail: `${smallSegs.length} segments of 4 KiB; CPU ${usPerSeg(smallCpu)} per segment, ${usPerSeg(floorCpu)} without the engine`,
    });

    // Planning over 1,000,000 catalogued segments (rows only: the files do not exist).
    const tbl = await sdb.createTable('huge', 'cluster1', '', 'admin');
    const dev = db
      .prepare("SELECT id, node_name FROM storage_devices WHERE node_name LIKE 'node%' ORDER BY path")
      .all() as { id: string; node_name: string }[];
    const start = await sdb.reserveGroupIds(Math.ceil(PLAN_SEGMENTS / 6));
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
    const r = await psqlAsync(app, 'CREATE TASK planning TYPE check_disk');
    const stmtSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const id = /task ([0-9a-f-]{36})/.exec(r.err)?.[1];
    const subtasks = db.prepare('SELECT count(*) FROM subtasks WHERE task_id = ?').pluck().get(id) as number;
    await app.engine.cancel('planning');
    await app.engine.wait(id!);
    clearInterval(sampler);
    out(
      `| planning | ${inserted} segments catalogued (inserted in ${((Date.now() - tIns) / 1000).toFixed(1)} s) | CREATE TASK returned in ${stmtSeconds.toFixed(3)} s with ${subtasks} subtasks planned | peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB | targets < 1 s, < 5 s, < 1 GiB |`,
    );
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n| round | what | segtasks | reference | result |\n|---|---|---|---|---|');
  for (const l of lines) console.log(l);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
