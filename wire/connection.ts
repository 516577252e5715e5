// One client connection, laid out like PostgreSQL's tcop/postgres.c: startup and authentication, then a
// main loop that reads one message, decodes it and hands it to the module that runs it. Messages are
// handled strictly in order; after an error in extended-query mode everything up to Sync is skipped;
// exactly one ReadyForQuery answers each simple Query and each Sync.

import { randomInt } from 'node:crypto';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { BackendActivity, BackendSignal } from '../pg/activity';
import type { AuthMethod } from '../pg/auth';
import { StatementCancel } from '../pg/cancel';
import { SqlError } from '../pg/errors';
import type { Admission } from './admission';
import type { Backend, WireLogger } from './backend';
import * as msg from './backend-messages';
import { reportError } from './error-report';
import { execBind, execClose, execDescribe, execExecute, execParse } from './extended-query';
import { Fatal, ProtocolViolation } from './fatal';
import type { FramerLimits } from './framer';
import { decodeMessage } from './frontend-messages';
import type { ClientSession, QueryContext, QueryHandler } from './handler';
import { armStatementTimeout, settingValue, withTimeout } from './limits';
import { codeChar, FrontendCode } from './message-codes';
import { BackendNotifications, NotificationHub } from './notifications';
import { PortalRegistry } from './portals';
import { Settings } from './settings';
import { execSimpleQuery } from './simple-query';
import { authenticate, readStartup, type StartupRequest } from './startup';
import { parseStartupOptions } from './startup-options';
import { type ContextServices, StatementContext } from './statement-context';
import { type LogClass, StatementLog } from './statement-log';
import { TransactionBlock } from './transaction';
import { Transport } from './transport';

export interface ConnectionOptions {
  handler: QueryHandler;
  auth: AuthMethod;
  tls: SecureContext | null;
  limits: FramerLimits;
  serverName: string;
  logger: WireLogger;
  mockSecret: Buffer;
  /** Finds a running connection by BackendKeyData, for CancelRequest. */
  lookupBackend(pid: number, secret: number): Connection | undefined;
  register(conn: Connection): void;
  unregister(conn: Connection): void;
  /** The server's LISTEN / NOTIFY hub (a connection of its own when none is given). */
  notifications?: NotificationHub;
  /** The server's defaults for settings (log_statement from the command line, ...). */
  serverSettings?: Record<string, string>;
  /** log_statement classes of the server's own statements, by first word (cancel -> ddl). */
  logClasses?: ReadonlyMap<string, LogClass>;
  /** Connection slots (max_connections); the connection has already arrive()d. */
  admission: Admission;
  /** authentication_timeout: a client that has not logged in by then is disconnected. */
  authenticationTimeoutMs: number;
  /** The server's sessions, for pg_stat_activity and pg_cancel_backend (absent: this session alone). */
  sessions?: {
    activity(): BackendActivity[];
    signal(pid: number, how: BackendSignal): void;
  };
}

/** Startup parameters that are not settings. */
const NOT_SETTINGS = new Set(['user', 'database', 'replication', 'options']);

const COPY_MESSAGES = new Set<number>([FrontendCode.CopyData, FrontendCode.CopyDone, FrontendCode.CopyFail]);

export class Connection implements Backend {
  readonly pid = randomInt(1000, 2 ** 31 - 1);
  readonly secret = randomInt(0, 2 ** 31 - 1);
  readonly transport: Transport;
  readonly handler: QueryHandler;
  readonly logger: WireLogger;
  readonly settings: Settings;
  readonly transaction: TransactionBlock;
  readonly portals = new PortalRegistry();
  readonly notifications: BackendNotifications;
  readonly statementLog: StatementLog;
  private user = '';
  /** Waiting for the client's next message: a notification can be sent at once. */
  private idle = false;
  private authorized = false;
  private readonly startedAt = Date.now();
  private database = '';
  private running: StatementCancel | null = null;
  /** The logger writes debug lines: each message is logged (the line's object is not even made otherwise). */
  private readonly debugMessages: boolean;
  /**
   * statement_timeout and idle_in_transaction_session_timeout in ms, parsed once per settings version (a SET,
   * RESET or ROLLBACK that changes any setting makes them parsed again), not at every statement and message.
   */
  private readonly timeouts = { version: -1, statementMs: 0, idleInTransactionMs: 0 };
  private disarmTimeout: () => void = () => {};
  private admitted = false;
  private closed = false;
  private readonly remote: string;
  private readonly client: { addr: string | null; port: number | null };
  /** What pg_stat_activity shows of this session: postgres.c's pgstat_report_activity calls. */
  private readonly status: Pick<
    BackendActivity,
    'state' | 'query' | 'query_start' | 'state_change' | 'xact_start'
  > = { state: 'idle', query: '', query_start: null, state_change: Date.now(), xact_start: null };

