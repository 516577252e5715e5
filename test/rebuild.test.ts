// rebuild end to end through SQL and psql \copy: segments lost on disk come back from parity.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';
import { findings, runTask } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
const SEG = 65536;

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  client.on('notice', () => {});
  await client.connect();
  await createTopology(client, server.dataDir, { segmentSize: SEG });
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

async function psqlCopy(cmd: string): Promise<void> {
  const r = await run('psql', [server.dsn, '-X', '-c', cmd]);
  if (r.code !== 0) throw new Error(r.stderr);
}

async function loadFile(table: string, bytes: number): Promise<string> {
  const file = join(server.dataDir, `${table}.in`);
  writeFileSync(file, randomBytes(bytes));
  await client.query(`CREATE TABLE ${table} (b bytea) IN CLUSTER c1`);
  await psqlCopy(`\\copy ${table} from '${file}' with (format binary)`);
  return file;
}

async function readBack(table: string): Promise<Buffer> {
  const out = join(server.dataDir, `${table}.out`);
  await psqlCopy(`\\copy ${table} to '${out}' with (format binary)`);
  return readFileSync(out);
}

const segmentsOf = async (table: string) =>
  (
    await client.query(
      `SELECT s.storage_id, s.path, s.node_name, s.position, s.status, s.segment_group_id, g.seq FROM sys.segments s
       JOIN sys.segment_groups g ON g.id = s.segment_group_id JOIN sys.tables t ON t.id = g.table_id
       WHERE t.name = $1 ORDER BY g.seq, s.position`,
      [table],
    )
  ).rows;

test.serial(
  'a lost node: delete its devices, mark it offline, check_disk fix, rebuild, read back byte-identical',
  async (t) => {
    const file = await loadFile('e2e', 10 * 4 * SEG + 999);
    const node = 'c1_n3';
    rmSync(join(server.dataDir, 'devices', node), { recursive: true, force: true });
    await client.query(`ALTER NODE ${node} SET OFFLINE`);
    const check = await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
    t.is(check.status, 'COMPLETE');
    const lost = (await segmentsOf('e2e')).filter((s) => s.node_name === node);
    t.true(lost.length > 0 && lost.every((s) => s.status === 'MISSING'));

    const task = await runTask(
      client,
      `CREATE TASK bring_back TYPE rebuild LOCATION CLUSTER c1 OPTIONS node = '${node}'`,
    );
    t.is(task.status, 'COMPLETE', task.error ?? '');
    t.is(Number(task.segments_done), lost.length);
    const after = await segmentsOf('e2e');
    t.true(after.every((s) => s.status === 'INTACT'));
    t.true(
      after.every((s) => s.node_name !== node),
      'nothing placed on the offline node',
    );
    const results = await findings(client, task.id);
    t.is(results.filter((r) => r.result === 'REBUILT').length, lost.length);
    // six nodes, width six, one offline: every rebuilt segment shares a node with another of its group
    t.is(results.filter((r) => r.result === 'FAULT_TOLERANCE_REDUCED').length, lost.length);
    t.true((await readBack('e2e')).equals(readFileSync(file)));
    // the node comes back with new (empty) disks: its devices return to service
    for (const d of ['d1', 'd2']) mkdirSync(join(server.dataDir, 'devices', node, d), { recursive: true });
    await client.query(`ALTER NODE ${node} SET ONLINE`);
    const devs = await client.query('SELECT DISTINCT status FROM sys.storage_devices WHERE node_name = $1', [
      node,
    ]);
    t.deepEqual(
      devs.rows.map((r) => r.status),
      ['ACTIVE'],
    );
  },
);

