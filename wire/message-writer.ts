// Builds one backend message at a time: the body is written after a reserved 5-byte header, which finish()
// fills with the type byte and the length (which counts itself, not the type byte).

export class MessageWriter {
  private buf = Buffer.allocUnsafe(1024);
  private pos = 5;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }
  int16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }
  int32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }
  /** UTF-8 bytes without a terminator. */
  string(s: string): this {
    const n = Buffer.byteLength(s);
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
    return this;
  }
  /** UTF-8 bytes and a NUL terminator. */
  cstring(s: string): this {
    return this.string(s).byte(0);
  }
  bytes(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }
  /** Returns the finished message as a buffer of its own and starts the next one. */
  finish(code: number): Buffer {
    this.buf[0] = code;
    this.buf.writeUInt32BE(this.pos - 1, 1);
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 5;
    return out;
  }
}
