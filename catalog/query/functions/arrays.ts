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
  array_length: call('pg_array_length', 'int4'),
  array_upper: call('pg_array_length', 'int4'),
  array_lower: { sql: (a) => `(CASE WHEN pg_array_length(${a[0]}) > 0 THEN 1 END)`, returns: fixed('int4') },
  cardinality: call('pg_array_length', 'int4'),
  array_position: call('pg_array_position', 'int4'),
  string_to_array: call('pg_string_to_array', '_text'),
};

export function register(reg: Register, _ctx: () => FunctionContext, db: BetterSqlite3.Database): void {
  reg('pg_array', (...items: V[]) => formatArrayLiteral(items), VARIADIC);
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
    VARIADIC,
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
}
