// The text and binary codecs of pg/: what a Bind parameter decodes to, and the PostgreSQL error for bytes that
// do not decode (a guess would be a wrong answer).
import test from 'ava';
import {
  canonicalTimestamp,
  decodeParam,
  encodeBinary,
  encodeText,
  formatArrayLiteral,
  formatTimestampMicros,
  parseArrayText,
  parseTimestampMicros,
} from '../../pg/codecs';
import { SqlError } from '../../pg/errors';
import { Oid } from '../../pg/types';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof SqlError ? e.code : `not a SqlError: ${e}`;
  }
  return 'no error';
};

test('binary fixed-size parameters: too short is 08P01, too long is 22P03', (t) => {
  for (const oid of [
    Oid.int2,
    Oid.int4,
    Oid.int8,
    Oid.float8,
    Oid.bool,
    Oid.uuid,
    Oid.date,
    Oid.timestamptz,
  ]) {
    t.is(
      code(() => decodeParam(Buffer.alloc(0), oid, true)),
      '08P01',
      `empty ${oid}`,
    );
  }
  t.is(
    code(() => decodeParam(Buffer.alloc(3), Oid.int4, true)),
    '08P01',
  );
  t.is(
    code(() => decodeParam(Buffer.from([0, 0, 0, 0, 1]), Oid.int4, true)),
    '22P03',
  );
  t.is(decodeParam(Buffer.from([0, 0, 0, 7]), Oid.int4, true), 7);
  t.is(decodeParam(Buffer.from([1]), Oid.bool, true), true);
});

test('text with NUL or invalid UTF-8 is 22021', (t) => {
  t.is(
    code(() => decodeParam(Buffer.from('ab\0c'), Oid.text, false)),
    '22021',
  );
  t.is(
    code(() => decodeParam(Buffer.from('ab\0c'), Oid.text, true)),
    '22021',
  );
  t.is(
    code(() => decodeParam(Buffer.from([0x61, 0xc3]), Oid.text, false)),
    '22021',
  );
  t.is(decodeParam(Buffer.from('héllo'), Oid.text, true), 'héllo');
});

test('text booleans follow boolin; anything else is 22P02', (t) => {
  for (const s of ['t', 'TRUE', 'yes', 'on', '1', 'y'])
    t.is(decodeParam(Buffer.from(s), Oid.bool, false), true, s);
  for (const s of ['f', 'false', 'no', 'off', '0', 'n'])
    t.is(decodeParam(Buffer.from(s), Oid.bool, false), false, s);
  for (const s of ['', 'maybe', 'o', '2'])
    t.is(
      code(() => decodeParam(Buffer.from(s), Oid.bool, false)),
      '22P02',
      s,
    );
});

test('text integers are range-checked (22003) and syntax-checked (22P02)', (t) => {
  t.is(
    code(() => decodeParam(Buffer.from('40000'), Oid.int2, false)),
    '22003',
  );
  t.is(
    code(() => decodeParam(Buffer.from('1.5'), Oid.int4, false)),
    '22P02',
  );
  t.is(decodeParam(Buffer.from('9007199254740993'), Oid.int8, false), 9007199254740993n);
});

test('binary arrays decode to the same literal a text-format array has', (t) => {
  const texts = encodeBinary(['a', null, 'b c'], Oid._text);
  t.is(decodeParam(texts, Oid._text, true), '{a,NULL,"b c"}');
  const ints = encodeBinary([1, 2, 3], Oid._int8);
  t.is(decodeParam(ints, Oid._int8, true), '{1,2,3}');
  t.is(decodeParam(encodeBinary([], Oid._int4), Oid._int4, true), '{}');
  // an element of the wrong size inside the array is an error, not a guess
  const bad = Buffer.from(ints);
  bad.writeInt32BE(4, 20);
  t.not(
    code(() => decodeParam(bad, Oid._int8, true)),
    'no error',
  );
  // the wrong element type is 42804
  t.is(
    code(() => decodeParam(encodeBinary([1], Oid._int4), Oid._int8, true)),
    '42804',
  );
});

test('a type without a binary format is 42883, never text bytes', (t) => {
  t.is(
    code(() => encodeBinary('x', Oid.aclitem)),
    '42883',
  );
  t.is(
    code(() => decodeParam(Buffer.from('x'), Oid.inet, true)),
    '42883',
  );
});

