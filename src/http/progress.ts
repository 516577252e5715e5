// Rate and ETA of running tasks, from successive samples of their bytes_done. The engine flushes progress to
// the catalog every 250 ms; sampling it every 500 ms and measuring over a few seconds gives a steady rate
// without touching the engine. The history of each task also feeds its throughput plot.
import type { TaskSummary } from '../../catalog/observe';

export interface Sample {
  /** Milliseconds since the epoch. */
  at: number;
  bytes: number;
}

export interface RateEta {
  /** Bytes per second over the recent window, or null before two samples exist. */
  rate: number | null;
  /** Seconds left at that rate, or null when unknown. */
  etaSeconds: number | null;
}

const MAX_SAMPLES = 1200; // 10 minutes at 2 per second; older samples are thinned out
const MAX_TASKS = 200;

export class ProgressTracker {
  private readonly history = new Map<string, Sample[]>();

  constructor(private readonly windowMs = 5000) {}

  /**
   * Records the current bytes_done of each task given (the active ones, and any that just finished). A task
   * seen for the first time starts from zero bytes at its started_at, so its rate is known from one sample.
   */
  record(
    tasks: (Pick<TaskSummary, 'id' | 'bytes_done'> & { started_at?: string | null })[],
    at = Date.now(),
  ): void {
    for (const t of tasks) {
      let h = this.history.get(t.id);
      if (!h) {
        h = [];
        const started = t.started_at ? parseCatalogTime(t.started_at) : null;
        if (started !== null && started < at) h.push({ at: started, bytes: 0 });
        this.history.set(t.id, h);
        if (this.history.size > MAX_TASKS) this.history.delete(this.history.keys().next().value!);
      }
      const last = h[h.length - 1];
      if (last && last.at >= at) continue;
      h.push({ at, bytes: t.bytes_done });
      if (h.length > MAX_SAMPLES) {
        // Keep the first sample (the plot's start) and every other one of the older half.
        const half = MAX_SAMPLES / 2;
        h.splice(1, half - 1, ...h.slice(1, half).filter((_, i) => i % 2 === 1));
      }
    }
  }

  samples(id: string): Sample[] {
    return this.history.get(id) ?? [];
  }

  /** Rate over the recent window up to the reading given (which may be newer than the last sample), and ETA. */
  rateEta(t: Pick<TaskSummary, 'id' | 'status' | 'bytes_total' | 'bytes_done'>, now = Date.now()): RateEta {
    if (t.status !== 'RUNNING') return { rate: null, etaSeconds: null };
    const h = this.samples(t.id);
    const current = h.length && now > h[h.length - 1].at ? [...h, { at: now, bytes: t.bytes_done }] : h;
    const rate = windowRate(current, this.windowMs);
    if (rate === null) return { rate: null, etaSeconds: null };
    const left = Math.max(0, t.bytes_total - t.bytes_done);
    return { rate, etaSeconds: rate > 0 ? left / rate : null };
  }
}

/** Bytes per second between sample `end` (default: the last) and the oldest one within windowMs before it. */
export function windowRate(h: Sample[], windowMs: number, end = h.length - 1): number | null {
  if (end < 1) return null;
  const last = h[end];
  let first = end - 1;
  while (first > 0 && last.at - h[first - 1].at <= windowMs) first--;
  const dt = (last.at - h[first].at) / 1000;
  return dt > 0 ? (last.bytes - h[first].bytes) / dt : null;
}

/** Throughput over time for a plot: one point per sample, the rate over the preceding windowMs. */
export function throughputSeries(h: Sample[], windowMs = 2000): { at: number; rate: number }[] {
  const out: { at: number; rate: number }[] = [];
  for (let i = 1; i < h.length; i++) {
    const r = windowRate(h, windowMs, i);
    if (r !== null) out.push({ at: h[i].at, rate: Math.max(0, r) });
  }
  return out;
}

/** Milliseconds since the epoch of a catalog timestamp ('2026-12-01 11:23:47.122+00'), or null. */
export function parseCatalogTime(text: string): number | null {
  const ms = Date.parse(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return Number.isNaN(ms) ? null : ms;
}

/** Mean bytes per second of a finished run, from its start and finish times. */
export function meanRate(t: Pick<TaskSummary, 'bytes_done' | 'started_at' | 'finished_at'>): number | null {
  const start = t.started_at ? parseCatalogTime(t.started_at) : null;
  const end = t.finished_at ? parseCatalogTime(t.finished_at) : null;
  if (start === null || end === null || end <= start) return null;
  return t.bytes_done / ((end - start) / 1000);
}
