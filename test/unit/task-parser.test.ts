// The CREATE TASK parser alone, fed by the one SQL lexer.
import test from 'ava';
import { SqlError } from '../../pg/errors';
import { parseTaskStatement } from '../../src/ddl/tasks';

test('nested comments are read as the statement splitter reads them', (t) => {
  t.like(parseTaskStatement('CREATE TASK /* a /* b */ c */ t TYPE rebuild'), {
    kind: 'create_task',
    name: 't',
    type: 'rebuild',
  });
});

test("task names and option values may use E'' and dollar quoting", (t) => {
  const s = parseTaskStatement(
    "CREATE TASK E'it\\'s' TYPE check_disk LOCATION NODE $$n1$$ OPTIONS fix = true",
  );
  t.like(s, { name: "it's", location: { type: 'NODE', name: 'n1' } });
});

test('a signed number is one option value; lexical errors are 42601 with their position', (t) => {
  const s = parseTaskStatement('CREATE TASK x TYPE check_disk OPTIONS max_bytes_per_sec=-5');
  t.deepEqual(s?.kind === 'create_task' ? s.options.map((o) => o.value) : [], [-5]);
  const e = t.throws(() => parseTaskStatement("CREATE TASK x TYPE check_disk OPTIONS fix = 'open"), {
    instanceOf: SqlError,
    message: 'unterminated quoted string',
  });
  t.is(e?.code, '42601');
  t.is(e?.extra.position, 'CREATE TASK x TYPE check_disk OPTIONS fix = '.length + 1);
});
