// The statement splitter and its helpers: PostgreSQL's lexical rules, and bounded work on long text (they run
// on the thread that serves every connection).
import test from 'ava';
import { isBlank, splitStatements, stripComments } from '../../wire/splitter';

test('isBlank: whitespace and comments only; an unterminated comment is not blank', (t) => {
  t.true(isBlank(''));
  t.true(isBlank('  \n\t'));
  t.true(isBlank('-- a comment\n /* nested /* comment */ */ '));
  t.false(isBlank('/* never closed'));
  t.false(isBlank('SELECT 1'));
  t.false(isBlank("/* c */ 'unterminated"));
});

test('splitStatements keeps semicolons inside quotes, dollar quotes and comments', (t) => {
  const pieces = splitStatements("SELECT ';'; SELECT $x$;$x$ /* ; */; ; SELECT 3");
  t.deepEqual(
    pieces.map((p) => p.text.trim()),
    ["SELECT ';'", 'SELECT $x$;$x$ /* ; */', 'SELECT 3'],
  );
  t.is(pieces[2].offset, "SELECT ';'; SELECT $x$;$x$ /* ; */; ;".length);
});

test('a text without semicolons is one statement, unless it is only comments', (t) => {
  t.deepEqual(splitStatements("SELECT 'a' -- c"), [{ text: "SELECT 'a' -- c", offset: 0 }]);
  t.deepEqual(splitStatements('/* only */ -- comments'), []);
  // Lexical errors stay in the statement, whose parser reports them with their position.
  t.deepEqual(splitStatements('/* never closed'), [{ text: '/* never closed', offset: 0 }]);
  t.deepEqual(splitStatements("SELECT 'open"), [{ text: "SELECT 'open", offset: 0 }]);
  // The same text with a semicolon after it, read by the lexer, gives the same statement.
  t.deepEqual(splitStatements("SELECT 'a' -- c\n;"), [{ text: "SELECT 'a' -- c\n", offset: 0 }]);
});

test('stripComments collapses whitespace and drops comments, keeping quoted text', (t) => {
  t.is(stripComments("  SELECT  /* x */ 'a  b'\n\tFROM -- y\n t "), "SELECT 'a  b' FROM t");
});
