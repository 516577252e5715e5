// Column references: a name looked up in the FROM items of the query and of the queries around it, with the
// system columns (tableoid, ctid, xmin, ...) of every registry relation.
import type * as A from 'pgsql-ast-parser';
import { SYSTEM_COLUMNS } from '../../relations';
import type { Scope } from '../context';
import { err, quoteIdent, type Typed } from './typed';

export function findColumn(
  scope: Scope,
  table: string | null,
  name: string,
  deep = true,
): { type: string | null; alias: string; sql?: string } | null {
  for (let s: Scope | null = scope; s; s = deep ? s.parent : null) {
    for (const t of s.tables) {
      if (table && t.alias !== table) continue;
      const c = t.columns.find((x) => x.name === name);
      if (c) return { type: c.type, alias: t.alias, sql: c.sql };
      // Every row of a relation has the system columns: tableoid is the OID of the relation it is in.
      const system = t.oid !== undefined ? SYSTEM_COLUMNS.find((x) => x.name === name) : undefined;
      if (system) return { type: system.type, alias: t.alias, sql: system.sql ?? String(t.oid) };
    }
    if (!deep) break;
  }
  return null;
}

function findTable(scope: Scope, alias: string): boolean {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.tables.some((t) => t.alias === alias)) return true;
  return false;
}

export function columnRef(e: A.ExprRef, scope: Scope): Typed {
  if (e.name === '*') return { sql: '*', type: null };
  const table = e.table?.name ?? null;
  const found = findColumn(scope, table, e.name);
  if (!found) {
    if (table && !findTable(scope, table))
      throw err('42P01', `missing FROM-clause entry for table "${table}"`);
    throw err('42703', `column "${table ? table + '.' : ''}${e.name}" does not exist`);
  }
  return { sql: found.sql ?? `${quoteIdent(found.alias)}.${quoteIdent(e.name)}`, type: found.type };
}
