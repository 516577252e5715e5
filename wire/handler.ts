// The contract between the wire layer and whatever answers queries. The wire layer knows SQL only as far as
// splitting statements and session commands go; everything else is the handler's.
import type { BackendActivity, BackendSignal } from '../pg/activity';
import type { StoredCredentials } from '../pg/auth';
import type { Cancellation, StatementCancel } from '../pg/cancel';
import type { FieldDescription } from './backend-messages';
import type { DataRowRun } from './data-row-run';

export type { FieldDescription };

export interface Notice {
  message: string;
  detail?: string;
  hint?: string;
  code?: string;
  severity?: 'NOTICE' | 'WARNING' | 'INFO';
}

/** The client's session as a handler may see and change it: who is connected, and the settings. */
export interface ClientSession {
  readonly user: string;
  readonly database: string;
  readonly backendPid: number;
  /** Changes whenever any setting changes; lets a handler cache what it derived from the settings. */
  readonly settingsVersion: number;
  /**
   * True inside a transaction block, explicit (BEGIN ... COMMIT) or the implicit one of a Query string of
   * several statements, where statements that cannot be rolled back are refused with 25001, as PostgreSQL's
   * PreventInTransactionBlock does (`VACUUM; SELECT 1` fails there the same way).
   */
  readonly inTransactionBlock: boolean;
  setting(name: string): string | undefined;
  /** set_config(): changes a setting as SET would. */
  setSetting(name: string, value: string): void;
  allSettings(): [string, string][];
}

export interface QueryContext {
  session: ClientSession;
  /** Aborted when the client sends a CancelRequest for this backend or disconnects. */
  readonly signal: AbortSignal;
  /**
   * The same cancellation, without making the AbortSignal until something listens (pg/cancel.ts): a
   * statement that only checks whether it is cancelled should look here. Absent outside the wire.
   */
  readonly cancel?: StatementCancel;
  notice(n: Notice): void;
  /**
   * pg_notify(channel, payload): a NOTIFY, sent when the statement's transaction commits. Absent where no
   * client session listens or notifies (the console runs statements outside the wire).
   */
  notify?(channel: string, payload: string): void;
  /** Every session as pg_stat_activity shows it. Absent outside the wire (the console). */
  activity?(): BackendActivity[];
  /** pg_cancel_backend / pg_terminate_backend of a session (checked against activity() by the caller). */
  signalBackend?(pid: number, how: BackendSignal): void;
  /**
   * The caller reads the rows once, forward (a portal, a NO SCROLL cursor): a query may return its first rows
   * with the rest as a stream instead of all of them.
   */
  stream?: boolean;
  /**
   * With stream: the result formats the rows will be sent in, final (an Execute's portal), so a streamed row
   * may come already encoded as its DataRow message. Absent when they may still change (a cursor's rows are
   * sent in the formats of each FETCH).
   */
  resultFormats?: number[];
}

/** A row of a result: its values, or (streamed with QueryContext.resultFormats) its DataRow message. */
export type ResultRow = unknown[] | Buffer;

/**
 * Consecutive rows of a streamed result as they are passed on: one by one, or as a run of DataRow messages
 * encoded together (a reader's batch), which is kept and sent as one buffer.
 */
export type RowBatch = readonly ResultRow[] | DataRowRun;

/** The rows of a result after its first ones, produced as they are asked for. */
export interface RowStream {
  /**
   * Up to max more rows (a batch may hold more: the rows that came before any were asked for); done with
   * the last of them. A cancellation that aborts stops the producer. formats: the rows may come encoded as
   * DataRow messages in these result formats.
   */
  next(max: number, cancel?: Cancellation, formats?: number[]): Promise<{ rows: RowBatch; done: boolean }>;
  /** No more rows are wanted: frees what produces them. */
  close(): void;
  /**
   * Every row of the stream, when they came in its first batch (a point lookup): the wire may then send them
   * as they are, without pulling. Absent when more may follow.
   */
  readonly whole?: RowBatch;
}

export interface RowsResult {
  kind: 'rows';
  fields: FieldDescription[];
  /** Values, except in a streamed result (see ResultRow). */
  rows: ResultRow[];
  /**
   * The rows after `rows`, when the query streams them (only when QueryContext.stream asked for it); a
   * streamed result may have all its rows here, its first batch included.
   */
  rest?: RowStream;
  /** Command tag verb, e.g. 'SELECT' (the row count is appended), or a full tag such as 'SHOW'. */
  tag: string;
  /** Every column in binary, whatever the client asked (a FETCH from a BINARY cursor). */
  binary?: boolean;
}

export interface CommandResult {
  kind: 'command';
  tag: string;
}

/**
 * COPY ... FROM STDIN: the wire layer streams CopyData payloads into consume(), in runs: the payloads of the
 * messages that had arrived together, in order (one or more each).
 */
export interface CopyInResult {
  kind: 'copyIn';
  binary: boolean;
  consume(data: AsyncIterable<Buffer[]>, ctx: QueryContext): Promise<string>;
}

/** COPY ... TO STDOUT: the wire layer sends each chunk as CopyData. */
export interface CopyOutResult {
  kind: 'copyOut';
  binary: boolean;
  /**
   * The table's bytes. A chunk may be reused by the producer once the next one is asked for: the wire has
   * copied or written it by then (large chunks go to the socket as they are).
   */
  produce(ctx: QueryContext): AsyncIterable<Buffer>;
  /** Called after the last chunk; returns the command tag. */
  tag(): string;
}

export type QueryResult = RowsResult | CommandResult | CopyInResult | CopyOutResult;

export interface PreparedQuery {
  /** Parameter types, inferred where the client sent 0. */
  paramTypes: number[];
  /** Result columns, or null for a statement that returns no rows. */
  fields: FieldDescription[] | null;
  execute(params: unknown[], ctx: QueryContext): Promise<QueryResult>;
}

export interface QueryHandler {
  /** Credentials of a user, or null when there is no such user (or it may not log in). */
  credentials(user: string): Promise<StoredCredentials | null>;
  /**
   * Plans one statement. clientParamTypes holds the Parse message's type OIDs (0 = infer). describe is false
   * for a simple Query, where the result columns are needed only with the result (the handler may then leave
   * fields null and save a planning round trip).
   */
  prepare(
    sql: string,
    clientParamTypes: number[],
    session: ClientSession,
    describe: boolean,
  ): Promise<PreparedQuery>;
  /** Session settings to report or show beyond the defaults (e.g. is_superuser from the user's roles). */
  sessionSettings?(user: string): Promise<Record<string, string>>;
}
