// Work that runs behind a load, at most a few at a time (a COPY's groups made durable while the next ones are
// received): started in the order given, and waited for all at once at the end. The first failure is kept
// and the work not yet started is dropped.
export class BoundedQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;
  private idle: (() => void)[] = [];
  /** The first error of any work, or null. */
  failure: unknown = null;

  constructor(private readonly parallel: number) {}

  add(work: () => Promise<void>): void {
    if (this.failure) return;
    this.waiting.push(work);
    this.pump();
  }

  /** Resolves once nothing runs and nothing waits (never rejects: see `failure`). */
  settled(): Promise<void> {
    if (!this.running && !this.waiting.length) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.running < this.parallel && this.waiting.length) {
      const work = this.waiting.shift()!;
      this.running++;
      work()
        .catch((err) => {
          this.failure ??= err;
          this.waiting.length = 0;
        })
        .finally(() => {
          this.running--;
          this.pump();
          if (!this.running && !this.waiting.length) for (const done of this.idle.splice(0)) done();
        });
    }
  }
}
