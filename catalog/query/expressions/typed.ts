// What every part of the translator hands back: SQLite SQL for an expression and the PostgreSQL type it has.
import { SqlError } from '../../../pg/errors';

export interface Typed {
  sql: string;
  /** Canonical PostgreSQL type name; 'unknown' for an untyped literal, null when not known. */
  type: string | null;
}

export const quoteIdent = (s: string) => '"' + s.replace(/"/g, '""') + '"';
export const quoteLit = (s: string) => "'" + s.replace(/'/g, "''") + "'";

export function err(code: string, message: string, hint?: string): SqlError {
  return new SqlError(code, message, hint ? { hint } : {});
}
