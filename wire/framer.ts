// Cuts the client's byte stream into messages. The startup phase has untyped messages (Int32 length first);
// afterwards every message is a type byte plus an Int32 length that counts itself. The framer keeps at most
// one partial message buffered and refuses lengths over the limit before buffering them, so a client cannot
// make the server allocate more than the limit. A message's body is a view of the socket's chunk it arrived in
// whenever it lies inside one (no copy); only messages that span chunks are copied.
import { ProtocolViolation } from './fatal';
import { FrontendCode } from './message-codes';

export interface Frame {
  /** Message type byte, or 0 for an untyped startup-phase message. */
  type: number;
  body: Buffer;
}

export interface FramerLimits {
  /** Largest message body accepted, except CopyData. */
  maxMessageBytes: number;
  /** Largest CopyData body accepted. */
  maxCopyDataBytes: number;
}

/**
 * Before authentication every message is small (password, SASL exchange): PostgreSQL caps them too
 * (PG_MAX_AUTH_TOKEN_LENGTH), so a client that has not logged in cannot make the server buffer more.
 */
export const MAX_UNAUTHENTICATED_MESSAGE_BYTES = 8192;

/** PostgreSQL's MAX_STARTUP_PACKET_LENGTH. */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

export class Framer {
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already framed: the chunk is not re-sliced after each message. */
  private offset = 0;
  private buffered = 0;
  /** True until the startup packet has been read: that phase has no type byte. */
  startup = true;
  /** False until the client has logged in: until then messages are held to MAX_UNAUTHENTICATED_MESSAGE_BYTES. */
  authenticated = false;

  constructor(private readonly limits: FramerLimits) {}

  /** Feeds bytes and returns every complete message they finish. Throws ProtocolViolation on bad framing. */
  push(data: Buffer): Frame[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const frames: Frame[] = [];
    for (;;) {
      const headerLen = this.startup ? 4 : 5;
      if (this.buffered < headerLen) break;
      // The header read in place when it lies in the first chunk (nearly always): a message then costs one
      // Buffer object, its body's view, however many messages the chunk holds.
      const first = this.chunks[0];
      const inFirst = first.length - this.offset >= headerLen;
      const head = inFirst ? first : this.peek(headerLen);
      const at = inFirst ? this.offset : 0;
      const type = this.startup ? 0 : head[at];
      const len = head.readInt32BE(at + (this.startup ? 0 : 1));
      if (len < 4) throw new ProtocolViolation(`invalid message length ${len}`);
      const limit = !this.authenticated
        ? MAX_UNAUTHENTICATED_MESSAGE_BYTES
        : type === FrontendCode.CopyData
          ? this.limits.maxCopyDataBytes
          : this.limits.maxMessageBytes;
      if (this.startup && len > MAX_STARTUP_PACKET_BYTES)
        throw new ProtocolViolation(`invalid startup packet length ${len}`);
      if (len - 4 > limit) {
        throw new ProtocolViolation(`message length ${len} exceeds the limit of ${limit} bytes`);
      }
      const total = (this.startup ? 0 : 1) + len;
      if (this.buffered < total) break;
      frames.push({ type, body: this.takeBody(total, headerLen) });
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

  /** A copy of the first n buffered bytes (n <= buffered), which span chunks. */
  private peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    let from = this.offset;
    for (let i = 0; at < n; i++) {
      const chunk = this.chunks[i];
      at += chunk.copy(out, at, from, Math.min(chunk.length, from + n - at));
      from = 0;
    }
    return out;
  }

  /**
   * Removes the first n buffered bytes (n <= buffered) and returns them without their first `skip` (the
   * header). A message inside the first chunk is a view of it, with no copy (a COPY's payload goes from the
   * socket's buffer to the store as it is); only a message that spans chunks is copied, into a buffer of its
   * own size: the chunks it ends in stay as they are.
   */
  private takeBody(n: number, skip: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    const start = this.offset;
    if (first.length - start >= n) {
      if (first.length - start > n) this.offset = start + n;
      else {
        this.chunks.shift();
        this.offset = 0;
      }
      return first.subarray(start + skip, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    let i = 0;
    let from = start;
    let rest = 0;
    for (; at < n; i++) {
      const chunk = this.chunks[i];
      const used = Math.min(chunk.length - from, n - at);
      chunk.copy(out, at, from, from + used);
      at += used;
      if (from + used < chunk.length) {
        rest = from + used;
        break;
      }
      from = 0;
    }
    // One splice: a large message can span thousands of chunks.
    this.chunks.splice(0, i);
    this.offset = rest;
    return out.subarray(skip);
  }
}
