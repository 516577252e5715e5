// Binary expressions: x op ANY/SOME/ALL (array | subquery), [NOT] IN lists and subqueries, and the operators
// of expressions/operators.ts, with a parameter operand typed from the other operand.
import type * as A from 'pgsql-ast-parser';
import { isIntegerType, isNumericType } from '../../../pg/types';
import { type Context, type Scope, subqueryScope } from '../context';
import { isQuery, statement } from '../statements';
import { expr, typedParam } from './expr';
import { binaryOperator, negateOp, operandsShareType } from './operators';
import { elementType } from './type-rules';
import { err, quoteIdent, type Typed } from './typed';

export function binary(ctx: Context, e: A.ExprBinary, scope: Scope): Typed {
  const op = e.op as string;
  if (
    e.right.type === 'call' &&
    ['any', 'some', 'all'].includes(e.right.function.name.toLowerCase()) &&
    !e.right.function.schema
  ) {
    return quantified(ctx, op, e.left, e.right, scope);
  }
  if (op === 'IN' || op === 'NOT IN') return inList(ctx, op, e, scope);
  // A parameter takes the type of the other operand of a comparison or arithmetic; with || it is text.
  const sameType = operandsShareType(op);
  const want = (t: string | null) => (!sameType || t === 'unknown' || t === null ? 'text' : t);
  let l = expr(ctx, e.left, scope);
  const r =
    e.right.type === 'parameter' ? typedParam(ctx, e.right, scope, want(l.type)) : expr(ctx, e.right, scope);
  if (e.left.type === 'parameter' && !ctx.params[+e.left.name.slice(1) - 1] && r.type) {
    l = typedParam(ctx, e.left, scope, want(r.type));
  }
  return binaryOperator(op, l, r);
}

/** x op ANY(array | subquery), x op ALL(...) */
function quantified(ctx: Context, op: string, left: A.Expr, right: A.ExprCall, scope: Scope): Typed {
  const l = expr(ctx, left, scope);
  const fn = right.function.name.toLowerCase();
  const arg = right.args[0];
  let set: string;
  let arrayIsNull: string | null = null;
  if (isQuery(arg)) {
    const inner = statement(ctx, arg, subqueryScope(scope));
    set = `(SELECT ${quoteIdent(inner.columns[0]?.name ?? 'value')} AS value FROM (${inner.sql}))`;
  } else {
    const arr = typedParam(ctx, arg, scope, l.type ? '_' + l.type.replace(/^_/, '') : '_text');
    // Elements come out of an array as text: those of a numeric array are numbers again.
    const et = elementType(arr.type);
    const elem = isIntegerType(et)
      ? "pg_to_int(value, 'int8')"
      : isNumericType(et)
        ? 'pg_to_float(value)'
        : 'value';
    set = `(SELECT ${elem} AS value FROM pg_array_each(${arr.sql}))`;
    arrayIsNull = arr.sql;
  }
  let sql: string;
  if (op === '=' && fn !== 'all') sql = `(${l.sql} IN ${set})`;
  else if ((op === '<>' || op === '!=') && fn === 'all') sql = `(${l.sql} NOT IN ${set})`;
  else {
    const quant = fn === 'all' ? 'NOT EXISTS' : 'EXISTS';
    const cmp = fn === 'all' ? negateOp(op) : op;
    sql = `(${quant} (SELECT 1 FROM ${set} AS q WHERE ${l.sql} ${cmp} q.value))`;
  }
  // x = ANY (NULL::array) is NULL, not false
  if (arrayIsNull) sql = `(CASE WHEN ${arrayIsNull} IS NULL THEN NULL ELSE ${sql} END)`;
  return { sql, type: 'bool' };
}

function inList(ctx: Context, op: string, e: A.ExprBinary, scope: Scope): Typed {
  if (e.left.type === 'list' && !isQuery(e.right)) {
    // A row compared with scalars: PostgreSQL reads an untyped literal as a record it cannot parse.
    const items = e.right.type === 'list' ? e.right.expressions : [e.right];
    const scalar = items.find((x) => x.type !== 'list');
    if (scalar?.type === 'string')
      throw err('0A000', 'input of anonymous composite types is not implemented');
    if (scalar)
      throw err('42883', `operator does not exist: record = ${expr(ctx, scalar, scope).type ?? 'unknown'}`);
  }
  const l = expr(ctx, e.left, scope);
  let r: string;
  if (e.right.type === 'list')
    r = `(${e.right.expressions.map((x) => typedParam(ctx, x, scope, l.type).sql).join(', ')})`;
  else if (isQuery(e.right)) r = expr(ctx, e.right, scope).sql;
  // A one-element list `IN (x)` is parsed as the bare element: it stays a list, or SQLite would read
  // `IN 'x'` / `IN x` as its `IN table` form.
  else r = `(${typedParam(ctx, e.right, scope, l.type).sql})`;
  return { sql: `(${l.sql} ${op} ${r})`, type: 'bool' };
}