test.serial(
  'a deleted segment on a healthy disk is rebuilt in place; a bad survivor is marked DAMAGED and another used',
  async (t) => {
    const file = await loadFile('inplace', 3 * 4 * SEG);
    const segs = await segmentsOf('inplace');
    const victim = segs.find((s) => Number(s.seq) === 0 && s.position === 1)!;
    unlinkSync(victim.path);
    const badSurvivor = segs.find((s) => Number(s.seq) === 0 && s.position === 0)!;
    await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
    // corrupt a survivor after the check: the rebuild finds it when it reads it
    const b = readFileSync(badSurvivor.path);
    b[b.length - 1] ^= 1;
    writeFileSync(badSurvivor.path, b);
    const task = await runTask(
      client,
      "CREATE TASK TYPE rebuild OPTIONS table_id = '" +
        (await client.query("SELECT id FROM sys.tables WHERE name = 'inplace'")).rows[0].id +
        "'",
    );
    t.is(task.status, 'COMPLETE', task.error ?? '');
    const r = await findings(client, task.id);
    t.true(
      r.some(
        (x) => x.storage_id === victim.storage_id && x.result === 'REBUILT' && /in place/.test(x.detail),
      ),
    );
    t.true(r.some((x) => x.storage_id === badSurvivor.storage_id && x.result === 'CHECKSUM_MISMATCH'));
    const st = new Map((await segmentsOf('inplace')).map((s) => [s.storage_id, s]));
    t.is(st.get(victim.storage_id)?.status, 'INTACT');
    t.is(st.get(victim.storage_id)?.path, victim.path);
    t.is(st.get(badSurvivor.storage_id)?.status, 'DAMAGED', 'left for the next rebuild');
    const second = await runTask(client, 'CREATE TASK TYPE rebuild LOCATION CLUSTER c1');
    t.is(second.status, 'COMPLETE');
    t.true((await segmentsOf('inplace')).every((s) => s.status === 'INTACT'));
    t.true((await readBack('inplace')).equals(readFileSync(file)));
  },
);

test.serial(
  'more losses than parity: that group UNRECOVERABLE (group and table named), the others rebuilt, task FAILED',
  async (t) => {
    await loadFile('lossy', 3 * 4 * SEG);
    const segs = await segmentsOf('lossy');
    for (const s of segs.filter((x) => Number(x.seq) === 1 && x.position < 3)) unlinkSync(s.path); // 3 of 6
    const other = segs.find((x) => Number(x.seq) === 2 && x.position === 4)!;
    unlinkSync(other.path);
    await runTask(client, 'CREATE TASK TYPE check_disk OPTIONS fix = true');
    const task = await runTask(client, 'CREATE TASK TYPE rebuild LOCATION CLUSTER c1');
    t.is(task.status, 'FAILED');
    t.regex(task.error ?? '', /1 segment group\(s\) could not be rebuilt/);
    const r = await findings(client, task.id);
    const bad = r.filter((x) => x.result === 'UNRECOVERABLE');
    t.is(bad.length, 1);
    t.regex(bad[0].detail, /segment group \d+ of table "lossy"/);
    t.true(r.some((x) => x.storage_id === other.storage_id && x.result === 'REBUILT'));
    t.is(
      (await segmentsOf('lossy')).filter((s) => Number(s.seq) === 2).every((s) => s.status === 'INTACT'),
      true,
    );
  },
);

test.serial('rebuild takes SYSTEM and CLUSTER only; unknown node, table or group are 42704', async (t) => {
  const code = async (sql: string) =>
    (await t.throwsAsync<Error & { code: string }>(client.query(sql), undefined, sql))?.code;
  t.is(await code("CREATE TASK TYPE rebuild LOCATION NODE 'c1_n1'"), '22023');
  t.is(await code("CREATE TASK TYPE rebuild OPTIONS node = 'nope'"), '42704');
  t.is(
    await code("CREATE TASK TYPE rebuild OPTIONS table_id = '00000000-0000-4000-8000-000000000000'"),
    '42704',
  );
  t.is(await code('CREATE TASK TYPE rebuild OPTIONS segment_groups = [999999]'), '42704');
  t.is(await code('CREATE TASK TYPE rebuild LOCATION CLUSTER nope'), '42704');
});
