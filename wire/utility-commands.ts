// Runs the utility statements of utility-statements.ts: prepared statements by name (prepare.c), cursors
// (portalcmds.c) and LISTEN / NOTIFY (async.c), on the same statements and portals the protocol uses.
import { decodeParam, encodeText } from '../pg/codecs';
import { SqlError } from '../pg/errors';
import { canonicalType, Oid, typeByName } from '../pg/types';
import type { Backend } from './backend';
import { Cursor, fetchedRows, rowCount, rowSource } from './cursor';
import type { QueryResult } from './handler';
import { FormatCode } from './message-codes';
import { planPreparable } from './plan';
import { newPortal, type Statement } from './portals';
import type { ExecuteArg, UtilityStatement } from './utility-statements';

type Of<K extends UtilityStatement['kind']> = Extract<UtilityStatement, { kind: K }>;

const command = (tag: string): QueryResult => ({ kind: 'command', tag });

export async function runUtility(
  b: Backend,
  stmt: Statement,
  cmd: UtilityStatement,
  params: unknown[],
  resultFormats: number[],
): Promise<QueryResult> {
  switch (cmd.kind) {
    case 'prepare':
      return prepare(b, cmd);
    case 'execute':
      return execute(b, cmd);
    case 'deallocate':
      if (cmd.name === null) {
        b.portals.deallocateAll();
        return command('DEALLOCATE ALL');
      }
      b.portals.deallocate(cmd.name);
      return command('DEALLOCATE');
    case 'declare':
      return declare(b, stmt, cmd, params);
    case 'fetch':
      return fetch(b, cmd, resultFormats);
    case 'close':
      if (cmd.name === null) {
        b.portals.closeAllPortals();
        return command('CLOSE CURSOR ALL');
      }
      b.portals.cursor(cmd.name);
      b.portals.closePortal(cmd.name);
      return command('CLOSE CURSOR');
    case 'listen':
      b.notifications.listen(cmd.channel);
      return command('LISTEN');
    case 'unlisten':
      b.notifications.unlisten(cmd.channel);
      return command('UNLISTEN');
    case 'notify':
      b.notifications.notify(cmd.channel, cmd.payload);
      return command('NOTIFY');
  }
}

function typeOid(name: string): number {
  const oid = typeByName(canonicalType(name) ?? '')?.oid;
  if (oid === undefined) throw new SqlError('42704', `type "${name}" does not exist`);
  return oid;
}

async function prepare(b: Backend, cmd: Of<'prepare'>): Promise<QueryResult> {
  if (b.portals.findStatement(cmd.name))
    throw new SqlError('42P05', `prepared statement "${cmd.name}" already exists`);
  const types = cmd.types.map(typeOid);
  const stmt = await planPreparable(b, cmd.body, types, cmd.bodyOffset);
  b.portals.addStatement(cmd.name, stmt);
  return command('PREPARE');
}

/** EXECUTE name(args): the statement's own result, with its own tag. */
async function execute(b: Backend, cmd: Of<'execute'>): Promise<QueryResult> {
  const stmt = b.portals.statement(cmd.name);
  if (cmd.args.length !== stmt.paramTypes.length) {
    throw new SqlError('42601', `wrong number of parameters for prepared statement "${cmd.name}"`, {
      detail: `Expected ${stmt.paramTypes.length} parameters but got ${cmd.args.length}.`,
    });
  }
  const params = await evaluateArgs(b, cmd.args, stmt.paramTypes);
  if (!stmt.query) throw new SqlError('42601', `prepared statement "${cmd.name}" has no query`);
  return stmt.query.execute(params, b.startStatement());
}

/**
 * The arguments as the statement's parameters: constants are read as the parameter's type reads text, as
 * if sent in a Bind; other expressions are evaluated by the handler first.
 */
async function evaluateArgs(b: Backend, args: ExecuteArg[], types: number[]): Promise<unknown[]> {
  const texts: (string | null)[] = args.map((a) => ('constant' in a ? a.constant : null));
  const exprs = args.flatMap((a, i) => ('expression' in a ? [i] : []));
  if (exprs.length) {
    const sql = `SELECT ${exprs.map((i) => (args[i] as { expression: string }).expression).join(', ')}`;
    const query = await b.handler.prepare(sql, [], b.session, true);
    const result = await query.execute([], b.startStatement());
    if (result.kind !== 'rows' || !result.rows.length)
      throw new SqlError('42804', 'could not evaluate parameters');
    exprs.forEach((i, k) => {
      const v = result.rows[0][k];
      texts[i] = v === null || v === undefined ? null : encodeText(v, result.fields[k].typeOid);
    });
  }
  return texts.map((t, i) => decodeParam(t === null ? null : Buffer.from(t), types[i] || Oid.text, false));
}

async function declare(
  b: Backend,
  stmt: Statement,
  cmd: Of<'declare'>,
  params: unknown[],
): Promise<QueryResult> {
  if (!cmd.hold) b.transaction.requireBlock('DECLARE CURSOR');
  b.portals.checkPortalFree(cmd.name);
  // A NO SCROLL cursor that does not outlive its transaction reads its rows once, forward, from a reader that
  // holds the query; a scrollable one keeps what it read, and a holdable one must survive COMMIT without the
  // reader, so theirs are materialized (PostgreSQL materializes a holdable cursor at COMMIT).
  const scrollable = cmd.scroll !== false;
  const stream = !scrollable && !cmd.hold;
  const result = await stmt.query!.execute(params, b.startStatement({ stream }));
  if (result.kind !== 'rows') throw new SqlError('42P11', 'DECLARE CURSOR must be a query that returns rows');
  const portal = newPortal({ ...stmt, sessionCommand: null }, params, []);
  portal.rows = {
    cursor: new Cursor(rowSource(result, false), scrollable),
    fields: result.fields,
    tag: 'SELECT',
    binary: cmd.binary,
  };
  portal.holdable = cmd.hold;
  portal.uncommitted = cmd.hold;
  b.portals.addPortal(cmd.name, portal);
  return command('DECLARE CURSOR');
}

/** FETCH returns rows tagged FETCH n; MOVE moves the same way and is tagged MOVE n. */
async function fetch(b: Backend, cmd: Of<'fetch'>, resultFormats: number[]): Promise<QueryResult> {
  const portal = b.portals.cursor(cmd.name);
  const rows = portal.rows;
  if (!rows) throw new SqlError('55000', `portal "${cmd.name}" cannot be run`);
  // The rows may come encoded by the reader, in the formats they are sent in (all binary from a BINARY cursor).
  const formats = rows.binary ? [FormatCode.Binary] : resultFormats;
  const fetched = await rows.cursor.fetch(cmd.direction, cmd.move, b.startStatement().cancel, formats);
  const count = rowCount(fetched);
  if (cmd.move) return command(`MOVE ${count}`);
  // The rows go on in the batches the cursor holds them in (a run of encoded DataRows stays one buffer).
  return {
    kind: 'rows',
    fields: rows.fields,
    rows: [],
    rest: fetchedRows(fetched),
    tag: `FETCH ${count}`,
    binary: rows.binary,
  };
}
