// Puts the pieces together: catalog, users, reader pool, router, wire server. The CLI and the tests start
// the server through here.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import { type Catalog, nowText, openCatalog, type SqliteCatalog } from '../catalog/db';
import { openPostgresCatalog } from '../catalog/postgres';
import { ReaderPool } from '../catalog/readers/pool';
import { PostgresReaders } from '../catalog/readers/postgres-readers';
import type { Readers } from '../catalog/readers/readers';
import { ScheduleCatalog } from '../catalog/schedules';
import { StorageCatalog } from '../catalog/storage';
import { TaskCatalog } from '../catalog/tasks';
import { Users } from '../catalog/users';
import type { AuthMethod } from '../pg/auth';
import type { QueryHandler } from '../wire/handler';
import { resolveLimits, type ServerLimits } from '../wire/limits';
import { WireServer } from '../wire/server';
import { serverVersion } from '../wire/settings';
import { AgentClient } from './agent/client';
import type { AgentClientTls } from './agent/tls';
import { type DataDirLock, lockDataDir } from './data-dir-lock';
import { checkDisk } from './engine/check-disk';
import { TaskEngine } from './engine/engine';
import { LeasedOwnership } from './engine/ownership';
import { rebalance } from './engine/rebalance';
import { rebuild } from './engine/rebuild';
import { TaskTypeRegistry } from './engine/registry';
import { TaskScheduler } from './engine/scheduler';
import { observability } from './http/start';
import { Router } from './sql/router';
import { StorageModule } from './sql/storage-statements';
import { TaskModule } from './sql/task-statements';
import { ensureEmbeddedDefault } from './store/demo';
import { checkDevicesAtStart } from './store/device-identity';
import { LocalDeviceIO, StorageIO } from './store/device-io';
import { AgentLiveness } from './store/liveness';
import { recoverStore } from './store/recovery';
import { RemoteDeviceIO } from './store/remote-device-io';
import { SegmentStore } from './store/store';
import { VerifyPool } from './store/verify-pool';

export const PRODUCT = 'segtasks';
export const VERSION = '0.1.0';

export interface AppOptions {
  host: string;
  port: number;
  dataDir: string;
  /**
   * A catalog shared by several coordinators, in the PostgreSQL database at this URL (docs/cluster.md); needs
   * `secret`. Absent: the embedded catalog, SQLite in the data directory.
   */
  catalogUrl?: string;
  /** With catalogUrl: the lease TTL of a task's owner, and the time between heartbeats and adoption scans. */
  leases?: { ttlMs: number; intervalMs: number };
  auth: AuthMethod;
  tlsCert?: string;
  tlsKey?: string;
  adminPassword?: string;
  logLevel?: string;
  maxMessageBytes?: number;
  /** max_connections, superuser_reserved_connections, authentication_timeout, result memory (defaults: PostgreSQL's). */
  limits?: Partial<ServerLimits>;
  /** Create the demo topology and table when the data directory is new (the CLI does; tests do not). */
  embeddedDefault?: boolean;
  demoBytes?: number;
  /** Port of the HTTP server for /metrics and the web console (0 picks a free one); absent = no HTTP. */
  httpPort?: number;
  /** Where to print the few lines meant for a person (listening on, generated password). */
  say?: (line: string) => void;
  /** Server defaults of settings: log_statement, log_min_duration_statement, ... (the CLI's --log-*). */
  settings?: Record<string, string>;
  /** Where the JSON log goes (default stderr); tests read the log from here. */
  logStream?: DestinationStream;
  /** The cluster secret shared with the storage agents (--secret-file); without it no node may have an ADDRESS. */
  secret?: Buffer;
  /** TLS towards the storage agents (--agent-ca, --tls-client-cert): without it they are spoken to over HTTP. */
  agentTls?: AgentClientTls;
  /** Heartbeat interval and the silence after which an agent's node is OFFLINE (defaults 1 s and 5 s). */
  agentHeartbeatMs?: number;
  agentOfflineAfterMs?: number;
}

/** The channel on which the server publishes task events; clients LISTEN on it and may not NOTIFY it. */
export const TASK_CHANNEL = 'segtasks_tasks';

