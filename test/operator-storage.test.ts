// What an operator is told about storage: COPY tags count rows, a segment repaired during COPY TO is marked
// and named, a node back ONLINE gets back the segments whose files are sound, unknown names come with a hint.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
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
const notices: { message?: string; hint?: string }[] = [];
const SEG = 4096;

test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  client.on('notice', (n) => notices.push(n));
  await client.connect();
  await createTopology(client, server.dataDir, { segmentSize: SEG });
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

let tables = 0;
async function freshTable(): Promise<string> {
  const name = `op${++tables}`;
  await client.query(`CREATE TABLE ${name} (line text) IN CLUSTER c1`);
  return name;
}

async function copyIn(sql: string, data: Buffer): Promise<number> {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from([data]), stream);
  return stream.rowCount;
}

async function copyOut(sql: string): Promise<{ data: Buffer; rows: number }> {
  const parts: Buffer[] = [];
  const stream = client.query(copyTo(sql));
  await pipeline(
    stream,
    new Writable({
      write(chunk, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return { data: Buffer.concat(parts), rows: stream.rowCount ?? -1 };
}

async function segmentsOf(table: string): Promise<
  {
    storage_id: string;
    path: string;
    node_name: string;
    status: string;
    position: number;
    segment_group_id: string;
  }[]
> {
  return (
    await client.query(
      `SELECT s.storage_id, s.path, s.node_name, s.status, s.position, s.segment_group_id FROM sys.segments s
       JOIN sys.segment_groups g ON g.id = s.segment_group_id JOIN sys.tables t ON t.id = g.table_id
       WHERE t.name = $1 ORDER BY g.seq, s.position`,
      [table],
    )
  ).rows;
}

test.serial('COPY tags count lines for text and csv, both ways, and the bytes stay as loaded', async (t) => {
  const table = await freshTable();
  const text = Buffer.from('1\tone\n2\ttwo\n3\tthree\n');
  t.is(await copyIn(`COPY ${table} FROM STDIN`, text), 3);
  const csv = Buffer.from('4,"four\nlines"\n5,five');
  t.is(await copyIn(`COPY ${table} FROM STDIN WITH (FORMAT csv)`, csv), 3);
  const out = await copyOut(`COPY ${table} TO STDOUT`);
  t.is(out.rows, 6);
  t.true(out.data.equals(Buffer.concat([text, csv])));
});

test.serial(
  'psql \\copy in binary format: the tag counts the tuples of the binary COPY stream',
  async (t) => {
    const table = await freshTable();
    // Two tuples of one text field, in PostgreSQL's binary COPY format.
    const tuple = (s: string) => {
      const b = Buffer.alloc(6 + s.length);
      b.writeInt16BE(1, 0);
      b.writeInt32BE(s.length, 2);
      b.write(s, 6);
      return b;
    };
    const file = join(server.dataDir, 'tuples.bin');
    const out = join(server.dataDir, 'tuples.out');
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const data = Buffer.concat([header, tuple('alpha'), tuple('beta'), Buffer.from([0xff, 0xff])]);
    writeFileSync(file, data);
    const r = await run('psql', [
      server.dsn,
      '-X',
      '-c',
      `\\copy ${table} from '${file}' with (format binary)`,
      '-c',
      `\\copy ${table} to '${out}' with (format binary)`,
    ]);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(r.stdout.trim().split('\n'), ['COPY 2', 'COPY 2']);
    t.true(readFileSync(out).equals(data), 'byte-identical');
  },
);

test.serial(
  'a segment rebuilt during COPY TO is marked DAMAGED, logged, and named in a NOTICE',
  async (t) => {
    const table = await freshTable();
    const data = Buffer.from(Array.from({ length: 2000 }, (_, i) => `row ${i}\n`).join(''));
    await copyIn(`COPY ${table} FROM STDIN`, data);
    const victim = (await segmentsOf(table))[1];
    const file = readFileSync(victim.path);
    file[file.length - 20] ^= 0xff;
    writeFileSync(victim.path, file);
    const logged: unknown[] = [];
    const logger = server.app.logger;
    const warn = logger.warn;
    logger.warn = ((obj: unknown) => {
      logged.push(obj);
    }) as typeof logger.warn;
    // psql prints what the server says during the COPY on stderr.
    const outFile = join(server.dataDir, `${table}.out`);
    const copyWithPsql = () => run('psql', [server.dsn, '-X', '-c', `\\copy ${table} to '${outFile}'`]);
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await copyWithPsql();
    } finally {
      logger.warn = warn;
    }
    t.is(r.code, 0, r.stderr);
    t.true(readFileSync(outFile).equals(data), 'the reader still gets every byte');
    const seg = (await segmentsOf(table)).find((s) => s.storage_id === victim.storage_id)!;
    t.is(seg.status, 'DAMAGED');
    t.true(
      r.stderr.includes(
        `WARNING:  segment ${victim.storage_id} (${victim.path}) of table "${table}" failed verification`,
      ),
      r.stderr,
    );
    t.regex(
      r.stderr,
      /HINT: {2}Repair it for good with CREATE TASK TYPE rebuild LOCATION CLUSTER c1 OPTIONS segment_groups = \[\d+\]/,
    );
    t.like(logged[0] as object, {
      event: 'segment_repaired_on_read',
      storage_id: victim.storage_id,
      path: victim.path,
      status: 'DAMAGED',
    });
    // A second read does not report it again: it is DAMAGED now, and rebuilt quietly until a rebuild task runs.
    const again = await copyWithPsql();
    t.is(again.code, 0);
    t.notRegex(again.stderr, /WARNING/);
    t.true(readFileSync(outFile).equals(data));
  },
);

test.serial(
  'SET ONLINE: MISSING segments whose files verify are INTACT again, the rest wait for rebuild',
  async (t) => {
    const table = await freshTable();
    await copyIn(`COPY ${table} FROM STDIN`, Buffer.from('x'.repeat(40 * SEG)));
    const node = (await segmentsOf(table))[0].node_name;
    const onNode = (await segmentsOf(table)).filter((s) => s.node_name === node);
    t.true(onNode.length >= 3);
    notices.length = 0;
    await client.query(`ALTER NODE ${node} SET OFFLINE`);
    for (const s of await segmentsOf(table)) if (s.node_name === node) t.is(s.status, 'MISSING');
    // While the node was away, one of its files was lost.
    unlinkSync(onNode[0].path);
    notices.length = 0;
    await client.query(`ALTER NODE ${node} SET ONLINE`);
    const after = (await segmentsOf(table)).filter((s) => s.node_name === node);
    t.is(after.find((s) => s.storage_id === onNode[0].storage_id)!.status, 'MISSING');
    t.true(after.filter((s) => s.storage_id !== onNode[0].storage_id).every((s) => s.status === 'INTACT'));
    const n = notices.find((x) => x.message?.startsWith(`node ${node} is ONLINE`));
    t.truthy(n, JSON.stringify(notices));
    const all = (
      await client.query('SELECT count(*)::int AS n FROM sys.segments WHERE node_name = $1', [node])
    ).rows[0].n;
    const intact = (
      await client.query(
        "SELECT count(*)::int AS n FROM sys.segments WHERE node_name = $1 AND status = 'INTACT'",
        [node],
      )
    ).rows[0].n;
    t.regex(
      n!.message!,
      new RegExp(`: ${intact} MISSING segment\\(s\\) verified cleanly and are INTACT again; 1 stay MISSING`),
    );
    t.true(all > intact);
    t.regex(n!.hint ?? '', /CREATE TASK TYPE rebuild LOCATION CLUSTER c1 OPTIONS node = /);
  },
);

test.serial(
  'unknown nodes and clusters: 42704 with a hint that says where the names are listed',
  async (t) => {
    const node = await t.throwsAsync(client.query('ALTER NODE nosuch SET ONLINE'));
    t.like(node as object, {
      code: '42704',
      hint: 'SELECT name, cluster_name FROM sys.nodes lists the nodes.',
    });
    const drop = await t.throwsAsync(client.query('DROP NODE nosuch'));
    t.like(drop as object, {
      code: '42704',
      hint: 'SELECT name, cluster_name FROM sys.nodes lists the nodes.',
    });
    const cluster = await t.throwsAsync(client.query('CREATE TABLE nowhere (b bytea) IN CLUSTER nosuch'));
    t.like(cluster as object, { code: '42704', hint: 'SELECT name FROM sys.clusters lists the clusters.' });
  },
);

test('SELECT of a user table is 0A000 pointing at COPY, not 42P01 (sys.tables lists it)', async (t) => {
  await client.query('CREATE TABLE selected (line text) IN CLUSTER c1');
  for (const sql of ['SELECT * FROM selected', 'SELECT count(*) FROM public.selected']) {
    const e = await t.throwsAsync<Error & { code: string; hint?: string }>(client.query(sql));
    t.is(e?.code, '0A000', sql);
    t.regex(e?.message ?? '', /read with COPY/);
    t.regex(e?.hint ?? '', /COPY selected TO STDOUT/);
  }
  const missing = await t.throwsAsync<Error & { code: string }>(client.query('SELECT * FROM not_a_table'));
  t.is(missing?.code, '42P01');
});
