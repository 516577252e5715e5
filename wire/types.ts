// PostgreSQL type OIDs and the text/binary codecs the wire layer needs.
// Values handed to the wire by a query handler are plain JS values (string, number, bigint, boolean, Buffer,
// null); this module turns them into the bytes a client expects for a column's type and format.

export const Oid = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int2vector: 22,
  int4: 23,
  regproc: 24,
  text: 25,
  oid: 26,
  xid: 28,
  oidvector: 30,
  json: 114,
  xml: 142,
  pg_node_tree: 194,
  float4: 700,
  float8: 701,
  unknown: 705,
  inet: 869,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  regclass: 2205,
  regtype: 2206,
  regnamespace: 4089,
  regprocedure: 2202,
  uuid: 2950,
  jsonb: 3802,
  anyarray: 2277,
  void: 2278,
  record: 2249,
  // arrays
  _bool: 1000,
  _bytea: 1001,
  _char: 1002,
  _name: 1003,
  _int2: 1005,
  _int4: 1007,
  _text: 1009,
  _oid: 1028,
  _varchar: 1015,
  _int8: 1016,
  _float4: 1021,
  _float8: 1022,
  _aclitem: 1034,
  _timestamptz: 1185,
  _numeric: 1231,
  _uuid: 2951,
  aclitem: 1033,
} as const;

/** Element type of each array type we emit, for binary array encoding and typelem. */
export const arrayElement: Record<number, number> = {
  [Oid._bool]: Oid.bool,
  [Oid._bytea]: Oid.bytea,
  [Oid._char]: Oid.char,
  [Oid._name]: Oid.name,
  [Oid._int2]: Oid.int2,
  [Oid._int4]: Oid.int4,
  [Oid._text]: Oid.text,
  [Oid._oid]: Oid.oid,
  [Oid._varchar]: Oid.varchar,
  [Oid._int8]: Oid.int8,
  [Oid._float4]: Oid.float4,
  [Oid._float8]: Oid.float8,
  [Oid._timestamptz]: Oid.timestamptz,
  [Oid._numeric]: Oid.numeric,
  [Oid._uuid]: Oid.uuid,
  [Oid._aclitem]: Oid.aclitem,
  [Oid.int2vector]: Oid.int2,
  [Oid.oidvector]: Oid.oid,
};

/** typlen of fixed-size types (-1 for varlena); used in RowDescription. */
export function typeSize(oid: number): number {
  switch (oid) {
    case Oid.bool:
    case Oid.char:
      return 1;
    case Oid.int2:
      return 2;
    case Oid.int4:
    case Oid.oid:
    case Oid.float4:
    case Oid.date:
    case Oid.regproc:
    case Oid.regclass:
    case Oid.regtype:
    case Oid.regnamespace:
    case Oid.xid:
      return 4;
    case Oid.int8:
    case Oid.float8:
    case Oid.timestamp:
    case Oid.timestamptz:
    case Oid.time:
      return 8;
    case Oid.uuid:
      return 16;
    case Oid.name:
      return 64;
    default:
      return -1;
  }
}

export class CodecError extends Error {
  constructor(
    message: string,
    readonly code = '22P02',
  ) {
    super(message);
  }
}

// ---------- timestamps ----------
// Timestamps travel inside the server as PostgreSQL's ISO text form in UTC: 'YYYY-MM-DD HH:MM:SS[.ffffff]+00'.

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Parses our text timestamp (or any ISO-8601 string) into microseconds since the Unix epoch. */
export function parseTimestampMicros(text: string): bigint {
  const m =
    /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/i.exec(
      text.trim(),
    );
  if (!m) throw new CodecError(`invalid input syntax for type timestamp with time zone: "${text}"`, '22007');
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', tz] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (tz && tz.toUpperCase() !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const offMin = +digits.slice(0, 2) * 60 + (digits.length > 2 ? +digits.slice(2, 4) : 0);
    ms -= sign * offMin * 60_000;
  }
  const micros = BigInt(ms) * 1000n + BigInt((frac + '000000').slice(0, 6));
  return micros;
}

