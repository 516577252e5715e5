// Storage DDL and COPY FROM cannot be rolled back, so inside a transaction block they are refused with 25001
// (as PostgreSQL refuses VACUUM there) and nothing is changed; COPY TO, which changes nothing, is allowed.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { startTestServer, type TestServer } from './helpers/server';
import { createTopology } from './helpers/topology';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => server?.stop());

const sqlstate = async (c: pg.Client, sql: string) => {
  try {
    await c.query(sql);
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

test('storage DDL in a transaction block is 25001 and leaves nothing; COPY FROM too, COPY TO works', async (t) => {
  const c = new pg.Client(server.pgConfig);
  await c.connect();
  try {
    await c.query('BEGIN');
    t.is(await sqlstate(c, 'CREATE STORAGESPACE tx_space WIDTH 3 PARITY_WIDTH 1'), '25001');
    await c.query('ROLLBACK');
    t.is(
      (await c.query(`SELECT count(*)::int AS n FROM sys.storage_spaces WHERE name = 'tx_space'`)).rows[0].n,
      0,
    );

    await createTopology(c, server.dataDir, { cluster: 'txc', nodes: 3, width: 3, parity: 1 });
    await c.query('CREATE TABLE txt (line text) IN CLUSTER txc');
    await pipeline(Readable.from([Buffer.from('one\ntwo\n')]), c.query(copyFrom('COPY txt FROM STDIN')));

    await c.query('BEGIN');
    const copyIn = c.query(copyFrom('COPY txt FROM STDIN'));
    const err = await pipeline(Readable.from([Buffer.from('three\n')]), copyIn).then(
      () => null,
      (e) => e as { code: string; message: string },
    );
    t.is(err?.code, '25001', err?.message);
    await c.query('ROLLBACK');

    await c.query('BEGIN');
    const chunks: Buffer[] = [];
    const out = c.query(copyTo('COPY txt TO STDOUT'));
    for await (const chunk of out) chunks.push(chunk as Buffer);
    await c.query('COMMIT');
    t.is(Buffer.concat(chunks).toString(), 'one\ntwo\n');
    const bytes = (await c.query(`SELECT bytes::int AS b FROM sys.tables WHERE name = 'txt'`)).rows[0].b;
    t.is(bytes, 8, 'the refused COPY wrote nothing');
  } finally {
    await c.end();
  }
});
