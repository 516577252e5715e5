// Set-returning functions usable in FROM (and in a select list), backed by SQLite table-valued functions.
import type BetterSqlite3 from 'better-sqlite3';
import { SqlError } from '../../../pg/errors';
import type { Typed } from '../expressions/typed';
import { arr, bounded, type FunctionContext, type Register, sqlInteger, type V } from './define';
import { regexpSplit } from './regex';
import { formatTypeName } from './system';

export const KEYWORDS = [
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

export interface TableFunction {
  sqlite: string;
  columns: { name: string; type: string }[];
  /** SQL arguments appended to the call's own (what the function needs to know of its argument types). */
  extraArgs?: string[];
}

/** The element types of the two vector types (every other array type is _element). */
const VECTOR_ELEMENTS: Record<string, string> = { int2vector: 'int2', oidvector: 'oid' };

/** int2vector and oidvector are subscripted from 0; every other array from 1. */
export const lowerBound = (type: string | null) => (type === 'int2vector' || type === 'oidvector' ? 0 : 1);

const INTEGER_TYPES = new Set(['int2', 'int4', 'unknown']);

/**
 * The type generate_series returns, by PostgreSQL's resolution over its int4, int8 and numeric variants. The
 * timestamp variants are not emulated: an error, not a series of numbers typed as something else.
 */
function seriesType(argTypes: (string | null)[]): string {
  const types = argTypes.map((t) => t ?? 'unknown');
  const signature = `generate_series(${types.map((t) => formatTypeName(t, -1)).join(', ')})`;
  if (types.every((t) => t === 'unknown'))
    throw new SqlError('42725', `function ${signature} is not unique`, {
      hint: 'Could not choose a best candidate function. You might need to add explicit type casts.',
    });
  if (types.every((t) => INTEGER_TYPES.has(t))) return 'int4';
  if (types.every((t) => INTEGER_TYPES.has(t) || t === 'int8')) return 'int8';
  if (types.every((t) => INTEGER_TYPES.has(t) || t === 'int8' || t === 'numeric')) return 'numeric';
  if (types.some((t) => t === 'timestamptz' || t === 'timestamp' || t === 'date' || t === 'interval'))
    throw new SqlError('0A000', 'generate_series over timestamps is not supported');
  throw new SqlError('42883', `function ${signature} does not exist`, {
    hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
  });
}

/** Set-returning functions usable in FROM, backed by SQLite table-valued functions. */
export function tableFunction(name: string, argTypes: (string | null)[]): TableFunction | null {
  switch (name) {
    case 'generate_series':
      return { sqlite: 'pg_generate_series', columns: [{ name: 'value', type: seriesType(argTypes) }] };
    case 'unnest': {
      const t = argTypes[0];
      if (t && t !== 'unknown' && !t.startsWith('_') && t !== 'int2vector' && t !== 'oidvector')
        throw new SqlError('42883', `function unnest(${formatTypeName(t, -1)}) does not exist`, {
          hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
        });
      return {
        sqlite: 'pg_array_each',
        columns: [{ name: 'value', type: VECTOR_ELEMENTS[t ?? ''] ?? (t ?? '_text').replace(/^_/, '') }],
      };
    }
    case 'generate_subscripts':
      return {
        sqlite: 'pg_generate_subscripts',
        columns: [{ name: 'value', type: 'int4' }],
        extraArgs:
          argTypes.length < 3 ? ['0', String(lowerBound(argTypes[0]))] : [String(lowerBound(argTypes[0]))],
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
    case 'regexp_split_to_table':
      return { sqlite: 'pg_regexp_split_to_table', columns: [{ name: 'value', type: 'text' }] };
    case 'pg_options_to_table':
      return {
        sqlite: 'pg_options_to_table',
        columns: [
          { name: 'option_name', type: 'text' },
          { name: 'option_value', type: 'text' },
        ],
      };
    case 'pg_partition_ancestors':
      return { sqlite: 'pg_partition_ancestors', columns: [{ name: 'relid', type: 'regclass' }] };
    default:
      return null;
  }
}

const INT4_ARGUMENTS = new Set(['int2', 'int4']);
const SERIES_LIMIT = 10_000_000;
const tooLong = () => new SqlError('54000', 'generate_series would return more than 10,000,000 rows');

/**
 * generate_series(start, stop[, step]) over int4 as a recursive CTE that SQLite steps itself, or null where
 * the call must stay the virtual table: arguments of other types, or that read a row (args: whether each does;
 * SQLite cannot correlate a subquery in FROM with the items before it, and the virtual table can). The
 * virtual table crosses into JavaScript for every row; this does not. The same rows as PostgreSQL's: none when
 * an argument is NULL (the function is strict), 22023 for a step of 0, and no overflow past stop (int4
 * arithmetic done in SQLite's 64-bit integers cannot overflow). Past 10,000,000 rows, 54000, as the virtual
 * table says, when that row is reached.
 */
export function int4Series(args: Typed[], readsRow: boolean[]): string | null {
  if (args.length < 2 || args.length > 3 || readsRow.some((r) => r)) return null;
  if (!args.every((a) => a.type !== null && INT4_ARGUMENTS.has(a.type))) return null;
  const [start, stop, step] = args.map((a) => `CAST(${a.sql} AS INTEGER)`);
  const by = step ?? '1';
  // The arguments read no row: they are repeated where needed instead of carried in every row of the CTE.
  const going = (v: string) => `CASE WHEN ${by} > 0 THEN ${v} <= ${stop} ELSE ${v} >= ${stop} END`;
  return (
    `(WITH RECURSIVE pg_series(value, n) AS (SELECT ${start}, 1 ` +
    `WHERE ${start} IS NOT NULL AND ${stop} IS NOT NULL AND pg_series_step(${by}) IS NOT NULL AND ${going(start)} ` +
    `UNION ALL SELECT value + ${by}, n + 1 FROM pg_series ` +
    `WHERE ${going(`value + ${by}`)} AND (n < ${SERIES_LIMIT} OR pg_series_too_long())` +
    `) SELECT value FROM pg_series)`
  );
}

/** A SQLite table-valued function, as better-sqlite3's db.table() takes it. */
interface VirtualTable {
  columns: string[];
  parameters?: string[];
  rows(...args: V[]): Generator<unknown[]>;
}

/** The table-valued functions tableFunction() names, by their SQLite name. */
const TABLES: Record<string, VirtualTable> = {
  pg_array_each: {
    columns: ['value'],
    parameters: ['arr'],
    *rows(a: V) {
      for (const v of arr(a)) yield [v];
    },
  },
  pg_expandarray: {
    columns: ['x', 'n'],
    parameters: ['arr'],
    *rows(a: V) {
      let n = 1;
      for (const v of arr(a)) yield [v === null ? null : sqlInteger(Number(v)), sqlInteger(n++)];
    },
  },
  pg_generate_subscripts: {
    columns: ['value'],
    parameters: ['arr', 'dim', 'reverse', 'lower'],
    *rows(a: V, dim: V, reverse: V, lower: V) {
      // Arrays here are one-dimensional: dimension 1 has subscripts, any other none (PostgreSQL: no rows).
      if (a === null || dim === null || Number(dim) !== 1) return;
      const b = bounded(a, Number(lower));
      const n = b.items.length;
      const lo = b.lower;
      if (Number(reverse)) for (let i = n - 1; i >= 0; i--) yield [sqlInteger(lo + i)];
      else for (let i = 0; i < n; i++) yield [sqlInteger(lo + i)];
    },
  },
  pg_generate_series: {
    columns: ['value'],
    parameters: ['start', 'stop', 'step'],
    *rows(start: V, stop: V, step: V) {
      const s = Number(start);
      const e = Number(stop);
      const st = step === null || step === undefined ? 1 : Number(step);
      if (st === 0) throw new SqlError('22023', 'step size cannot equal zero');
      let count = 0;
      for (let v = s; st > 0 ? v <= e : v >= e; v += st) {
        if (++count > SERIES_LIMIT) throw tooLong();
        yield [sqlInteger(v)];
      }
    },
  },
  pg_regexp_split_to_table: {
    columns: ['value'],
    parameters: ['s', 'pattern', 'flags'],
    *rows(s: V, p: V, flags: V) {
      if (s === null || p === null || flags === null) return;
      for (const part of regexpSplit(String(s), String(p), String(flags ?? ''), 'regexp_split_to_table'))
        yield [part];
    },
  },
  // reloptions-style arrays, {name=value,...}: one row per option, split at its first '=' (no '=': NULL value)
  pg_options_to_table: {
    columns: ['option_name', 'option_value'],
    parameters: ['options'],
    *rows(a: V) {
      for (const o of arr(a)) {
        if (o === null) continue;
        const eq = o.indexOf('=');
        yield eq < 0 ? [o, null] : [o.slice(0, eq), o.slice(eq + 1)];
      }
    },
  },
  // No relation here is a partition, and PostgreSQL lists no ancestors (not even the relation) for one that is not.
  pg_partition_ancestors: {
    columns: ['relid'],
    parameters: ['rel'],
    *rows(_rel: V) {},
  },
  pg_get_keywords: {
    columns: ['word', 'catcode', 'catdesc'],
    *rows() {
      for (const w of KEYWORDS) yield [w, 'R', 'reserved'];
    },
  },
};

/**
 * The SQLite names of the table-valued functions: relations translated SQL may read (relation-guard.ts). With
 * them SQLite's json_each, which reads nothing but its argument (a LATERAL subquery's rows: clauses/from.ts).
 */
export const TABLE_FUNCTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(TABLES), 'json_each']);

export function register(_reg: Register, _ctx: () => FunctionContext, db: BetterSqlite3.Database): void {
  for (const [name, table] of Object.entries(TABLES))
    db.table(name, table as unknown as Parameters<BetterSqlite3.Database['table']>[1]);
  // int4Series' checks; not deterministic, so that SQLite calls them where they stand, never ahead.
  db.function('pg_series_step', { deterministic: false }, (step: V) => {
    if (step === 0) throw new SqlError('22023', 'step size cannot equal zero');
    return step === null ? null : sqlInteger(Number(step));
  });
  db.function('pg_series_too_long', { deterministic: false }, () => {
    throw tooLong();
  });
}
