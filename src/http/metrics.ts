// Prometheus metrics. What the catalog knows (tasks, segments, devices, groups, bytes processed by tasks) is
// read at scrape time, so it is never stale and needs no hook in the engine or the store. What only the code
// that does it can count (queries, errors, latency, COPY bytes) goes through the typed methods below. A
// statement is observed once, into the latency histogram; the statement count per kind is that histogram's
// count, read at scrape time, not counted a second time on the hot path.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CatalogObserver } from '../../catalog/observe';
import { KindHistogram } from './kind-histogram';

/** Which task type's processed bytes mean what, for the _bytes_*_total counters. */
const BYTES_BY_TASK_TYPE: Record<string, string> = {
  check_disk: 'segtasks_bytes_verified_total',
  rebuild: 'segtasks_bytes_rebuilt_total',
  rebalance: 'segtasks_bytes_moved_total',
};

export interface MetricsOptions {
  /** Process metrics (memory, CPU, event-loop lag, GC); off in unit tests that count exact series. */
  defaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly errors: Counter<'sqlstate'>;
  private readonly latency: KindHistogram;
  private readonly copyBytes: Counter<'direction'>;
  private readonly logins: Counter<'result'>;

  constructor(observer: CatalogObserver, opts: MetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'segtasks_' });

    new Gauge({
      name: 'segtasks_tasks',
      help: 'Tasks in sys.tasks by type and status',
      labelNames: ['type', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const r of await observer.taskCounts()) this.set({ type: r.type, status: r.status }, r.n);
      },
    });
    for (const [type, name] of Object.entries(BYTES_BY_TASK_TYPE)) {
      new Counter({
        name,
        help: `Bytes processed by ${type} subtasks (sys.subtasks.bytes_done), by node and device`,
        labelNames: ['node', 'device'],
        registers,
        async collect() {
          this.reset();
          for (const r of await observer.bytesByType())
            if (r.type === type) this.inc({ node: r.node, device: r.device }, r.bytes);
        },
      });
    }
    new Gauge({
      name: 'segtasks_segments',
      help: 'Segments in sys.segments by cluster and status',
      labelNames: ['cluster', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const r of await observer.segmentCounts())
          this.set({ cluster: r.cluster, status: r.status }, r.n);
      },
    });
    const deviceGauge = (
      name: string,
      help: string,
      pick: (d: { capacity_bytes: number; used_bytes: number }) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['cluster', 'node', 'device'],
        registers,
        async collect() {
          this.reset();
          for (const d of await observer.devices())
            this.set({ cluster: d.cluster_name, node: d.node_name, device: d.path }, pick(d));
        },
      });
    deviceGauge('segtasks_device_capacity_bytes', 'Capacity of each storage device', (d) => d.capacity_bytes);
    deviceGauge('segtasks_device_used_bytes', 'Bytes of segments stored on each device', (d) => d.used_bytes);
    new Gauge({
      name: 'segtasks_nodes',
      help: 'Nodes by cluster and status (ONLINE, OFFLINE)',
      labelNames: ['cluster', 'status'],
      registers,
      async collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const n of await observer.nodes()) {
          const k = `${n.cluster_name}\0${n.status}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        for (const [k, n] of counts) {
          const [cluster, status] = k.split('\0');
          this.set({ cluster, status }, n);
        }
      },
    });
    new Gauge({
      name: 'segtasks_segment_groups_reduced_fault_tolerance',
      help: 'Segment groups with at least one segment that is not INTACT',
      labelNames: ['cluster'],
      registers,
      async collect() {
        this.reset();
        for (const c of await observer.clusters()) this.set({ cluster: c.name }, 0);
        for (const r of await observer.groupTolerance())
          if (r.tolerance < r.parity_width) this.inc({ cluster: r.cluster }, r.n);
      },
    });
    new Gauge({
      name: 'segtasks_segment_groups',
      help: 'Segment groups by cluster and remaining fault tolerance (further segment losses they survive; negative = data lost)',
      labelNames: ['cluster', 'tolerance'],
      registers,
      async collect() {
        this.reset();
        for (const r of await observer.groupTolerance())
          this.set({ cluster: r.cluster, tolerance: String(r.tolerance) }, r.n);
      },
    });

    // Registered before the histogram it reads (so the exposition keeps its order), hence the arrow.
    const latency = () => this.latency;
    new Counter({
      name: 'segtasks_queries_total',
      help: 'Statements executed through the query handler, by kind of result',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, n] of latency().counts()) this.inc({ kind }, n);
      },
    });
    this.errors = new Counter({
      name: 'segtasks_query_errors_total',
      help: 'Statements that failed, by SQLSTATE',
      labelNames: ['sqlstate'],
      registers,
    });
    this.latency = new KindHistogram(
      'segtasks_query_duration_seconds',
      'Time from planning a statement to its result (for COPY: to the end of the data)',
      'kind',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    );
    this.copyBytes = new Counter({
      name: 'segtasks_copy_bytes_total',
      help: 'COPY data bytes received from (in) and sent to (out) clients',
      labelNames: ['direction'],
      registers,
    });
    this.logins = new Counter({
      name: 'segtasks_console_logins_total',
      help: 'Web console login attempts by result (ok, failed)',
      labelNames: ['result'],
      registers,
    });
  }

  /** One statement finished (kind: rows, command, copyIn, copyOut, or error), taking `seconds`. */
  query(kind: string, seconds: number): void {
    this.latency.observe(kind, seconds);
  }

  queryError(sqlstate: string): void {
    this.errors.inc({ sqlstate });
  }

  copied(direction: 'in' | 'out', bytes: number): void {
    this.copyBytes.inc({ direction }, bytes);
  }

  login(ok: boolean): void {
    this.logins.inc({ result: ok ? 'ok' : 'failed' });
  }

  /**
   * A gauge read when scraped from the part that owns the number (the wire's connection count, the reader
   * pool's size), so that part needs no knowledge of metrics.
   */
  sampled(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
