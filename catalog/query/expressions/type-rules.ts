// Which types go together: array element types, and PostgreSQL's type categories.
import { isNumericType } from '../../../pg/types';

/** The element type of an array type (int2vector and oidvector are arrays of int2 and oid), or null. */
export function elementType(t: string | null): string | null {
  if (t === 'int2vector') return 'int2';
  if (t === 'oidvector') return 'oid';
  return t?.startsWith('_') ? t.slice(1) : null;
}

/** PostgreSQL's type categories (pg_type.typcategory), as far as they decide whether types can be mixed. */
export function typeCategory(t: string): string {
  if (t.startsWith('_') || t === 'int2vector' || t === 'oidvector') return 'A';
  if (isNumericType(t) || t === 'oid' || t.startsWith('reg')) return 'N';
  if (['text', 'varchar', 'name', 'bpchar', 'char'].includes(t)) return 'S';
  if (['date', 'timestamp', 'timestamptz', 'time', 'timetz'].includes(t)) return 'D';
  if (t === 'bool') return 'B';
  return t;
}
