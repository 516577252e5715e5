// bench/copy: COPY FROM STDIN and COPY TO STDOUT through psql \copy, against dd writing (with fsync) and
// reading the same bytes, in the same run.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, ratio, startBenchApp, timed } from './common';

const MB = Number(process.env.BENCH_MB ?? 256);

async function main() {
  console.log(`bench/copy: COPY in and out of ${MB} MiB via psql \\copy (format binary) vs dd with fsync`);
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-copy-'));
  const file = join(dir, 'input.bin');
  writeFileSync(file, randomBytes(MB * 1024 * 1024));
  const app = await startBenchApp(join(dir, 'data'), 1024 * 1024);
  const dsn = `host=127.0.0.1 port=${app.port} user=admin dbname=segtasks`;
  const psqlArgs = (cmd: string) => [dsn, '-X', '-q', '-c', cmd];
  const psql = (cmd: string) => timed('psql', psqlArgs(cmd));
  try {
    await psql('CREATE TABLE bench (b bytea) IN CLUSTER cluster1');
    const bytes = MB * 1024 * 1024;
    const rows: string[] = [];
    for (let round = 1; round <= 2; round++) {
      const ddWrite = await timed('dd', [
        `if=${file}`,
        `of=${join(dir, 'dd.out')}`,
        'bs=4M',
        'conv=fsync',
        'status=none',
      ]);
      const copyIn = await psql(`\\copy bench from '${file}' with (format binary)`);
      const ddRead = await timed('dd', [`if=${join(dir, 'dd.out')}`, 'of=/dev/null', 'bs=4M', 'status=none']);
      const copyOut = await psql(`\\copy bench to '${join(dir, 'copy.out')}' with (format binary)`);
      const ddReadAndWrite = await timed('dd', [
        `if=${join(dir, 'dd.out')}`,
        `of=${join(dir, 'dd2.out')}`,
        'bs=4M',
        'status=none',
      ]);
      await psql('DROP TABLE bench');
      await psql('CREATE TABLE bench (b bytea) IN CLUSTER cluster1');
      const mbps = (s: number) => (bytes / s / 1e6).toFixed(0);
      rows.push(
        `| ${round} | in | ${mbps(copyIn)} | dd write+fsync ${mbps(ddWrite)} | ${ratio(ddWrite, copyIn)} |`,
        `| ${round} | out | ${mbps(copyOut)} | dd read->file ${mbps(ddReadAndWrite)} (dd read->null ${mbps(ddRead)}) | ${ratio(ddReadAndWrite, copyOut)} |`,
      );
      console.log(rows.slice(-2).join('\n'));
    }
    console.log('\n| round | direction | segtasks MB/s | reference MB/s | ratio |\n|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
