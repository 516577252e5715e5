// pgjdbc 42.5 (always extended protocol; named statements and binary results after 5 runs; fetch size with
// portal suspension) against the real server.
import { join } from 'node:path';
import test from 'ava';
import { JDBC_JAR, run } from './helpers/run';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

test('pgjdbc: prepared statement x7 (binary switch), metadata types, fetch size, 42703 then 25P02', async (t) => {
  const program = join(__dirname, '..', '..', 'test', 'clients', 'JdbcClient.java');
  const r = await run('java', ['-cp', JDBC_JAR, program, String(server.port), ADMIN_PASSWORD], {
    timeoutMs: 90_000,
  });
  t.is(r.code, 0, r.stderr);
  const out = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  t.regex(out.product, /^PostgreSQL 15\.0/);
  t.is(out.repeated, '2,4,6,8,10,12,14,');
  t.is(out.types, 'uuid,timestamptz,int8,float8,json,');
  t.is(out.fetched, `95:${(95 * 96) / 2}`);
  t.is(out.error, '42703');
  t.is(out.in_failed_tx, '25P02');
  t.is(out.after, 'ok');
});
