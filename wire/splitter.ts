// Splits a simple-Query string into statements at top-level semicolons, using the one SQL lexer, so that quotes,
// dollar quotes and nested comments are read here exactly as the parsers read them.
import { LexError, Lexer, type Token } from '../pg/lexer';

export interface SqlPiece {
  /** The statement text, without the terminating semicolon. */
  text: string;
  /** 0-based offset of text in the original string, so error positions can be reported against it. */
  offset: number;
}

/**
 * True when no quote, dollar quote or comment can begin in the text: then the lexer can find nothing but
 * words, numbers, operators and ';', and cannot fail (every LexError is about a quote or a comment), so the
 * text is read natively, without a token per word. This keeps a statement of megabytes (a SET list, a long
 * OPTIONS list) to milliseconds on the thread that serves every connection.
 */
function plain(text: string): boolean {
  return !/['"$]|--|\/\*/.test(text);
}

export function splitStatements(sql: string): SqlPiece[] {
  if (plain(sql)) return splitPlain(sql);
  // No semicolon, not even in a quote or a comment: one statement, unless it is only comments.
  if (!sql.includes(';')) return isBlank(sql) ? [] : [{ text: sql, offset: 0 }];
  const pieces: SqlPiece[] = [];
  let start = 0;
  let solid = false;
  const errorAt = eachTokenUntilError(sql, (t) => {
    if (t.kind === 'punct' && t.value === ';') {
      if (solid) pieces.push({ text: sql.slice(start, t.at), offset: start });
      start = t.end;
      solid = false;
    } else solid = true;
  });
  if (solid || errorAt !== null) pieces.push({ text: sql.slice(start), offset: start });
  return pieces;
}

function splitPlain(sql: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let start = 0;
  for (;;) {
    const end = sql.indexOf(';', start);
    const text = sql.slice(start, end < 0 ? sql.length : end);
    if (/\S/.test(text)) pieces.push({ text, offset: start });
    if (end < 0) return pieces;
    start = end + 1;
  }
}

/** True when the text holds nothing but whitespace and comments (an unterminated comment is not blank). */
export function isBlank(text: string): boolean {
  // Only the first token is read: a statement of megabytes is known not to be blank at its first word.
  try {
    return new Lexer(text).next() === null;
  } catch (e) {
    if (e instanceof LexError) return false;
    throw e;
  }
}

/**
 * The statement's first word, lower-case: the letters and underscores that begin its first token, after
 * comments (and, with skipParens, opening parentheses); '' when it begins otherwise or cannot be lexed there.
 * What stripComments(text) then a match of /^[a-z_]+/ gives, reading one token instead of the whole text.
 */
export function firstWord(text: string, skipParens = false): string {
  const lexer = new Lexer(text);
  try {
    let t = lexer.next();
    while (skipParens && t?.kind === 'punct' && t.value === '(') t = lexer.next();
    if (!t) return '';
    return /^[A-Za-z_]+/.exec(t.raw)?.[0].toLowerCase() ?? '';
  } catch (e) {
    if (e instanceof LexError) return '';
    throw e;
  }
}

/**
 * Calls f with each token of sql up to the first lexical error, and returns that error's offset (null when
 * there is none). The error is not thrown here: the text from that point on stays in the statement, whose
 * parser then reports it with its position, as PostgreSQL does.
 */
function eachTokenUntilError(sql: string, f: (t: Token) => void): number | null {
  const lexer = new Lexer(sql);
  try {
    for (let t = lexer.next(); t; t = lexer.next()) f(t);
    return null;
  } catch (e) {
    if (e instanceof LexError) return e.at;
    throw e;
  }
}

/** Removes comments and collapses whitespace; quoted text is kept as it is. Used for classifying statements. */
export function stripComments(text: string): string {
  if (plain(text)) return collapseWhitespace(text);
  const parts: string[] = [];
  let last = 0;
  const errorAt = eachTokenUntilError(text, (t) => {
    if (t.at > last && parts.length) parts.push(' ');
    parts.push(t.raw);
    last = t.end;
  });
  if (errorAt !== null) parts.push((errorAt > last && parts.length ? ' ' : '') + text.slice(errorAt));
  // Tokens are joined by one space where there was any: the whitespace inside quoted tokens is theirs.
  return parts.join('');
}

/** Whitespace as JavaScript's \s knows it. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Every run of whitespace as one space, trimmed: s.replace(/\s+/g, ' ').trim() in one pass that copies only
 * where something changes (the regex takes seconds on megabytes of short runs).
 */
function collapseWhitespace(s: string): string {
  const parts: string[] = [];
  let from = 0;
  let i = 0;
  while (i < s.length) {
    if (!isSpace(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < s.length && isSpace(s.charCodeAt(j))) j++;
    // A single plain space between words needs no change.
    if (j - i > 1 || s.charCodeAt(i) !== 32 || i === 0 || j === s.length) {
      parts.push(s.slice(from, i));
      if (i > 0 && j < s.length) parts.push(' ');
      from = j;
    }
    i = j;
  }
  parts.push(s.slice(from));
  return parts.join('');
}
