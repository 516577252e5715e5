// The oracle's own parts that need no server: the capture proxy's frontend decoder, the corpus format, the
// ORDER BY detection that decides between ordered and multiset comparison, and the difference report.
import test from 'ava';
import { serialize } from 'pg-protocol';
import { difference, hasTopLevelOrderBy } from '../oracle/compare';
import { parseCorpus } from '../oracle/corpus';
import { type CapturedStatement, FrontendDecoder } from '../tools/capture-proxy';

test('the capture decoder records simple queries and bound statements, split across chunks', (t) => {
  const got: CapturedStatement[] = [];
  const d = new FrontendDecoder((s) => got.push(s));
  const sslRequest = Buffer.alloc(8);
  sslRequest.writeInt32BE(8, 0);
  sslRequest.writeInt32BE(80877103, 4);
  const int4 = Buffer.alloc(4);
  int4.writeInt32BE(-7, 0);
  const bytes = Buffer.concat([
    sslRequest,
    serialize.startup({ user: 'admin', database: 'segtasks' }),
    serialize.query('SELECT 1'),
    serialize.parse({ name: 's1', text: 'SELECT $1, $2, $3', types: [25, 23, 0] }),
    serialize.bind({ statement: 's1', values: ['a', int4, null], valueMapper: (v) => v }),
  ]);
  // pg-protocol sends a Buffer value in binary format
  for (let i = 0; i < bytes.length; i += 7) d.push(bytes.subarray(i, i + 7));
  t.deepEqual(got, [
    { sql: 'SELECT 1' },
    { sql: 'SELECT $1, $2, $3', params: ['a', '-7', null], paramTypes: [25, 23, 0] },
  ]);
});

test('corpus entries are separated by blank lines; comments and a trailing semicolon are dropped', (t) => {
  t.deepEqual(parseCorpus('-- header\n\nSELECT 1;\n\n-- about two\nSELECT\n  2\n\n\n'), [
    'SELECT 1',
    'SELECT\n  2',
  ]);
});

test('ORDER BY counts only in the outermost query, outside strings and comments', (t) => {
  t.true(hasTopLevelOrderBy('SELECT a FROM t ORDER BY a'));
  t.true(hasTopLevelOrderBy('SELECT a FROM t UNION SELECT b FROM u ORDER\n BY 1'));
  t.false(hasTopLevelOrderBy('SELECT row_number() OVER (ORDER BY a) FROM t'));
  t.false(hasTopLevelOrderBy("SELECT 'order by' FROM t -- order by\n"));
  t.false(hasTopLevelOrderBy('SELECT * FROM (SELECT a FROM t ORDER BY a) s'));
});

test('differences: SQLSTATEs, columns, types, rows in order or as multisets', (t) => {
  const r = (rows: (string | null)[][], types = [23]) => ({ results: [{ columns: ['a'], types, rows }] });
  t.is(difference(r([['1'], ['2']]), r([['2'], ['1']]), false), undefined);
  t.regex(difference(r([['1'], ['2']]), r([['2'], ['1']]), true) ?? '', /^row 0/);
  t.regex(difference(r([['1']], [25]), r([['1']]), false) ?? '', /^types/);
  t.is(difference({ error: '22012', results: [] }, { error: '22012', results: [] }, false), undefined);
  t.regex(difference({ error: '42601', results: [] }, r([]), false) ?? '', /^error: segtasks 42601/);
});
