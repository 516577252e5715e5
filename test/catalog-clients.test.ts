import test from 'ava';
import pg from 'pg';
import { run, runJdbcProgram } from './helpers/run';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  server = await startTestServer();
});
test.after.always(async () => {
  await server?.stop();
});

const psql = async (cmd: string) => {
  const r = await run('psql', [server.dsn, '-X', '-c', cmd]);
  if (r.code !== 0 || r.stderr) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
};

test('\\dt sys.* lists every sys table; \\dn shows the sys schema', async (t) => {
  const out = await psql('\\dt sys.*');
  for (const name of [
    'tasks',
    'subtasks',
    'result_cache',
    'storage_spaces',
    'clusters',
    'nodes',
    'storage_devices',
    'tables',
    'segment_groups',
    'segments',
    'task_schedules',
  ]) {
    t.regex(out, new RegExp(`^ sys +\\| ${name} +\\| table \\| `, 'm'), name);
  }
  t.regex(await psql('\\dn'), /^ sys +\| admin$/m);
});

test('\\d sys.tasks shows every column with its PostgreSQL type, nullability and the primary key', async (t) => {
  const out = await psql('\\d sys.tasks');
  t.regex(out, /Table "sys\.tasks"/);
  const expected: [string, string, boolean][] = [
    ['id', 'uuid', true],
    ['name', 'text', false],
    ['options', 'json', true],
    ['created_at', 'timestamp with time zone', true],
    ['finished_at', 'timestamp with time zone', false],
    ['fraction_complete', 'double precision', true],
    ['bytes_total', 'bigint', true],
    ['error', 'text', false],
  ];
  for (const [col, type, notNull] of expected) {
    t.regex(
      out,
      new RegExp(
        `^ ${col} +\\| ${type.replace(/[()]/g, '\\$&')} +\\| +\\| ${notNull ? 'not null' : ' +'}`,
        'm',
      ),
      col,
    );
  }
  t.regex(out, /"tasks_pkey" PRIMARY KEY, btree \(id\)/);
  const plus = await psql('\\d+ sys.segments');
  t.regex(plus, /status +\|.*\| INTACT, DAMAGED, MISSING or REBUILDING/);
});

test('\\l, \\du, \\dv, \\conninfo, \\dt+ work', async (t) => {
  t.regex(await psql('\\l'), /List of databases[\s\S]*UTF8/);
  t.regex(await psql('\\du'), /admin +\| Superuser/);
  const dv = await run('psql', [server.dsn, '-X', '-c', '\\dv']);
  t.is(dv.code, 0);
  t.regex(dv.stdout + dv.stderr, /Did not find any relations/); // there are no views
  t.regex(await psql('\\conninfo'), /You are connected to database "segtasks" as user "admin"/);
  t.regex(await psql('\\dt+ sys.tasks'), /Distributed tasks \(rebuild, check_disk, rebalance\)/);
});

test('information_schema and pg_catalog relations: sys columns listed, SELECT n.oid, n.* has no duplicate trouble', async (t) => {
  const c = new pg.Client(server.pgConfig);
  await c.connect();
  try {
    const cols = await c.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'sys' AND table_name = 'segments' ORDER BY ordinal_position",
    );
    t.deepEqual(cols.rows.slice(0, 3), [
      { column_name: 'storage_id', data_type: 'uuid' },
      { column_name: 'segment_group_id', data_type: 'bigint' },
      { column_name: 'position', data_type: 'integer' },
    ]);
    const ns = await c.query('SELECT n.oid, n.* FROM pg_catalog.pg_namespace n ORDER BY n.nspname');
    t.deepEqual(
      ns.fields.map((f) => f.name),
      ['oid', 'oid', 'nspname', 'nspowner', 'nspacl'],
    );
    t.true(ns.rows.length >= 4);
    for (const rel of [
      'pg_type',
      'pg_class',
      'pg_attribute',
      'pg_attrdef',
      'pg_constraint',
      'pg_description',
      'pg_index',
      'pg_am',
      'pg_database',
      'pg_roles',
      'pg_user',
      'pg_auth_members',
      'pg_settings',
      'pg_inherits',
      'pg_collation',
      'pg_proc',
      'pg_tables',
      'pg_views',
      'pg_matviews',
      'pg_stat_user_tables',
      'pg_extension',
      'pg_tablespace',
    ]) {
      const r = await c.query(`SELECT x.* FROM pg_catalog.${rel} x LIMIT 1`).catch((e: Error) => e);
      t.false(r instanceof Error, `${rel}: ${(r as Error).message}`);
    }
    const oids = await c.query(
      "SELECT 'sys.tasks'::regclass::oid AS a, 'sys.tasks'::regclass::text AS b, 'int8'::regtype::text AS t",
    );
    t.deepEqual(oids.rows[0], { a: 16400 + 0, b: 'sys.tasks', t: 'bigint' });
  } finally {
    await c.end();
  }
});

test('pgjdbc DatabaseMetaData: schemas, tables, columns, primary keys, index info, type info, ResultSetMetaData', async (t) => {
  const { code, stderr, out } = await runJdbcProgram('JdbcMetadata.java', [
    String(server.port),
    ADMIN_PASSWORD,
  ]);
  t.is(code, 0, stderr);
  t.is(out.schemas, 'information_schema,pg_catalog,public,sys');
  t.is(
    out.tables,
    'clusters,nodes,result_cache,segment_groups,segments,storage_devices,storage_spaces,subtasks,tables,task_schedules,tasks',
  );
  t.true(out.columns.startsWith('id:uuid:1111,name:text:12,type:text:12'));
  t.regex(out.columns, /created_at:timestamptz:93/);
  t.regex(out.columns, /bytes_total:int8:-5/);
  t.is(out.pk, 'storage_id:segments_pkey');
  t.is(out.indexes, 'tasks_pkey:id:false');
  t.true(Number(out.typeinfo) > 20);
  t.is(
    out.rsmd,
    'id:uuid:1111,created_at:timestamptz:93,bytes_total:int8:-5,fraction_complete:float8:8,status:text:12',
  );
  t.is(out.executeUpdate, '0');
});
