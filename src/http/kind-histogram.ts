// A histogram with one label (the statement's kind), observed on the hot path of every statement. prom-client's
// Histogram validates and hashes the labels of every observation, several microseconds each, a measurable
// share of a point lookup's whole time on the wire thread; here an observation is a bucket search and three
// additions into arrays kept per kind. The registry reads it as it reads prom-client's own metrics (the same
// value objects, so the exposition is the same: le first, then kind; cumulative buckets, +Inf, _sum, _count).
import type { Metric, Registry } from 'prom-client';

/** One line of the exposition, as prom-client's metrics give them to the registry. */
interface Value {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
}

interface Exposed {
  name: string;
  help: string;
  type: 'histogram';
  aggregator: 'sum';
  values: Value[];
}

interface Observed {
  /** Observations per bucket, not cumulative; the last is +Inf's. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class KindHistogram {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly kinds = new Map<string, Observed>();

  constructor(
    readonly name: string,
    readonly help: string,
    /** The label's name ('kind'). */
    private readonly label: string,
    /** Upper bounds, ascending. */
    private readonly bounds: readonly number[],
    registers: Registry[],
  ) {
    for (const r of registers) r.registerMetric(this as unknown as Metric);
  }

  observe(kind: string, value: number): void {
    let o = this.kinds.get(kind);
    if (!o) {
      o = { buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.kinds.set(kind, o);
    }
    // The first bound at or above the value, as prom-client's findBound (le is "less than or equal").
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    o.buckets[i]++;
    o.sum += value;
    o.count++;
  }

  /** Each kind observed and how many times: a statement count per kind, read at scrape time. */
  *counts(): IterableIterator<[kind: string, count: number]> {
    for (const [kind, o] of this.kinds) yield [kind, o.count];
  }

  /** As prom-client's Histogram.getForPromString: the kind as a shared label of each value. */
  async getForPromString(): Promise<Exposed> {
    return this.exposed(true);
  }

  async get(): Promise<Exposed> {
    return this.exposed(false);
  }

  private exposed(shared: boolean): Exposed {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.values(shared),
    };
  }

  private values(shared: boolean): Value[] {
    const out: Value[] = [];
    for (const [kind, o] of this.kinds) {
      const own = { [this.label]: kind };
      const value = (metricName: string, labels: Record<string, string | number>, v: number) =>
        shared
          ? { metricName, labels, sharedLabels: own, value: v }
          : { metricName, labels: { ...labels, ...own }, value: v };
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += o.buckets[i];
        out.push(value(`${this.name}_bucket`, { le }, acc));
      });
      out.push(value(`${this.name}_bucket`, { le: '+Inf' }, o.count));
      out.push(value(`${this.name}_sum`, {}, o.sum));
      out.push(value(`${this.name}_count`, {}, o.count));
    }
    return out;
  }
}
