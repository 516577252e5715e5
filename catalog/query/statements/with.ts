// WITH and WITH RECURSIVE: common table expressions, visible by name to the statements after them. The
// statement after a WITH clause is never a WITH of its own (PostgreSQL's 42601: parse/with-clauses.ts).
import type * as A from 'pgsql-ast-parser';
import type { Context, Rows, Scope } from '../context';
import { quoteIdent } from '../expressions/typed';
import { statement } from './index';

export function withQuery(ctx: Context, s: A.WithStatement, scope: Scope): Rows {
  const inner: Scope = { tables: [], ctes: new Map(scope.ctes), parent: scope.parent };
  const parts: string[] = [];
  for (const b of s.bind) {
    const r = statement(ctx, b.statement, inner);
    inner.ctes.set(b.alias.name, {
      alias: b.alias.name,
      columns: r.columns.map((c) => ({ name: c.name, type: c.type })),
    });
    parts.push(`${quoteIdent(b.alias.name)} AS (${r.sql})`);
  }
  const main = statement(ctx, s.in, inner);
  return { sql: `WITH ${parts.join(', ')} ${main.sql}`, columns: main.columns };
}

export function withRecursive(ctx: Context, s: A.WithRecursiveStatement, scope: Scope): Rows {
  const inner: Scope = { tables: [], ctes: new Map(scope.ctes), parent: scope.parent };
  const name = s.alias.name;
  const bind = s.bind as A.SelectStatement;
  const recursive = bind.type === 'union' || bind.type === 'union all' ? bind : null;
  // The non-recursive term first: it gives the CTE its column types (and names, without a list).
  const seed = statement(ctx, recursive ? recursive.left : bind, inner);
  const cols = seed.columns.map((c, i) => ({ name: s.columnNames[i]?.name ?? c.name, type: c.type }));
  inner.ctes.set(name, { alias: name, columns: cols });
  let body = seed.sql;
  if (recursive) {
    // SQLite finds the recursive reference only in the FROM of the recursive term itself: that term
    // is not wrapped in a subquery as other set operations are.
    const step = statement(ctx, recursive.right, inner);
    body = `SELECT * FROM (${seed.sql}) ${recursive.type === 'union' ? 'UNION' : 'UNION ALL'} ${step.sql}`;
  }
  const main = statement(ctx, s.in, inner);
  const colList = cols.map((c) => quoteIdent(c.name)).join(', ');
  return {
    sql: `WITH RECURSIVE ${quoteIdent(name)}(${colList}) AS (${body}) ${main.sql}`,
    columns: main.columns,
  };
}
