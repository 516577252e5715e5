// One client connection: the protocol state machine, laid out like PostgreSQL's tcop/postgres.c:
// startup and authentication, then a loop that reads one message and dispatches on its type.
// Messages are handled strictly in order; after an error in extended-query mode everything up to Sync
// is skipped; exactly one ReadyForQuery answers each simple Query and each Sync.
import { randomBytes, randomInt } from 'node:crypto';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { type AuthMethod, checkMd5Response, checkPassword, ScramError, ScramExchange } from '../pg/auth';
import { decodeParam } from '../pg/codecs';
import { SqlError } from '../pg/errors';
import { Oid } from '../pg/types';
import { BodyReader, type Frame, Framer, type FramerLimits, ProtocolViolation } from './framer';
import type { PreparedQuery, QueryContext, QueryHandler, QueryResult, SessionView } from './handler';
import * as m from './messages';
import {
  defaultSettings,
  displayName,
  parseSessionCommand,
  type SessionCommand,
  type SettingDef,
  type TxStatus,
} from './session';
import { isBlank, splitStatements } from './splitter';

export interface WireLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

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
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

class Fatal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A queue of incoming frames that the state machine pulls from; it pauses the socket when it grows. */
class FrameQueue {
  private frames: Frame[] = [];
  private waiter: { resolve(f: Frame | null): void; reject(e: Error): void } | null = null;
  private closed = false;
  private failure: Error | null = null;
  onLow: (() => void) | null = null;

  push(f: Frame): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(f);
    } else this.frames.push(f);
  }
  /** Bad framing: frames already complete are still delivered, then next() throws the violation. */
  fail(err: Error): void {
    this.failure = err;
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }
  close(): void {
    this.closed = true;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(null);
    }
  }
  get length(): number {
    return this.frames.length;
  }
  /** The next frame, or null when the connection is gone. */
  next(): Promise<Frame | null> {
    const f = this.frames.shift();
    if (f) {
      if (this.frames.length < 8) this.onLow?.();
      return Promise.resolve(f);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }
}

interface Statement {
  sql: string;
  paramTypes: number[];
  /** Either a session command, a handler query, or an empty query. */
  session: SessionCommand | null;
  prepared: PreparedQuery | null;
}

interface Portal {
  statement: Statement;
  params: unknown[];
  resultFormats: number[];
  /** Rows left to send, once the query has run (portal suspension keeps the remainder here). */
  pending: { rows: unknown[][]; sent: number; tag: string; fields: m.FieldDescription[] } | null;
  done: boolean;
}

export class Connection {
  readonly pid = randomInt(1000, 2 ** 31 - 1);
  readonly secret = randomInt(0, 2 ** 31 - 1);
  private socket: Socket;
  private readonly framer: Framer;
  private readonly queue = new FrameQueue();
  private out: Buffer[] = [];
  private outBytes = 0;
  private tx: TxStatus = 'I';
  private user = '';
  private database = '';
  private settings = new Map<string, SettingDef>();
  private settingsVersion = 0;
  private settingsList: [string, string][] | null = null;
  /** Settings as they were at BEGIN, restored by ROLLBACK (SET is transactional in PostgreSQL). */
  private txSnapshot: Map<string, SettingDef> | null = null;
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();
  private running: AbortController | null = null;
  private closed = false;
  private readonly remote: string;

  constructor(
    socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.socket = socket;
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.framer = new Framer(opts.limits);
    this.attach(socket);
    this.queue.onLow = () => this.socket.resume();
  }

