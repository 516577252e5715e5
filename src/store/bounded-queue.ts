// Work that runs behind a load, at most a few at a time (a COPY's groups made durable while the next ones are
// received): started in the order given, and waited for all at once at the end. The first failure is kept
// and the work not yet started is dropped.
export class BoundedQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;
  private idle: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** The first error of any work, or null: for a producer that stops adding once the work behind it failed. */
  failure: unknown = null;

  constructor(private readonly parallel: number) {}

  add(work: () => Promise<void>): void {
    if (this.failure) return;
    this.waiting.push(work);
    this.pump();
  }

  /** Resolves once nothing runs and nothing waits; rejects then with the first failure, if any work failed. */
  settled(): Promise<void> {
    if (!this.running && !this.waiting.length)
      return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.idle.push({ resolve, reject }));
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
          if (this.running || this.waiting.length) return;
          for (const { resolve, reject } of this.idle.splice(0))
            this.failure ? reject(this.failure) : resolve();
        });
    }
  }
}
