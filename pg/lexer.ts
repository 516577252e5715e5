// The one SQL lexer, with the rules of PostgreSQL's scanner (src/backend/parser/scan.l): identifiers folded to
// lower case (ASCII only, as downcase_identifier does), "quoted" identifiers with "" escapes, U&"..." identifiers,
// '...' strings with '' escapes, E'...' with backslash escapes, U&'...' with \XXXX escapes, $tag$...$tag$ dollar
// quoting, B'...' and X'...' bit strings, adjacent string literals joined across a newline, numbers, $n
// parameters, operators cut as PostgreSQL cuts them, punctuation, -- comments and nested /* */ comments.
// Whitespace and comments produce no token; every token knows where it starts and ends (0-based offsets).
// Not done: UESCAPE clauses, PostgreSQL 15's non-decimal integers (0x1F) and 16's digit separators (1_000).

import { SqlError } from './errors';

export type TokenKind =
  /** A bare identifier or keyword; value is folded to lower case. */
  | 'ident'
  /** A double-quoted identifier; value is its unescaped text. */
  | 'qident'
  /** A string constant of any quoting; value is its unescaped text, quoting says which form it had. */
  | 'string'
  /** B'0101' or X'1F'; value is the digits, quoting says 'bit' or 'hex'. */
  | 'bitstring'
  /** An integer or decimal constant, with its exponent; value is its text. */
  | 'number'
  /** $1, $2 ...; value is the number's digits. */
  | 'param'
  /** An operator: + - * / < > = ~ ! @ # % ^ & | ` ? and their combinations. */
  | 'op'
  /** One of , ( ) [ ] ; : . or :: .. := => and any other character the grammar has no use for. */
  | 'punct';

export type Quoting = 'standard' | 'extended' | 'unicode' | 'dollar' | 'bit' | 'hex';

export interface Token {
  kind: TokenKind;
  value: string;
  /** The token as written in the source. */
  raw: string;
  /** 0-based offset of the first character. */
  at: number;
  /** 0-based offset just past the last character. */
  end: number;
  /** For strings and bit strings: the form they were written in. */
  quoting?: Quoting;
}

/** A lexical error: a syntax error (42601) at the token it is about, with that token's 0-based offset. */
export class LexError extends SqlError {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super('42601', message, { position: at + 1 });
  }
}

const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
/** ident_start: letters, underscore, and any non-ASCII character (PostgreSQL's \200-\377 bytes). */
const isIdentStart = (c: string | undefined) =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c >= '\u0080');
const isIdentCont = (c: string | undefined) => isIdentStart(c) || isDigit(c) || c === '$';
const isDollarTagCont = (c: string | undefined) => isIdentStart(c) || isDigit(c);

const OP_CHARS = '~!@#^&|`?+-*/%<>=';
/** An operator holding one of these may end in + or - (see the operator rule in scan.l). */
const NON_MATH_OP_CHARS = '~!@#^&|`?%';
const TWO_CHAR_PUNCT = new Set(['::', '..', ':=', '=>']);

const ESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Folds an identifier as PostgreSQL's downcase_identifier does for multibyte encodings: ASCII letters only. */
export function foldIdentifier(raw: string): string {
  // ASCII text (nearly every identifier) folds natively: toLowerCase changes only A-Z there.
  let upper = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 128) return raw.replace(/[A-Z]+/g, (s) => s.toLowerCase());
    if (c >= 65 && c <= 90) upper = true;
  }
  return upper ? raw.toLowerCase() : raw;
}

/** Reads tokens one at a time, so a caller can stop, or keep what came before an error. */
export class Lexer {
  private i = 0;

  constructor(private readonly sql: string) {}

  /** The next token, or null at the end of the input. Throws LexError on an unterminated quote or comment. */
  next(): Token | null {
    this.skipSpaceAndComments();
    const { sql } = this;
    const start = this.i;
    if (start >= sql.length) return null;
    const c = sql[start];
    const n = sql[start + 1];
    if (c === "'") return this.quotedString(start, start, 'standard');
    if ((c === 'e' || c === 'E') && n === "'") return this.quotedString(start, start + 1, 'extended');
    if ((c === 'b' || c === 'B') && n === "'") return this.bitString(start, 'bit');
    if ((c === 'x' || c === 'X') && n === "'") return this.bitString(start, 'hex');
    if ((c === 'u' || c === 'U') && n === '&' && sql[start + 2] === "'") {
      return this.quotedString(start, start + 2, 'unicode');
    }
    if ((c === 'u' || c === 'U') && n === '&' && sql[start + 2] === '"') return this.quotedIdent(start, true);
    if (c === '"') return this.quotedIdent(start, false);
    if (c === '$') return this.dollar(start);
    if (isDigit(c) || (c === '.' && isDigit(n))) return this.number(start);
    if (isIdentStart(c)) {
      let j = start + 1;
      while (isIdentCont(sql[j])) j++;
      this.i = j;
      const raw = sql.slice(start, j);
      return { kind: 'ident', value: foldIdentifier(raw), raw, at: start, end: j };
    }
    if (OP_CHARS.includes(c)) return this.operator(start);
    const two = sql.slice(start, start + 2);
    const len = TWO_CHAR_PUNCT.has(two) ? 2 : 1;
    return this.token('punct', start, start + len);
  }

