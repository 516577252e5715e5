import test from 'ava';
import { runJdbcProgram } from './helpers/run';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

test('pgjdbc: prepared statement x7 (binary switch), metadata types, fetch size, 42703 then 25P02', async (t) => {
  const { code, stderr, out } = await runJdbcProgram('JdbcClient.java', [
    String(server.port),
    ADMIN_PASSWORD,
  ]);
  t.is(code, 0, stderr);
  t.regex(out.product, /^PostgreSQL 15\.0/);
  t.is(out.repeated, '2,4,6,8,10,12,14,');
  t.is(out.types, 'uuid,timestamptz,int8,float8,json,');
  t.is(out.fetched, `95:${(95 * 96) / 2}`);
  t.is(out.error, '42703');
  t.is(out.in_failed_tx, '25P02');
  t.is(out.after, 'ok');
});
