// DataRow messages (pg/data-row.ts) byte for byte against the protocol's layout built here the plain way:
// 'D', int32 length, int16 column count, then each value's int32 length (-1 for NULL) and bytes.
import test from 'ava';
import { encodeBinary, encodeText } from '../../pg/codecs';
import { encodeDataRow, encodeDataRows } from '../../pg/data-row';
import { Oid } from '../../pg/types';

function expected(values: unknown[], oids: number[], formats: number[]): Buffer {
  const parts = values.map((v, i) => {
    if (v === null) return Buffer.from([0xff, 0xff, 0xff, 0xff]);
    const binary = (formats.length === 1 ? formats[0] : (formats[i] ?? 0)) === 1;
    const bytes = binary ? encodeBinary(v, oids[i]) : Buffer.from(encodeText(v, oids[i]), 'utf8');
    const len = Buffer.alloc(4);
    len.writeInt32BE(bytes.length);
    return Buffer.concat([len, bytes]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(7);
  head[0] = 0x44;
  head.writeUInt32BE(body.length + 6, 1);
  head.writeUInt16BE(values.length, 5);
  return Buffer.concat([head, body]);
}

test('rows of every kind of text, NULLs, binary values, many columns and long values', (t) => {
  const long = 'y'.repeat(70_000);
  const cases: [unknown[], number[], number[]][] = [
    [[1, 'x'.repeat(100)], [Oid.int4, Oid.text], []],
    [
      [null, -2147483648, '', 'é', '€uro', '😀', 'a\u0000b'],
      [Oid.text, Oid.int4, Oid.text, Oid.text, Oid.text, Oid.text, Oid.text],
      [],
    ],
    [
      ['abcdefghijklmnopqrstuvwx', 'abcdefghijklmnopqrstuvwxy', 'abcdefghijklmnopqrstuvwé'],
      [Oid.text, Oid.text, Oid.text],
      [],
    ],
    [[long, 'ü'.repeat(40_000)], [Oid.text, Oid.text], []],
    [[42, 'b', null], [Oid.int4, Oid.text, Oid.int8], [1]],
    [
      [7, 'b'],
      [Oid.int8, Oid.text],
      [1, 0],
    ],
    [Array.from({ length: 300 }, (_, i) => i), Array(300).fill(Oid.int4), []],
  ];
  for (const [values, oids, formats] of cases) {
    const want = expected(values, oids, formats);
    t.deepEqual(encodeDataRow(values, oids, formats), want);
    const many = encodeDataRows([values, values], oids, formats);
    t.deepEqual(Buffer.from(many.bytes), Buffer.concat([want, want]));
    t.deepEqual([...many.ends], [want.length, 2 * want.length]);
  }
});
