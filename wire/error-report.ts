// Turns an error from running a statement into an ErrorResponse (PostgreSQL's elog.c at ERROR level):
// a SqlError as it is, anything else as an internal error (XX000), logged.

import { SqlError } from '../pg/errors';
import type { Backend } from './backend';
import * as msg from './backend-messages';

/** Sends the error and fails the transaction block. offset shifts the position to the whole query string. */
export function reportError(b: Backend, err: unknown, offset: number): void {
  let e: SqlError;
  if (err instanceof SqlError) e = err;
  else {
    // After the client has gone, a failure is the disconnect's consequence (logged once by the connection).
    const log = b.transport.clientGone ? b.logger.debug : b.logger.error;
    log.call(b.logger, { pid: b.pid, err: (err as Error)?.stack ?? String(err) }, 'internal error');
    e = new SqlError('XX000', `internal error: ${(err as Error)?.message ?? String(err)}`);
  }
  b.transaction.fail();
  b.transport.send(
    msg.errorResponse({
      severity: 'ERROR',
      code: e.code,
      message: e.message,
      hint: e.extra.hint,
      detail: e.extra.detail,
      position: e.extra.position ? e.extra.position + offset : undefined,
    }),
  );
}
