// A full device: COPY FROM and a rebuild that write to it fail with PostgreSQL's 53100 wording (md.c's
// "could not extend file ...: No space left on device", HINT "Check free disk space."), leave no partial
// file behind, and the server goes on. The device is a small tmpfs this test mounts (we run as root).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';
import { load, runTask } from './helpers/tasks';

const SEG = 65536;
let server: TestServer;
let client: pg.Client;
let mountPoint: string;
let fullDevice: string;

test.before(async () => {
  mountPoint = mkdtempSync(join(tmpdir(), 'segtasks-full-'));
  // Mounted large for CREATE NODE (which records the capacity), then shrunk: the catalog believes there is
  // room, the file system has 1 MiB.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountPoint]);
  fullDevice = join(mountPoint, 'dev');
  mkdirSync(fullDevice);
  server = await startTestServer({ auth: 'trust' });
  client = new pg.Client(server.pgConfig);
  await client.connect();
  await client.query(`CREATE STORAGESPACE s WIDTH 3 PARITY_WIDTH 1 SEGMENT_SIZE ${SEG}`);
  await client.query('CREATE CLUSTER c STORAGESPACE s');
  for (const n of ['c_n1', 'c_n2']) {
    const p = join(server.dataDir, 'devices', n);
    mkdirSync(p, { recursive: true });
    await client.query(`CREATE NODE ${n} IN CLUSTER c DEVICES ('${p}')`);
  }
  await client.query(`CREATE NODE c_n3 IN CLUSTER c DEVICES ('${fullDevice}')`);
  execFileSync('mount', ['-o', 'remount,size=1m', mountPoint]);
});

test.after.always(async () => {
  await client?.end().catch(() => {});
  await server?.stop();
  execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const segmentFiles = () => readdirSync(join(fullDevice, 'segments'));

test.serial(
  'COPY FROM onto a full device: 53100 could not extend file, with the hint; nothing left behind',
  async (t) => {
    await load(client, 'fits', 2 * 2 * SEG, 'c'); // two groups: one segment each on the small device
    const before = segmentFiles();
    t.is(before.length, 2);
    const err = (await t.throwsAsync(load(client, 'big', 64 * SEG, 'c'))) as Error & {
      code?: string;
      hint?: string;
      detail?: string;
    };
    t.is(err.code, '53100');
    t.regex(err.message, /^could not extend file ".+\.seg[^"]*": No space left on device$/);
    t.is(err.hint, 'Check free disk space.');
    t.regex(err.detail ?? '', /node c_n3/);
    t.deepEqual(segmentFiles(), before, 'no partial or temporary file of the failed COPY');
    const big = await client.query("SELECT bytes FROM sys.tables WHERE name = 'big'");
    t.is(Number(big.rows[0].bytes), 0);
    t.is((await client.query('SELECT 1 AS one')).rows[0].one, 1);
  },
);

test.serial('a rebuild whose destination is full fails with the same 53100 wording and hint', async (t) => {
  const [victim] = segmentFiles();
  unlinkSync(join(fullDevice, 'segments', victim));
  // Fill what is left of the file system.
  const filler = join(mountPoint, 'filler');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (let i = 0; ; i++) writeFileSync(filler, chunk, { flag: i ? 'a' : 'w' });
  } catch (e) {
    t.is((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  const check = await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
  t.is(check.status, 'COMPLETE', check.error ?? '');
  const task = await runTask(client, "CREATE TASK TYPE rebuild LOCATION CLUSTER c OPTIONS node = 'c_n3'");
  t.is(task.status, 'FAILED');
  t.regex(
    task.error ?? '',
    /could not extend file ".+": No space left on device HINT: Check free disk space\./,
  );
  t.deepEqual(
    segmentFiles().filter((f) => !f.endsWith('.seg')),
    [],
    'no temporary file of the failed rebuild',
  );
});
