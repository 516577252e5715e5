// The OID of a type name as the catalog declares it. PostgreSQL's own types come from pg/types.ts; this adds
// what only the SQLite side has: its INTEGER (rowid aliases) is 64-bit, and an untyped or unknown name is text,
// as PostgreSQL resolves an unknown-typed output column.
import { canonicalType, Oid, typeByName } from '../../pg/types';

export function typeOid(name: string | null): number {
  if (!name) return Oid.text;
  // A canonical name is a pg_type name already: "char" (18) is not SQL's char (bpchar).
  const exact = typeByName(name)?.oid;
  if (exact !== undefined) return exact;
  const canonical = canonicalType(name);
  if (canonical === 'integer') return Oid.int8;
  if (canonical === 'unknown') return Oid.text;
  return typeByName(canonical ?? '')?.oid ?? Oid.text;
}
