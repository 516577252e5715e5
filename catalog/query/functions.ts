// PostgreSQL functions for the catalog query path: how each translates to SQLite, what type it returns, and
// the JavaScript implementations registered on every reader connection for what SQLite lacks.
import type BetterSqlite3 from 'better-sqlite3';
import {
  canonicalTimestamp,
  formatArrayLiteral,
  formatTimestampMicros,
  parseArrayLiteral,
  parseTimestampMicros,
} from '../../pg/codecs';
import { SqlError } from '../../pg/errors';
import { canonicalType, typeNameOfOid } from './pgtypes';

export interface FnDef {
  sql(args: string[], types: (string | null)[], distinct: boolean): string;
  returns(types: (string | null)[]): string | null;
  argTypes?: (string | null)[];
  minArgs?: number;
  aggregate?: boolean;
}

const fixed =
  (t: string | null) =>
  (_: (string | null)[]): string | null =>
    t;
const firstArg = (types: (string | null)[]) => types.find((t) => t && t !== 'unknown') ?? 'text';

/** A function passed straight to an SQLite function of the given name. */
function call(
  sqlite: string,
  returns: string | null | ((t: (string | null)[]) => string | null),
  argTypes?: (string | null)[],
): FnDef {
  return {
    sql: (args) => `${sqlite}(${args.join(', ')})`,
    returns: typeof returns === 'function' ? returns : fixed(returns),
    argTypes,
  };
}

function aggregate(sqlite: string, returns: (t: (string | null)[]) => string | null): FnDef {
  return {
    sql: (args, _t, distinct) => `${sqlite}(${distinct ? 'DISTINCT ' : ''}${args.join(', ')})`,
    returns,
    aggregate: true,
  };
}

const constant = (sql: string, type: string): FnDef => ({ sql: () => sql, returns: fixed(type) });

