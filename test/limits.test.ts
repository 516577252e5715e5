// PostgreSQL's limits, with PostgreSQL's names and SQLSTATEs: statement_timeout, idle_in_transaction_session_timeout,
// authentication_timeout, max_connections with superuser_reserved_connections, the startup packet and
// pre-authentication message limits, a result memory limit; and names truncated to 63 bytes.
import test from 'ava';
import pg from 'pg';
import { type BackendMessage, RawClient, serialize } from './helpers/raw';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({
    auth: 'trust',
    limits: { resultMemoryLimitBytes: 4 * 1024 * 1024 },
  });
});
test.after.always(async () => {
  await server?.stop();
});

const config = (extra: Partial<pg.ClientConfig> = {}): pg.ClientConfig => ({ ...server.pgConfig, ...extra });

async function withClient<T>(
  fn: (c: pg.Client) => Promise<T>,
  extra: Partial<pg.ClientConfig> = {},
): Promise<T> {
  const c = new pg.Client(config(extra));
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

const errorOf = (ms: BackendMessage[]) =>
  ms.find((m) => m.name === 'error') as
    | (BackendMessage & { code: string; message: string; severity: string })
    | undefined;

test('SET statement_timeout stops pg_sleep(3) at 1 s with 57014, and SHOW spells it as PostgreSQL does', async (t) => {
  await withClient(async (c) => {
    await c.query("SET statement_timeout = '1s'");
    t.is((await c.query('SHOW statement_timeout')).rows[0].statement_timeout, '1s');
    const t0 = Date.now();
    const err = await t.throwsAsync(c.query('SELECT pg_sleep(3)'));
    const took = Date.now() - t0;
    t.is((err as unknown as { code: string }).code, '57014');
    t.is(err?.message, 'canceling statement due to statement timeout');
    t.true(took >= 900 && took < 2800, `took ${took} ms`);
    // The session goes on, and a statement shorter than the timeout runs.
    t.is((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    await c.query('SET statement_timeout = 0');
    t.is((await c.query('SHOW statement_timeout')).rows[0].statement_timeout, '0');
  });
});

test('the startup option -c statement_timeout=1000 applies to the session', async (t) => {
  await withClient(
    async (c) => {
      t.is((await c.query('SHOW statement_timeout')).rows[0].statement_timeout, '1s');
      const t0 = Date.now();
      const err = await t.throwsAsync(c.query('SELECT pg_sleep(3)'));
      t.is((err as unknown as { code: string }).code, '57014');
      t.true(Date.now() - t0 < 2000);
    },
    { options: '-c statement_timeout=1000' },
  );
});

test('statement_timeout applies to extended-protocol queries too', async (t) => {
  await withClient(async (c) => {
    await c.query('SET statement_timeout = 500');
    const err = await t.throwsAsync(c.query({ text: 'SELECT pg_sleep($1::float8)', values: [3] }));
    t.is((err as unknown as { code: string }).code, '57014');
  });
});

test('limit settings are checked: bad values are 22023, server-wide ones cannot be SET (55P02)', async (t) => {
  await withClient(async (c) => {
    const bad = await t.throwsAsync(c.query("SET statement_timeout = 'soon'"));
    t.is((bad as unknown as { code: string }).code, '22023');
    t.is(bad?.message, 'invalid value for parameter "statement_timeout": "soon"');
    await c.query('ROLLBACK').catch(() => {});
    const range = await t.throwsAsync(c.query('SET statement_timeout = -5'));
    t.is((range as unknown as { code: string }).code, '22023');
    const fixed = await t.throwsAsync(c.query('SET max_connections = 5'));
    t.is((fixed as unknown as { code: string }).code, '55P02');
    t.is(fixed?.message, 'parameter "max_connections" cannot be changed without restarting the server');
    const sighup = await t.throwsAsync(c.query("SET authentication_timeout = '5s'"));
    t.is((sighup as unknown as { code: string }).code, '55P02');
    const shown = async (name: string) => Object.values((await c.query(`SHOW ${name}`)).rows[0])[0];
    t.is(await shown('max_connections'), '100');
    t.is(await shown('superuser_reserved_connections'), '3');
    t.is(await shown('authentication_timeout'), '1min');
    t.is(await shown('segtasks.result_memory_limit'), '4MB');
  });
});

test('a bad limit in the startup packet ends the connection with FATAL 22023', async (t) => {
  const c = await RawClient.open(server.port);
  c.write(serialize.startup({ user: 'admin', database: 'segtasks', options: '-c statement_timeout=never' }));
  const err = errorOf(await c.waitClosed());
  t.is(err?.severity, 'FATAL');
  t.is(err?.code, '22023');
});

test('idle_in_transaction_session_timeout ends an idle transaction with FATAL 25P03', async (t) => {
  const c = await RawClient.login(server.port);
  c.write(serialize.query('SET idle_in_transaction_session_timeout = 300'));
  await c.until('readyForQuery');
  // Idle outside a transaction: nothing happens.
  await new Promise((r) => setTimeout(r, 500));
  t.false(c.closed);
  c.write(serialize.query('BEGIN'));
  await c.until('readyForQuery');
  const t0 = Date.now();
  const err = errorOf(await c.waitClosed(3000));
  t.true(c.closed);
  t.is(err?.severity, 'FATAL');
  t.is(err?.code, '25P03');
  t.is(err?.message, 'terminating connection due to idle-in-transaction timeout');
  t.true(Date.now() - t0 < 1500);
});

test('a materialized result larger than segtasks.result_memory_limit fails with 53200, and the session goes on', async (t) => {
  await withClient(async (c) => {
    // A scrollable cursor keeps its rows, so they are materialized (a plain query streams them).
    await c.query('BEGIN');
    const err = await t.throwsAsync(
      c.query("DECLARE c SCROLL CURSOR FOR SELECT repeat('x', 1000) FROM generate_series(1, 10000)"),
    );
    t.is((err as unknown as { code: string }).code, '53200');
    t.is(err?.message, 'out of memory');
    await c.query('ROLLBACK');
    t.is((await c.query("SELECT repeat('x', 1000) AS r FROM generate_series(1, 100)")).rowCount, 100);
    // The same result read once, forward, is streamed within the limit.
    t.is((await c.query("SELECT repeat('x', 1000) FROM generate_series(1, 10000)")).rowCount, 10000);
  });
});

test('application_name and other names are truncated to 63 bytes, as NAMEDATALEN - 1', async (t) => {
  const c = await RawClient.open(server.port);
  c.write(serialize.startup({ user: 'admin', database: 'segtasks', application_name: 'é'.repeat(4000) }));
  const ms = await c.until('readyForQuery');
  const app = ms.find(
    (m) =>
      m.name === 'parameterStatus' &&
      (m as unknown as { parameterName: string }).parameterName === 'application_name',
  ) as unknown as { parameterValue: string };
  t.is(app.parameterValue, 'é'.repeat(31));
  t.true(Buffer.byteLength(app.parameterValue) <= 63);
  c.write(serialize.query(`SET application_name = '${'a'.repeat(60_000)}'`));
  const set = await c.until('readyForQuery');
  const reported = set.find((m) => m.name === 'parameterStatus') as unknown as { parameterValue: string };
  t.is(reported.parameterValue, 'a'.repeat(63));
  c.end();
});

// ---------- server-wide limits: each with a server of its own ----------

test.serial(
  'max_connections with superuser_reserved_connections: 53300 with PostgreSQL 15 wording',
  async (t) => {
    const s = await startTestServer({
      limits: { maxConnections: 4, superuserReservedConnections: 2 },
    });
    const clients: pg.Client[] = [];
    const open = async (user: string, password: string) => {
      const c = new pg.Client({ ...s.pgConfig, user, password });
      c.on('error', () => {});
      await c.connect();
      clients.push(c);
      return c;
    };
    try {
      const admin = await open('admin', ADMIN_PASSWORD);
      await admin.query("CREATE USER plain WITH PASSWORD 'plain-pw'");
      await open('plain', 'plain-pw');
      const reserved = await t.throwsAsync(open('plain', 'plain-pw'));
      t.is((reserved as unknown as { code: string }).code, '53300');
      t.is(
        reserved?.message,
        'remaining connection slots are reserved for non-replication superuser connections',
      );
      await open('admin', ADMIN_PASSWORD);
      await open('admin', ADMIN_PASSWORD);
      const full = await t.throwsAsync(open('admin', ADMIN_PASSWORD));
      t.is((full as unknown as { code: string }).code, '53300');
      t.is(full?.message, 'sorry, too many clients already');
      // A slot freed is a slot taken again.
      await clients[0].end();
      clients.shift();
      await new Promise((r) => setTimeout(r, 100));
      await t.notThrowsAsync(open('admin', ADMIN_PASSWORD));
    } finally {
      for (const c of clients) await c.end().catch(() => {});
      await s.stop();
    }
  },
);

test.serial(
  'idle unauthenticated sockets are bounded and leave at authentication_timeout; beyond, 53300 at once',
  async (t) => {
    const s = await startTestServer({ limits: { maxConnections: 5, authenticationTimeoutMs: 1000 } });
    const idle: RawClient[] = [];
    try {
      for (let i = 0; i < 5; i++) idle.push(await RawClient.open(s.port));
      // The sixth is answered, not dropped without a word.
      const extra = await RawClient.open(s.port);
      const answer = await extra.waitClosed(2000);
      t.is(errorOf(answer)?.code, '53300');
      t.is(errorOf(answer)?.message, 'sorry, too many clients already');
      // After authentication_timeout the idle ones are gone and a login succeeds.
      const t0 = Date.now();
      for (const c of idle) await c.waitClosed(3000);
      t.true(idle.every((c) => c.closed));
      t.true(Date.now() - t0 < 2500, `closed after ${Date.now() - t0} ms`);
      const c = new pg.Client(s.pgConfig);
      await c.connect();
      t.is((await c.query('SELECT 1 AS one')).rows[0].one, 1);
      t.is((await c.query('SHOW authentication_timeout')).rows[0].authentication_timeout, '1s');
      await c.end();
    } finally {
      for (const c of idle) c.end();
      await s.stop();
    }
  },
);

test.serial(
  'before authentication messages are held to 8 KiB and the startup packet to 10000 bytes',
  async (t) => {
    const s = await startTestServer();
    try {
      const rssBefore = process.memoryUsage().rss;
      const sockets: RawClient[] = [];
      for (let i = 0; i < 4; i++) {
        const c = await RawClient.open(s.port);
        c.write(serialize.startup({ user: 'admin', database: 'segtasks' }));
        await c.until('authenticationSASL');
        // Where the SASL response belongs: a CopyData that announces 250 MiB, then 16 MiB of it.
        const header = Buffer.alloc(5);
        header[0] = 0x64;
        header.writeInt32BE(250 * 1024 * 1024, 1);
        c.write(header);
        c.write(Buffer.alloc(16 * 1024 * 1024));
        sockets.push(c);
      }
      for (const c of sockets) {
        const err = errorOf(await c.waitClosed(5000));
        t.true(c.closed);
        t.is(err?.code, '08P01');
        t.regex(String(err?.message), /exceeds the limit of 8192 bytes/);
      }
      t.log(
        `RSS grew by ${Math.round((process.memoryUsage().rss - rssBefore) / 1e6)} MB (client buffers included)`,
      );
      const big = await RawClient.open(s.port);
      const packet = Buffer.alloc(8);
      packet.writeInt32BE(10_001, 0);
      packet.writeInt32BE(196608, 4);
      big.write(packet);
      const err = errorOf(await big.waitClosed(3000));
      t.is(err?.code, '08P01');
      t.regex(String(err?.message), /invalid startup packet length 10001/);
    } finally {
      await s.stop();
    }
  },
);
