// The statements a query may be: SELECT, set operations, VALUES and WITH (each in its own module here).
import type * as A from 'pgsql-ast-parser';
import type { Context, Rows, Scope } from '../context';
import { err } from '../expressions/typed';
import { select } from './select';
import { setOperation } from './set-operations';
import { values } from './values';
import { withQuery, withRecursive } from './with';

export function statement(ctx: Context, s: A.Statement, scope: Scope): Rows {
  switch (s.type) {
    case 'select':
      return select(ctx, s, scope);
    case 'union':
    case 'union all':
      return setOperation(ctx, s, scope);
    case 'values':
      return values(ctx, s, scope);
    case 'with':
      return withQuery(ctx, s, scope);
    case 'with recursive':
      return withRecursive(ctx, s, scope);
    default:
      throw err(
        '0A000',
        `${(s as { type: string }).type.toUpperCase()} is not supported here: only SELECT, VALUES, SHOW and WITH queries read the catalog`,
      );
  }
}

/** Whether an expression node is a query (a subquery, or the operand of IN / ANY). */
export function isQuery(e: A.Expr): e is A.Expr & A.SelectStatement {
  return ['select', 'union', 'union all', 'with', 'with recursive', 'values'].includes(e.type);
}