  constructor(
    stream: Duplex,
    private readonly opts: ConnectionOptions,
  ) {
    this.handler = opts.handler;
    this.logger = opts.logger;
    this.debugMessages = opts.logger.isLevelEnabled?.('debug') ?? true;
    this.remote = stream instanceof Socket ? `${stream.remoteAddress}:${stream.remotePort}` : 'in-process';
    this.client =
      stream instanceof Socket
        ? { addr: stream.remoteAddress?.replace(/^::ffff:/, '') ?? null, port: stream.remotePort ?? null }
        : { addr: null, port: null };
    this.transport = new Transport(stream, opts.limits);
    this.transport.onClose = () => {
      if (!this.running) return;
      // Logged once here; the statement ends with an error nobody reads, which is not logged again.
      this.logger.info({ remote: this.remote, pid: this.pid }, 'client disconnected during a statement');
      this.running.abort(new SqlError('08006', 'client connection lost'));
    };
    this.settings = new Settings(opts.serverName, this.transport, opts.serverSettings);
    this.transaction = new TransactionBlock(this.settings, this.transport, (committed) => {
      this.portals.endTransaction(committed);
      this.notifications.endTransaction(committed);
    });
    this.notifications = new BackendNotifications(opts.notifications ?? new NotificationHub(), this.pid, {
      send: (m) => this.transport.send(m),
      flush: () => void this.transport.flush(),
      canSendNow: () => this.idle && this.transaction.status === 'I',
    });
    this.statementLog = new StatementLog(
      {
        pid: this.pid,
        logger: this.logger,
        settings: this.settings,
        user: () => this.user,
        preparedText: (name) => this.portals.findStatement(name)?.sql,
      },
      opts.logClasses ?? new Map(),
    );
  }

  /** Runs the connection to its end. Never throws. */
  async run(): Promise<void> {
    // authentication_timeout: PostgreSQL's backend simply exits; the client sees the connection close.
    const authTimer = setTimeout(() => {
      this.logger.info({ remote: this.remote }, 'authentication timeout: closing connection');
      this.transport.destroy();
    }, this.opts.authenticationTimeoutMs);
    authTimer.unref();
    try {
      const startup = await readStartup(
        this.transport,
        this.opts.tls,
        (pid, secret) => this.opts.lookupBackend(pid, secret)?.cancel(),
        this.logger,
      );
      if (!startup) return;
      await this.logIn(startup);
      clearTimeout(authTimer);
      this.opts.register(this);
      await this.mainLoop();
    } catch (err) {
      if (this.transport.clientGone) {
        // The client left (possibly mid-statement): nothing to tell it, and nothing wrong with the server.
        this.logger.info({ remote: this.remote, pid: this.pid }, 'client disconnected');
      } else if (err instanceof Fatal) {
        this.logger.warn({ remote: this.remote, code: err.code, err: err.message }, 'closing connection');
        this.transport.send(msg.errorResponse({ severity: 'FATAL', code: err.code, message: err.message }));
      } else {
        this.logger.error({ remote: this.remote, err: (err as Error).stack }, 'connection failed');
        this.transport.send(
          msg.errorResponse({ severity: 'FATAL', code: 'XX000', message: String((err as Error).message) }),
        );
      }
    } finally {
      clearTimeout(authTimer);
      await this.transport.flush().catch(() => {});
      this.close();
    }
  }

  /** CancelRequest from another connection: abort whatever this backend is running. */
  cancel(): void {
    this.running?.abort(new SqlError('57014', 'canceling statement due to user request'));
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.notifications.close();
    if (this.authorized && this.settings.get('log_disconnections') === 'on') {
      const ms = Date.now() - this.startedAt;
      this.logger.info(
        { pid: this.pid, user: this.user, database: this.database, remote: this.remote, session_ms: ms },
        'disconnection',
      );
    }
    this.opts.unregister(this);
    this.opts.admission.leave(this.admitted);
    this.disarmTimeout();
    this.running?.abort();
    // Cursors and suspended portals hold readers: they end with the session.
    this.portals.closeAllPortals();
    this.transport.end();
  }

