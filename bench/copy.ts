// bench/copy: COPY FROM STDIN and COPY TO STDOUT of the same bytes through psql \copy (format binary), against
// dd writing them with fsync and dd reading them, in ROUNDS alternated rounds (segtasks, dd, segtasks, ...),
// the page cache dropped before each side. Emits the median and spread of the rounds' ratios (results.ts).
// Also prints the server's CPU time per COPY (the server runs in this process; psql's CPU is not counted): on
// a shared machine, whose load moves the MB/s, it is the figure that shows what a change saves.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropCaches, machine, startBenchApp, timed } from './common';
import { emitResult } from './results';
import { alternate, pairRatios, spread } from './stats';

const MB = Number(process.env.BENCH_MB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function main() {
  console.log(
    `bench/copy: COPY in and out of ${MB} MiB via psql \\copy (format binary) vs dd, ${ROUNDS} alternated rounds, caches dropped`,
  );
  console.log(machine());
  if (!dropCaches()) console.log('the page cache cannot be dropped here (not root): figures are warm-cache');
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-copy-'));
  const file = join(dir, 'input.bin');
  const bytes = MB * 1024 * 1024;
  writeFileSync(file, randomBytes(bytes));
  const app = await startBenchApp(join(dir, 'data'), 1024 * 1024);
  const dsn = `host=127.0.0.1 port=${app.port} user=admin dbname=segtasks`;
  const psql = (cmd: string) => timed('psql', [dsn, '-X', '-q', '-c', cmd]);
  // user + system CPU seconds of this process (all its threads) during each COPY, by direction.
  const cpu = { in: [] as number[], out: [] as number[] };
  const measured = async (direction: 'in' | 'out', run: () => Promise<number>) => {
    const before = process.cpuUsage();
    const seconds = await run();
    const used = process.cpuUsage(before);
    cpu[direction].push((used.user + used.system) / 1e6);
    return seconds;
  };
  const out = join(dir, 'out.bin');
  const dd = (args: string[]) => timed('dd', [...args, 'bs=4M', 'status=none']);
  try {
    await psql('CREATE TABLE bench (b bytea) IN CLUSTER cluster1');
    // In: the same file loaded by COPY (parity and an fsync of every segment included) and written by dd.
    const copyIn = await alternate(
      ROUNDS,
      () => measured('in', () => psql(`\\copy bench from '${file}' with (format binary)`)),
      async () => {
        const s = await dd([`if=${file}`, `of=${out}`, 'conv=fsync']);
        unlinkSync(out);
        return s;
      },
      async (side, round) => {
        if (side === 'ours' && round > 0) {
          await psql('DROP TABLE bench');
          await psql('CREATE TABLE bench (b bytea) IN CLUSTER cluster1');
        }
        dropCaches();
      },
    );
    // Out: the table read back by COPY into a file, and the same bytes copied file to file by dd.
    const copyOut = await alternate(
      ROUNDS,
      async () => {
        const s = await measured('out', () => psql(`\\copy bench to '${out}' with (format binary)`));
        unlinkSync(out);
        return s;
      },
      async () => {
        const s = await dd([`if=${file}`, `of=${out}`]);
        unlinkSync(out);
        return s;
      },
      async () => {
        dropCaches();
      },
    );
    const mbps = (s: number) => (bytes / s / 1e6).toFixed(0);
    const inRatios = pairRatios(copyIn.peer, copyIn.ours); // time ratio dd / COPY = bytes/s ratio COPY / dd
    const outRatios = pairRatios(copyOut.peer, copyOut.ours);
    const perGiB = (s: number) => ((s * 1024) / MB).toFixed(2);
    console.log(
      '\n| round | direction | segtasks MB/s | dd MB/s | ratio | server CPU s per GiB |\n|---|---|---|---|---|---|',
    );
    for (let i = 0; i < ROUNDS; i++)
      console.log(
        `| ${i + 1} | in | ${mbps(copyIn.ours[i])} | write + fsync ${mbps(copyIn.peer[i])} | ${inRatios[i].toFixed(2)}x | ${perGiB(cpu.in[i])} |`,
      );
    for (let i = 0; i < ROUNDS; i++)
      console.log(
        `| ${i + 1} | out | ${mbps(copyOut.ours[i])} | file to file ${mbps(copyOut.peer[i])} | ${outRatios[i].toFixed(2)}x | ${perGiB(cpu.out[i])} |`,
      );
    console.log(
      `server CPU per GiB, median: in ${perGiB(spread(cpu.in).median)} s, out ${perGiB(spread(cpu.out).median)} s`,
    );
    emitResult({
      target: 'copy.in',
      value: spread(inRatios),
      detail: `COPY FROM median ${mbps(spread(copyIn.ours).median)} MB/s, dd median ${mbps(spread(copyIn.peer).median)} MB/s`,
    });
    emitResult({
      target: 'copy.out',
      value: spread(outRatios),
      detail: `COPY TO median ${mbps(spread(copyOut.ours).median)} MB/s, dd median ${mbps(spread(copyOut.peer).median)} MB/s`,
    });
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