export const FUNCTIONS: Record<string, FnDef> = {
  // aggregates
  count: {
    sql: (a, _t, d) => `count(${d ? 'DISTINCT ' : ''}${a.length ? a.join(', ') : '*'})`,
    returns: fixed('int8'),
    aggregate: true,
  },
  sum: aggregate('sum', (t) =>
    t[0] === 'float8' || t[0] === 'float4' ? 'float8' : t[0] === 'numeric' ? 'numeric' : 'int8',
  ),
  avg: aggregate('avg', (t) => (t[0] === 'float8' || t[0] === 'float4' ? 'float8' : 'numeric')),
  min: aggregate('min', firstArg),
  max: aggregate('max', firstArg),
  bool_and: aggregate('min', fixed('bool')),
  bool_or: aggregate('max', fixed('bool')),
  every: aggregate('min', fixed('bool')),
  string_agg: aggregate('group_concat', fixed('text')),
  array_agg: aggregate('pg_array_agg', (t) => '_' + (t[0] ?? 'text').replace(/^_/, '')),
  json_agg: aggregate('json_group_array', fixed('json')),
  // window functions
  row_number: call('row_number', 'int8'),
  rank: call('rank', 'int8'),
  dense_rank: call('dense_rank', 'int8'),
  lag: call('lag', firstArg),
  lead: call('lead', firstArg),
  // scalar
  coalesce: call('coalesce', firstArg),
  nullif: call('nullif', firstArg),
  greatest: call('max', firstArg),
  least: call('min', firstArg),
  lower: call('lower', 'text'),
  upper: call('upper', 'text'),
  length: call('length', 'int4'),
  char_length: call('length', 'int4'),
  character_length: call('length', 'int4'),
  octet_length: { sql: (a) => `length(CAST(${a[0]} AS BLOB))`, returns: fixed('int4') },
  substr: call('substr', 'text'),
  substring: call('substr', 'text'),
  replace: call('replace', 'text'),
  btrim: call('trim', 'text'),
  ltrim: call('ltrim', 'text'),
  rtrim: call('rtrim', 'text'),
  trim: call('trim', 'text'),
  concat: {
    sql: (a) => `(${a.map((x) => `coalesce(${x}, '')`).join(' || ') || "''"})`,
    returns: fixed('text'),
  },
  concat_ws: call('pg_concat_ws', 'text'),
  left: { sql: (a) => `pg_left(${a[0]}, ${a[1]})`, returns: fixed('text') },
  right: { sql: (a) => `pg_right(${a[0]}, ${a[1]})`, returns: fixed('text') },
  position: { sql: (a) => `instr(${a[1]}, ${a[0]})`, returns: fixed('int4') },
  strpos: call('instr', 'int4'),
  split_part: call('pg_split_part', 'text'),
  lpad: call('pg_lpad', 'text'),
  rpad: call('pg_rpad', 'text'),
  repeat: call('pg_repeat', 'text'),
  reverse: call('pg_reverse', 'text'),
  md5: call('pg_md5', 'text'),
  abs: call('abs', firstArg),
  round: call('round', (t) => (t[0] === 'float8' ? 'float8' : 'numeric')),
  ceil: call('ceil', firstArg),
  ceiling: call('ceil', firstArg),
  floor: call('floor', firstArg),
  trunc: call('trunc', firstArg),
  sqrt: call('sqrt', 'float8'),
  power: call('power', 'float8'),
  mod: { sql: (a) => `(${a[0]} % ${a[1]})`, returns: firstArg },
  random: call('random_float', 'float8'),
  now: constant('pg_now()', 'timestamptz'),
  transaction_timestamp: constant('pg_now()', 'timestamptz'),
  statement_timestamp: constant('pg_now()', 'timestamptz'),
  clock_timestamp: constant('pg_now()', 'timestamptz'),
  date_trunc: call('pg_date_trunc', 'timestamptz'),
  date_part: call('pg_extract', 'float8'),
  to_char: call('pg_to_char', 'text'),
  age: call('pg_age', 'interval'),
  to_timestamp: call('pg_to_timestamp', 'timestamptz'),
  gen_random_uuid: call('pg_gen_random_uuid', 'uuid'),
  pg_is_distinct: call('pg_is_distinct', 'bool'),
  pg_field: call('pg_field', null),
  pg_index_column_has_property: constant('0', 'bool'),
  pg_indexam_has_property: constant('0', 'bool'),
  pg_index_has_property: constant('0', 'bool'),
  // session and system information
  version: constant('pg_version()', 'text'),
  current_database: constant('pg_current_database()', 'name'),
  current_schema: constant("'public'", 'name'),
  current_schemas: call('pg_current_schemas', '_name', ['bool']),
  current_user: constant('pg_current_user()', 'name'),
  session_user: constant('pg_current_user()', 'name'),
  current_setting: call('pg_current_setting', 'text', ['text', 'bool']),
  set_config: call('pg_set_config', 'text', ['text', 'text', 'bool']),
  pg_backend_pid: constant('pg_backend_pid()', 'int4'),
  inet_server_addr: constant("'127.0.0.1'", 'text'),
  inet_server_port: constant("pg_current_setting('port', 1)", 'int4'),
  inet_client_addr: constant('NULL', 'text'),
  pg_postmaster_start_time: constant('pg_postmaster_start_time()', 'timestamptz'),
  pg_is_in_recovery: constant('0', 'bool'),
  pg_encoding_to_char: call('pg_encoding_to_char', 'name'),
  pg_char_to_encoding: constant('6', 'int4'),
  format_type: call('pg_format_type', 'text', ['oid', 'int4']),
  pg_get_userbyid: call('pg_get_userbyid', 'name', ['oid']),
  pg_table_is_visible: call('pg_table_is_visible', 'bool', ['oid']),
  pg_type_is_visible: constant('1', 'bool'),
  pg_function_is_visible: constant('1', 'bool'),
  pg_collation_is_visible: constant('1', 'bool'),
  pg_opclass_is_visible: constant('1', 'bool'),
  has_table_privilege: constant('1', 'bool'),
  has_schema_privilege: constant('1', 'bool'),
  has_database_privilege: constant('1', 'bool'),
  has_any_column_privilege: constant('1', 'bool'),
  has_column_privilege: constant('1', 'bool'),
  has_function_privilege: constant('1', 'bool'),
  pg_has_role: constant('1', 'bool'),
  obj_description: call('pg_obj_description', 'text'),
  col_description: call('pg_col_description', 'text'),
  shobj_description: constant('NULL', 'text'),
  pg_relation_size: call('pg_relation_size', 'int8'),
  pg_total_relation_size: call('pg_relation_size', 'int8'),
  pg_table_size: call('pg_relation_size', 'int8'),
  pg_indexes_size: constant('0', 'int8'),
  pg_database_size: constant('pg_database_size()', 'int8'),
  pg_size_pretty: call('pg_size_pretty', 'text'),
  quote_ident: call('pg_quote_ident', 'text'),
  quote_literal: call('quote', 'text'),
  pg_get_expr: constant('NULL', 'text'),
  pg_get_indexdef: call('pg_get_indexdef_fn', 'text'),
  pg_get_constraintdef: call('pg_get_constraintdef_fn', 'text'),
  pg_get_viewdef: constant('NULL', 'text'),
  pg_get_triggerdef: constant('NULL', 'text'),
  pg_get_function_arguments: constant("''", 'text'),
  pg_get_function_result: constant("''", 'text'),
  pg_get_function_identity_arguments: constant("''", 'text'),
  pg_get_partkeydef: constant('NULL', 'text'),
  pg_get_statisticsobjdef_columns: constant('NULL', 'text'),
  pg_tablespace_location: constant("''", 'text'),
  pg_get_serial_sequence: constant('NULL', 'text'),
  pg_is_other_temp_schema: constant('0', 'bool'),
  pg_sleep: call('pg_sleep_fn', 'void'),
  pg_stat_get_numscans: constant('0', 'int8'),
  pg_stat_get_tuples_returned: constant('0', 'int8'),
  pg_stat_get_live_tuples: constant('0', 'int8'),
  pg_relation_is_publishable: constant('0', 'bool'),
  pg_my_temp_schema: constant('0', 'oid'),
  txid_current: constant('1', 'int8'),
  pg_current_xact_id: constant('1', 'int8'),
  array_to_string: call('pg_array_to_string', 'text'),
  array_length: call('pg_array_length', 'int4'),
  array_upper: call('pg_array_length', 'int4'),
  array_lower: { sql: (a) => `(CASE WHEN pg_array_length(${a[0]}) > 0 THEN 1 END)`, returns: fixed('int4') },
  cardinality: call('pg_array_length', 'int4'),
  array_position: call('pg_array_position', 'int4'),
  string_to_array: call('pg_string_to_array', '_text'),
  regexp_replace: call('pg_regexp_replace', 'text'),
  json_build_object: call('json_object', 'json'),
  to_json: call('pg_to_json', 'json'),
  row_to_json: call('pg_to_json', 'json'),
};

