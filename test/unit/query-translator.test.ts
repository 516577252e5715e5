// The query engine alone: PostgreSQL SQL in, SQLite SQL and its result out, on an in-memory SQLite database with
// the emulated pg_catalog relations and the registered functions, over an empty catalog made by the catalog's
// own migrations (some emulated relations are views over it). No wire server, no reader threads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { catalogPath, openCatalog } from '../../catalog/db';
import { buildEmulation } from '../../catalog/pg-catalog';
import { compileQuery } from '../../catalog/query/compile';
import { type FunctionContext, registerFunctions } from '../../catalog/query/functions';
import { parameterizeLiterals } from '../../catalog/query/parameterize';
import { checkRelationReferences, relationKey } from '../../catalog/query/relation-guard';
import { translateSqliteError } from '../../catalog/readers/sqlite-errors';
import { SqlError } from '../../pg/errors';

function queryEngine(file: string) {
  const db = new Database(file, { readonly: true });
  db.pragma('case_sensitive_like = ON');
  const e = buildEmulation(db);
  const ctx: FunctionContext = {
    user: 'alice',
    database: 'segtasks',
    pid: 7,
    // A session setting of this name once replaced now()'s answer (a test hook any client could SET); now()
    // is the statement's start, whatever the settings hold.
    settings: new Map([['__statement_time', '1999-01-01 00:00:00+00']]),
    statementStartedAt: Date.UTC(2026, 10, 27, 20, 16, 28),
    notifications: [],
    activity: [],
    signals: [],
    warnings: [],
    changedSettings: new Map(),
    serverVersion: '16.0',
    startedAt: '2026-11-27 00:00:00+00',
    regOid: (k, n) => e.regOid(k, n),
    regName: (k, o) => e.regName(k, o),
    userName: (o) => e.userName(o),
    relationVisible: (o) => e.registry.isVisible(o),
    description: (o, sub) => e.description(o, sub),
    relationSize: (o) => e.relationSize(o),
    databaseSize: () => e.databaseSize(),
    indexDef: (o, col) => e.indexDef(o, col),
    constraintDef: (o) => e.constraintDef(o),
  };
  registerFunctions(db, () => ctx);
  const translate = (sql: string, paramTypes: (string | null)[] = []) =>
    compileQuery(sql, e.registry, paramTypes);
  /** The first row, and the PostgreSQL types of the columns. */
  const row = (sql: string) => {
    const t = translate(sql);
    e.prepareFor(t.sql);
    const values = db.prepare(t.sql).raw(true).get() as unknown[];
    return { values, types: t.columns.map((c) => c.type) };
  };
  const rows = (sql: string) => {
    const t = translate(sql);
    e.prepareFor(t.sql);
    return db.prepare(t.sql).raw(true).all() as unknown[][];
  };
  return { translate, row, rows };
}

