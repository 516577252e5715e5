// Results stream from the reader to the socket: a result far larger than segtasks.result_memory_limit is read
// through the clients' cursor mechanisms (node-postgres' Execute with a row count, psql FETCH_COUNT, pgjdbc
// setFetchSize) without materializing it, with bounded server memory; cursors hold readers only while open
// (Sync, COMMIT, CLOSE and disconnect free them); when every reader that may hold a cursor is held, a new
// streamed query is materialized within the limit instead of waiting.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import pg from 'pg';
import { type ServerProcess, startServerProcess } from './helpers/process';
import { RawClient, serialize } from './helpers/raw';
import { run, runJdbcProgram } from './helpers/run';
import { ADMIN_PASSWORD } from './helpers/server';

let server: ServerProcess;
let dataDir: string;
let config: pg.ClientConfig;

/** Small enough that any of the results below, materialized, fails with 53200. */
const LIMIT = '8MB';
/** Readers that open cursors may hold at once (the pool's default). */
const HELD = 4;
const big = (n: number) => `SELECT g, repeat('x', 100) AS pad FROM generate_series(1, ${n}) g`;

test.before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'segtasks-stream-'));
  server = await startServerProcess(dataDir, { SEGTASKS_RESULT_MEMORY_LIMIT: LIMIT, SEGTASKS_AUTH: 'trust' });
  config = {
    host: '127.0.0.1',
    port: server.port,
    user: 'admin',
    password: ADMIN_PASSWORD,
    database: 'segtasks',
  };
});
test.after.always(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function serverRss(): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Runs work while sampling the server's RSS; returns its result and the peak growth. */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; grown: number }> {
  const before = serverRss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, serverRss());
  }, 20);
  try {
    const result = await work();
    return { result, grown: Math.max(peak, serverRss()) - before };
  } finally {
    clearInterval(timer);
  }
}

const MiB = 1024 * 1024;

async function connect(): Promise<pg.Client> {
  const c = new pg.Client(config);
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** node-postgres with `rows`: Execute(100) and Flush until the portal completes, as pg-cursor does. */
function readInPages(c: pg.Client, sql: string, rows: number): Promise<{ count: number; sum: number }> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let sum = 0;
    const q = new pg.Query({ text: sql, rows } as pg.QueryConfig & { rows: number });
    q.on('row', (r: { g: number }) => {
      count++;
      sum += Number(r.g);
    });
    q.on('end', () => resolve({ count, sum }));
    q.on('error', reject);
    c.query(q);
  });
}

test.serial('node-postgres reads 1,000,000 rows 100 at a time with bounded server memory', async (t) => {
  const c = await connect();
  try {
    const n = 1_000_000;
    const { result, grown } = await peakRssGrowth(() => readInPages(c, big(n), 100));
    t.log(`server RSS grew by ${(grown / MiB).toFixed(0)} MiB`);
    t.is(result.count, n);
    t.is(result.sum, (n * (n + 1)) / 2);
    t.true(grown < 128 * MiB, `grew ${grown}`);
    // The same result read whole by a plain query streams too (PostgreSQL does not fail it either).
    const all = await c.query(big(100_000));
    t.is(all.rowCount, 100_000);
  } finally {
    await c.end();
  }
});

