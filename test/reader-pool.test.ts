// The reader pool on its own (real worker threads over an empty catalog made by the migrations): a cancelled
// statement that waits (pg_sleep) is interrupted and its reader goes on serving, one busy inside SQLite is
// ended after a grace period while another reader answers the next statement, and a cancelled batch of a held
// cursor frees its reader.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { catalogPath, openCatalog } from '../catalog/db';
import { ReaderPool } from '../catalog/readers/pool';
import type { SessionSnapshot } from '../catalog/readers/reader-engine';
import { SqlError } from '../pg/errors';

const dir = mkdtempSync(join(tmpdir(), 'segtasks-pool-'));
let pool: ReaderPool;

test.before(async () => {
  await (await openCatalog(dir)).close();
  pool = new ReaderPool({
    catalogPath: catalogPath(dir),
    serverVersion: '15.0',
    startedAt: '2026-12-01 00:00:00+00',
  });
  await pool.ready();
});
test.after.always(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

const session = (pid: number): SessionSnapshot => ({
  user: 'alice',
  database: 'segtasks',
  pid,
  settingsVersion: 1,
  settings: [],
});
const timeout = () => new SqlError('57014', 'canceling statement due to statement timeout');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples the started workers for ms: the fewest seen. */
async function fewestWorkers(ms: number): Promise<number> {
  let fewest = pool.stats().workers;
  for (const end = Date.now() + ms; Date.now() < end; await sleep(5))
    fewest = Math.min(fewest, pool.stats().workers);
  return fewest;
}

test.serial(
  'a cancelled pg_sleep is interrupted: its reader answers the next statement, none is ended',
  async (t) => {
    const before = pool.stats().workers;
    const spawned = pool.stats().spawned;
    const ac = new AbortController();
    const sleeping = pool.run('SELECT pg_sleep(30)', [], [], session(1), ac.signal);
    await sleep(200);
    const t0 = Date.now();
    ac.abort(timeout());
    const err = await t.throwsAsync(sleeping);
    t.is((err as SqlError).code, '57014');
    t.true(Date.now() - t0 < 100, `rejected after ${Date.now() - t0} ms`);
    // Every worker stays: ending one (as a cancel did) took a worker away for the second its replacement
    // needed to start.
    t.is(await fewestWorkers(1200), before);
    t.is(pool.stats().spawned, spawned, 'no worker was started in place of one ended');
    t.deepEqual((await pool.run('SELECT 1', [], [], session(1))).rows, [[1]]);
    t.is(pool.stats().running, 0);
  },
);

test.serial(
  'a cancelled statement busy inside SQLite ends its worker after a grace period; another reader answers meanwhile',
  async (t) => {
    const ac = new AbortController();
    const busy = pool.run(
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2000000) SELECT count(*) FROM r',
      [],
      [],
      session(2),
      ac.signal,
    );
    await sleep(200);
    ac.abort(timeout());
    t.is(((await t.throwsAsync(busy)) as SqlError).code, '57014');
    const t0 = Date.now();
    t.deepEqual((await pool.run('SELECT 2', [], [], session(2))).rows, [[2]]);
    t.log(`next statement answered in ${Date.now() - t0} ms`);
    // Ended after the grace period, and replaced.
    const until = async (what: () => boolean) => {
      for (const end = Date.now() + 20_000; !what() && Date.now() < end; ) await sleep(20);
    };
    await until(() => pool.stats().running === 0);
    t.is(pool.stats().running, 0);
    await until(() => pool.stats().workers >= 2);
    t.true(pool.stats().workers >= 2);
  },
);

test.serial(
  'a cancelled batch of a held cursor frees its reader: the cursor is gone, the worker stays',
  async (t) => {
    const ac = new AbortController();
    const opened = await pool.open(
      'SELECT g, CASE WHEN g > 300 THEN pg_sleep(30) END FROM generate_series(1, 1000) g',
      [],
      [],
      session(3),
      ac.signal,
      false,
      null,
    );
    t.is(opened.rows.length, 250);
    t.truthy(opened.cursor);
    t.is(pool.stats().cursors, 1);
    const workers = pool.stats().workers;
    const batch = opened.cursor!.next(500, ac.signal);
    await sleep(200);
    const spawned = pool.stats().spawned;
    ac.abort(timeout());
    t.is(((await t.throwsAsync(batch)) as SqlError).code, '57014');
    for (const end = Date.now() + 2000; pool.stats().cursors && Date.now() < end; ) await sleep(5);
    t.is(pool.stats().cursors, 0);
    t.is(((await t.throwsAsync(opened.cursor!.next(10))) as SqlError).code, '34000');
    // None ended: never fewer than before. (More is a spare that an earlier test started and that finished
    // starting meanwhile on a loaded machine; that it replaces nothing is what `spawned` shows.)
    const fewest = await fewestWorkers(1200);
    t.true(fewest >= workers, `${fewest} workers after the cancel, ${workers} before`);
    t.is(pool.stats().spawned, spawned, 'no worker was started in place of one ended');
  },
);
