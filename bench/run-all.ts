// npm run bench: every benchmark in turn (each also runs alone: node dist/bench/<name>.js), then one table of
// every target of issue 14 against the results the benchmarks emitted (results.ts). `npm run bench -- copy
// repair` runs only those. A benchmark is a file here that emits BENCH_RESULT lines; add its name to BENCHES.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type BenchResult, parseResults, summaryTable } from './results';

const BENCHES = ['wire', 'stream', 'copy', 'copy-growth', 'check-disk', 'repair', 'restart', 'cluster'];

/** Runs one benchmark, passing its output through, and returns what it printed on stdout. */
function run(name: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(__dirname, `${name}.js`)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      out += d.toString();
    });
    p.on('close', (code) => resolve({ code, out }));
  });
}

async function main(): Promise<void> {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((n) => !BENCHES.includes(n));
  if (unknown.length)
    throw new Error(`unknown benchmark ${unknown.join(', ')}; there are ${BENCHES.join(', ')}`);
  const results: BenchResult[] = [];
  const started = Date.now();
  for (const name of chosen.length ? chosen : BENCHES) {
    console.log(`\n=== bench/${name}`);
    const t = Date.now();
    const r = await run(name);
    console.log(
      `=== bench/${name}: ${r.code === 0 ? 'done' : `FAILED (exit ${r.code})`} in ${((Date.now() - t) / 1000).toFixed(0)} s`,
    );
    if (r.code !== 0) process.exitCode = 1;
    results.push(...parseResults(r.out));
  }
  console.log(
    `\n=== summary (${((Date.now() - started) / 60000).toFixed(1)} min; medians of alternated rounds)\n`,
  );
  console.log(summaryTable(results));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
