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

  /** Records the current bytes_done of each task given (the active ones, and any that just finished). */
  record(tasks: Pick<TaskSummary, 'id' | 'bytes_done'>[], at = Date.now()): void {
    for (const t of tasks) {
      let h = this.history.get(t.id);
      if (!h) {
        h = [];
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

  has(id: string): boolean {
    return this.history.has(id);
  }

  rateEta(t: Pick<TaskSummary, 'id' | 'status' | 'bytes_total' | 'bytes_done'>): RateEta {
    if (t.status !== 'RUNNING') return { rate: null, etaSeconds: null };
    const rate = windowRate(this.samples(t.id), this.windowMs);
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
