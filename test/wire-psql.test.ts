// psql 15 as a subprocess: simple protocol, multi-statement strings, transactions, session statements.
import test from 'ava';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

const psql = (args: string[], input?: string) =>
  run('psql', [server.dsn, '-X', '-v', 'ON_ERROR_STOP=0', ...args], {
    input,
    env: { PGCONNECT_TIMEOUT: '10' },
  });

test('psql: SELECT * FROM sys.tasks returns an empty result with the contract columns, then rate and ETA', async (t) => {
  const r = await psql(['-A', '-c', 'SELECT * FROM sys.tasks']);
  t.is(r.code, 0, r.stderr);
  const [header, count] = r.stdout.trim().split('\n');
  t.is(
    header,
    'id|name|type|location_type|location_name|options|status|created_by|created_at|started_at|finished_at|fraction_complete|bytes_total|bytes_done|segments_total|segments_done|segments_failed|error|bytes_per_sec|eta',
  );
  t.is(count, '(0 rows)');
});

test('psql: a multi-statement string stops at the first error and reports its position', async (t) => {
  const r = await psql(['-A', '-t', '-c', 'SELECT 1; SELECT nope FROM sys.tasks; SELECT 3']);
  t.regex(r.stderr, /column "nope" does not exist/);
  t.notRegex(r.stdout, /3/);
  const syntax = await psql(['-c', 'SELECT 1 FROM sys.tasks WHERE']);
  t.regex(syntax.stderr, /ERROR: {2}syntax error at end of input/);
  const garbage = await psql(['-c', 'SELEKT 1']);
  t.regex(garbage.stderr, /syntax error at or near "SELEKT"/);
  t.regex(garbage.stderr, /LINE 1: SELEKT 1/);
});

test('psql: transaction status follows BEGIN / error / ROLLBACK, and SET/SHOW work', async (t) => {
  const script = [
    'BEGIN;',
    "SELECT 'in tx';",
    'SELECT nope;',
    "SELECT 'ignored';",
    'ROLLBACK;',
    "SET application_name = 'seg-test';",
    'SHOW application_name;',
    'SHOW TRANSACTION ISOLATION LEVEL;',
    "SET TIME ZONE 'UTC';",
    "SELECT current_setting('application_name');",
    'RESET application_name;',
    'SHOW application_name;',
    'DISCARD ALL;',
    '-- only a comment',
    ';',
  ].join('\n');
  const r = await psql(['-A', '-t', '-f', '-'], script);
  t.regex(r.stderr, /current transaction is aborted, commands ignored until end of transaction block/);
  const out = r.stdout.split('\n').filter(Boolean);
  t.deepEqual(
    out.filter((l) => !/^(BEGIN|ROLLBACK|SET|RESET|DISCARD ALL)$/.test(l)),
    ['in tx', 'seg-test', 'read committed', 'seg-test'],
  );
});

test('psql: users and roles: CREATE USER, GRANT, login as the new user, privileges', async (t) => {
  const r = await psql([
    '-c',
    "CREATE USER alice WITH PASSWORD 'pw-alice'",
    '-c',
    "CREATE USER bob WITH PASSWORD 'pw-bob'",
    '-c',
    'GRANT sysadmin TO bob',
    '-A',
    '-t',
    '-c',
    "SELECT rolname || ':' || rolsuper FROM pg_roles WHERE rolname IN ('alice', 'bob') ORDER BY 1",
  ]);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes('alice:false'));
  t.true(r.stdout.includes('bob:true'));
  const asAlice = await run('psql', [
    `host=127.0.0.1 port=${server.port} user=alice password=pw-alice dbname=segtasks`,
    '-X',
    '-c',
    "CREATE USER eve WITH PASSWORD 'x'",
  ]);
  t.regex(asAlice.stderr, /permission denied/);
  const stored = server.app
    .sqlite!.db.prepare("SELECT scram_verifier, md5_hash FROM users WHERE name = 'alice'")
    .get() as {
    scram_verifier: string;
    md5_hash: string;
  };
  t.regex(stored.scram_verifier, /^SCRAM-SHA-256\$4096:/);
  t.false(JSON.stringify(stored).includes('pw-alice'), 'no password stored in clear');
  const drop = await psql(['-c', 'DROP USER alice', '-c', 'DROP USER alice']);
  t.regex(drop.stderr, /role "alice" does not exist/);
});
