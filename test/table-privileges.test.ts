// Table owners and privileges through psql as users without the sysadmin role: COPY TO needs SELECT, COPY FROM
// needs INSERT, a refused COPY is 42501 and writes nothing; the owner or a sysadmin drops a table holding data,
// and its files go, also when the server dies in the middle of the drop.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { filesUnder } from './helpers/process';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';
import { createTopology } from './helpers/topology';

let server: TestServer;
let admin: pg.Client;

test.before(async () => {
  server = await startTestServer();
  admin = new pg.Client(server.pgConfig);
  admin.on('notice', () => {});
  await admin.connect();
  await createTopology(admin, server.dataDir, { segmentSize: 4096 });
  for (const u of ['alice', 'bob']) await admin.query(`CREATE USER ${u} WITH PASSWORD '${u}-pw'`);
});
test.after.always(async () => {
  await admin?.end();
  await server?.stop();
});

const psql = (user: string, ...commands: string[]) =>
  run('psql', [
    `host=127.0.0.1 port=${server.port} user=${user} password=${user === 'admin' ? server.pgConfig.password : `${user}-pw`} dbname=segtasks`,
    '-X',
    '-v',
    'ON_ERROR_STOP=1',
    ...commands.flatMap((c) => ['-c', c]),
  ]);

async function tableBytes(name: string): Promise<number> {
  return Number((await admin.query('SELECT bytes FROM sys.tables WHERE name = $1', [name])).rows[0].bytes);
}

test.serial(
  'COPY needs SELECT (TO) and INSERT (FROM); a refused COPY is 42501 and writes nothing',
  async (t) => {
    const input = join(server.dataDir, 'lines.txt');
    const output = join(server.dataDir, 'out.txt');
    writeFileSync(input, 'one\ntwo\nthree\n');
    t.is(
      (
        await psql(
          'admin',
          'CREATE TABLE secrets (line text) IN CLUSTER c1',
          `\\copy secrets from '${input}'`,
        )
      ).code,
      0,
    );
    const files = filesUnder(join(server.dataDir, 'devices')).length;

    let r = await psql('alice', `\\copy secrets to '${output}'`);
    t.is(r.code, 1);
    t.regex(r.stderr, /ERROR: {2}permission denied for table secrets/);
    r = await psql('alice', `\\copy secrets from '${input}'`);
    t.is(r.code, 1);
    t.regex(r.stderr, /ERROR: {2}permission denied for table secrets/);
    t.is(await tableBytes('secrets'), 14, 'nothing written');
    t.is(filesUnder(join(server.dataDir, 'devices')).length, files, 'no file written');
    const denied = await new pg.Client({ ...server.pgConfig, user: 'alice', password: 'alice-pw' });
    await denied.connect();
    const e = await t.throwsAsync(denied.query('COPY secrets TO STDOUT'));
    t.is((e as { code?: string }).code, '42501');
    await denied.end();

    t.is((await psql('admin', 'GRANT SELECT ON TABLE secrets TO alice')).code, 0);
    r = await psql('alice', `\\copy secrets to '${output}'`);
    t.is(r.code, 0, r.stderr);
    t.is(readFileSync(output, 'utf8'), 'one\ntwo\nthree\n');
    t.is((await psql('alice', `\\copy secrets from '${input}'`)).code, 1, 'SELECT does not allow COPY FROM');
    t.is((await psql('bob', `\\copy secrets to '${output}'`)).code, 1, 'bob was granted nothing');

    t.is((await psql('admin', 'GRANT INSERT ON secrets TO alice')).code, 0);
    r = await psql('alice', `\\copy secrets from '${input}'`);
    t.is(r.code, 0, r.stderr);
    t.is(await tableBytes('secrets'), 28);

    // Only the owner (or a sysadmin) grants.
    r = await psql('alice', 'GRANT SELECT ON secrets TO bob');
    t.regex(r.stderr, /must be owner of table secrets/);
    t.is((await psql('admin', 'REVOKE SELECT ON TABLE secrets FROM alice')).code, 0);
    t.is((await psql('alice', `\\copy secrets to '${output}'`)).code, 1, 'revoked');
    t.is((await psql('alice', `\\copy secrets from '${input}'`)).code, 0, 'INSERT is still granted');
    // psql's \dp and information_schema.table_privileges show the owner and the grants as PostgreSQL does.
    t.is((await psql('admin', 'GRANT SELECT ON secrets TO bob')).code, 0);
    const dp = await psql('admin', '\\pset format unaligned', '\\dp secrets');
    t.is(dp.code, 0, dp.stderr);
    t.true(
      dp.stdout.includes('public|secrets|table|admin=arwdDxt/admin\nalice=a/admin\nbob=r/admin||'),
      dp.stdout,
    );
    const info = await admin.query(
      "SELECT grantor, grantee, privilege_type FROM information_schema.table_privileges WHERE table_name = 'secrets' AND grantee <> 'admin' ORDER BY grantee",
    );
    t.deepEqual(info.rows, [
      { grantor: 'admin', grantee: 'alice', privilege_type: 'INSERT' },
      { grantor: 'admin', grantee: 'bob', privilege_type: 'SELECT' },
    ]);
    const missing = await psql('admin', 'GRANT SELECT ON secrets TO nobody');
    t.regex(missing.stderr, /role "nobody" does not exist/);
  },
);

