// Bounds on the memory a query's rows may take in the reader. A result that is materialized (collected whole
// before it is sent: a scrollable or holdable cursor, or a streamed query when every reader that may hold a
// cursor is held) is bounded by segtasks.result_memory_limit: past it the query fails with PostgreSQL's
// out-of-memory error (53200) instead of the process growing with whatever a user asks for. A streamed result
// is taken a batch at a time, each batch bounded in rows and bytes.
import { SqlError } from '../../pg/errors';

/** Rough size in memory of one value, as V8 holds it (strings at two bytes a character, to be safe). */
function valueBytes(v: unknown): number {
  if (typeof v === 'string') return 16 + 2 * v.length;
  if (v instanceof Uint8Array) return 32 + v.length;
  return 8;
}

export function rowBytes(row: unknown[]): number {
  let bytes = 32 + 8 * row.length;
  for (const v of row) bytes += valueBytes(v);
  return bytes;
}

/**
 * Collects the rows of an iterator after those already taken (`first`); throws 53200 when their estimated
 * size passes limitBytes.
 */
export function collectRows(
  rows: Iterable<unknown[]>,
  limitBytes: number,
  first: unknown[][] = [],
): unknown[][] {
  const out = first;
  let bytes = 0;
  for (const row of out) bytes += rowBytes(row);
  for (const row of rows) {
    bytes += rowBytes(row);
    if (bytes > limitBytes) {
      throw new SqlError('53200', 'out of memory', {
        detail: `The result of this query passed segtasks.result_memory_limit (${Math.round(limitBytes / 1024)} kB) after ${out.length} rows.`,
        hint: 'Read it through a cursor that is not SCROLL or WITH HOLD, narrow it with WHERE or LIMIT, or read large data with COPY.',
      });
    }
    out.push(row);
  }
  return out;
}

/** The next batch of a streamed result: up to maxRows rows or about maxBytes; done when the iterator ended. */
export function takeRows(
  rows: Iterator<unknown[]>,
  maxRows: number,
  maxBytes: number,
): { rows: unknown[][]; done: boolean } {
  const out: unknown[][] = [];
  let bytes = 0;
  while (out.length < maxRows && bytes < maxBytes) {
    const r = rows.next();
    if (r.done) return { rows: out, done: true };
    bytes += rowBytes(r.value);
    out.push(r.value);
  }
  return { rows: out, done: false };
}
