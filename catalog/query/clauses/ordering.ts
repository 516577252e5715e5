// GROUP BY and ORDER BY items, which may name an output column by its alias (SQLite resolves that too), and
// PostgreSQL's placement of NULLs in a sort.
import type * as A from 'pgsql-ast-parser';
import type { Context, OutColumn, Scope } from '../context';
import { findColumn } from '../expressions/columns';
import { expr } from '../expressions/expr';
import { quoteIdent } from '../expressions/typed';

/** A GROUP BY / ORDER BY item: an output column's alias when it names one and no input column. */
function groupOrOrderItem(ctx: Context, e: A.Expr, scope: Scope, cols: OutColumn[]): string {
  if (
    e.type === 'ref' &&
    !e.table &&
    cols.some((c) => c.name === e.name) &&
    !findColumn(scope, null, e.name, false)
  ) {
    return quoteIdent(e.name);
  }
  return expr(ctx, e, scope).sql;
}

export function groupBy(ctx: Context, items: A.Expr[], scope: Scope, cols: OutColumn[]): string {
  return items.map((g) => groupOrOrderItem(ctx, g, scope, cols)).join(', ');
}

export function orderBy(ctx: Context, items: A.OrderByStatement[], scope: Scope, cols: OutColumn[]): string {
  return items
    .map((o) => {
      const dir = o.order ?? 'ASC';
      // PostgreSQL sorts NULLs as larger than any value; SQLite as smaller.
      const nulls = o.nulls ?? (dir === 'DESC' ? 'FIRST' : 'LAST');
      return `${groupOrOrderItem(ctx, o.by, scope, cols)} ${dir} NULLS ${nulls}`;
    })
    .join(', ');
}
