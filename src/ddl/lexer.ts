// The lexemes and a cursor for the statements this server parses itself (users, tasks, storage DDL).
// Every error carries the 1-based character position, as PostgreSQL reports syntax errors.
import { SqlError } from '../../pg/errors';
import { lex as lexSql } from '../../pg/lexer';

export type LexKind = 'ident' | 'qident' | 'string' | 'bitstring' | 'number' | 'param' | 'punct' | 'end';

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

/**
 * The statement's tokens from the one SQL lexer, as these grammars see them: operators are punctuation, and a
 * sign written right against a number belongs to it (OPTIONS max_bytes_per_sec = -5), since no option value
 * is an expression.
 */
export function lex(sql: string): Lexeme[] {
  // A lexical error is already a 42601 SqlError with its position.
  const tokens = lexSql(sql);
  const out: Lexeme[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const n = tokens[i + 1];
    if (t.kind === 'op' && (t.value === '-' || t.value === '+') && n?.kind === 'number' && n.at === t.end) {
      const raw = sql.slice(t.at, n.end);
      out.push({ kind: 'number', value: raw, raw, at: t.at });
      i++;
    } else {
      out.push({ kind: t.kind === 'op' ? 'punct' : t.kind, value: t.value, raw: t.raw, at: t.at });
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
