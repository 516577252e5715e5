// User queries on a catalog in PostgreSQL 15 (a real one, started in a temporary directory): they run in
// PostgreSQL as the reader role, through PostgresReaders. A catalog filled by the catalog modules on
// PostgreSQL is copied into a SQLite catalog, and every sys relation must read the same through both engines
// (RowDescription, ParameterDescription and the DataRow bytes); a large result streams a batch at a time from
// a live portal; errors keep PostgreSQL's SQLSTATE; the reader role reads the sys views and nothing else, and
// writes nothing; binary results decode to the text results' values; and a client of the wire server reads
// it all through the router.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import pino from 'pino';
import { type RealPostgres, startRealPostgres } from '../bench/common';
import { openCatalog, type SqliteCatalog } from '../catalog/db';
import { openPostgresCatalog, type PostgresCatalog } from '../catalog/postgres';
import { READER_ROLE, readerPassword } from '../catalog/reader-schema';
import { ReaderPool } from '../catalog/readers/pool';
import { PostgresReaders } from '../catalog/readers/postgres-readers';
import type { SessionSnapshot, StreamedBatch } from '../catalog/readers/reader-engine';
import type { OpenedRun, Readers } from '../catalog/readers/readers';
import { ScheduleCatalog } from '../catalog/schedules';
import { sysRelations } from '../catalog/schema';
import { StorageCatalog } from '../catalog/storage';
import { TaskCatalog } from '../catalog/tasks';
import { Users } from '../catalog/users';
import { checkPassword } from '../pg/auth';
import { SqlError } from '../pg/errors';
import { Router } from '../src/sql/router';
import { WireServer } from '../wire/server';
import { freePort } from './oracle/mirror';

const SECRET = Buffer.from('the cluster secret of this test');
let real: RealPostgres;
let dir: string;
let onPg: PostgresCatalog;
let lite: SqliteCatalog;
let pgReaders: PostgresReaders;
let liteReaders: ReaderPool;
let port: number;

const session = (settings: [string, string][] = []): SessionSnapshot => ({
  user: 'admin',
  database: 'segtasks',
  pid: 1,
  settingsVersion: 1,
  settings: [['TimeZone', 'UTC'], ['DateStyle', 'ISO, MDY'], ['IntervalStyle', 'postgres'], ...settings],
});

/** A few tasks, subtasks, nodes, devices, a table with segments, a schedule: through the catalog modules. */
async function fill(catalog: PostgresCatalog): Promise<void> {
  const storage = new StorageCatalog(catalog);
  const tasks = new TaskCatalog(catalog);
  await new Users(catalog).bootstrapAdmin('pw');
  await storage.createStorageSpace('s', 2, 1, 4096);
  await storage.createCluster('c', 's');
  for (let n = 1; n <= 3; n++)
    await storage.createNode(`n${n}`, 'c', [{ path: `/d${n}`, capacity: 1e9 }], n === 3 ? 'h:1' : undefined);
  const devices = await storage.devices();
  const table = await storage.createTable('t', 'c', '(line text)', 'admin');
  const first = await storage.reserveGroupIds(2);
  await storage.addGroups(
    table,
    'c',
    2,
    1,
    [0, 1].map((g) => ({
      id: first + g,
      seq: g,
      data_bytes: 8192,
      shard_bytes: 4096,
      segments: [0, 1, 2].map((p) => ({
        storage_id: `00000000-0000-4000-8000-${String(g * 3 + p).padStart(12, '0')}`,
        position: p,
        is_parity: p === 2,
        node_name: `n${p + 1}`,
        device_id: devices[p].id,
        path: `/d${p + 1}/segments/${g}-${p}.seg`,
        size_bytes: 4160,
        checksum: `c${g}${p}`,
      })),
    })),
  );
  await storage.markCheckedRange(devices[0].id, [[1, 6]], '2026-01-02 00:00:00.25+00');
  for (const [name, n] of [
    ['heal', 2],
    [null, 1],
  ] as const) {
    const id = await tasks.createTask(
      {
        name,
        type: 'rebuild',
        location_type: 'SYSTEM',
        location_name: null,
        options: { a: [1, 'x'] },
        created_by: 'admin',
      },
      Array.from({ length: n }, (_, i) => ({
        node_name: `n${i + 1}`,
        cluster_name: 'c',
        device_id: null,
        description: `part ${i}`,
        bytes_total: 1000 * (i + 1),
        segments_total: 3,
        plan: [first + i],
      })),
    );
    await tasks.setTaskStatus(id, 'RUNNING');
    const [sub] = await tasks.subtasks(id);
    await tasks.writeProgress(
      new Map([
        [
          sub.id,
          {
            task_id: id,
            task_type: 'rebuild',
            bytes_total: 1000,
            segments_total: 3,
            bytes_done: 400,
            segments_done: 1,
            segments_failed: 0,
            bytes_per_sec: 12.5,
            checkpoint: {
              position: 1,
              progress: { bytes_done: 400, segments_done: 1, segments_failed: 0 },
              results: [
                {
                  subtask_id: sub.id,
                  node_name: 'n1',
                  device_id: null,
                  table_id: table.id,
                  segment_group_id: first,
                  storage_id: null,
                  result: 'REBUILT',
                  detail: 'one',
                },
              ],
              apply: [],
            },
          },
        ],
      ]),
    );
  }
  await new ScheduleCatalog(catalog).insert({
    name: 'nightly',
    definition: 'CREATE TASK TYPE check_disk',
    interval: '1 day',
    next_run: '2026-01-01 01:00:00+00',
    created_by: 'admin',
    created_at: '2026-01-01 00:00:00+00',
  });
}

