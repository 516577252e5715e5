// The simple Query protocol (PostgreSQL's exec_simple_query): each statement of the string runs in turn
// through an unnamed portal; the first error ends the string; one ReadyForQuery answers the whole message.
// Several statements outside a block run in one implicit transaction block, which ends with the string
// (committed, or rolled back by an error).

import { SqlError } from '../pg/errors';
import type { Backend } from './backend';
import * as msg from './backend-messages';
import { reportError } from './error-report';
import { Fatal } from './fatal';
import { planStatement } from './plan';
import { newPortal } from './portals';
import { runPortal } from './results';
import { splitStatements } from './splitter';

export async function execSimpleQuery(b: Backend, sql: string): Promise<void> {
  const pieces = splitStatements(sql);
  if (!pieces.length) b.transport.send(msg.emptyQueryResponse());
  const tx = b.transaction;
  tx.implicit = pieces.length > 1 && tx.status === 'I';
  const log = b.statementLog.startQuery(
    sql,
    pieces.map((p) => p.text),
  );
  let failed = false;
  for (const piece of pieces) {
    try {
      const stmt = await planStatement(b, piece.text, [], false);
      if (stmt.query?.paramTypes.length) throw new SqlError('42P02', 'there is no parameter $1');
      await runPortal(b, newPortal(stmt, [], []), 0, true);
      if (!tx.inBlock) tx.endImplicit(true);
    } catch (err) {
      if (err instanceof Fatal) throw err;
      reportError(b, err, piece.offset);
      log.failed(err);
      failed = true;
      break;
    } finally {
      b.endStatement();
    }
    await b.transport.flushIfLarge();
  }
  if (tx.status === 'I') tx.endImplicit(!failed);
  log.done();
  await b.readyForQuery();
}
