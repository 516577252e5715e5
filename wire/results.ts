// Runs a portal and sends its result (PostgreSQL's pquery.c PortalRun with printtup.c): RowDescription when
// asked, DataRow up to the row limit, then CommandComplete, or PortalSuspended when rows remain.

import type { Backend } from './backend';
import * as msg from './backend-messages';
import { copyIn, copyOut } from './copy';
import { Cursor, materializedRows } from './cursor';
import type { QueryResult } from './handler';
import { FormatCode } from './message-codes';
import type { Portal } from './portals';
import { runSessionCommand } from './session-commands';

const BINARY = [FormatCode.Binary];

/** Runs (or continues) a portal: sends rows up to maxRows (0 = all). describeRows: simple Query mode. */
export async function runPortal(
  b: Backend,
  portal: Portal,
  maxRows: number,
  describeRows: boolean,
): Promise<void> {
  const out = b.transport;
  const stmt = portal.statement;
  if (!portal.rows) {
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
      ? await runSessionCommand(b, stmt, portal.params)
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
    portal.rows = {
      cursor: new Cursor(materializedRows(result.rows), false),
      fields: result.fields,
      tag: result.tag,
      binary: result.binary ?? false,
    };
    if (describeRows) out.send(msg.rowDescription(result.fields, formatsOf(portal)));
  }
  const p = portal.rows;
  const formats = formatsOf(portal);
  const rows = await p.cursor.fetch({ kind: 'forward', count: maxRows > 0 ? maxRows : Infinity });
  for (let i = 0; i < rows.length; i++) {
    out.send(msg.dataRow(rows[i], p.fields, formats));
    if ((i & 255) === 255) {
      // Backpressure: a client that does not read holds this loop here, not the server's memory.
      await out.flushIfLarge();
      await out.yieldIfDue();
    }
  }
  if (maxRows > 0 && (await p.cursor.hasMore())) {
    out.send(msg.portalSuspended());
    return;
  }
  out.send(msg.commandComplete(p.tag === 'SELECT' ? `SELECT ${rows.length}` : p.tag));
  portal.rows = null;
  portal.done = true;
}

function formatsOf(portal: Portal): number[] {
  return portal.rows?.binary ? BINARY : portal.resultFormats;
}
