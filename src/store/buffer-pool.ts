// Large buffers reused from one segment group (or segment) to the next within a task's run: allocating and
// zero-filling a group's worth of memory for every group cost a rebuild a third of its CPU, most of it in the
// garbage collector. Buffers come back uninitialised: a user must fill every byte it reads.
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  constructor(
    /** At most this many idle buffers are kept per size. */
    private readonly keep = 4,
    /** Buffers in shared memory, which a worker thread can read without a copy (a COPY's segment writes). */
    private readonly shared = false,
  ) {}

  take(size: number): Buffer {
    const idle = this.free.get(size)?.pop();
    if (idle) return idle;
    return this.shared ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    const list = this.free.get(buf.length) ?? [];
    if (list.length < this.keep) list.push(buf);
    this.free.set(buf.length, list);
  }
}
