// Arrays, kept in SQLite as their PostgreSQL text form ({a,b}).
import type BetterSqlite3 from 'better-sqlite3';
import { formatArrayLiteral } from '../../../pg/codecs';
import {
  aggregate,
  arr,
  bounded,
  call,
  type FnDef,
  type FunctionContext,
  fixed,
  type Register,
  type V,
  VARIADIC,
} from './define';
import { lowerBound } from './set-returning';

export const definitions: Record<string, FnDef> = {
  array_agg: aggregate('pg_array_agg', (t) => '_' + (t[0] ?? 'text').replace(/^_/, '')),
  array_to_string: call('pg_array_to_string', 'text'),
  array_length: call('pg_array_length', 'int4', [null, 'int4']),
  array_upper: withLowerBound('pg_array_upper', 'int4', [null, 'int4']),
  array_lower: withLowerBound('pg_array_lower', 'int4', [null, 'int4']),
  array_dims: withLowerBound('pg_array_dims', 'text'),
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

/** A call given its array argument's first subscript by type too (int2vector and oidvector count from 0). */
function withLowerBound(sqlite: string, returns: string, argTypes?: (string | null)[]): FnDef {
  return {
    sql: (a, t) => `${sqlite}(${[...a, String(lowerBound(t[0]))].join(', ')})`,
    returns: fixed(returns),
    argTypes,
  };
}

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
  // subscripts count from the array's lower bound: the type's, or the one its text names ([0:2]={...})
  reg('pg_array_get', (a: V, i: V, lower: V) => {
    const b = bounded(a, Number(lower));
    const at = Number(i) - b.lower;
    return at >= 0 && at < b.items.length ? b.items[at] : null;
  });
  // Arrays here have one dimension: any other dimension has no length, bounds or subscripts (NULL), and
  // neither has an empty array.
  reg('pg_array_length', (a: V, dim: V) =>
    a === null || dim === null || Number(dim) !== 1 ? null : arr(a).length || null,
  );
  const bounds = (a: V, dim: V, lower: V) => {
    if (a === null || dim === null || Number(dim) !== 1) return null;
    const b = bounded(a, Number(lower));
    return b.items.length ? { lower: b.lower, upper: b.lower + b.items.length - 1 } : null;
  };
  reg('pg_array_lower', (a: V, dim: V, lower: V) => bounds(a, dim, lower)?.lower ?? null);
  reg('pg_array_upper', (a: V, dim: V, lower: V) => bounds(a, dim, lower)?.upper ?? null);
  reg('pg_array_dims', (a: V, lower: V) => {
    const b = bounds(a, 1, lower);
    return b ? `[${b.lower}:${b.upper}]` : null;
  });
  reg('pg_array_ndims', (a: V) => (a === null || !arr(a).length ? null : 1));
  reg('pg_cardinality', (a: V) => (a === null ? null : arr(a).length));
  // PostgreSQL keeps the lower bound through append, prepend and remove
  reg(
    'pg_array_append',
    (a: V, v: V, prepend?: V) => {
      const b = bounded(a, 1);
      const items = prepend ? [elemText(v), ...b.items] : [...b.items, elemText(v)];
      return formatArrayLiteral(items, b.items.length ? b.lower : 1);
    },
    VARIADIC,
  );
  reg('pg_array_remove', (a: V, v: V) => {
    if (a === null) return null;
    const b = bounded(a, 1);
    return formatArrayLiteral(
      b.items.filter((x) => x !== elemText(v)),
      b.lower,
    );
  });
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
    const b = bounded(a, 1);
    const i = b.items.indexOf(v === null ? null : String(v));
    return i < 0 ? null : b.lower + i;
  });
  // the first array's lower bound, or the second's when the first is empty
  reg('pg_array_cat', (a: V, b: V) => {
    if (a === null && b === null) return null;
    const x = bounded(a, 1);
    const y = bounded(b, 1);
    return formatArrayLiteral([...x.items, ...y.items], x.items.length ? x.lower : y.lower);
  });
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
