// Casts: how a value of one PostgreSQL type becomes another in SQLite, through the pg_to_* conversions
// (functions/conversions.ts) where SQLite's own CAST would not give PostgreSQL's result or error.
import { isIntegerType, isNumericType } from '../../../pg/types';
import { quoteLit, type Typed } from './typed';

/** SQL for a cast of v to the PostgreSQL type `to`. */
const REG_TYPES = ['regclass', 'regtype', 'regnamespace', 'regproc'];

export function castSql(v: Typed, to: string): string {
  if (v.type === to) return v.sql;
  if (to.startsWith('_')) {
    // an array of object names (oidvector::regtype[]): each OID becomes the name its reg type prints
    if (REG_TYPES.includes(to.slice(1))) return `pg_reg_names(${v.sql}, ${quoteLit(to.slice(1))})`;
    // int2vector and oidvector are kept as their space-separated text: an array is {a,b}
    if (v.type === 'int2vector' || v.type === 'oidvector') return `pg_vector_to_array(${v.sql})`;
    // text read as an array: checked (22P02) and in PostgreSQL's output form ([1:2]={a,b} is {a,b})
    if (!v.type?.startsWith('_')) return `pg_to_array(${v.sql})`;
  }
  if (isIntegerType(to)) {
    if (v.type === 'bool') return v.sql;
    return `pg_to_int(${v.sql}, ${quoteLit(to)})`;
  }
  if (isNumericType(to)) return `pg_to_float(${v.sql})`;
  switch (to) {
    case 'bool':
      return `pg_to_bool(${v.sql})`;
    case 'text':
    case 'varchar':
    case 'name':
    case 'bpchar':
    case 'char':
      if (v.type === 'bool') return `(CASE ${v.sql} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)`;
      if (v.type && REG_TYPES.includes(v.type)) {
        return `pg_reg_name(${v.sql}, ${quoteLit(v.type)})`;
      }
      return `CAST(${v.sql} AS TEXT)`;
    case 'regproc':
    case 'regprocedure':
      return `pg_reg_oid(${v.sql}, 'regproc')`;
    case 'regclass':
    case 'regtype':
    case 'regnamespace':
      return `pg_reg_oid(${v.sql}, ${quoteLit(to)})`;
    case 'timestamptz':
    case 'timestamp':
      return `pg_to_timestamptz(${v.sql})`;
    case 'date':
      return `substr(pg_to_timestamptz(${v.sql}), 1, 10)`;
    case 'uuid':
      return `pg_to_uuid(${v.sql})`;
    case 'interval':
      return `pg_to_interval(${v.sql})`;
    case 'json':
    case 'jsonb':
      // The text as written when it is JSON; SQLite's json() raises "malformed JSON" (22P02) when it is not.
      if (v.type === 'json' || v.type === 'jsonb') return v.sql;
      return `(CASE WHEN json_valid(${v.sql}) THEN ${v.sql} ELSE json(${v.sql}) END)`;
    default:
      return v.sql;
  }
}
