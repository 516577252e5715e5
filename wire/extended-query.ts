// The extended query protocol (PostgreSQL's exec_parse_message, exec_bind_message, exec_describe_*,
// exec_execute_message and Close). Errors are thrown; the main loop reports them and skips to Sync.

import { decodeParam } from '../pg/codecs';
import { SqlError } from '../pg/errors';
import { Oid } from '../pg/types';
import type { Backend } from './backend';
import type { FieldDescription } from './backend-messages';
import * as msg from './backend-messages';
import type { FrontendMessage } from './frontend-messages';
import { FormatCode } from './message-codes';
import { planStatement } from './plan';
import { newPortal, type Statement } from './portals';
import { runPortal } from './results';
import { splitStatements } from './splitter';

type Message<K extends FrontendMessage['kind']> = Extract<FrontendMessage, { kind: K }>;

export async function execParse(b: Backend, m: Message<'Parse'>): Promise<void> {
  b.portals.checkStatementFree(m.name);
  const pieces = splitStatements(m.sql);
  if (pieces.length > 1)
    throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
  const text = pieces[0]?.text ?? '';
  const stmt = await planStatement(b, text, m.paramTypes, true);
  b.portals.addStatement(m.name, { ...stmt, sql: m.sql });
  b.transport.send(msg.parseComplete());
}

export function execBind(b: Backend, m: Message<'Bind'>): void {
  const stmt = b.portals.statement(m.statement);
  if (m.params.length !== stmt.paramTypes.length) {
    throw new SqlError(
      '08P01',
      `bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${stmt.paramTypes.length}`,
    );
  }
  const formats = m.paramFormats;
  const params = m.params.map((bytes, i) => {
    const format = formats.length === 0 ? FormatCode.Text : formats.length === 1 ? formats[0] : formats[i];
    return decodeParam(bytes, stmt.paramTypes[i] || Oid.text, format === FormatCode.Binary);
  });
  b.portals.addPortal(m.portal, { ...newPortal(stmt, params, m.resultFormats), statementName: m.statement });
  b.transport.send(msg.bindComplete());
}

export function execDescribe(b: Backend, m: Message<'Describe'>): void {
  if (m.target === 'statement') {
    const stmt = b.portals.statement(m.name);
    b.transport.send(msg.parameterDescription(stmt.paramTypes.map((t) => t || Oid.text)));
    describeFields(b, stmt, []);
  } else {
    const portal = b.portals.portal(m.name);
    describeFields(b, portal.statement, portal.resultFormats);
  }
}

function describeFields(b: Backend, stmt: Statement, formats: number[]): void {
  const fields = resultFields(b, stmt);
  b.transport.send(fields ? msg.rowDescription(fields, formats) : msg.noData());
}

/** The columns a statement returns, as UtilityTupleDescriptor finds them for the utility statements. */
function resultFields(b: Backend, stmt: Statement, depth = 0): FieldDescription[] | null {
  const cmd = stmt.sessionCommand;
  if (!cmd) return stmt.query?.fields ?? null;
  switch (cmd.kind) {
    case 'show':
      return [{ name: cmd.name, typeOid: Oid.text }];
    case 'fetch': {
      if (cmd.move) return null;
      const portal = b.portals.findPortal(cmd.name);
      return portal?.rows?.fields ?? portal?.statement.query?.fields ?? null;
    }
    case 'execute': {
      const target = b.portals.findStatement(cmd.name);
      return target && depth < 8 ? resultFields(b, target, depth + 1) : null;
    }
    default:
      return null;
  }
}

export async function execExecute(b: Backend, m: Message<'Execute'>): Promise<void> {
  const portal = b.portals.portal(m.portal);
  const log = b.statementLog.startExecute(portal.statement.sql, portal.statementName);
  try {
    b.transaction.checkNotAborted(portal.statement.sessionCommand);
    await runPortal(b, portal, m.maxRows, false);
  } catch (err) {
    log.failed(err);
    throw err;
  } finally {
    b.endStatement();
  }
  log.done();
}

export function execClose(b: Backend, m: Message<'Close'>): void {
  if (m.target === 'statement') b.portals.closeStatement(m.name);
  else b.portals.closePortal(m.name);
  b.transport.send(msg.closeComplete());
}
