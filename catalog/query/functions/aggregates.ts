// Aggregates and window functions, which SQLite has: only their names and result types differ.
import { aggregate, call, type FnDef, firstArg, fixed } from './define';

export const definitions: Record<string, FnDef> = {
  // aggregates
  count: {
    sql: (a, _t, d) => `count(${d ? 'DISTINCT ' : ''}${a.length ? a.join(', ') : '*'})`,
    returns: fixed('int8'),
    aggregate: true,
  },
  // PostgreSQL: sum(int2|int4) is int8, sum(int8) and sum(numeric) are numeric, sum(float*) float8
  sum: aggregate('sum', (t) =>
    t[0] === 'float8' || t[0] === 'float4'
      ? 'float8'
      : t[0] === 'numeric' || t[0] === 'int8'
        ? 'numeric'
        : 'int8',
  ),
  avg: aggregate('avg', (t) => (t[0] === 'float8' || t[0] === 'float4' ? 'float8' : 'numeric')),
  min: aggregate('min', firstArg),
  max: aggregate('max', firstArg),
  bool_and: aggregate('min', fixed('bool')),
  bool_or: aggregate('max', fixed('bool')),
  every: aggregate('min', fixed('bool')),
  string_agg: aggregate('group_concat', fixed('text')),
  // window functions
  row_number: call('row_number', 'int8'),
  rank: call('rank', 'int8'),
  dense_rank: call('dense_rank', 'int8'),
  lag: call('lag', firstArg),
  lead: call('lead', firstArg),
};
