// A small tokenizer and cursor for the statements this server parses itself (users, tasks, storage DDL).
// Every error carries the 1-based character position, as PostgreSQL reports syntax errors.
import { SqlError } from '../../pg/errors';

export type LexKind = 'ident' | 'qident' | 'string' | 'number' | 'param' | 'punct' | 'end';

export interface Lexeme {
  kind: LexKind;
  /** Identifier text (folded to lower case unless quoted), string contents, number text, or punctuation. */
  value: string;
  /** Original spelling, for messages. */
  raw: string;
  /** 0-based offset in the statement. */
  at: number;
}

export function syntaxError(message: string, at: number): SqlError {
  return new SqlError('42601', message, { position: at + 1 });
}

export function lex(sql: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError('unterminated /* comment', i);
      i = end + 2;
      continue;
    }
    const start = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw syntaxError('unterminated quoted string', start);
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            v += "'";
            i += 2;
          } else {
            i++;
            break;
          }
        } else v += sql[i++];
      }
      out.push({ kind: 'string', value: v, raw: sql.slice(start, i), at: start });
    } else if (c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw syntaxError('unterminated quoted identifier', start);
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            v += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else v += sql[i++];
      }
      if (!v) throw syntaxError('zero-length delimited identifier', start);
      out.push({ kind: 'qident', value: v, raw: sql.slice(start, i), at: start });
    } else if (c === '$' && /\d/.test(sql[i + 1] ?? '')) {
      i++;
      while (/\d/.test(sql[i] ?? '')) i++;
      out.push({ kind: 'param', value: sql.slice(start + 1, i), raw: sql.slice(start, i), at: start });
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '+' || c === '.') && /[0-9]/.test(sql[i + 1] ?? ''))) {
      i++;
      while (/[0-9._eE]/.test(sql[i] ?? '') || (/[eE]/.test(sql[i - 1]) && /[+-]/.test(sql[i] ?? ''))) i++;
      out.push({ kind: 'number', value: sql.slice(start, i), raw: sql.slice(start, i), at: start });
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      while (/[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i] ?? '')) i++;
      const raw = sql.slice(start, i);
      out.push({ kind: 'ident', value: raw.toLowerCase(), raw, at: start });
    } else {
      i++;
      out.push({ kind: 'punct', value: c, raw: c, at: start });
    }
  }
  out.push({ kind: 'end', value: '', raw: '', at: sql.length });
  return out;
}

/** A cursor over lexemes with the expect/accept helpers a recursive-descent parser needs. */
export class Cursor {
  private i = 0;
  constructor(private readonly toks: Lexeme[]) {}

  static of(sql: string): Cursor {
    return new Cursor(lex(sql));
  }

  peek(k = 0): Lexeme {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)];
  }
  next(): Lexeme {
    const t = this.peek();
    if (t.kind !== 'end') this.i++;
    return t;
  }
  atEnd(): boolean {
    const t = this.peek();
    return t.kind === 'end' || (t.kind === 'punct' && t.value === ';' && this.peek(1).kind === 'end');
  }
  isKeyword(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && t.value === word;
  }
  acceptKeyword(word: string): boolean {
    if (this.isKeyword(word)) {
      this.i++;
      return true;
    }
    return false;
  }
  expectKeyword(word: string, what?: string): Lexeme {
    const t = this.peek();
    if (t.kind === 'ident' && t.value === word) return this.next();
    throw this.unexpected(what ?? word.toUpperCase());
  }
  acceptPunct(p: string): boolean {
    const t = this.peek();
    if (t.kind === 'punct' && t.value === p) {
      this.i++;
      return true;
    }
    return false;
  }
  expectPunct(p: string): Lexeme {
    const t = this.peek();
    if (t.kind === 'punct' && t.value === p) return this.next();
    throw this.unexpected(`"${p}"`);
  }
  /** A name: bare identifier (folded) or double-quoted; with allowString also a single-quoted string. */
  name(what: string, allowString = false): Lexeme {
    const t = this.peek();
    if (t.kind === 'ident' || t.kind === 'qident' || (allowString && t.kind === 'string')) return this.next();
    throw this.unexpected(what);
  }
  string(what: string): Lexeme {
    const t = this.peek();
    if (t.kind === 'string') return this.next();
    throw this.unexpected(what);
  }
  expectEnd(): void {
    this.acceptPunct(';');
    if (this.peek().kind !== 'end') throw this.unexpected('end of statement');
  }
  unexpected(expected: string): SqlError {
    const t = this.peek();
    const near = t.kind === 'end' ? 'syntax error at end of input' : `syntax error at or near "${t.raw}"`;
    return syntaxError(`${near}: expected ${expected}`, t.at);
  }
}
