// PostgreSQL's text and binary formats for the types of types.ts: encoding result values and decoding Bind
// parameters. Values handed around inside the server are plain JS values (string, number, bigint, boolean,
// Buffer, null); timestamps travel as PostgreSQL's ISO text in UTC.
import { SqlError } from './errors';
import { arrayElement, hasBinaryCodec, Oid, typeByOid, typeNameOfOid } from './types';

// ---------- timestamps ----------
// Timestamps travel inside the server as PostgreSQL's ISO text form in UTC: 'YYYY-MM-DD HH:MM:SS[.ffffff]+00'.

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Parses our text timestamp (or any ISO-8601 string) into microseconds since the Unix epoch. */
export function parseTimestampMicros(text: string): bigint {
  const m =
    /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$/i.exec(
      text.trim(),
    );
  if (!m) throw new SqlError('22007', `invalid input syntax for type timestamp with time zone: "${text}"`);
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
  return nearlyCanonical(text, withZone) ?? formatTimestampMicros(parseTimestampMicros(text), withZone);
}

/**
 * Text in the form formatTimestampMicros gives, but perhaps with trailing zeros in its fraction: the catalog
 * stores its timestamps so (milliseconds, '.040' among them), and every row of sys.tasks has several, so
 * they are recognised and trimmed instead of parsed and formatted again. Years before 1000 and days past the
 * 28th take the long way (Date.UTC's reading of two-digit years, month ends), as does any other form.
 */
const CANONICAL_TIMESTAMP =
  /^[1-9]\d{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8]) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(\+00)?$/;

/** The canonical text of a nearly canonical timestamp (see above), or null for any other text. */
function nearlyCanonical(text: string, withZone: boolean): string | null {
  const m = CANONICAL_TIMESTAMP.exec(text);
  if (m === null || (m[2] !== undefined) !== withZone) return null;
  const fraction = m[1];
  if (fraction === undefined || fraction.charCodeAt(fraction.length - 1) !== 48) return text;
  const trimmed = fraction.replace(/\.?0+$/, '');
  return text.slice(0, 19) + trimmed + (withZone ? '+00' : '');
}

// ---------- arrays ----------

/** Parses a PostgreSQL one-dimensional array literal ('{a,"b c",NULL}') into strings and nulls. */
export function parseArrayLiteral(text: string): (string | null)[] {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}'))
    throw new SqlError('22P02', `malformed array literal: "${text}"`);
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

/**
 * An array's text form with its lower bound: `{a,b}` counts from 1, `[lo:hi]={a,b}` (PostgreSQL's form for any
 * other lower bound) from lo, and hi must be the last subscript of the elements given (22P02 otherwise).
 */
export function parseArrayText(text: string): { lower: number; items: (string | null)[] } {
  const s = text.trim();
  const bounds = /^\[\s*([+-]?\d+)\s*:\s*([+-]?\d+)\s*\]\s*=\s*/.exec(s);
  if (!bounds) return { lower: 1, items: parseArrayLiteral(s) };
  const items = parseArrayLiteral(s.slice(bounds[0].length));
  const lower = Number(bounds[1]);
  if (Number(bounds[2]) - lower + 1 !== items.length)
    throw new SqlError('22P02', `malformed array literal: "${text}"`, {
      detail: 'Specified array dimensions do not match array contents.',
    });
  return { lower, items };
}