export function formatTimestampMicros(micros: bigint, withZone = true): string {
  // Split into whole seconds and microseconds, rounding towards minus infinity (for instants before 1970).
  let whole = micros / 1_000_000n;
  let fracMicros = Number(micros % 1_000_000n);
  if (fracMicros < 0) {
    fracMicros += 1_000_000;
    whole -= 1n;
  }
  const d = new Date(Number(whole) * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  let out = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
  if (fracMicros) out += '.' + String(fracMicros).padStart(6, '0').replace(/0+$/, '');
  return withZone ? out + '+00' : out;
}

/** Normalises any accepted timestamp text to the canonical text form. */
export function canonicalTimestamp(text: string, withZone = true): string {
  return formatTimestampMicros(parseTimestampMicros(text), withZone);
}

// ---------- arrays ----------

/** Parses a PostgreSQL one-dimensional array literal ('{a,"b c",NULL}') into strings and nulls. */
export function parseArrayLiteral(text: string): (string | null)[] {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) throw new CodecError(`malformed array literal: "${text}"`);
  const out: (string | null)[] = [];
  let i = 1;
  const end = s.length - 1;
  if (s.slice(1, end).trim() === '') return out;
  while (i <= end) {
    while (s[i] === ' ') i++;
    if (s[i] === '"') {
      let v = '';
      i++;
      while (i < end && s[i] !== '"') {
        if (s[i] === '\\') i++;
        v += s[i++];
      }
      i++;
      out.push(v);
    } else {
      let j = i;
      while (j < end && s[j] !== ',') j++;
      const raw = s.slice(i, j).trim();
      out.push(raw.toUpperCase() === 'NULL' ? null : raw);
      i = j;
    }
    while (s[i] === ' ') i++;
    if (s[i] === ',') i++;
    else break;
  }
  return out;
}

export function formatArrayLiteral(items: readonly unknown[]): string {
  const parts = items.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    const str = typeof v === 'boolean' ? (v ? 't' : 'f') : String(v);
    if (str === '' || /[{},"\\\s]/.test(str) || str.toUpperCase() === 'NULL') {
      return '"' + str.replace(/[\\"]/g, (c) => '\\' + c) + '"';
    }
    return str;
  });
  return '{' + parts.join(',') + '}';
}

// ---------- text encoding ----------

function boolOf(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v !== 0 && v !== 0n;
  const s = String(v).toLowerCase();
  return s === 't' || s === 'true' || s === '1' || s === 'on' || s === 'yes' || s === 'y';
}

function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(n);
}

/** Encodes a value in PostgreSQL's text format for the given type. */
export function encodeText(v: unknown, oid: number): string {
  switch (oid) {
    case Oid.bool:
      return boolOf(v) ? 't' : 'f';
    case Oid.float4:
    case Oid.float8:
      return floatText(Number(v));
    case Oid.int2:
    case Oid.int4:
    case Oid.int8:
    case Oid.oid:
      return typeof v === 'number' ? String(Math.trunc(v)) : String(v);
    case Oid.bytea:
      return Buffer.isBuffer(v) ? '\\x' + v.toString('hex') : String(v);
    case Oid.timestamptz:
      return typeof v === 'string' ? canonicalTimestamp(v, true) : String(v);
    case Oid.timestamp:
      return typeof v === 'string' ? canonicalTimestamp(v, false) : String(v);
    default:
      if (Buffer.isBuffer(v)) return '\\x' + v.toString('hex');
      if (Array.isArray(v)) return formatArrayLiteral(v);
      if (typeof v === 'boolean') return v ? 't' : 'f';
      return String(v);
  }
}

// ---------- binary encoding ----------

function numericBinary(text: string): Buffer {
  const s = text.trim();
  if (s === 'NaN') {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(0xc000, 4);
    return b;
  }
  const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m) throw new CodecError(`invalid numeric "${text}"`);
  const neg = m[1] === '-';
  const intPart = (m[2] || '').replace(/^0+/, '');
  const frac = m[3] || '';
  const dscale = frac.length;
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  const digits: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) digits.push(+intPadded.slice(i, i + 4));
  const weightBase = digits.length - 1;
  for (let i = 0; i < fracPadded.length; i += 4) digits.push(+fracPadded.slice(i, i + 4));
  let weight = weightBase;
  while (digits.length && digits[0] === 0) {
    digits.shift();
    weight--;
  }
  while (digits.length && digits[digits.length - 1] === 0) digits.pop();
  if (!digits.length) weight = 0;
  const b = Buffer.alloc(8 + digits.length * 2);
  b.writeInt16BE(digits.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(neg && digits.length ? 0x4000 : 0, 4);
  b.writeUInt16BE(dscale, 6);
  digits.forEach((d, i) => {
    b.writeUInt16BE(d, 8 + i * 2);
  });
  return b;
}