export interface TableFunction {
  sqlite: string;
  columns: { name: string; type: string }[];
}

/** Set-returning functions usable in FROM, backed by SQLite table-valued functions. */
export function tableFunction(name: string, argTypes: (string | null)[]): TableFunction | null {
  switch (name) {
    case 'generate_series': {
      const t = argTypes.some((x) => x === 'int8') ? 'int8' : 'int4';
      return { sqlite: 'pg_generate_series', columns: [{ name: 'value', type: t }] };
    }
    case 'unnest':
      return {
        sqlite: 'pg_array_each',
        columns: [{ name: 'value', type: (argTypes[0] ?? '_text').replace(/^_/, '') || 'text' }],
      };
    case '_pg_expandarray':
      return {
        sqlite: 'pg_expandarray',
        columns: [
          { name: 'x', type: 'int4' },
          { name: 'n', type: 'int4' },
        ],
      };
    case 'pg_get_keywords':
      return {
        sqlite: 'pg_get_keywords',
        columns: [
          { name: 'word', type: 'text' },
          { name: 'catcode', type: 'char' },
          { name: 'catdesc', type: 'text' },
        ],
      };
    default:
      return null;
  }
}

// ---------- JavaScript implementations ----------

/** Per-statement state the functions read: the session's user and settings, and catalog lookups. */
export interface FunctionContext {
  user: string;
  database: string;
  pid: number;
  settings: Map<string, string>;
  changedSettings: Map<string, string>;
  serverVersion: string;
  startedAt: string;
  /** regclass/regtype/regnamespace resolution against the emulated catalog. */
  regOid(kind: string, name: string): number | null;
  regName(kind: string, oid: number): string | null;
  userName(oid: number): string | null;
  relationVisible(oid: number): boolean;
  description(oid: number, sub: number | null): string | null;
  relationSize(oid: number): number;
  databaseSize(): number;
  /** CREATE INDEX text of an emulated index, and the definition of a constraint, by OID. */
  /** The whole CREATE INDEX (col 0) or the name of key column `col` (1-based), as pg_get_indexdef gives. */
  indexDef(oid: number, col: number): string | null;
  constraintDef(oid: number): string | null;
}

type V = unknown;

