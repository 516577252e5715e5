// Turns one statement's text into a Statement (PostgreSQL's parse analysis as the wire layer sees it): a
// session command the wire runs, a query the handler plans, or nothing. DECLARE is both: its query is
// planned with it, so that its parameters are known at Parse.
import { SqlError } from '../pg/errors';
import type { Backend } from './backend';
import type { Statement } from './portals';
import { parseSessionCommand, type SessionCommand } from './session';
import { isBlank } from './splitter';

/**
 * Session commands as parsed, by their text: a statement sent again and again (psql's FETCH_COUNT sends
 * `FETCH FORWARD n FROM _psql_cursor` for every batch) is parsed once. The parse depends on the text alone and
 * nothing changes what it returns, so one entry serves every session. Bounded in entries and text length.
 * Only commands are kept: finding that a statement is none reads one token, and a simple-protocol query's
 * text differs in its constants from one to the next, so keeping those would only churn the map.
 */
const parsedCommands = new Map<string, SessionCommand>();
const PARSED_COMMANDS = 256;
const PARSED_TEXT_MAX = 1024;

export function sessionCommandOf(text: string): SessionCommand | null {
  if (text.length > PARSED_TEXT_MAX) return parseSessionCommand(text);
  const kept = parsedCommands.get(text);
  if (kept) return kept;
  const cmd = parseSessionCommand(text);
  if (cmd) {
    if (parsedCommands.size >= PARSED_COMMANDS) parsedCommands.clear();
    parsedCommands.set(text, cmd);
  }
  return cmd;
}

export async function planStatement(
  b: Backend,
  text: string,
  clientParamTypes: number[],
  describe: boolean,
): Promise<Statement> {
  if (!text || isBlank(text)) return { sql: text, paramTypes: [], sessionCommand: null, query: null };
  const sessionCommand = sessionCommandOf(text);
  b.transaction.checkNotAborted(sessionCommand);
  if (sessionCommand?.kind === 'declare') {
    const query = await b.handler.prepare(sessionCommand.body, clientParamTypes, b.session, true);
    return { sql: text, paramTypes: query.paramTypes, sessionCommand, query };
  }
  if (sessionCommand) return { sql: text, paramTypes: clientParamTypes, sessionCommand, query: null };
  const query = await b.handler.prepare(text, clientParamTypes, b.session, describe);
  return { sql: text, paramTypes: query.paramTypes, sessionCommand: null, query };
}

/** The statement PREPARE names: only a query the handler plans, as PostgreSQL's PreparableStmt. */
export async function planPreparable(
  b: Backend,
  text: string,
  paramTypes: number[],
  offset: number,
): Promise<Statement> {
  const stmt = await planStatement(b, text, paramTypes, true);
  if (!stmt.query || stmt.sessionCommand) {
    const word = /^\s*(\S+)/.exec(text)?.[1] ?? '';
    throw new SqlError('42601', `syntax error at or near "${word}"`, { position: offset + 1 });
  }
  return stmt;
}
