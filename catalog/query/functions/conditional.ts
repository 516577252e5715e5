// Conditional expressions (COALESCE, NULLIF, GREATEST, LEAST) and the functions the rewriting pass
// produces for IS [NOT] DISTINCT FROM and (expr).field.
import { call, type FnDef, firstArg, type Register, type V } from './define';

export const definitions: Record<string, FnDef> = {
  // scalar
  // PostgreSQL takes COALESCE of one argument (that argument); SQLite's coalesce() wants two or more
  coalesce: {
    ...call('coalesce', firstArg),
    sql: (args) => (args.length === 1 ? args[0] : `coalesce(${args.join(', ')})`),
  },
  nullif: call('nullif', firstArg),
  greatest: extreme('max'),
  least: extreme('min'),
  pg_is_distinct: call('pg_is_distinct', 'bool'),
  pg_field: call('pg_field', null),
};

/**
 * GREATEST and LEAST ignore NULLs (they are NULL only when every argument is). SQLite's max()/min() of several
 * arguments are NULL when one is, and of one argument are the aggregates: each argument is taken as
 * coalesce(it, the others), which a NULL cannot win.
 */
function extreme(fn: 'max' | 'min'): FnDef {
  return {
    sql: (args) =>
      args.length === 1
        ? args[0]
        : `${fn}(${args.map((a, i) => `coalesce(${[a, ...args.filter((_, j) => j !== i)].join(', ')})`).join(', ')})`,
    returns: firstArg,
  };
}

export function register(reg: Register): void {
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
}