/** Every row of the PostgreSQL catalog's tables into the SQLite catalog (its rowids included). */
async function copyInto(from: PostgresCatalog, to: SqliteCatalog): Promise<void> {
  const tables = to.db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'knex%' AND name NOT LIKE 'sqlite%'",
    )
    .pluck()
    .all() as string[];
  to.db.pragma('foreign_keys = OFF');
  for (const table of tables) {
    const liteCols = (to.db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map(
      (c) => c.name,
    );
    const rows = await from.sql.all<Record<string, unknown>>(`SELECT * FROM "${table}"`);
    for (const row of rows) {
      const cols = liteCols.filter((c) => c in row).concat('rowid' in row ? ['rowid'] : []);
      const value = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v);
      to.db
        .prepare(
          `INSERT INTO "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        )
        .run(...cols.map((c) => value(row[c])));
    }
  }
}

test.before(async () => {
  port = await freePort();
  real = startRealPostgres(port);
  dir = mkdtempSync(join(tmpdir(), 'segtasks-pgread-'));
  onPg = await openPostgresCatalog(await real.createDatabase('readers'), { readerSecret: SECRET });
  await fill(onPg);
  lite = await openCatalog(join(dir, 'lite'));
  await copyInto(onPg, lite);
  pgReaders = new PostgresReaders({ url: real.url('readers'), secret: SECRET, maxConnections: 6 });
  liteReaders = new ReaderPool({
    catalogPath: lite.path,
    serverVersion: '15.0',
    startedAt: '2026-12-01 00:00:00+00',
  });
  await Promise.all([pgReaders.ready(), liteReaders.ready()]);
});

test.after.always(async () => {
  await pgReaders?.close();
  await liteReaders?.close();
  await lite?.close();
  await onPg?.close();
  real?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Values of a result taken whole (PgText: PostgreSQL's text) as strings. */
const texts = (rows: unknown[][]) => rows.map((r) => r.map((v) => (v === null ? null : String(v))));

/** The values of a DataRow message, as text (null for NULL). */
function dataRowValues(msg: Buffer): (string | null)[] {
  const n = msg.readUInt16BE(5);
  const out: (string | null)[] = [];
  let at = 7;
  for (let i = 0; i < n; i++) {
    const len = msg.readInt32BE(at);
    at += 4;
    if (len < 0) out.push(null);
    else {
      out.push(msg.subarray(at, at + len).toString('utf8'));
      at += len;
    }
  }
  return out;
}

/** The DataRow messages of a batch. */
function dataRows(batch: StreamedBatch): Buffer[] {
  const e = batch.encoded!;
  const out: Buffer[] = [];
  let at = 0;
  for (const end of e.ends) {
    out.push(Buffer.from(e.bytes.subarray(at, end)));
    at = end;
  }
  return out;
}

/** A query's fields and every DataRow message, streamed in the given formats. */
async function readAll(readers: Readers, sql: string, formats: number[] = [], params: unknown[] = []) {
  const opened: OpenedRun = await readers.open(sql, [], params, session(), undefined, false, formats);
  const rows = dataRows(opened);
  let batches = 1;
  for (let done = opened.done; !done; batches++) {
    const b = await opened.cursor!.next(2000, undefined, formats);
    rows.push(...dataRows(b));
    done = b.done;
  }
  return { fields: opened.fields, rows, batches };
}

test('every sys view reads the same rows, fields and types on PostgreSQL as on SQLite', async (t) => {
  for (const name of sysRelations) {
    const sql = `SELECT * FROM sys.${name} ORDER BY 1`;
    const [theirs, ours] = await Promise.all([readAll(liteReaders, sql), readAll(pgReaders, sql)]);
    t.true(theirs.rows.length > 0, `${name} has rows to compare`);
    t.deepEqual(ours.fields, theirs.fields, `fields of sys.${name}`);
    t.deepEqual(ours.rows.map(dataRowValues), theirs.rows.map(dataRowValues), `rows of sys.${name}`);
    t.deepEqual(
      await pgReaders.describe(sql, []),
      await liteReaders.describe(sql, []),
      `describe sys.${name}`,
    );
  }
});

test('the views are what pg_attribute says, in the order and with the types of the SQLite mode', async (t) => {
  for (const name of sysRelations) {
    const cols = await onPg.sql.all<{ attname: string; atttypid: number }>(
      `SELECT attname, atttypid::int4 AS atttypid FROM pg_attribute
       WHERE attrelid = ('sys.' || ?)::regclass AND attnum > 0 ORDER BY attnum`,
      [name],
    );
    const lite = await liteReaders.describe(`SELECT * FROM sys.${name}`, []);
    t.deepEqual(
      cols.map((c) => ({ name: c.attname, typeOid: c.atttypid })),
      lite.fields,
      name,
    );
  }
});

test('the sys views have the comments the SQLite mode shows', async (t) => {
  const sql = `SELECT obj_description('sys.tasks'::regclass, 'pg_class') AS t,
    col_description('sys.tasks'::regclass, 7) AS c, col_description('sys.tasks'::regclass, 1) AS none`;
  const [ours, theirs] = await Promise.all([readAll(pgReaders, sql), readAll(liteReaders, sql)]);
  t.deepEqual(ours.rows.map(dataRowValues), theirs.rows.map(dataRowValues));
  t.regex(dataRowValues(ours.rows[0])[0]!, /Distributed tasks/);
  t.regex(dataRowValues(ours.rows[0])[1]!, /PENDING, RUNNING/);
});

test('describe gives the parameter types PostgreSQL infers, as the SQLite mode does', async (t) => {
  const sql =
    'SELECT name, bytes_total FROM sys.tasks WHERE bytes_total > $1 AND status = $2 AND created_at < $3';
  const ours = await pgReaders.describe(sql, []);
  t.deepEqual(ours, await liteReaders.describe(sql, []));
  t.deepEqual(ours.paramTypes, [20, 25, 1184]);
  const run = await pgReaders.run(sql, [], [-1, 'RUNNING', '2100-01-01 00:00:00+00'], session());
  t.is(run.rows.length, 2);
  t.deepEqual(await pgReaders.describe('SELECT', []), { paramTypes: [], fields: [] });
});

test.serial('a 100,000-row result streams a batch at a time from a live portal', async (t) => {
  const sql = "SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 100000) g";
  const heapBefore = process.memoryUsage().heapUsed;
  const started = Date.now();
  const opened = await pgReaders.open(sql, [], [], session(), undefined, false, []);
  t.true(Date.now() - started < 5000);
  t.false(opened.done);
  t.true(opened.encoded!.ends.length <= 250, 'a small first batch');
  t.is(pgReaders.stats().cursors, 1);
  // The portal is open in PostgreSQL, in a read-only transaction of the reader role.
  const backend = await onPg.sql.all<{ state: string }>(
    `SELECT state FROM pg_stat_activity WHERE usename = ? AND query LIKE '%generate_series%'`,
    [READER_ROLE],
  );
  t.deepEqual(
    backend.map((b) => b.state),
    ['idle in transaction'],
  );
  let count = opened.encoded!.ends.length;
  let maxBatch = 0;
  let maxHeap = 0;
  let last = '';
  for (let done = false; !done; ) {
    const b = await opened.cursor!.next(2000, undefined, []);
    const rows = dataRows(b);
    maxBatch = Math.max(maxBatch, rows.length);
    maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed - heapBefore);
    count += rows.length;
    if (rows.length) last = dataRowValues(rows[rows.length - 1])[0]!;
    done = b.done;
  }
  t.is(count, 100_000);
  t.is(last, '100000');
  t.true(maxBatch <= 2000);
  // 100 MB of rows went through; the heap held a few batches at most.
  t.true(maxHeap < 60 * 1024 * 1024, `heap grew by ${maxHeap} bytes`);
  t.is(pgReaders.stats().cursors, 0);
});

test.serial('a cursor closed early frees its connection and ends its transaction', async (t) => {
  const opened = await pgReaders.open(
    'SELECT g FROM generate_series(1, 100000) g',
    [],
    [],
    session(),
    undefined,
    false,
    null,
  );
  t.is(opened.rows.length, 250);
  t.deepEqual(texts(opened.rows)[0], ['1']);
  opened.cursor!.close();
  await t.throwsAsync(opened.cursor!.next(10), { message: /no longer open/ });
  t.is(pgReaders.stats().cursors, 0);
  const inTransaction = () =>
    onPg.sql.all(
      "SELECT 1 FROM pg_stat_activity WHERE usename = ? AND state = 'idle in transaction' AND query LIKE '%generate_series%'",
      [READER_ROLE],
    );
  for (let i = 0; i < 50 && (await inTransaction()).length; i++) await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(await inTransaction(), []);
});

test('run returns every row as PostgreSQL printed it, with the session settings of the client', async (t) => {
  const sql = `SELECT created_at, 0.1::float8 + 0.2 AS f, 1e-7::float8 AS e, interval '1 day 2 hours' AS i,
    '\\x00ff'::bytea AS b FROM sys.tasks WHERE name = 'heal'`;
  const iso = await pgReaders.run(sql, [], [], session());
  const created = texts(iso.rows)[0][0]!;
  t.regex(created, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\+00$/);
  t.deepEqual(texts(iso.rows)[0].slice(1), ['0.30000000000000004', '1e-07', '1 day 02:00:00', '\\x00ff']);
  const other = await pgReaders.run(
    sql,
    [],
    [],
    session([
      ['TimeZone', 'America/New_York'],
      ['DateStyle', 'SQL, DMY'],
      ['IntervalStyle', 'iso_8601'],
      ['extra_float_digits', '0'],
      ['bytea_output', 'escape'],
    ]),
  );
  t.regex(texts(other.rows)[0][0]!, /^\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d(\.\d+)? E[SD]T$/);
  t.deepEqual(texts(other.rows)[0].slice(1), ['0.3', '1e-07', 'P1DT2H', '\\000\\377']);
  // The settings were the statement's: the next one has the reader's defaults again.
  t.deepEqual(
    texts((await pgReaders.run('SELECT current_setting($1)', [25], ['DateStyle'], session([]))).rows),
    [['ISO, MDY']],
  );
});

test("a client's statement_timeout stops the statement in PostgreSQL", async (t) => {
  const err = await t.throwsAsync(
    pgReaders.run('SELECT pg_sleep(10)', [], [], session([['statement_timeout', '200']])),
  );
  t.is((err as { code?: string }).code, '57014');
});

test('a cancelled statement is cancelled in PostgreSQL', async (t) => {
  const abort = new AbortController();
  setTimeout(() => abort.abort(new SqlError('57014', 'canceling statement due to user request')), 300);
  const started = Date.now();
  const err = await t.throwsAsync(pgReaders.run('SELECT pg_sleep(30)', [], [], session(), abort.signal));
  t.is((err as { code?: string }).code, '57014');
  t.true(Date.now() - started < 10_000);
  // The backend stops sleeping: PostgreSQL got the CancelRequest.
  for (let i = 0; i < 50; i++) {
    const busy = await onPg.sql.all(
      "SELECT 1 FROM pg_stat_activity WHERE usename = ? AND state = 'active' AND query LIKE '%pg_sleep(30)%'",
      [READER_ROLE],
    );
    if (!busy.length) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.deepEqual(
    await onPg.sql.all(
      "SELECT 1 FROM pg_stat_activity WHERE usename = ? AND state = 'active' AND query LIKE '%pg_sleep(30)%'",
      [READER_ROLE],
    ),
    [],
  );
});

test("PostgreSQL's warnings come back as the statement's warnings", async (t) => {
  const r = await pgReaders.run('SELECT pg_cancel_backend(1)', [], [], session());
  t.deepEqual(texts(r.rows), [['f']]);
  t.deepEqual(r.warnings, ['PID 1 is not a PostgreSQL backend process']);
});

test("PostgreSQL's errors keep their SQLSTATE, message and position", async (t) => {
  const cases: [string, string, number | undefined][] = [
    ['SELECT 1/0', '22012', undefined],
    ['SELECT * FROM sys.nope', '42P01', 15],
    ['SELECT nope FROM sys.tasks', '42703', 8],
    ['SELECT FROM WHERE', '42601', 13],
  ];
  for (const [sql, code, position] of cases) {
    const err = (await t.throwsAsync(pgReaders.run(sql, [], [], session()))) as unknown as {
      code: string;
      extra: { position?: number };
    };
    t.is(err.code, code, sql);
    t.is(err.extra.position, position, sql);
    // describe reports it too (what Parse would).
    if (code !== '22012')
      t.is(((await t.throwsAsync(pgReaders.describe(sql, []))) as unknown as { code: string }).code, code);
  }
});

test('the reader role reads the sys views and nothing else, and writes nothing', async (t) => {
  const code = async (sql: string) =>
    pgReaders.run(sql, [], [], session()).then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );
  t.is(await code('SELECT * FROM public.users'), '42501');
  t.is(await code('SELECT * FROM public.task_leases'), '42501');
  t.is(await code('SELECT * FROM public.tasks'), '42501');
  // Unqualified names find pg_catalog's relations, never the catalog's tables (as on SQLite: 42P01).
  t.is(await code('SELECT * FROM users'), '42P01');
  t.is(await code('SELECT * FROM tasks'), '42P01');
  // Writes that reach the readers (the router sends them every statement that begins as a query) are refused
  // by PostgreSQL: a write to a view by the role's missing privilege (42501, as the SQLite readers refuse
  // writes), one that needs no privilege by the read-only transaction (25006).
  t.is(await code('WITH d AS (DELETE FROM sys.tasks RETURNING 1) SELECT * FROM d'), '42501');
  t.is(await code("WITH d AS (UPDATE sys.nodes SET status = 'x' RETURNING 1) SELECT * FROM d"), '42501');
  t.is(await code('SELECT * INTO stolen FROM sys.tasks'), '25006');
  t.is(await code("SELECT nextval('public.segment_group_ids')"), '42501');
  t.is(await code("SELECT set_config('transaction_read_only', 'off', true)"), '25001');
  t.deepEqual(texts((await pgReaders.run('SELECT current_user, session_user', [], [], session())).rows), [
    [READER_ROLE, READER_ROLE],
  ]);
  // What a statement changes in its session is gone for the next one (the connection is cleaned).
  for (let i = 0; i < 8; i++)
    await pgReaders.run(
      "SELECT set_config('search_path', 'public', false), set_config('default_transaction_read_only', 'off', false), pg_advisory_lock(42)",
      [],
      [],
      session(),
    );
  for (let i = 0; i < 8; i++) {
    const r = await pgReaders.run(
      "SELECT current_setting('search_path'), current_setting('default_transaction_read_only')",
      [],
      [],
      session(),
    );
    t.deepEqual(texts(r.rows), [['pg_catalog', 'on']]);
  }
  t.deepEqual(await onPg.sql.all("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = 42"), []);
  // The role's password is the one derived from the secret, stored as a SCRAM verifier.
  const stored = await onPg.sql.value<string>('SELECT rolpassword FROM pg_authid WHERE rolname = ?', [
    READER_ROLE,
  ]);
  t.regex(stored!, /^SCRAM-SHA-256\$/);
  t.true(checkPassword(READER_ROLE, readerPassword(SECRET), { scramVerifier: stored!, md5Hash: null }));
  t.false(
    checkPassword(READER_ROLE, readerPassword(Buffer.from('other')), {
      scramVerifier: stored!,
      md5Hash: null,
    }),
  );
});

test('setting the reader schema up again, from several coordinators at once, changes nothing', async (t) => {
  const again = await Promise.all(
    [1, 2, 3].map(() => openPostgresCatalog(real.url('readers'), { readerSecret: SECRET })),
  );
  await Promise.all(again.map((c) => c.close()));
  const ours = await readAll(pgReaders, 'SELECT * FROM sys.segments ORDER BY 1');
  const theirs = await readAll(liteReaders, 'SELECT * FROM sys.segments ORDER BY 1');
  t.deepEqual(ours.rows.map(dataRowValues), theirs.rows.map(dataRowValues));
  t.deepEqual(
    await onPg.sql.column(
      "SELECT relkind FROM pg_class WHERE relnamespace = 'sys'::regnamespace ORDER BY relname",
    ),
    sysRelations.map(() => 'v'),
  );
});

/** Binary DataRow values by type, as text would print them (UTC, ISO). */
function fromBinary(buf: Buffer, oid: number): string {
  switch (oid) {
    case 20:
      return String(buf.readBigInt64BE(0));
    case 16:
      return buf[0] ? 't' : 'f';
    case 1184: {
      const micros = buf.readBigInt64BE(0) + BigInt(Date.UTC(2000, 0, 1)) * 1000n;
      const d = new Date(Number(micros / 1000n));
      const frac = micros % 1_000_000n;
      const base = d.toISOString().slice(0, 19).replace('T', ' ');
      return `${base}${frac ? `.${String(frac).padStart(6, '0').replace(/0+$/, '')}` : ''}+00`;
    }
    default:
      return buf.toString('utf8');
  }
}

function rawValues(msg: Buffer): (Buffer | null)[] {
  const n = msg.readUInt16BE(5);
  const out: (Buffer | null)[] = [];
  let at = 7;
  for (let i = 0; i < n; i++) {
    const len = msg.readInt32BE(at);
    at += 4;
    out.push(len < 0 ? null : msg.subarray(at, (at += len)));
  }
  return out;
}

test('binary results decode to the values of the text results', async (t) => {
  const sql =
    'SELECT bytes_total, name, created_at, started_at IS NOT NULL AS started, segments_total FROM sys.tasks ORDER BY created_at';
  const text = await readAll(pgReaders, sql, []);
  const binary = await readAll(pgReaders, sql, [1]);
  const mixed = await readAll(pgReaders, sql, [1, 0, 1, 0, 1]);
  const oids = text.fields.map((f) => f.typeOid);
  t.deepEqual(oids, [20, 25, 1184, 16, 20]);
  const decode = (rows: Buffer[], formats: number[]) =>
    rows.map((r) =>
      rawValues(r).map((v, i) =>
        v === null ? null : (formats[i] ?? formats[0]) ? fromBinary(v, oids[i]) : v.toString(),
      ),
    );
  t.true(text.rows.length >= 2);
  t.deepEqual(decode(binary.rows, [1]), text.rows.map(dataRowValues));
  t.deepEqual(decode(mixed.rows, [1, 0, 1, 0, 1]), text.rows.map(dataRowValues));
  // A type whose binary form cannot be made from its text here is an error, never text bytes.
  const noBinary = (await t.throwsAsync(readAll(pgReaders, "SELECT '(1,2)'::point", [1]))) as unknown as {
    code: string;
  };
  t.is(noBinary.code, '42883');
  const opened = pgReaders.open(sql, [], [], session([['DateStyle', 'SQL, DMY']]), undefined, false, [1]);
  t.is(((await t.throwsAsync(opened)) as unknown as { code: string }).code, '0A000');
});

test('a client of the wire server reads the sys views through the router and PostgreSQL', async (t) => {
  const users = new Users(onPg);
  const router = new Router(pgReaders, users);
  const wire = new WireServer({
    host: '127.0.0.1',
    port: 0,
    handler: router,
    auth: 'scram',
    serverName: 'segtasks test',
    logger: pino({ level: 'silent' }),
  });
  const addr = await wire.listen();
  const client = new pg.Client({
    host: '127.0.0.1',
    port: addr.port,
    user: 'admin',
    password: 'pw',
    database: 'segtasks',
  });
  await client.connect();
  try {
    const tasks = await client.query('SELECT name, bytes_total, created_at FROM sys.tasks WHERE name = $1', [
      'heal',
    ]);
    t.is(tasks.rows.length, 1);
    t.is(tasks.rows[0].bytes_total, '3000');
    t.true(tasks.rows[0].created_at instanceof Date);
    const simple = await client.query('SELECT count(*) AS n FROM sys.segments; SELECT current_user AS u');
    t.deepEqual(
      (simple as unknown as pg.QueryResult[]).map((r) => r.rows[0]),
      [{ n: '6' }, { u: READER_ROLE }],
    );
    const err = await t.throwsAsync(client.query('SELECT * FROM public.users'));
    t.is((err as { code?: string }).code, '42501');
    const rows = await client.query({ text: 'SELECT g FROM generate_series(1, 5000) g', rowMode: 'array' });
    t.is(rows.rows.length, 5000);
    // With the session's TimeZone, streamed (a portal) and taken whole (EXECUTE) alike, as PostgreSQL prints.
    await client.query("SET TimeZone = 'America/New_York'");
    const sql =
      "SELECT '2026-06-01 12:00:00+00'::timestamptz::text AS a, '2026-06-01 12:00:00+00'::timestamptz AS b, 1e-7::float8 AS c";
    await client.query(`PREPARE p AS ${sql}`);
    for (const q of [sql, 'EXECUTE p']) {
      const r = await client.query({
        text: q,
        rowMode: 'array',
        types: { getTypeParser: () => (v: string) => v },
      });
      t.deepEqual(r.rows, [['2026-06-01 08:00:00-04', '2026-06-01 08:00:00-04', '1e-07']], q);
    }
  } finally {
    await client.end();
    await wire.close();
  }
});

test('closing the engine ends what its connections run, open cursors included', async (t) => {
  const readers = new PostgresReaders({ url: real.url('readers'), secret: SECRET, maxConnections: 2 });
  await readers.ready();
  const opened = await readers.open(
    'SELECT g FROM generate_series(1, 100000) g',
    [],
    [],
    session(),
    undefined,
    false,
    [],
  );
  t.false(opened.done);
  const sleeping = readers.run('SELECT pg_sleep(31)', [], [], session());
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await readers.close();
  t.true(Date.now() - started < 10_000);
  await t.throwsAsync(sleeping);
  await t.throwsAsync(opened.cursor!.next(10));
  await t.throwsAsync(readers.run('SELECT 1', [], [], session()), { message: /shutting down/ });
  // Nothing of it goes on running in PostgreSQL.
  const running = () =>
    onPg.sql.all("SELECT 1 FROM pg_stat_activity WHERE usename = ? AND query LIKE '%pg_sleep(31)%'", [
      READER_ROLE,
    ]);
  for (let i = 0; i < 50 && (await running()).length; i++) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(await running(), []);
});
