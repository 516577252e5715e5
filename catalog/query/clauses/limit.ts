// LIMIT and OFFSET: bigint values, as PostgreSQL coerces them (SQLite wants an integer there).
import type * as A from 'pgsql-ast-parser';
import { isIntegerType, isNumericType } from '../../../pg/types';
import type { Context, Scope } from '../context';
import { castSql } from '../expressions/casts';
import { typedParam } from '../expressions/expr';
import { err, quoteLit } from '../expressions/typed';

export function limit(ctx: Context, l: A.LimitStatement | null | undefined, scope: Scope): string {
  if (!l) return '';
  const lim = l.limit ? limitValue(ctx, l.limit, scope, 'LIMIT') : '-1';
  const off = l.offset ? ` OFFSET ${limitValue(ctx, l.offset, scope, 'OFFSET')}` : '';
  return ` LIMIT ${lim}${off}`;
}

function limitValue(ctx: Context, e: A.Expr, scope: Scope, clause: string): string {
  const v = typedParam(ctx, e, scope, 'int8');
  if (v.type && v.type !== 'unknown' && !isNumericType(v.type) && !isIntegerType(v.type))
    throw err('42804', `argument of ${clause} must be type bigint, not type ${v.type}`);
  return `pg_limit_value(${castSql(v, 'int8')}, ${quoteLit(clause)})`;
}
