// Fair readers: one user with many connections running slow catalog queries (and cursors holding readers)
// does not starve another user's queries of reader threads (docs/robustness.md, "Fair readers"; the policy
// is in catalog/readers/pool.ts). Each case runs for a bounded time and the probe for a bounded count.
import test from 'ava';
import pg from 'pg';
import { startLatencyProbe } from './helpers/latency';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;

test.before(async () => {
  server = await startTestServer({ auth: 'trust', httpPort: 0 });
  const admin = new pg.Client(server.pgConfig);
  await admin.connect();
  for (const u of ['heavy', 'light', 'other']) await admin.query(`CREATE USER ${u} WITH PASSWORD '${u}-pw'`);
  await admin.end();
});
test.after.always(async () => {
  await server?.stop();
});

const as = (user: string): pg.ClientConfig => ({ ...server.pgConfig, user, password: `${user}-pw` });

/** connections clients of user, each running query in a loop until stop(); counts the statements done. */
async function startLoad(user: string, connections: number, query: string) {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new pg.Client(as(user));
      await c.connect();
      return c;
    }),
  );
  let stopping = false;
  let done = 0;
  const loops = clients.map(async (c) => {
    while (!stopping) {
      await c.query(query);
      done++;
    }
  });
  return {
    get done() {
      return done;
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}

/**
 * Waits until the reader pool has grown to its size under load (six threads beside those held by cursors):
 * starting one (it builds its catalog emulation) takes a second or two on the loaded test machine, which is
 * not what is measured.
 */
async function untilReadersStarted(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const metrics = await (await fetch(`http://127.0.0.1:${server.app.httpPort}/metrics`)).text();
    const gauge = (name: string) =>
      Number(new RegExp(`^segtasks_reader_pool_${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    if (gauge('workers') - gauge('cursors') >= 6) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the reader pool did not grow to 6 threads in 20 s');
}

/** A user who holds streamed cursors open, each on a reader of its own, and FETCHes from them in a loop. */
async function startCursors(user: string, count: number) {
  const clients = await Promise.all(
    Array.from({ length: count }, async () => {
      const c = new pg.Client(as(user));
      await c.connect();
      await c.query('BEGIN');
      await c.query('DECLARE c NO SCROLL CURSOR FOR SELECT g FROM generate_series(1, 10000000) g');
      await c.query('FETCH 10 FROM c');
      return c;
    }),
  );
  let stopping = false;
  const times: number[] = [];
  const loops = clients.map(async (c) => {
    while (!stopping) {
      const t0 = performance.now();
      await c.query('FETCH 10 FROM c');
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(clients.map(async (c) => c.query('COMMIT').then(() => c.end())));
      const sorted = times.sort((a, b) => a - b);
      return { count: sorted.length, p50: sorted[Math.floor(sorted.length / 2)] ?? 0 };
    },
  };
}

const PROBE_MAX = 5000;

test.serial(
  "16 connections of one user's slow queries leave another user's SELECT 1 answered at once",
  async (t) => {
    const heavy = await startLoad('heavy', 16, 'SELECT pg_sleep(0.5)');
    await new Promise((r) => setTimeout(r, 1000)); // every reader thread the heavy user may have is taken
    await untilReadersStarted();
    const probe = await startLatencyProbe(as('light'), PROBE_MAX);
    const heavyBefore = heavy.done;
    await new Promise((r) => setTimeout(r, 4000));
    const light = await probe.stop();
    const heavyDone = heavy.done - heavyBefore;
    await heavy.stop();
    t.log(`light user's SELECT 1 while 16 heavy connections sleep 0.5 s each: ${JSON.stringify(light)}`);
    t.log(`heavy user's statements done in those 4 s: ${heavyDone}`);
    // First come, first served: the light user's SELECT waited behind the heavy user's backlog (p50 ~ 500 ms,
    // 8 statements in 4 s).
    t.true(light.p50 < 100, `p50 ${light.p50} ms`);
    t.true(light.count > 100, `only ${light.count} SELECTs in 4 s`);
    // The heavy user is not starved either: it keeps all readers but one busy (5 readers x 8 sleeps: ~40).
    t.true(heavyDone >= 15, `heavy user did ${heavyDone} statements`);
  },
);

test.serial(
  "a user's held cursors count as its readers: its FETCHes go to their own readers, another user still gets one",
  async (t) => {
    const cursors = await startCursors('heavy', 4);
    const heavy = await startLoad('heavy', 16, 'SELECT pg_sleep(0.5)');
    await new Promise((r) => setTimeout(r, 1000));
    await untilReadersStarted();
    const probe = await startLatencyProbe(as('light'), PROBE_MAX);
    const heavyBefore = heavy.done;
    await new Promise((r) => setTimeout(r, 4000));
    const light = await probe.stop();
    const heavyDone = heavy.done - heavyBefore;
    await heavy.stop();
    const fetches = await cursors.stop();
    t.log(`light: ${JSON.stringify(light)}; heavy's FETCHes on 4 held cursors: ${JSON.stringify(fetches)}`);
    t.log(`heavy user's sleeps done in those 4 s: ${heavyDone}`);
    t.true(light.p50 < 100, `p50 ${light.p50} ms`);
    t.true(light.count > 100, `only ${light.count} SELECTs in 4 s`);
    // A held cursor's batches never wait in the queue behind its user's sleeps.
    t.true(fetches.p50 < 100, `FETCH p50 ${fetches.p50} ms`);
    t.true(fetches.count > 100, `only ${fetches.count} FETCHes in 4 s`);
    // The held readers are beyond the pool: the sleeps keep the pool's readers but one busy.
    t.true(heavyDone >= 15, `heavy user did ${heavyDone} statements`);
  },
);

test.serial(
  'two heavy users share the readers: both progress, and a third user still gets through',
  async (t) => {
    const a = await startLoad('heavy', 12, 'SELECT pg_sleep(0.3)');
    const b = await startLoad('other', 12, 'SELECT pg_sleep(0.3)');
    await new Promise((r) => setTimeout(r, 1000));
    await untilReadersStarted();
    const probe = await startLatencyProbe(as('light'), PROBE_MAX);
    const a0 = a.done;
    const b0 = b.done;
    // 6 s: at about 15 sleeps a second between them, a 4 s window left the split to a few statements' luck
    // (24 / 50 once in CI).
    await new Promise((r) => setTimeout(r, 6000));
    const light = await probe.stop();
    const [aDone, bDone] = [a.done - a0, b.done - b0];
    await Promise.all([a.stop(), b.stop()]);
    t.log(
      `two heavy users, 12 connections each: ${aDone} and ${bDone} statements in 6 s; light: ${JSON.stringify(light)}`,
    );
    t.true(aDone > 10 && bDone > 10, `${aDone} / ${bDone}`);
    t.true(Math.min(aDone, bDone) / Math.max(aDone, bDone) > 0.5, `unfair split ${aDone} / ${bDone}`);
    // The heavy users fill all readers but one, which the light user finds free (before: p50 2.3 s).
    t.true(light.p50 < 100, `p50 ${light.p50} ms`);
    t.true(light.count > 150, `only ${light.count} SELECTs in 6 s`);
  },
);
