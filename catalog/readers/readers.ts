// What the router and the app ask of the engine that answers user queries: the reader pool on the SQLite
// catalog (pool.ts) or PostgreSQL itself when the catalog lives there (postgres-readers.ts).
import type { Cancellation } from '../../pg/cancel';
import { SqlError } from '../../pg/errors';
import type { Described, RunResult, SessionSnapshot, StreamedBatch, StreamedRun } from './reader-engine';

/** The rows of a streamed query that remain where it runs (a reader thread, a PostgreSQL portal). */
export interface ReaderCursor {
  /** The next batch (at most max rows; max 0: all the rest); the cursor is closed after the last one. */
  next(max: number, signal?: AbortSignal, formats?: number[]): Promise<StreamedBatch>;
  /** Ends the query and frees what holds it; the cursor is then unusable. */
  close(): void;
}

export interface OpenedRun extends StreamedRun {
  /** Where the rest of the rows come from, when they did not all come with the first batch. */
  cursor: ReaderCursor | null;
}

/** For the metrics (segtasks_reader_pool_*). */
export interface ReaderStats {
  /** Readers started and serving (threads, or connections). */
  workers: number;
  /** Statements running on them. */
  running: number;
  /** Statements waiting for one. */
  queued: number;
  /** Readers held by open cursors. */
  cursors: number;
  /** Readers started since the engine began. */
  spawned: number;
  /** Statements run on the inline lane instead of a reader (pool.ts runInline, lane.ts), since the start. */
  inlined: number;
}

export interface Readers {
  /** Resolves when the engine can answer. */
  ready(): Promise<void>;
  /** ParameterDescription and RowDescription of a query. user: whose request it is (fair sharing). */
  describe(sql: string, types: number[], user?: string): Promise<Described>;
  /** Runs a query and returns all its rows as values. */
  run(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    cancel?: Cancellation,
    autoParams?: boolean,
  ): Promise<RunResult>;
  /**
   * Runs a query whose rows the caller reads as a stream: the first batch, and a cursor over the rest.
   * formats: the result formats, when the rows are to come encoded as DataRow messages.
   */
  open(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    cancel: Cancellation | undefined,
    autoParams: boolean,
    formats: number[] | null,
  ): Promise<OpenedRun>;
  stats(): ReaderStats;
  close(): Promise<void>;
}

/** 34000: a held cursor whose reader was freed (closed, committed, cancelled, or its session ended). */
export const cursorGone = () => new SqlError('34000', 'the cursor of this portal is no longer open');

/** A cursor over the rest of a result already taken whole: one batch, the last. */
export function materialized(rest: StreamedBatch): ReaderCursor {
  let taken = false;
  return {
    next: async () => {
      if (taken) throw cursorGone();
      taken = true;
      return rest;
    },
    close: () => {},
  };
}