  private token(kind: TokenKind, at: number, end: number, value?: string, quoting?: Quoting): Token {
    this.i = end;
    const raw = this.sql.slice(at, end);
    return quoting
      ? { kind, value: value ?? raw, raw, at, end, quoting }
      : { kind, value: value ?? raw, raw, at, end };
  }

  private skipSpaceAndComments(): void {
    const { sql } = this;
    for (;;) {
      const c = sql[this.i];
      if (isSpace(c)) this.i++;
      else if (c === '-' && sql[this.i + 1] === '-') {
        const nl = sql.indexOf('\n', this.i);
        this.i = nl < 0 ? sql.length : nl + 1;
      } else if (c === '/' && sql[this.i + 1] === '*') this.i = this.commentEnd(this.i);
      else return;
    }
  }

  /** The offset past the (nested) comment that starts at `start`. */
  private commentEnd(start: number): number {
    const { sql } = this;
    let depth = 0;
    let j = start;
    do {
      if (sql[j] === '/' && sql[j + 1] === '*') {
        depth++;
        j += 2;
      } else if (sql[j] === '*' && sql[j + 1] === '/') {
        depth--;
        j += 2;
      } else j++;
      if (j >= sql.length && depth > 0) throw new LexError('unterminated /* comment', start);
    } while (depth > 0);
    return j;
  }

  /**
   * After a closing quote: when only whitespace holding a newline (and no comment) separates it from another
   * quote, the two literals are one (SQL's string continuation). Returns the offset of that next quote, or -1.
   */
  private continuation(from: number): number {
    const { sql } = this;
    let j = from;
    let newline = false;
    while (isSpace(sql[j])) {
      if (sql[j] === '\n' || sql[j] === '\r') newline = true;
      j++;
    }
    return newline && sql[j] === "'" ? j : -1;
  }

  /** A '...' body starting at the quote `open`; backslash escapes for E'' strings. Returns [value, end]. */
  private stringBody(tokenStart: number, open: number, backslashes: boolean): [string, number] {
    const { sql } = this;
    let v = '';
    let j = open + 1;
    for (;;) {
      if (!backslashes) {
        // Without escapes the body runs to the next quote: taken as one slice, not a character at a time.
        const q = sql.indexOf("'", j);
        if (q > j) {
          v += sql.slice(j, q);
          j = q;
        } else if (q < 0) j = sql.length;
      }
      if (j >= sql.length) throw new LexError('unterminated quoted string', tokenStart);
      const ch = sql[j];
      if (ch === "'") {
        if (sql[j + 1] === "'") {
          v += "'";
          j += 2;
          continue;
        }
        const next = this.continuation(j + 1);
        if (next < 0) return [v, j + 1];
        j = next + 1;
      } else if (ch === '\\' && backslashes) {
        const [s, k] = this.backslashEscape(j);
        v += s;
        j = k;
      } else {
        v += ch;
        j++;
      }
    }
  }

