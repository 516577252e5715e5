// The state of one backend that the protocol modules share: the transport, the handler, and the session
// (settings, transaction block, statements and portals, channels, the statement log). The connection owns
// it; the modules that run messages (simple-query, extended-query, results, copy, session-commands) receive it.
import type { ClientSession, QueryContext, QueryHandler } from './handler';
import type { BackendNotifications } from './notifications';
import type { PortalRegistry } from './portals';
import type { Settings } from './settings';
import type { StatementContext } from './statement-context';
import type { StatementLog } from './statement-log';
import type { TransactionBlock } from './transaction';
import type { Transport } from './transport';

export interface WireLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  /** Whether lines of this level are written (pino's); absent: they may be. */
  isLevelEnabled?(level: string): boolean;
}

export interface Backend {
  readonly pid: number;
  readonly transport: Transport;
  readonly handler: QueryHandler;
  readonly logger: WireLogger;
  /** What the handler sees of the session. */
  readonly session: ClientSession;
  readonly settings: Settings;
  readonly transaction: TransactionBlock;
  readonly portals: PortalRegistry;
  readonly notifications: BackendNotifications;
  readonly statementLog: StatementLog;
  /** Sends what notifications wait (outside a block), then ReadyForQuery, and flushes. */
  readyForQuery(): Promise<void>;
  /**
   * A context for one statement, whose signal a CancelRequest or a disconnect aborts. stream and
   * resultFormats: see QueryContext.
   */
  startStatement(opts?: Pick<QueryContext, 'stream' | 'resultFormats'>): StatementContext;
  /** The statement is over: a CancelRequest now has nothing to abort. */
  endStatement(): void;
}