export interface App {
  host: string;
  port: number;
  /** The HTTP port (metrics and console), or null when HTTP is off. */
  httpPort: number | null;
  catalog: Catalog;
  /** The embedded catalog, or null when the catalog is on PostgreSQL. */
  sqlite: SqliteCatalog | null;
  users: Users;
  storage: StorageCatalog;
  store: SegmentStore;
  engine: TaskEngine;
  logger: Logger;
  /** What the wire server asks to plan and run statements: the router, measured (bench/wire-layers drives it). */
  handler: QueryHandler;
  /** Publishes a notification on a channel (TASK_CHANNEL for task events) to every listening session. */
  notify(channel: string, payload: string): void;
  close(): Promise<void>;
}

export async function startApp(given: AppOptions): Promise<App> {
  // Device paths are stored in the catalog: they must not depend on the directory the server starts in.
  const opts = { ...given, dataDir: resolve(given.dataDir) };
  const say = opts.say ?? ((l: string) => process.stdout.write(l + '\n'));
  const logger = pino(
    { level: opts.logLevel ?? 'info', base: { app: PRODUCT }, timestamp: pino.stdTimeFunctions.isoTime },
    opts.logStream ?? pino.destination(2),
  );
  mkdirSync(opts.dataDir, { recursive: true });
  const lock = await lockDataDir(opts.dataDir);
  try {
    return await startLocked(opts, say, logger, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(
  opts: AppOptions,
  say: (line: string) => void,
  logger: Logger,
  lock: DataDirLock,
): Promise<App> {
  const shared = opts.catalogUrl !== undefined;
  if (shared && !opts.secret)
    throw new Error('a catalog on PostgreSQL needs the cluster secret of its coordinators and agents');
  const sqlite = opts.catalogUrl === undefined ? await openCatalog(opts.dataDir) : null;
  const pgCatalog =
    opts.catalogUrl === undefined
      ? null
      : await openPostgresCatalog(opts.catalogUrl, { readerSecret: opts.secret });
  const catalog: Catalog = (sqlite ?? pgCatalog)!;
  if (shared) logger.info({ catalog: catalog.path }, 'catalog on PostgreSQL, shared with other coordinators');
  const users = new Users(catalog);
  const admin = await users.bootstrapAdmin(opts.adminPassword);
  if (admin.created) {
    say(
      admin.generated
        ? `created user "admin" (role sysadmin) with generated password: ${admin.generated}  (shown once; change it with ALTER USER admin WITH PASSWORD '...')`
        : 'created user "admin" (role sysadmin) with the password from SEGTASKS_ADMIN_PASSWORD',
    );
  }
  const storage = new StorageCatalog(catalog);
  const verifier = new VerifyPool();
  const secret = opts.secret;
  const io = new StorageIO(
    storage,
    new LocalDeviceIO(verifier),
    secret ? (address) => new RemoteDeviceIO(new AgentClient(address, secret, { tls: opts.agentTls })) : null,
    shared,
  );
  const store = new SegmentStore(storage, io, logger);
  // Agents learn their devices from us: declared first, so that an agent restarted without its --data-dir
  // serves them for the checks below (one that cannot be reached is the heartbeat's business).
  for (const n of await storage.agentNodes())
    await io
      .forAddress(n.address)
      .serve(n.name, await storage.devices(n.name))
      .catch((err: Error) =>
        logger.warn({ node: n.name, address: n.address, reason: err.message }, 'agent not reached at start'),
      );
  const recovered = await recoverStore(storage, io, shared);
  if (recovered.removedDropped)
    logger.info({ files: recovered.removedDropped }, 'removed the files of tables dropped before a crash');
  if (recovered.removedTemp || recovered.removedOrphans) {
    logger.warn(recovered, 'removed files left by an interrupted write');
  }
  for (const d of recovered.missingDevices) logger.warn({ device: d }, 'device directory is missing');
  for (const f of recovered.failedRemovals)
    logger.warn(f, 'could not remove files left by an interrupted write (tried again at the next start)');
  for (const d of recovered.unreachableDevices)
    logger.warn({ device: d }, 'device not checked at start: its agent cannot be reached');
  const atStart = await checkDevicesAtStart(storage, io, await storage.allSegmentPaths());
  for (const d of atStart.failed)
    logger.warn({ device: d }, 'device FAILED: its directory or identity is missing or wrong');
  const liveness = new AgentLiveness(storage, io, logger, {
    intervalMs: opts.agentHeartbeatMs,
    offlineAfterMs: opts.agentOfflineAfterMs,
  });
  liveness.start();
  // The demo's nodes are served in process, which a shared catalog cannot have (every node needs an agent).
  if (opts.embeddedDefault && !shared) {
    const made = await ensureEmbeddedDefault(opts.dataDir, storage, store, opts.demoBytes);
    if (made) say(made);
  }
  const limits = resolveLimits(opts.limits);
  // User queries: on reader threads over the SQLite file, or in PostgreSQL itself as its read-only role.
  const readers: Readers = sqlite
    ? new ReaderPool({
        catalogPath: sqlite.path,
        serverVersion: `${serverVersion} (${PRODUCT} ${VERSION})`,
        startedAt: nowText(),
        resultMemoryLimitBytes: limits.resultMemoryLimitBytes,
      })
    : new PostgresReaders({
        url: opts.catalogUrl as string,
        secret: opts.secret!,
        resultMemoryLimitBytes: limits.resultMemoryLimitBytes,
      });
  await readers.ready();
  const tasks = new TaskCatalog(catalog);
  const engine = new TaskEngine(
    tasks,
    storage,
    store,
    // The task types of this build, one line each, in the order messages list them.
    new TaskTypeRegistry([rebuild, checkDisk, rebalance]),
    logger,
    verifier,
    {
      ownership: pgCatalog
        ? new LeasedOwnership(pgCatalog, {
            ttlMs: opts.leases?.ttlMs,
            heartbeatMs: opts.leases?.intervalMs,
            adoptMs: opts.leases?.intervalMs,
          })
        : undefined,
    },
  );
  await engine.start();
  const scheduler = new TaskScheduler(new ScheduleCatalog(catalog), tasks, engine, logger);
  scheduler.start();
  const router = new Router(readers, users)
    .use(new StorageModule(store, users, logger))
    .use(new TaskModule(engine, scheduler, users));
  const obs = observability(catalog, users, router, engine.types, logger);
  const wire = new WireServer({
    host: opts.host,
    port: opts.port,
    handler: obs.handler,
    auth: opts.auth,
    tlsCert: opts.tlsCert,
    tlsKey: opts.tlsKey,
    maxMessageBytes: opts.maxMessageBytes,
    limits,
    serverName: `${PRODUCT} ${VERSION}`,
    logger,
    settings: opts.settings,
    serverChannels: [TASK_CHANNEL],
    // The task statements that change what runs are logged with DDL (CREATE TASK is by its first word).
    logClasses: { cancel: 'ddl', pause: 'ddl', resume: 'ddl' },
  });
  obs.metrics.sampled('segtasks_wire_connections', 'Open client connections', () => wire.connectionCount);
  const readerGauges = {
    workers: 'Catalog reader threads',
    running: 'Statements running on reader threads',
    queued: 'Statements waiting for a reader thread',
    cursors: 'Reader threads held by open cursors (streamed results)',
    spawned: 'Reader threads started since the server started',
    inlined: 'Statements with a bounded plan run on the inline lane instead of a reader thread',
  } as const;
  for (const [key, help] of Object.entries(readerGauges) as [keyof typeof readerGauges, string][])
    obs.metrics.sampled(`segtasks_reader_pool_${key}`, help, () => readers.stats()[key]);
  // Task events go to every session that has run LISTEN segtasks_tasks.
  engine.events.on('task', (e) => wire.notify(TASK_CHANNEL, JSON.stringify(e)));
  const addr = await wire.listen();
  say(`listening on ${opts.host}:${addr.port}`);
  // The same moment in the JSON log, with its time: when the server took its first connection.
  logger.info({ host: opts.host, port: addr.port }, 'listening');
  const httpPort = opts.httpPort === undefined ? null : await obs.listen(opts.host, opts.httpPort);
  if (httpPort !== null) say(`web console and metrics on http://${opts.host}:${httpPort}/`);
  return {
    host: opts.host,
    port: addr.port,
    httpPort,
    catalog,
    sqlite,
    users,
    storage,
    store,
    engine,
    logger,
    handler: obs.handler,
    notify: (channel, payload) => wire.notify(channel, payload),
    async close() {
      liveness.stop();
      await obs.close();
      await wire.close();
      scheduler.stop();
      await engine.stop();
      await readers.close();
      for (const r of io.remoteIOs()) if (r instanceof RemoteDeviceIO) r.client.close();
      await catalog.close();
      await lock.release();
    },
  };
}
