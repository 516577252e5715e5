// Unit tests of the pure pieces: type codecs, the statement splitter, the normalising pass, the DDL lexer.
import test from 'ava';
import { parameterizeLiterals } from '../catalog/query/parameterize';
import { normalize } from '../catalog/query/parse/rewrite';
import {
  decodeParam,
  encodeBinary,
  encodeText,
  formatArrayLiteral,
  formatTimestampMicros,
  parseArrayLiteral,
  parseTimestampMicros,
} from '../pg/codecs';
import { Oid } from '../pg/types';
import { parseTaskStatement } from '../src/ddl/tasks';
import { parseSessionCommand } from '../wire/session';
import { isBlank, splitStatements } from '../wire/splitter';

test('timestamps: text <-> micros round trip, before 1970 too, any offset', (t) => {
  for (const s of [
    '2026-11-27 20:16:28.123456+00',
    '1969-12-31 23:59:58.5+00',
    '2000-01-01 00:00:00+00',
    '1970-01-01 00:00:00+00',
  ]) {
    t.is(formatTimestampMicros(parseTimestampMicros(s)), s);
  }
  t.is(formatTimestampMicros(parseTimestampMicros('2026-11-27T22:16:28+02:00')), '2026-11-27 20:16:28+00');
  t.throws(() => parseTimestampMicros('yesterday'));
});

test('binary codecs decode what they encode', (t) => {
  const cases: [unknown, number][] = [
    [42, Oid.int4],
    [-7, Oid.int2],
    [2 ** 40, Oid.int8],
    [2.5, Oid.float8],
    [true, Oid.bool],
    ['6f1c0000-0000-4000-8000-000000000001', Oid.uuid],
    ['2026-11-27 20:16:28.5+00', Oid.timestamptz],
    ['123.4500', Oid.numeric],
    ['-0.0001', Oid.numeric],
    ['0', Oid.numeric],
  ];
  for (const [v, oid] of cases) t.deepEqual(decodeParam(encodeBinary(v, oid), oid, true), v, `${oid}: ${v}`);
});

test('text encoding follows PostgreSQL: booleans t/f, floats, bytea hex, arrays', (t) => {
  t.is(encodeText(1, Oid.bool), 't');
  t.is(encodeText(Number.POSITIVE_INFINITY, Oid.float8), 'Infinity');
  t.is(encodeText(Buffer.from([1, 255]), Oid.bytea), '\\x01ff');
  t.is(formatArrayLiteral(['a', 'b c', null, '']), '{a,"b c",NULL,""}');
  t.deepEqual(parseArrayLiteral('{a,"b c",NULL,""}'), ['a', 'b c', null, '']);
  t.throws(() => decodeParam(Buffer.from('x1'), Oid.int4, false), {
    message: /invalid input syntax for type integer/,
  });
  t.throws(() => decodeParam(Buffer.from('nope'), Oid.uuid, false), { message: /uuid/ });
});

test('splitter: quotes, escapes, dollar quotes, nested comments', (t) => {
  const pieces = splitStatements(
    "SELECT 'a;b'; SELECT E'it\\'s;'; SELECT $x$;$x$; /* ; /* ; */ ; */ SELECT \"a;b\" -- ;\n; ",
  );
  t.deepEqual(
    pieces.map((p) => p.text.trim()),
    ["SELECT 'a;b'", "SELECT E'it\\'s;'", 'SELECT $x$;$x$', '/* ; /* ; */ ; */ SELECT "a;b" -- ;'],
  );
  t.true(isBlank(' -- only\n /* comments */ '));
});

test('normalising pass: rewrites what pgsql-ast-parser cannot read, and maps positions back', (t) => {
  const n = normalize(
    "SELECT x COLLATE \"C\", E'a\\'b', $$q$$ FROM ONLY t WHERE a IS NOT DISTINCT FROM b AND trim(both '\"' from c) = d AND n.x OPERATOR(pg_catalog.~) 'y'",
  );
  t.is(
    n.sql,
    "SELECT x , 'a''b', 'q' FROM  t WHERE NOT pg_is_distinct(a,b) AND btrim( c,'\"' ) = d AND n.x ~ 'y'",
  );
  const at = n.sql.indexOf('FROM');
  t.is(n.originalOffset(at), "SELECT x COLLATE \"C\", E'a\\'b', $$q$$ ".length);
  const p = parameterizeLiterals("SELECT a FROM t WHERE b = 'x' AND c > 5 ORDER BY 1 LIMIT 10");
  t.deepEqual(p?.values, ['x', '5', '10']);
  t.regex(p?.sql ?? '', /ORDER BY 1 LIMIT \$3/);
});

test('session commands are recognised without the SQL parser', (t) => {
  t.deepEqual(parseSessionCommand("SET application_name TO 'x'"), {
    kind: 'set',
    name: 'application_name',
    value: 'x',
    local: false,
    tag: 'SET',
  });
  t.deepEqual(parseSessionCommand('set session characteristics as transaction read only'), {
    kind: 'noop',
    tag: 'SET',
  });
  t.deepEqual(parseSessionCommand('SHOW TRANSACTION ISOLATION LEVEL'), {
    kind: 'show',
    name: 'transaction_isolation',
  });
  t.deepEqual(parseSessionCommand('ROLLBACK TO SAVEPOINT a'), { kind: 'rollback_to' });
  t.is(parseSessionCommand('SELECT 1'), null);
});

test('CREATE TASK parser: names, types, locations, options as tasks.md gives them', (t) => {
  const s = parseTaskStatement(
    "create task 'My Task' TYPE check_disk location NODE 'node1' OPTIONS fix = true, storage_ids = ['a', 'b'], sample_rate = 0.5",
  );
  t.like(s, {
    kind: 'create_task',
    name: 'My Task',
    type: 'check_disk',
    location: { type: 'NODE', name: 'node1' },
  });
  t.deepEqual(s?.kind === 'create_task' ? s.options.map((o) => [o.key, o.value]) : [], [
    ['fix', true],
    ['storage_ids', ['a', 'b']],
    ['sample_rate', 0.5],
  ]);
  t.like(parseTaskStatement('CREATE TASK type TYPE rebuild'), { name: 'type', type: 'rebuild' });
  t.like(parseTaskStatement('CREATE TASK TYPE rebalance LOCATION CLUSTER c1'), {
    name: null,
    location: { type: 'CLUSTER', name: 'c1' },
  });
  t.is(parseTaskStatement('SELECT 1'), null);
});
