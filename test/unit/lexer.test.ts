// The one SQL lexer (pg/lexer.ts): every token kind, PostgreSQL's quoting and operator rules, positions, errors.
import test from 'ava';
import { LexError, lex } from '../../pg/lexer';

const kinds = (sql: string) => lex(sql).map((t) => [t.kind, t.value]);

test('identifiers fold ASCII letters only; quoted identifiers keep case and unescape ""', (t) => {
  t.deepEqual(kinds('SeLeCt Foo_1$ "My ""T"""'), [
    ['ident', 'select'],
    ['ident', 'foo_1$'],
    ['qident', 'My "T"'],
  ]);
  t.deepEqual(kinds('Ärger'), [['ident', 'Ärger']]);
  t.deepEqual(kinds('U&"d\\0061t\\+000061"'), [['qident', 'data']]);
});

test('strings: standard, E with backslash escapes, U&, dollar quoted, continued across a newline', (t) => {
  const toks = lex(
    "'it''s' E'a\\'b\\n\\x41\\101\\u00e9\\\\' U&'\\0441x' $$a'b$$ $tag$ $$ $tag$ 'con'\n  'tinued'",
  );
  t.deepEqual(
    toks.map((x) => [x.kind, x.quoting, x.value]),
    [
      ['string', 'standard', "it's"],
      ['string', 'extended', "a'b\nAAé\\"],
      ['string', 'unicode', 'сx'],
      ['string', 'dollar', "a'b"],
      ['string', 'dollar', ' $$ '],
      ['string', 'standard', 'continued'],
    ],
  );
  // A standard string keeps its backslashes (standard_conforming_strings); no continuation without a newline.
  t.deepEqual(kinds("'a\\' 'b'"), [
    ['string', 'a\\'],
    ['string', 'b'],
  ]);
  t.deepEqual(kinds("E'\\uD83D\\uDE00'"), [['string', '😀']]);
});

test('bit strings, numbers and parameters', (t) => {
  t.deepEqual(
    lex("B'0101' x'1F' 42 3.14 .5 1. 1e5 2.5E-3 1..2 $1 $12").map((x) => [x.kind, x.value, x.quoting]),
    [
      ['bitstring', '0101', 'bit'],
      ['bitstring', '1F', 'hex'],
      ['number', '42', undefined],
      ['number', '3.14', undefined],
      ['number', '.5', undefined],
      ['number', '1.', undefined],
      ['number', '1e5', undefined],
      ['number', '2.5E-3', undefined],
      ['number', '1', undefined],
      ['punct', '..', undefined],
      ['number', '2', undefined],
      ['param', '1', undefined],
      ['param', '12', undefined],
    ],
  );
  t.throws(() => lex("B'012'"), { instanceOf: LexError, message: '"2" is not a valid binary digit' });
});

test("operators are cut as PostgreSQL's scanner cuts them", (t) => {
  t.deepEqual(kinds('a<=b <> c != d || e ->> f @> g =-1 x*-y ~- z !-- comment\n w+/* c */v'), [
    ['ident', 'a'],
    ['op', '<='],
    ['ident', 'b'],
    ['op', '<>'],
    ['ident', 'c'],
    ['op', '!='],
    ['ident', 'd'],
    ['op', '||'],
    ['ident', 'e'],
    ['op', '->>'],
    ['ident', 'f'],
    ['op', '@>'],
    ['ident', 'g'],
    ['op', '='],
    ['op', '-'],
    ['number', '1'],
    ['ident', 'x'],
    ['op', '*'],
    ['op', '-'],
    ['ident', 'y'],
    ['op', '~-'],
    ['ident', 'z'],
    ['op', '!'],
    ['ident', 'w'],
    ['op', '+'],
    ['ident', 'v'],
  ]);
});

test('punctuation, including :: .. := =>', (t) => {
  t.deepEqual(
    kinds('f(a := 1, b => 2)[1]::int; s.t $').map(([k, v]) => `${k}:${v}`),
    [
      'ident:f',
      'punct:(',
      'ident:a',
      'punct::=',
      'number:1',
      'punct:,',
      'ident:b',
      'punct:=>',
      'number:2',
      'punct:)',
      'punct:[',
      'number:1',
      'punct:]',
      'punct:::',
      'ident:int',
      'punct:;',
      'ident:s',
      'punct:.',
      'ident:t',
      'punct:$',
    ],
  );
});

test('comments produce no token and nest; every token knows its offsets', (t) => {
  const sql = 'SELECT /* a /* b */ c */ x -- tail\n, y';
  const toks = lex(sql);
  t.deepEqual(
    toks.map((x) => [x.raw, x.at, x.end]),
    [
      ['SELECT', 0, 6],
      ['x', 25, 26],
      [',', 35, 36],
      ['y', 37, 38],
    ],
  );
  for (const x of toks) t.is(sql.slice(x.at, x.end), x.raw);
});

test('unterminated strings, identifiers, dollar quotes and comments are 42601 errors at their start', (t) => {
  const cases: [string, string, number][] = [
    ["SELECT 'abc", 'unterminated quoted string', 7],
    ["SELECT E'ab\\'", 'unterminated quoted string', 7],
    ['SELECT "abc', 'unterminated quoted identifier', 7],
    ['SELECT $x$ abc $y$', 'unterminated dollar-quoted string', 7],
    ['SELECT 1 /* a /* b */ c', 'unterminated /* comment', 9],
    ['SELECT ""', 'zero-length delimited identifier', 7],
  ];
  for (const [sql, message, at] of cases) {
    const e = t.throws(() => lex(sql), { instanceOf: LexError, message }, sql);
    t.is(e?.at, at, sql);
    t.like(e, { code: '42601', extra: { position: at + 1 } }, sql);
  }
});
