// segtasks_queries_total is read at scrape time from the latency histogram's counts per kind: each statement
// is observed once on the hot path, and the exposition is what a counter incremented per statement gave.
import test from 'ava';
import { Counter, Registry } from 'prom-client';
import type { CatalogObserver } from '../../catalog/observe';
import { Metrics } from '../../src/http/metrics';

const empty = async () => [];
const observer = {
  taskCounts: empty,
  bytesByType: empty,
  segmentCounts: empty,
  clusters: empty,
  nodes: empty,
  devices: empty,
  groupTolerance: empty,
} as unknown as CatalogObserver;

/** The lines of one metric (its HELP, TYPE and samples) out of an exposition. */
const section = (text: string, name: string) =>
  text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(`${name}{`) ||
        l.startsWith(`${name} `) ||
        l.endsWith(` ${name} counter`) ||
        l.startsWith(`# HELP ${name} `),
    )
    .join('\n');

test('queries_total per kind is the number of statements of that kind, as a per-statement counter gave it', async (t) => {
  const m = new Metrics(observer, { defaultMetrics: false });
  const theirs = new Registry();
  const counter = new Counter({
    name: 'segtasks_queries_total',
    help: 'Statements executed through the query handler, by kind of result',
    labelNames: ['kind'],
    registers: [theirs],
  });
  t.is(
    section(await m.text(), 'segtasks_queries_total'),
    section(await theirs.metrics(), 'segtasks_queries_total'),
    'none yet',
  );
  const kinds = ['rows', 'rows', 'command', 'error', 'rows', 'copyIn', 'copyOut', 'command'];
  for (const [i, kind] of kinds.entries()) {
    m.query(kind, i / 1000);
    counter.inc({ kind });
  }
  const text = await m.text();
  t.is(section(text, 'segtasks_queries_total'), section(await theirs.metrics(), 'segtasks_queries_total'));
  t.regex(text, /^segtasks_queries_total\{kind="rows"\} 3$/m);
  t.regex(text, /^segtasks_query_duration_seconds_count\{kind="rows"\} 3$/m);
  // a second scrape counts nothing twice, and later statements are added
  m.query('rows', 0.002);
  t.regex(await m.text(), /^segtasks_queries_total\{kind="rows"\} 4$/m);
  t.regex(await m.text(), /^segtasks_queries_total\{kind="command"\} 2$/m);
});
