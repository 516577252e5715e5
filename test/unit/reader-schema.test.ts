import { createHmac } from 'node:crypto';
import test from 'ava';
import { READER_ROLE, readerPassword, readerUrl, sqliteSysColumns } from '../../catalog/reader-schema';
import { sysRelations } from '../../catalog/schema';

test("the reader role's password is hex HMAC-SHA256 of its name under the cluster secret", (t) => {
  const secret = Buffer.from('s3cret');
  t.is(readerPassword(secret), createHmac('sha256', secret).update('segtasks_reader').digest('hex'));
  t.not(readerPassword(secret), readerPassword(Buffer.from('other')));
});

test("the readers connect where the catalog is, as the reader role, without the catalog's options", (t) => {
  const secret = Buffer.from('s3cret');
  const u = new URL(
    readerUrl(
      'postgres://cat:pw@db.example:6543/segtasks?sslmode=require&options=-c%20search_path%3Dx',
      secret,
    ),
  );
  t.is(u.hostname, 'db.example');
  t.is(u.port, '6543');
  t.is(u.pathname, '/segtasks');
  t.is(u.username, READER_ROLE);
  t.is(u.password, readerPassword(secret));
  t.is(u.searchParams.get('sslmode'), 'require');
  t.false(u.searchParams.has('options'));
});

test('the sys columns come from a SQLite catalog made by the migrations, with PostgreSQL type names', async (t) => {
  const rels = await sqliteSysColumns();
  t.deepEqual(
    rels.map((r) => r.name),
    [...sysRelations],
  );
  const tasks = rels.find((r) => r.name === 'tasks')!.columns;
  t.deepEqual(tasks.slice(0, 2), [
    { name: 'id', type: 'uuid', notNull: true },
    { name: 'name', type: 'text', notNull: false },
  ]);
  t.true(tasks.some((c) => c.name === 'bytes_total' && c.type === 'int8'));
  // The view of segments has the table's columns, not PostgreSQL's rowid.
  t.false(rels.find((r) => r.name === 'segments')!.columns.some((c) => c.name === 'rowid'));
});
