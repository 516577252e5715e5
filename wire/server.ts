// The listener: accepts connections, keeps the registry that CancelRequest needs, and shuts down cleanly.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { BackendActivity } from '../pg/activity';
import type { AuthMethod } from '../pg/auth';
import { checkNotification } from '../pg/notify';
import { Admission, TOO_MANY_CLIENTS } from './admission';
import type { WireLogger } from './backend';
import * as msg from './backend-messages';
import { Connection } from './connection';
import type { QueryHandler } from './handler';
import { limitSettings, resolveLimits, type ServerLimits } from './limits';
import { NotificationHub } from './notifications';
import { checkServerDefault } from './setting-rules';
import type { LogClass } from './statement-log';

export interface WireServerOptions {
  host: string;
  port: number;
  handler: QueryHandler;
  auth: AuthMethod;
  tlsCert?: string;
  tlsKey?: string;
  /** Largest non-COPY message accepted (default 64 MiB). */
  maxMessageBytes?: number;
  serverName: string;
  logger: WireLogger;
  /** Server defaults of settings, e.g. { log_statement: 'ddl' } (validated as SET would). */
  settings?: Record<string, string>;
  /** Channels only the server notifies on (server.notify()); a client's NOTIFY there is refused (42501). */
  serverChannels?: string[];
  /** log_statement classes of the handler's own statements by first word, e.g. cancel -> ddl. */
  logClasses?: Record<string, LogClass>;
  /** max_connections, superuser_reserved_connections, authentication_timeout, ... (PostgreSQL's defaults). */
  limits?: Partial<ServerLimits>;
}

/** How long SIGTERM's shutdown lets sessions read their FATAL 57P01 before their sockets are destroyed. */
const SHUTDOWN_GRACE_MS = 500;

export class WireServer {
  private server: Server | null = null;
  private readonly backends = new Map<number, Connection>();
  private readonly sockets = new Set<Socket>();
  private readonly connections = new Set<Connection>();
  private readonly mockSecret = randomBytes(32);
  private readonly hub: NotificationHub;
  private readonly settings: Record<string, string>;
  private readonly logClasses: ReadonlyMap<string, LogClass>;

  readonly limits: ServerLimits;
  private readonly admission: Admission;

  constructor(private readonly opts: WireServerOptions) {
    this.limits = resolveLimits(opts.limits);
    this.admission = new Admission(this.limits.maxConnections, this.limits.superuserReservedConnections);
    this.hub = new NotificationHub(new Set(opts.serverChannels ?? []));
    this.settings = Object.fromEntries(
      Object.entries(opts.settings ?? {}).map(([k, v]) => [k, checkServerDefault(k, v)]),
    );
    this.logClasses = new Map(Object.entries(opts.logClasses ?? {}));
  }

  /**
   * Sends a notification from the server itself (task events on a server channel) to every connection that
   * listens on the channel; the pid it carries is the server process's.
   */
  notify(channel: string, payload: string): void {
    checkNotification(channel, payload);
    this.hub.publish({ channel, payload, pid: process.pid });
  }

  async listen(): Promise<{ host: string; port: number }> {
    const tls =
      this.opts.tlsCert && this.opts.tlsKey
        ? createSecureContext({ cert: readFileSync(this.opts.tlsCert), key: readFileSync(this.opts.tlsKey) })
        : null;
    const serverSettings = limitSettings(this.limits);
    const server = createServer((socket) => {
      socket.on('error', () => {});
      if (!this.admission.arrive()) {
        // Answered, never dropped without a word: the postmaster's reply to a connection it cannot take.
        socket.end(msg.errorResponse({ severity: 'FATAL', code: '53300', message: TOO_MANY_CLIENTS }));
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const conn = new Connection(socket, {
        handler: this.opts.handler,
        auth: this.opts.auth,
        tls,
        limits: {
          maxMessageBytes: this.opts.maxMessageBytes ?? 64 * 1024 * 1024,
          maxCopyDataBytes: 256 * 1024 * 1024,
        },
        serverName: this.opts.serverName,
        logger: this.opts.logger,
        mockSecret: this.mockSecret,
        lookupBackend: (pid, secret) => {
          const c = this.backends.get(pid);
          return c && c.secret === secret ? c : undefined;
        },
        notifications: this.hub,
        serverSettings: { ...serverSettings, ...this.settings },
        logClasses: this.logClasses,
        register: (c) => this.backends.set(c.pid, c),
        unregister: (c) => {
          this.backends.delete(c.pid);
          this.connections.delete(c);
        },
        admission: this.admission,
        authenticationTimeoutMs: this.limits.authenticationTimeoutMs,
        sessions: {
          activity: () => this.activity(),
          signal: (pid, how) => {
            const c = this.backends.get(pid);
            if (how === 'cancel') c?.cancel();
            else c?.terminate();
          },
        },
      });
      this.connections.add(conn);
      void conn.run();
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') return { host: addr.address, port: addr.port };
    return { host: this.opts.host, port: this.opts.port };
  }

  /** Every logged-in session, as pg_stat_activity shows it. */
  activity(): BackendActivity[] {
    const all: BackendActivity[] = [];
    for (const c of this.backends.values()) {
      const a = c.activity();
      if (a) all.push(a);
    }
    return all;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Stops accepting, closes every connection and waits for the listener to close. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of [...this.connections]) c.terminate();
    if (this.sockets.size) await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
