// Expressions: each form of pgsql-ast-parser's Expr becomes SQLite SQL and the PostgreSQL type it has.
// Column references, comparisons (with their lists and subqueries) and calls have modules of their own;
// operators and casts are tables in operators.ts and casts.ts.
import type * as A from 'pgsql-ast-parser';
import { canonicalType } from '../../../pg/types';
import { type Context, type Scope, subqueryScope } from '../context';
import { lowerBound } from '../functions';
import { statement } from '../statements';
import { call } from './calls';
import { castSql } from './casts';
import { columnRef } from './columns';
import { binary } from './comparisons';
import { keyword } from './keywords';
import { typeName } from './names';
import { unaryOperator } from './operators';
import { elementType, typeCategory } from './type-rules';
import { err, quoteIdent, quoteLit, type Typed } from './typed';

/**
 * An expression where a value of type `want` is expected: a parameter there takes that type unless the client
 * or an earlier use gave it one.
 */
export function typedParam(ctx: Context, e: A.Expr, scope: Scope, want: string | null): Typed {
  if (e.type === 'parameter') {
    const idx = +e.name.slice(1) - 1;
    if (want && !ctx.params[idx]) ctx.params[idx] = want;
    if (ctx.params[idx] === undefined) ctx.params[idx] = null;
    return { sql: `?${idx + 1}`, type: ctx.params[idx] ?? want };
  }
  return expr(ctx, e, scope);
}

export function expr(ctx: Context, e: A.Expr, scope: Scope): Typed {
  switch (e.type) {
    case 'ref':
      return columnRef(e, scope);
    case 'string':
      return { sql: quoteLit(e.value), type: 'unknown' };
    case 'integer':
      return { sql: String(e.value), type: Math.abs(e.value) > 2147483647 ? 'int8' : 'int4' };
    case 'numeric':
      return { sql: String(e.value), type: 'numeric' };
    case 'boolean':
      return { sql: e.value ? '1' : '0', type: 'bool' };
    case 'null':
      return { sql: 'NULL', type: null };
    case 'constant':
      return { sql: typeof e.value === 'string' ? quoteLit(e.value) : String(e.value), type: null };
    case 'parameter':
      return typedParam(ctx, e, scope, null);
    case 'keyword':
      return keyword(e.keyword);
    case 'cast':
      return cast(ctx, e.operand, canonicalType(typeName(e.to)) ?? 'text', scope);
    case 'unary': {
      const want = e.op === 'NOT' || e.op.startsWith('IS') ? 'bool' : null;
      return unaryOperator(e.op, typedParam(ctx, e.operand, scope, want));
    }
    case 'binary':
      return binary(ctx, e, scope);
    case 'ternary': {
      const v = expr(ctx, e.value, scope);
      const lo = typedParam(ctx, e.lo, scope, v.type);
      const hi = typedParam(ctx, e.hi, scope, v.type);
      return { sql: `(${v.sql} ${e.op} ${lo.sql} AND ${hi.sql})`, type: 'bool' };
    }
    case 'case':
      return caseExpr(ctx, e, scope);
    case 'call':
      return call(ctx, e, scope);
    case 'select':
    case 'union':
    case 'union all':
    case 'with':
    case 'values': {
      const inner = statement(ctx, e, subqueryScope(scope));
      return { sql: `(${inner.sql})`, type: inner.columns[0]?.type ?? null };
    }
    case 'list':
      return { sql: `(${e.expressions.map((x) => expr(ctx, x, scope).sql).join(', ')})`, type: null };
    case 'array':
      return arrayConstructor(ctx, e, scope);
    case 'array select': {
      const inner = statement(ctx, e.select, subqueryScope(scope));
      const col = inner.columns[0];
      return {
        sql: `(SELECT pg_array_agg(${quoteIdent(col.name)}) FROM (${inner.sql}))`,
        type: '_' + (col.type ?? 'text').replace(/^_/, ''),
      };
    }
    case 'arrayIndex': {
      const arr = expr(ctx, e.array, scope);
      const idx = typedParam(ctx, e.index, scope, 'int4');
      // int2vector and oidvector are subscripted from 0, arrays from 1 or the lower bound their text names
      return {
        sql: `pg_array_get(${arr.sql}, ${idx.sql}, ${lowerBound(arr.type)})`,
        type: elementType(arr.type),
      };
    }
    case 'extract': {
      const from = expr(ctx, e.from, scope);
      return { sql: `pg_extract(${quoteLit(e.field.name)}, ${from.sql})`, type: 'numeric' };
    }
    case 'substring': {
      const v = expr(ctx, e.value, scope);
      const from = e.from ? typedParam(ctx, e.from, scope, 'int4').sql : '1';
      const len = e.for ? `, ${typedParam(ctx, e.for, scope, 'int4').sql}` : '';
      return { sql: `pg_substr(${v.sql}, ${from}${len})`, type: 'text' };
    }
    case 'member': {
      const op = e.op === '->>' ? '->>' : '->';
      const v = expr(ctx, e.operand, scope);
      const key = typeof e.member === 'number' ? `'$[${e.member}]'` : quoteLit(`$.${e.member}`);
      // ->> gives JSON scalars as PostgreSQL prints them (true, not SQLite's 1)
      if (op === '->>') return { sql: `pg_json_text(${v.sql} -> ${key})`, type: 'text' };
      return { sql: `(${v.sql} -> ${key})`, type: 'json' };
    }
    default:
      throw err('0A000', `expression of type ${(e as { type: string }).type} is not supported`);
  }
}

