// Each program in examples/ runs against a test server, connected only through PGHOST, PGPORT, PGUSER,
// PGPASSWORD and PGDATABASE (a user other than admin, so a default written into a program would fail).
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { JDBC_JAR, PYTHON, run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';
import { createTopology } from './helpers/topology';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
let server: TestServer;
let env: Record<string, string>;

test.before(async () => {
  server = await startTestServer();
  const c = new pg.Client(server.pgConfig);
  await c.connect();
  await createTopology(c, server.dataDir);
  await c.query("CREATE USER example_reader WITH PASSWORD 'reader-pw'");
  c.on('notice', () => {});
  await c.query('CREATE TASK example_check TYPE check_disk LOCATION SYSTEM');
  await c.end();
  env = {
    PGHOST: '127.0.0.1',
    PGPORT: String(server.port),
    PGUSER: 'example_reader',
    PGPASSWORD: 'reader-pw',
    PGDATABASE: 'segtasks',
  };
});

test.after.always(async () => {
  await server?.stop();
});

const examples: [string, string, string[]][] = [
  ['node-client.js', process.execPath, ['node-client.js']],
  ['python-client.py', PYTHON, ['python-client.py']],
  ['Tasks.java', 'java', ['-cp', JDBC_JAR, 'Tasks.java', 'check_disk']],
  ['tasks.sql', 'psql', ['-X', '-f', 'tasks.sql']],
];

for (const [name, cmd, args] of examples) {
  test(`examples/${name} runs against the server named by the PG* variables`, async (t) => {
    const r = await run(
      cmd,
      args.map((a) => (a.includes('.') && !a.startsWith('/') ? join(EXAMPLES, a) : a)),
      {
        env,
        timeoutMs: 90_000,
      },
    );
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /example_check/, r.stdout);
  });
}
