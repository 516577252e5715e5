// A single-producer single-consumer queue of byte messages in shared memory, between two threads: the wire
// thread and the inline lane (lane.ts). Posting a message between threads (postMessage) costs a structured
// clone, a queued task and a wake-up of the other thread's event loop each time; a ring costs a copy of the
// bytes and an atomic store, and the reader takes every message waiting in one go.
//
// Layout: a header of Int32 cells (WRITE and READ: free-running byte counters, modulo 2^32; SIGNAL: bumped
// after every write, what a reader waits on; WAITING: the reader is waiting) and a data area whose size is a power of two (so the counters'
// wrap-around at 2^32 keeps positions right). A message is its length (u32) and its bytes, padded to 4 bytes;
// one that does not fit before the end of the area starts at 0, after a WRAP mark. Atomics give the order: the
// bytes are written before the WRITE store that publishes them, and read before the READ store that frees them.

const WRITE = 0;
const READ = 1;
const SIGNAL = 2;
/** Set while the reader waits (or is about to): only then does a write pay for a notify. */
const WAITING = 3;
/** Set while the writer waits for room (the same way). */
const ROOM_WAITING = 4;
const HEADER_CELLS = 8;
const WRAP = 0xffffffff;

export interface RingMemory {
  header: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Shared memory for a ring of `capacity` bytes (rounded up to a power of two). */
export function ringMemory(capacity: number): RingMemory {
  let size = 1024;
  while (size < capacity) size *= 2;
  return {
    header: new SharedArrayBuffer(HEADER_CELLS * 4),
    data: new SharedArrayBuffer(size),
  };
}

const padded = (n: number) => (n + 3) & ~3;

export class SharedRing {
  private readonly cells: Int32Array;
  private readonly data: Buffer;
  private readonly mask: number;

  constructor(memory: RingMemory) {
    this.cells = new Int32Array(memory.header);
    this.data = Buffer.from(memory.data);
    this.mask = this.data.length - 1;
  }

  /** The largest message that can ever be written. */
  get maxMessage(): number {
    return this.data.length / 2 - 4;
  }

  /** Writes one message and wakes the reader; false (nothing written) when there is no room for it now. */
  tryWrite(message: Uint8Array): boolean {
    const cap = this.data.length;
    if (message.length > this.maxMessage) return false;
    const w = Atomics.load(this.cells, WRITE) >>> 0;
    const used = (w - (Atomics.load(this.cells, READ) >>> 0)) >>> 0;
    let at = w & this.mask;
    const need = 4 + padded(message.length);
    // Positions are 4-aligned, so there is always room for the mark at the end.
    const skip = cap - at < need ? cap - at : 0;
    if (used + skip + need > cap) return false;
    if (skip) {
      this.data.writeUInt32LE(WRAP, at);
      at = 0;
    }
    this.data.writeUInt32LE(message.length, at);
    this.data.set(message, at + 4);
    Atomics.store(this.cells, WRITE, (w + skip + need) | 0);
    Atomics.add(this.cells, SIGNAL, 1);
    // A notify is a system call that wakes the other thread: paid only while the reader waits, and once per
    // wait (the first write clears WAITING; the reader, woken, takes every message there is). The reader sets
    // WAITING before it checks SIGNAL and waits, this side bumps SIGNAL before it reads WAITING (all
    // sequentially consistent): either this sees WAITING and notifies, or the reader sees the new SIGNAL and
    // does not wait.
    if (Atomics.compareExchange(this.cells, WAITING, 1, 0) === 1) Atomics.notify(this.cells, SIGNAL);
    return true;
  }

  /** The next message (a copy, the reader's to keep), or null when none is waiting. */
  read(): Buffer | null {
    const r = Atomics.load(this.cells, READ) >>> 0;
    if (r === Atomics.load(this.cells, WRITE) >>> 0) return null;
    let at = r & this.mask;
    let skip = 0;
    let length = this.data.readUInt32LE(at);
    if (length === WRAP) {
      skip = this.data.length - at;
      at = 0;
      length = this.data.readUInt32LE(0);
    }
    const message = Buffer.allocUnsafe(length);
    this.data.copy(message, 0, at + 4, at + 4 + length);
    Atomics.store(this.cells, READ, (r + skip + 4 + padded(length)) | 0);
    if (Atomics.compareExchange(this.cells, ROOM_WAITING, 1, 0) === 1) Atomics.notify(this.cells, READ);
    return message;
  }

  /** The SIGNAL count now: read it before draining, then wait on it (a write in between ends the wait). */
  get signal(): number {
    return Atomics.load(this.cells, SIGNAL);
  }

  /** Blocks this thread until a write after `seen` (worker threads only; the wire thread must not block). */
  waitForWrite(seen: number): void {
    Atomics.store(this.cells, WAITING, 1);
    Atomics.wait(this.cells, SIGNAL, seen);
    Atomics.store(this.cells, WAITING, 0);
  }

  /** A promise of the next write after `seen`, or null when there has been one already. */
  writeAfter(seen: number): Promise<unknown> | null {
    Atomics.store(this.cells, WAITING, 1);
    const w = Atomics.waitAsync(this.cells, SIGNAL, seen);
    if (!w.async) {
      Atomics.store(this.cells, WAITING, 0);
      return null;
    }
    return w.value.then(this.awake);
  }

  private readonly awake = () => Atomics.store(this.cells, WAITING, 0);

  /** Blocks this thread until the reader frees some room, or `ms` pass (worker threads only). */
  waitForRoom(ms: number): void {
    const r = Atomics.load(this.cells, READ);
    Atomics.store(this.cells, ROOM_WAITING, 1);
    Atomics.wait(this.cells, READ, r, ms);
    Atomics.store(this.cells, ROOM_WAITING, 0);
  }
}