  /** Authenticates, sets up the session's settings, and says the backend is ready. */
  private async logIn(startup: StartupRequest): Promise<void> {
    this.user = startup.user;
    this.database = startup.database;
    await authenticate(this.transport, this.user, {
      method: this.opts.auth,
      handler: this.handler,
      mockSecret: this.opts.mockSecret,
      logger: this.logger,
      remote: this.remote,
    });
    const extra = (await this.handler.sessionSettings?.(this.user)) ?? {};
    this.opts.admission.admit(extra.is_superuser === 'on');
    this.admitted = true;
    this.transport.markAuthenticated();
    for (const [k, v] of Object.entries(extra)) this.settings.apply(k, v, false);
    this.settings.apply('session_authorization', this.user, false);
    const options = startup.params.get('options');
    const given = [...startup.params].filter(([k]) => !NOT_SETTINGS.has(k));
    // As PostgreSQL: the options' -c settings first, then the packet's own parameters.
    for (const [k, v] of [...(options ? parseStartupOptions(options) : []), ...given]) {
      try {
        this.settings.setChecked(k, v, true);
      } catch (err) {
        if (err instanceof SqlError) throw new Fatal(err.code, err.message);
        throw err;
      }
    }
    this.transport.send(msg.authenticationOk());
    this.settings.reportAll();
    this.transport.send(msg.backendKeyData(this.pid, this.secret));
    this.transport.send(msg.readyForQuery(this.transaction.status));
    await this.transport.flush();
    this.authorized = true;
    const authorized = { remote: this.remote, user: this.user, database: this.database, pid: this.pid };
    if (this.settings.get('log_connections') === 'on') this.logger.info(authorized, 'connection authorized');
    else this.logger.debug(authorized, 'connection authorized');
  }

  // ---------- the session as the handler sees it ----------

  private readonly clientSession: ClientSession = {
    user: '',
    database: '',
    backendPid: 0,
    settingsVersion: 0,
    inTransactionBlock: false,
    setting: (name) => this.settings.get(name),
    setSetting: (name, value) => this.settings.setChecked(name, value),
    allSettings: () => this.settings.all(),
  };

  get session(): ClientSession {
    return Object.assign(this.clientSession, {
      user: this.user,
      database: this.database,
      backendPid: this.pid,
      settingsVersion: this.settings.version,
      inTransactionBlock: this.transaction.inBlock,
    });
  }

  startStatement(opts: Pick<QueryContext, 'stream' | 'resultFormats'> = {}): StatementContext {
    this.disarmTimeout();
    const cancel = new StatementCancel();
    this.running = cancel;
    this.disarmTimeout = armStatementTimeout(cancel, this.currentTimeouts().statementMs);
    return new StatementContext(this.session, cancel, this.contextServices, opts.stream, opts.resultFormats);
  }

  private currentTimeouts(): { readonly statementMs: number; readonly idleInTransactionMs: number } {
    const t = this.timeouts;
    if (t.version !== this.settings.version) {
      const s = this.settings;
      t.statementMs = settingValue('statement_timeout', s.get('statement_timeout'));
      t.idleInTransactionMs = settingValue(
        'idle_in_transaction_session_timeout',
        s.get('idle_in_transaction_session_timeout'),
      );
      t.version = s.version;
    }
    return t;
  }

  /** What every statement's context offers beyond its session and cancellation, made once per connection. */
  private readonly contextServices: ContextServices = {
    notify: (channel, payload) => this.notifications.notify(channel, payload),
    activity: () => this.opts.sessions?.activity() ?? [this.activity()].filter((a) => a !== null),
    signalBackend: (pid, how) => this.opts.sessions?.signal(pid, how),
    notice: (n) =>
      this.transport.send(
        msg.noticeResponse({
          severity: n.severity ?? 'NOTICE',
          code: n.code ?? '00000',
          message: n.message,
          detail: n.detail,
          hint: n.hint,
        }),
      ),
  };

  endStatement(): void {
    this.disarmTimeout();
    this.disarmTimeout = () => {};
    this.running = null;
  }

  /** SIGTERM: ends the session with FATAL 57P01, as PostgreSQL's smart/fast shutdown does to each backend. */
  terminate(): void {
    if (this.closed) return;
    const reason = new Fatal('57P01', 'terminating connection due to administrator command');
    this.running?.abort(reason);
    this.transport.send(msg.errorResponse({ severity: 'FATAL', code: reason.code, message: reason.message }));
    void this.transport.flush().catch(() => {});
    this.close();
  }

