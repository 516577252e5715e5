// Runs a session command (see session.ts) against the session state, as PostgreSQL's utility.c hands
// transaction statements to xact.c and SET/SHOW to guc.c.
import type { Backend } from './backend';
import type { QueryResult } from './handler';
import type { SessionCommand } from './session';

export function runSessionCommand(b: Backend, cmd: SessionCommand): QueryResult {
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
      b.portals.closeAll();
      b.settings.resetAll();
      return { kind: 'command', tag: 'DISCARD ALL' };
    case 'noop':
      return { kind: 'command', tag: cmd.tag };
    case 'set':
      return b.settings.set(cmd);
    case 'show':
      return b.settings.show(cmd);
  }
}
