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

/**
 * PostgreSQL's system columns of a table's rows, with their attnum. segtasks's rows have no physical place and no
 * transaction history: ctid is (0,1), xmin the bootstrap transaction, xmax, cmin and cmax 0; tableoid is the
 * relation's OID (given by the translator).
 */
export const SYSTEM_COLUMNS: readonly { name: string; type: string; attnum: number; sql?: string }[] = [
  { name: 'ctid', type: 'tid', attnum: -1, sql: "'(0,1)'" },
  { name: 'xmin', type: 'xid', attnum: -2, sql: '1' },
  { name: 'cmin', type: 'cid', attnum: -3, sql: '0' },
  { name: 'xmax', type: 'xid', attnum: -4, sql: '0' },
  { name: 'cmax', type: 'cid', attnum: -5, sql: '0' },
  { name: 'tableoid', type: 'oid', attnum: -6 },
];

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
    // PostgreSQL 15's OIDs of the other catalogs: pg_dump names them as classid/refclassid ('pg_opfamily'::regclass)
    'pg_catalog.pg_depend': 2608,
    'pg_catalog.pg_operator': 2617,
    'pg_catalog.pg_opclass': 2616,
    'pg_catalog.pg_opfamily': 2753,
    'pg_catalog.pg_amop': 2602,
    'pg_catalog.pg_amproc': 2603,
    'pg_catalog.pg_language': 2612,
    'pg_catalog.pg_rewrite': 2618,
    'pg_catalog.pg_trigger': 2620,
    'pg_catalog.pg_cast': 2605,
    'pg_catalog.pg_conversion': 2607,
    'pg_catalog.pg_event_trigger': 3466,
    'pg_catalog.pg_foreign_data_wrapper': 2328,
    'pg_catalog.pg_foreign_server': 1417,
    'pg_catalog.pg_foreign_table': 3118,
    'pg_catalog.pg_policy': 3256,
    'pg_catalog.pg_publication': 6104,
    'pg_catalog.pg_publication_rel': 6106,
    'pg_catalog.pg_publication_namespace': 6237,
    'pg_catalog.pg_subscription': 6100,
    'pg_catalog.pg_transform': 3576,
    'pg_catalog.pg_ts_parser': 3601,
    'pg_catalog.pg_ts_template': 3764,
    'pg_catalog.pg_ts_dict': 3600,
    'pg_catalog.pg_ts_config': 3602,
    'pg_catalog.pg_ts_config_map': 3603,
    'pg_catalog.pg_default_acl': 826,
    'pg_catalog.pg_init_privs': 3394,
    'pg_catalog.pg_largeobject_metadata': 2995,
    'pg_catalog.pg_statistic_ext': 3381,
    'pg_catalog.pg_statistic_ext_data': 3429,
    'pg_catalog.pg_sequence': 2224,
    'pg_catalog.pg_enum': 3501,
    'pg_catalog.pg_range': 3541,
    'pg_catalog.pg_seclabel': 3596,
    'pg_catalog.pg_shseclabel': 3592,
    'pg_catalog.pg_shdescription': 2396,
    'pg_catalog.pg_partitioned_table': 3350,
  };
  const k = known[`${schema}.${name}`];
  if (k) return k;
  const base = schema === 'sys' ? 16400 : schema === 'information_schema' ? 13100 : 12000;
  return base + index;
}