function cast(ctx: Context, operand: A.Expr, to: string, scope: Scope): Typed {
  const v = typedParam(ctx, operand, scope, to);
  // A parameter arrives as its text (or decoded) value: it still needs the conversion the cast implies.
  const source = operand.type === 'parameter' ? { ...v, type: 'unknown' } : v;
  // An array is made from an array or from text (array input); PostgreSQL has no cast from another scalar.
  const scalar =
    source.type &&
    !source.type.startsWith('_') &&
    !['unknown', 'text', 'varchar', 'name', 'int2vector', 'oidvector'].includes(source.type);
  if (to.startsWith('_') && scalar) throw err('42846', `cannot cast type ${source.type} to ${to}`);
  return { sql: castSql(source, to), type: to };
}

function caseExpr(ctx: Context, e: A.ExprCase, scope: Scope): Typed {
  const value = e.value ? expr(ctx, e.value, scope) : null;
  let type: string | null = null;
  const whens = e.whens.map((w) => {
    const cond = value ? typedParam(ctx, w.when, scope, value.type).sql : expr(ctx, w.when, scope).sql;
    const r = expr(ctx, w.value, scope);
    if (!type || type === 'unknown') type = r.type;
    return `WHEN ${cond} THEN ${r.sql}`;
  });
  let elseSql = '';
  if (e.else) {
    const r = expr(ctx, e.else, scope);
    if (!type || type === 'unknown') type = r.type;
    elseSql = ` ELSE ${r.sql}`;
  }
  return {
    sql: `(CASE ${value ? value.sql + ' ' : ''}${whens.join(' ')}${elseSql} END)`,
    type: type === 'unknown' ? 'text' : type,
  };
}

/** ARRAY[a, b, ...]: the elements' common type, as PostgreSQL's select_common_type resolves it. */
function arrayConstructor(ctx: Context, e: A.ExprList, scope: Scope): Typed {
  const items = e.expressions.map((x) => expr(ctx, x, scope));
  const known = items.filter((i) => i.type && i.type !== 'unknown');
  const elem = known[0]?.type ?? 'text';
  // Elements of different type categories cannot share an array.
  const other = known.find((i) => typeCategory(i.type as string) !== typeCategory(elem));
  if (other) throw err('42804', `ARRAY types ${elem} and ${other.type} cannot be matched`);
  const sqlOf = (i: Typed) => (i.type === 'unknown' && elem !== 'text' ? castSql(i, elem) : i.sql);
  return { sql: `pg_array(${items.map(sqlOf).join(', ')})`, type: '_' + elem.replace(/^_/, '') };
}
