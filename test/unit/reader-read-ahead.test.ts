// A held cursor's rows read ahead while the wire sends the last batch (ReaderEngine.readAhead), and encoded
// then in the last batch's formats: every batch is the rows it would be without reading ahead, in the formats
// it asks for, in order, none lost or repeated, whether its formats and size are those of the batch before
// or not; an error after rows read ahead comes after those rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { catalogPath, openCatalog } from '../../catalog/db';
import { ReaderEngine, type SessionSnapshot, type StreamedBatch } from '../../catalog/readers/reader-engine';
import { encodeDataRows } from '../../pg/data-row';
import { Oid } from '../../pg/types';

const dir = mkdtempSync(join(tmpdir(), 'segtasks-read-ahead-'));
let engine: ReaderEngine;
test.before(async () => {
  await (await openCatalog(dir)).close();
  engine = new ReaderEngine({
    catalogPath: catalogPath(dir),
    serverVersion: '15.0',
    startedAt: '2026-12-02',
  });
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const session: SessionSnapshot = {
  user: 'admin',
  database: 'segtasks',
  pid: 1,
  settingsVersion: 1,
  settings: [],
};
const OIDS = [Oid.int4, Oid.text];
const row = (g: number) => [g, `${'x'.repeat(g % 7)}${g}`];
const SQL = (n: number) => `SELECT g, repeat('x', g % 7) || g FROM generate_series(1, ${n}) g`;

/** A batch's bytes as DataRow messages (values are encoded here the way the wire would). */
const bytesOf = (b: StreamedBatch, formats: number[]) =>
  Buffer.from(b.encoded ? b.encoded.bytes : encodeDataRows(b.rows, OIDS, formats).bytes);
const expected = (from: number, count: number, formats: number[]) =>
  Buffer.from(
    encodeDataRows(
      Array.from({ length: count }, (_, i) => row(from + i)),
      OIDS,
      formats,
    ).bytes,
  );

test.serial('batches read ahead are the rows asked for, in the formats asked for, whatever they ask', (t) => {
  const id = 1;
  const first = engine.open(SQL(20_000), [], [], session, true, id, null);
  let at = 1 + first.rows.length;
  engine.readAhead(2000);
  // Sizes and formats as a FETCH_COUNT client asks, then changed: binary, smaller, larger, text again.
  const asks: [number, number[]][] = [
    [1000, []],
    [1000, []],
    [1000, []],
    [1000, [1]],
    [1000, [1]],
    [300, [1]],
    [700, []],
    [1500, []],
    [1000, [0, 1]],
    [1000, [0, 1]],
  ];
  for (const [max, formats] of asks) {
    const b = engine.next(id, max, formats);
    t.false(b.done);
    const n = b.encoded ? b.encoded.ends.length : b.rows.length;
    t.true(n > 0 && n <= max, `${max} ${formats}`);
    t.deepEqual(bytesOf(b, formats), expected(at, n, formats), `rows from ${at}, ${max} in ${formats}`);
    at += n;
    engine.readAhead(max);
  }
  for (;;) {
    const b = engine.next(id, 1000, []);
    const n = b.encoded ? b.encoded.ends.length : b.rows.length;
    t.deepEqual(bytesOf(b, []), expected(at, n, []));
    at += n;
    if (b.done) break;
    engine.readAhead(1000);
  }
  t.is(at, 20_001);
  t.is(engine.openCursor, null);
});

test.serial('an error after rows read ahead comes after those rows, and closes the cursor', (t) => {
  const id = 2;
  const first = engine.open(
    'SELECT 1 / (g - 2600), g FROM generate_series(1, 5000) g',
    [],
    [],
    session,
    true,
    id,
    null,
  );
  let at = 1 + first.rows.length;
  engine.readAhead(2000);
  let failure: unknown = null;
  for (;;) {
    try {
      const b = engine.next(id, 1000, []);
      at += b.encoded ? b.encoded.ends.length : b.rows.length;
      t.false(b.done);
      engine.readAhead(1000);
    } catch (err) {
      failure = err;
      break;
    }
  }
  t.is((failure as { code?: string }).code, '22012');
  t.is(at, 2600);
  t.is(engine.openCursor, null);
});