function uuidBinary(v: string): Buffer {
  const hex = v.replace(/[{}-]/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new CodecError(`invalid input syntax for type uuid: "${v}"`);
  return Buffer.from(hex, 'hex');
}

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return BigInt(String(v).trim());
}

function arrayBinary(v: unknown, elemOid: number): Buffer {
  const items = Array.isArray(v) ? v : parseArrayLiteral(String(v));
  const parts: Buffer[] = [];
  const header = Buffer.alloc(items.length ? 20 : 12);
  header.writeInt32BE(items.length ? 1 : 0, 0);
  header.writeInt32BE(items.some((x) => x === null) ? 1 : 0, 4);
  header.writeInt32BE(elemOid, 8);
  if (items.length) {
    header.writeInt32BE(items.length, 12);
    header.writeInt32BE(1, 16);
  }
  parts.push(header);
  for (const item of items) {
    const len = Buffer.alloc(4);
    if (item === null || item === undefined) {
      len.writeInt32BE(-1, 0);
      parts.push(len);
    } else {
      const body = encodeBinary(item, elemOid);
      len.writeInt32BE(body.length, 0);
      parts.push(len, body);
    }
  }
  return Buffer.concat(parts);
}

/** Encodes a value in PostgreSQL's binary format for the given type. */
export function encodeBinary(v: unknown, oid: number): Buffer {
  switch (oid) {
    case Oid.bool:
      return Buffer.from([boolOf(v) ? 1 : 0]);
    case Oid.int2: {
      const b = Buffer.alloc(2);
      b.writeInt16BE(Number(v), 0);
      return b;
    }
    case Oid.int4: {
      const b = Buffer.alloc(4);
      b.writeInt32BE(Number(v), 0);
      return b;
    }
    case Oid.oid:
    case Oid.regproc:
    case Oid.regclass:
    case Oid.regtype:
    case Oid.regnamespace:
    case Oid.xid: {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Number(v) >>> 0, 0);
      return b;
    }
    case Oid.int8: {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(toBigInt(v), 0);
      return b;
    }
    case Oid.float4: {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(v), 0);
      return b;
    }
    case Oid.float8: {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(v), 0);
      return b;
    }
    case Oid.numeric:
      return numericBinary(String(v));
    case Oid.uuid:
      return uuidBinary(String(v));
    case Oid.bytea:
      return Buffer.isBuffer(v) ? v : Buffer.from(String(v));
    case Oid.timestamptz:
    case Oid.timestamp: {
      const micros = parseTimestampMicros(String(v)) - BigInt(PG_EPOCH_MS) * 1000n;
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(micros, 0);
      return b;
    }
    case Oid.date: {
      const days = Math.round((Date.parse(String(v).slice(0, 10) + 'T00:00:00Z') - PG_EPOCH_MS) / 86_400_000);
      const b = Buffer.alloc(4);
      b.writeInt32BE(days, 0);
      return b;
    }
    case Oid.jsonb:
      return Buffer.concat([Buffer.from([1]), Buffer.from(String(v))]);
    case Oid.interval:
      return intervalBinary(String(v));
    default: {
      const elem = arrayElement[oid];
      if (elem !== undefined) return arrayBinary(v, elem);
      return Buffer.from(encodeText(v, oid));
    }
  }
}

/** Types whose binary format encodeBinary really implements (others would be text bytes, a known pitfall). */
export function hasBinaryCodec(oid: number): boolean {
  return (
    (
      [
        Oid.bool,
        Oid.int2,
        Oid.int4,
        Oid.int8,
        Oid.oid,
        Oid.float4,
        Oid.float8,
        Oid.numeric,
        Oid.uuid,
        Oid.bytea,
        Oid.timestamp,
        Oid.timestamptz,
        Oid.date,
        Oid.text,
        Oid.varchar,
        Oid.name,
        Oid.bpchar,
        Oid.char,
        Oid.json,
        Oid.jsonb,
        Oid.regproc,
        Oid.regclass,
        Oid.regtype,
        Oid.regnamespace,
        Oid.xid,
        Oid.unknown,
        Oid.pg_node_tree,
      ] as number[]
    ).includes(oid) || arrayElement[oid] !== undefined
  );
}

/**
 * Interval in binary: microseconds (int64), days (int32), months (int32). Reads the text form this server
 * produces ('[-]N day[s] [-]HH:MM:SS[.ffffff]').
 */