test.serial(
  'the owner of a table (or a sysadmin) drops it with its data; its files are removed',
  async (t) => {
    await admin.query('GRANT sysadmin TO alice');
    const input = join(server.dataDir, 'owned.txt');
    writeFileSync(input, 'x\n'.repeat(20_000));
    t.is(
      (await psql('alice', 'CREATE TABLE owned (line text) IN CLUSTER c1', `\\copy owned from '${input}'`))
        .code,
      0,
    );
    await admin.query('REVOKE sysadmin FROM alice');
    t.is((await admin.query("SELECT owner FROM sys.tables WHERE name = 'owned'")).rows[0].owner, 'alice');
    const paths = (
      await admin.query(
        "SELECT s.path FROM sys.segments s JOIN sys.segment_groups g ON g.id = s.segment_group_id JOIN sys.tables t ON t.id = g.table_id WHERE t.name = 'owned'",
      )
    ).rows.map((r) => r.path as string);
    t.true(paths.length > 6);
    const bob = await psql('bob', 'DROP TABLE owned');
    t.regex(bob.stderr, /ERROR: {2}must be owner of table owned/);
    const r = await psql('alice', 'DROP TABLE owned');
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.trim(), 'DROP TABLE');
    t.true(
      paths.every((p) => !existsSync(p)),
      'segment files removed',
    );
    t.is((await admin.query("SELECT count(*)::int AS n FROM sys.tables WHERE name = 'owned'")).rows[0].n, 0);
  },
);

test.serial(
  'a server that dies between dropping the rows and removing the files finishes the drop at start',
  async (t) => {
    const input = join(server.dataDir, 'doomed.txt');
    writeFileSync(input, 'y\n'.repeat(20_000));
    t.is(
      (await psql('admin', 'CREATE TABLE doomed (line text) IN CLUSTER c1', `\\copy doomed from '${input}'`))
        .code,
      0,
    );
    // The first step of DROP TABLE alone, as a crash right after its transaction leaves it.
    const paths = await server.app.storage.dropTable('doomed');
    t.true(paths.length > 0 && paths.every((p) => existsSync(p)));
    await admin.end();
    await server.app.close();
    const restarted = await startTestServer({ dataDir: server.dataDir });
    server = {
      ...restarted,
      async stop() {
        await restarted.stop();
        rmSync(restarted.dataDir, { recursive: true, force: true });
      },
    };
    admin = new pg.Client(server.pgConfig);
    admin.on('notice', () => {});
    await admin.connect();
    t.true(
      paths.every((p) => !existsSync(p)),
      'files removed at start',
    );
    t.deepEqual(await server.app.storage.pendingFileRemovals(), []);
  },
);

test.serial(
  'DROP USER of a role that owns a table or holds privileges is 2BP01 naming them, as PostgreSQL',
  async (t) => {
    await admin.query("CREATE USER carol WITH PASSWORD 'carol-pw'");
    await admin.query('GRANT sysadmin TO carol');
    t.is((await psql('carol', 'CREATE TABLE carols (line text) IN CLUSTER c1')).code, 0);
    await admin.query('REVOKE sysadmin FROM carol');
    await admin.query('CREATE TABLE shared (line text) IN CLUSTER c1');
    await admin.query('GRANT SELECT ON shared TO carol');
    const refused = await admin.query('DROP USER carol').catch((e) => e);
    t.like(refused, {
      code: '2BP01',
      message: 'role "carol" cannot be dropped because some objects depend on it',
      detail: 'owner of table carols\nprivileges for table shared',
    });
    t.is((await admin.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'carol'")).rows[0].n, 1);
    await admin.query('DROP TABLE carols');
    await admin.query('REVOKE SELECT ON shared FROM carol');
    await admin.query('DROP USER carol');
    t.is((await admin.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'carol'")).rows[0].n, 0);
  },
);
