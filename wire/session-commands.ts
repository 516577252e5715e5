// Runs a session command (see session.ts) against the session state, as PostgreSQL's utility.c hands
// transaction statements to xact.c, SET/SHOW to guc.c, and the utility statements to utility-commands.ts.
import type { Backend } from './backend';
import type { QueryResult } from './handler';
import type { Statement } from './portals';
import { runUtility } from './utility-commands';

export async function runSessionCommand(
  b: Backend,
  stmt: Statement,
  params: unknown[],
  /** The result formats of the portal running the command (a FETCH's rows are sent in them). */
  resultFormats: number[] = [],
): Promise<QueryResult> {
  const cmd = stmt.sessionCommand!;
  const tx = b.transaction;
  switch (cmd.kind) {
    case 'begin':
      return { kind: 'command', tag: tx.begin() };
    case 'commit':
      return { kind: 'command', tag: tx.commit(cmd.tag) };
    case 'rollback':
      return { kind: 'command', tag: tx.rollback() };
    case 'rollback_to':
      return { kind: 'command', tag: tx.rollbackToSavepoint() };
    case 'savepoint':
      return { kind: 'command', tag: tx.savepoint(cmd.tag) };
    case 'discard':
      // DISCARD ALL is CLOSE ALL, DEALLOCATE ALL, UNLISTEN * and RESET ALL.
      b.portals.closeAll();
      b.notifications.unlisten(null);
      b.settings.resetAll();
      return { kind: 'command', tag: 'DISCARD ALL' };
    case 'noop':
      return { kind: 'command', tag: cmd.tag };
    case 'set':
      return b.settings.set(cmd);
    case 'show':
      return b.settings.show(cmd);
    default:
      return runUtility(b, stmt, cmd, params, resultFormats);
  }
}
