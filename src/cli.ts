#!/usr/bin/env node
// Command line: `segtasks serve` starts the server (the coordinator), `segtasks agent` the storage agent of a
// host. Every option can also come from the environment.
// First: the libuv pool's size is fixed at the pool's first use (src/threadpool.ts).
import './threadpool';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { checkLimitSetting, parseWithUnit, settingValue } from '../wire/limits';
import { ERROR_STATEMENT_LEVELS, LOG_STATEMENT_LEVELS } from '../wire/setting-rules';
import { parseAddress } from './agent/client';
import { startAgent } from './agent/server';
import { parseSecret } from './agent/signing';
import { type AgentClientTls, readPem } from './agent/tls';
import { startApp, VERSION } from './app';

/** A limit option's value as PostgreSQL would read it from postgresql.conf (units allowed), or a usage error. */
function limitOption(name: string, given: string | undefined): number | undefined {
  if (given === undefined) return undefined;
  try {
    return settingValue(name, checkLimitSetting(name, given, true));
  } catch (err) {
    program.error(`invalid ${name} "${given}": ${(err as Error).message}`);
  }
}

/** A duration in PostgreSQL's units (500ms, 5s, 1min, ...) or a bare number of milliseconds. */
function durationOption(name: string, given: string): number {
  const ms = parseWithUnit(given, 'ms');
  if (ms === null || ms < 0)
    return program.error(`invalid ${name} "${given}": expected a duration such as 500ms, 5s or 1min`);
  return ms;
}

function readSecret(file: string): Buffer {
  try {
    return parseSecret(readFileSync(file), file);
  } catch (err) {
    return program.error(`cannot use the cluster secret: ${(err as Error).message}`);
  }
}

/** A PEM file named by an option, or a usage error. */
function pemOption(file: string | undefined, option: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readPem(file, option);
  } catch (err) {
    return program.error((err as Error).message);
  }
}

/** How agents are verified (--agent-ca) and what certificate is presented to them, from a command's options. */
function agentClientTls(
  caFile: string | undefined,
  cert: { file?: string; option: string },
  key: { file?: string; option: string },
): AgentClientTls | undefined {
  if (!!cert.file !== !!key.file) program.error(`${cert.option} and ${key.option} go together`);
  if (!caFile) {
    if (cert.file)
      program.error(`${cert.option} needs --agent-ca (a client certificate is only sent over TLS)`);
    return undefined;
  }
  return {
    ca: pemOption(caFile, '--agent-ca')!,
    cert: pemOption(cert.file, cert.option),
    key: pemOption(key.file, key.option),
  };
}

