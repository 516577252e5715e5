// PostgreSQL type names as the translator uses them, and their OIDs.
import { Oid } from '../../pg/types';

/** Canonical type name for a name as written in SQL or declared in the catalog ('int' -> 'int4'). */
export function canonicalType(name: string | null | undefined): string | null {
  if (!name) return null;
  let n = name
    .toLowerCase()
    .replace(/^pg_catalog\./, '')
    .replace(/"/g, '')
    .trim();
  n = n.replace(/\(.*\)$/, '').trim();
  if (n.endsWith('[]')) {
    const inner = canonicalType(n.slice(0, -2));
    return inner ? '_' + inner : null;
  }
  const aliases: Record<string, string> = {
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
    integer_: 'int4',
    serial: 'int4',
    bigserial: 'int8',
    '"char"': 'char',
  };
  return aliases[n] ?? n;
}

const oids: Record<string, number> = {
  bool: Oid.bool,
  bytea: Oid.bytea,
  char: Oid.char,
  name: Oid.name,
  int8: Oid.int8,
  int2: Oid.int2,
  int2vector: Oid.int2vector,
  int4: Oid.int4,
  regproc: Oid.regproc,
  text: Oid.text,
  oid: Oid.oid,
  xid: Oid.xid,
  oidvector: Oid.oidvector,
  json: Oid.json,
  jsonb: Oid.jsonb,
  pg_node_tree: Oid.pg_node_tree,
  float4: Oid.float4,
  float8: Oid.float8,
  bpchar: Oid.bpchar,
  varchar: Oid.varchar,
  date: Oid.date,
  time: Oid.time,
  timestamp: Oid.timestamp,
  timestamptz: Oid.timestamptz,
  interval: Oid.interval,
  numeric: Oid.numeric,
  regclass: Oid.regclass,
  regtype: Oid.regtype,
  regnamespace: Oid.regnamespace,
  uuid: Oid.uuid,
  aclitem: Oid.aclitem,
  _bool: Oid._bool,
  _char: Oid._char,
  _name: Oid._name,
  _int2: Oid._int2,
  _int4: Oid._int4,
  _text: Oid._text,
  _oid: Oid._oid,
  _varchar: Oid._varchar,
  _int8: Oid._int8,
  _float4: Oid._float4,
  _float8: Oid._float8,
  _aclitem: Oid._aclitem,
  _timestamptz: Oid._timestamptz,
  _numeric: Oid._numeric,
  _uuid: Oid._uuid,
  integer: Oid.int8, // SQLite's own INTEGER (e.g. rowid aliases) is 64-bit
  unknown: Oid.text,
};

export function typeOid(name: string | null): number {
  if (!name) return Oid.text;
  return oids[canonicalType(name) ?? ''] ?? Oid.text;
}

export function typeNameOfOid(oid: number): string | null {
  for (const [k, v] of Object.entries(oids)) if (v === oid && k !== 'integer' && k !== 'unknown') return k;
  return null;
}

export const isIntegerType = (t: string | null) =>
  t === 'int2' || t === 'int4' || t === 'int8' || t === 'oid';
export const isNumericType = (t: string | null) =>
  isIntegerType(t) || t === 'float4' || t === 'float8' || t === 'numeric';
