// Arrays, kept in SQLite as their PostgreSQL text form ({a,b}).
import type BetterSqlite3 from 'better-sqlite3';
import { formatArrayLiteral } from '../../../pg/codecs';
import {
  aggregate,
  arr,
  call,
  type FnDef,
  type FunctionContext,
  fixed,
  type Register,
  type V,
  VARIADIC,
} from './define';

export const definitions: Record<string, FnDef> = {
  array_agg: aggregate('pg_array_agg', (t) => '_' + (t[0] ?? 'text').replace(/^_/, '')),
  array_to_string: call('pg_array_to_string', 'text'),
  array_length: call('pg_array_length', 'int4', [null, 'int4']),
  array_upper: call('pg_array_length', 'int4', [null, 'int4']),
  array_lower: {
    sql: (a) => `(CASE WHEN pg_array_length(${a[0]}, ${a[1]}) > 0 THEN 1 END)`,
    returns: fixed('int4'),
    argTypes: [null, 'int4'],
  },
  array_dims: call('pg_array_dims', 'text'),
  array_ndims: call('pg_array_ndims', 'int4'),
  cardinality: call('pg_cardinality', 'int4'),
  array_append: call('pg_array_append', arrayType(0, 1)),
  array_prepend: {
    sql: (a) => `pg_array_append(${a[1]}, ${a[0]}, 1)`,
    returns: arrayType(1, 0),
  },
  array_cat: call('pg_array_cat', (t) => arrayType(0, -1)(t) ?? arrayType(1, -1)(t)),
  array_remove: call('pg_array_remove', arrayType(0, 1)),
  array_position: call('pg_array_position', 'int4'),
  string_to_array: call('pg_string_to_array', '_text'),
};

/** The array type of a call: that of argument `arr`, else the array of argument `elem`'s type, else text[]. */
function arrayType(arrAt: number, elemAt: number): (t: (string | null)[]) => string {
  return (t) => {
    const a = t[arrAt];
    if (a && a !== 'unknown') return a;
    const e = elemAt >= 0 ? t[elemAt] : null;
    return e && e !== 'unknown' ? `_${e.replace(/^_/, '')}` : '_text';
  };
}

/** An element as the text form of an array holds it (SQLite hands numbers over as numbers). */
const elemText = (v: V) => (v === null || v === undefined ? null : String(v));

export function register(reg: Register, _ctx: () => FunctionContext, db: BetterSqlite3.Database): void {
  reg('pg_array', (...items: V[]) => formatArrayLiteral(items), VARIADIC);
  reg('pg_array_get', (a: V, i: V) => {
    const items = arr(a);
    const idx = Number(i);
    return idx >= 1 && idx <= items.length ? items[idx - 1] : null;
  });
  // Arrays here have one dimension: any other dimension has no length, bounds or subscripts (NULL), and
  // neither has an empty array.
  reg('pg_array_length', (a: V, dim: V) =>
    a === null || dim === null || Number(dim) !== 1 ? null : arr(a).length || null,
  );
  reg('pg_array_dims', (a: V) => {
    const n = a === null ? 0 : arr(a).length;
    return n ? `[1:${n}]` : null;
  });
  reg('pg_array_ndims', (a: V) => (a === null || !arr(a).length ? null : 1));
  reg('pg_cardinality', (a: V) => (a === null ? null : arr(a).length));
  reg(
    'pg_array_append',
    (a: V, v: V, prepend?: V) =>
      formatArrayLiteral(prepend ? [elemText(v), ...arr(a)] : [...arr(a), elemText(v)]),
    VARIADIC,
  );
  reg('pg_array_remove', (a: V, v: V) =>
    a === null ? null : formatArrayLiteral(arr(a).filter((x) => x !== elemText(v))),
  );
  reg(
    'pg_array_to_string',
    (a: V, sep: V, nullStr?: V) =>
      a === null
        ? null
        : arr(a)
            .map((x) => (x === null ? (nullStr ?? null) : x))
            .filter((x) => x !== null)
            .join(String(sep)),
    VARIADIC,
  );
  reg('pg_array_position', (a: V, v: V) => {
    const i = arr(a).indexOf(v === null ? null : String(v));
    return i < 0 ? null : i + 1;
  });
  reg('pg_array_cat', (a: V, b: V) =>
    a === null && b === null ? null : formatArrayLiteral([...arr(a), ...arr(b)]),
  );
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
}
