// SQL-standard keyword values (current_user, current_timestamp, ...).
import type { Typed } from './typed';

export function keyword(k: string): Typed {
  switch (k) {
    case 'current_user':
    case 'session_user':
    case 'user':
    case 'current_role':
      return { sql: 'pg_current_user()', type: 'name' };
    case 'current_schema':
      return { sql: "'public'", type: 'name' };
    case 'current_catalog':
      return { sql: 'pg_current_database()', type: 'name' };
    case 'current_timestamp':
    case 'localtimestamp':
      return { sql: 'pg_now()', type: 'timestamptz' };
    case 'current_date':
      return { sql: "date('now')", type: 'date' };
    case 'current_time':
    case 'localtime':
      return { sql: "time('now')", type: 'time' };
    default:
      return { sql: 'NULL', type: null };
  }
}
