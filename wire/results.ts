// Runs a portal and sends its result (PostgreSQL's pquery.c PortalRun with printtup.c): RowDescription when
// asked, DataRow up to the row limit, then CommandComplete, or PortalSuspended when rows remain.

import type { Cancellation } from '../pg/cancel';
import type { Backend } from './backend';
import * as msg from './backend-messages';
import { copyIn, copyOut } from './copy';
import { Cursor, rowSource } from './cursor';
import { DataRowRun } from './data-row-run';
import type { QueryResult, RowBatch, RowsResult } from './handler';
import { FormatCode } from './message-codes';
import type { Portal } from './portals';
import { runSessionCommand } from './session-commands';
import type { Transport } from './transport';

const BINARY = [FormatCode.Binary];

/** Rows encoded between two checks for a full socket buffer and a turn of the event loop. */
const SEND_BATCH = 256;

/** Runs (or continues) a portal: sends rows up to maxRows (0 = all). describeRows: simple Query mode. */
export async function runPortal(
  b: Backend,
  portal: Portal,
  maxRows: number,
  describeRows: boolean,
): Promise<void> {
  const out = b.transport;
  const stmt = portal.statement;
  /** The cancellation of this Execute (the statement that produces the rows, or a new one to continue them). */
  let cancel: Cancellation | undefined;
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
    let result: QueryResult;
    if (stmt.sessionCommand) result = await runSessionCommand(b, stmt, portal.params, portal.resultFormats);
    else {
      // A portal reads its rows once, forward, in its own result formats: a query may stream them encoded.
      const ctx = b.startStatement({ stream: true, resultFormats: portal.resultFormats });
      cancel = ctx.cancel;
      result = await stmt.query!.execute(portal.params, ctx);
    }
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
    if (sentWhole(b, portal, result, maxRows, describeRows)) return;
    portal.rows = {
      cursor: new Cursor(rowSource(result, true), false),
      fields: result.fields,
      tag: result.tag,
      binary: result.binary ?? false,
    };
    if (describeRows) out.send(msg.rowDescription(result.fields, formatsOf(portal)));
  }
  const p = portal.rows;
  const formats = formatsOf(portal);
  const typeOids = p.fields.map((f) => f.typeOid);
  cancel ??= b.startStatement().cancel;
  // Rows are taken from the cursor a batch at a time and sent with a flush that waits for the socket to
  // drain: a client that does not read stops this loop, and with it the reader producing the rows.
  const limit = maxRows > 0 ? maxRows : Number.POSITIVE_INFINITY;
  let sent = 0;
  try {
    while (sent < limit) {
      const want = Math.min(limit - sent, SEND_BATCH);
      const batches = await p.cursor.fetch({ kind: 'forward', count: want }, false, cancel);
      let n = 0;
      for (const batch of batches) {
        n += batch.length;
        sendBatch(out, batch, typeOids, formats);
      }
      sent += n;
      if (n < want) break;
      await out.flushIfLarge();
      await out.yieldIfDue();
    }
    if (maxRows > 0 && (await p.cursor.hasMore(cancel))) {
      out.send(msg.portalSuspended());
      return;
    }
  } catch (err) {
    // A portal that failed runs no more (PostgreSQL marks it failed): the reader its rows hold is freed, even
    // for the portal of a simple Query, which no registry closes.
    p.cursor.close();
    portal.rows = null;
    portal.done = true;
    throw err;
  }
  out.send(msg.commandComplete(completionTag(p.tag, sent)));
  p.cursor.close();
  portal.rows = null;
  portal.done = true;
}

/**
 * Sends a result held whole that fits the row limit and a send batch (a point lookup's) as it is, without the
 * cursor a portal's rows otherwise go through; the answer is the same. False when it is not such a result.
 */
function sentWhole(
  b: Backend,
  portal: Portal,
  result: RowsResult,
  maxRows: number,
  describeRows: boolean,
): boolean {
  const rows = result.rest ? result.rest.whole : result.rows;
  if (!rows || rows.length > SEND_BATCH || (maxRows > 0 && rows.length > maxRows)) return false;
  const out = b.transport;
  const formats = formatsFor(result.binary ?? false, portal);
  portal.done = true;
  try {
    if (describeRows) out.send(msg.rowDescription(result.fields, formats));
    // Encoded rows need no types (a point lookup's come encoded).
    const typeOids = rows instanceof DataRowRun ? [] : result.fields.map((f) => f.typeOid);
    sendBatch(out, rows, typeOids, formats);
  } finally {
    result.rest?.close();
  }
  out.send(msg.commandComplete(completionTag(result.tag, rows.length)));
  return true;
}

/** Sends a batch of rows: a run of encoded rows as one buffer, an encoded row as it is, values encoded here. */
function sendBatch(out: Transport, batch: RowBatch, typeOids: readonly number[], formats: number[]): void {
  // A streamed row may come encoded already, by the reader that produced it; a run of them goes as one.
  if (batch instanceof DataRowRun) out.send(batch.bytes);
  else for (const row of batch) out.send(Buffer.isBuffer(row) ? row : msg.dataRow(row, typeOids, formats));
}

/** A rows result's CommandComplete tag: SELECT with its row count, or the result's own (SHOW, FETCH, ...). */
function completionTag(tag: string, rows: number): string {
  return tag === 'SELECT' ? `SELECT ${rows}` : tag;
}

function formatsOf(portal: Portal): number[] {
  return formatsFor(portal.rows?.binary ?? false, portal);
}

/** The formats a portal's rows go in: every column binary for a BINARY cursor's, else the portal's own. */
function formatsFor(binary: boolean, portal: Portal): number[] {
  return binary ? BINARY : portal.resultFormats;
}
