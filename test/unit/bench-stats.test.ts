// The arithmetic of the benchmark summary (bench/stats.ts, bench/results.ts): medians and spreads of rounds,
// alternation of the two sides, the result lines and the one table of targets.
import test from 'ava';
import { emitResult, meets, parseResults, summaryTable, TARGETS } from '../../bench/results';
import { alternate, pairRatios, spread } from '../../bench/stats';

test('spread: median of an odd and an even count, min, max, n; nothing to summarize is an error', (t) => {
  t.deepEqual(spread([5, 1, 3]), { median: 3, min: 1, max: 5, n: 3 });
  t.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  t.deepEqual(spread([0.7]), { median: 0.7, min: 0.7, max: 0.7, n: 1 });
  t.throws(() => spread([]), { instanceOf: RangeError });
});

test('alternate runs ours then the peer in every round, each after its prepare step', async (t) => {
  const log: string[] = [];
  const r = await alternate(
    3,
    async (i) => {
      log.push(`ours${i}`);
      return i * 10;
    },
    async (i) => {
      log.push(`peer${i}`);
      return `p${i}`;
    },
    async (side, i) => {
      log.push(`prep-${side}${i}`);
    },
  );
  t.deepEqual(log, [
    'prep-ours0',
    'ours0',
    'prep-peer0',
    'peer0',
    'prep-ours1',
    'ours1',
    'prep-peer1',
    'peer1',
    'prep-ours2',
    'ours2',
    'prep-peer2',
    'peer2',
  ]);
  t.deepEqual(r, { ours: [0, 10, 20], peer: ['p0', 'p1', 'p2'] });
});

test('pairRatios divides round by round and refuses unequal sides', (t) => {
  t.deepEqual(pairRatios([2, 3, 8], [4, 3, 2]), [0.5, 1, 4]);
  t.throws(() => pairRatios([1], [1, 2]), { instanceOf: RangeError });
});

test('result lines survive other output, and meets() reads the target direction', (t) => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    emitResult({ target: 'rebuild', value: spread([0.7, 0.9, 0.85]), detail: 'MB/s' });
  } finally {
    console.log = log;
  }
  const out = `| a table row |\n${lines.join('\n')}\nBENCH_RESULTS are not this\n`;
  const parsed = parseResults(out);
  t.is(parsed.length, 1);
  t.is(parsed[0].target, 'rebuild');
  t.is(parsed[0].value.median, 0.85);
  const rebuild = TARGETS.find((x) => x.id === 'rebuild')!;
  const sample = TARGETS.find((x) => x.id === 'check_disk.sample')!;
  t.true(meets(rebuild, 0.8));
  t.false(meets(rebuild, 0.79));
  t.true(meets(sample, 0.15));
  t.false(meets(sample, 0.151));
});

test('summaryTable lists every target, measured or not, with its median, spread and verdict', (t) => {
  const table = summaryTable([
    { target: 'rebuild', value: spread([0.9, 0.7, 0.95, 0.85, 0.88]) },
    { target: 'engine.overhead', value: spread([12, 14, 11]) },
    { target: 'made.up', value: spread([1]) },
  ]);
  const rows = table.split('\n');
  t.is(rows.length, 2 + TARGETS.length + 1);
  const row = (what: string) => rows.find((r) => r.startsWith(`| ${what} |`))!;
  t.is(
    row(TARGETS.find((x) => x.id === 'rebuild')!.what),
    '| rebuild bytes/s vs read survivors + write with fsync, caches dropped | 0.88x | 0.70x-0.95x | 5 | >= 0.80x | yes |',
  );
  t.regex(
    row(TARGETS.find((x) => x.id === 'engine.overhead')!.what),
    /\| 12\.0% \| 11\.0%-14\.0% \| 3 \| <= 10\.0% \| no \|$/,
  );
  t.regex(row(TARGETS.find((x) => x.id === 'copy.in')!.what), /\| not measured \|/);
  t.regex(rows[rows.length - 1], /^\| made\.up \(no such target\) \|/);
});

test('a target without a goal (a recorded figure) shows its median, "recorded" and no verdict', (t) => {
  const cluster = TARGETS.find((x) => x.id === 'cluster.rebuild')!;
  t.is(meets(cluster, 0.5), null);
  const row = summaryTable([{ target: 'cluster.rebuild', value: spread([0.4, 0.5, 0.6]) }])
    .split('\n')
    .find((r) => r.startsWith(`| ${cluster.what} |`));
  t.is(row, `| ${cluster.what} | 0.50x | 0.40x-0.60x | 3 | recorded |  |`);
});
