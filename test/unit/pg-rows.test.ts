import test from 'ava';
import { encodePgRows, type OutputStyle } from '../../catalog/readers/pg-rows';
import { Oid } from '../../pg/types';

const ISO: OutputStyle = {
  datestyle: 'ISO, MDY',
  intervalstyle: 'postgres',
  extra_float_digits: '1',
  bytea_output: 'hex',
};

/** The values of each DataRow message (null for NULL). */
function values(e: { bytes: Uint8Array; ends: Uint32Array }): (Buffer | null)[][] {
  const buf = Buffer.from(e.bytes);
  const rows: (Buffer | null)[][] = [];
  let start = 0;
  for (const end of e.ends) {
    const msg = buf.subarray(start, end);
    if (msg[0] !== 0x44 || msg.readUInt32BE(1) !== msg.length - 1) throw new Error('not a DataRow');
    const row: (Buffer | null)[] = [];
    let at = 7;
    for (let i = 0; i < msg.readUInt16BE(5); i++) {
      const len = msg.readInt32BE(at);
      at += 4;
      row.push(len < 0 ? null : msg.subarray(at, (at += len)));
    }
    rows.push(row);
    start = end;
  }
  return rows;
}

test("text columns are PostgreSQL's bytes, untouched", (t) => {
  const rows = [
    ['1e-07', '12/01/2026 19:42:00.5 EST', 'ü', null, ''],
    ['Infinity', 'x', 'y', 'z', 'w'],
  ];
  const oids = [Oid.float8, Oid.timestamptz, Oid.text, Oid.int8, Oid.text];
  const out = values(encodePgRows(rows, oids, [], ISO));
  t.deepEqual(
    out.map((r) => r.map((v) => v?.toString('utf8') ?? null)),
    rows,
  );
});

test('binary columns are made from the text PostgreSQL printed', (t) => {
  const rows = [['-5', 't', '2000-01-01 00:00:01.5+01', '\\x00ff', '0.30000000000000004', 'abc']];
  const oids = [Oid.int8, Oid.bool, Oid.timestamptz, Oid.bytea, Oid.float8, Oid.text];
  const [row] = values(encodePgRows(rows, oids, [1], ISO));
  t.is(row[0]!.readBigInt64BE(0), -5n);
  t.deepEqual([...row[1]!], [1]);
  t.is(row[2]!.readBigInt64BE(0), 1_500_000n - 3_600_000_000n);
  t.deepEqual([...row[3]!], [0, 255]);
  t.is(row[4]!.readDoubleBE(0), 0.1 + 0.2);
  t.is(row[5]!.toString(), 'abc');
  // Formats by column: text where asked.
  const [mixed] = values(encodePgRows(rows, oids, [0, 1, 0, 0, 0, 0], ISO));
  t.is(mixed[0]!.toString(), '-5');
  t.deepEqual([...mixed[1]!], [1]);
});

test('a binary column whose text this side cannot read in the session style is an error, not a guess', (t) => {
  const cases: [number, string, Partial<OutputStyle>, RegExp][] = [
    [Oid.timestamptz, '12/01/2026 19:42:00 EST', { datestyle: 'SQL, DMY' }, /DateStyle ISO/],
    [Oid.float8, '0.3', { extra_float_digits: '0' }, /extra_float_digits/],
    [Oid.interval, 'P1D', { intervalstyle: 'iso_8601' }, /IntervalStyle/],
    [Oid.bytea, '\\000', { bytea_output: 'escape' }, /bytea_output/],
    [Oid.regclass, 'pg_class', {}, /regclass/],
  ];
  for (const [oid, text, style, message] of cases) {
    const err = t.throws(() => encodePgRows([[text]], [oid], [1], { ...ISO, ...style }), { message });
    t.is((err as unknown as { code: string }).code, '0A000');
    // In text the same value goes as it is.
    t.notThrows(() => encodePgRows([[text]], [oid], [0], { ...ISO, ...style }));
  }
  // A type with no binary codec here: PostgreSQL's own error for a type without a send function.
  const err = t.throws(() => encodePgRows([['(1,2)']], [600], [1], ISO));
  t.is((err as unknown as { code: string }).code, '42883');
});