/** The text form of a one-dimensional array whose first subscript is `lower` (PostgreSQL's array_out). */
export function formatArrayLiteral(items: readonly unknown[], lower = 1): string {
  if (lower !== 1 && items.length)
    return `[${lower}:${lower + items.length - 1}]=${formatArrayLiteral(items)}`;
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

/**
 * A value of an object-identifier alias type (regclass, regtype, regnamespace): an OID whose text output is the
 * object's name (schema-qualified where the search path needs it), and whose binary form is the OID. The
 * catalog that knows the name makes it; a plain object, so it crosses a worker thread.
 */
export interface RegValue {
  regOid: number;
  regName: string;
}

export const isRegValue = (v: unknown): v is RegValue =>
  typeof v === 'object' && v !== null && 'regOid' in v && 'regName' in v;

/**
 * A value as a PostgreSQL server printed it (the catalog readers of a catalog in PostgreSQL): its text form is
 * that text, as it is; its binary form is what `binary` makes of it (the reader knows the style it was printed
 * in, and refuses what it cannot make). Such values stay in the thread that made them.
 */
export class PgText {
  constructor(
    readonly text: string,
    readonly binary: () => Buffer,
  ) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** Encodes a value in PostgreSQL's text format for the given type. */
export function encodeText(v: unknown, oid: number): string {
  if (v instanceof PgText) return v.text;
  if (isRegValue(v)) return v.regName;
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
      return typeof v === 'number' ? String(exactInteger(v)) : String(v);
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
  if (!m) throw new SqlError('22P02', `invalid numeric "${text}"`);
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
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new SqlError('22P02', `invalid input syntax for type uuid: "${v}"`);
  return Buffer.from(hex, 'hex');
}

/**
 * An integer result held as a JavaScript number: beyond 2^53 it may no longer be the value computed (SQLite's
 * int64 read as a double), so it is an error rather than a nearby number printed as if it were the answer.
 */
function exactInteger(v: number): number {
  const n = Math.trunc(v);
  if (!Number.isSafeInteger(n))
    throw new SqlError('22003', 'integer result beyond ±2^53: this server cannot return it exactly');
  return n;
}

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(exactInteger(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return BigInt(String(v).trim());
}

function arrayBinary(v: unknown, elemOid: number): Buffer {
  const { items, lower } = Array.isArray(v) ? { items: v, lower: 1 } : parseArrayText(String(v));
  const parts: Buffer[] = [];
  const header = Buffer.alloc(items.length ? 20 : 12);
  header.writeInt32BE(items.length ? 1 : 0, 0);
  header.writeInt32BE(items.some((x) => x === null) ? 1 : 0, 4);
  header.writeInt32BE(elemOid, 8);
  if (items.length) {
    header.writeInt32BE(items.length, 12);
    header.writeInt32BE(lower, 16);
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

/** A fixed-width binary value: size bytes, filled by write. */
function fixedWidth(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

/** Encodes a value in PostgreSQL's binary format for the given type. */
export function encodeBinary(v: unknown, oid: number): Buffer {
  if (v instanceof PgText) return v.binary();
  switch (oid) {
    case Oid.bool:
      return Buffer.from([boolOf(v) ? 1 : 0]);
    case Oid.int2:
      return fixedWidth(2, (b) => b.writeInt16BE(Number(v), 0));
    case Oid.int4:
      return fixedWidth(4, (b) => b.writeInt32BE(Number(v), 0));
    case Oid.oid:
    case Oid.regproc:
    case Oid.regprocedure:
    case Oid.regclass:
    case Oid.regtype:
    case Oid.regnamespace:
    case Oid.xid:
      return fixedWidth(4, (b) => b.writeUInt32BE(Number(isRegValue(v) ? v.regOid : v) >>> 0, 0));
    case Oid.int8:
      return fixedWidth(8, (b) => b.writeBigInt64BE(toBigInt(v), 0));
    case Oid.float4:
      return fixedWidth(4, (b) => b.writeFloatBE(Number(v), 0));
    case Oid.float8:
      return fixedWidth(8, (b) => b.writeDoubleBE(Number(v), 0));
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
      const elem = arrayElement(oid);
      if (elem !== undefined) return arrayBinary(v, elem);
      // Text-like types share the text bytes as their binary form; for any other type there is no binary
      // format here, and sending text bytes where binary was asked for would be a wrong answer.
      if (!hasBinaryCodec(oid)) throw noBinaryFunction('output', oid);
      return Buffer.from(encodeText(v, oid));
    }
  }
}

/**
 * Interval in binary: microseconds (int64), days (int32), months (int32). Reads PostgreSQL's default output
 * form, the one this server produces: '[N year[s]] [N mon[s]] [N day[s]] [[-]HH:MM:SS[.ffffff]]'.
 */
function intervalBinary(text: string): Buffer {
  const m =
    /^\s*(?:(-?\d+) years? ?)?(?:(-?\d+) mons? ?)?(?:(-?\d+) days? ?)?(?:(-)?(\d+):(\d\d):(\d\d(?:\.\d+)?))?\s*$/.exec(
      text,
    );
  if (!m || text.trim() === '')
    throw new SqlError('22007', `invalid input syntax for type interval: "${text}"`);
  const [, years, mons, days, neg, h, mi, sec] = m;
  const micros =
    h === undefined
      ? 0n
      : BigInt(neg ? -1 : 1) *
        (BigInt(+h * 3600 + +mi * 60) * 1_000_000n + BigInt(Math.round(Number(sec) * 1e6)));
  const b = Buffer.alloc(16);
  b.writeBigInt64BE(micros, 0);
  b.writeInt32BE(days ? +days : 0, 8);
  b.writeInt32BE((years ? +years * 12 : 0) + (mons ? +mons : 0), 12);
  return b;
}

// ---------- parameter decoding ----------

const noBinaryFunction = (dir: 'input' | 'output', oid: number) =>
  new SqlError('42883', `no binary ${dir} function available for type ${typeNameOfOid(oid) ?? oid}`);

const insufficientData = () => new SqlError('08P01', 'insufficient data left in message');

/** The first invalid UTF-8 sequence in buf, as PostgreSQL names it (0x.. 0x..), or null when valid. */
function invalidUtf8(buf: Buffer): string | null {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    if (b === 0) return '0x00';
    const n =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = n > 0 && i + n <= buf.length;
    for (let k = 1; ok && k < n; k++) ok = (buf[i + k] & 0xc0) === 0x80;
    if (ok && n === 3) {
      const c = ((b & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6);
      ok = c >= 0x800 && (c < 0xd800 || c > 0xdfff);
    }
    if (ok && n === 4) {
      const c = ((b & 0x07) << 18) | ((buf[i + 1] & 0x3f) << 12);
      ok = c >= 0x10000 && c <= 0x10ffff;
    }
    if (!ok) {
      return [...buf.subarray(i, Math.min(i + Math.max(n, 1), buf.length))]
        .map((x) => '0x' + x.toString(16).padStart(2, '0'))
        .join(' ');
    }
    i += n;
  }
  return null;
}

/** A parameter's bytes as text: valid UTF-8 without NUL, as PostgreSQL's encoding check insists (22021). */
function textOf(buf: Buffer): string {
  const bad = invalidUtf8(buf);
  if (bad) throw new SqlError('22021', `invalid byte sequence for encoding "UTF8": ${bad}`);
  return buf.toString('utf8');
}

const INT_RANGE: Record<number, [bigint, bigint, string]> = {
  [Oid.int2]: [-32768n, 32767n, 'smallint'],
  [Oid.int4]: [-2147483648n, 2147483647n, 'integer'],
  [Oid.int8]: [-(2n ** 63n), 2n ** 63n - 1n, 'bigint'],
  [Oid.oid]: [-2147483648n, 4294967295n, 'oid'],
};

/** A JS number where it is exact, else a BigInt. */
const exactNumber = (n: bigint): number | bigint =>
  n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;

function integerText(s: string, oid: number): number | bigint {
  const [lo, hi, name] = INT_RANGE[oid];
  // Up to 15 digits a double holds the value exactly: no BigInt is needed to read or range-check it.
  if (s.length <= 15 && /^[+-]?\d+$/.test(s)) {
    const n = Number(s) + 0; // -0 reads as 0, as BigInt('-0') does
    if (n < lo || n > hi) throw new SqlError('22003', `value "${s}" is out of range for type ${name}`);
    return oid === Oid.oid && n < 0 ? n + 4294967296 : n;
  }
  if (!/^\s*[+-]?\d+\s*$/.test(s))
    throw new SqlError('22P02', `invalid input syntax for type ${name}: "${s}"`);
  const n = BigInt(s.trim());
  if (n < lo || n > hi) throw new SqlError('22003', `value "${s}" is out of range for type ${name}`);
  // oid input wraps negative values around, as PostgreSQL's oidin does
  return exactNumber(oid === Oid.oid && n < 0n ? n + 4294967296n : n);
}

/** PostgreSQL's boolin: unique prefixes of true/false/yes/no, on/off, 1/0, case-insensitive. */
export function parseBool(s: string): boolean {
  const v = s.trim().toLowerCase();
  if (v.length > 0) {
    if ('true'.startsWith(v) || 'yes'.startsWith(v) || v === 'on' || v === '1') return true;
    if ('false'.startsWith(v) || 'no'.startsWith(v) || v === 'of' || v === 'off' || v === '0') return false;
  }
  throw new SqlError('22P02', `invalid input syntax for type boolean: "${s}"`);
}

function uuidText(s: string): string {
  const hex = s
    .trim()
    .toLowerCase()
    .replace(/^\{|\}$/g, '')
    .replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new SqlError('22P02', `invalid input syntax for type uuid: "${s}"`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function decodeText(s: string, oid: number): unknown {
  switch (oid) {
    case Oid.int2:
    case Oid.int4:
    case Oid.int8:
    case Oid.oid:
      return integerText(s, oid);
    case Oid.float4:
    case Oid.float8: {
      const t = s.trim();
      const n = /^(nan|[+-]?inf(inity)?)$/i.test(t)
        ? Number(t.replace(/inf(inity)?/i, 'Infinity'))
        : Number(t);
      if (t === '' || (Number.isNaN(n) && t.toLowerCase() !== 'nan'))
        throw new SqlError('22P02', `invalid input syntax for type double precision: "${s}"`);
      return n;
    }
    case Oid.bool:
      return parseBool(s);
    case Oid.bytea:
      return s.startsWith('\\x') ? Buffer.from(s.slice(2), 'hex') : Buffer.from(s);
    case Oid.timestamptz:
      return canonicalTimestamp(s, true);
    case Oid.uuid:
      return uuidText(s);
    case Oid.json:
    case Oid.jsonb:
      return checkJsonText(s);
    default:
      return s;
  }
}

/** A json or jsonb value as the client wrote it, once it is known to be JSON (jsonfuncs.c: 22P02). */
export function checkJsonText(s: string): string {
  try {
    JSON.parse(s);
  } catch {
    throw new SqlError('22P02', 'invalid input syntax for type json', {
      detail: `Token "${s.slice(0, 40)}" is invalid.`,
    });
  }
  return s;
}

/**
 * The length of a fixed-size type's binary format: its typlen (types.ts), except name, whose binary form is its
 * text and so of any length, and the pseudo-types (void's binary form is empty).
 */
function binaryLength(oid: number): number | null {
  const t = typeByOid(oid);
  return t && t.len > 0 && oid !== Oid.name && t.category !== 'P' ? t.len : null;
}

function decodeBinary(buf: Buffer, oid: number): unknown {
  if (!hasBinaryCodec(oid)) throw noBinaryFunction('input', oid);
  const fixed = binaryLength(oid);
  if (fixed !== null && buf.length < fixed) throw insufficientData();
  if (fixed !== null && buf.length > fixed) throw new SqlError('22P03', 'incorrect binary data format');
  switch (oid) {
    case Oid.int2:
      return buf.readInt16BE(0);
    case Oid.int4:
      return buf.readInt32BE(0);
    case Oid.oid:
    case Oid.regproc:
    case Oid.regprocedure:
    case Oid.regclass:
    case Oid.regtype:
    case Oid.regnamespace:
    case Oid.xid:
      return buf.readUInt32BE(0);
    case Oid.int8:
      return exactNumber(buf.readBigInt64BE(0));
    case Oid.float4:
      return buf.readFloatBE(0);
    case Oid.float8:
      return buf.readDoubleBE(0);
    case Oid.bool:
      return buf[0] !== 0;
    case Oid.char:
      return String.fromCharCode(buf[0]);
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
    case Oid.interval:
      return formatInterval(buf.readBigInt64BE(0), buf.readInt32BE(8), buf.readInt32BE(12));
    case Oid.numeric:
      return decodeNumericBinary(buf);
    case Oid.jsonb:
      if (buf.length < 1) throw insufficientData();
      if (buf[0] !== 1) throw new SqlError('22P03', `unsupported jsonb version number ${buf[0]}`);
      return textOf(buf.subarray(1));
    case Oid.text:
    case Oid.varchar:
    case Oid.bpchar:
    case Oid.name:
    case Oid.json:
    case Oid.unknown:
    case Oid.pg_node_tree:
      return textOf(buf);
    default: {
      const elem = arrayElement(oid);
      if (elem !== undefined && hasBinaryCodec(oid)) return decodeBinaryArray(buf, elem);
      throw noBinaryFunction('input', oid);
    }
  }
}

/**
 * A binary array (array_recv): ndim, has-nulls flag, element type, then size and lower bound per dimension,
 * then each element as length + bytes (-1 for NULL). Returned as the text literal a text-format array
 * parameter would have been, which is what the query layer takes.
 */
function decodeBinaryArray(buf: Buffer, elem: number): string {
  if (buf.length < 12) throw insufficientData();
  const ndim = buf.readInt32BE(0);
  const elemType = buf.readUInt32BE(8);
  if (ndim < 0 || ndim > 6) throw new SqlError('22P03', `invalid number of dimensions: ${ndim}`);
  if (ndim > 1) throw new SqlError('0A000', 'multidimensional array parameters are not supported');
  if (elemType !== elem && !(elem === Oid.int2 && elemType === Oid.int2) && ndim > 0)
    throw new SqlError(
      '42804',
      `binary data has array element type ${elemType} (${typeNameOfOid(elemType) ?? 'unknown'}) instead of expected ${elem} (${typeNameOfOid(elem)})`,
    );
  if (ndim === 0) {
    if (buf.length !== 12) throw new SqlError('22P03', 'incorrect binary data format');
    return '{}';
  }
  if (buf.length < 20) throw insufficientData();
  const count = buf.readInt32BE(12);
  if (count < 0) throw new SqlError('22P03', 'incorrect binary data format');
  const items: unknown[] = [];
  let at = 20;
  for (let i = 0; i < count; i++) {
    if (at + 4 > buf.length) throw insufficientData();
    const len = buf.readInt32BE(at);
    at += 4;
    if (len === -1) {
      items.push(null);
      continue;
    }
    if (len < 0 || at + len > buf.length) throw insufficientData();
    items.push(decodeBinary(buf.subarray(at, at + len), elem));
    at += len;
  }
  if (at !== buf.length) throw new SqlError('22P03', 'incorrect binary data format');
  return formatArrayLiteral(items.map((v) => (Buffer.isBuffer(v) ? '\\x' + v.toString('hex') : v)));
}

/** PostgreSQL's default interval output ('1 year 2 mons 3 days 04:05:06.5'). */
export function formatInterval(micros: bigint, days: number, months: number): string {
  const parts: string[] = [];
  const years = Math.trunc(months / 12);
  const mons = months % 12;
  if (years) parts.push(`${years} year${Math.abs(years) === 1 ? '' : 's'}`);
  if (mons) parts.push(`${mons} mon${Math.abs(mons) === 1 ? '' : 's'}`);
  if (days) parts.push(`${days} day${Math.abs(days) === 1 ? '' : 's'}`);
  if (micros !== 0n || parts.length === 0) {
    const neg = micros < 0n;
    let m = neg ? -micros : micros;
    const h = m / 3_600_000_000n;
    m %= 3_600_000_000n;
    const mi = m / 60_000_000n;
    m %= 60_000_000n;
    const s = m / 1_000_000n;
    const f = m % 1_000_000n;
    const pad = (x: bigint) => String(x).padStart(2, '0');
    let t = `${neg ? '-' : ''}${pad(h)}:${pad(mi)}:${pad(s)}`;
    if (f) t += '.' + String(f).padStart(6, '0').replace(/0+$/, '');
    parts.push(t);
  }
  return parts.join(' ');
}

/**
 * Decodes a Bind parameter into a JS value: strings for text-like types, numbers/bigints, booleans, Buffers.
 * Bytes that do not decode are an error (22P02, 22P03, 22021, 08P01), never a guess.
 */
export function decodeParam(buf: Buffer | null, oid: number, binary: boolean): unknown {
  if (buf === null) return null;
  if (!binary) return decodeText(textOf(buf), oid);
  return decodeBinary(buf, oid);
}

function decodeNumericBinary(buf: Buffer): string {
  if (buf.length < 8) throw insufficientData();
  const ndigits = buf.readInt16BE(0);
  if (ndigits < 0 || buf.length < 8 + ndigits * 2) throw insufficientData();
  if (buf.length > 8 + ndigits * 2) throw new SqlError('22P03', 'incorrect binary data format');
  const sign0 = buf.readUInt16BE(4);
  if (sign0 !== 0 && sign0 !== 0x4000 && sign0 !== 0xc000)
    throw new SqlError('22P03', 'invalid sign in external "numeric" value');
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