let q: ReturnType<typeof queryEngine>;
const dir = mkdtempSync(join(tmpdir(), 'segtasks-translator-'));
test.before(async () => {
  const catalog = await openCatalog(dir);
  await catalog.close();
  q = queryEngine(catalogPath(dir));
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('operators: arithmetic keeps integer division and widens types; comparison, text, regex, arrays', (t) => {
  const r = q.row(
    "SELECT 1 + 2, 7 / 2, 7.0 / 2, 2 ^ 3, 'a' || 1, 'abc' ~ 'B', 'abc' ~* 'B', 'ABC' ILIKE 'a%', ARRAY[1,2] @> ARRAY[1], 3 <> 3",
  );
  t.deepEqual(r.values, [3, 3, 3.5, 8, 'a1', 0, 1, 1, 1, 0]);
  t.deepEqual(r.types, ['int4', 'int4', 'numeric', 'float8', 'text', 'bool', 'bool', 'bool', 'bool', 'bool']);
  t.is(q.translate('SELECT 1 <@ 2').sql, 'SELECT pg_array_contains(2, 1) AS "?column?"');
  const e = t.throws(() => q.translate('SELECT 1 @@ 2'), { instanceOf: SqlError });
  t.is(e?.code, '42883');
});

test('operators: a parameter takes the type of the other operand, or text beside ||', (t) => {
  t.deepEqual(q.translate('SELECT oid FROM pg_class WHERE oid = $1 AND relname || $2 = $3').paramTypes, [
    'oid',
    'text',
    'text',
  ]);
});

test('IS [NOT] DISTINCT FROM takes whole cast operands', (t) => {
  t.deepEqual(
    q.row("SELECT 1::int4 IS DISTINCT FROM 2, 'a'::text IS NOT DISTINCT FROM 'a'::text").values,
    [1, 1],
  );
});

test('casts convert as PostgreSQL does and fail with its SQLSTATEs', (t) => {
  const r = q.row("SELECT '42'::int4, '1.5'::float8, 'yes'::bool, true::text, '1 hour'::interval");
  t.deepEqual(r.values, [42, 1.5, 1, 'true', '01:00:00']);
  t.deepEqual(r.types, ['int4', 'float8', 'bool', 'text', 'interval']);
  const e = t.throws(() => q.row("SELECT 'x1'::int4"), { instanceOf: SqlError });
  t.is(e?.code, '22P02');
});

test('functions: strings', (t) => {
  t.deepEqual(
    q.row(
      "SELECT lower('AbC'), left('abcdef', -2), split_part('a,b,c', ',', 2), lpad('7', 3, '0'), btrim('  x ')",
    ).values,
    ['abc', 'abcd', 'b', '007', 'x'],
  );
});

test('functions: math', (t) => {
  t.deepEqual(q.row('SELECT abs(-3), mod(7, 3), sqrt(16), floor(2.5)').values, [3, 1, 4, 2]);
  const e = t.throws(() => q.row('SELECT 1 / 0'), { instanceOf: SqlError });
  t.is(e?.code, '22012');
});

test('functions: date and time', (t) => {
  const r = q.row(
    "SELECT now(), date_trunc('day', '2026-11-27 20:16:28+00'::timestamptz), extract(year from '2026-11-27 20:16:28+00'::timestamptz)",
  );
  t.deepEqual(r.values, ['2026-11-27 20:16:28+00', '2026-11-27 00:00:00+00', 2026]);
  t.deepEqual(r.types, ['timestamptz', 'timestamptz', 'numeric']);
});

test('functions: json', (t) => {
  // Values leave SQLite as text where the wire encodes them by their PostgreSQL type.
  const r = q.row(`SELECT '{"a":true,"b":[1]}'::json ->> 'a', '{"a":1}'::json -> 'a'`);
  t.deepEqual(r.values, ['true', '1']);
  t.deepEqual(r.types, ['text', 'json']);
});

test('functions: arrays', (t) => {
  t.deepEqual(
    q.row("SELECT array_length(ARRAY[1,2,3], 1), array_to_string(ARRAY['a','b'], ','), (ARRAY[5,6])[2]")
      .values,
    [3, 'a,b', '6'],
  );
});

test('functions: catalog and system information', (t) => {
  const r = q.row(
    'SELECT current_database(), current_user, version(), format_type(23, -1), pg_backend_pid()',
  );
  t.deepEqual(r.values, ['segtasks', 'alice', 'PostgreSQL 16.0', 'integer', 7]);
  t.deepEqual(r.types, ['name', 'name', 'text', 'text', 'int4']);
});

test('functions: set-returning, in FROM and in the select list', (t) => {
  t.deepEqual(q.rows('SELECT * FROM generate_series(1, 3)'), [[1], [2], [3]]);
  t.deepEqual(q.rows('SELECT unnest(ARRAY[4, 5])'), [['4'], ['5']]);
});

test('generate_series over int4 constants runs in SQLite, with PostgreSQL rows; other calls stay the virtual table', (t) => {
  const native = (sql: string) => !q.translate(sql).sql.includes('pg_generate_series(');
  const series = (args: string) => q.rows(`SELECT * FROM generate_series(${args})`).map((r) => r[0]);
  t.true(native('SELECT * FROM generate_series(1, 3)'));
  t.true(native('SELECT g FROM generate_series(-5, 5 * 2, -1 + 3) g'));
  t.deepEqual(series('1, 3'), [1, 2, 3]);
  t.deepEqual(series('10, 1, -3'), [10, 7, 4, 1]);
  t.deepEqual(series('1, 10, 4'), [1, 5, 9]);
  t.deepEqual(series('3, 1'), []);
  t.deepEqual(series('1, 3, -1'), []);
  t.deepEqual(series('5, 5, -2'), [5]);
  // Strict: a NULL argument gives no rows, and no error for a step of 0 beside it.
  t.deepEqual(series('1, NULL::int4'), []);
  t.deepEqual(series('NULL::int4, 3, 0'), []);
  t.deepEqual(series('1, 3, NULL::int4'), []);
  // Up to the ends of int4 without overflowing past stop.
  t.deepEqual(series('2147483640, 2147483647, 5'), [2147483640, 2147483645]);
  t.deepEqual(series('-2147483647, -2147483648, -1'), [-2147483647, -2147483648]);
  const zero = t.throws(() => series('1, 3, 0'), { instanceOf: SqlError });
  t.is(zero?.code, '22023');
  t.is(zero?.message, 'step size cannot equal zero');
  t.deepEqual(q.rows('SELECT g FROM generate_series(1, 20000000) g LIMIT 2'), [[1], [2]]);
  t.deepEqual(q.rows('SELECT g, g * 2 FROM generate_series(1, 3) g ORDER BY g DESC'), [
    [3, 6],
    [2, 4],
    [1, 2],
  ]);
  t.deepEqual(q.row('SELECT g FROM generate_series(1, 3) g').types, ['int4']);
  // A row's column as an argument (LATERAL), int8 and numeric series, WITH ORDINALITY: the virtual table.
  const lateral = 'SELECT g, h FROM generate_series(1, 2) g, generate_series(g, 2) h';
  t.false(native(lateral.replace(/generate_series\(1, 2\) g, /, '(SELECT 1 AS g) x, ')));
  t.deepEqual(q.rows(lateral), [
    [1, 1],
    [1, 2],
    [2, 2],
  ]);
  t.false(native('SELECT * FROM generate_series(1::int8, 3)'));
  t.false(native('SELECT * FROM generate_series(1, 3) WITH ORDINALITY'));
  t.deepEqual(q.rows('SELECT * FROM generate_series(1, 2) WITH ORDINALITY'), [
    [1, 1],
    [2, 2],
  ]);
});

test('errors: 42601 with the position in the user text, 42883 unknown function, 42P01 unknown relation', (t) => {
  const syntax = t.throws(() => q.translate("SELECT E'a\\'b' FROM WHERE"), { instanceOf: SqlError });
  t.is(syntax?.code, '42601');
  t.is(syntax?.extra.position, "SELECT E'a\\'b' FROM ".length + 1);
  const lexical = t.throws(() => q.translate('SELECT 1 /* open'), { instanceOf: SqlError });
  t.like(lexical, { code: '42601', message: 'unterminated /* comment', extra: { position: 10 } });
  const fn = t.throws(() => q.translate('SELECT no_such_function(1)'), { instanceOf: SqlError });
  t.is(fn?.code, '42883');
  const rel = t.throws(() => q.translate('SELECT * FROM no_such_table'), { instanceOf: SqlError });
  t.is(rel?.code, '42P01');
});

test('a one-element IN list stays a list (SQLite would read `IN x` as a table)', (t) => {
  t.deepEqual(q.row("SELECT 'a' IN ('a'), 2 IN (1), 'b' NOT IN ('a')").values, [1, 0, 1]);
  t.deepEqual(q.translate('SELECT 1 WHERE 1 IN ($1)').paramTypes, ['int4']);
  t.is(q.rows("SELECT relname FROM pg_class WHERE relname IN ('pg_type')").length, 1);
});

test('user SQL never reaches an internal table, however it is named', (t) => {
  for (const sql of [
    'SELECT * FROM users',
    'SELECT * FROM "users"',
    'SELECT * FROM main.users',
    'SELECT * FROM sqlite_master',
    'SELECT * FROM public.user_roles',
    'SELECT * FROM sys.users',
    'SELECT * FROM knex_migrations',
    'SELECT * FROM table_privileges',
    'WITH x AS (SELECT * FROM users) SELECT * FROM x',
    'SELECT (SELECT count(*) FROM sqlite_master)',
    'SELECT 1 WHERE EXISTS (SELECT 1 FROM "main"."users")',
  ]) {
    const e = t.throws(
      () => {
        try {
          q.rows(sql);
        } catch (err) {
          throw translateSqliteError(err);
        }
      },
      { instanceOf: SqlError },
      sql,
    );
    t.true(['42P01', '42601'].includes(e?.code ?? ''), `${sql}: ${e?.code} ${e?.message}`);
  }
  t.deepEqual(q.rows("SELECT 1 WHERE 'admin' IN ('users')"), []);
  // a row against a literal is PostgreSQL's 0A000: the literal is never a relation name
  const row = t.throws(() => q.rows("SELECT 1 WHERE ('admin','sysadmin') IN ('user_roles')"), {
    instanceOf: SqlError,
  });
  t.is(row?.code, '0A000');
  // a CTE may shadow any name: it is the statement's own relation
  t.deepEqual(q.row('WITH users AS (SELECT 5 AS n) SELECT n FROM users').values, [5]);
});

test('the relation guard rejects any relation the registry did not hand out', (t) => {
  const allowed = new Set([relationKey('main."tasks"'), relationKey('temp."pg_catalog.pg_type"')]);
  t.notThrows(() =>
    checkRelationReferences('SELECT * FROM main."tasks" AS "t", temp."pg_catalog.pg_type" AS "x"', allowed),
  );
  t.notThrows(() => checkRelationReferences('SELECT 1 FROM pg_array_each(?1) AS a WHERE 1 IN (2)', allowed));
  for (const sql of [
    'SELECT 1 WHERE 1 IN users',
    'SELECT 1 WHERE 1 IN "main"."users"',
    'SELECT * FROM main."tasks" JOIN main.users ON 1',
    'SELECT * FROM main."tasks", sqlite_master',
    'SELECT * FROM (SELECT 1), "Users"',
    "SELECT * FROM pragma_table_info('users')",
  ]) {
    const e = t.throws(() => checkRelationReferences(sql, allowed), { instanceOf: SqlError }, sql);
    t.is(e?.code, '42P01');
  }
});

test('an empty select list gives rows of no columns', (t) => {
  const tr = q.translate('SELECT FROM pg_namespace');
  t.deepEqual(tr.columns, []);
  t.true(q.rows('SELECT FROM pg_namespace').length > 0);
  t.deepEqual(q.translate('SELECT').columns, []);
});

test('generate_subscripts counts from 1, and int2vector/oidvector from 0 as PostgreSQL subscripts them', (t) => {
  t.deepEqual(q.rows("SELECT generate_subscripts(ARRAY['a','b','c'], 1)"), [[1], [2], [3]]);
  t.deepEqual(q.rows('SELECT i FROM generate_subscripts(ARRAY[5, 6], 1) AS s(i)'), [[1], [2]]);
  t.deepEqual(q.rows('SELECT i FROM generate_subscripts(ARRAY[5, 6], 1, true) AS s(i)'), [[2], [1]]);
  t.deepEqual(q.rows("SELECT s FROM generate_subscripts('1 3'::int2vector, 1) AS s"), [[0], [1]]);
  t.deepEqual(q.row("SELECT ('1 3'::int2vector)[0], ('1 3'::int2vector)[1], (ARRAY[7,8])[1]").values, [
    '1',
    '3',
    '7',
  ]);
});

test('tableoid is the OID of the relation a row is in; "char" columns are "char"', (t) => {
  const r = q.row("SELECT c.tableoid, c.relkind FROM pg_class c WHERE c.relname = 'pg_type'");
  t.deepEqual(r.values, [1259, 'r']);
  t.deepEqual(r.types, ['oid', 'char']);
  const e = t.throws(() => q.rows('WITH x AS (SELECT 1 AS a) SELECT tableoid FROM x'), {
    instanceOf: SqlError,
  });
  t.is(e?.code, '42703');
});

test('WITH RECURSIVE refers to itself; a statement too large to parse fails fast with 54001', (t) => {
  t.deepEqual(
    q.rows('WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 4) SELECT n FROM c'),
    [[1], [2], [3], [4]],
  );
  const started = Date.now();
  const list = Array.from({ length: 100_000 }, (_, i) => i).join(', ');
  const e = t.throws(() => q.translate(`SELECT 1 WHERE 5 IN (${list})`), { instanceOf: SqlError });
  t.is(e?.code, '54001');
  t.true(Date.now() - started < 5000);
  t.deepEqual(q.rows(`SELECT 1 WHERE 5 IN (${Array.from({ length: 50 }, (_, i) => i).join(', ')})`), [[1]]);
});

test('preset settings: max_index_keys and max_identifier_length in current_setting and pg_settings', (t) => {
  t.deepEqual(
    q.row("SELECT current_setting('max_index_keys'), current_setting('max_identifier_length')").values,
    ['32', '63'],
  );
  t.deepEqual(q.rows("SELECT setting, context FROM pg_settings WHERE name = 'max_index_keys'"), [
    ['32', 'internal'],
  ]);
});

test('foreign keys between the sys tables are in pg_constraint and information_schema', (t) => {
  t.deepEqual(
    q.rows(
      "SELECT conname, conkey, confkey, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND conname = 'subtasks_task_id_fkey'",
    ),
    [['subtasks_task_id_fkey', '{2}', '{1}', 'FOREIGN KEY (task_id) REFERENCES sys.tasks(id)']],
  );
  t.deepEqual(
    q.rows(
      "SELECT unique_constraint_name, delete_rule FROM information_schema.referential_constraints WHERE constraint_name = 'segments_segment_group_id_fkey'",
    ),
    [['segment_groups_pkey', 'NO ACTION']],
  );
  t.deepEqual(
    q.rows(
      "SELECT table_name, column_name FROM information_schema.constraint_column_usage WHERE constraint_name = 'segment_groups_table_id_fkey'",
    ),
    [['tables', 'id']],
  );
  t.deepEqual(
    q.rows(
      "SELECT column_name, position_in_unique_constraint FROM information_schema.key_column_usage WHERE constraint_name = 'subtasks_task_id_fkey'",
    ),
    [['task_id', 1]],
  );
});

test('greatest and least ignore NULLs, and of one argument are that argument', (t) => {
  t.deepEqual(
    q.row('SELECT greatest(1, NULL, 3), least(NULL, 2, 5), greatest(NULL, NULL), greatest(4)').values,
    [3, 2, null, 4],
  );
});

test('numeric to integer casts round half away from zero; ->> of a JSON null is NULL', (t) => {
  t.deepEqual(q.row("SELECT 2.5::int4, (-2.5)::int4, 2.4::int8, '3.5'::int4").values, [3, -3, 2, 4]);
  t.deepEqual(q.row("SELECT '{\"a\": null}'::json ->> 'a'").values, [null]);
  const e = t.throws(() => q.row('SELECT 2147483647.5::int4'), { instanceOf: SqlError });
  t.is(e?.code, '22003');
});

test('= ANY compares numbers as numbers, is NULL over a NULL array; substr and split_part as PostgreSQL', (t) => {
  t.deepEqual(
    q.row('SELECT 1 = ANY (ARRAY[1, NULL]), 2 = ANY (ARRAY[1, NULL]), 1 = ANY (NULL::int[])').values,
    [1, null, null],
  );
  t.deepEqual(
    q.row('SELECT 3 > ANY (ARRAY[1, 5]), 3 > ALL (ARRAY[1, 5]), 2 < ANY (SELECT 3)').values,
    [1, 0, 1],
  );
  t.deepEqual(
    q.row("SELECT substr('abcdef', -1, 3), substr('abcdef', 2), substring('abcdef' from 0 for 2)").values,
    ['a', 'bcdef', 'a'],
  );
  const e = t.throws(() => q.row("SELECT substr('abc', 1, -1)"), { instanceOf: SqlError });
  t.is(e?.code, '22011');
  t.deepEqual(
    q.row("SELECT split_part('a,b,c', ',', -1), split_part('abc', '', 1), split_part('a,b', ',', 5)").values,
    ['c', 'abc', ''],
  );
  t.is(t.throws(() => q.row("SELECT split_part('a,b', ',', 0)"), { instanceOf: SqlError })?.code, '22023');
});

/** The error running sql ends with, as the reader reports it (SQLite's own errors translated). */
function failure(sql: string): SqlError | null {
  try {
    q.rows(sql);
  } catch (e) {
    return translateSqliteError(e) as SqlError;
  }
  return null;
}

test('what the SQL fuzzer found: nested WITH, LIMIT/OFFSET values, json input, window misuse, text arithmetic, array casts', (t) => {
  // PostgreSQL's grammar has no WITH directly after a WITH clause (pgsql-ast-parser reads one): 42601 there
  t.like(
    t.throws(() => q.translate('WITH a AS (SELECT 1 AS x) WITH b AS (SELECT 2 AS y) SELECT y FROM b')),
    { code: '42601', message: 'syntax error at or near "WITH"', extra: { position: 27 } },
  );
  t.deepEqual(
    q.rows('WITH a AS (SELECT 1 AS x) SELECT y FROM (WITH b AS (SELECT 2 AS y) SELECT y FROM b) AS s'),
    [[2]],
  );
  t.is(q.rows('SELECT g FROM generate_series(1, 5) g LIMIT NULL').length, 5);
  t.is(q.rows('SELECT g FROM generate_series(1, 5) g LIMIT 1.5 OFFSET NULL').length, 2);
  t.like(
    t.throws(() => q.rows('SELECT g FROM generate_series(1, 5) g LIMIT -1')),
    { code: '2201W', message: 'LIMIT must not be negative' },
  );
  t.like(
    t.throws(() => q.rows('SELECT 1 OFFSET -1')),
    { code: '2201X', message: 'OFFSET must not be negative' },
  );
  t.like(
    t.throws(() => q.translate('SELECT 1 LIMIT true')),
    {
      code: '42804',
      message: 'argument of LIMIT must be type bigint, not type bool',
    },
  );
  t.like(
    t.throws(() => q.rows("SELECT 1 LIMIT 'x'")),
    { code: '22P02' },
  );
  t.deepEqual(q.rows(`SELECT '{"a": 1}'::json`), [['{"a": 1}']]);
  t.is(failure("SELECT 'pg_class'::json")?.code, '22P02');
  t.is(failure("VALUES ('pg_class'), ('1'::json)")?.code, '22P02');
  t.like(translateSqliteError(new Error('misuse of window function lag()')), { code: '42P20' });
  t.like(translateSqliteError(new Error('near "WITH": syntax error')), {
    code: '42601',
    message: 'syntax error at or near "WITH"',
  });
  t.like(
    t.throws(() => q.translate('SELECT relname / 1 FROM pg_class')),
    { code: '42883' },
  );
  t.like(
    t.throws(() => q.translate('SELECT (1 < 2)::int4[]')),
    { code: '42846' },
  );
  t.deepEqual(q.row("SELECT '{1,2}'::int4[]").values, ['{1,2}']);
  t.like(
    t.throws(() => q.translate(`SELECT ARRAY['{}'::json, current_schema()]`)),
    {
      code: '42804',
      message: 'ARRAY types json and name cannot be matched',
    },
  );
  t.deepEqual(q.row('SELECT ARRAY[1::int2, 2::int8]').values, ['{1,2}']);
  t.like(
    t.throws(() => q.translate('SELECT unnest(now())')),
    {
      code: '42883',
      message: 'function unnest(timestamp with time zone) does not exist',
    },
  );
});

test('INTERSECT and EXCEPT [ALL] with PostgreSQL precedence and counts; a set operation of unequal width is 42601', (t) => {
  // sorted by text, a NULL (as '') first
  const sorted = (sql: string) => q.rows(sql).sort((a, b) => String(a).localeCompare(String(b)));
  // ALL keeps min(m, n) and max(m - n, 0) copies; NULLs are equal to each other in set operations
  t.deepEqual(
    sorted('VALUES (1), (1), (1), (2), (NULL), (NULL) INTERSECT ALL VALUES (1), (1), (NULL), (3)'),
    [[null], [1], [1]],
  );
  t.deepEqual(sorted('VALUES (1), (1), (1), (2), (NULL), (NULL) EXCEPT ALL VALUES (1), (NULL), (3)'), [
    [null],
    [1],
    [1],
    [2],
  ]);
  t.deepEqual(q.rows('VALUES (1), (1), (2) EXCEPT VALUES (2)'), [[1]]);
  // INTERSECT binds tighter than UNION; EXCEPT and UNION from the left; ORDER BY applies to the whole
  t.deepEqual(q.rows('SELECT 1 AS x UNION SELECT 2 INTERSECT SELECT 2 ORDER BY x DESC'), [[2], [1]]);
  t.deepEqual(q.rows('SELECT 3 AS x EXCEPT SELECT 1 UNION SELECT 1 ORDER BY x'), [[1], [3]]);
  t.deepEqual(q.rows('(SELECT 1 AS x UNION SELECT 2) INTERSECT SELECT 2'), [[2]]);
  t.deepEqual(q.rows('WITH w AS (SELECT 1 AS v UNION ALL SELECT 2) SELECT v FROM w EXCEPT SELECT 1'), [[2]]);
  t.deepEqual(q.rows('SELECT 1 WHERE 1 IN (SELECT 1 INTERSECT SELECT 1)'), [[1]]);
  const r = q.translate("SELECT 1 AS a, 'x' AS b INTERSECT ALL SELECT 1, 'x'");
  t.deepEqual(
    r.columns.map((c) => [c.name, c.type]),
    [
      ['a', 'int4'],
      ['b', 'text'],
    ],
  );
  t.like(
    t.throws(() => q.translate('SELECT 1, 2 EXCEPT SELECT 1')),
    {
      code: '42601',
      message: 'each EXCEPT query must have the same number of columns',
    },
  );
  t.like(
    t.throws(() => q.translate('SELECT 1 LIMIT 1 INTERSECT SELECT 1')),
    {
      code: '42601',
      message: 'syntax error at or near "INTERSECT"',
      extra: { position: 18 },
    },
  );
  t.like(
    t.throws(() => q.translate('SELECT 1 EXCEPT')),
    { code: '42601', message: 'syntax error at end of input' },
  );
});

test('SELECT DISTINCT ON keeps the first row of each key in ORDER BY order; keys must lead the ORDER BY (42P10)', (t) => {
  const v = "(VALUES (1, 'x'), (1, 'a'), (2, NULL), (2, 'b'), (NULL, 'z'), (NULL, 'y')) AS v(a, b)";
  t.deepEqual(q.rows(`SELECT DISTINCT ON (a) a, b FROM ${v} ORDER BY a, b`), [
    [1, 'a'],
    [2, 'b'],
    [null, 'y'],
  ]);
  t.deepEqual(q.rows(`SELECT DISTINCT ON (a) a, b FROM ${v} ORDER BY a DESC, b DESC`), [
    [null, 'z'],
    [2, null],
    [1, 'x'],
  ]);
  // keys and ORDER BY items may name output columns by alias or position
  t.deepEqual(q.rows(`SELECT DISTINCT ON (k) a AS k, b FROM ${v} ORDER BY k, b LIMIT 1`), [[1, 'a']]);
  t.deepEqual(q.rows(`SELECT DISTINCT ON (1) * FROM ${v} ORDER BY 1, 2 LIMIT 1`), [[1, 'a']]);
  t.like(
    t.throws(() => q.translate(`SELECT DISTINCT ON (a) a, b FROM ${v} ORDER BY b`)),
    {
      code: '42P10',
      message: 'SELECT DISTINCT ON expressions must match initial ORDER BY expressions',
    },
  );
  t.like(
    t.throws(() => q.translate(`SELECT DISTINCT ON (3) a FROM ${v}`)),
    {
      code: '42P10',
      message: 'DISTINCT ON position 3 is not in select list',
    },
  );
  // the plan cache keeps a DISTINCT ON position as it keeps an ORDER BY position
  t.deepEqual(parameterizeLiterals(`SELECT DISTINCT ON (1) a, 'x' FROM t ORDER BY 1`)?.values, ['x']);
});

test('system columns of a relation; pg_proc lists the implemented functions; "char" is not char', (t) => {
  t.deepEqual(q.rows('SELECT ctid, xmin, cmin, xmax, cmax FROM pg_class LIMIT 1'), [['(0,1)', 1, 0, 0, 0]]);
  t.deepEqual(
    q.rows(
      "SELECT attname, attnum FROM pg_attribute WHERE attrelid = 'pg_class'::regclass AND attnum < 0 ORDER BY attnum",
    ),
    [
      ['tableoid', -6],
      ['cmax', -5],
      ['xmax', -4],
      ['cmin', -3],
      ['xmin', -2],
      ['ctid', -1],
    ],
  );
  // PostgreSQL 15's OIDs and overloads: version() is 89, generate_series has eight
  t.deepEqual(q.rows("SELECT oid, prorettype FROM pg_proc WHERE proname = 'version'"), [[89, 25]]);
  t.deepEqual(q.rows("SELECT count(*) FROM pg_proc WHERE proname = 'generate_series'"), [[8]]);
  t.deepEqual(q.rows("SELECT 'now'::regproc::oid"), [[1299]]);
  const r = q.translate(`SELECT ' '::"char", ' '::char, '{a}'::"char"[]`);
  t.deepEqual(
    r.columns.map((c) => [c.name, c.type]),
    [
      ['char', 'char'],
      ['bpchar', 'bpchar'],
      ['char', '_char'],
    ],
  );
  // a subscript by an expression, unspaced
  t.deepEqual(q.rows('SELECT (ARRAY[10, 20, 30])[3-1]'), [['20']]);
});

test('set-returning functions in a select list run in lockstep: the longest sets the rows, the others NULL past their end', (t) => {
  t.deepEqual(q.rows('SELECT generate_series(1, 3), generate_series(1, 2)'), [
    [1, 1],
    [2, 2],
    [3, null],
  ]);
  t.deepEqual(q.rows("SELECT unnest(ARRAY['a', 'b']), 7, unnest(ARRAY[10, 20, 30])"), [
    ['a', 7, '10'],
    ['b', 7, '20'],
    [null, 7, '30'],
  ]);
  // the same call twice is one set, not two
  t.deepEqual(q.rows('SELECT generate_series(1, 2) AS a, generate_series(1, 2) AS b'), [
    [1, 1],
    [2, 2],
  ]);
  t.deepEqual(q.rows('SELECT generate_series(1, 0), generate_series(1, 0)'), []);
});

test('LATERAL: subqueries and functions in FROM see the FROM items before them', (t) => {
  t.deepEqual(
    q.rows(
      'SELECT g, x.h, x.twice FROM generate_series(1, 2) g, LATERAL (SELECT g * 10 AS h, g * 2 AS twice) x',
    ),
    [
      [1, 10, 2],
      [2, 20, 4],
    ],
  );
  t.deepEqual(q.rows('SELECT g, h FROM generate_series(1, 3) g CROSS JOIN LATERAL generate_series(g, 2) h'), [
    [1, 1],
    [1, 2],
    [2, 2],
  ]);
  // LEFT JOIN LATERAL keeps the rows for which the subquery has none; s.* names the subquery's columns
  const left = q.translate(
    'SELECT g, s.* FROM generate_series(1, 2) g LEFT JOIN LATERAL (SELECT g AS v WHERE g > 1) s ON true',
  );
  t.deepEqual(
    left.columns.map((c) => c.name),
    ['g', 'v'],
  );
  t.deepEqual(
    q.rows(
      'SELECT g, s.* FROM generate_series(1, 2) g LEFT JOIN LATERAL (SELECT g AS v WHERE g > 1) s ON true',
    ),
    [
      [1, null],
      [2, 2],
    ],
  );
  // a column list renames, WITH ORDINALITY numbers from 1, and lockstep set-returning calls inside
  t.deepEqual(
    q.rows(
      "SELECT k.* FROM (SELECT ARRAY['x', 'y'] AS a) t CROSS JOIN LATERAL (SELECT unnest(t.a), generate_subscripts(t.a, 1) + 1) AS k(v, n)",
    ),
    [
      ['x', 2],
      ['y', 3],
    ],
  );
  t.deepEqual(
    q.rows(
      "SELECT u.v, u.ordinality FROM (SELECT ARRAY['x', 'y'] AS a) t, unnest(t.a) WITH ORDINALITY AS u(v)",
    ),
    [
      ['x', 1],
      ['y', 2],
    ],
  );
  // without LATERAL a subquery does not see the items before it
  const e = t.throws(() => q.translate('SELECT * FROM generate_series(1, 2) g, (SELECT g AS v) s'), {
    instanceOf: SqlError,
  });
  t.is(e?.code, '42703');
});

test('a CTE column list renames positionally; parenthesized queries where PostgreSQL allows them', (t) => {
  t.deepEqual(q.rows('WITH q(a, b) AS (SELECT 1, 2) SELECT b, a FROM q'), [[2, 1]]);
  const fewer = q.translate('WITH q(a) AS (SELECT 1 AS one, 2 AS two) SELECT * FROM q');
  t.deepEqual(
    fewer.columns.map((c) => c.name),
    ['a', 'two'],
  );
  const more = t.throws(() => q.translate('WITH q(a, b, c) AS (SELECT 1, 2) SELECT * FROM q'), {
    instanceOf: SqlError,
  });
  t.is(more?.code, '42P10');
  // WITH RECURSIVE keeps its own column list
  t.deepEqual(
    q.rows('WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT n FROM c'),
    [[1], [2], [3]],
  );
  t.deepEqual(q.rows('WITH q AS ((SELECT 5 AS x)) SELECT x FROM q'), [[5]]);
  t.deepEqual(q.rows('(WITH q AS (SELECT 6 AS x) SELECT x FROM q)'), [[6]]);
  t.deepEqual(q.rows('(((SELECT 7 AS x)))'), [[7]]);
  t.deepEqual(q.rows('((SELECT 2) UNION (SELECT 1)) ORDER BY 1'), [[1], [2]]);
  t.deepEqual(q.rows('(SELECT 3 AS x) ORDER BY x LIMIT 1'), [[3]]);
  // a call's parentheses stay the call's
  t.deepEqual(q.rows('SELECT coalesce((SELECT 8)), ((SELECT 9)) + 1'), [[8, 10]]);
  // a subquery's column list, with names the subquery repeats
  t.deepEqual(q.rows('SELECT a, b FROM (SELECT 1, 2) AS x(a, b)'), [[1, 2]]);
});

test("pg_class.reltuples of a sys table and of its primary key is the table's row count (other relations -1)", (t) => {
  t.deepEqual(
    q.rows(
      "SELECT relname, reltuples FROM pg_class WHERE relname IN ('tasks', 'tasks_pkey', 'pg_class') ORDER BY 1",
    ),
    [
      ['pg_class', -1],
      ['tasks', 0],
      ['tasks_pkey', 0],
    ],
  );
});

test('arrays with a lower bound other than 1: subscripts, bounds and set-returning functions count from it', (t) => {
  const a = "'[0:2]={5,6,7}'::int[]";
  t.deepEqual(
    q.row(
      `SELECT ${a}, (${a})[0], (${a})[3], array_lower(${a}, 1), array_upper(${a}, 1), array_dims(${a}), cardinality(${a})`,
    ).values,
    ['[0:2]={5,6,7}', '5', null, 0, 2, '[0:2]', 3],
  );
  t.deepEqual(q.rows(`SELECT generate_subscripts(${a}, 1)`), [[0], [1], [2]]);
  t.deepEqual(q.rows(`SELECT unnest(${a})`), [['5'], ['6'], ['7']]);
  // [1:n] is the plain form; bounds that do not fit the elements are 22P02
  t.deepEqual(q.row("SELECT '[1:2]={1,2}'::int[]").values, ['{1,2}']);
  const e = t.throws(() => q.row("SELECT '[0:1]={1,2,3}'::int[]"), { instanceOf: SqlError });
  t.is(e?.code, '22P02');
  t.deepEqual(q.row(`SELECT array_append(${a}, 8), array_position(${a}, 7)`).values, ['[0:3]={5,6,7,8}', 2]);
});

test('int2/int4 + - * overflow is 22003; % and mod() divide by zero with 22012 and keep a numeric remainder', (t) => {
  for (const sql of ['SELECT 2147483647 + 1', 'SELECT 100000 * 100000', 'SELECT -2147483647 - 2']) {
    const e = t.throws(() => q.row(sql), { instanceOf: SqlError }, sql);
    t.is(e?.code, '22003', sql);
  }
  for (const sql of ['SELECT 1 % 0', 'SELECT mod(7, 0)']) {
    const e = t.throws(() => q.row(sql), { instanceOf: SqlError }, sql);
    t.is(e?.code, '22012', sql);
  }
  t.deepEqual(
    q.row('SELECT 3000000000 + 1, 5.5 % 2, -7 % 3, mod(7, -3), 1 << 4').values,
    [3000000001, 1.5, -1, 1, 16],
  );
});

test('column names as PostgreSQL figures them: a chain of casts takes the last type, a CASE its ELSE', (t) => {
  const names = (sql: string) => q.translate(sql).columns.map((c) => c.name);
  t.deepEqual(
    names("SELECT 'sys.tasks'::regclass::text, 1::int8::text, relname::text::varchar FROM pg_class"),
    ['text', 'text', 'relname'],
  );
  t.deepEqual(
    names(
      'SELECT CASE WHEN true THEN 1 ELSE relnatts END, CASE WHEN true THEN 1 END, CASE WHEN true THEN 1 ELSE 0::int4 END FROM pg_class',
    ),
    ['relnatts', 'case', 'case'],
  );
  t.deepEqual(names('SELECT CASE WHEN true THEN 1 ELSE (SELECT 2 AS two) END'), ['two']);
});
