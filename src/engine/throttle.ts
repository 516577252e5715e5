// max_bytes_per_sec: a token bucket per device, shared by all subtasks of a task that read or write on that
// device (as Ceph's osd_recovery_max_bytes and the HDFS balancer's bandwidth count per disk, not per worker),
// and a meter of the rate a subtask actually reaches, for sys.subtasks.bytes_per_sec.

/** A token bucket: callers report bytes and wait until the rate allows them. The rate can change at any time. */
export class Throttle {
  private available: number;
  private last = Date.now();

  constructor(private bytesPerSec: number | null) {
    this.available = bytesPerSec ?? 0;
  }

  /** A new rate takes effect for the next caller; what is owed is kept, a burst is capped to one second. */
  setRate(bytesPerSec: number | null): void {
    this.refill();
    this.bytesPerSec = bytesPerSec;
    if (bytesPerSec) this.available = Math.min(this.available, bytesPerSec);
    else this.available = 0;
  }

  private refill(): void {
    const now = Date.now();
    if (this.bytesPerSec)
      this.available = Math.min(
        this.bytesPerSec,
        this.available + ((now - this.last) / 1000) * this.bytesPerSec,
      );
    this.last = now;
  }

  /** Waits until `bytes` more are allowed; stops waiting as soon as `signal` aborts (cancellation). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!this.bytesPerSec) return;
    this.refill();
    this.available -= bytes;
    if (this.available >= 0 || signal?.aborted) return;
    const wait = (-this.available / this.bytesPerSec) * 1000;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** One bucket per device, all at the task's max_bytes_per_sec. */
export class DeviceThrottles {
  private readonly buckets = new Map<string, Throttle>();

  constructor(private bytesPerSec: number | null) {}

  get rate(): number | null {
    return this.bytesPerSec;
  }

  setRate(bytesPerSec: number | null): void {
    this.bytesPerSec = bytesPerSec;
    for (const b of this.buckets.values()) b.setRate(bytesPerSec);
  }

  take(device: string, bytes: number, signal?: AbortSignal): Promise<void> {
    let b = this.buckets.get(device);
    if (!b) {
      b = new Throttle(this.bytesPerSec);
      this.buckets.set(device, b);
    }
    return b.take(bytes, signal);
  }
}

const METER_WINDOW_MS = 2000;

/** Bytes per second over the last two seconds (or since the meter started, if that is shorter). */
export class RateMeter {
  private readonly samples: { at: number; bytes: number }[] = [];
  private readonly started = Date.now();

  add(bytes: number): void {
    this.samples.push({ at: Date.now(), bytes });
  }

  rate(): number {
    const now = Date.now();
    while (this.samples.length && this.samples[0].at < now - METER_WINDOW_MS) this.samples.shift();
    const span = Math.max(250, Math.min(METER_WINDOW_MS, now - this.started));
    return (this.samples.reduce((s, x) => s + x.bytes, 0) * 1000) / span;
  }
}
