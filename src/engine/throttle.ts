// A token bucket for max_bytes_per_sec: callers report bytes and wait until the rate allows them.
export class Throttle {
  private available: number;
  private last = Date.now();

  constructor(private readonly bytesPerSec: number | null) {
    this.available = bytesPerSec ?? 0;
  }

  /** Waits until `bytes` more are allowed; stops waiting early when `stop()` says so (cancellation). */
  async take(bytes: number, stop: () => boolean = () => false): Promise<void> {
    if (!this.bytesPerSec) return;
    const now = Date.now();
    this.available = Math.min(
      this.bytesPerSec,
      this.available + ((now - this.last) / 1000) * this.bytesPerSec,
    );
    this.last = now;
    this.available -= bytes;
    if (this.available < 0) {
      const until = Date.now() + (-this.available / this.bytesPerSec) * 1000;
      while (Date.now() < until && !stop()) {
        await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
      }
    }
  }
}
