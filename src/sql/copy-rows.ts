// Counts the rows of a COPY stream for its command tag, as PostgreSQL reports them, without changing a byte
// of the data (the store keeps the stream as it arrived).
//   text and csv: lines; a last line without its newline counts too.
//   binary: the tuples of PostgreSQL's binary COPY format (signature, flags, header extension, then per tuple
//   an int16 field count and each field as an int32 length and its bytes, up to the -1 trailer). A stream that
//   does not begin with the binary COPY signature (an arbitrary file loaded with format binary) has no tuples
//   this server can see: it counts 0.

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const NEWLINE = 0x0a;

type State = 'header' | 'extension' | 'tuple' | 'field' | 'data' | 'done' | 'opaque';

export class CopyRowCounter {
  private count = 0;
  // text and csv
  private lastByte = NEWLINE;
  // binary: the bytes of an integer split across chunks, and the bytes still to skip
  private state: State = 'header';
  private pending = Buffer.alloc(0);
  private skip = 0;
  private fieldsLeft = 0;

  constructor(private readonly binary: boolean) {}

  push(chunk: Buffer): void {
    if (!chunk.length) return;
    if (!this.binary) {
      let at = chunk.indexOf(NEWLINE);
      while (at !== -1) {
        this.count++;
        at = chunk.indexOf(NEWLINE, at + 1);
      }
      this.lastByte = chunk[chunk.length - 1];
      return;
    }
    this.pushBinary(chunk);
  }

  /** The row count of everything pushed so far (the stream is complete when the tag is asked for). */
  get rows(): number {
    return this.binary || this.lastByte === NEWLINE ? this.count : this.count + 1;
  }

  private pushBinary(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.state !== 'done' && this.state !== 'opaque') {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        if (this.skip > 0) return;
        if (this.state === 'extension' || this.state === 'data') this.afterSkip();
        continue;
      }
      const need = this.state === 'header' ? SIGNATURE.length + 8 : this.state === 'tuple' ? 2 : 4;
      const take = Math.min(need - this.pending.length, chunk.length - off);
      this.pending = Buffer.concat([this.pending, chunk.subarray(off, off + take)]);
      off += take;
      if (this.pending.length < need) return;
      const word = this.pending;
      this.pending = Buffer.alloc(0);
      this.onWord(word);
    }
  }

  private onWord(word: Buffer): void {
    switch (this.state) {
      case 'header':
        if (!word.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
          this.state = 'opaque';
          return;
        }
        this.skip = word.readUInt32BE(SIGNATURE.length + 4);
        this.state = 'extension';
        if (this.skip === 0) this.afterSkip();
        return;
      case 'tuple': {
        const fields = word.readInt16BE(0);
        if (fields === -1) {
          this.state = 'done';
          return;
        }
        this.count++;
        this.fieldsLeft = fields;
        this.state = fields > 0 ? 'field' : 'tuple';
        return;
      }
      case 'field': {
        const len = word.readInt32BE(0);
        this.fieldsLeft--;
        this.skip = Math.max(0, len);
        this.state = 'data';
        if (this.skip === 0) this.afterSkip();
        return;
      }
    }
  }

  private afterSkip(): void {
    this.state = this.state === 'data' && this.fieldsLeft > 0 ? 'field' : 'tuple';
  }
}

/** Passes a stream of chunks, or of runs of chunks, through unchanged, counting its rows. */
export async function* countingRows<T extends Buffer | Buffer[]>(
  data: AsyncIterable<T>,
  counter: CopyRowCounter,
): AsyncGenerator<T> {
  for await (const item of data) {
    if (Array.isArray(item)) for (const chunk of item as Buffer[]) counter.push(chunk);
    else counter.push(item);
    yield item;
  }
}
