// Session commands parsed once per text (wire/plan.ts sessionCommandOf): psql's FETCH_COUNT sends the same
// FETCH for every batch.
import test from 'ava';
import { sessionCommandOf } from '../../wire/plan';
import { parseSessionCommand } from '../../wire/session';

test('the same text gives the very command parsed the first time; another text its own', (t) => {
  const fetch = 'FETCH FORWARD 100 FROM _psql_cursor';
  const first = sessionCommandOf(fetch);
  t.deepEqual(first, parseSessionCommand(fetch));
  t.is(sessionCommandOf(fetch), first);
  const other = sessionCommandOf('FETCH FORWARD 1000 FROM _psql_cursor');
  t.deepEqual(other, parseSessionCommand('FETCH FORWARD 1000 FROM _psql_cursor'));
  t.notDeepEqual(other, first);
  // Not a session command: remembered as such.
  t.is(sessionCommandOf('SELECT 1'), null);
});

test('long texts are not kept: parsed each time', (t) => {
  const long = `SET application_name = '${'x'.repeat(2000)}'`;
  t.not(sessionCommandOf(long), sessionCommandOf(long));
  t.deepEqual(sessionCommandOf(long), parseSessionCommand(long));
});
