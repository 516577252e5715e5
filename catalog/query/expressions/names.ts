// The names PostgreSQL gives result columns and types as written in a query.
import type * as A from 'pgsql-ast-parser';
import { canonicalType } from '../../../pg/types';

/** The column name PostgreSQL gives an unaliased select item. */
export function outputName(e: A.Expr): string {
  return figure(e).name;
}

/**
 * PostgreSQL's FigureColnameInternal: a name and how strongly the expression claims it. A column, a call and
 * the like name themselves (2); a cast of anything weaker is named after its type (1), so a chain of casts of a
 * constant takes the last type; a CASE takes its ELSE's name when that claims one strongly, else "case" (1).
 */
function figure(e: A.Expr): { name: string; strength: number } {
  const strong = (name: string) => ({ name, strength: 2 });
  switch (e.type) {
    case 'ref':
      return strong(e.name);
    case 'call':
      return strong(e.function.name.toLowerCase());
    case 'cast': {
      const inner = figure(e.operand);
      return inner.strength > 1 ? inner : { name: canonicalName(typeName(e.to)), strength: 1 };
    }
    case 'keyword':
      return strong(e.keyword === 'user' ? 'current_user' : e.keyword);
    case 'case': {
      const otherwise = e.else ? figure(e.else) : null;
      return otherwise && otherwise.strength > 1 ? otherwise : { name: 'case', strength: 1 };
    }
    case 'array':
    case 'array select':
      return strong('array');
    case 'extract':
      return strong('extract');
    case 'select': {
      // a scalar subquery is named after its one column, as that column is named inside it
      const only = e.columns?.length === 1 ? e.columns[0] : null;
      return only ? strong(only.alias?.name ?? figure(only.expr).name) : { name: '?column?', strength: 0 };
    }
    case 'arrayIndex':
      return figure(e.array);
    case 'substring':
      return strong('substring');
    default:
      return { name: '?column?', strength: 0 };
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
