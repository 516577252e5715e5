// Full disks: a device that fills up during COPY or rebuild fails that work with a clear error and loses
// nothing. The devices are small tmpfs mounts (the tests run as root, as CI does), filled behind the
// catalog's back so that the server only learns of it when a write fails.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startTestServer, type TestServer } from './helpers/server';
import { copyOutBytes, findings, runTask } from './helpers/tasks';

let server: TestServer;
let client: pg.Client;
const SEG = 65536;
const mounts: string[] = [];

function mountTiny(path: string): void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', path]);
  mounts.push(path);
}

/** Fills a device so that nothing more fits; returns a function that frees it again. */
function fill(path: string): () => void {
  const filler = join(path, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'status=none'], { stdio: 'ignore' });
  } catch {
    // dd stops with ENOSPC: that is the point
  }
  return () => rmSync(filler, { force: true });
}

function segmentFiles(dir: string): string[] {
  const seg = join(dir, 'segments');
  return existsSync(seg) ? readdirSync(seg) : [];
}

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
  await client.query(`CREATE STORAGESPACE s WIDTH 6 PARITY_WIDTH 2 SEGMENT_SIZE ${SEG}`);
  await client.query('CREATE CLUSTER c1 STORAGESPACE s');
  for (let n = 1; n <= 6; n++) {
    const dev = join(server.dataDir, 'devices', `n${n}`);
    if (n === 6) mountTiny(dev);
    else mkdirSync(dev, { recursive: true });
    await client.query(`CREATE NODE n${n} IN CLUSTER c1 DEVICES ('${dev}')`);
  }
});
test.after.always(async () => {
  await client?.end();
  await server?.app.close();
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already gone
    }
  }
  rmSync(server.dataDir, { recursive: true, force: true });
});

test.serial(
  'a device that is full: COPY fails with 53100 naming the device, and leaves no file and no group',
  async (t) => {
    const tiny = join(server.dataDir, 'devices', 'n6');
    const free = fill(tiny);
    try {
      await client.query('CREATE TABLE t (b bytea) IN CLUSTER c1');
      const e = await t.throwsAsync<Error & { code: string; hint?: string; detail?: string }>(
        pipeline(Readable.from([randomBytes(3 * 4 * SEG)]), client.query(copyFrom('COPY t FROM STDIN'))),
      );
      t.is(e?.code, '53100');
      // PostgreSQL's words (md.c): the file is on the full device, and the detail names device and node.
      t.regex(
        e?.message ?? '',
        new RegExp(`^could not extend file "${tiny}/segments/[^"]+": No space left on device$`),
      );
      t.is(e?.hint, 'Check free disk space.');
      t.regex(e?.detail ?? '', new RegExp(`device ${tiny} of node n6`));
      t.is(
        Number(
          (await client.query("SELECT segment_groups FROM sys.tables WHERE name = 't'")).rows[0]
            .segment_groups,
        ),
        0,
      );
      for (let n = 1; n <= 6; n++)
        t.deepEqual(segmentFiles(join(server.dataDir, 'devices', `n${n}`)), [], `n${n}`);
    } finally {
      free();
    }
  },
);

test.serial(
  'a rebuild whose destination is full fails that subtask clearly, loses nothing, and succeeds once there is room',
  async (t) => {
    const data = randomBytes(2 * 4 * SEG);
    await pipeline(Readable.from([data]), client.query(copyFrom('COPY t FROM STDIN')));
    const tiny = join(server.dataDir, 'devices', 'n6');
    const onTiny = (await client.query("SELECT storage_id, path FROM sys.segments WHERE node_name = 'n6'"))
      .rows;
    t.true(onTiny.length > 0);
    for (const s of onTiny) unlinkSync(s.path);
    await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
    const free = fill(tiny);
    let task: Awaited<ReturnType<typeof runTask>>;
    try {
      task = await runTask(client, 'CREATE TASK TYPE rebuild');
      t.is(task.status, 'FAILED');
      t.regex(task.error ?? '', /subtask\(s\) failed/);
      const sub = (
        await client.query("SELECT error FROM sys.subtasks WHERE task_id = $1 AND status = 'FAILED'", [
          task.id,
        ])
      ).rows[0];
      t.regex(sub.error, /no space|ENOSPC/i);
      // nothing lost: the other segments are intact and the data still reads back (from parity)
      t.true((await copyOutBytes(client, 'COPY t TO STDOUT')).equals(data));
      t.deepEqual(
        segmentFiles(tiny).filter((f) => f.endsWith('.tmp')),
        [],
        'no temporary file left',
      );
    } finally {
      free();
    }
    task = await runTask(client, 'CREATE TASK TYPE rebuild');
    t.is(task.status, 'COMPLETE', task.error ?? '');
    t.true((await findings(client, task.id)).filter((f) => f.result === 'REBUILT').length === onTiny.length);
    t.deepEqual(
      (await client.query('SELECT DISTINCT status FROM sys.segments')).rows.map((r) => r.status),
      ['INTACT'],
    );
  },
);

test.serial('a vanished device directory during COPY: a clear error, nothing catalogued', async (t) => {
  await client.query('CREATE TABLE u (b bytea) IN CLUSTER c1');
  const dev = join(server.dataDir, 'devices', 'n3');
  rmSync(dev, { recursive: true, force: true });
  writeFileSync(dev, 'not a directory any more');
  try {
    const e = await t.throwsAsync<Error & { code: string }>(
      pipeline(Readable.from([randomBytes(4 * SEG)]), client.query(copyFrom('COPY u FROM STDIN'))),
    );
    t.truthy(e?.code);
    t.regex(e?.message ?? '', new RegExp(dev));
    t.is(
      Number(
        (await client.query("SELECT segment_groups FROM sys.tables WHERE name = 'u'")).rows[0].segment_groups,
      ),
      0,
    );
  } finally {
    rmSync(dev, { force: true });
    mkdirSync(dev, { recursive: true });
  }
});
