// sys.segments.last_checked_at after check_disk: each segment it found clean shows the time of its batch, one
// with a finding keeps its own time (none, without fix), a check limited to some segments moves only theirs,
// and segments loaded after a DROP TABLE (whose catalog row ids may be those of the dropped segments) show none.
// check_disk records ranges of segments instead of a write per segment (catalog/schema.ts, 009).
import { readFileSync, writeFileSync } from 'node:fs';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';
import { load, runTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
  await createTopology(client, server.dataDir, { segmentSize: 65536 });
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

async function checked(table: string): Promise<Map<string, { at: Date | null; path: string }>> {
  const rows = (
    await client.query(
      `SELECT s.storage_id, s.path, s.last_checked_at FROM sys.segments s
         JOIN sys.segment_groups g ON g.id = s.segment_group_id JOIN sys.tables t ON t.id = g.table_id
        WHERE t.name = $1`,
      [table],
    )
  ).rows;
  return new Map(rows.map((r) => [r.storage_id, { at: r.last_checked_at, path: r.path }]));
}

async function startedAt(taskId: string): Promise<Date> {
  return (await client.query('SELECT started_at FROM sys.tasks WHERE id = $1', [taskId])).rows[0].started_at;
}

test.serial('last_checked_at is the time of the check that found each segment clean', async (t) => {
  await load(client, 'a', 40 * 4 * 65536); // 40 groups, 240 segments on 12 devices
  const before = await checked('a');
  t.is(before.size, 240);
  t.true(
    [...before.values()].every((s) => s.at === null),
    'a new segment was never checked',
  );

  // One segment's payload damaged: found by the check, left as it was (no fix).
  const [bad] = [...before.keys()];
  const file = readFileSync(before.get(bad)!.path);
  file[file.length - 10] ^= 0xff;
  writeFileSync(before.get(bad)!.path, file);
  const first = await runTask(client, 'CREATE TASK TYPE check_disk');
  t.is(Number(first.segments_failed), 1);
  const t1 = await startedAt(first.id);
  const after1 = await checked('a');
  t.is(after1.get(bad)!.at, null, 'a segment with a finding is not checked clean');
  for (const [id, s] of after1)
    if (id !== bad) t.true(s.at !== null && s.at.getTime() >= t1.getTime() - 1, `segment ${id} checked`);

  // A check of two segments moves only theirs.
  const [x, y, z] = [...after1.keys()].filter((id) => id !== bad);
  const some = await runTask(client, `CREATE TASK TYPE check_disk OPTIONS storage_ids = ['${x}', '${y}']`);
  const t2 = await startedAt(some.id);
  const after2 = await checked('a');
  t.true(after2.get(x)!.at!.getTime() >= t2.getTime() - 1);
  t.true(after2.get(y)!.at!.getTime() >= t2.getTime() - 1);
  t.deepEqual(after2.get(z)!.at, after1.get(z)!.at, 'a segment the check did not read keeps its time');

  // With fix, the finding marks the segment DAMAGED and records when.
  const fixed = await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
  const t3 = await startedAt(fixed.id);
  const after3 = await checked('a');
  t.true(after3.get(bad)!.at!.getTime() >= t3.getTime() - 1);
  for (const s of after3.values()) t.true(s.at!.getTime() >= t3.getTime() - 1);
});

test.serial('segments loaded after a DROP TABLE were never checked', async (t) => {
  await load(client, 'b', 10 * 4 * 65536);
  await runTask(client, 'CREATE TASK TYPE check_disk');
  t.true([...(await checked('b')).values()].every((s) => s.at !== null));
  // b's segments are the newest rows: the rows of c may take their row ids again.
  await client.query('DROP TABLE b');
  await load(client, 'c', 10 * 4 * 65536);
  const c = await checked('c');
  t.is(c.size, 60);
  t.true(
    [...c.values()].every((s) => s.at === null),
    'a new segment was never checked',
  );
  // and the older table's times are kept
  t.true([...(await checked('a')).values()].every((s) => s.at !== null));
});
