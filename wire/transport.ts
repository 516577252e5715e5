// The connection's byte channel (PostgreSQL's pqcomm.c): frames in through a queue that pauses the stream
// when it grows, messages out through a buffer flushed at protocol boundaries, and the switch to TLS.
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import { type Frame, Framer, type FramerLimits } from './framer';

/**
 * Messages at least this large are written as they are, in the same writev as their neighbours, instead of
 * being copied into one buffer with them: a COPY TO's payloads go from the store's buffers to the socket.
 */
export const WRITE_ALONE_BYTES = 64 * 1024;

/** Buffered output beyond which a result is flushed as it goes. */
const LARGE_OUTPUT_BYTES = 256 * 1024;

/** How long one connection may run without giving the event loop to the others. */
const YIELD_EVERY_MS = 5;

/** A queue of incoming frames that the state machine pulls from. */
class FrameQueue {
  private frames: Frame[] = [];
  private waiter: { resolve(f: Frame | null): void; reject(e: Error): void } | null = null;
  private closed = false;
  private failure: Error | null = null;
  onLow: (() => void) | null = null;

  push(f: Frame): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(f);
    } else this.frames.push(f);
  }
  /** Bad framing: frames already complete are still delivered, then next() throws the violation. */
  fail(err: Error): void {
    this.failure = err;
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }
  /** The client is gone: messages it sent but we have not run are dropped, as a closed backend would. */
  close(): void {
    this.closed = true;
    this.frames = [];
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(null);
    }
  }
  get length(): number {
    return this.frames.length;
  }
  /**
   * The next frame if it has arrived already (and, given `type`, is of that type: otherwise it stays queued);
   * null otherwise.
   */
  take(type?: number): Frame | null {
    const head = this.frames[0];
    if (!head || (type !== undefined && head.type !== type)) return null;
    this.frames.shift();
    if (this.frames.length < 8) this.onLow?.();
    return head;
  }
  next(): Promise<Frame | null> {
    const f = this.take();
    if (f) return Promise.resolve(f);
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }
}

/** Where messages are sent; they are buffered until a flush. */
export interface MessageSink {
  send(message: Buffer): void;
}

export class Transport implements MessageSink {
  private readonly framer: Framer;
  private readonly queue = new FrameQueue();
  private out: Buffer[] = [];
  private outBytes = 0;
  private lastYield = performance.now();
  /** Called when the stream closes (the connection aborts what it runs). */
  onClose: (() => void) | null = null;

  constructor(
    private stream: Duplex,
    limits: FramerLimits,
  ) {
    this.framer = new Framer(limits);
    this.attach(stream);
    this.queue.onLow = () => this.stream.resume();
  }

  private attach(stream: Duplex): void {
    (stream as Partial<{ setNoDelay(b: boolean): void }>).setNoDelay?.(true);
    stream.on('data', (data: Buffer) => {
      try {
        for (const f of this.framer.push(data)) this.queue.push(f);
        if (this.queue.length > 64) stream.pause();
      } catch (err) {
        this.queue.fail(err as Error);
        stream.pause();
      }
    });
    stream.on('error', () => this.queue.close());
    stream.on('close', () => {
      this.queue.close();
      this.onClose?.();
    });
  }

  /** The next message, or null when the client is gone. Throws ProtocolViolation on bad framing. */
  next(): Promise<Frame | null> {
    return this.queue.next();
  }

  /**
   * The next message if it has arrived already (given `type`, only if it is of that type: a COPY takes the
   * CopyData messages that are there in one go instead of a promise each); null otherwise, when next() waits.
   */
  nextIfQueued(type?: number): Frame | null {
    return this.queue.take(type);
  }

  /** The client has logged in: messages may now be as large as the configured limits. */
  markAuthenticated(): void {
    this.framer.authenticated = true;
  }

  /** True once the client's side has closed. */
  get clientGone(): boolean {
    return this.stream.destroyed || !this.stream.readable;
  }

