// Errors as PostgreSQL reports them (ereport): a SQLSTATE, a message, and optional detail, hint and position.
// Every layer throws these, or a class of its own that extends SqlError where the class says something useful
// (a task error, a storage error); the wire layer turns any SqlError into one ErrorResponse, and anything else
// into XX000. That is the one mapping from failure to SQLSTATE.

export type Severity = 'ERROR' | 'FATAL';

export interface ErrorExtra {
  hint?: string;
  detail?: string;
  /** 1-based character position within the statement text the error is about. */
  position?: number;
  /** FATAL ends the connection (authentication, protocol violations); ERROR ends the statement. */
  severity?: Severity;
}

export class SqlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: ErrorExtra = {},
  ) {
    super(message);
  }

  get severity(): Severity {
    return this.extra.severity ?? 'ERROR';
  }
}

/** An error that ends the connection. */
export const fatal = (code: string, message: string, extra: Omit<ErrorExtra, 'severity'> = {}) =>
  new SqlError(code, message, { ...extra, severity: 'FATAL' });

/** Malformed protocol traffic: FATAL 08P01, as PostgreSQL's pq_getmsg* functions report it. */
export const protocolViolation = (message: string) => fatal('08P01', message);