function arr(v: V): (string | null)[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map((x) => (x === null ? null : String(x)));
  const s = String(v);
  if (!s.startsWith('{')) return s.trim() ? s.trim().split(/\s+/) : []; // int2vector / oidvector text form
  return parseArrayLiteral(s);
}

/** Converts a JS RegExp-incompatible PostgreSQL pattern detail where it matters (ARE classes). */
function pgRegex(pattern: string, flags: string): RegExp {
  const p = pattern
    .replace(/\[\[:alpha:\]\]/g, '[A-Za-z]')
    .replace(/\[\[:digit:\]\]/g, '[0-9]')
    .replace(/\[\[:space:\]\]/g, '\\s')
    .replace(/\[\[:alnum:\]\]/g, '[A-Za-z0-9]');
  try {
    return new RegExp(p, flags);
  } catch (e) {
    throw new SqlError('2201B', `invalid regular expression: ${(e as Error).message}`);
  }
}

const regexCache = new Map<string, RegExp>();
function cachedRegex(pattern: string, flags: string): RegExp {
  const key = flags + '\0' + pattern;
  let r = regexCache.get(key);
  if (!r) {
    if (regexCache.size > 500) regexCache.clear();
    r = pgRegex(pattern, flags);
    regexCache.set(key, r);
  }
  return r;
}

function intervalMicros(v: string): bigint {
  const s = v.trim().toLowerCase();
  let total = 0n;
  const re =
    /(-?\d+(?:\.\d+)?)\s*(microseconds?|us|milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|months?|mons?|years?|y)\b/g;
  let m: RegExpExecArray | null;
  let matched = false;
  while ((m = re.exec(s))) {
    matched = true;
    const n = Number(m[1]);
    const u = m[2];
    const unit =
      u.startsWith('mi') && !u.startsWith('mil') && !u.startsWith('mic')
        ? 60e6
        : u.startsWith('mic') || u === 'us'
          ? 1
          : u.startsWith('mil') || u === 'ms'
            ? 1e3
            : u.startsWith('s')
              ? 1e6
              : u === 'm'
                ? 60e6
                : u.startsWith('h')
                  ? 3600e6
                  : u.startsWith('d')
                    ? 86400e6
                    : u.startsWith('w')
                      ? 7 * 86400e6
                      : u.startsWith('mon')
                        ? 30 * 86400e6
                        : u.startsWith('y')
                          ? 365.25 * 86400e6
                          : 0;
    total += BigInt(Math.round(n * unit));
  }
  const hms = /(-)?(\d+):(\d\d)(?::(\d\d(?:\.\d+)?))?/.exec(s);
  if (hms) {
    matched = true;
    const sign = hms[1] ? -1 : 1;
    total += BigInt(Math.round(sign * ((+hms[2] * 3600 + +hms[3] * 60 + Number(hms[4] ?? 0)) * 1e6)));
  }
  if (!matched) throw new SqlError('22007', `invalid input syntax for type interval: "${v}"`);
  return total;
}

function formatInterval(micros: bigint): string {
  const neg = micros < 0n;
  let us = neg ? -micros : micros;
  const days = us / 86_400_000_000n;
  us -= days * 86_400_000_000n;
  const h = us / 3_600_000_000n;
  us -= h * 3_600_000_000n;
  const mi = us / 60_000_000n;
  us -= mi * 60_000_000n;
  const sec = Number(us) / 1e6;
  const time = `${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${sec < 10 ? '0' : ''}${sec}`;
  const d = days ? `${neg ? '-' : ''}${days} day${days === 1n ? '' : 's'} ` : '';
  return d + (neg && !days ? '-' : '') + time;
}

const ENCODINGS: Record<number, string> = { 0: 'SQL_ASCII', 6: 'UTF8' };

const KEYWORDS = [
  'all',
  'and',
  'any',
  'array',
  'as',
  'asc',
  'between',
  'by',
  'case',
  'cast',
  'create',
  'desc',
  'distinct',
  'else',
  'end',
  'false',
  'from',
  'group',
  'having',
  'in',
  'is',
  'join',
  'limit',
  'not',
  'null',
  'offset',
  'on',
  'or',
  'order',
  'select',
  'table',
  'then',
  'true',
  'union',
  'user',
  'when',
  'where',
  'with',
  'task',
  'cancel',
  'type',
  'location',
  'options',
  'cluster',
  'node',
  'system',
];

