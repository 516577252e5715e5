// The transaction block status, like PostgreSQL's xact.c as far as the protocol sees it: idle (I), in a
// block (T), in a failed block (E). Nothing underneath is transactional; the status is kept exactly as
// PostgreSQL would report it so that drivers and poolers behave. SET is transactional: ROLLBACK (or COMMIT
// of a failed block) restores the settings as they were at BEGIN.

import { SqlError } from '../pg/errors';
import * as msg from './backend-messages';
import type { TxStatus } from './message-codes';
import type { SessionCommand } from './session';
import type { Settings, SettingsSnapshot } from './settings';
import type { MessageSink } from './transport';

export class TransactionBlock {
  private current: TxStatus = 'I';
  private settingsAtBegin: SettingsSnapshot | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly sink: MessageSink,
    /**
     * Called when a transaction ends, committed or not: portals do not outlive it, and its notifications are
     * sent or dropped. Also called for the implicit transaction of a statement outside a block.
     */
    private readonly onEnd: (committed: boolean) => void,
  ) {}

  /** A simple Query of several statements outside a block runs them in one implicit transaction block. */
  implicit = false;

  get status(): TxStatus {
    return this.current;
  }

  /** Inside BEGIN ... COMMIT, or in the implicit block of a multi-statement Query. */
  get inBlock(): boolean {
    return this.current !== 'I' || this.implicit;
  }

  /** The implicit transaction of a statement (or a Query string) outside a block ends. */
  endImplicit(committed: boolean): void {
    this.implicit = false;
    if (this.current === 'I') this.onEnd(committed);
  }

  /** PostgreSQL's RequireTransactionBlock: 25P01 outside a block. */
  requireBlock(what: string): void {
    if (!this.inBlock) throw new SqlError('25P01', `${what} can only be used in transaction blocks`);
  }

  /** An error inside a block fails it; outside a block there is nothing to fail. */
  fail(): void {
    if (this.current === 'T') this.current = 'E';
  }

  /** In a failed block only COMMIT, ROLLBACK and ROLLBACK TO run (25P02 for anything else). */
  checkNotAborted(cmd: SessionCommand | null): void {
    if (this.current !== 'E') return;
    if (cmd && (cmd.kind === 'rollback' || cmd.kind === 'commit' || cmd.kind === 'rollback_to')) return;
    throw new SqlError(
      '25P02',
      'current transaction is aborted, commands ignored until end of transaction block',
    );
  }

  begin(): string {
    if (this.current !== 'I') this.warn('there is already a transaction in progress');
    else this.settingsAtBegin = this.settings.snapshot();
    this.current = 'T';
    return 'BEGIN';
  }

  /** COMMIT of a failed block is a ROLLBACK, and says so in its tag. */
  commit(tag: string): string {
    const failed = this.current === 'E';
    if (this.current === 'I') this.warn('there is no transaction in progress');
    if (failed && this.settingsAtBegin) this.settings.restore(this.settingsAtBegin);
    this.end(!failed);
    return failed ? 'ROLLBACK' : tag;
  }

  rollback(): string {
    if (this.current === 'I') this.warn('there is no transaction in progress');
    if (this.settingsAtBegin) this.settings.restore(this.settingsAtBegin);
    this.end(false);
    return 'ROLLBACK';
  }

  rollbackToSavepoint(): string {
    if (this.current === 'I')
      throw new SqlError('25P01', 'ROLLBACK TO SAVEPOINT can only be used in transaction blocks');
    this.current = 'T';
    return 'ROLLBACK';
  }

  /** SAVEPOINT and RELEASE: accepted inside a block. */
  savepoint(tag: string): string {
    if (this.current === 'I') throw new SqlError('25P01', `${tag} can only be used in transaction blocks`);
    return tag;
  }

  private end(committed: boolean): void {
    this.current = 'I';
    this.implicit = false;
    this.settingsAtBegin = null;
    this.onEnd(committed);
  }

  private warn(message: string): void {
    this.sink.send(msg.noticeResponse({ severity: 'WARNING', code: '25001', message }));
  }
}
