// What every benchmark hands to the summary of `npm run bench`: one line per measured target,
//   BENCH_RESULT {"target":"rebuild","value":{"median":0.83,"min":0.7,"max":0.9,"n":5},"detail":"..."}
// printed on stdout (emitResult). run-all.ts collects these lines from each benchmark's output and prints one
// table of every target of issue 14 against its result (summaryTable). A benchmark that measures a new
// target adds it to TARGETS and emits a line with its id; nothing else needs to know.
import type { Spread } from './stats';

export interface Target {
  id: string;
  what: string;
  /** Whether the median must be at least (>=) or at most (<=) `value`; absent: a figure recorded, no goal. */
  op?: '>=' | '<=';
  value?: number;
  /** How the value reads: a ratio (0.83x), a fraction (0.12 of the full time), a share (8% of the run), or
   * an absolute figure (ms, MiB). */
  unit: 'x' | 'of' | '%' | 'ms' | 'MiB';
}

export const TARGETS: Target[] = [
  {
    id: 'wire.simple',
    what: 'pgbench point SELECT, -M simple, 16 clients, vs PostgreSQL',
    op: '>=',
    value: 0.6,
    unit: 'x',
  },
  {
    id: 'wire.prepared',
    what: 'pgbench point SELECT, -M prepared, 16 clients, vs PostgreSQL',
    op: '>=',
    value: 0.5,
    unit: 'x',
  },
  {
    id: 'wire.p99',
    what: 'p99 latency at 16 clients vs PostgreSQL (lower is better)',
    op: '<=',
    value: 2,
    unit: 'x',
  },
  {
    id: 'stream.first_rows',
    what: '1,000,000-row cursor: time to first rows',
    op: '<=',
    value: 200,
    unit: 'ms',
  },
  { id: 'stream.rss', what: '1,000,000-row cursor: server RSS growth', op: '<=', value: 128, unit: 'MiB' },
  { id: 'stream.rows', what: '1,000,000-row cursor: rows/s vs PostgreSQL', op: '>=', value: 0.5, unit: 'x' },
  {
    id: 'rebuild',
    what: 'rebuild bytes/s vs read survivors + write with fsync, caches dropped',
    op: '>=',
    value: 0.8,
    unit: 'x',
  },
  {
    id: 'rebalance',
    what: 'rebalance bytes/s vs cp + sync of the same files, caches dropped',
    op: '>=',
    value: 0.8,
    unit: 'x',
  },
  {
    id: 'copy.in',
    what: 'COPY FROM of 256 MiB vs dd + fsync, caches dropped',
    op: '>=',
    value: 0.5,
    unit: 'x',
  },
  {
    id: 'copy.growth',
    what: 'COPY FROM time with ~100,000 segments catalogued vs into an empty catalog (issue 16)',
    op: '<=',
    value: 1.5,
    unit: 'x',
  },
  { id: 'copy.out', what: 'COPY TO of 256 MiB vs dd, caches dropped', op: '>=', value: 0.7, unit: 'x' },
  {
    id: 'check_disk.one',
    what: 'check_disk one device vs one xxhsum -H3 (page cache)',
    op: '>=',
    value: 1.0,
    unit: 'x',
  },
  {
    id: 'check_disk.two',
    what: 'check_disk two devices vs two xxhsum -H3 in parallel (page cache)',
    op: '>=',
    value: 0.9,
    unit: 'x',
  },
  {
    id: 'check_disk.sample',
    what: 'check_disk sample_rate 0.1 time vs full, 1 GiB table',
    op: '<=',
    value: 0.15,
    unit: 'of',
  },
  // Issue 13: over network namespaces (bench/cluster), recorded against a raw TCP copy, no goal stated.
  {
    id: 'cluster.rebuild',
    what: 'rebuild over netns, destination agents pull survivors, vs socat of the same bytes',
    unit: 'x',
  },
  {
    id: 'cluster.check_disk',
    what: 'check_disk on the agents (netns) vs socat of their segment files to the coordinator',
    unit: 'x',
  },
  {
    id: 'cluster.rebuild.local',
    what: 'rebuild over netns (on the agents) vs the same rebuild on in-process nodes, per rebuilt byte',
    unit: 'x',
  },
  {
    id: 'cluster.check_disk.local',
    what: 'check_disk on the agents (netns) vs check_disk of in-process nodes',
    unit: 'x',
  },
  {
    id: 'cluster.rebuild.tls',
    what: 'rebuild over netns with mutual TLS vs socat of the same bytes',
    unit: 'x',
  },
  {
    id: 'cluster.check_disk.tls',
    what: 'check_disk on the agents (netns, TLS on) vs socat of their segment files',
    unit: 'x',
  },
  {
    id: 'cluster.rebuild.tls_vs_plain',
    what: 'rebuild over netns with mutual TLS vs plain HTTP, alternated',
    unit: 'x',
  },
  {
    id: 'cluster.check_disk.tls_vs_plain',
    what: 'check_disk over netns with TLS vs plain HTTP, alternated',
    unit: 'x',
  },
  {
    id: 'engine.overhead',
    what: 'engine overhead, check_disk of 10,000 small segments',
    op: '<=',
    value: 10,
    unit: '%',
  },
];

export interface BenchResult {
  target: string;
  value: Spread;
  /** The absolute figures behind the ratio, for the record. */
  detail?: string;
}

const MARK = 'BENCH_RESULT ';

export function emitResult(r: BenchResult): void {
  console.log(MARK + JSON.stringify(r));
}

/** The result lines in a benchmark's output. */
export function parseResults(output: string): BenchResult[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith(MARK))
    .map((l) => JSON.parse(l.slice(MARK.length)) as BenchResult);
}

/** Whether a median meets the target's goal (null: the target has none). */
export function meets(t: Target, median: number): boolean | null {
  if (t.op === undefined || t.value === undefined) return null;
  return t.op === '>=' ? median >= t.value : median <= t.value;
}

function show(t: Target, v: number): string {
  switch (t.unit) {
    case 'x':
      return `${v.toFixed(2)}x`;
    case 'of':
      return v.toFixed(3);
    case '%':
      return `${v.toFixed(1)}%`;
    default:
      return `${v.toFixed(0)} ${t.unit}`;
  }
}

/** One markdown table: every target, its median and spread, and whether it is met (the last result wins). */
export function summaryTable(results: BenchResult[]): string {
  const byId = new Map(results.map((r) => [r.target, r]));
  const lines = ['| target | median | spread (min-max) | rounds | goal | met |', '|---|---|---|---|---|---|'];
  for (const t of TARGETS) {
    const r = byId.get(t.id);
    const goal = t.op !== undefined && t.value !== undefined ? `${t.op} ${show(t, t.value)}` : 'recorded';
    if (!r) {
      lines.push(`| ${t.what} | not measured | | | ${goal} | |`);
      continue;
    }
    const v = r.value;
    const met = meets(t, v.median);
    lines.push(
      `| ${t.what} | ${show(t, v.median)} | ${show(t, v.min)}-${show(t, v.max)} | ${v.n} | ${goal} | ${met === null ? '' : met ? 'yes' : 'no'} |`,
    );
  }
  const unknown = results.filter((r) => !TARGETS.some((t) => t.id === r.target));
  for (const r of unknown)
    lines.push(`| ${r.target} (no such target) | ${r.value.median} | | ${r.value.n} | | |`);
  return lines.join('\n');
}
