// VALUES lists: columns named column1, column2, ... and typed from their first typed row.
import type * as A from 'pgsql-ast-parser';
import type { Context, OutColumn, Rows, Scope } from '../context';
import { castSql } from '../expressions/casts';
import { expr } from '../expressions/expr';
import { quoteIdent, type Typed } from '../expressions/typed';

export function values(ctx: Context, s: A.ValuesStatement, scope: Scope): Rows {
  const rows = s.values.map((row) => row.map((e) => expr(ctx, e, scope)));
  const width = rows[0]?.length ?? 0;
  const columns: OutColumn[] = [];
  for (let i = 0; i < width; i++) {
    columns.push({
      name: `column${i + 1}`,
      type: rows.map((r) => r[i]?.type).find((t) => t && t !== 'unknown') ?? 'text',
    });
  }
  // A literal in a column of another type is read as that type (PostgreSQL resolves the column's type
  // first: 'x' beside a json value is json input, and fails as such).
  const cell = (c: Typed, i: number) => {
    const type = columns[i].type;
    return c.type === 'unknown' && type && type !== 'text' ? castSql(c, type) : c.sql;
  };
  // Name the columns as PostgreSQL does (column1, column2, ...), through a first SELECT row.
  const first = rows[0].map((c, i) => `${cell(c, i)} AS ${quoteIdent(`column${i + 1}`)}`).join(', ');
  const rest = rows.slice(1).map((r) => `SELECT ${r.map(cell).join(', ')}`);
  return { sql: [`SELECT ${first}`, ...rest].join(' UNION ALL '), columns };
}
