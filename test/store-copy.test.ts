// COPY in and out through real clients, the topology DDL, and what happens when segments are lost.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
const SEG = 65536; // shard size; a group holds 4 * 64 KiB of data
const GROUP = 4 * SEG;

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  await client.connect();
  await createTopology(client, server.dataDir, { segmentSize: SEG });
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

async function copyIn(table: string, data: Buffer): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT binary)`));
  await pipeline(Readable.from([data]), stream);
}

async function copyOut(table: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const stream = client.query(copyTo(`COPY ${table} TO STDOUT WITH (FORMAT binary)`));
  await pipeline(
    stream,
    new Writable({
      write(chunk, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

let tables = 0;
async function freshTable(): Promise<string> {
  const name = `t${++tables}`;
  await client.query(`CREATE TABLE ${name} (data bytea) IN CLUSTER c1`);
  return name;
}

for (const [label, size] of [
  ['empty', 0],
  ['one byte', 1],
  ['exactly one group', GROUP],
  ['one byte more than a group', GROUP + 1],
  ['many groups', 9 * GROUP + 12345],
] as [string, number][]) {
  test.serial(`node-postgres COPY round trip: ${label} (${size} bytes)`, async (t) => {
    const table = await freshTable();
    const data = randomBytes(size);
    await copyIn(table, data);
    const back = await copyOut(table);
    t.is(back.length, data.length);
    t.true(back.equals(data));
    const info = await client.query('SELECT bytes, segment_groups FROM sys.tables WHERE name = $1', [table]);
    t.is(Number(info.rows[0].bytes), size);
    t.is(Number(info.rows[0].segment_groups), Math.ceil(size / GROUP));
    const segs = await client.query(
      'SELECT count(*)::int4 AS n, count(DISTINCT s.node_name)::int4 AS nodes FROM sys.segments s JOIN sys.segment_groups g ON g.id = s.segment_group_id JOIN sys.tables t ON t.id = g.table_id WHERE t.name = $1 GROUP BY s.segment_group_id',
      [table],
    );
    for (const r of segs.rows) t.deepEqual([r.n, r.nodes], [6, 6], 'six segments on six nodes per group');
  });
}

test.serial('psql \\copy round trip of a binary file, byte-identical', async (t) => {
  const table = await freshTable();
  const file = join(server.dataDir, 'in.bin');
  const out = join(server.dataDir, 'out.bin');
  writeFileSync(file, randomBytes(3 * GROUP + 777));
  const r = await run('psql', [
    server.dsn,
    '-X',
    '-c',
    `\\copy ${table} from '${file}' with (format binary)`,
    '-c',
    `\\copy ${table} to '${out}' with (format binary)`,
  ]);
  t.is(r.code, 0, r.stderr);
  // Random bytes hold no tuple of the binary COPY format: both tags count 0 rows (docs/decisions.md).
  t.deepEqual(r.stdout.trim().split('\n'), ['COPY 0', 'COPY 0']);
  t.true(readFileSync(out).equals(readFileSync(file)));
});

async function segmentsOf(
  table: string,
  seq = 0,
): Promise<{ path: string; position: number; storage_id: string }[]> {
  const r = await client.query(
    `SELECT s.path, s.position, s.storage_id FROM sys.segments s JOIN sys.segment_groups g ON g.id = s.segment_group_id
     JOIN sys.tables t ON t.id = g.table_id WHERE t.name = $1 AND g.seq = $2 ORDER BY s.position`,
    [table, seq],
  );
  return r.rows;
}

test.serial(
  'with one and two segments of a group deleted or corrupted the data still reads back identical; three fail clearly',
  async (t) => {
    const table = await freshTable();
    const data = randomBytes(3 * GROUP);
    await copyIn(table, data);
    const g0 = await segmentsOf(table, 0);
    const g1 = await segmentsOf(table, 1);
    unlinkSync(g0[1].path); // a data segment gone
    t.true((await copyOut(table)).equals(data));
    const bytes = readFileSync(g0[3].path); // a data segment corrupted
    bytes[bytes.length - 10] ^= 0x55;
    writeFileSync(g0[3].path, bytes);
    const p = readFileSync(g1[0].path); // and in another group, a header byte
    p[20] ^= 0x01;
    writeFileSync(g1[0].path, p);
    t.true((await copyOut(table)).equals(data));
    // reads repair on the fly and tell the catalog: the vanished file is MISSING, the corrupt one DAMAGED
    const st = await client.query('SELECT DISTINCT status FROM sys.segments WHERE storage_id = $1', [
      g0[1].storage_id,
    ]);
    t.is(st.rows[0].status, 'MISSING');
    const st3 = await client.query('SELECT status FROM sys.segments WHERE storage_id = $1', [
      g0[3].storage_id,
    ]);
    t.is(st3.rows[0].status, 'DAMAGED');
    unlinkSync(g0[5].path); // third loss in group 0
    const e = await t.throwsAsync<Error & { code: string; hint: string }>(copyOut(table));
    t.regex(e?.message ?? '', new RegExp(`segment group \\d+ of table "${table}" cannot be read`));
    t.regex(e?.hint ?? '', /rebuild/);
    // the session survives
    t.is((await client.query('SELECT 1 AS x')).rows[0].x, 1);
  },
);

test.serial('a COPY that the client abandons leaves no segment group and no file behind', async (t) => {
  const table = await freshTable();
  const before = countFiles();
  const stream = client.query(copyFrom(`COPY ${table} FROM STDIN`));
  stream.write(randomBytes(2 * GROUP + 100));
  stream.destroy(new Error('client gave up')); // sends CopyFail
  await t.throwsAsync(new Promise((_res, rej) => stream.on('error', rej)));
  await new Promise((r) => setTimeout(r, 200));
  const g = await client.query('SELECT segment_groups FROM sys.tables WHERE name = $1', [table]);
  t.is(Number(g.rows[0].segment_groups), 0);
  t.is(countFiles(), before);
});

function countFiles(): number {
  let n = 0;
  const root = join(server.dataDir, 'devices');
  for (const node of readdirSync(root)) {
    for (const d of readdirSync(join(root, node))) {
      const seg = join(root, node, d, 'segments');
      if (existsSync(seg)) n += readdirSync(seg).length;
    }
  }
  return n;
}

test.serial('topology DDL: clear errors for what cannot be', async (t) => {
  const code = async (sql: string) =>
    (await t.throwsAsync<Error & { code: string }>(client.query(sql), undefined, sql))?.code;
  t.is(await code('CREATE STORAGESPACE bad WIDTH 6 PARITY_WIDTH 6'), '22023');
  t.is(await code('CREATE STORAGESPACE bad WIDTH 2 PARITY_WIDTH 1'), '22023');
  t.is(await code('CREATE STORAGESPACE c1_space WIDTH 6 PARITY_WIDTH 2'), '42710');
  t.is(await code('CREATE STORAGESPACE x WIDTH'), '42601');
  t.is(await code("CREATE NODE nx IN CLUSTER c1 DEVICES ('/definitely/not/here')"), '58P01');
  t.is(await code('CREATE NODE nx IN CLUSTER nope'), '42704');
  t.is(await code('CREATE NODE c1_n1 IN CLUSTER c1'), '42710');
  t.is(await code('DROP NODE c1_n1'), '2BP01'); // holds segments
  t.is(await code('DROP STORAGESPACE c1_space'), '2BP01');
  await client.query('CREATE STORAGESPACE small WIDTH 3 PARITY_WIDTH 1');
  await client.query('CREATE CLUSTER lonely STORAGESPACE small');
  t.is(await code('CREATE TABLE tt (a int) IN CLUSTER lonely'), '55000'); // fewer nodes than WIDTH
  t.is(await code('COPY nope FROM STDIN'), '42P01');
  // an empty node can be dropped; a device can be added, and is checked
  const dir = join(server.dataDir, 'devices', 'extra');
  mkdirSync(dir, { recursive: true });
  await client.query(`CREATE NODE spare IN CLUSTER lonely DEVICES ('${dir}')`);
  t.is(await code(`ALTER NODE c1_n1 ADD DEVICE '${dir}'`), '42710');
  await client.query('DROP NODE spare');
  await client.query('DROP CLUSTER lonely');
  await client.query('DROP STORAGESPACE small');
  t.is(
    (await client.query("SELECT count(*)::int4 AS n FROM sys.clusters WHERE name = 'lonely'")).rows[0].n,
    0,
  );
});

test.serial('a non-sysadmin cannot change the topology', async (t) => {
  await client.query("CREATE USER reader WITH PASSWORD 'pw'");
  const other = new pg.Client({ ...server.pgConfig, user: 'reader', password: 'pw' });
  await other.connect();
  try {
    const e = await t.throwsAsync<Error & { code: string }>(
      other.query('CREATE STORAGESPACE z WIDTH 3 PARITY_WIDTH 1'),
    );
    t.is(e?.code, '42501');
  } finally {
    await other.end();
  }
});

test.serial('DROP TABLE removes its segment files', async (t) => {
  const table = await freshTable();
  await copyIn(table, randomBytes(GROUP));
  const paths = (await segmentsOf(table)).map((s) => s.path);
  t.true(paths.every((p) => existsSync(p)));
  await client.query(`DROP TABLE ${table}`);
  t.true(paths.every((p) => !existsSync(p)));
});

test.after.always(() => {
  rmSync(join(server?.dataDir ?? '/nonexistent', 'in.bin'), { force: true });
});

test.serial(
  'two COPYs into one table at the same time both load, each as a contiguous run of groups',
  async (t) => {
    const table = await freshTable();
    const other = new pg.Client(server.pgConfig);
    await other.connect();
    try {
      const a = randomBytes(3 * GROUP + 5);
      const b = randomBytes(2 * GROUP + 7);
      const load = (c: pg.Client, data: Buffer) =>
        pipeline(
          Readable.from(
            (async function* () {
              for (let off = 0; off < data.length; off += 65536) {
                yield data.subarray(off, off + 65536);
                await new Promise((r) => setTimeout(r, 2));
              }
            })(),
          ),
          c.query(copyFrom(`COPY ${table} FROM STDIN`)),
        );
      await Promise.all([load(client, a), load(other, b)]);
      const back = await copyOut(table);
      t.true(back.equals(Buffer.concat([a, b])) || back.equals(Buffer.concat([b, a])));
    } finally {
      await other.end();
    }
  },
);
