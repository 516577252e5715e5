// The simple Query protocol (PostgreSQL's exec_simple_query): each statement of the string runs in turn
// through an unnamed portal; the first error ends the string; one ReadyForQuery answers the whole message.

import { SqlError } from '../pg/errors';
import type { Backend } from './backend';
import * as msg from './backend-messages';
import { reportError } from './error-report';
import { Fatal } from './fatal';
import { newPortal, type Statement } from './portals';
import { runPortal } from './results';
import { parseSessionCommand } from './session';
import { splitStatements } from './splitter';

export async function execSimpleQuery(b: Backend, sql: string): Promise<void> {
  const pieces = splitStatements(sql);
  if (!pieces.length) b.transport.send(msg.emptyQueryResponse());
  for (const piece of pieces) {
    try {
      const sessionCommand = parseSessionCommand(piece.text);
      b.transaction.checkNotAborted(sessionCommand);
      const stmt: Statement = {
        sql: piece.text,
        paramTypes: [],
        sessionCommand,
        query: sessionCommand ? null : await b.handler.prepare(piece.text, [], b.session, false),
      };
      if (stmt.query?.paramTypes.length) throw new SqlError('42P02', 'there is no parameter $1');
      await runPortal(b, newPortal(stmt, [], []), 0, true);
    } catch (err) {
      if (err instanceof Fatal) throw err;
      reportError(b, err, piece.offset);
      break;
    } finally {
      b.endStatement();
    }
    await b.transport.flushIfLarge();
  }
  if (b.transaction.status === 'I') b.portals.closePortals();
  b.transport.send(msg.readyForQuery(b.transaction.status));
  await b.transport.flush();
}
