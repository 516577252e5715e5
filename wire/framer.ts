// Cuts the client's byte stream into messages. The startup phase has untyped messages (Int32 length first);
// afterwards every message is a type byte plus an Int32 length that counts itself. The framer keeps at most
// one partial message buffered and refuses lengths over the limit before buffering them, so a client cannot
// make the server allocate more than the limit.

export class ProtocolViolation extends Error {
  readonly code = '08P01';
}

export interface Frame {
  /** Message type byte, or 0 for an untyped startup-phase message. */
  type: number;
  body: Buffer;
}

export interface FramerLimits {
  /** Largest message body accepted, except CopyData ('d'). */
  maxMessageBytes: number;
  /** Largest CopyData body accepted. */
  maxCopyDataBytes: number;
}

export class Framer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** True until the startup packet has been read: that phase has no type byte. */
  startup = true;

  constructor(private readonly limits: FramerLimits) {}

  /** Feeds bytes and returns every complete message they finish. Throws ProtocolViolation on bad framing. */
  push(data: Buffer): Frame[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Frame[] = [];
    for (;;) {
      const headerLen = this.startup ? 4 : 5;
      if (this.buffered < headerLen) break;
      const head = this.peek(headerLen);
      const type = this.startup ? 0 : head[0];
      const len = head.readInt32BE(this.startup ? 0 : 1);
      if (len < 4) throw new ProtocolViolation(`invalid message length ${len}`);
      const limit = type === 0x64 ? this.limits.maxCopyDataBytes : this.limits.maxMessageBytes;
      if (len - 4 > limit) {
        throw new ProtocolViolation(`message length ${len} exceeds the limit of ${limit} bytes`);
      }
      if (this.startup && len > 10_000) throw new ProtocolViolation(`invalid startup packet length ${len}`);
      const total = (this.startup ? 0 : 1) + len;
      if (this.buffered < total) break;
      const whole = this.take(total);
      frames.push({ type, body: whole.subarray(headerLen) });
      // Only the first message of a connection is untyped; SSLRequest/GSSENCRequest are followed by another
      // untyped startup packet, which the connection signals by setting startup back to true.
      if (this.startup) this.startup = false;
    }
    return frames;
  }

  /** Bytes received but not yet framed (used when the connection switches to TLS). */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    let out: Buffer;
    if (this.chunks[0].length >= n) {
      out = this.chunks[0].subarray(0, n);
      const rest = this.chunks[0].subarray(n);
      if (rest.length) this.chunks[0] = rest;
      else this.chunks.shift();
    } else {
      const joined = Buffer.concat(this.chunks);
      out = joined.subarray(0, n);
      const rest = joined.subarray(n);
      this.chunks = rest.length ? [rest] : [];
    }
    this.buffered -= n;
    return out;
  }
}

/** Reads the fields of one message body; every read is bounds-checked so a truncated message is a violation. */
export class BodyReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolViolation('message is truncated');
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new ProtocolViolation('message is truncated: missing string terminator');
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    if (n < 0) throw new ProtocolViolation(`invalid length ${n}`);
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  rest(): Buffer {
    const b = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return b;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** Asserts that the whole body was consumed: trailing bytes mean the client and we disagree on the format. */
  end(): void {
    if (this.pos !== this.buf.length) throw new ProtocolViolation('message has trailing bytes');
  }
}
