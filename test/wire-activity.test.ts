// pg_stat_activity shows the server's real sessions (state, query, times, client address) with PostgreSQL's
// visibility rule, and pg_cancel_backend / pg_terminate_backend signal them with PostgreSQL's checks: through
// psql (the query DBeaver's and pgAdmin's session views run) and node-postgres.
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import pg from 'pg';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;

test.before(async () => {
  server = await startTestServer();
  const admin = new pg.Client(server.pgConfig);
  await admin.connect();
  await admin.query("CREATE USER plain WITH PASSWORD 'plain-pw'");
  await admin.end();
});
test.after.always(async () => {
  await server?.stop();
});

function client(user = 'admin', application_name = 'activity-test'): pg.Client {
  const c = new pg.Client({
    ...server.pgConfig,
    ...(user === 'admin' ? {} : { user, password: `${user}-pw` }),
    application_name,
  });
  c.on('error', () => {});
  return c;
}

const psql = (sql: string) =>
  run('psql', [`${server.dsn} application_name=psql-watcher`, '-X', '-A', '-t', '-F', '|', '-c', sql]);

/** Waits until a session with this application_name is in the given state. */
async function waitForState(c: pg.Client, app: string, state: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await c.query('SELECT state FROM pg_stat_activity WHERE application_name = $1', [app]);
    if (r.rows[0]?.state === state) return;
    await sleep(20);
  }
  throw new Error(`${app} never reached ${state}`);
}

test.serial('psql sees an active and an idle-in-transaction session with their queries', async (t) => {
  const sleeper = client('admin', 'sleeper');
  const holder = client('admin', 'holder');
  await sleeper.connect();
  await holder.connect();
  const watcher = client('admin', 'watcher');
  await watcher.connect();
  try {
    const sleeping = sleeper.query('SELECT pg_sleep(30)').catch((e) => e);
    await holder.query('BEGIN');
    await holder.query('SELECT 1');
    await waitForState(watcher, 'sleeper', 'active');
    const r = await psql(
      `SELECT application_name, usename, datname, state, query, client_addr, wait_event_type, backend_type,
         query_start >= backend_start, xact_start IS NOT NULL
       FROM pg_stat_activity WHERE application_name IN ('sleeper', 'holder', 'psql-watcher') ORDER BY 1`,
    );
    t.is(r.code, 0, r.stderr);
    t.is(
      r.stdout.trim(),
      [
        'holder|admin|segtasks|idle in transaction|SELECT 1|127.0.0.1|Client|client backend|t|t',
        `psql-watcher|admin|segtasks|active|SELECT application_name, usename, datname, state, query, client_addr, wait_event_type, backend_type,
         query_start >= backend_start, xact_start IS NOT NULL
       FROM pg_stat_activity WHERE application_name IN ('sleeper', 'holder', 'psql-watcher') ORDER BY 1|127.0.0.1||client backend|t|t`,
        'sleeper|admin|segtasks|active|SELECT pg_sleep(30)|127.0.0.1||client backend|t|t',
      ].join('\n'),
    );

    // usesysid is the role's OID, as pg_roles has it.
    t.deepEqual(
      (
        await watcher.query(
          "SELECT r.rolname FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid WHERE a.application_name = 'sleeper'",
        )
      ).rows,
      [{ rolname: 'admin' }],
    );
    // pg_cancel_backend cancels the statement, not the session.
    const pid = (await watcher.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'sleeper'"))
      .rows[0].pid;
    t.deepEqual((await watcher.query('SELECT pg_cancel_backend($1) AS ok', [pid])).rows, [{ ok: true }]);
    const err = await sleeping;
    t.like(err, { code: '57014', message: 'canceling statement due to user request' });
    t.deepEqual((await sleeper.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
    await waitForState(watcher, 'sleeper', 'idle');
    await holder.query('COMMIT');
    await waitForState(watcher, 'holder', 'idle');
    t.is(
      (await watcher.query("SELECT xact_start FROM pg_stat_activity WHERE application_name = 'holder'"))
        .rows[0].xact_start,
      null,
    );
  } finally {
    await Promise.all([sleeper.end(), holder.end(), watcher.end()]);
  }
});

test.serial(
  "a plain role sees others' sessions without their queries and may signal only its own",
  async (t) => {
    const admin = client('admin', 'admin-session');
    const own = client('plain', 'own-session');
    const me = client('plain', 'plain-watcher');
    await Promise.all([admin.connect(), own.connect(), me.connect()]);
    const notices: string[] = [];
    me.on('notice', (n) => notices.push(`${n.severity}: ${n.message}`));
    try {
      const rows = (
        await me.query(
          `SELECT application_name, usename, state, query, client_addr FROM pg_stat_activity
         WHERE application_name IN ('admin-session', 'own-session') ORDER BY 1`,
        )
      ).rows;
      t.deepEqual(rows, [
        {
          application_name: 'admin-session',
          usename: 'admin',
          state: null,
          query: '<insufficient privilege>',
          client_addr: null,
        },
        {
          application_name: 'own-session',
          usename: 'plain',
          state: 'idle',
          query: '',
          client_addr: '127.0.0.1',
        },
      ]);
      const pids = Object.fromEntries(
        (await me.query('SELECT application_name, pid FROM pg_stat_activity')).rows.map((r) => [
          r.application_name,
          r.pid,
        ]),
      );
      const denied = await me.query('SELECT pg_cancel_backend($1)', [pids['admin-session']]).catch((e) => e);
      t.like(denied, { code: '42501', message: 'must be a superuser to cancel superuser query' });
      const none = await me.query('SELECT pg_terminate_backend(1)');
      t.deepEqual(none.rows, [{ pg_terminate_backend: false }]);
      t.deepEqual(notices, ['WARNING: PID 1 is not a PostgreSQL backend process']);

      // Terminating a session ends it with FATAL 57P01, as PostgreSQL's pg_terminate_backend does.
      const ended = new Promise<Error & { code?: string }>((resolve) => own.once('error', resolve));
      t.deepEqual((await me.query('SELECT pg_terminate_backend($1) AS ok', [pids['own-session']])).rows, [
        { ok: true },
      ]);
      const fatal = await ended;
      t.like(fatal, { code: '57P01', message: 'terminating connection due to administrator command' });
      for (let i = 0; i < 50; i++) {
        const n = (
          await me.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'own-session'",
          )
        ).rows[0].n;
        if (n === 0) break;
        await sleep(20);
      }
      t.is(
        (
          await me.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'own-session'",
          )
        ).rows[0].n,
        0,
      );
    } finally {
      await Promise.all([admin.end(), own.end().catch(() => {}), me.end()]);
    }
  },
);
