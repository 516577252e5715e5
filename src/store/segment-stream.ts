// The checks of a segment file (segment-file.ts) over its bytes as they stream by, in order: the header, the
// checksum table, then each block hashed as soon as it is complete. An agent checks a segment it receives
// before it makes it durable; a coordinator checks a segment it reads from an agent as it arrives. Memory is
// bounded: the header and table, and one block (none when the payload goes into a caller's buffer).
import { XXHash3 } from 'xxhash-addon';
import {
  fileSizeFor,
  HEADER_LEN,
  headerChecksumMatches,
  parseHeader,
  SegmentFault,
  type SegmentHeader,
  type SegmentMeta,
  tableChecksum,
  tableFault,
} from './segment-file';

export interface StreamCheckResult {
  header: SegmentHeader;
  checksum: string;
  bytes: number;
  /** The header and checksum table the blocks matched. */
  head: Buffer;
}

export class SegmentStreamCheck {
  private readonly head = Buffer.alloc(HEADER_LEN);
  private table: Buffer | null = null;
  private header: SegmentHeader | null = null;
  private received = 0;
  /** Bytes of the current block gathered so far (in `into` or in `block`). */
  private blockFill = 0;
  private blockIndex = 0;
  private block: Buffer | null = null;

  constructor(
    private readonly expected: Partial<SegmentMeta> & { payloadLength?: number },
    /** The file's length as announced (Content-Length), checked against the header. */
    private readonly size: number,
    /** Where the payload goes, when the caller wants it (payloadLength bytes). */
    private readonly into?: Buffer,
  ) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.received < HEADER_LEN) {
        const n = Math.min(HEADER_LEN - this.received, chunk.length - off);
        chunk.copy(this.head, this.received, off, off + n);
        this.received += n;
        off += n;
        if (this.received === HEADER_LEN) this.onHeader();
        continue;
      }
      const h = this.header!;
      const table = this.table!;
      const dataStart = HEADER_LEN + table.length;
      if (this.received < dataStart) {
        const n = Math.min(dataStart - this.received, chunk.length - off);
        chunk.copy(table, this.received - HEADER_LEN, off, off + n);
        this.received += n;
        off += n;
        if (this.received === dataStart && !headerChecksumMatches(this.head, table)) throw tableFault();
        continue;
      }
      const payloadAt = this.received - dataStart;
      if (payloadAt >= h.payloadLength)
        throw new SegmentFault('WRONG_LENGTH', 'more bytes than the header says');
      const blockLen = Math.min(h.blockSize, h.payloadLength - this.blockIndex * h.blockSize);
      const n = Math.min(blockLen - this.blockFill, chunk.length - off);
      const target = this.into
        ? this.into.subarray(payloadAt, payloadAt + n)
        : this.block!.subarray(this.blockFill, this.blockFill + n);
      chunk.copy(target, 0, off, off + n);
      this.blockFill += n;
      this.received += n;
      off += n;
      if (this.blockFill === blockLen) {
        const start = this.blockIndex * h.blockSize;
        const bytes = this.into
          ? this.into.subarray(start, start + blockLen)
          : this.block!.subarray(0, blockLen);
        if (!XXHash3.hash(bytes).equals(table.subarray(8 * this.blockIndex, 8 * this.blockIndex + 8)))
          throw new SegmentFault(
            'CHECKSUM_MISMATCH',
            `block ${this.blockIndex} of ${h.blockCount} does not match its checksum`,
            this.blockIndex,
          );
        this.blockIndex++;
        this.blockFill = 0;
      }
    }
  }

  private onHeader(): void {
    const h = parseHeader(this.head, this.expected);
    const want = fileSizeFor(h.payloadLength, h.blockSize);
    if (this.size !== want)
      throw new SegmentFault('WRONG_LENGTH', `file is ${this.size} bytes, expected ${want}`);
    if (this.into && this.into.length < h.payloadLength)
      throw new SegmentFault('WRONG_LENGTH', `payload is ${h.payloadLength} bytes, more than expected`);
    this.header = h;
    this.table = Buffer.alloc(8 * h.blockCount);
    if (!this.into) this.block = Buffer.allocUnsafe(Math.min(h.blockSize, h.payloadLength || 1));
  }

  /** After the last chunk: the whole file was there and every block matched. */
  finish(): StreamCheckResult {
    if (!this.header || this.received !== this.size)
      throw new SegmentFault('WRONG_LENGTH', `file ends early: ${this.received} of ${this.size} bytes`);
    return {
      header: this.header,
      checksum: tableChecksum(this.table!),
      bytes: this.received,
      head: Buffer.concat([this.head, this.table!]),
    };
  }
}
