// The relations a client can read, with their PostgreSQL schema, OID and typed columns, and where each lives
// in SQLite. sys.* come from the catalog file's own tables (their declared types are PostgreSQL type names);
// pg_catalog.* and information_schema.* are emulated (pg-catalog.ts). OIDs are fixed by name, so they are the
// same across restarts.
import { canonicalType } from '../pg/types';

export interface ColumnDef {
  name: string;
  type: string;
  notNull?: boolean;
}

export interface RelationDef {
  schema: string;
  name: string;
  oid: number;
  /** 'r' table, 'v' view (pg_class.relkind). */
  kind: 'r' | 'v';
  /** SQLite expression to read it from, e.g. main."tasks" or temp."pg_catalog.pg_type". */
  sqlite: string;
  columns: ColumnDef[];
  description?: string;
  /** Column names forming the primary key (for pg_index / pg_constraint and JDBC getPrimaryKeys). */
  primaryKey?: string[];
}

export const NAMESPACES = [
  { oid: 11, name: 'pg_catalog' },
  { oid: 2200, name: 'public' },
  { oid: 13000, name: 'information_schema' },
  { oid: 16384, name: 'sys' },
] as const;

export const namespaceOid = (name: string) => NAMESPACES.find((n) => n.name === name)?.oid ?? 0;

/** Schemas searched for unqualified names, in order (pg_catalog is always searched first, as in PostgreSQL). */
const SEARCH_PATH = ['pg_catalog', 'public'];

/** pg_class oids of user tables: this plus the table's rowid in the catalog (above every emulated oid). */
export const USER_TABLE_OID_BASE = 30000;

export class RelationRegistry {
  private readonly byName = new Map<string, RelationDef>();
  private readonly byOidMap = new Map<number, RelationDef>();

  /**
   * Whether a name is a user table (COPY target). Its bytes are segment data, not rows, so a SELECT of it is
   * 0A000 with a hint rather than 42P01. Set by the emulation over its connection; none in a bare registry.
   */
  isUserTable: (name: string) => boolean = () => false;

  constructor(readonly relations: RelationDef[]) {
    for (const r of relations) {
      this.byName.set(`${r.schema}.${r.name}`, r);
      this.byOidMap.set(r.oid, r);
    }
  }

  lookup(schema: string | null, name: string): RelationDef | null {
    if (schema) return this.byName.get(`${schema}.${name}`) ?? null;
    for (const s of SEARCH_PATH) {
      const r = this.byName.get(`${s}.${name}`);
      if (r) return r;
    }
    return null;
  }

  byOid(oid: number): RelationDef | undefined {
    return this.byOidMap.get(oid);
  }

  /** Whether an unqualified reference would find this relation (pg_table_is_visible). */
  isVisible(oid: number): boolean {
    // User tables (pg-catalog.ts lists them in pg_class) live in public.
    if (oid >= USER_TABLE_OID_BASE) return true;
    const r = this.byOidMap.get(oid);
    return !!r && (SEARCH_PATH.includes(r.schema) || r.schema === 'sys');
  }
}

/** Parses the compact 'name:type name:type!' column notation used by the definitions ('!' = not null). */
export function columns(spec: string): ColumnDef[] {
  return spec
    .trim()
    .split(/\s+/)
    .map((c) => {
      const [name, rawType] = c.split(':');
      const notNull = rawType.endsWith('!');
      const written = rawType.replace('!', '');
      // The catalogs' one-byte char columns are PostgreSQL's internal "char", not SQL's char(1) (bpchar).
      const type = written === 'char' ? 'char' : (canonicalType(written) ?? 'text');
      return { name, type, notNull };
    });
}

/** Stable OID for a relation: real PostgreSQL OIDs for the catalogs it has, fixed ranges for ours. */
export function relationOid(schema: string, name: string, index: number): number {
  const known: Record<string, number> = {
    'pg_catalog.pg_type': 1247,
    'pg_catalog.pg_attribute': 1249,
    'pg_catalog.pg_proc': 1255,
    'pg_catalog.pg_class': 1259,
    'pg_catalog.pg_attrdef': 2604,
    'pg_catalog.pg_constraint': 2606,
    'pg_catalog.pg_inherits': 2611,
    'pg_catalog.pg_index': 2610,
    'pg_catalog.pg_namespace': 2615,
    'pg_catalog.pg_am': 2601,
    'pg_catalog.pg_description': 2609,
    'pg_catalog.pg_database': 1262,
    'pg_catalog.pg_authid': 1260,
    'pg_catalog.pg_auth_members': 1261,
    'pg_catalog.pg_tablespace': 1213,
    'pg_catalog.pg_collation': 3456,
    'pg_catalog.pg_extension': 3079,
  };
  const k = known[`${schema}.${name}`];
  if (k) return k;
  const base = schema === 'sys' ? 16400 : schema === 'information_schema' ? 13100 : 12000;
  return base + index;
}
