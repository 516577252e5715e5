// The console's forms become CREATE TASK / CANCEL TASK text: whatever is typed must come back out of the
// statement parser exactly as typed, never as more syntax.
import test from 'ava';
import { parseTaskStatement } from '../../src/ddl/tasks';
import { cancelTaskSql, createTaskSql, quoteLiteral, type TaskTypeForm } from '../../src/http/task-sql';

const TYPES: TaskTypeForm[] = [
  {
    name: 'check_disk',
    options: {
      fix: { kind: 'bool', default: false, describe: '' },
      sample: { kind: 'bool', default: false, describe: '' },
      max_bytes_per_sec: { kind: 'int', default: null, describe: '' },
      storage_ids: { kind: 'string_list', default: null, describe: '' },
    },
  },
];

test('names, locations and option values survive quoting, including quotes and SQL of their own', (t) => {
  const name = `it's"; DROP TABLE x; --`;
  const sql = createTaskSql(
    {
      name,
      type: 'check_disk',
      location: 'NODE',
      locationName: 'Node "One"',
      options: {
        fix: 'true',
        sample: '',
        max_bytes_per_sec: '524288',
        storage_ids: "a'b, c",
      },
    },
    TYPES,
  );
  const stmt = parseTaskStatement(sql);
  t.truthy(stmt);
  if (stmt?.kind !== 'create_task') return t.fail(sql);
  t.is(stmt.name, name);
  t.is(stmt.type, 'check_disk');
  t.deepEqual(stmt.location.type, 'NODE');
  t.is(stmt.location.name, 'Node "One"');
  t.deepEqual(
    stmt.options.map((o) => [o.key, o.value]),
    [
      ['fix', true],
      ['max_bytes_per_sec', 524288],
      ['storage_ids', ["a'b", 'c']],
    ],
  );
});

test('a value that is not of the option kind is sent as a string, for the statement to reject', (t) => {
  const sql = createTaskSql(
    { type: 'check_disk', location: 'SYSTEM', options: { fix: 'yes; CANCEL TASK x' } },
    TYPES,
  );
  const stmt = parseTaskStatement(sql);
  if (stmt?.kind !== 'create_task') return t.fail(sql);
  t.deepEqual(stmt.options[0].value, 'yes; CANCEL TASK x');
  t.is(stmt.name, null);
  t.is(stmt.location.type, 'SYSTEM');
});

test('CANCEL TASK quotes its target', (t) => {
  const stmt = parseTaskStatement(cancelTaskSql("x' OR '1"));
  t.deepEqual(stmt, { kind: 'cancel_task', target: "x' OR '1" });
  t.is(quoteLiteral("''"), "''''''");
});
