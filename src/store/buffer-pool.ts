// Large buffers reused from one segment group (or segment) to the next within a task's run: allocating and
// zero-filling a group's worth of memory for every group cost a rebuild a third of its CPU, most of it in the
// garbage collector. Buffers come back uninitialised: a user must fill every byte it reads.
export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  /** At most this many idle buffers are kept per size. */
  constructor(private readonly keep = 4) {}

  take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  give(buf: Buffer): void {
    const list = this.free.get(buf.length) ?? [];
    if (list.length < this.keep) list.push(buf);
    this.free.set(buf.length, list);
  }
}
