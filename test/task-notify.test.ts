// Task events over LISTEN/NOTIFY: a session that listens on segtasks_tasks receives each status change and each
// finding of a task as a JSON payload, through node-postgres and through psql.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';
import { createTask, load, waitTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => server?.stop());

interface Event {
  event: string;
  task_id: string;
  status: string;
  fraction: number;
  counts: { segments_done: number };
  finding?: { result: string; storage_id: string };
}

/** Flips one byte in the middle of the first segment file under a device directory. */
function corruptOneSegment(dir: string): void {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.seg') ? [join(d, e.name)] : [],
    );
  const file = walk(join(dir, 'devices')).sort()[0];
  const b = readFileSync(file);
  b[b.length >> 1] ^= 0xff;
  writeFileSync(file, b);
}

test('LISTEN segtasks_tasks receives status changes and findings of a check_disk as JSON', async (t) => {
  const admin = new pg.Client(server.pgConfig);
  const listener = new pg.Client(server.pgConfig);
  await admin.connect();
  await listener.connect();
  try {
    await createTopology(admin, server.dataDir);
    await load(admin, 'data', 1024 * 1024);
    corruptOneSegment(server.dataDir);
    const events: Event[] = [];
    listener.on('notification', (n) => {
      t.is(n.channel, 'segtasks_tasks');
      events.push(JSON.parse(n.payload ?? '{}'));
    });
    await listener.query('LISTEN segtasks_tasks');
    const id = await createTask(admin, 'CREATE TASK TYPE check_disk');
    const done = await waitTask(admin, id);
    t.is(done.status, 'COMPLETE');
    // the last status event may still be on its way to the listener
    for (let i = 0; i < 50 && !events.some((e) => e.status === 'COMPLETE'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const mine = events.filter((e) => e.task_id === id);
    const statuses = mine.filter((e) => e.event === 'status').map((e) => e.status);
    t.true(statuses.includes('RUNNING'), statuses.join(','));
    t.is(statuses.at(-1), 'COMPLETE');
    t.is(mine.filter((e) => e.event === 'status').at(-1)?.fraction, 1);
    const findings = mine.filter((e) => e.event === 'finding');
    t.is(findings.length, 1);
    t.is(findings[0].finding?.result, 'CHECKSUM_MISMATCH');
    const row = (await admin.query('SELECT storage_id FROM sys.result_cache WHERE task_id = $1', [id]))
      .rows[0];
    t.is(findings[0].finding?.storage_id, row.storage_id);
  } finally {
    await admin.end();
    await listener.end();
  }
});
