// Starts a real server in-process on a free port with a fresh data directory, for tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { AuthMethod } from '../../pg/auth';
import type { AgentClientTls } from '../../src/agent/tls';
import { type App, startApp } from '../../src/app';
import type { ServerLimits } from '../../wire/limits';

export const ADMIN_PASSWORD = 'test-secret';

export interface TestServer {
  app: App;
  port: number;
  dataDir: string;
  /** libpq-style connection string for the admin user. */
  dsn: string;
  pgConfig: { host: string; port: number; user: string; password: string; database: string };
  stop(): Promise<void>;
}

export async function startTestServer(
  opts: {
    auth?: AuthMethod;
    dataDir?: string;
    httpPort?: number;
    /** Where the JSON log goes, at level info (tests that read the log). */
    logStream?: DestinationStream;
    limits?: Partial<ServerLimits>;
    /** The cluster secret shared with storage agents, and the heartbeat timings (tests of agents). */
    secret?: Buffer;
    agentHeartbeatMs?: number;
    agentOfflineAfterMs?: number;
    /** TLS towards the agents (the CA that signed their certificates, and a client certificate). */
    agentTls?: AgentClientTls;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'segtasks-test-'));
  const app = await startApp({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    auth: opts.auth ?? 'scram',
    adminPassword: ADMIN_PASSWORD,
    limits: opts.limits,
    logLevel: process.env.SEGTASKS_TEST_LOG ?? (opts.logStream ? 'info' : 'silent'),
    logStream: opts.logStream,
    say: () => {},
    httpPort: opts.httpPort,
    secret: opts.secret,
    agentHeartbeatMs: opts.agentHeartbeatMs,
    agentOfflineAfterMs: opts.agentOfflineAfterMs,
    agentTls: opts.agentTls,
  });
  return {
    app,
    port: app.port,
    dataDir,
    dsn: `host=127.0.0.1 port=${app.port} user=admin password=${ADMIN_PASSWORD} dbname=segtasks`,
    pgConfig: {
      host: '127.0.0.1',
      port: app.port,
      user: 'admin',
      password: ADMIN_PASSWORD,
      database: 'segtasks',
    },
    async stop() {
      await app.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
