// A bound on the memory one query's result may take while it is built (rows are materialized in the reader
// before they are sent). Past the bound the query fails with PostgreSQL's out-of-memory error (53200)
// instead of the process growing with whatever a user asks for.
import { SqlError } from '../../pg/errors';

/** Rough size in memory of one value, as V8 holds it (strings at two bytes a character, to be safe). */
function valueBytes(v: unknown): number {
  if (typeof v === 'string') return 16 + 2 * v.length;
  if (v instanceof Uint8Array) return 32 + v.length;
  return 8;
}

/** Collects the rows of an iterator; throws 53200 when their estimated size passes limitBytes. */
export function collectRows(rows: Iterable<unknown[]>, limitBytes: number): unknown[][] {
  const out: unknown[][] = [];
  let bytes = 0;
  for (const row of rows) {
    bytes += 32 + 8 * row.length;
    for (const v of row) bytes += valueBytes(v);
    if (bytes > limitBytes) {
      throw new SqlError('53200', 'out of memory', {
        detail: `The result of this query passed segtasks.result_memory_limit (${Math.round(limitBytes / 1024)} kB) after ${out.length} rows.`,
        hint: 'Narrow the query with WHERE or LIMIT, or read large data with COPY.',
      });
    }
    out.push(row);
  }
  return out;
}