  /** One backslash escape of an E'' string at sql[j] === '\\'. Returns [text, offset after]. */
  private backslashEscape(j: number): [string, number] {
    const { sql } = this;
    const e = sql[j + 1];
    if (e === undefined) return ['', j + 1];
    if (e in ESCAPED) return [ESCAPED[e], j + 2];
    if (e >= '0' && e <= '7') {
      const m = /^[0-7]{1,3}/.exec(sql.slice(j + 1, j + 4))![0];
      return [String.fromCharCode(parseInt(m, 8) & 0xff), j + 1 + m.length];
    }
    if (e === 'x' && /[0-9A-Fa-f]/.test(sql[j + 2] ?? '')) {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(sql.slice(j + 2, j + 4))![0];
      return [String.fromCharCode(parseInt(m, 16)), j + 2 + m.length];
    }
    if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = sql.slice(j + 2, j + 2 + len);
      if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) {
        throw new LexError('invalid Unicode escape', j);
      }
      const cp = parseInt(hex, 16);
      // A UTF-16 surrogate pair written as two \u escapes is one character, as PostgreSQL reads it.
      const low = /^\\u([Dd][C-Fc-f][0-9A-Fa-f]{2})/.exec(sql.slice(j + 2 + len, j + 8 + len));
      if (cp >= 0xd800 && cp <= 0xdbff && low) {
        return [String.fromCharCode(cp, parseInt(low[1], 16)), j + 8 + len];
      }
      return [codePoint(cp, j), j + 2 + len];
    }
    return [e, j + 2];
  }

  private quotedString(start: number, open: number, quoting: Quoting): Token {
    const [body, end] = this.stringBody(start, open, quoting === 'extended');
    const value = quoting === 'unicode' ? this.unicodeEscapes(body, start) : body;
    return this.token('string', start, end, value, quoting);
  }

  /** Decodes U&'' / U&"" escapes: \XXXX, \+XXXXXX and \\ (the default escape character). */
  private unicodeEscapes(body: string, at: number): string {
    let out = '';
    for (let j = 0; j < body.length; j++) {
      if (body[j] !== '\\') {
        out += body[j];
        continue;
      }
      if (body[j + 1] === '\\') {
        out += '\\';
        j++;
        continue;
      }
      const long = body[j + 1] === '+';
      const hex = long ? body.slice(j + 2, j + 8) : body.slice(j + 1, j + 5);
      if (!(long ? /^[0-9A-Fa-f]{6}$/ : /^[0-9A-Fa-f]{4}$/).test(hex)) {
        throw new LexError('invalid Unicode escape', at);
      }
      out += codePoint(parseInt(hex, 16), at);
      j += long ? 7 : 4;
    }
    return out;
  }

  private bitString(start: number, quoting: 'bit' | 'hex'): Token {
    const [digits, end] = this.stringBody(start, start + 1, false);
    const invalid = (quoting === 'bit' ? /[^01]/ : /[^0-9A-Fa-f]/).exec(digits);
    if (invalid) {
      const what = quoting === 'bit' ? 'binary' : 'hexadecimal';
      throw new LexError(`"${invalid[0]}" is not a valid ${what} digit`, start);
    }
    return this.token('bitstring', start, end, digits, quoting);
  }

  private quotedIdent(start: number, unicode: boolean): Token {
    const { sql } = this;
    let v = '';
    let j = start + (unicode ? 3 : 1);
    for (;;) {
      if (j >= sql.length) throw new LexError('unterminated quoted identifier', start);
      if (sql[j] === '"') {
        if (sql[j + 1] !== '"') break;
        v += '"';
        j += 2;
      } else v += sql[j++];
    }
    if (!v) throw new LexError('zero-length delimited identifier', start);
    return this.token('qident', start, j + 1, unicode ? this.unicodeEscapes(v, start) : v);
  }

  /** $n parameters and $tag$ ... $tag$ strings; a lone $ is punctuation. */
  private dollar(start: number): Token {
    const { sql } = this;
    if (isDigit(sql[start + 1])) {
      let j = start + 1;
      while (isDigit(sql[j])) j++;
      return this.token('param', start, j, sql.slice(start + 1, j));
    }
    let j = start + 1;
    if (isIdentStart(sql[j])) while (isDollarTagCont(sql[j])) j++;
    if (sql[j] !== '$') return this.token('punct', start, start + 1);
    const tag = sql.slice(start, j + 1);
    const close = sql.indexOf(tag, j + 1);
    if (close < 0) throw new LexError('unterminated dollar-quoted string', start);
    return this.token('string', start, close + tag.length, sql.slice(j + 1, close), 'dollar');
  }

  /** integer, decimal and real as scan.l has them; "1..2" is 1 then .. (decimalfail). */
  private number(start: number): Token {
    const { sql } = this;
    let j = start;
    while (isDigit(sql[j])) j++;
    if (sql[j] === '.' && sql[j + 1] !== '.') {
      j++;
      while (isDigit(sql[j])) j++;
    }
    if (sql[j] === 'e' || sql[j] === 'E') {
      const sign = sql[j + 1] === '+' || sql[j + 1] === '-' ? 1 : 0;
      if (isDigit(sql[j + 1 + sign])) {
        j += 1 + sign;
        while (isDigit(sql[j])) j++;
      }
    }
    return this.token('number', start, j);
  }

  /**
   * The operator rule of scan.l: the longest run of operator characters, cut before any -- or /*; a multi-
   * character operator cannot end in + or - unless it holds one of ~ ! @ # ^ & | ` ? %, so that "=-1" is = -1.
   */
  private operator(start: number): Token {
    const { sql } = this;
    let j = start;
    while (j < sql.length && OP_CHARS.includes(sql[j])) {
      const pair = sql.slice(j, j + 2);
      if (pair === '--' || pair === '/*') break;
      j++;
    }
    let len = j - start;
    if (len > 1) {
      const op = sql.slice(start, j);
      if (![...op].some((ch) => NON_MATH_OP_CHARS.includes(ch))) {
        while (len > 1 && (op[len - 1] === '+' || op[len - 1] === '-')) len--;
      }
    }
    // => is named-argument notation, not an operator (EQUALS_GREATER in scan.l).
    const kind = len === 2 && sql.startsWith('=>', start) ? 'punct' : 'op';
    return this.token(kind, start, start + len);
  }
}

function codePoint(cp: number, at: number): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0) {
    throw new LexError('invalid Unicode escape value', at);
  }
  return String.fromCodePoint(cp);
}

/** All tokens of a statement. Throws LexError on an unterminated quote or comment. */
export function lex(sql: string): Token[] {
  const lexer = new Lexer(sql);
  const out: Token[] = [];
  for (let t = lexer.next(); t; t = lexer.next()) out.push(t);
  return out;
}
