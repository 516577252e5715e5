// Consecutive DataRow messages encoded together, as a reader encodes a streamed batch: the wire keeps, cuts
// and sends them as one buffer instead of one buffer per row (a Buffer view, a place in the cursor's arrays
// and a copy into the socket's buffer, for each row). Cutting makes views: no byte is copied.
import type { EncodedRows } from '../pg/data-row';

export class DataRowRun {
  /** The messages of rows [from, to) of the batch; ends[i] is where row i's ends in bytes. */
  private constructor(
    private readonly bytesOfBatch: Uint8Array,
    private readonly ends: Uint32Array,
    private readonly from: number,
    private readonly to: number,
  ) {}

  /** All the rows of an encoded batch. */
  static of(encoded: EncodedRows): DataRowRun {
    return new DataRowRun(encoded.bytes, encoded.ends, 0, encoded.ends.length);
  }

  get length(): number {
    return this.to - this.from;
  }

  /** Rows [start, end) of this run (as Array.prototype.slice takes them, without negative positions). */
  slice(start = 0, end = this.length): DataRowRun {
    const from = this.from + Math.min(Math.max(start, 0), this.length);
    const to = Math.max(from, this.from + Math.min(Math.max(end, 0), this.length));
    return new DataRowRun(this.bytesOfBatch, this.ends, from, to);
  }

  /** Row i's DataRow message (a view), or undefined past the end. */
  at(i: number): Buffer | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return this.view(this.from + i, this.from + i + 1);
  }

  /** The run's messages, back to back, as one view. */
  get bytes(): Buffer {
    return this.view(this.from, this.to);
  }

  private view(fromRow: number, toRow: number): Buffer {
    const start = fromRow === 0 ? 0 : this.ends[fromRow - 1];
    const end = toRow === 0 ? 0 : this.ends[toRow - 1];
    const b = this.bytesOfBatch;
    return Buffer.from(b.buffer, b.byteOffset + start, end - start);
  }
}
