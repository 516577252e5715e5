// Rate and ETA from successive samples of bytes_done, and the throughput series of the task plot.
import test from 'ava';
import {
  meanRate,
  ProgressTracker,
  parseCatalogTime,
  throughputSeries,
  windowRate,
} from '../../src/http/progress';

test('rate is measured over the recent window, ETA from what is left', (t) => {
  const p = new ProgressTracker(2000);
  const task = { id: 't1', status: 'RUNNING' as const, bytes_total: 10_000, bytes_done: 0 };
  t.deepEqual(p.rateEta(task, 1_000_000), { rate: null, etaSeconds: null });
  // 1000 B/s for 6 s, then 3000 B/s for 1 s: the 2 s window sees the last 2 s only.
  const at = [0, 1000, 2000, 3000, 4000, 5000, 6000];
  const done = [0, 1000, 2000, 3000, 4000, 5000, 6000];
  for (let i = 0; i < at.length; i++) p.record([{ id: 't1', bytes_done: done[i] }], 1_000_000 + at[i]);
  const r = p.rateEta({ ...task, bytes_done: 6000 }, 1_006_000);
  t.is(r.rate, 1000);
  t.is(r.etaSeconds, 4);
  p.record([{ id: 't1', bytes_done: 9000 }], 1_007_000);
  t.is(p.rateEta({ ...task, bytes_done: 9000 }, 1_007_000).rate, 2000);
  t.is(p.rateEta({ ...task, bytes_done: 9000 }, 1_007_000).etaSeconds, 0.5);
  // A reading newer than the last sample counts: 10 000 bytes at 1 007 500, against the oldest sample within
  // the 2 s window before it (6000 bytes at 1 006 000).
  t.is(p.rateEta({ ...task, bytes_done: 10_000 }, 1_007_500).rate, (10_000 - 6000) / 1.5);
  t.deepEqual(p.rateEta({ ...task, status: 'COMPLETE' as const }), { rate: null, etaSeconds: null });
});

test('a sample at the same instant as the last is ignored; series has one point per later sample', (t) => {
  const p = new ProgressTracker();
  p.record([{ id: 'a', bytes_done: 0 }], 10);
  p.record([{ id: 'a', bytes_done: 5 }], 10);
  p.record([{ id: 'a', bytes_done: 100 }], 1010);
  p.record([{ id: 'a', bytes_done: 300 }], 2010);
  t.is(p.samples('a').length, 3);
  t.deepEqual(
    throughputSeries(p.samples('a'), 1000).map((x) => x.rate),
    [100, 200],
  );
  t.is(windowRate(p.samples('a'), 5000), 150);
  t.is(windowRate([], 5000), null);
});

test('a task first seen while running starts from zero at its started_at; finished runs have a mean rate', (t) => {
  const p = new ProgressTracker();
  const started = '2026-12-01 11:23:47.000+00';
  const t0 = Date.parse('2026-12-01T11:23:47Z');
  t.is(parseCatalogTime(started), t0);
  p.record([{ id: 'x', bytes_done: 4000, started_at: started }], t0 + 2000);
  t.is(p.rateEta({ id: 'x', status: 'RUNNING', bytes_total: 8000, bytes_done: 4000 }, t0 + 2000).rate, 2000);
  t.is(meanRate({ bytes_done: 6000, started_at: started, finished_at: '2026-12-01 11:23:50.000+00' }), 2000);
  t.is(meanRate({ bytes_done: 6000, started_at: started, finished_at: null }), null);
});
