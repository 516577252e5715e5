// The catalog queries that Grafana's PostgreSQL datasource, DBeaver and Metabase send at startup and while
// browsing (test/fixtures/bi-queries.json, written from the tools' public source), through the extended
// protocol as their JDBC/Go drivers send them, and through the simple protocol.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { startTestServer, type TestServer } from './helpers/server';

const queries = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'bi-queries.json'), 'utf8'),
) as Record<string, string[]>;

let server: TestServer;
let client: pg.Client;
test.before(async () => {
  server = await startTestServer();
  client = new pg.Client(server.pgConfig);
  await client.connect();
});
test.after.always(async () => {
  await client?.end();
  await server?.stop();
});

for (const [tool, list] of Object.entries(queries)) {
  test.serial(`${tool}: every startup and browsing query runs, simple and extended protocol`, async (t) => {
    for (const sql of list) {
      await t.notThrowsAsync(client.query(sql), `simple: ${sql}`);
      // a query with a parameter goes through Parse/Bind/Execute
      await t.notThrowsAsync(client.query({ text: sql, values: [] }), `extended: ${sql}`);
    }
  });
}

test.serial('the answers are sensible: tables, columns, keys and schemas match sys.*', async (t) => {
  const grafanaTables = (await client.query(queries.grafana[2])).rows.map((r) => r.table);
  t.true(grafanaTables.includes('sys.tasks') && grafanaTables.includes('sys.segments'));
  const grafanaCols = await client.query(queries.grafana[3]);
  t.deepEqual(grafanaCols.rows[0], { column: 'id', type: 'uuid' });
  const searchPath = (await client.query(queries.grafana[4])).rows.map((r) => r.schema);
  t.deepEqual(searchPath, ['admin', 'public']);
  const ns = await client.query(queries.dbeaver[1]);
  t.deepEqual(
    ns.rows.map((r) => r.nspname),
    ['information_schema', 'pg_catalog', 'public', 'sys'],
  );
  // sys.tasks has as many columns as the catalog gives it
  const taskColumns = (
    await client.query(
      "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'sys' AND table_name = 'tasks'",
    )
  ).rows[0].n;
  t.is(taskColumns, 20);
  // DBeaver's column query does not filter attnum: as on PostgreSQL, the system columns come first
  const dbeaverCols = await client.query(queries.dbeaver[6]);
  const userCols = dbeaverCols.rows.filter((r) => r.attnum > 0);
  t.is(userCols.length, taskColumns);
  t.is(userCols[0].attname, 'id');
  t.deepEqual(
    dbeaverCols.rows.filter((r) => r.attnum <= 0).map((r) => r.attname),
    ['tableoid', 'cmax', 'xmax', 'cmin', 'xmin', 'ctid'],
  );
  const metabaseTables = await client.query(queries.metabase[3]);
  t.true(
    metabaseTables.rows.some((r) => r.schema === 'sys' && r.name === 'result_cache' && r.selectable === true),
  );
  const metabaseCols = await client.query(queries.metabase[4]);
  t.is(metabaseCols.rows.length, taskColumns);
  t.deepEqual(
    metabaseCols.rows.filter((r) => r['pk?']).map((r) => r.name),
    ['id'],
  );
  t.is(metabaseCols.rows.find((r) => r.name === 'status')?.['database-required'], true);
});
