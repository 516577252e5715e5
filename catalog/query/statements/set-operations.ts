// Set operations. UNION [ALL] as pgsql-ast-parser reads it: a chain of operands, left-associative, with an
// ORDER BY / LIMIT after the last operand applying to the whole result, as in PostgreSQL. INTERSECT and EXCEPT
// [ALL] (and the UNIONs beside them), which parse/set-operations.ts made FROM items: SQLite has INTERSECT and
// EXCEPT but not their ALL forms, which keep min(m, n) and max(m - n, 0) copies of a row that the left operand
// has m times and the right n times; numbering the copies of each row (row_number() over a partition by all
// columns) makes every copy distinct, and the distinct operation on the numbered rows keeps exactly those.
import type * as A from 'pgsql-ast-parser';
import { limit } from '../clauses/limit';
import { orderBy } from '../clauses/ordering';
import type { Context, OutColumn, Rows, Scope } from '../context';
import { err, quoteIdent } from '../expressions/typed';
import { SET_OPERATIONS } from '../parse/set-operations';
import { isQuery, statement } from './index';

/**
 * pgsql-ast-parser reads `a UNION ALL b UNION c ORDER BY x LIMIT n` right-nested, with the ORDER BY and LIMIT
 * on c. PostgreSQL's set operations associate to the left and an ORDER BY or LIMIT after the last operand
 * applies to the whole result. (A parenthesized operand was made a subquery by parse/rewrite.ts, so the
 * chain here is only what was written without parentheses.)
 */
export function setOperation(ctx: Context, s: A.SelectFromUnion, scope: Scope): Rows {
  const operands: A.SelectStatement[] = [];
  const ops: string[] = [];
  let node: A.SelectStatement = s;
  while (node.type === 'union' || node.type === 'union all') {
    operands.push(node.left);
    ops.push(node.type === 'union' ? 'UNION' : 'UNION ALL');
    node = node.right;
  }
  let order: A.OrderByStatement[] | null | undefined;
  let lim: A.LimitStatement | null | undefined;
  if (node.type === 'select' && (node.orderBy?.length || node.limit)) {
    ({ orderBy: order, limit: lim } = node);
    node = { ...node, orderBy: null, limit: null };
  }
  operands.push(node);
  const parts = operands.map((o) => statement(ctx, o, scope));
  let sql = `SELECT * FROM (${parts[0].sql})`;
  let columns = parts[0].columns;
  parts.slice(1).forEach((p, i) => {
    sql += ` ${ops[i]} SELECT * FROM (${p.sql})`;
    columns = mergeColumns(columns, p.columns);
  });
  if (!order?.length && !lim) return { sql, columns };
  const result: Scope = {
    tables: [{ alias: '__set_result', columns: columns.map((c) => ({ name: c.name, type: c.type })) }],
    ctes: scope.ctes,
    parent: scope,
  };
  let out = `SELECT * FROM (${sql}) AS "__set_result"`;
  if (order?.length) out += ` ORDER BY ${orderBy(ctx, order, result, columns)}`;
  out += limit(ctx, lim, result);
  return { sql: out, columns };
}

/** Whether a FROM function is one of the set operations parse/set-operations.ts makes. */
export const isSetOperation = (name: string) => Object.hasOwn(SET_OPERATIONS, name);

/** The rows of a set operation the rewrite made a FROM item: its two operands are the call's arguments. */
export function setOperationItem(ctx: Context, f: A.FromCall, scope: Scope): Rows {
  const { keyword, all } = SET_OPERATIONS[f.function.name];
  const [left, right] = f.args;
  if (f.args.length !== 2 || !isQuery(left) || !isQuery(right))
    throw err('42601', `${keyword} needs a query on each side`);
  // The operands see the CTEs and outer references of the query the operation stands in, as its FROM does.
  const operandScope: Scope = { tables: [], ctes: scope.ctes, parent: scope.parent };
  const l = statement(ctx, left, operandScope);
  const r = statement(ctx, right, operandScope);
  if (l.columns.length !== r.columns.length)
    throw err('42601', `each ${keyword} query must have the same number of columns`);
  const columns = mergeColumns(l.columns, r.columns);
  const op = keyword + (all && keyword === 'UNION' ? ' ALL' : '');
  if (!all || keyword === 'UNION')
    return { sql: `SELECT * FROM (${l.sql}) ${op} SELECT * FROM (${r.sql})`, columns };
  const cols = l.columns.map((_, i) => quoteIdent(`__c${i + 1}`));
  const numbered = (cte: string) =>
    `SELECT ${cols.join(', ')}, row_number() OVER (PARTITION BY ${cols.join(', ')}) AS "__copy" FROM ${cte}`;
  const sql =
    `SELECT ${cols.map((c, i) => `${c} AS ${quoteIdent(l.columns[i].name)}`).join(', ')} FROM (` +
    `WITH "__set_left"(${cols.join(', ')}) AS (${l.sql}), "__set_right"(${cols.join(', ')}) AS (${r.sql}) ` +
    `${numbered('"__set_left"')} ${keyword} ${numbered('"__set_right"')})`;
  return { sql, columns };
}

/** The columns of a set operation: the left operand's names, typed by the first operand that has a type. */
function mergeColumns(a: OutColumn[], b: OutColumn[]): OutColumn[] {
  return a.map((c, i) => ({
    name: c.name,
    type: c.type && c.type !== 'unknown' ? c.type : (b[i]?.type ?? c.type),
  }));
}