test('intervals round-trip through the binary format, with and without a time part', (t) => {
  for (const text of [
    '1 day',
    '2 years 3 mons',
    '1 day 02:03:04.5',
    '-00:00:01',
    '00:00:00',
    '1 mon -2 days 01:00:00',
  ]) {
    t.is(decodeParam(encodeBinary(text, Oid.interval), Oid.interval, true), text, text);
  }
  t.is(
    code(() => encodeBinary('soon', Oid.interval)),
    '22007',
  );
});

test('array text with a lower bound: [lo:hi]={...} read and written, 22P02 when the bounds miss the elements', (t) => {
  t.deepEqual(parseArrayText('[0:2]={1,NULL,"a b"}'), { lower: 0, items: ['1', null, 'a b'] });
  t.deepEqual(parseArrayText('{x}'), { lower: 1, items: ['x'] });
  t.is(formatArrayLiteral(['1', '2'], -1), '[-1:0]={1,2}');
  t.is(formatArrayLiteral(['1', '2'], 1), '{1,2}');
  t.is(formatArrayLiteral([], 5), '{}');
  const e = t.throws(() => parseArrayText('[0:1]={1,2,3}'), { instanceOf: SqlError });
  t.is(e?.code, '22P02');
  // binary: ndim 1, no NULLs, int4 elements, 2 of them from subscript 0
  const b = encodeBinary('[0:1]={7,8}', Oid._int4);
  t.deepEqual(
    [b.readInt32BE(0), b.readInt32BE(4), b.readInt32BE(8), b.readInt32BE(12), b.readInt32BE(16)],
    [1, 0, Oid.int4, 2, 0],
  );
});

test('an integer held as a number beyond 2^53 is 22003 in text and binary, never a nearby number', (t) => {
  for (const encode of [encodeText, encodeBinary])
    t.is(t.throws(() => encode(2 ** 63, Oid.int8), { instanceOf: SqlError })?.code, '22003');
  t.is(encodeText(2 ** 53 - 1, Oid.int8), '9007199254740991');
  // A bigint is exact to the last digit.
  t.is(encodeText(-(2n ** 63n), Oid.int8), '-9223372036854775808');
  t.is(encodeBinary(-(2n ** 63n), Oid.int8).readBigInt64BE(0), -(2n ** 63n));
});

test('canonicalTimestamp gives what parsing and formatting give, for canonical text taken as is and for the rest', (t) => {
  const slow = (text: string, withZone: boolean) =>
    formatTimestampMicros(parseTimestampMicros(text), withZone);
  // Instants spread over 1000-9999 with every fraction length, and the edges the fast path leaves out.
  const texts: string[] = [
    '2026-12-02 01:23:45+00',
    '2026-12-02 01:23:45.5+00',
    '2026-12-02 01:23:45.123456+00',
    '2026-12-02 01:23:45.120000+00',
    '2026-12-02 01:23:45.040+00',
    '2026-12-02 01:23:45.000+00',
    '2026-12-02 01:23:45.0',
    '2026-12-02 01:23:45.100',
    '2026-12-02 01:23:45.1234567+00',
    '2026-02-29 00:00:00+00',
    '2025-02-29 00:00:00+00',
    '2026-01-31 23:59:59+00',
    '0999-01-01 00:00:00+00',
    '0050-01-01 00:00:00+00',
    '2026-12-02 01:23:45',
    '2026-12-02 01:23:45+02',
    '2026-12-02T01:23:45Z',
    '2026-12-02 24:00:00+00',
  ];
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  for (let i = 0; i < 2000; i++) {
    const micros = BigInt(next() % 253_000_000) * 1_000_000n * 1000n + BigInt(next() % 1_000_000);
    const text = formatTimestampMicros(micros - 30_000_000_000_000_000n, true);
    // As the catalog stores them too: milliseconds, trailing zeros kept.
    texts.push(
      text,
      new Date(Number((micros - 30_000_000_000_000_000n) / 1000n))
        .toISOString()
        .replace('T', ' ')
        .replace('Z', '+00'),
    );
  }
  for (const text of texts)
    for (const withZone of [true, false]) {
      let expected: string | Error;
      try {
        expected = slow(text, withZone);
      } catch (err) {
        expected = err as Error;
      }
      if (expected instanceof Error)
        t.throws(() => canonicalTimestamp(text, withZone), { message: expected.message });
      else t.is(canonicalTimestamp(text, withZone), expected, `${text} (withZone ${withZone})`);
    }
});