function intervalBinary(text: string): Buffer {
  const m = /^\s*(?:(-?\d+) days? )?(-)?(\d+):(\d\d):(\d\d(?:\.\d+)?)\s*$/.exec(text);
  if (!m) throw new CodecError(`invalid input syntax for type interval: "${text}"`, '22007');
  const sign = m[2] ? -1 : 1;
  const micros =
    BigInt(sign) * (BigInt(+m[3] * 3600 + +m[4] * 60) * 1_000_000n + BigInt(Math.round(Number(m[5]) * 1e6)));
  const b = Buffer.alloc(16);
  b.writeBigInt64BE(micros, 0);
  b.writeInt32BE(m[1] ? +m[1] : 0, 8);
  b.writeInt32BE(0, 12);
  return b;
}

// ---------- parameter decoding ----------

/** Decodes a Bind parameter into a JS value: strings for text-like types, numbers/bigints, booleans, Buffers. */
export function decodeParam(buf: Buffer | null, oid: number, binary: boolean): unknown {
  if (buf === null) return null;
  if (!binary) {
    const s = buf.toString('utf8');
    switch (oid) {
      case Oid.int2:
      case Oid.int4:
      case Oid.oid:
        if (!/^\s*[+-]?\d+\s*$/.test(s))
          throw new CodecError(`invalid input syntax for type integer: "${s}"`);
        return Number(s);
      case Oid.int8: {
        if (!/^\s*[+-]?\d+\s*$/.test(s)) throw new CodecError(`invalid input syntax for type bigint: "${s}"`);
        const n = BigInt(s.trim());
        return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;
      }
      case Oid.float4:
      case Oid.float8: {
        const n = Number(s);
        if (Number.isNaN(n) && s.trim() !== 'NaN')
          throw new CodecError(`invalid input syntax for type double precision: "${s}"`);
        return n;
      }
      case Oid.bool:
        return boolOf(s);
      case Oid.bytea:
        return s.startsWith('\\x') ? Buffer.from(s.slice(2), 'hex') : Buffer.from(s);
      case Oid.timestamptz:
        return canonicalTimestamp(s, true);
      case Oid.uuid: {
        const hex = s
          .trim()
          .toLowerCase()
          .replace(/^\{|\}$/g, '')
          .replace(/-/g, '');
        if (!/^[0-9a-f]{32}$/.test(hex)) throw new CodecError(`invalid input syntax for type uuid: "${s}"`);
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      }
      default:
        return s;
    }
  }
  switch (oid) {
    case Oid.int2:
      return buf.readInt16BE(0);
    case Oid.int4:
      return buf.readInt32BE(0);
    case Oid.oid:
      return buf.readUInt32BE(0);
    case Oid.int8: {
      const n = buf.readBigInt64BE(0);
      return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;
    }
    case Oid.float4:
      return buf.readFloatBE(0);
    case Oid.float8:
      return buf.readDoubleBE(0);
    case Oid.bool:
      return buf[0] !== 0;
    case Oid.bytea:
      return Buffer.from(buf);
    case Oid.uuid: {
      const h = buf.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case Oid.timestamptz:
    case Oid.timestamp: {
      const micros = buf.readBigInt64BE(0) + BigInt(PG_EPOCH_MS) * 1000n;
      return formatTimestampMicros(micros, oid === Oid.timestamptz);
    }
    case Oid.date: {
      const d = new Date(PG_EPOCH_MS + buf.readInt32BE(0) * 86_400_000);
      return d.toISOString().slice(0, 10);
    }
    case Oid.numeric:
      return decodeNumericBinary(buf);
    case Oid.jsonb:
      return buf.subarray(1).toString('utf8');
    default:
      return buf.toString('utf8');
  }
}

function decodeNumericBinary(buf: Buffer): string {
  const ndigits = buf.readInt16BE(0);
  const weight = buf.readInt16BE(2);
  const sign = buf.readUInt16BE(4);
  const dscale = buf.readUInt16BE(6);
  if (sign === 0xc000) return 'NaN';
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) digits.push(buf.readUInt16BE(8 + i * 2));
  let intPart = '';
  for (let w = 0; w <= weight; w++) intPart += String(digits[w] ?? 0).padStart(4, '0');
  intPart = intPart.replace(/^0+/, '') || '0';
  let frac = '';
  for (let i = weight + 1; frac.length < dscale; i++) {
    frac += i < 0 ? '0000' : String(digits[i] ?? 0).padStart(4, '0');
  }
  frac = frac.slice(0, dscale);
  return (sign === 0x4000 ? '-' : '') + intPart + (dscale ? '.' + frac : '');
}
