// PostgreSQL's built-in types, as the server knows them: one table, like PostgreSQL's pg_type.dat. Everything
// else (OID constants, typlen in RowDescription, array element types, which types have a binary codec, the
// pg_type rows of the catalog emulation, SQL type-name aliases) is derived from it.

interface TypeDef {
  oid: number;
  /** OID of the array type over this one, 0 when there is none. */
  array: number;
  /** typlen: bytes of a fixed-size type, -1 for varlena, -2 for cstring-like. */
  len: number;
  /** typcategory */
  category: string;
  /** Element type of a vector type (int2vector, oidvector). */
  elem?: number;
  /** true when codecs.ts implements the binary format (others would be text bytes: a known pitfall). */
  binary: boolean;
}

const T = (
  oid: number,
  array: number,
  len: number,
  category: string,
  binary: boolean,
  elem?: number,
): TypeDef => ({
  oid,
  array,
  len,
  category,
  binary,
  elem,
});

/** The table. Keys are pg_type.typname. */
const TYPES = {
  bool: T(16, 1000, 1, 'B', true),
  bytea: T(17, 1001, -1, 'U', true),
  char: T(18, 1002, 1, 'Z', true),
  name: T(19, 1003, 64, 'S', true),
  int8: T(20, 1016, 8, 'N', true),
  int2: T(21, 1005, 2, 'N', true),
  int2vector: T(22, 1006, -1, 'A', true, 21),
  int4: T(23, 1007, 4, 'N', true),
  regproc: T(24, 1008, 4, 'N', true),
  text: T(25, 1009, -1, 'S', true),
  oid: T(26, 1028, 4, 'N', true),
  tid: T(27, 1010, 6, 'U', false),
  xid: T(28, 1011, 4, 'U', true),
  cid: T(29, 1012, 4, 'U', false),
  oidvector: T(30, 1013, -1, 'A', true, 26),
  json: T(114, 199, -1, 'U', true),
  xml: T(142, 143, -1, 'U', false),
  pg_node_tree: T(194, 0, -1, 'Z', true),
  float4: T(700, 1021, 4, 'N', true),
  float8: T(701, 1022, 8, 'N', true),
  unknown: T(705, 0, -2, 'X', true),
  inet: T(869, 1041, -1, 'I', false),
  aclitem: T(1033, 1034, 12, 'U', false),
  bpchar: T(1042, 1014, -1, 'S', true),
  varchar: T(1043, 1015, -1, 'S', true),
  date: T(1082, 1182, 4, 'D', true),
  time: T(1083, 1183, 8, 'D', false),
  timestamp: T(1114, 1115, 8, 'D', true),
  timestamptz: T(1184, 1185, 8, 'D', true),
  interval: T(1186, 1187, 16, 'T', true),
  numeric: T(1700, 1231, -1, 'N', true),
  regprocedure: T(2202, 2207, 4, 'N', true),
  regclass: T(2205, 2210, 4, 'N', true),
  regtype: T(2206, 2211, 4, 'N', true),
  regnamespace: T(4089, 4090, 4, 'N', true),
  uuid: T(2950, 2951, 16, 'U', true),
  jsonb: T(3802, 3807, -1, 'U', true),
  record: T(2249, 2287, -1, 'P', false),
  anyarray: T(2277, 0, -1, 'P', false),
  void: T(2278, 0, 4, 'P', true),
  // pseudo-types that function signatures name (pg_proc.prorettype / proargtypes; pgcli reads them as regtype)
  cstring: T(2275, 1263, -2, 'P', false),
  internal: T(2281, 0, 8, 'P', false),
  trigger: T(2279, 0, 4, 'P', false),
  event_trigger: T(3838, 0, 4, 'P', false),
  language_handler: T(2280, 0, 4, 'P', false),
  fdw_handler: T(3115, 0, 4, 'P', false),
  index_am_handler: T(325, 0, 4, 'P', false),
  table_am_handler: T(269, 0, 4, 'P', false),
  anyelement: T(2283, 0, 4, 'P', false),
} satisfies Record<string, TypeDef>;

type BaseName = keyof typeof TYPES;
type ArrayName = `_${BaseName}`;

