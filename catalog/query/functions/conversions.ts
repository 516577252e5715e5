// The conversions behind casts (expressions/casts.ts) and division, with PostgreSQL's errors.
import { canonicalTimestamp, formatArrayLiteral, parseArrayText } from '../../../pg/codecs';
import { SqlError } from '../../../pg/errors';
import { formatInterval, intervalMicros } from './datetime';
import { arr, type FunctionContext, type Register, SESSION, statementTime, type V } from './define';

const roundHalfAway = (n: number) => Math.sign(n) * Math.round(Math.abs(n));

function toInt(v: V, type: string): number | bigint | null {
  if (v === null || v === undefined) return null;
  // numeric -> integer rounds half away from zero in PostgreSQL (never truncates)
  if (typeof v === 'number') return toInt(String(roundHalfAway(v)), type);
  if (typeof v === 'bigint') return v;
  const s = String(v).trim();
  if (/^[+-]?\d+$/.test(s)) {
    const n = BigInt(s);
    const limit =
      type === 'int2'
        ? 32767n
        : type === 'int4'
          ? 2147483647n
          : type === 'oid'
            ? 4294967295n
            : 9223372036854775807n;
    if (n > limit || n < -limit - 1n)
      throw new SqlError('22003', `value "${s}" is out of range for type ${type}`);
    return Number.isSafeInteger(Number(n)) ? Number(n) : n;
  }
  if (/^[+-]?\d*\.\d+$/.test(s)) return toInt(String(roundHalfAway(Number(s))), type);
  if (s === 't' || s === 'true') return 1;
  if (s === 'f' || s === 'false') return 0;
  throw new SqlError(
    '22P02',
    `invalid input syntax for type ${type === 'int8' ? 'bigint' : type === 'int2' ? 'smallint' : 'integer'}: "${s}"`,
  );
}

/** A uuid as PostgreSQL prints it: lower-case hex in groups of 8-4-4-4-12. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function register(reg: Register, ctx: () => FunctionContext): void {
  reg('pg_to_int', (v: V, t: V) => toInt(v, String(t)));
  // LIMIT NULL is no limit, OFFSET NULL none; negative ones are errors (nodeLimit.c), which SQLite has not.
  reg('pg_limit_value', (v: V, clause: V) => {
    if (v === null) return clause === 'LIMIT' ? -1 : 0;
    if (Number(v) < 0)
      throw new SqlError(clause === 'LIMIT' ? '2201W' : '2201X', `${clause} must not be negative`);
    return v;
  });
  reg('pg_to_float', (v: V) => {
    if (v === null) return null;
    const n = Number(typeof v === 'string' ? v.trim() : v);
    if (Number.isNaN(n) && String(v).trim() !== 'NaN') {
      throw new SqlError('22P02', `invalid input syntax for type double precision: "${v}"`);
    }
    return n;
  });
  reg('pg_to_bool', (v: V) => {
    if (v === null) return null;
    const s = String(v).trim().toLowerCase();
    if (['t', 'true', 'y', 'yes', 'on', '1'].includes(s)) return 1;
    if (['f', 'false', 'n', 'no', 'off', '0'].includes(s)) return 0;
    throw new SqlError('22P02', `invalid input syntax for type boolean: "${v}"`);
  });
  reg('pg_to_uuid', (v: V) => {
    if (v === null) return null;
    // Already in the output form (every uuid the catalog holds, most a client sends): as it is.
    if (typeof v === 'string' && CANONICAL_UUID.test(v)) return v;
    const s = String(v).trim().toLowerCase().replace(/[{}]/g, '');
    const hex = s.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/.test(hex))
      throw new SqlError('22P02', `invalid input syntax for type uuid: "${v}"`);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  });
  reg('pg_to_timestamptz', (v: V) => {
    if (v === null) return null;
    const s = String(v).trim().toLowerCase();
    if (s === 'now') return statementTime(ctx());
    return canonicalTimestamp(String(v));
  });
  reg('pg_to_interval', (v: V) => (v === null ? null : formatInterval(intervalMicros(String(v)))));
  reg('pg_div', (a: V, b: V, integral: V) => {
    if (a === null || b === null) return null;
    if (Number(b) === 0) throw new SqlError('22012', 'division by zero');
    for (const v of [a, b])
      if (Number.isNaN(Number(v)) && String(v) !== 'NaN')
        throw new SqlError(
          '22P02',
          `invalid input syntax for type ${Number(integral) ? 'integer' : 'numeric'}: "${v}"`,
        );
    if (Number(integral)) {
      const x = BigInt(Math.trunc(Number(a)));
      const y = BigInt(Math.trunc(Number(b)));
      return x / y;
    }
    return Number(a) / Number(b);
  });
  reg(
    'pg_reg_oid',
    (v: V, kind: V) => {
      if (v === null) return null;
      if (typeof v === 'number' || /^\d+$/.test(String(v))) return Number(v);
      const oid = ctx().regOid(String(kind), String(v));
      if (oid === null) {
        const what = {
          regclass: 'relation',
          regtype: 'type',
          regnamespace: 'schema',
          regproc: 'function',
          regprocedure: 'function',
        }[String(kind)];
        const code = kind === 'regclass' ? '42P01' : kind === 'regproc' ? '42883' : '42704';
        throw new SqlError(code, `${what} "${v}" does not exist`);
      }
      return oid;
    },
    SESSION,
  );
  reg(
    'pg_reg_names',
    (a: V, kind: V) =>
      a === null
        ? null
        : formatArrayLiteral(
            arr(a).map((x) =>
              x === null || !/^\d+$/.test(x)
                ? x
                : Number(x) === 0
                  ? '-'
                  : (ctx().regName(String(kind), Number(x)) ?? x),
            ),
          ),
    SESSION,
  );
  reg('pg_vector_to_array', (a: V) => (a === null ? null : formatArrayLiteral(arr(a))));
  reg('pg_to_array', (a: V) => {
    if (a === null) return null;
    // a multidimensional array is kept as written (its elements are arrays, which arr() does not read)
    if (/^\s*\{\s*\{/.test(String(a))) return a;
    const b = parseArrayText(String(a));
    return formatArrayLiteral(b.items, b.lower);
  });
  reg(
    'pg_reg_name',
    (oid: V, kind: V) => (oid === null ? null : (ctx().regName(String(kind), Number(oid)) ?? String(oid))),
    SESSION,
  );
}
