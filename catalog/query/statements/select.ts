// SELECT: the FROM items, the select list (with its set-returning calls joined), DISTINCT [ON], and the
// clauses.
import type * as A from 'pgsql-ast-parser';
import { fromItem } from '../clauses/from';
import { limit } from '../clauses/limit';
import { groupBy, orderBy } from '../clauses/ordering';
import { selectListSrfs } from '../clauses/select-list-srfs';
import type { Context, OutColumn, Rows, Scope } from '../context';
import { findColumn } from '../expressions/columns';
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
  /** The select list item by item, a * as each of its columns (what DISTINCT ON needs to rename them). */
  const expanded: SelectItem[] = [];
  for (const c of s.columns ?? []) {
    const e = c.expr;
    if (e.type === 'ref' && e.name === '*') {
      const tables = e.table ? scope.tables.filter((t) => t.alias === e.table!.name) : scope.tables;
      if (e.table && !tables.length)
        throw err('42P01', `missing FROM-clause entry for table "${e.table.name}"`);
      // A FROM item whose columns are read through expressions has other SQLite columns: each column named.
      const named = tables.some((t) => t.columns.some((c) => c.sql));
      if (!named) items.push(e.table ? `${quoteIdent(e.table.name)}.*` : '*');
      for (const t of tables)
        for (const col of t.columns) {
          const sql = col.sql ?? `${quoteIdent(t.alias)}.${quoteIdent(col.name)}`;
          cols.push({ name: col.name, type: col.type, star: true });
          expanded.push({ sql, name: col.name });
          if (named) items.push(`${sql} AS ${quoteIdent(col.name)}`);
        }
      continue;
    }
    const t = expr(ctx, e, scope);
    const name = c.alias?.name ?? outputName(e);
    items.push(`${t.sql} AS ${quoteIdent(name)}`);
    expanded.push({ sql: t.sql, name });
    cols.push({ name, type: t.type === 'unknown' ? 'text' : t.type });
  }
  let rest = fromSql;
  if (s.where) rest += ` WHERE ${expr(ctx, s.where, scope).sql}`;
  if (s.groupBy?.length) rest += ` GROUP BY ${groupBy(ctx, s.groupBy, scope, cols)}`;
  if (s.having) rest += ` HAVING ${expr(ctx, s.having, scope).sql}`;
  let sql: string;
  if (Array.isArray(s.distinct)) {
    sql = distinctOn(ctx, s.distinct, s.orderBy ?? [], { items: expanded, cols, scope, rest });
  } else {
    // PostgreSQL allows an empty select list (rows of no columns); SQLite needs one column, which the reader
    // drops again (Translation.columns is empty).
    if (!items.length) items.push('NULL');
    sql = `SELECT ${s.distinct === 'distinct' ? 'DISTINCT ' : ''}${items.join(', ')}${rest}`;
    if (s.orderBy?.length) sql += ` ORDER BY ${orderBy(ctx, s.orderBy, scope, cols)}`;
  }
  sql += limit(ctx, s.limit, scope);
  ctx.srfJoins = outerSrfs;
  return { sql, columns: cols };
}

interface SelectItem {
  sql: string;
  name: string;
}

/**
 * SELECT DISTINCT ON (keys): the first row of each group of rows with equal keys, in the ORDER BY's order.
 * SQLite has no DISTINCT ON: the rows are numbered within each group in that order (row_number()), and the
 * first of each kept. PostgreSQL reads the keys as it reads ORDER BY items (an output column's name or
 * position), and requires the ORDER BY to begin with them (42P10).
 */
function distinctOn(
  ctx: Context,
  on: A.Expr[],
  order: A.OrderByStatement[],
  select: { items: SelectItem[]; cols: OutColumn[]; scope: Scope; rest: string },
): string {
  const { items, cols, scope } = select;
  const resolve = (e: A.Expr, clause: string): string => {
    if (e.type === 'integer') {
      const item = items[e.value - 1];
      if (!item) throw err('42P10', `${clause} position ${e.value} is not in select list`);
      return item.sql;
    }
    if (e.type === 'ref' && !e.table && !findColumn(scope, null, e.name, false)) {
      const item = items.find((i) => i.name === e.name);
      if (item && cols.some((c) => c.name === e.name)) return item.sql;
    }
    return expr(ctx, e, scope).sql;
  };
  const keys = on.map((e) => resolve(e, 'DISTINCT ON'));
  const sorts = order.map((o) => resolve(o.by, 'ORDER BY'));
  // PostgreSQL's transformDistinctOnClause: no key may follow, or be missing after, an ORDER BY item that
  // is not a key.
  let skipped = false;
  const sorted = new Set<string>();
  for (const k of sorts) {
    if (!keys.includes(k)) skipped = true;
    else if (skipped) throw mismatch();
    else sorted.add(k);
  }
  if (skipped && keys.some((k) => !sorted.has(k))) throw mismatch();
  const direction = (o: A.OrderByStatement) => {
    const dir = o.order ?? 'ASC';
    // PostgreSQL sorts NULLs as larger than any value; SQLite as smaller.
    return `${dir} NULLS ${o.nulls ?? (dir === 'DESC' ? 'FIRST' : 'LAST')}`;
  };
  const windowOrder = sorts.length
    ? ` ORDER BY ${sorts.map((k, i) => `${k} ${direction(order[i])}`).join(', ')}`
    : '';
  const inner = [
    ...items.map((it, i) => `${it.sql} AS "__c${i + 1}"`),
    ...sorts.map((k, i) => `${k} AS "__o${i + 1}"`),
    `row_number() OVER (PARTITION BY ${keys.join(', ')}${windowOrder}) AS "__first"`,
  ];
  const outer = items.map((it, i) => `"__c${i + 1}" AS ${quoteIdent(it.name)}`);
  let sql = `SELECT ${outer.length ? outer.join(', ') : 'NULL'} FROM (SELECT ${inner.join(', ')}${select.rest}) WHERE "__first" = 1`;
  if (sorts.length)
    sql += ` ORDER BY ${sorts.map((_, i) => `"__o${i + 1}" ${direction(order[i])}`).join(', ')}`;
  return sql;
}

const mismatch = () => err('42P10', 'SELECT DISTINCT ON expressions must match initial ORDER BY expressions');