/** One row per type, arrays included, as pg_type has them. */
export interface PgType {
  name: string;
  oid: number;
  len: number;
  category: string;
  /** typelem: element type of an array or vector type, else 0. */
  elem: number;
  /** typarray: the array type over this one, else 0. */
  array: number;
  binary: boolean;
}

function buildTypes(): PgType[] {
  const rows: PgType[] = [];
  for (const [name, d] of Object.entries(TYPES) as [string, TypeDef][]) {
    rows.push({
      name,
      oid: d.oid,
      len: d.len,
      category: d.category,
      elem: d.elem ?? 0,
      array: d.array,
      binary: d.binary,
    });
  }
  for (const [name, d] of Object.entries(TYPES) as [string, TypeDef][]) {
    if (!d.array) continue;
    // An array has a binary form exactly when its element has one.
    rows.push({
      name: '_' + name,
      oid: d.array,
      len: -1,
      category: 'A',
      elem: d.oid,
      array: 0,
      binary: d.binary,
    });
  }
  return rows;
}

export const PG_TYPES: readonly PgType[] = buildTypes();

const byOid = new Map<number, PgType>(PG_TYPES.map((t) => [t.oid, t]));
const byName = new Map<string, PgType>(PG_TYPES.map((t) => [t.name, t]));

/** OIDs by type name: Oid.int4, Oid._text, ... */
export const Oid = Object.fromEntries(PG_TYPES.map((t) => [t.name, t.oid])) as Record<
  BaseName | ArrayName,
  number
>;

export const typeByOid = (oid: number): PgType | undefined => byOid.get(oid);
export const typeByName = (name: string): PgType | undefined => byName.get(name);

/** typlen of a type (-1 for varlena and unknown OIDs); used in RowDescription. */
export function typeSize(oid: number): number {
  const len = byOid.get(oid)?.len ?? -1;
  return len === -2 ? -1 : len;
}

/** Element type of an array or vector type, or undefined for a scalar. */
export function arrayElement(oid: number): number | undefined {
  const t = byOid.get(oid);
  return t?.elem ? t.elem : undefined;
}

/** Types whose binary format the codecs really implement. */
export const hasBinaryCodec = (oid: number): boolean => byOid.get(oid)?.binary ?? false;

/** The name of a type's OID, or null for an OID the server does not know. */
export const typeNameOfOid = (oid: number): string | null => byOid.get(oid)?.name ?? null;

/** SQL spellings of type names and their pg_type names ('integer' -> 'int4'). */
const ALIASES: Record<string, string> = {
  integer: 'int4',
  int: 'int4',
  smallint: 'int2',
  bigint: 'int8',
  'double precision': 'float8',
  double: 'float8',
  real: 'float4',
  float: 'float8',
  boolean: 'bool',
  'character varying': 'varchar',
  character: 'bpchar',
  char: 'bpchar',
  decimal: 'numeric',
  'timestamp with time zone': 'timestamptz',
  'timestamp without time zone': 'timestamp',
  'time without time zone': 'time',
  serial: 'int4',
  bigserial: 'int8',
  '"char"': 'char',
};

/** Canonical type name for a name as written in SQL ('int' -> 'int4', 'text[]' -> '_text'). */
export function canonicalType(name: string | null | undefined): string | null {
  if (!name) return null;
  const lower = name
    .toLowerCase()
    .replace(/^pg_catalog\./, '')
    .trim();
  if (lower.endsWith('[]')) {
    const inner = canonicalType(lower.slice(0, -2));
    return inner ? '_' + inner : null;
  }
  // the quoted "char" is the one-byte type char, the bare word SQL's char(n), bpchar
  if (lower.includes('"') && ALIASES[lower]) return ALIASES[lower];
  const n = name
    .toLowerCase()
    .replace(/^pg_catalog\./, '')
    .replace(/"/g, '')
    .trim()
    .replace(/\(.*\)$/, '')
    .trim();
  if (n.endsWith('[]')) {
    const inner = canonicalType(n.slice(0, -2));
    return inner ? '_' + inner : null;
  }
  return ALIASES[n] ?? n;
}

export const isIntegerType = (t: string | null) =>
  t === 'int2' || t === 'int4' || t === 'int8' || t === 'oid';
export const isNumericType = (t: string | null) =>
  isIntegerType(t) || t === 'float4' || t === 'float8' || t === 'numeric';
