// The context a statement runs in (QueryContext): the session, the statement's cancellation, and the
// connection's services (notices, NOTIFY, pg_stat_activity, signals to other backends). One is made per
// statement on the hot path of every query, so it is a small class over services made once per connection,
// and its AbortSignal is made only if something asks for it (see pg/cancel.ts).
import type { BackendActivity, BackendSignal } from '../pg/activity';
import type { StatementCancel } from '../pg/cancel';
import type { ClientSession, Notice, QueryContext } from './handler';

export interface ContextServices {
  notice(n: Notice): void;
  notify(channel: string, payload: string): void;
  activity(): BackendActivity[];
  signalBackend(pid: number, how: BackendSignal): void;
}

export class StatementContext implements QueryContext {
  constructor(
    readonly session: ClientSession,
    readonly cancel: StatementCancel,
    private readonly services: ContextServices,
    readonly stream?: boolean,
    readonly resultFormats?: number[],
  ) {}

  get signal(): AbortSignal {
    return this.cancel.signal;
  }

  notice(n: Notice): void {
    this.services.notice(n);
  }

  notify(channel: string, payload: string): void {
    this.services.notify(channel, payload);
  }

  activity(): BackendActivity[] {
    return this.services.activity();
  }

  signalBackend(pid: number, how: BackendSignal): void {
    this.services.signalBackend(pid, how);
  }
}
