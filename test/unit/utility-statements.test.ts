// The parsers of PREPARE / EXECUTE / DEALLOCATE, DECLARE / FETCH / MOVE / CLOSE, LISTEN / UNLISTEN / NOTIFY.
import test from 'ava';
import { ALL } from '../../wire/cursor';
import { parseUtility } from '../../wire/utility-statements';

test('PREPARE with types and a body; EXECUTE with constants and expressions; DEALLOCATE forms', (t) => {
  t.like(parseUtility('PREPARE q (int, double precision, text[]) AS SELECT $1, $2, $3'), {
    kind: 'prepare',
    name: 'q',
    types: ['int', 'double precision', 'text[]'],
    body: 'SELECT $1, $2, $3',
  });
  t.like(parseUtility('prepare "Q1" as select 1;'), { name: 'Q1', types: [], body: 'select 1' });
  t.deepEqual(parseUtility("EXECUTE q(1, 'it''s', NULL, -2.5, 'x'::text, 1 + 2)"), {
    kind: 'execute',
    name: 'q',
    args: [
      { constant: '1' },
      { constant: "it's" },
      { constant: null },
      { constant: '-2.5' },
      { constant: 'x' },
      { expression: '1 + 2' },
    ],
  });
  t.deepEqual(parseUtility('DEALLOCATE "_PLAN0x55d0c1a0"'), { kind: 'deallocate', name: '_PLAN0x55d0c1a0' });
  t.deepEqual(parseUtility('DEALLOCATE PREPARE ALL'), { kind: 'deallocate', name: null });
  t.is(parseUtility("PREPARE TRANSACTION 'x'"), null);
});

test('DECLARE options, and its 42601 / 42P11 errors', (t) => {
  t.like(parseUtility('DECLARE c BINARY SCROLL CURSOR WITH HOLD FOR SELECT 1'), {
    kind: 'declare',
    name: 'c',
    binary: true,
    scroll: true,
    hold: true,
    body: 'SELECT 1',
  });
  t.like(parseUtility('declare _psql_cursor no scroll cursor for\nselect 1'), { scroll: false, hold: false });
  t.like(parseUtility('DECLARE c CURSOR WITHOUT HOLD FOR VALUES (1)'), { scroll: null, hold: false });
  t.is(
    t.throws(() => parseUtility('DECLARE c CURSOR FOR CREATE TASK x'))?.message,
    'syntax error at or near "CREATE"',
  );
  t.is(
    (t.throws(() => parseUtility('DECLARE c SCROLL NO SCROLL CURSOR FOR SELECT 1')) as { code?: string })
      .code,
    '42P11',
  );
});

test('FETCH and MOVE directions as gram.y reduces them', (t) => {
  const dir = (sql: string) => {
    const s = parseUtility(sql);
    return s?.kind === 'fetch' ? [s.direction.kind, s.direction.count, s.name, s.move] : null;
  };
  t.deepEqual(dir('FETCH c'), ['forward', 1, 'c', false]);
  t.deepEqual(dir('FETCH NEXT FROM c'), ['forward', 1, 'c', false]);
  t.deepEqual(dir('FETCH PRIOR IN c'), ['backward', 1, 'c', false]);
  t.deepEqual(dir('FETCH FIRST c'), ['absolute', 1, 'c', false]);
  t.deepEqual(dir('FETCH LAST c'), ['absolute', -1, 'c', false]);
  t.deepEqual(dir('FETCH ABSOLUTE -3 c'), ['absolute', -3, 'c', false]);
  t.deepEqual(dir('FETCH RELATIVE +2 c'), ['relative', 2, 'c', false]);
  t.deepEqual(dir('FETCH 7 c'), ['forward', 7, 'c', false]);
  t.deepEqual(dir('FETCH ALL c'), ['forward', ALL, 'c', false]);
  t.deepEqual(dir('FETCH FORWARD 100 FROM _psql_cursor'), ['forward', 100, '_psql_cursor', false]);
  t.deepEqual(dir('fetch 100 in "SQL_CUR0x1"'), ['forward', 100, 'SQL_CUR0x1', false]);
  t.deepEqual(dir('FETCH BACKWARD ALL c'), ['backward', ALL, 'c', false]);
  t.deepEqual(dir('MOVE FORWARD c'), ['forward', 1, 'c', true]);
  t.deepEqual(dir('MOVE -2 c'), ['forward', -2, 'c', true]);
  t.is(t.throws(() => parseUtility('FETCH ABSOLUTE c'))?.message, 'syntax error at or near "c"');
});

test('CLOSE, LISTEN, UNLISTEN, NOTIFY: identifiers fold, quoted ones keep case, payloads unescape', (t) => {
  t.deepEqual(parseUtility('CLOSE ALL'), { kind: 'close', name: null });
  t.deepEqual(parseUtility('LISTEN Foo'), { kind: 'listen', channel: 'foo' });
  t.deepEqual(parseUtility('LISTEN "Foo"'), { kind: 'listen', channel: 'Foo' });
  t.deepEqual(parseUtility('UNLISTEN *'), { kind: 'unlisten', channel: null });
  t.deepEqual(parseUtility("NOTIFY x, E'a\\tb'"), { kind: 'notify', channel: 'x', payload: 'a\tb' });
  t.deepEqual(parseUtility('NOTIFY x /* no payload */'), { kind: 'notify', channel: 'x', payload: '' });
  t.is(t.throws(() => parseUtility('NOTIFY x, 42'))?.message, 'syntax error at or near "42"');
  t.is(t.throws(() => parseUtility('LISTEN'))?.message, 'syntax error at end of input');
});
