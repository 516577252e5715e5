// The protocol's DataRow message ('D'): a row's values, each in text or binary as the result formats say,
// framed with its type byte and length. The wire sends it; the catalog readers encode a streamed result's rows
// with it where they are produced, so that what crosses between threads is bytes rather than values.
import { encodeBinary, encodeText } from './codecs';

export const DATA_ROW = 0x44;
const BINARY = 1;

/** Result format of column i from a Bind's format codes (none = text, one = all, else per column). */
export function formatOf(formats: readonly number[], i: number): number {
  if (formats.length === 0) return 0;
  if (formats.length === 1) return formats[0];
  return formats[i] ?? 0;
}

/** DataRow messages back to back, and where each ends. */
export interface EncodedRows {
  bytes: Uint8Array;
  ends: Uint32Array;
}

/** Text up to this many UTF-16 units is written by hand when it is ASCII (see Writer.text). */
const SHORT_TEXT = 24;

class Writer {
  buf = Buffer.allocUnsafe(64 * 1024);
  /** Where the next byte goes. */
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
  /** A big-endian 32-bit integer at pos (the bytes set one by one: cheaper per call than writeInt32BE's checks). */
  private int32(n: number, pos: number): void {
    const b = this.buf;
    b[pos] = n >>> 24;
    b[pos + 1] = n >>> 16;
    b[pos + 2] = n >>> 8;
    b[pos + 3] = n;
  }
  /** A value's text as UTF-8 after its length, at pos; returns its byte length. */
  private text(text: string, pos: number): number {
    // Short text (numbers, names, flags) is mostly ASCII: copied a unit a byte, without a call into the encoder.
    if (text.length <= SHORT_TEXT) {
      const b = this.buf;
      let i = 0;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0x7f) break;
        b[pos + i] = c;
      }
      if (i === text.length) return i;
    }
    return this.buf.write(text, pos, 'utf8');
  }
  row(values: readonly unknown[], typeOids: readonly number[], formats: readonly number[]): void {
    const start = this.pos;
    this.ensure(7);
    this.buf[start] = DATA_ROW;
    this.buf[start + 5] = values.length >>> 8;
    this.buf[start + 6] = values.length;
    this.pos = start + 7;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        this.ensure(4);
        this.int32(-1, this.pos);
        this.pos += 4;
      } else if (formatOf(formats, i) === BINARY) {
        const bytes = encodeBinary(v, typeOids[i]);
        this.ensure(4 + bytes.length);
        this.int32(bytes.length, this.pos);
        bytes.copy(this.buf, this.pos + 4);
        this.pos += 4 + bytes.length;
      } else {
        const text = encodeText(v, typeOids[i]);
        // A UTF-16 unit is at most 3 bytes of UTF-8: room first, the exact length from the write.
        this.ensure(4 + 3 * text.length);
        const n = this.text(text, this.pos + 4);
        this.int32(n, this.pos);
        this.pos += 4 + n;
      }
    }
    this.int32(this.pos - start - 1, start + 1);
  }
}

/** Reused: messages are built in it and copied out at their exact size. */
const shared = new Writer();

/** One DataRow message. */
export function encodeDataRow(
  values: readonly unknown[],
  typeOids: readonly number[],
  formats: readonly number[],
): Buffer {
  shared.pos = 0;
  shared.row(values, typeOids, formats);
  const out = Buffer.allocUnsafe(shared.pos);
  shared.buf.copy(out, 0, 0, shared.pos);
  return out;
}

/** The DataRow messages of many rows, in one buffer of their own (of exactly their size). */
export function encodeDataRows(
  rows: readonly (readonly unknown[])[],
  typeOids: readonly number[],
  formats: readonly number[],
): EncodedRows {
  shared.pos = 0;
  const ends = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    shared.row(rows[i], typeOids, formats);
    ends[i] = shared.pos;
  }
  const bytes = new Uint8Array(shared.pos);
  bytes.set(shared.buf.subarray(0, shared.pos));
  return { bytes, ends };
}