test.serial('psql FETCH_COUNT (DECLARE NO SCROLL CURSOR / FETCH FORWARD) reads 300,000 rows', async (t) => {
  const n = 300_000;
  const dsn = `host=127.0.0.1 port=${server.port} user=admin dbname=segtasks`;
  const { result, grown } = await peakRssGrowth(() =>
    run('psql', [dsn, '-X', '-At', '-v', 'FETCH_COUNT=1000', '-v', 'ON_ERROR_STOP=1', '-c', big(n)], {
      env: { PGPASSWORD: ADMIN_PASSWORD },
      timeoutMs: 110_000,
    }),
  );
  t.is(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  t.is(lines.length, n);
  t.is(lines[n - 1], `${n}|${'x'.repeat(100)}`);
  t.true(grown < 128 * MiB, `grew ${grown}`);
});

test.serial(
  'pgjdbc setFetchSize reads 300,000 rows, and a result set closed early frees its portal',
  async (t) => {
    const n = 300_000;
    const { result, grown } = await peakRssGrowth(() =>
      runJdbcProgram('JdbcStream.java', [
        String(server.port),
        'admin',
        ADMIN_PASSWORD,
        'segtasks',
        '1000',
        big(n),
      ]),
    );
    t.is(result.code, 0, result.stderr);
    t.is(result.out.rows, String(n));
    t.is(result.out.sum, String((n * (n + 1)) / 2));
    t.is(result.out.after, '2');
    t.true(grown < 128 * MiB, `grew ${grown}`);
    const early = await runJdbcProgram('JdbcStream.java', [
      String(server.port),
      'admin',
      ADMIN_PASSWORD,
      'segtasks',
      '500',
      big(1_000_000),
      '700',
    ]);
    t.is(early.code, 0, early.stderr);
    t.is(early.out.rows, '700');
    t.is(early.out.after, '2');
  },
);

/**
 * BEGIN, DECLARE a NO SCROLL cursor over a result larger than the limit, FETCH from it: the cursor streams
 * (materialized, it would fail with 53200) and now holds a reader.
 */
async function holdCursor(t: ExecutionContext, c: pg.Client): Promise<void> {
  await c.query('BEGIN');
  await c.query(`DECLARE c NO SCROLL CURSOR FOR ${big(1_000_000)}`);
  t.is((await c.query('FETCH 10 FROM c')).rows[9].g, 10);
}

/** A CancelRequest for the client's backend, as libpq's PQcancel sends it. */
async function cancel(c: pg.Client): Promise<void> {
  const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
  const socket = connectSocket(server.port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  socket.end(packet);
  await new Promise((r) => socket.once('close', r));
}

test.serial(
  'open cursors hold readers; the next is materialized (53200 here), and closing frees them',
  async (t) => {
    const holders = await Promise.all(Array.from({ length: HELD }, () => connect()));
    const other = await connect();
    try {
      for (const c of holders) await holdCursor(t, c);
      // Every reader that may hold a cursor is held: this one is materialized, which the limit refuses.
      await other.query('BEGIN');
      const err = await t.throwsAsync(other.query(`DECLARE d NO SCROLL CURSOR FOR ${big(1_000_000)}`));
      t.is((err as unknown as { code: string }).code, '53200');
      await other.query('ROLLBACK');
      // Other queries are served meanwhile, small and large (a result within the limit is materialized).
      t.is((await other.query('SELECT 1 AS one')).rows[0].one, 1);
      t.is((await other.query(big(20_000))).rowCount, 20_000);

      // COMMIT closes the cursor: its reader is free for the next one.
      await holders[0].query('COMMIT');
      await holdCursor(t, other);
      // CLOSE does too.
      await holders[1].query('CLOSE c');
      const third = await connect();
      await holdCursor(t, third);
      // A disconnect frees the readers of the cursors the session had open.
      await Promise.all([holders[2].end(), holders[3].end(), third.end()]);
      await new Promise((r) => setTimeout(r, 300));
      const again = await Promise.all(Array.from({ length: 3 }, () => connect()));
      for (const c of again) await holdCursor(t, c);
      await Promise.all(again.map((c) => c.end()));
    } finally {
      await Promise.all([...holders, other].map((c) => c.end().catch(() => {})));
    }
  },
);

test.serial(
  'a suspended unnamed portal ends with Sync outside a transaction, freeing its reader',
  async (t) => {
    const raw = await RawClient.login(server.port);
    try {
      // More suspended portals than readers may hold: each must be gone after its Sync.
      for (let i = 0; i < HELD + 2; i++) {
        raw.write(
          Buffer.concat([
            serialize.parse({ text: big(1_000_000) }),
            serialize.bind({}),
            serialize.execute({ rows: 5 }),
            serialize.sync(),
          ]),
        );
        const ms = await raw.until('readyForQuery', 20_000);
        t.is(ms.filter((m) => m.name === 'dataRow').length, 5);
        t.truthy(ms.find((m) => m.name === 'portalSuspended'));
        t.falsy(ms.find((m) => m.name === 'error'));
      }
      // The portal is gone: Execute of it is 34000.
      raw.write(Buffer.concat([serialize.execute({ rows: 5 }), serialize.sync()]));
      const ms = await raw.until('readyForQuery');
      t.is((ms.find((m) => m.name === 'error') as unknown as { code: string }).code, '34000');
    } finally {
      raw.end();
    }
    // A streamed query still finds a reader to hold it.
    const c = await connect();
    try {
      await holdCursor(t, c);
    } finally {
      await c.end();
    }
  },
);

test.serial('a cancel while a cursor is read stops it with 57014 and frees its reader', async (t) => {
  const c = await connect();
  try {
    await c.query('BEGIN');
    // A slow row source: each row sleeps, so the next batch is still being produced when the cancel comes.
    await c.query(
      'DECLARE s NO SCROLL CURSOR FOR SELECT g, pg_sleep(0.0002)::text FROM generate_series(1, 1000000) g',
    );
    const fetching = c.query('FETCH 100000 FROM s');
    await new Promise((r) => setTimeout(r, 300));
    await cancel(c);
    const err = await t.throwsAsync(fetching);
    t.is((err as unknown as { code: string }).code, '57014');
    await c.query('ROLLBACK');
    t.is((await c.query('SELECT 2 AS two')).rows[0].two, 2);
  } finally {
    await c.end();
  }
  // Every reader that may hold a cursor is still available.
  const holders = await Promise.all(Array.from({ length: HELD }, () => connect()));
  try {
    for (const h of holders) await holdCursor(t, h);
  } finally {
    await Promise.all(holders.map((h) => h.end()));
  }
});

test.serial('each FETCH of a streamed cursor gets its rows in its own result formats', async (t) => {
  const c = await connect();
  try {
    await c.query('BEGIN');
    await c.query(`DECLARE m NO SCROLL CURSOR FOR ${big(100_000)}`);
    // Past the rows that came with DECLARE: the next ones are produced (and encoded) by the reader per FETCH.
    t.is((await c.query('MOVE 300 FROM m')).rowCount, 300);
    const binary = await c.query({ text: 'FETCH 3 FROM m', binary: true } as pg.QueryConfig);
    t.deepEqual(
      binary.rows.map((r) => Number(r.g)),
      [301, 302, 303],
    );
    t.is(binary.rows[0].pad, 'x'.repeat(100));
    const text = await c.query('FETCH 2 FROM m');
    t.deepEqual(
      text.rows.map((r) => r.g),
      [304, 305],
    );
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
});

test.serial('a result that fails or loses its client midway frees its reader', async (t) => {
  const c = await connect();
  try {
    // More failures than readers may be held: each must have freed its reader.
    for (let i = 0; i < HELD + 2; i++) {
      const err = await t.throwsAsync(
        c.query('SELECT 1 / (g - 3000) AS q FROM generate_series(1, 100000) g'),
      );
      t.is((err as unknown as { code: string }).code, '22012');
    }
  } finally {
    await c.end();
  }
  for (let i = 0; i < HELD + 2; i++) {
    const gone = await connect();
    const stream = (gone as unknown as { connection: { stream: import('node:net').Socket } }).connection
      .stream;
    const first = new Promise<void>((resolve) => {
      const q = new pg.Query({ text: big(1_000_000) });
      q.on('row', () => resolve());
      q.on('error', () => {});
      gone.query(q);
    });
    await first;
    stream.destroy();
  }
  await new Promise((r) => setTimeout(r, 500));
  const holders = await Promise.all(Array.from({ length: HELD }, () => connect()));
  try {
    for (const h of holders) await holdCursor(t, h);
  } finally {
    await Promise.all(holders.map((h) => h.end()));
  }
});
