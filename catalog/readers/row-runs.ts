// A streamed query's rows, stepped by SQLite a run of rows at a time instead of one row per call. Handing a row
// from SQLite to JavaScript through a statement's iterator costs about a microsecond (a native call, an
// iterator result and the row's array) on top of the stepping, most of a cursor's time for a narrow row; a
// JavaScript function that SQLite calls costs a fifth of that. So a streamed query runs wrapped (runsSql): its
// rows go to a function that keeps them, and the wrapper returns a row of its own to the iterator only where a
// run ends (the rows asked for, a batch's bytes, or the time allowed to read ahead). The query itself is
// unchanged: it runs as a subquery that SQLite can neither flatten into the wrapper nor push the function into
// (its LIMIT and OFFSET forbid both), so the function sees the rows once each, in the query's order, after any
// sorting, and the values as SQLite hands them to any function (as the iterator hands them out).
import type Database from 'better-sqlite3';
import { rowBytes } from './result-budget';

const EMIT = 'pg_stream_row';
/** SQLite's bound on a function's arguments in better-sqlite3's build (SQLITE_MAX_FUNCTION_ARG). */
const MAX_COLUMNS = 1000;
/** How many rows are stepped between two looks at the clock while reading ahead against a deadline. */
export const CLOCK_EVERY = 32;

/** The query wrapped so that its rows go to the run's function, or null when it cannot be (no columns, too many). */
export function runsSql(sql: string, columns: number): string | null {
  if (columns === 0 || columns > MAX_COLUMNS) return null;
  const names = Array.from({ length: columns }, (_, i) => `c${i + 1}`).join(', ');
  return `WITH pg_stream_rows(${names}) AS (SELECT * FROM (${sql}\n) LIMIT -1 OFFSET 0) SELECT 1 FROM pg_stream_rows WHERE ${EMIT}(${names})`;
}

/** The rows of a streamed query, with what the next run should take. */
export interface RowSource extends IterableIterator<unknown[]> {
  /** The next run stops after `rows` rows (or a batch's bytes), or once `deadline` (performance.now()) passed. */
  expect(rows: number, deadline?: number): void;
}

/** Registers the function the wrapped queries call; one per connection, serving whichever run is stepping. */
export class RowRuns {
  private run: RunOf | null = null;

  constructor(
    db: Database.Database,
    /** A run's bytes at most, as rowBytes estimates them. */
    private readonly maxBytes: number,
  ) {
    db.function(EMIT, { varargs: true, deterministic: false }, (...row: unknown[]) => {
      if (!this.run) throw new Error(`${EMIT} called outside a streamed query`);
      return this.run.keep(row) ? 1 : 0;
    });
  }

  /** The rows of a wrapped statement's iterator. */
  rows(wrapped: Iterator<unknown>): RowSource {
    return new RunOf(this, wrapped, this.maxBytes);
  }

  /** Steps `wrapped` with `run` keeping the rows. */
  step(run: RunOf, wrapped: Iterator<unknown>): IteratorResult<unknown> {
    this.run = run;
    try {
      return wrapped.next();
    } finally {
      this.run = null;
    }
  }
}

class RunOf implements RowSource {
  private buffer: unknown[][] = [];
  private at = 0;
  private bytes = 0;
  private wanted = 1;
  private deadline = Number.POSITIVE_INFINITY;
  private ended = false;
  /** An error of the statement after rows of its run: thrown once those rows are out. */
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly runs: RowRuns,
    private readonly wrapped: Iterator<unknown>,
    private readonly maxBytes: number,
  ) {}

  [Symbol.iterator](): RowSource {
    return this;
  }

  expect(rows: number, deadline = Number.POSITIVE_INFINITY): void {
    this.wanted = Math.max(1, rows);
    this.deadline = deadline;
  }

  /** Keeps a row of the run; true when the run ends with it. */
  keep(row: unknown[]): boolean {
    const n = this.buffer.push(row);
    this.bytes += rowBytes(row);
    return (
      n >= this.wanted ||
      this.bytes >= this.maxBytes ||
      (n % CLOCK_EVERY === 0 && performance.now() >= this.deadline)
    );
  }

  next(): IteratorResult<unknown[]> {
    if (this.at < this.buffer.length) return { value: this.buffer[this.at++], done: false };
    if (this.failure) {
      const { error } = this.failure;
      this.failure = null;
      this.ended = true;
      throw error;
    }
    if (this.ended) return { value: undefined, done: true };
    this.buffer = [];
    this.at = 0;
    this.bytes = 0;
    try {
      if (this.runs.step(this, this.wrapped).done) this.ended = true;
    } catch (error) {
      if (!this.buffer.length) {
        this.ended = true;
        throw error;
      }
      this.failure = { error };
    }
    return this.next();
  }

  return(): IteratorResult<unknown[]> {
    this.ended = true;
    this.buffer = [];
    this.wrapped.return?.();
    return { value: undefined, done: true };
  }
}
