// Runs a portal and sends its result (PostgreSQL's pquery.c PortalRun with printtup.c): RowDescription when
// asked, DataRow up to the row limit, then CommandComplete, or PortalSuspended when rows remain.

import type { Backend } from './backend';
import * as msg from './backend-messages';
import { copyIn, copyOut } from './copy';
import type { QueryResult } from './handler';
import type { Portal } from './portals';
import { runSessionCommand } from './session-commands';

/** Runs (or continues) a portal: sends rows up to maxRows (0 = all). describeRows: simple Query mode. */
export async function runPortal(
  b: Backend,
  portal: Portal,
  maxRows: number,
  describeRows: boolean,
): Promise<void> {
  const out = b.transport;
  const stmt = portal.statement;
  if (!portal.pending) {
    if (portal.done) {
      // Executing a completed portal again returns nothing more, as PostgreSQL does.
      out.send(msg.commandComplete('SELECT 0'));
      return;
    }
    if (!stmt.query && !stmt.sessionCommand) {
      out.send(msg.emptyQueryResponse());
      portal.done = true;
      return;
    }
    const result: QueryResult = stmt.sessionCommand
      ? runSessionCommand(b, stmt.sessionCommand)
      : await stmt.query!.execute(portal.params, b.startStatement());
    if (result.kind === 'command') {
      out.send(msg.commandComplete(result.tag));
      portal.done = true;
      return;
    }
    if (result.kind === 'copyIn') {
      out.send(msg.commandComplete(await copyIn(out, result, b.startStatement())));
      return;
    }
    if (result.kind === 'copyOut') {
      out.send(msg.commandComplete(await copyOut(out, result, b.startStatement())));
      return;
    }
    portal.pending = { rows: result.rows, sent: 0, tag: result.tag, fields: result.fields };
    if (describeRows) out.send(msg.rowDescription(result.fields, portal.resultFormats));
  }
  const p = portal.pending;
  const end = maxRows > 0 ? Math.min(p.rows.length, p.sent + maxRows) : p.rows.length;
  const from = p.sent;
  for (let i = from; i < end; i++) {
    out.send(msg.dataRow(p.rows[i], p.fields, portal.resultFormats));
    if ((i & 255) === 255) await out.flushIfLarge();
  }
  p.sent = end;
  if (end < p.rows.length) {
    out.send(msg.portalSuspended());
    return;
  }
  out.send(msg.commandComplete(p.tag === 'SELECT' ? `SELECT ${end - from}` : p.tag));
  portal.pending = null;
  portal.done = true;
}