  /**
   * The next message. Inside a transaction block idle_in_transaction_session_timeout bounds the wait, and
   * ends the session with FATAL 25P03 when it passes.
   */
  private nextMessage() {
    const idle = this.transaction.status === 'I' ? 0 : this.currentTimeouts().idleInTransactionMs;
    return withTimeout(this.transport.next(), idle, () => {
      throw new Fatal('25P03', 'terminating connection due to idle-in-transaction timeout');
    });
  }

  /** The session as pg_stat_activity shows it; null before it has logged in. */
  activity(): BackendActivity | null {
    if (!this.authorized || this.closed) return null;
    return {
      pid: this.pid,
      usename: this.user,
      datname: this.database,
      superuser: this.settings.get('is_superuser') === 'on',
      application_name: this.settings.get('application_name') ?? '',
      client_addr: this.client.addr,
      client_port: this.client.port,
      backend_start: this.startedAt,
      ...this.status,
    };
  }

  /** A query message arrived (Query, Parse, Execute): the session is active with it. */
  private reportActive(query: string): void {
    const now = Date.now();
    if (this.status.state !== 'active') this.status.state_change = now;
    this.status.state = 'active';
    this.status.query = query;
    this.status.query_start = now;
    this.status.xact_start ??= now;
  }

  /** Before ReadyForQuery: idle, in a transaction block or not. */
  private reportIdle(): void {
    const tx = this.transaction.status;
    const state = tx === 'I' ? 'idle' : tx === 'T' ? 'idle in transaction' : 'idle in transaction (aborted)';
    if (state !== this.status.state) this.status.state_change = Date.now();
    this.status.state = state;
    if (tx === 'I') this.status.xact_start = null;
  }

  async readyForQuery(): Promise<void> {
    this.reportIdle();
    if (this.transaction.status === 'I') this.notifications.sendReceived();
    this.transport.send(msg.readyForQuery(this.transaction.status));
    await this.transport.flush();
  }

  // ---------- main loop ----------

  private async mainLoop(): Promise<void> {
    let skipToSync = false;
    for (;;) {
      // A message that has arrived already is taken without a turn of the event loop (a client's Bind,
      // Describe, Execute and Sync usually come in one packet).
      let f = this.transport.nextIfQueued();
      if (!f) {
        this.idle = true;
        try {
          f = await this.nextMessage();
        } finally {
          this.idle = false;
        }
        if (!f) return;
      }
      if (this.debugMessages)
        this.logger.debug(
          { pid: this.pid, type: codeChar(f.type), len: f.body.length, skip: skipToSync },
          'message',
        );
      if (f.type === FrontendCode.Terminate) return;
      // Skipped messages are not even decoded, as in PostgreSQL.
      if (skipToSync && f.type !== FrontendCode.Sync && f.type !== FrontendCode.Query) continue;
      // CopyData/CopyDone/CopyFail outside COPY are ignored, as PostgreSQL does.
      if (COPY_MESSAGES.has(f.type)) continue;
      try {
        const m = decodeMessage(f);
        switch (m.kind) {
          case 'Query':
            skipToSync = false;
            this.reportActive(m.sql);
            await execSimpleQuery(this, m.sql);
            break;
          case 'Parse':
            this.reportActive(m.sql);
            await execParse(this, m);
            break;
          case 'Bind':
            execBind(this, m);
            break;
          case 'Describe':
            execDescribe(this, m);
            break;
          case 'Execute':
            this.reportActive(this.portals.findPortal(m.portal)?.statement.sql ?? this.status.query);
            await execExecute(this, m);
            break;
          case 'Close':
            execClose(this, m);
            break;
          case 'Flush':
            await this.transport.flush();
            break;
          case 'Sync':
            // Outside a block, the statements since the last Sync were one implicit transaction.
            this.transaction.endImplicit(!skipToSync);
            skipToSync = false;
            await this.readyForQuery();
            break;
          case 'FunctionCall':
            throw new SqlError('0A000', 'the function call protocol message is not supported');
          default:
            // A password message after authentication is as invalid as an unknown type.
            throw new ProtocolViolation(`invalid frontend message type ${f.type}`);
        }
      } catch (err) {
        if (err instanceof Fatal) throw err;
        reportError(this, err, 0);
        skipToSync = true;
        // PostgreSQL flushes an error at once: a client waiting after Flush must see it.
        await this.transport.flush();
      }
      // Most messages leave little output: then there is nothing to wait for, not even a turn of the promise.
      const flushing = this.transport.flushIfLarge();
      if (flushing) await flushing;
    }
  }
}
