// Function calls: EXISTS, a select list's set-returning calls (read from their joins), and the functions of
// functions/, with aggregate ORDER BY and FILTER and window OVER clauses.
import type * as A from 'pgsql-ast-parser';
import { orderBy } from '../clauses/ordering';
import { joinedSrf } from '../clauses/select-list-srfs';
import type { Context, Scope } from '../context';
import { type FnDef, FUNCTIONS } from '../functions';
import { expr, typedParam } from './expr';
import { err, type Typed } from './typed';

export function call(ctx: Context, e: A.ExprCall, scope: Scope): Typed {
  const name = e.function.name.toLowerCase();
  if (e.function.schema && !['pg_catalog', 'information_schema'].includes(e.function.schema)) {
    throw err('42883', `function ${e.function.schema}.${name}() does not exist`);
  }
  if (name === 'exists') {
    const inner = expr(ctx, e.args[0], scope);
    return { sql: `EXISTS ${inner.sql}`, type: 'bool' };
  }
  const srf = joinedSrf(ctx, e);
  if (srf) return srf;
  const def: FnDef | undefined = FUNCTIONS[name];
  if (!def)
    throw err(
      '42883',
      `function ${name}() does not exist`,
      'No function matches the given name. docs/sql.md lists the functions this server has.',
    );
  const args = e.args.map((a, i) => typedParam(ctx, a, scope, def.argTypes?.[i] ?? null));
  if (def.minArgs !== undefined && args.length < def.minArgs)
    throw err('42883', `function ${name} needs at least ${def.minArgs} argument(s)`);
  let sql = def.sql(
    args.map((a) => a.sql),
    args.map((a) => a.type),
    !!e.distinct,
  );
  if (e.orderBy?.length) {
    if (!def.aggregate) throw err('42809', `ORDER BY specified, but ${name} is not an aggregate function`);
    // SQLite (3.44+) orders an aggregate's input as PostgreSQL does, inside the call's parentheses
    sql = `${sql.slice(0, -1)} ORDER BY ${orderBy(ctx, e.orderBy, scope, [])})`;
  }
  if (e.filter) {
    if (!def.aggregate) throw err('42601', `FILTER specified, but ${name} is not an aggregate function`);
    sql = sql.replace(/\)$/, '') + `) FILTER (WHERE ${expr(ctx, e.filter, scope).sql})`;
  }
  if (e.over) {
    const parts: string[] = [];
    if (e.over.partitionBy?.length)
      parts.push(`PARTITION BY ${e.over.partitionBy.map((p) => expr(ctx, p, scope).sql).join(', ')}`);
    if (e.over.orderBy?.length) parts.push(`ORDER BY ${orderBy(ctx, e.over.orderBy, scope, [])}`);
    sql += ` OVER (${parts.join(' ')})`;
  }
  return { sql, type: def.returns(args.map((a) => (a.type === 'unknown' ? 'text' : a.type))) };
}
