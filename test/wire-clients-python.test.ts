// psycopg2 (simple protocol inside BEGIN/COMMIT), psycopg 3 (extended, binary int2 params, binary results)
// and asyncpg (named statements, always binary results) against the real server.
import { join } from 'node:path';
import test from 'ava';
import { PYTHON, run } from './helpers/run';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

const script = join(__dirname, '..', '..', 'test', 'clients', 'py_clients.py');

async function drive(driver: string): Promise<Record<string, unknown>> {
  const r = await run(PYTHON, [script, driver, '127.0.0.1', String(server.port), 'admin', ADMIN_PASSWORD]);
  if (r.code !== 0) throw new Error(`${driver} exited ${r.code}: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  if (out.exception) throw new Error(`${driver}: ${out.exception}\n${r.stderr}`);
  return out;
}

test('psycopg2: SCRAM, typed values, 42703 then 25P02 inside the transaction, ROLLBACK recovers', async (t) => {
  const out = await drive('psycopg2');
  t.deepEqual(out.values, [42, 'datetime', true, 1.5, 0]);
  t.deepEqual(out.type_codes, [23, 1184, 16, 701, 20]);
  t.is(out.error, '42703');
  t.is(out.after_error, '25P02');
  t.is(out.after_rollback, 'back');
  t.is(out.multi_error, '42703');
  t.is(out.after_multi, 4);
});

test('psycopg 3: binary int2 parameters, binary results for int8/float8/bool/text/timestamptz/uuid', async (t) => {
  const out = await drive('psycopg');
  t.deepEqual(out.values, [42, 'x', 'datetime', 0]);
  t.deepEqual(out.binary, [2 ** 40, 2.5, true, 'txt', 'datetime', '6f1c0000-0000-4000-8000-000000000001']);
  t.is(out.error, '42P01');
  t.is(out.after_error, 'ok');
});

test('asyncpg: binary results, prepared statement column types, error then recovery', async (t) => {
  const out = await drive('asyncpg');
  t.deepEqual(out.values, [42, 'datetime', true, 1.5, 0, '6f1c0000-0000-4000-8000-000000000001']);
  t.deepEqual(out.prepared_types, ['uuid', 'timestamptz', 'int8', 'float8']);
  t.is(out.prepared_rows, 0);
  t.is(out.error, '42703');
  t.is(out.after_error, 'ok');
  t.is(out.interval_seconds, 86400 + 90.5, 'binary interval');
});