/** pino's levels, for --log-level of both commands. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** How long SIGTERM/SIGINT may take before the process exits regardless. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

const program = new Command();
program
  .name('segtasks')
  .description(
    'Distributed tasks over an erasure-coded segment store, spoken to over the PostgreSQL protocol',
  )
  .version(VERSION);

program
  .command('serve')
  .description('start the server (creates the data directory and the admin user on first start)')
  .addOption(new Option('--host <host>', 'address to listen on').env('SEGTASKS_HOST').default('127.0.0.1'))
  .addOption(
    new Option('--port <port>', 'TCP port (0 picks a free one)').env('SEGTASKS_PORT').default('5433'),
  )
  .addOption(
    new Option('--data-dir <dir>', 'data directory: catalog and default devices')
      .env('SEGTASKS_DATA_DIR')
      .default('./data'),
  )
  .addOption(
    new Option(
      '--catalog <url>',
      'postgres://... URL of a catalog shared by several coordinators (default: SQLite in the data directory); needs --secret-file',
    ).env('SEGTASKS_CATALOG'),
  )
  .addOption(
    new Option(
      '--lease-ttl <time>',
      "with --catalog: how long a task stays its coordinator's without a heartbeat before another adopts it",
    )
      .env('SEGTASKS_LEASE_TTL')
      .default('10s'),
  )
  .addOption(
    new Option('--lease-interval <time>', 'with --catalog: time between lease heartbeats and adoption scans')
      .env('SEGTASKS_LEASE_INTERVAL')
      .default('2s'),
  )
  .addOption(
    new Option('--auth <method>', 'client authentication')
      .choices(['scram', 'md5', 'password', 'trust'])
      .env('SEGTASKS_AUTH')
      .default('scram'),
  )
  .addOption(
    new Option('--tls-cert <file>', 'PEM certificate: enables TLS for clients that ask for it').env(
      'SEGTASKS_TLS_CERT',
    ),
  )
  .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('SEGTASKS_TLS_KEY'))
  .addOption(
    new Option('--max-message-bytes <n>', 'largest protocol message accepted, except COPY data')
      .env('SEGTASKS_MAX_MESSAGE_BYTES')
      .default(String(64 * 1024 * 1024)),
  )
  .addOption(
    new Option('--http-port <port>', 'HTTP port for /metrics and the web console (0 picks a free one)')
      .env('SEGTASKS_HTTP_PORT')
      .default('8433'),
  )
  .addOption(new Option('--no-http', 'no HTTP server (no metrics, no web console)').env('SEGTASKS_NO_HTTP'))
  .addOption(
    new Option('--max-connections <n>', 'max_connections: sessions at once (default 100)').env(
      'SEGTASKS_MAX_CONNECTIONS',
    ),
  )
  .addOption(
    new Option(
      '--superuser-reserved-connections <n>',
      'superuser_reserved_connections: of max_connections, slots only sysadmins may take (default 3)',
    ).env('SEGTASKS_SUPERUSER_RESERVED_CONNECTIONS'),
  )
  .addOption(
    new Option(
      '--authentication-timeout <time>',
      'authentication_timeout: a client that has not logged in by then is disconnected (default 1min)',
    ).env('SEGTASKS_AUTHENTICATION_TIMEOUT'),
  )
  .addOption(
    new Option(
      '--result-memory-limit <size>',
      'segtasks.result_memory_limit: largest result one query may build in memory (default 256MB)',
    ).env('SEGTASKS_RESULT_MEMORY_LIMIT'),
  )
  .addOption(
    new Option('--no-demo', 'do not create the demo topology and table in a new data directory').env(
      'SEGTASKS_NO_DEMO',
    ),
  )
  .addOption(
    new Option(
      '--secret-file <file>',
      'file holding the cluster secret shared with the storage agents (needed for nodes with an ADDRESS)',
    ).env('SEGTASKS_SECRET_FILE'),
  )
  .addOption(
    new Option(
      '--agent-ca <file>',
      'PEM CA certificate: the storage agents are spoken to over TLS and their certificates verified against it',
    ).env('SEGTASKS_AGENT_CA'),
  )
  .addOption(
    new Option(
      '--tls-client-cert <file>',
      'PEM certificate presented to the storage agents (for agents that require client certificates)',
    ).env('SEGTASKS_TLS_CLIENT_CERT'),
  )
  .addOption(
    new Option('--tls-client-key <file>', 'PEM private key for --tls-client-cert').env(
      'SEGTASKS_TLS_CLIENT_KEY',
    ),
  )
  .addOption(
    new Option('--agent-heartbeat-interval <time>', 'time between heartbeats to each storage agent')
      .env('SEGTASKS_AGENT_HEARTBEAT_INTERVAL')
      .default('1s'),
  )
  .addOption(
    new Option(
      '--agent-offline-after <time>',
      'a node whose agent has not answered for this long becomes OFFLINE by itself',
    )
      .env('SEGTASKS_AGENT_OFFLINE_AFTER')
      .default('5s'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level for the JSON log on stderr')
      .choices(LOG_LEVELS)
      .env('SEGTASKS_LOG_LEVEL')
      .default('info'),
  )
  .addOption(
    new Option('--log-statement <which>', 'statements to log: none, ddl, mod (ddl and data changes), all')
      .choices(LOG_STATEMENT_LEVELS)
      .env('SEGTASKS_LOG_STATEMENT')
      .default('none'),
  )
  .addOption(
    new Option(
      '--log-min-error-statement <level>',
      'log the text of failing statements at this level or above',
    )
      .choices(ERROR_STATEMENT_LEVELS)
      .env('SEGTASKS_LOG_MIN_ERROR_STATEMENT')
      .default('error'),
  )
  .addOption(
    new Option(
      '--log-min-duration-statement <ms>',
      'log statements taking at least this long (-1 off, 0 all)',
    )
      .env('SEGTASKS_LOG_MIN_DURATION_STATEMENT')
      .default('-1'),
  )
  .addOption(
    new Option('--log-connections', 'log each authorized connection').env('SEGTASKS_LOG_CONNECTIONS'),
  )
  .addOption(
    new Option('--log-disconnections', 'log the end of each session').env('SEGTASKS_LOG_DISCONNECTIONS'),
  )
  .addHelpText(
    'after',
    `
Environment:
  SEGTASKS_ADMIN_PASSWORD  password for the "admin" user created at first start
                           (without it a password is generated and printed once)

Example:
  segtasks serve --port 6000 --data-dir /tmp/x
  psql "host=127.0.0.1 port=6000 user=admin"`,
  )
  .action(async (o) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      program.error(`invalid --port "${o.port}": expected a number from 0 to 65535`);
    }
    const httpPort = Number(o.httpPort);
    if (o.http !== false && (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535)) {
      program.error(`invalid --http-port "${o.httpPort}": expected a number from 0 to 65535`);
    }
    if (!!o.tlsCert !== !!o.tlsKey) program.error('--tls-cert and --tls-key go together');
    if (o.catalog !== undefined) {
      if (!/^postgres(ql)?:\/\//.test(o.catalog))
        program.error('--catalog takes a PostgreSQL URL: postgres://user@host:port/database');
      if (!o.secretFile)
        program.error(
          '--catalog needs --secret-file: the coordinators and agents of a shared catalog share one secret',
        );
    }
    const leaseTtlMs = durationOption('--lease-ttl', o.leaseTtl);
    const leaseIntervalMs = durationOption('--lease-interval', o.leaseInterval);
    if (leaseIntervalMs * 2 > leaseTtlMs)
      program.error('--lease-interval must be at most half of --lease-ttl');
    const app = await startApp({
      host: o.host,
      port,
      dataDir: o.dataDir,
      catalogUrl: o.catalog,
      leases: { ttlMs: leaseTtlMs, intervalMs: leaseIntervalMs },
      auth: o.auth,
      tlsCert: o.tlsCert,
      tlsKey: o.tlsKey,
      maxMessageBytes: Number(o.maxMessageBytes),
      limits: {
        maxConnections: limitOption('max_connections', o.maxConnections),
        superuserReservedConnections: limitOption(
          'superuser_reserved_connections',
          o.superuserReservedConnections,
        ),
        authenticationTimeoutMs: limitOption('authentication_timeout', o.authenticationTimeout),
        resultMemoryLimitBytes: limitOption('segtasks.result_memory_limit', o.resultMemoryLimit),
      },
      adminPassword: process.env.SEGTASKS_ADMIN_PASSWORD || undefined,
      logLevel: o.logLevel,
      settings: {
        log_statement: o.logStatement,
        log_min_error_statement: o.logMinErrorStatement,
        log_min_duration_statement: o.logMinDurationStatement,
        log_connections: o.logConnections ? 'on' : 'off',
        log_disconnections: o.logDisconnections ? 'on' : 'off',
      },
      embeddedDefault: o.demo !== false,
      secret: o.secretFile ? readSecret(o.secretFile) : undefined,
      agentTls: agentClientTls(
        o.agentCa,
        { file: o.tlsClientCert, option: '--tls-client-cert' },
        { file: o.tlsClientKey, option: '--tls-client-key' },
      ),
      agentHeartbeatMs: durationOption('--agent-heartbeat-interval', o.agentHeartbeatInterval),
      agentOfflineAfterMs: durationOption('--agent-offline-after', o.agentOfflineAfter),
      httpPort: o.http === false ? undefined : httpPort,
    }).catch((err: Error & { code?: string }) => {
      const why =
        err.code === 'EADDRINUSE'
          ? `port ${port} is already in use (choose another with --port)`
          : err.message;
      process.stderr.write(`segtasks: could not start: ${why}\n`);
      process.exit(1);
    });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`received ${signal}, shutting down\n`);
      // Bounded: whatever still runs after this long (a task's write, a stuck reader) does not keep us up.
      setTimeout(() => {
        process.stderr.write('segtasks: shutdown took too long, exiting\n');
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      await app.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('agent')
  .description('start the storage agent of this host: serves its devices to the coordinators')
  .addOption(
    new Option('--listen <host:port>', 'address to listen on (port 0 picks a free one)')
      .env('SEGTASKS_AGENT_LISTEN')
      .makeOptionMandatory(),
  )
  .addOption(
    new Option('--secret-file <file>', "file holding the cluster secret (the same as the coordinators')")
      .env('SEGTASKS_SECRET_FILE')
      .makeOptionMandatory(),
  )
  .addOption(
    new Option('--data-dir <dir>', 'where the agent keeps the list of the devices it serves').env(
      'SEGTASKS_AGENT_DATA_DIR',
    ),
  )
  .addOption(
    new Option(
      '--tls-cert <file>',
      'PEM certificate: serve HTTPS (its subjectAltName must hold the --listen host)',
    ).env('SEGTASKS_AGENT_TLS_CERT'),
  )
  .addOption(new Option('--tls-key <file>', 'PEM private key for --tls-cert').env('SEGTASKS_AGENT_TLS_KEY'))
  .addOption(
    new Option(
      '--tls-ca <file>',
      'PEM CA certificate: require clients (coordinators, peer agents) to present a certificate it signed',
    ).env('SEGTASKS_AGENT_TLS_CA'),
  )
  .addOption(
    new Option(
      '--agent-ca <file>',
      "PEM CA certificate the peer agents' certificates are verified against (a rebuild's pulls)",
    ).env('SEGTASKS_AGENT_CA'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level for the JSON log on stderr')
      .choices(LOG_LEVELS)
      .env('SEGTASKS_LOG_LEVEL')
      .default('info'),
  )
  .action(async (o) => {
    const listen = (() => {
      try {
        // Port 0 (a free port, for tests) is not an address a coordinator could be given, but may be listened on.
        return /:0$/.test(o.listen) ? { host: o.listen.replace(/:0$/, ''), port: 0 } : parseAddress(o.listen);
      } catch (err) {
        return program.error(`invalid --listen: ${(err as Error).message}`);
      }
    })();
    const { host, port } = listen;
    if (!!o.tlsCert !== !!o.tlsKey) program.error('--tls-cert and --tls-key go together');
    if (o.tlsCert && !o.agentCa)
      program.error('--tls-cert needs --agent-ca: the peers this agent pulls from serve TLS too');
    if (o.tlsCa && !o.tlsCert)
      program.error('--tls-ca needs --tls-cert (client certificates are asked for over TLS)');
    const tls = o.tlsCert
      ? {
          cert: pemOption(o.tlsCert, '--tls-cert')!,
          key: pemOption(o.tlsKey, '--tls-key')!,
          clientCa: pemOption(o.tlsCa, '--tls-ca'),
        }
      : undefined;
    // Towards its peers the agent presents its own certificate (they may require one signed by their --tls-ca).
    const peerTls = agentClientTls(
      o.agentCa,
      { file: o.tlsCert, option: '--tls-cert' },
      { file: o.tlsKey, option: '--tls-key' },
    );
    const logger = pino(
      { level: o.logLevel, base: { app: 'segtasks-agent' }, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination(2),
    );
    const agent = await startAgent({
      host,
      port,
      secret: readSecret(o.secretFile),
      dataDir: o.dataDir,
      logger,
      tls,
      peerTls,
    }).catch((err: Error & { code?: string }) => {
      process.stderr.write(
        `segtasks agent: could not start: ${err.code === 'EADDRINUSE' ? `${o.listen} is in use` : err.message}\n`,
      );
      process.exit(1);
    });
    process.stdout.write(`agent listening on ${host}:${agent.port}${tls ? ' (TLS)' : ''}\n`);
    const stop = async () => {
      setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS).unref();
      await agent.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
  });

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`segtasks: ${err.message}\n`);
  process.exit(1);
});
