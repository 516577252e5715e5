// The COPY command tag's row count: lines for text and csv, tuples of the binary COPY format.
import test from 'ava';
import { CopyRowCounter } from '../../src/sql/copy-rows';

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
