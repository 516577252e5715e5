// The COPY command tag's row count: lines for text and csv, tuples of the binary COPY format.
import test from 'ava';
import { CopyRowCounter, countingRows } from '../../src/sql/copy-rows';

function rows(binary: boolean, chunks: Buffer[]): number {
  const c = new CopyRowCounter(binary);
  for (const ch of chunks) c.push(ch);
  return c.rows;
}

/** PostgreSQL's binary COPY format, as pg's COPY ... TO STDOUT (FORMAT binary) writes it. */
function pgcopy(tuples: (Buffer | null)[][], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(4)];
  const ext = Buffer.alloc(4);
  ext.writeUInt32BE(extension.length);
  parts.push(ext, extension);
  for (const t of tuples) {
    const n = Buffer.alloc(2);
    n.writeInt16BE(t.length);
    parts.push(n);
    for (const f of t) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(f ? f.length : -1);
      parts.push(len);
      if (f) parts.push(f);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

test('text and csv: one row per line, the last line counted without its newline', (t) => {
  t.is(rows(false, [Buffer.from('a\tb\nc\td\n')]), 2);
  t.is(rows(false, [Buffer.from('a\nb\nc')]), 3);
  t.is(rows(false, [Buffer.from('a'), Buffer.from('\nb'), Buffer.from('\n')]), 2);
  t.is(rows(false, []), 0);
  t.is(rows(false, [Buffer.from('\n\n')]), 2);
});

test('binary: the tuples of a binary COPY stream, however it is cut into chunks', (t) => {
  const data = pgcopy(
    [[Buffer.from('one'), null], [Buffer.alloc(70_000, 7), Buffer.from('x')], [], [Buffer.from('\xff\xff')]],
    Buffer.from('ext'),
  );
  t.is(rows(true, [data]), 4);
  for (const size of [1, 2, 3, 5, 11, 4096]) {
    const chunks: Buffer[] = [];
    for (let off = 0; off < data.length; off += size) chunks.push(data.subarray(off, off + size));
    t.is(rows(true, chunks), 4, `chunks of ${size}`);
  }
  t.is(rows(true, [pgcopy([])]), 0);
});

test('binary: bytes that are not a binary COPY stream (an arbitrary file) count 0 rows', (t) => {
  t.is(rows(true, [Buffer.from('just some bytes\n\n\n')]), 0);
  t.is(rows(true, [Buffer.alloc(1 << 20, 1)]), 0);
});

test('countingRows passes runs of chunks through unchanged and counts the rows in all of them', async (t) => {
  const data = pgcopy([[Buffer.from('one')], [Buffer.from('two'), null], [Buffer.alloc(3000, 1)]]);
  const cut = (size: number) => {
    const out: Buffer[] = [];
    for (let off = 0; off < data.length; off += size) out.push(data.subarray(off, off + size));
    return out;
  };
  const pieces = cut(7);
  const runs = [pieces.slice(0, 1), pieces.slice(1, 40), pieces.slice(40)];
  async function* source() {
    yield* runs;
  }
  const counter = new CopyRowCounter(true);
  const seen: Buffer[][] = [];
  for await (const run of countingRows(source(), counter)) seen.push(run);
  t.deepEqual(seen, runs);
  t.is(counter.rows, 3);
  const text = new CopyRowCounter(false);
  async function* lines() {
    yield [Buffer.from('a\nb'), Buffer.from('\nc')];
    yield [Buffer.from('\n')];
  }
  for await (const _ of countingRows(lines(), text));
  t.is(text.rows, 3);
});
