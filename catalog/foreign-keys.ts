// The foreign keys between the sys tables, as the catalog's own schema declares them (SQLite's
// PRAGMA foreign_key_list), so that pg_constraint and information_schema show them and BI tools, pgjdbc's
// getImportedKeys and ORMs can join sys.subtasks to sys.tasks on their own. Only keys that reference the other
// table's primary key are listed: PostgreSQL requires a unique constraint on the referenced columns, and the
// primary key is the one unique constraint the catalog reports.
import type BetterSqlite3 from 'better-sqlite3';
import type { RelationDef } from './relations';

export interface ForeignKey {
  /** PostgreSQL's default name: <table>_<column>_fkey. */
  name: string;
  table: RelationDef;
  columns: string[];
  references: RelationDef;
  referencedColumns: string[];
  /** pg_constraint's action codes: a (no action), r (restrict), c (cascade), n (set null), d (set default). */
  onUpdate: string;
  onDelete: string;
}

const ACTION: Record<string, string> = {
  'NO ACTION': 'a',
  RESTRICT: 'r',
  CASCADE: 'c',
  'SET NULL': 'n',
  'SET DEFAULT': 'd',
};

export const ACTION_NAME: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

export function sysForeignKeys(db: BetterSqlite3.Database, relations: RelationDef[]): ForeignKey[] {
  const sys = new Map(relations.filter((r) => r.schema === 'sys').map((r) => [r.name, r]));
  const out: ForeignKey[] = [];
  for (const table of sys.values()) {
    const rows = db.prepare(`PRAGMA main.foreign_key_list("${table.name}")`).all() as {
      id: number;
      seq: number;
      table: string;
      from: string;
      to: string | null;
      on_update: string;
      on_delete: string;
    }[];
    const byId = new Map<number, typeof rows>();
    for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    for (const parts of [...byId.values()].sort((a, b) => a[0].from.localeCompare(b[0].from))) {
      parts.sort((a, b) => a.seq - b.seq);
      const references = sys.get(parts[0].table);
      if (!references?.primaryKey?.length) continue;
      const referencedColumns = parts.map((p) => p.to ?? references.primaryKey![p.seq]);
      if (referencedColumns.join() !== references.primaryKey.join()) continue;
      const columns = parts.map((p) => p.from);
      out.push({
        name: `${table.name}_${columns.join('_')}_fkey`,
        table,
        columns,
        references,
        referencedColumns,
        onUpdate: ACTION[parts[0].on_update] ?? 'a',
        onDelete: ACTION[parts[0].on_delete] ?? 'a',
      });
    }
  }
  return out;
}

/** pg_get_constraintdef's text of a foreign key. */
export function foreignKeyDef(fk: ForeignKey): string {
  let def = `FOREIGN KEY (${fk.columns.join(', ')}) REFERENCES ${fk.references.schema}.${fk.references.name}(${fk.referencedColumns.join(', ')})`;
  if (fk.onUpdate !== 'a') def += ` ON UPDATE ${ACTION_NAME[fk.onUpdate]}`;
  if (fk.onDelete !== 'a') def += ` ON DELETE ${ACTION_NAME[fk.onDelete]}`;
  return def;
}
