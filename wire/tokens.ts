// The tokens of the utility statements the wire layer runs itself (PREPARE, DECLARE, FETCH, LISTEN, ...), read
// with the one SQL lexer (pg/lexer.ts): words folded to lower case, "quoted" identifiers keeping their case,
// string constants unescaped. Identifiers are truncated to NAMEDATALEN - 1 bytes, as PostgreSQL does.
import { SqlError } from '../pg/errors';
import { lex } from '../pg/lexer';
import { truncateName } from '../pg/names';

export interface Token {
  /** word: a bare identifier or keyword; ident: a "quoted" identifier; op: an operator or punctuation. */
  kind: 'word' | 'ident' | 'string' | 'number' | 'op' | 'other';
  value: string;
  /** Offsets of the token in the statement text. */
  start: number;
  end: number;
}

const KINDS: Record<string, Token['kind']> = {
  ident: 'word',
  qident: 'ident',
  string: 'string',
  number: 'number',
  op: 'op',
  punct: 'op',
};

export function tokenize(sql: string): Token[] {
  return lex(sql).map((t) => {
    const kind = KINDS[t.kind] ?? 'other';
    const value = kind === 'word' || kind === 'ident' ? truncateName(t.value) : t.value;
    return { kind, value, start: t.at, end: t.end };
  });
}

/** Reads tokens in order; the parsers of the utility statements are written against it. */
export class TokenReader {
  private i = 0;
  private readonly tokens: Token[];

  constructor(readonly sql: string) {
    this.tokens = tokenize(sql);
  }

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.i + ahead];
  }

  get atEnd(): boolean {
    return this.i >= this.tokens.length || (this.peek()?.value === ';' && this.i === this.tokens.length - 1);
  }

  next(): Token | undefined {
    return this.tokens[this.i++];
  }

  /** Consumes the next token when it is this unquoted keyword. */
  acceptWord(...words: string[]): boolean {
    const t = this.peek();
    if (t?.kind !== 'word' || !words.includes(t.value)) return false;
    this.i++;
    return true;
  }

  /** Consumes a sequence of keywords, all or none. */
  acceptWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.peek(k);
      if (t?.kind !== 'word' || t.value !== words[k]) return false;
    }
    this.i += words.length;
    return true;
  }

  acceptOp(op: string): boolean {
    if (this.peek()?.kind !== 'op' || this.peek()?.value !== op) return false;
    this.i++;
    return true;
  }

  expectWord(word: string): void {
    if (!this.acceptWord(word)) throw this.syntaxError();
  }

  expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.syntaxError();
  }

  /** An identifier: an unquoted word or a "quoted" name. */
  identifier(): string {
    const t = this.peek();
    if (t?.kind !== 'word' && t?.kind !== 'ident') throw this.syntaxError();
    this.i++;
    return t.value;
  }

  /** The statement text from the next token on (the body of PREPARE ... AS, DECLARE ... FOR). */
  rest(): { text: string; offset: number } {
    const t = this.peek();
    if (!t) throw this.syntaxError();
    this.i = this.tokens.length;
    return { text: this.sql.slice(t.start).replace(/;\s*$/, ''), offset: t.start };
  }

  expectEnd(): void {
    this.acceptOp(';');
    if (this.i < this.tokens.length) throw this.syntaxError();
  }

  /** 42601 at the next token, worded as PostgreSQL's parser words it. */
  syntaxError(): SqlError {
    const t = this.peek();
    if (!t) return new SqlError('42601', 'syntax error at end of input', { position: this.sql.length + 1 });
    return new SqlError('42601', `syntax error at or near "${this.sql.slice(t.start, t.end)}"`, {
      position: t.start + 1,
    });
  }
}