function toInt(v: V, type: string): number | bigint | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Math.trunc(v);
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
  if (/^[+-]?\d*\.\d+$/.test(s)) return Math.round(Number(s));
  if (s === 't' || s === 'true') return 1;
  if (s === 'f' || s === 'false') return 0;
  throw new SqlError(
    '22P02',
    `invalid input syntax for type ${type === 'int8' ? 'bigint' : type === 'int2' ? 'smallint' : 'integer'}: "${s}"`,
  );
}

function sizePretty(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  // PostgreSQL switches unit when the value reaches 10240 of the current one, rounding half up.
  while (Math.abs(v) >= 10 * 1024 - 0.5 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Math.round(v)} ${units[i]}`;
}

/** Registers every function above on a reader connection. ctx is read at call time (set per statement). */
export function registerFunctions(db: BetterSqlite3.Database, ctx: () => FunctionContext): void {
  const det = { deterministic: true };
  const vary = { varargs: true, deterministic: true };
  // A JS number returned to SQLite is stored as REAL; integral results go back as BigInt so that they stay
  // INTEGER (otherwise 42 would print as '42.0' when cast to text).
  const reg = (name: string, fn: (...a: V[]) => V, opts: BetterSqlite3.RegistrationOptions = det) =>
    // varargs: the wrapper's own length is 0, which better-sqlite3 would take as the function's arity.
    db.function(name, { ...opts, varargs: true }, ((...args: V[]) => {
      const r = fn(...args);
      return typeof r === 'number' && Number.isSafeInteger(r) ? BigInt(r) : r;
    }) as (...params: unknown[]) => unknown);

  reg('pg_array', (...items: V[]) => formatArrayLiteral(items), vary);
  reg('pg_array_get', (a: V, i: V) => {
    const items = arr(a);
    const idx = Number(i);
    return idx >= 1 && idx <= items.length ? items[idx - 1] : null;
  });
  reg('pg_array_length', (a: V) => (a === null ? null : arr(a).length || null));
  reg(
    'pg_array_to_string',
    (a: V, sep: V, nullStr?: V) =>
      a === null
        ? null
        : arr(a)
            .map((x) => (x === null ? (nullStr ?? null) : x))
            .filter((x) => x !== null)
            .join(String(sep)),
    vary,
  );
  reg('pg_array_position', (a: V, v: V) => {
    const i = arr(a).indexOf(v === null ? null : String(v));
    return i < 0 ? null : i + 1;
  });
  reg('pg_array_cat', (a: V, b: V) => formatArrayLiteral([...arr(a), ...arr(b)]));
  reg('pg_array_contains', (a: V, b: V) => (arr(b).every((x) => arr(a).includes(x)) ? 1 : 0));
  reg('pg_array_overlaps', (a: V, b: V) => (arr(b).some((x) => arr(a).includes(x)) ? 1 : 0));
  reg('pg_string_to_array', (s: V, sep: V) =>
    s === null ? null : formatArrayLiteral(String(s).split(String(sep))),
  );
  db.aggregate('pg_array_agg', {
    start: () => [] as V[],
    step: (acc: V[], v: V) => {
      acc.push(v);
      return acc;
    },
    result: (acc: V[]) => (acc.length ? formatArrayLiteral(acc) : null),
  } as unknown as BetterSqlite3.AggregateOptions);
  db.table('pg_array_each', {
    columns: ['value'],
    parameters: ['arr'],
    *rows(a: V) {
      for (const v of arr(a)) yield [v];
    },
  } as unknown as Parameters<BetterSqlite3.Database['table']>[1]);
  db.table('pg_expandarray', {
    columns: ['x', 'n'],
    parameters: ['arr'],
    *rows(a: V) {
      let n = 1;
      for (const v of arr(a)) yield [v === null ? null : Number(v), n++];
    },
  } as unknown as Parameters<BetterSqlite3.Database['table']>[1]);
  db.table('pg_generate_series', {
    columns: ['value'],
    parameters: ['start', 'stop', 'step'],
    *rows(start: V, stop: V, step: V) {
      const s = Number(start);
      const e = Number(stop);
      const st = step === null || step === undefined ? 1 : Number(step);
      if (st === 0) throw new SqlError('22023', 'step size cannot equal zero');
      let count = 0;
      for (let v = s; st > 0 ? v <= e : v >= e; v += st) {
        if (++count > 10_000_000)
          throw new SqlError('54000', 'generate_series would return more than 10,000,000 rows');
        yield [v];
      }
    },
  } as unknown as Parameters<BetterSqlite3.Database['table']>[1]);
  db.table('pg_get_keywords', {
    columns: ['word', 'catcode', 'catdesc'],
    *rows() {
      for (const w of KEYWORDS) yield [w, 'R', 'reserved'];
    },
  } as unknown as Parameters<BetterSqlite3.Database['table']>[1]);

  reg('pg_regex_match', (s: V, p: V, flags: V) =>
    s === null || p === null ? null : cachedRegex(String(p), String(flags)).test(String(s)) ? 1 : 0,
  );
  reg(
    'pg_regexp_replace',
    (s: V, p: V, r: V, flags?: V) => {
      if (s === null || p === null) return null;
      const f = String(flags ?? '');
      const re = cachedRegex(String(p), f.replace(/[^gi]/g, ''));
      return String(s).replace(re, String(r).replace(/\\(\d)/g, '$$$1'));
    },
    vary,
  );
  reg('pg_is_distinct', (a: V, b: V) => {
    if (a === null || b === null) return a === b ? 0 : 1;
    return String(a) === String(b) ? 0 : 1;
  });
  reg('pg_field', (v: V, name: V) => {
    if (v === null) return null;
    try {
      const o = JSON.parse(String(v)) as Record<string, V>;
      return (o[String(name)] as V) ?? null;
    } catch {
      return null;
    }
  });
  reg('pg_to_int', (v: V, t: V) => toInt(v, String(t)));
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
    const s = String(v).trim().toLowerCase().replace(/[{}]/g, '');
    const hex = s.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/.test(hex))
      throw new SqlError('22P02', `invalid input syntax for type uuid: "${v}"`);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  });
  reg('pg_to_timestamptz', (v: V) => {
    if (v === null) return null;
    const s = String(v).trim().toLowerCase();
    if (s === 'now') return ctxNow();
    return canonicalTimestamp(String(v));
  });
  reg('pg_to_interval', (v: V) => (v === null ? null : formatInterval(intervalMicros(String(v)))));
  reg('pg_ts_key', (v: V) => {
    if (v === null) return null;
    if (typeof v === 'number') return v;
    try {
      return Number(parseTimestampMicros(String(v)));
    } catch {
      return v;
    }
  });
  reg('pg_ts_add', (ts: V, iv: V, sign: V) => {
    if (ts === null || iv === null) return null;
    const micros = parseTimestampMicros(String(ts)) + BigInt(Number(sign)) * intervalMicros(String(iv));
    return formatTimestampMicros(micros);
  });
  reg('pg_div', (a: V, b: V, integral: V) => {
    if (a === null || b === null) return null;
    if (Number(b) === 0) throw new SqlError('22012', 'division by zero');
    if (Number(integral)) {
      const x = BigInt(Math.trunc(Number(a)));
      const y = BigInt(Math.trunc(Number(b)));
      return x / y;
    }
    return Number(a) / Number(b);
  });
  reg('pg_json_text', (j: V) => {
    if (j === null || j === undefined) return null;
    const text = String(j);
    try {
      const v = JSON.parse(text);
      return typeof v === 'string' ? v : text;
    } catch {
      return text;
    }
  });
  reg('pg_ts_diff', (a: V, b: V) => {
    if (a === null || b === null) return null;
    return formatInterval(parseTimestampMicros(String(a)) - parseTimestampMicros(String(b)));
  });
  reg('pg_extract', (field: V, ts: V) => {
    if (ts === null) return null;
    // An interval (from a difference of timestamps): epoch is its length in seconds.
    if (!/^\d{4,}-\d\d-\d\d/.test(String(ts).trim())) {
      const micros = intervalMicros(String(ts));
      if (String(field).toLowerCase() === 'epoch') return Number(micros) / 1e6;
      throw new SqlError('0A000', `EXTRACT ${field} from an interval is not supported; use epoch`);
    }
    const micros = parseTimestampMicros(String(ts));
    const d = new Date(Number(micros / 1000n));
    switch (String(field).toLowerCase()) {
      case 'epoch':
        return Number(micros) / 1e6;
      case 'year':
        return d.getUTCFullYear();
      case 'month':
        return d.getUTCMonth() + 1;
      case 'day':
        return d.getUTCDate();
      case 'hour':
        return d.getUTCHours();
      case 'minute':
        return d.getUTCMinutes();
      case 'second':
        return d.getUTCSeconds() + d.getUTCMilliseconds() / 1000;
      case 'dow':
        return d.getUTCDay();
      case 'doy':
        return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
      default:
        throw new SqlError('22023', `unit "${field}" not recognized for type timestamp with time zone`);
    }
  });
  reg('pg_date_trunc', (unit: V, ts: V) => {
    if (ts === null) return null;
    const d = new Date(Number(parseTimestampMicros(String(ts)) / 1000n));
    const u = String(unit).toLowerCase();
    const parts = [
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ];
    const keep = { year: 1, month: 2, day: 3, hour: 4, minute: 5, second: 6 }[u];
    if (!keep) throw new SqlError('22023', `unit "${u}" not recognized for type timestamp with time zone`);
    const p = parts.map((x, i) => (i < keep ? x : i === 2 ? 1 : 0));
    return formatTimestampMicros(BigInt(Date.UTC(p[0], p[1], p[2], p[3], p[4], p[5])) * 1000n);
  });
  reg(
    'pg_age',
    (a: V, b?: V) => {
      if (a === null) return null;
      const to = b === undefined ? parseTimestampMicros(ctxNow()) : parseTimestampMicros(String(a));
      const from = b === undefined ? parseTimestampMicros(String(a)) : parseTimestampMicros(String(b));
      return formatInterval(to - from);
    },
    vary,
  );
  reg('pg_to_timestamp', (v: V) =>
    v === null ? null : formatTimestampMicros(BigInt(Math.round(Number(v) * 1e6))),
  );
  reg('pg_to_char', (v: V) => (v === null ? null : String(v)), vary);
  reg('pg_gen_random_uuid', () => crypto.randomUUID(), { deterministic: false });
  reg('random_float', () => Math.random(), { deterministic: false });
  reg('pg_left', (s: V, n: V) => {
    if (s === null) return null;
    const str = String(s);
    const k = Number(n);
    return k >= 0 ? str.slice(0, k) : str.slice(0, Math.max(0, str.length + k));
  });
  reg('pg_right', (s: V, n: V) => {
    if (s === null) return null;
    const str = String(s);
    const k = Number(n);
    return k >= 0 ? str.slice(Math.max(0, str.length - k)) : str.slice(-k);
  });
  reg('pg_split_part', (s: V, sep: V, n: V) =>
    s === null ? null : (String(s).split(String(sep))[Number(n) - 1] ?? ''),
  );
  reg(
    'pg_lpad',
    (s: V, n: V, fill?: V) =>
      s === null
        ? null
        : String(s)
            .padStart(Number(n), String(fill ?? ' '))
            .slice(0, Number(n)),
    vary,
  );
  reg(
    'pg_rpad',
    (s: V, n: V, fill?: V) =>
      s === null
        ? null
        : String(s)
            .padEnd(Number(n), String(fill ?? ' '))
            .slice(0, Number(n)),
    vary,
  );
  reg('pg_repeat', (s: V, n: V) => (s === null ? null : String(s).repeat(Math.max(0, Number(n)))));
  reg('pg_reverse', (s: V) => (s === null ? null : [...String(s)].reverse().join('')));
  reg('pg_md5', (s: V) =>
    s === null ? null : require('node:crypto').createHash('md5').update(String(s)).digest('hex'),
  );
  reg('pg_concat_ws', (sep: V, ...items: V[]) => items.filter((x) => x !== null).join(String(sep)), vary);
  reg('pg_quote_ident', (s: V) => {
    if (s === null) return null;
    const str = String(s);
    return /^[a-z_][a-z0-9_$]*$/.test(str) && !KEYWORDS.includes(str)
      ? str
      : '"' + str.replace(/"/g, '""') + '"';
  });
  reg('pg_size_pretty', (n: V) => (n === null ? null : sizePretty(Number(n))));
  reg('pg_encoding_to_char', (n: V) => ENCODINGS[Number(n)] ?? '');
  reg('pg_to_json', (v: V) => JSON.stringify(v));
  // Runs on a reader thread, never on the thread that serves the wire: blocking here delays only this query.
  reg(
    'pg_sleep_fn',
    (secs: V) => {
      const ms = Math.max(0, Math.min(3_600_000, Number(secs) * 1000));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return '';
    },
    { deterministic: false },
  );
  reg('pg_regproc_name', (v: V) =>
    v === null
      ? null
      : String(v)
          .replace(/^pg_catalog\./, '')
          .replace(/\(.*\)$/, ''),
  );

  // session-dependent: not deterministic
  const nd = { deterministic: false };
  const ndv = { deterministic: false, varargs: true };
  const ctxNow = () => {
    const c = ctx();
    return c.settings.get('__statement_time') ?? formatTimestampMicros(BigInt(Date.now()) * 1000n);
  };
  reg('pg_now', () => ctxNow(), nd);
  reg('pg_version', () => `PostgreSQL ${ctx().serverVersion}`, nd);
  reg('pg_current_user', () => ctx().user, nd);
  reg('pg_current_database', () => ctx().database, nd);
  reg('pg_backend_pid', () => ctx().pid, nd);
  reg('pg_postmaster_start_time', () => ctx().startedAt, nd);
  reg(
    'pg_current_schemas',
    (implicit: V) => formatArrayLiteral(Number(implicit) ? ['pg_catalog', 'public'] : ['public']),
    nd,
  );
  reg(
    'pg_current_setting',
    (name: V, missingOk?: V) => {
      const c = ctx();
      const key = String(name).toLowerCase();
      const v = c.changedSettings.get(key) ?? c.settings.get(key);
      if (v === undefined) {
        if (missingOk !== undefined && missingOk !== null && Number(missingOk)) return null;
        throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
      }
      return v;
    },
    ndv,
  );
  reg(
    'pg_set_config',
    (name: V, value: V) => {
      ctx().changedSettings.set(String(name).toLowerCase(), String(value));
      return value;
    },
    ndv,
  );
  reg(
    'pg_format_type',
    (oid: V, typmod: V) => {
      if (oid === null) return null;
      const name = typeNameOfOid(Number(oid));
      if (!name) return ctx().regName('regtype', Number(oid)) ?? '???';
      return formatTypeName(name, typmod === null || typmod === undefined ? -1 : Number(typmod));
    },
    ndv,
  );
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
        throw new SqlError(kind === 'regclass' ? '42P01' : '42704', `${what} "${v}" does not exist`);
      }
      return oid;
    },
    nd,
  );
  reg(
    'pg_reg_name',
    (oid: V, kind: V) => (oid === null ? null : (ctx().regName(String(kind), Number(oid)) ?? String(oid))),
    nd,
  );
  reg(
    'pg_get_userbyid',
    (oid: V) => (oid === null ? null : (ctx().userName(Number(oid)) ?? `unknown (OID=${oid})`)),
    nd,
  );
  reg(
    'pg_table_is_visible',
    (oid: V) => (oid === null ? null : ctx().relationVisible(Number(oid)) ? 1 : 0),
    nd,
  );
  reg('pg_obj_description', (oid: V) => (oid === null ? null : ctx().description(Number(oid), null)), ndv);
  reg(
    'pg_col_description',
    (oid: V, col: V) => (oid === null ? null : ctx().description(Number(oid), Number(col))),
    nd,
  );
  reg('pg_relation_size', (oid: V) => (oid === null ? null : ctx().relationSize(Number(oid))), ndv);
  reg('pg_database_size', () => ctx().databaseSize(), ndv);
  reg(
    'pg_get_indexdef_fn',
    (oid: V, col?: V) =>
      oid === null ? null : ctx().indexDef(Number(oid), col === undefined || col === null ? 0 : Number(col)),
    ndv,
  );
  reg('pg_get_constraintdef_fn', (oid: V) => (oid === null ? null : ctx().constraintDef(Number(oid))), ndv);
}

/** format_type(): the SQL name PostgreSQL prints for a type (with a typmod where it has one). */
export function formatTypeName(name: string, typmod: number): string {
  const sqlNames: Record<string, string> = {
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    float4: 'real',
    float8: 'double precision',
    bool: 'boolean',
    varchar: 'character varying',
    bpchar: 'character',
    timestamptz: 'timestamp with time zone',
    timestamp: 'timestamp without time zone',
    char: '"char"',
  };
  if (name.startsWith('_')) return formatTypeName(name.slice(1), typmod) + '[]';
  const base = sqlNames[name] ?? name;
  if (typmod > 4 && (name === 'varchar' || name === 'bpchar')) return `${base}(${typmod - 4})`;
  return base;
}

export const _forTests = { intervalMicros, formatInterval, sizePretty, canonicalType };