  private attach(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      try {
        for (const f of this.framer.push(data)) this.queue.push(f);
        if (this.queue.length > 64) socket.pause();
      } catch (err) {
        this.queue.fail(err as Error);
        socket.pause();
      }
    });
    socket.on('error', () => this.queue.close());
    socket.on('close', () => {
      this.queue.close();
      this.running?.abort();
    });
  }

  /** Runs the connection to its end. Never throws. */
  async run(): Promise<void> {
    try {
      if (!(await this.startup())) return;
      this.opts.register(this);
      await this.mainLoop();
    } catch (err) {
      if (err instanceof ProtocolViolation || err instanceof Fatal) {
        const code = err instanceof Fatal ? err.code : err.code;
        this.opts.logger.warn({ remote: this.remote, code, err: err.message }, 'closing connection');
        this.send(m.errorResponse({ severity: 'FATAL', code, message: err.message }));
      } else {
        this.opts.logger.error({ remote: this.remote, err: (err as Error).stack }, 'connection failed');
        this.send(
          m.errorResponse({ severity: 'FATAL', code: 'XX000', message: String((err as Error).message) }),
        );
      }
    } finally {
      await this.flush().catch(() => {});
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
    this.opts.unregister(this);
    this.running?.abort();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  // ---------- output ----------

  private send(buf: Buffer): void {
    this.out.push(buf);
    this.outBytes += buf.length;
  }

  private async flush(): Promise<void> {
    if (!this.out.length || this.socket.destroyed) {
      this.out = [];
      this.outBytes = 0;
      return;
    }
    const data = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (!this.socket.write(data)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
  }

  private async maybeFlush(): Promise<void> {
    if (this.outBytes > 256 * 1024) await this.flush();
  }

  // ---------- startup ----------

  private async startup(): Promise<boolean> {
    for (;;) {
      const f = await this.queue.next();
      if (!f) return false;
      const r = new BodyReader(f.body);
      const code = r.int32();
      this.opts.logger.debug({ remote: this.remote, code, len: f.body.length }, 'startup message');
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        if (this.framer.pending) throw new ProtocolViolation('received unencrypted data after SSL request');
        if (code === SSL_REQUEST && this.opts.tls) {
          this.socket.write('S');
          await this.upgradeToTls(this.opts.tls);
        } else {
          this.socket.write('N');
        }
        this.framer.startup = true;
        continue;
      }
      if (code === CANCEL_REQUEST) {
        const pid = r.int32();
        const secret = r.int32();
        this.opts.lookupBackend(pid, secret)?.cancel();
        return false;
      }
      if (code !== PROTOCOL_3) {
        throw new Fatal(
          '0A000',
          `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0 to 3.0`,
        );
      }
      const params = new Map<string, string>();
      while (r.remaining > 1) {
        const k = r.cstring();
        params.set(k, r.cstring());
      }
      this.user = params.get('user') ?? '';
      if (!this.user) throw new Fatal('28000', 'no PostgreSQL user name specified in startup packet');
      this.database = params.get('database') || this.user;
      await this.authenticate();
      const extra = (await this.opts.handler.sessionSettings?.(this.user)) ?? {};
      this.settings = defaultSettings(this.opts.serverName);
      for (const [k, v] of Object.entries(extra)) this.applySetting(k, v, false);
      this.applySetting('session_authorization', this.user, false);
      for (const [k, v] of params) {
        if (k === 'user' || k === 'database' || k === 'replication') continue;
        if (k === 'options') continue;
        this.applySetting(k, v, false);
      }
      this.send(m.authenticationOk());
      for (const [k, def] of this.settings)
        if (def.reported) this.send(m.parameterStatus(displayName(k), def.value));
      this.send(m.backendKeyData(this.pid, this.secret));
      this.send(m.readyForQuery(this.tx));
      await this.flush();
      this.opts.logger.info({ remote: this.remote, user: this.user, pid: this.pid }, 'connection authorized');
      return true;
    }
  }

  private async upgradeToTls(context: SecureContext): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const tls = new TLSSocket(plain, { isServer: true, secureContext: context });
    this.socket = tls;
    this.attach(tls);
    await new Promise<void>((resolve, reject) => {
      tls.once('secure', resolve);
      tls.once('error', reject);
    });
  }

  private async expectPassword(): Promise<Buffer> {
    await this.flush();
    const f = await this.queue.next();
    if (!f) throw new Fatal('08006', 'connection closed during authentication');
    if (f.type !== 0x70)
      throw new ProtocolViolation(
        `expected password response, got message type "${String.fromCharCode(f.type)}"`,
      );
    return f.body;
  }

  private authFailed(method: string): never {
    this.opts.logger.warn({ remote: this.remote, user: this.user, method }, 'authentication failed');
    throw new Fatal('28P01', `password authentication failed for user "${this.user}"`);
  }

  private async authenticate(): Promise<void> {
    const creds = await this.opts.handler.credentials(this.user);
    switch (this.opts.auth) {
      case 'trust':
        if (!creds) throw new Fatal('28000', `role "${this.user}" does not exist`);
        return;
      case 'password': {
        this.send(m.authenticationCleartext());
        const body = await this.expectPassword();
        const pw = new BodyReader(body).cstring();
        if (!checkPassword(this.user, pw, creds)) this.authFailed('password');
        return;
      }
      case 'md5': {
        const salt = randomBytes(4);
        this.send(m.authenticationMd5(salt));
        const body = await this.expectPassword();
        const response = new BodyReader(body).cstring();
        if (!checkMd5Response(response, salt, creds)) this.authFailed('md5');
        return;
      }
      case 'scram': {
        this.send(m.authenticationSasl(['SCRAM-SHA-256']));
        const first = new BodyReader(await this.expectPassword());
        const mech = first.cstring();
        if (mech !== 'SCRAM-SHA-256') throw new Fatal('28000', `unsupported SASL mechanism "${mech}"`);
        const len = first.int32();
        const clientFirst = first.bytes(len).toString('utf8');
        const exchange = new ScramExchange(this.user, creds?.scramVerifier ?? null, this.opts.mockSecret);
        try {
          this.send(m.authenticationSaslContinue(exchange.start(clientFirst)));
          const clientFinal = (await this.expectPassword()).toString('utf8');
          const serverFinal = exchange.finish(clientFinal);
          if (!serverFinal) this.authFailed('scram');
          this.send(m.authenticationSaslFinal(serverFinal));
        } catch (err) {
          if (err instanceof ScramError) throw new Fatal('08P01', err.message);
          throw err;
        }
        return;
      }
    }
  }

  // ---------- session view ----------

  private applySetting(name: string, value: string, report: boolean): void {
    const key = name.toLowerCase();
    const def = this.settings.get(key);
    if (def?.value !== value) {
      this.settingsVersion++;
      this.settingsList = null;
    }
    if (def) {
      if (def.value === value) return;
      this.settings.set(key, { ...def, value });
      if (def.reported && report) this.send(m.parameterStatus(displayName(key), value));
    } else this.settings.set(key, { value });
  }

  private readonly sessionView: SessionView = {
    user: '',
    database: '',
    backendPid: 0,
    settingsVersion: 0,
    setting: (name) => this.settings.get(name.toLowerCase())?.value,
    setSetting: (name, value) => this.applySetting(name, value, true),
    allSettings: () => (this.settingsList ??= [...this.settings].map(([k, v]) => [displayName(k), v.value])),
  };

  private get session(): SessionView {
    return Object.assign(this.sessionView, {
      user: this.user,
      database: this.database,
      backendPid: this.pid,
      settingsVersion: this.settingsVersion,
    });
  }

  // ---------- main loop ----------

  private async mainLoop(): Promise<void> {
    let skipToSync = false;
    for (;;) {
      const f = await this.queue.next();
      if (!f) return;
      const type = String.fromCharCode(f.type);
      this.opts.logger.debug({ pid: this.pid, type, len: f.body.length, skip: skipToSync }, 'message');
      if (type === 'X') return;
      if (skipToSync && type !== 'S' && type !== 'Q') continue;
      try {
        switch (type) {
          case 'Q':
            skipToSync = false;
            await this.simpleQuery(new BodyReader(f.body).cstring());
            break;
          case 'P':
            await this.parse(f.body);
            break;
          case 'B':
            this.bind(f.body);
            break;
          case 'D':
            this.describe(f.body);
            break;
          case 'E':
            await this.execute(f.body);
            break;
          case 'C':
            this.closeMessage(f.body);
            break;
          case 'H':
            await this.flush();
            break;
          case 'S':
            skipToSync = false;
            if (this.tx === 'I') this.portals.clear();
            this.send(m.readyForQuery(this.tx));
            await this.flush();
            break;
          case 'd':
          case 'c':
          case 'f':
            // CopyData/CopyDone/CopyFail outside COPY are ignored, as PostgreSQL does.
            break;
          case 'F':
            throw new SqlError('0A000', 'the function call protocol message is not supported');
          default:
            throw new ProtocolViolation(`invalid frontend message type ${f.type}`);
        }
      } catch (err) {
        if (err instanceof ProtocolViolation || err instanceof Fatal) throw err;
        this.reportError(err, 0);
        skipToSync = true;
        // PostgreSQL flushes an error at once: a client waiting after Flush must see it.
        await this.flush();
      }
      await this.maybeFlush();
    }
  }

  private reportError(err: unknown, offset: number): void {
    let e: SqlError;
    if (err instanceof SqlError) e = err;
    else {
      this.opts.logger.error({ pid: this.pid, err: (err as Error)?.stack ?? String(err) }, 'internal error');
      e = new SqlError('XX000', `internal error: ${(err as Error)?.message ?? String(err)}`);
    }
    if (this.tx === 'T') this.tx = 'E';
    this.send(
      m.errorResponse({
        severity: 'ERROR',
        code: e.code,
        message: e.message,
        hint: e.extra.hint,
        detail: e.extra.detail,
        position: e.extra.position ? e.extra.position + offset : undefined,
      }),
    );
  }

  private context(): QueryContext {
    this.running = new AbortController();
    return {
      session: this.session,
      signal: this.running.signal,
      notice: (n) =>
        this.send(
          m.noticeResponse({
            severity: n.severity ?? 'NOTICE',
            code: n.code ?? '00000',
            message: n.message,
            detail: n.detail,
            hint: n.hint,
          }),
        ),
    };
  }

  private checkNotAborted(session: SessionCommand | null): void {
    if (this.tx !== 'E') return;
    if (
      session &&
      (session.kind === 'rollback' || session.kind === 'commit' || session.kind === 'rollback_to')
    )
      return;
    throw new SqlError(
      '25P02',
      'current transaction is aborted, commands ignored until end of transaction block',
    );
  }

  // ---------- simple query ----------

  private async simpleQuery(sql: string): Promise<void> {
    const pieces = splitStatements(sql);
    if (!pieces.length) this.send(m.emptyQueryResponse());
    for (const piece of pieces) {
      try {
        const session = parseSessionCommand(piece.text);
        this.checkNotAborted(session);
        const stmt: Statement = {
          sql: piece.text,
          paramTypes: [],
          session,
          prepared: session ? null : await this.opts.handler.prepare(piece.text, [], this.session, false),
        };
        if (stmt.prepared?.paramTypes.length) {
          throw new SqlError('42P02', 'there is no parameter $1');
        }
        const portal: Portal = { statement: stmt, params: [], resultFormats: [], pending: null, done: false };
        await this.runPortal(portal, 0, true);
      } catch (err) {
        if (err instanceof ProtocolViolation || err instanceof Fatal) throw err;
        this.reportError(err, piece.offset);
        break;
      } finally {
        this.running = null;
      }
      await this.maybeFlush();
    }
    if (this.tx === 'I') this.portals.clear();
    this.send(m.readyForQuery(this.tx));
    await this.flush();
  }

  // ---------- extended query ----------

  private async parse(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const name = r.cstring();
    const sql = r.cstring();
    const n = r.int16();
    const types: number[] = [];
    for (let i = 0; i < n; i++) types.push(r.int32());
    r.end();
    if (name && this.statements.has(name))
      throw new SqlError('42P05', `prepared statement "${name}" already exists`);
    const pieces = splitStatements(sql);
    if (pieces.length > 1)
      throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
    const text = pieces[0]?.text ?? '';
    const session = text ? parseSessionCommand(text) : null;
    this.checkNotAborted(session);
    let stmt: Statement;
    if (!text || isBlank(text)) stmt = { sql, paramTypes: [], session: null, prepared: null };
    else if (session) stmt = { sql, paramTypes: types, session, prepared: null };
    else {
      const prepared = await this.opts.handler.prepare(text, types, this.session, true);
      stmt = { sql, paramTypes: prepared.paramTypes, session: null, prepared };
    }
    if (!name) this.statements.delete('');
    this.statements.set(name, stmt);
    this.send(m.parseComplete());
  }

  private bind(body: Buffer): void {
    const r = new BodyReader(body);
    const portalName = r.cstring();
    const stmtName = r.cstring();
    const nFormats = r.int16();
    const formats: number[] = [];
    for (let i = 0; i < nFormats; i++) formats.push(r.int16());
    const nParams = r.int16();
    const raw: (Buffer | null)[] = [];
    for (let i = 0; i < nParams; i++) {
      const len = r.int32();
      raw.push(len === -1 ? null : Buffer.from(r.bytes(len)));
    }
    const nResult = r.int16();
    const resultFormats: number[] = [];
    for (let i = 0; i < nResult; i++) resultFormats.push(r.int16());
    r.end();
    const stmt = this.statements.get(stmtName);
    if (!stmt) throw new SqlError('26000', `prepared statement "${stmtName}" does not exist`);
    if (nParams !== stmt.paramTypes.length) {
      throw new SqlError(
        '08P01',
        `bind message supplies ${nParams} parameters, but prepared statement "${stmtName}" requires ${stmt.paramTypes.length}`,
      );
    }
    const params = raw.map((b, i) => {
      const fmt = nFormats === 0 ? 0 : nFormats === 1 ? formats[0] : formats[i];
      return decodeParam(b, stmt.paramTypes[i] || Oid.text, fmt === 1);
    });
    if (portalName && this.portals.has(portalName))
      throw new SqlError('42P03', `cursor "${portalName}" already exists`);
    this.portals.set(portalName, { statement: stmt, params, resultFormats, pending: null, done: false });
    this.send(m.bindComplete());
  }

  private describe(body: Buffer): void {
    const r = new BodyReader(body);
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    if (kind === 'S') {
      const stmt = this.statements.get(name);
      if (!stmt) throw new SqlError('26000', `prepared statement "${name}" does not exist`);
      this.send(m.parameterDescription(stmt.paramTypes.map((t) => t || Oid.text)));
      this.describeFields(stmt, []);
    } else if (kind === 'P') {
      const portal = this.portals.get(name);
      if (!portal) throw new SqlError('34000', `portal "${name}" does not exist`);
      this.describeFields(portal.statement, portal.resultFormats);
    } else throw new ProtocolViolation(`invalid DESCRIBE message subtype ${kind}`);
  }

  private describeFields(stmt: Statement, formats: number[]): void {
    if (stmt.session?.kind === 'show') {
      this.send(m.rowDescription([{ name: stmt.session.name, typeOid: Oid.text }], formats));
    } else if (stmt.prepared?.fields) this.send(m.rowDescription(stmt.prepared.fields, formats));
    else this.send(m.noData());
  }

  private async execute(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError('34000', `portal "${name}" does not exist`);
    this.checkNotAborted(portal.statement.session);
    try {
      await this.runPortal(portal, maxRows, false);
    } finally {
      this.running = null;
    }
  }

  private closeMessage(body: Buffer): void {
    const r = new BodyReader(body);
    const kind = String.fromCharCode(r.byte());
    const name = r.cstring();
    if (kind === 'S') this.statements.delete(name);
    else if (kind === 'P') this.portals.delete(name);
    else throw new ProtocolViolation(`invalid CLOSE message subtype ${kind}`);
    this.send(m.closeComplete());
  }

  // ---------- running a statement ----------

  /** Runs (or continues) a portal: sends rows up to maxRows (0 = all), then CommandComplete or PortalSuspended. */
  private async runPortal(portal: Portal, maxRows: number, describeRows: boolean): Promise<void> {
    const stmt = portal.statement;
    if (!portal.pending) {
      if (portal.done) {
        // Executing a completed portal again returns nothing more, as PostgreSQL does.
        this.send(m.commandComplete('SELECT 0'));
        return;
      }
      if (!stmt.prepared && !stmt.session) {
        this.send(m.emptyQueryResponse());
        portal.done = true;
        return;
      }
      const result: QueryResult = stmt.session
        ? this.runSessionCommand(stmt.session)
        : await stmt.prepared!.execute(portal.params, this.context());
      if (result.kind === 'command') {
        this.send(m.commandComplete(result.tag));
        portal.done = true;
        return;
      }
      if (result.kind === 'copyIn') return this.copyIn(result);
      if (result.kind === 'copyOut') return this.copyOut(result);
      portal.pending = { rows: result.rows, sent: 0, tag: result.tag, fields: result.fields };
      if (describeRows) this.send(m.rowDescription(result.fields, portal.resultFormats));
    }
    const p = portal.pending;
    const end = maxRows > 0 ? Math.min(p.rows.length, p.sent + maxRows) : p.rows.length;
    const from = p.sent;
    for (let i = from; i < end; i++) {
      this.send(m.dataRow(p.rows[i], p.fields, portal.resultFormats));
      if ((i & 255) === 255) await this.maybeFlush();
    }
    p.sent = end;
    if (end < p.rows.length) {
      this.send(m.portalSuspended());
      return;
    }
    this.send(m.commandComplete(p.tag === 'SELECT' ? `SELECT ${end - from}` : p.tag));
    portal.pending = null;
    portal.done = true;
  }

  private runSessionCommand(cmd: SessionCommand): QueryResult {
    const notice = (message: string) =>
      this.send(m.noticeResponse({ severity: 'WARNING', code: '25001', message }));
    switch (cmd.kind) {
      case 'begin':
        if (this.tx !== 'I') notice('there is already a transaction in progress');
        else this.txSnapshot = new Map(this.settings);
        this.tx = 'T';
        return { kind: 'command', tag: 'BEGIN' };
      case 'commit': {
        const failed = this.tx === 'E';
        if (this.tx === 'I') notice('there is no transaction in progress');
        if (failed && this.txSnapshot) this.restoreSettings(this.txSnapshot);
        this.endTransaction();
        return { kind: 'command', tag: failed ? 'ROLLBACK' : cmd.tag };
      }
      case 'rollback':
        if (this.tx === 'I') notice('there is no transaction in progress');
        if (this.txSnapshot) this.restoreSettings(this.txSnapshot);
        this.endTransaction();
        return { kind: 'command', tag: 'ROLLBACK' };
      case 'rollback_to':
        if (this.tx === 'I')
          throw new SqlError('25P01', 'ROLLBACK TO SAVEPOINT can only be used in transaction blocks');
        this.tx = 'T';
        return { kind: 'command', tag: 'ROLLBACK' };
      case 'savepoint':
        if (this.tx === 'I') throw new SqlError('25P01', `${cmd.tag} can only be used in transaction blocks`);
        return { kind: 'command', tag: cmd.tag };
      case 'discard':
        this.statements.clear();
        this.portals.clear();
        this.restoreSettings(defaultSettings(this.opts.serverName), [
          'session_authorization',
          'is_superuser',
        ]);
        return { kind: 'command', tag: 'DISCARD ALL' };
      case 'noop':
        return { kind: 'command', tag: cmd.tag };
      case 'set': {
        if (cmd.value === null) {
          const def = defaultSettings(this.opts.serverName).get(cmd.name);
          if (def) this.applySetting(cmd.name, def.value, true);
        } else {
          if (cmd.name === 'client_encoding' && !/^(utf-?8|unicode)$/i.test(cmd.value)) {
            throw new SqlError(
              '0A000',
              `client encoding "${cmd.value}" is not supported: this server speaks UTF8 only`,
            );
          }
          if (
            cmd.name === 'server_version' ||
            cmd.name === 'server_encoding' ||
            cmd.name === 'is_superuser'
          ) {
            throw new SqlError('55P02', `parameter "${cmd.name}" cannot be changed`);
          }
          const v = cmd.name === 'client_encoding' ? 'UTF8' : cmd.value;
          this.applySetting(cmd.name, v, true);
        }
        return { kind: 'command', tag: cmd.tag };
      }
      case 'show': {
        if (cmd.name === 'all') {
          return {
            kind: 'rows',
            fields: [
              { name: 'name', typeOid: Oid.text },
              { name: 'setting', typeOid: Oid.text },
              { name: 'description', typeOid: Oid.text },
            ],
            rows: [...this.settings].map(([k, v]) => [displayName(k), v.value, '']),
            tag: 'SHOW',
          };
        }
        const v = this.settings.get(cmd.name);
        if (!v) throw new SqlError('42704', `unrecognized configuration parameter "${cmd.name}"`);
        return {
          kind: 'rows',
          fields: [{ name: cmd.name, typeOid: Oid.text }],
          rows: [[v.value]],
          tag: 'SHOW',
        };
      }
    }
  }

  private endTransaction(): void {
    this.tx = 'I';
    this.txSnapshot = null;
    this.portals.clear();
  }

  private restoreSettings(from: Map<string, SettingDef>, keep: string[] = []): void {
    for (const [k, def] of from) {
      if (keep.includes(k)) continue;
      this.applySetting(k, def.value, true);
    }
  }

  // ---------- COPY ----------

  private async copyIn(result: Extract<QueryResult, { kind: 'copyIn' }>): Promise<void> {
    this.send(m.copyInResponse(result.binary));
    await this.flush();
    let failure: SqlError | null = null;
    let finished = false;
    const queue = this.queue;
    async function* chunks(): AsyncGenerator<Buffer> {
      for (;;) {
        const f = await queue.next();
        if (!f) throw new SqlError('08006', 'connection lost during COPY');
        const t = String.fromCharCode(f.type);
        if (t === 'd') yield f.body;
        else if (t === 'c') {
          finished = true;
          return;
        } else if (t === 'f') {
          failure = new SqlError('57014', `COPY from stdin failed: ${new BodyReader(f.body).cstring()}`);
          throw failure;
        } else if (t === 'H' || t === 'S') {
          // Flush and Sync during COPY are ignored (PostgreSQL does the same).
        } else throw new ProtocolViolation(`unexpected message type "${t}" during COPY from stdin`);
      }
    }
    const ctx = this.context();
    try {
      const tag = await result.consume(chunks(), ctx);
      this.send(m.commandComplete(tag));
    } catch (err) {
      // Drain the rest of the COPY stream so the protocol stays in step, then report.
      while (!finished && !failure && !this.closed) {
        const f = await queue.next();
        if (!f) break;
        if (f.type === 0x63 || f.type === 0x66) break;
      }
      throw err;
    }
  }

  private async copyOut(result: Extract<QueryResult, { kind: 'copyOut' }>): Promise<void> {
    this.send(m.copyOutResponse(result.binary));
    const ctx = this.context();
    for await (const chunk of result.produce(ctx)) {
      this.send(m.copyData(chunk));
      await this.maybeFlush();
    }
    this.send(m.copyDone());
    this.send(m.commandComplete(result.tag()));
  }
}
