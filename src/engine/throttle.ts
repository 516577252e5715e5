// A token bucket for max_bytes_per_sec: callers report bytes and wait until the rate allows them.
export class Throttle {
  private available: number;
  private last = Date.now();

  constructor(private readonly bytesPerSec: number | null) {
    this.available = bytesPerSec ?? 0;
  }

  /** Waits until `bytes` more are allowed; stops waiting as soon as `signal` aborts (cancellation). */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!this.bytesPerSec) return;
    const now = Date.now();
    this.available = Math.min(
      this.bytesPerSec,
      this.available + ((now - this.last) / 1000) * this.bytesPerSec,
    );
    this.last = now;
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
