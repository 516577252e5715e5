// kill -9 of the server in the middle of work, then a restart on the same data directory.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import {
  assertProgressKept,
  assertStoreConsistent,
  connectAdmin,
  filesUnder,
  killRepeatedly,
  startServerProcess,
} from './helpers/process';
import { createTask, findings, load, waitTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

const MiB = 1024 * 1024;
const KILLS = Number(process.env.SEGTASKS_CRASH_KILLS ?? 20);

test.serial(
  'kill -9 during check_disk: after restart the task resumes and reports what an uninterrupted run reports',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'segtasks-crash-'));
    let server = await startServerProcess(dir);
    try {
      let client = await connectAdmin(server.port);
      await createTopology(client, dir, { segmentSize: MiB });
      await load(client, 'data', 16 * MiB);
      const segs = (await client.query('SELECT path FROM sys.segments ORDER BY storage_id')).rows.map(
        (r) => r.path as string,
      );
      for (const p of [segs[1], segs[9], segs[17]]) {
        const b = readFileSync(p);
        b[b.length - 5] ^= 0x0f;
        writeFileSync(p, b);
      }
      const reference = await waitTask(
        client,
        await createTask(client, 'CREATE TASK reference TYPE check_disk'),
      );
      const expected = (await findings(client, reference.id))
        .map((f) => `${f.storage_id}:${f.result}`)
        .sort();
      t.is(expected.length, 3);

      const id = await createTask(
        client,
        'CREATE TASK interrupted TYPE check_disk OPTIONS max_bytes_per_sec = 2000000, parallelism = 1',
      );
      for (;;) {
        const f = (await client.query('SELECT fraction_complete FROM sys.tasks WHERE id = $1', [id])).rows[0]
          .fraction_complete;
        if (f > 0.2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await client.end().catch(() => {});
      await server.kill9();

      server = await startServerProcess(dir);
      client = await connectAdmin(server.port);
      const done = await waitTask(client, id, 60_000);
      t.is(done.status, 'COMPLETE');
      t.is(done.segments_done, done.segments_total);
      const got = (await findings(client, id)).map((f) => `${f.storage_id}:${f.result}`).sort();
      t.deepEqual(got, expected, 'same findings, none twice');
      await client.end();
    } finally {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test.serial(
  `a throttled check_disk survives ${KILLS} kill -9 at random moments: progress never goes back, findings once each`,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'segtasks-crash-check-'));
    let server = await startServerProcess(dir);
    try {
      let client = await connectAdmin(server.port);
      await createTopology(client, dir, { segmentSize: 65536 });
      const data = await load(client, 'data', 8 * MiB);
      const segs = (await client.query('SELECT path FROM sys.segments ORDER BY storage_id')).rows.map(
        (r) => r.path as string,
      );
      for (const p of [segs[3], segs[40], segs[77], segs[150]]) {
        const b = readFileSync(p);
        b[b.length - 5] ^= 0x0f;
        writeFileSync(p, b);
      }
      const reference = await waitTask(client, await createTask(client, 'CREATE TASK TYPE check_disk'));
      const expected = (await findings(client, reference.id))
        .map((f) => `${f.storage_id}:${f.result}`)
        .sort();
      t.is(expected.length, 4);
      // ~1.1 MB per device at 50 kB/s: some 22 s of checking, spread over the kills
      const id = await createTask(
        client,
        'CREATE TASK slow_check TYPE check_disk OPTIONS max_bytes_per_sec = 50000',
      );
      await client.end();
      const killed = await killRepeatedly(server, dir, id, KILLS);
      server = killed.server;
      client = await connectAdmin(server.port);
      const done = await waitTask(client, id, 120_000);
      t.log(`${killed.interrupted} of ${KILLS} restarts found the check still running`);
      t.true(killed.interrupted >= 3, 'the kills really interrupted the check');
      t.is(done.status, 'COMPLETE', done.error ?? '');
      assertProgressKept(t, killed.steps, 0, Number(done.bytes_total));
      t.is(Number(done.segments_done), segs.length, 'every segment counted once');
      t.is(Number(done.bytes_done), Number(done.bytes_total), 'no byte counted twice');
      const got = (await findings(client, id)).map((f) => `${f.storage_id}:${f.result}`).sort();
      t.deepEqual(got, expected, 'the findings of an uninterrupted run, none twice');
      await assertStoreConsistent(t, client, dir);
      const out: Buffer[] = [];
      for await (const chunk of client.query(copyTo('COPY data TO STDOUT WITH (FORMAT binary)')))
        out.push(chunk as Buffer);
      t.true(Buffer.concat(out).equals(data), 'data byte-identical');
      await client.end();
    } finally {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test.serial(
  'kill -9 during COPY: after restart the catalog is consistent and no orphan file is left',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'segtasks-crash-copy-'));
    let server = await startServerProcess(dir);
    try {
      let client = await connectAdmin(server.port);
      await createTopology(client, dir, { segmentSize: 65536 });
      const kept = await load(client, 'kept', 3 * 4 * 65536);
      await client.query('CREATE TABLE doomed (b bytea) IN CLUSTER c1');
      const stream = client.query(copyFrom('COPY doomed FROM STDIN'));
      stream.on('error', () => {});
      for (let i = 0; i < 40; i++) stream.write(randomBytes(64 * 1024)); // ten groups' worth, never finished
      await new Promise((r) => setTimeout(r, 500));
      const during = filesUnder(join(dir, 'devices')).length;
      await server.kill9();
      await client.end().catch(() => {});

      server = await startServerProcess(dir);
      client = await connectAdmin(server.port);
      const tables = (await client.query('SELECT name, segment_groups FROM sys.tables ORDER BY name')).rows;
      t.deepEqual(
        tables.map((r) => [r.name, Number(r.segment_groups)]),
        [
          ['doomed', 0],
          ['kept', 3],
        ],
      );
      const catalogued = new Set(
        (await client.query('SELECT path FROM sys.segments')).rows.map((r) => r.path as string),
      );
      const onDisk = filesUnder(join(dir, 'devices'));
      t.log(
        `files during the COPY: ${during}; after restart: ${onDisk.length}, catalogued: ${catalogued.size}`,
      );
      t.true(during > catalogued.size, 'the interrupted COPY had written files');
      t.deepEqual(
        onDisk.sort(),
        [...catalogued].sort(),
        'every file is catalogued and every catalogued segment has its file',
      );
      // and the table that was loaded before is intact
      const out: Buffer[] = [];
      const { to } = await import('pg-copy-streams');
      const s = client.query(to('COPY kept TO STDOUT'));
      for await (const chunk of s) out.push(chunk as Buffer);
      t.true(Buffer.concat(out).equals(kept));
      await client.end();
    } finally {
      await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
