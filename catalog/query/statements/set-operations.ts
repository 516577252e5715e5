// UNION [ALL]: a chain of operands, left-associative, with an ORDER BY / LIMIT after the last operand applying
// to the whole result, as in PostgreSQL.
import type * as A from 'pgsql-ast-parser';
import { limit } from '../clauses/limit';
import { orderBy } from '../clauses/ordering';
import type { Context, OutColumn, Rows, Scope } from '../context';
import { statement } from './index';

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

/** The columns of a set operation: the left operand's names, typed by the first operand that has a type. */
function mergeColumns(a: OutColumn[], b: OutColumn[]): OutColumn[] {
  return a.map((c, i) => ({
    name: c.name,
    type: c.type && c.type !== 'unknown' ? c.type : (b[i]?.type ?? c.type),
  }));
}
