// Reads the fields of one message body. Every read is bounds-checked, so a truncated message is a protocol
// violation rather than a garbage value.
import { ProtocolViolation } from './fatal';

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
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** Asserts that the whole body was consumed: trailing bytes mean the client and we disagree on the format. */
  end(): void {
    if (this.pos !== this.buf.length) throw new ProtocolViolation('message has trailing bytes');
  }
}