  /**
   * Gives the event loop a turn when this connection has held it for more than a few milliseconds, so that
   * encoding a large result never delays the other connections for longer than that.
   */
  async yieldIfDue(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
  }

  /** Tells the framer that an untyped startup packet comes next (after an SSL or GSSENC answer). */
  expectStartupPacket(): void {
    this.framer.startup = true;
  }

  /** Bytes received but not yet framed: after SSLRequest there must be none (they would bypass TLS). */
  get pendingBytes(): number {
    return this.framer.pending;
  }

  /** Writes one unframed byte at once (the answer to SSLRequest). */
  writeByte(b: number): void {
    this.stream.write(Buffer.from([b]));
  }

  send(message: Buffer): void {
    const out = this.out;
    const last = out[out.length - 1];
    // A view that goes on where the last one ends, in the same memory (the pieces of a run of encoded rows,
    // cut where a FETCH or a send batch ended), is joined to it: the bytes are the same, written as one
    // buffer instead of being copied together with their neighbours.
    if (last && last.buffer === message.buffer && last.byteOffset + last.length === message.byteOffset)
      out[out.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + message.length);
    else out.push(message);
    this.outBytes += message.length;
  }

  /**
   * Writes what is buffered, in one corked batch (one writev): each run of small messages joined into one
   * buffer, each buffer of WRITE_ALONE_BYTES or more written as it is, not copied. Resolves when the stream
   * takes more (drain); with `written`, once every byte is in the kernel's hands, after which the caller may
   * reuse the buffers it sent.
   */
  async flush(opts: { written?: boolean } = {}): Promise<void> {
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    const stream = this.stream;
    if (!out.length || stream.destroyed) return;
    const writes: Buffer[] = [];
    let from = 0;
    let runBytes = 0;
    for (let i = 0; i <= out.length; i++) {
      if (i < out.length && out[i].length < WRITE_ALONE_BYTES) {
        runBytes += out[i].length;
        continue;
      }
      if (i > from) writes.push(i - from === 1 ? out[from] : Buffer.concat(out.slice(from, i), runBytes));
      if (i < out.length) writes.push(out[i]);
      from = i + 1;
      runBytes = 0;
    }
    let room = true;
    let lastWritten: Promise<void> | null = null;
    stream.cork();
    for (let i = 0; i < writes.length - 1; i++) room = stream.write(writes[i]);
    const last = writes[writes.length - 1];
    if (opts.written)
      // A write's callback comes after those of the writes before it: the last one's says they are all done.
      lastWritten = new Promise<void>((resolve) => stream.write(last, () => resolve()));
    else room = stream.write(last);
    stream.uncork();
    if (lastWritten) await this.until(lastWritten);
    else if (!room) await this.until('drain');
  }

  /** Waits for the last write (or for drain), or for the stream to close, whichever comes first. */
  private until(what: Promise<void> | 'drain'): Promise<void> {
    const stream = this.stream;
    return new Promise<void>((resolve) => {
      const done = () => {
        if (what === 'drain') stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      if (what === 'drain') stream.on('drain', done);
      else what.then(done);
      stream.on('close', done);
    });
  }

  /**
   * Flushes when much output is buffered, so a large result streams instead of piling up in memory; nothing
   * to wait for (no promise) otherwise, as after nearly every message.
   */
  flushIfLarge(): Promise<void> | undefined {
    return this.outBytes > LARGE_OUTPUT_BYTES ? this.flush() : undefined;
  }

  async upgradeToTls(context: SecureContext): Promise<void> {
    const plain = this.stream;
    plain.removeAllListeners('data');
    const tls = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.stream = tls;
    this.attach(tls);
    await new Promise<void>((resolve, reject) => {
      tls.once('secure', resolve);
      tls.once('error', reject);
    });
  }

  end(): void {
    this.stream.end();
    setTimeout(() => this.stream.destroy(), 1000).unref();
  }

  /** Closes at once, without waiting for output (authentication_timeout, as PostgreSQL's backend exits). */
  destroy(): void {
    this.stream.destroy();
  }
}
