// psql's \d output for every sys table, compared with what a real PostgreSQL 15 prints for the same table
// (built from our own catalog's column list and keys): the emulated pg_catalog must tell psql the same story.
import test from 'ava';
import pg from 'pg';
import { type RealPostgres, startRealPostgres } from '../bench/common';
import { sysRelations } from '../catalog/schema';
import { run } from './helpers/run';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
let real: RealPostgres;
const PORT = 55000 + (process.pid % 1000);

test.before(async () => {
  server = await startTestServer();
  real = startRealPostgres(PORT);
});
test.after.always(async () => {
  real?.stop();
  await server?.stop();
});

const SYS_TABLES = sysRelations;

test('\\d sys.<table> prints the same on segtasks and on PostgreSQL 15', async (t) => {
  const ours = new pg.Client(server.pgConfig);
  await ours.connect();
  const theirs = new pg.Client({ host: '127.0.0.1', port: PORT, user: real.user, database: 'postgres' });
  await theirs.connect();
  try {
    await theirs.query('CREATE SCHEMA sys');
    for (const name of SYS_TABLES) {
      const cols = await ours.query(
        `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
         FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 ORDER BY a.attnum`,
        [`sys.${name}`],
      );
      const pk = await ours.query(
        `SELECT a.attname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indexrelid
         WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attnum`,
        [`sys.${name}`],
      );
      const defs = cols.rows.map((c) => `"${c.attname}" ${c.type}${c.attnotnull ? ' NOT NULL' : ''}`);
      if (pk.rows.length) defs.push(`PRIMARY KEY (${pk.rows.map((r) => `"${r.attname}"`).join(', ')})`);
      await theirs.query(`CREATE TABLE sys.${name} (${defs.join(', ')})`);
    }
    // the foreign keys once every table exists: \d lists them and what references each table
    const fks = await ours.query(
      `SELECT conrelid::regclass::text AS rel, conname, pg_catalog.pg_get_constraintdef(oid) AS def
       FROM pg_catalog.pg_constraint WHERE contype = 'f' ORDER BY conname`,
    );
    for (const fk of fks.rows)
      await theirs.query(`ALTER TABLE ${fk.rel} ADD CONSTRAINT ${fk.conname} ${fk.def}`);
  } finally {
    await ours.end();
    await theirs.end();
  }
  for (const name of SYS_TABLES) {
    const a = await run('psql', [server.dsn, '-X', '-c', `\\d sys.${name}`]);
    const b = await run('psql', [
      `host=127.0.0.1 port=${PORT} user=${real.user} dbname=postgres`,
      '-X',
      '-c',
      `\\d sys.${name}`,
    ]);
    t.is(a.stderr, '', name);
    t.is(a.stdout, b.stdout, `\\d sys.${name}`);
  }
  const la = await run('psql', [server.dsn, '-X', '-c', '\\dt sys.*']);
  const lb = await run('psql', [
    `host=127.0.0.1 port=${PORT} user=${real.user} dbname=postgres`,
    '-X',
    '-c',
    '\\dt sys.*',
  ]);
  // the owner differs (admin here, the bootstrap user there); the rest must not
  const owner = (s: string) => s.replace(/\| \w+ *$/gm, '| <owner>');
  t.is(owner(la.stdout), owner(lb.stdout));
});
