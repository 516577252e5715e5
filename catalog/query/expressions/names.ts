// The names PostgreSQL gives result columns and types as written in a query.
import type * as A from 'pgsql-ast-parser';
import { canonicalType } from '../../../pg/types';

/** The column name PostgreSQL gives an unaliased select item. */
export function outputName(e: A.Expr): string {
  switch (e.type) {
    case 'ref':
      return e.name;
    case 'call':
      return e.function.name.toLowerCase();
    case 'cast':
      if (e.operand.type === 'ref' || e.operand.type === 'call' || e.operand.type === 'cast')
        return outputName(e.operand);
      return canonicalName(typeName(e.to));
    case 'keyword':
      return e.keyword === 'user' ? 'current_user' : e.keyword;
    case 'case':
      return 'case';
    case 'array':
    case 'array select':
      return 'array';
    case 'extract':
      return 'extract';
    case 'select':
      return e.columns?.length === 1 ? outputName(e.columns[0].expr) : '?column?';
    case 'arrayIndex':
      return outputName(e.array);
    case 'substring':
      return 'substring';
    default:
      return '?column?';
  }
}

/** A type as written (schema-qualified unless pg_catalog, [] for arrays). */
export function typeName(t: A.DataTypeDef): string {
  if ('kind' in t && t.kind === 'array') return typeName(t.arrayOf) + '[]';
  const b = t as A.BasicDataTypeDef;
  // a quoted name stays quoted: "char" is another type than char
  const name = b.doubleQuoted ? `"${b.name}"` : b.name;
  return (b.schema && b.schema !== 'pg_catalog' ? b.schema + '.' : '') + name;
}

/** PostgreSQL names a cast column after the type's SQL name (int4 -> int4, integer -> int4, text -> text). */
function canonicalName(t: string): string {
  const c = canonicalType(t) ?? t;
  return c.startsWith('_') ? c.slice(1) : c;
}
