// Statements run inline (the pool's inline lane, catalog/readers/pool.ts runInline and lane.ts): a point
// lookup runs there once a reader has found its plan bounded, with the same answer a reader gives; anything
// its guard refuses (a session function, a large argument, a regular expression) or its plan does not bound
// (a scan) runs on a reader, and a slow statement on a reader does not hold up the inline ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { catalogPath, openCatalog } from '../catalog/db';
import { InlineGuard } from '../catalog/readers/inline-guard';
import { FIRST_PAUSE_MS, STALL_MS, STRIKES } from '../catalog/readers/inline-stalls';
import { ReaderPool } from '../catalog/readers/pool';
import { ReaderEngine, type RunResult, type SessionSnapshot } from '../catalog/readers/reader-engine';
import { StatementCancel } from '../pg/cancel';
import { SqlError } from '../pg/errors';

const dir = mkdtempSync(join(tmpdir(), 'segtasks-inline-'));
let pool: ReaderPool;
/** The same catalog with nothing run inline: the answers to compare with. */
let plain: ReaderPool;
const ROWS = 200;
const opts = { catalogPath: catalogPath(dir), serverVersion: '15.0', startedAt: '2026-12-01 00:00:00+00' };
const uuidOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

test.before(async () => {
  await (await openCatalog(dir)).close();
  const db = new Database(catalogPath(dir));
  const ins = db.prepare(
    `INSERT INTO tasks (id, name, type, location_type, options, status, created_by, created_at)
     VALUES (?, ?, 'check_disk', 'SYSTEM', '{}', 'COMPLETE', 'admin', '2026-12-01 00:00:00.000000+00')`,
  );
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) ins.run(uuidOf(i), `task-${i}`);
  })();
  db.close();
  pool = new ReaderPool(opts);
  plain = new ReaderPool(opts, 2, 6, 4, false);
  await Promise.all([pool.ready(), plain.ready()]);
});
test.after.always(async () => {
  await Promise.all([pool?.close(), plain?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const session: SessionSnapshot = {
  user: 'admin',
  database: 'segtasks',
  pid: 7,
  settingsVersion: 1,
  settings: [],
};

/** Runs a statement n times through the pool; how many of them ran inline, and the last answer. */
async function inlinedRuns(
  p: ReaderPool,
  sql: string,
  params: unknown[] = [],
  n = 5,
  autoParams = false,
): Promise<{ inlined: number; rows: unknown[][] }> {
  const before = p.stats().inlined;
  let rows: unknown[][] = [];
  for (let i = 0; i < n; i++) rows = (await p.run(sql, [], params, session, undefined, autoParams)).rows;
  return { inlined: p.stats().inlined - before, rows };
}

const POINT =
  "SELECT * FROM sys.tasks WHERE id = ('00000000-0000-4000-8000-' || lpad($1::text, 12, '0'))::uuid";

test.serial('a point lookup runs inline after its first run, with the reader’s answer', async (t) => {
  const r = await inlinedRuns(pool, POINT, ['42'], 10);
  // The first run is a reader's, which finds the plan bounded; of the others, one that finds V8 still
  // compiling the functions it calls may run out of its time and go to a reader too.
  t.true(r.inlined >= 6 && r.inlined <= 9, `${r.inlined} of 10 inline`);
  t.deepEqual(r.rows, (await plain.run(POINT, [], ['42'], session)).rows);
  t.is(r.rows.length, 1);
  t.is(plain.stats().inlined, 0);
  // Every id gives the row a reader gives.
  for (const id of ['1', '77', String(ROWS), String(ROWS + 1)])
    t.deepEqual(
      (await pool.run(POINT, [], [id], session)).rows,
      (await plain.run(POINT, [], [id], session)).rows,
      id,
    );
});

test.serial('simple-protocol statements share one inline plan whatever their constants', async (t) => {
  const text = (i: number) => `SELECT name, status FROM sys.tasks WHERE id = '${uuidOf(i)}'`;
  await pool.run(text(1), [], [], session, undefined, true);
  const before = pool.stats().inlined;
  for (let i = 2; i <= 20; i++) {
    const r = await pool.run(text(i), [], [], session, undefined, true);
    t.deepEqual(r.rows, [[`task-${i}`, 'COMPLETE']]);
  }
  t.true(pool.stats().inlined - before >= 16, 'all but the first (and those V8 was still compiling for)');
});

test.serial('an error of an inline statement is the error a reader gives', async (t) => {
  const sql = 'SELECT name FROM sys.tasks WHERE id = $1::uuid';
  await inlinedRuns(pool, sql, [uuidOf(3)], 10);
  const before = pool.stats().inlined;
  const err = await t.throwsAsync(pool.run(sql, [], ['not-a-uuid'], session));
  const theirs = await t.throwsAsync(plain.run(sql, [], ['not-a-uuid'], session));
  t.is((err as SqlError).code, '22P02');
  t.is(err?.message, theirs?.message);
  t.is(pool.stats().inlined - before, 1);
});

test.serial('scans and statements with session functions stay on the readers', async (t) => {
  t.is((await inlinedRuns(pool, 'SELECT count(*) FROM sys.tasks')).inlined, 0);
  t.is((await inlinedRuns(pool, "SELECT name FROM sys.tasks WHERE name = 'task-5'")).inlined, 0);
  const now = await inlinedRuns(pool, 'SELECT now(), name FROM sys.tasks WHERE id = $1::uuid', [uuidOf(5)]);
  t.is(now.inlined, 0);
  t.is(now.rows[0][1], 'task-5');
  const user = await inlinedRuns(pool, 'SELECT current_user');
  t.deepEqual(user.rows, [['admin']]);
  t.is(user.inlined, 0);
});

test.serial('an argument that could make a large value sends the statement to a reader', async (t) => {
  const sql = "SELECT lpad('x', $1::int, 'y') FROM sys.tasks WHERE id = $2::uuid";
  t.true((await inlinedRuns(pool, sql, ['3', uuidOf(1)], 10)).inlined > 0);
  const before = pool.stats().inlined;
  const r = await pool.run(sql, [], ['200000', uuidOf(1)], session);
  t.is((r.rows[0][0] as string).length, 200000);
  t.is(pool.stats().inlined, before, 'refused by the guard: run on a reader');
  // Refused for what it is, the plan stays on the readers.
  t.is((await inlinedRuns(pool, sql, ['3', uuidOf(1)])).inlined, 0);
});

test.serial('regular expressions are never run inline', async (t) => {
  const sql = 'SELECT name ~ $1 FROM sys.tasks WHERE id = $2::uuid';
  const r = await inlinedRuns(pool, sql, ['^task-1$', uuidOf(1)]);
  t.deepEqual(r.rows, [[1]]);
  t.is(r.inlined, 0);
});

test.serial('a slow statement on a reader does not hold up inline ones', async (t) => {
  await inlinedRuns(pool, POINT, ['9']);
  const cancel = new StatementCancel();
  let slowEnded = false;
  const slow = pool.run('SELECT pg_sleep(60)', [], [], session, cancel).finally(() => {
    slowEnded = true;
  });
  // Until a reader runs it (bounded: 5 s).
  for (let i = 0; pool.stats().running === 0; i++) {
    if (i === 500) return t.fail('the pg_sleep never reached a reader');
    await new Promise((r) => setTimeout(r, 10));
  }
  // Held up, the lookups would end only with the pg_sleep (a minute, or its cancel below). The lane's clock
  // is its own thread's (it cannot be frozen from here): a lookup that finds the lane preempted on a loaded
  // machine may run out of its time and go to a reader, which answers it as well.
  const r = await inlinedRuns(pool, POINT, ['9'], 50);
  t.true(r.inlined >= 40, `${r.inlined} of 50 inline`);
  t.false(slowEnded, 'the 50 point lookups ended while the pg_sleep still ran on its reader');
  // Cancelled as a CancelRequest does it: pg_sleep gives up at once.
  cancel.abort(new SqlError('57014', 'canceling statement due to user request'));
  await t.throwsAsync(slow, { message: 'canceling statement due to user request' });
});

test.serial('a plan whose inline runs stall goes to the readers for a while, then comes back', (t) => {
  // The inline engine itself, as the lane's thread runs it, in this thread so that its clock can be made to
  // jump STALL_MS and more at every look: each inline run then seems to take that long (the thread
  // preempted on a busy machine, say). null: the pool gives the statement to a reader.
  const engine = new ReaderEngine(opts, undefined, new InlineGuard());
  const sql = 'SELECT status FROM sys.tasks WHERE id = $1::uuid';
  engine.learn(sql, [], false);
  const runs = (n: number) => {
    let inlined = 0;
    for (let i = 0; i < n; i++) {
      const r = engine.runInline(sql, [], [uuidOf(4)], session, false, null, 2);
      if (r) {
        inlined++;
        t.deepEqual((r as RunResult).rows, [['COMPLETE']]);
      }
    }
    return inlined;
  };
  t.is(runs(5), 5);
  const realNow = performance.now.bind(performance);
  let offset = 0;
  performance.now = () => realNow() + (offset += STALL_MS + 1);
  try {
    t.true(runs(STRIKES) <= STRIKES);
    const fixed = offset;
    performance.now = () => realNow() + fixed;
    t.is(runs(5), 0, 'paused: the readers run it');
    performance.now = () => realNow() + fixed + FIRST_PAUSE_MS;
    t.is(runs(5), 5, 'after the pause it runs inline again');
  } finally {
    performance.now = realNow;
  }
});

test.serial('a lane that dies leaves its statements and the next ones to the readers', async (t) => {
  const own = new ReaderPool(opts);
  await own.ready();
  try {
    await inlinedRuns(own, POINT, ['11'], 5);
    t.true(own.stats().inlined > 0);
    // The lane's thread ends as if it had crashed (a private field: there is no other way to make it fail).
    const lane = (own as unknown as { inline: { worker: { terminate(): Promise<number> } } }).inline;
    const during = inlinedRuns(own, POINT, ['12'], 20);
    await lane.worker.terminate();
    const before = own.stats().inlined;
    const after = await inlinedRuns(own, POINT, ['13'], 5);
    t.is(after.inlined, 0, 'nothing runs inline once the lane is gone');
    t.deepEqual(after.rows, (await plain.run(POINT, [], ['13'], session)).rows);
    t.deepEqual((await during).rows, (await plain.run(POINT, [], ['12'], session)).rows);
    t.is(own.stats().inlined, before);
  } finally {
    await own.close();
  }
});

test.serial(
  'a session whose settings the lane lacks and the caller did not give runs on a reader',
  async (t) => {
    await inlinedRuns(pool, POINT, ['21'], 5);
    const unknown: SessionSnapshot = { ...session, pid: 4242, settingsVersion: 3, settings: null };
    const before = pool.stats().inlined;
    const r = await pool.run(POINT, [], ['21'], unknown);
    t.is(pool.stats().inlined, before, 'not inline: the lane would have run it with no settings');
    t.deepEqual(r.rows, (await plain.run(POINT, [], ['21'], session)).rows);
    // Given its settings, the same session runs inline again.
    await pool.run(POINT, [], ['21'], { ...unknown, settings: [] });
    t.is(pool.stats().inlined, before + 1);
  },
);
