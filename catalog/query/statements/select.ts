// SELECT: the FROM items, the select list (with its set-returning calls joined), DISTINCT, and the clauses.
import type * as A from 'pgsql-ast-parser';
import { fromItem } from '../clauses/from';
import { limit } from '../clauses/limit';
import { groupBy, orderBy } from '../clauses/ordering';
import { selectListSrfs } from '../clauses/select-list-srfs';
import type { Context, OutColumn, Rows, Scope } from '../context';
import { expr } from '../expressions/expr';
import { outputName } from '../expressions/names';
import { err, quoteIdent } from '../expressions/typed';

export function select(ctx: Context, s: A.SelectFromStatement, outer: Scope): Rows {
  const scope: Scope = { tables: [], ctes: outer.ctes, parent: outer };
  const from = (s.from ?? []).map((f, i) => fromItem(ctx, f, scope, i === 0));
  const outerSrfs = ctx.srfJoins;
  const { joins, srfs } = selectListSrfs(ctx, s.columns ?? [], scope);
  ctx.srfJoins = srfs.size ? srfs : null;
  const fromParts = [...from, ...joins.map((j, i) => (from.length || i ? `, ${j}` : j))];
  const fromSql = fromParts.length ? ` FROM ${fromParts.join(' ')}` : '';
  const cols: OutColumn[] = [];
  const items: string[] = [];
  for (const c of s.columns ?? []) {
    const e = c.expr;
    if (e.type === 'ref' && e.name === '*') {
      const tables = e.table ? scope.tables.filter((t) => t.alias === e.table!.name) : scope.tables;
      if (e.table && !tables.length)
        throw err('42P01', `missing FROM-clause entry for table "${e.table.name}"`);
      items.push(e.table ? `${quoteIdent(e.table.name)}.*` : '*');
      for (const t of tables)
        for (const col of t.columns) cols.push({ name: col.name, type: col.type, star: true });
      continue;
    }
    const t = expr(ctx, e, scope);
    const name = c.alias?.name ?? outputName(e);
    items.push(`${t.sql} AS ${quoteIdent(name)}`);
    cols.push({ name, type: t.type === 'unknown' ? 'text' : t.type });
  }
  // PostgreSQL allows an empty select list (rows of no columns); SQLite needs one column, which the reader
  // drops again (Translation.columns is empty).
  if (!items.length) items.push('NULL');
  let sql = 'SELECT ';
  if (s.distinct === 'distinct') sql += 'DISTINCT ';
  else if (Array.isArray(s.distinct)) throw err('0A000', 'SELECT DISTINCT ON is not supported');
  sql += items.join(', ') + fromSql;
  if (s.where) sql += ` WHERE ${expr(ctx, s.where, scope).sql}`;
  if (s.groupBy?.length) sql += ` GROUP BY ${groupBy(ctx, s.groupBy, scope, cols)}`;
  if (s.having) sql += ` HAVING ${expr(ctx, s.having, scope).sql}`;
  if (s.orderBy?.length) sql += ` ORDER BY ${orderBy(ctx, s.orderBy, scope, cols)}`;
  sql += limit(ctx, s.limit, scope);
  ctx.srfJoins = outerSrfs;
  return { sql, columns: cols };
}
