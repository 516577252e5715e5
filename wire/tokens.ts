// Tokens of the utility statements the wire layer runs itself (PREPARE, DECLARE, FETCH, LISTEN, ...), as
// PostgreSQL's scan.l produces them: unquoted identifiers are folded to lower case, "quoted" ones keep their
// case, string constants ('..', E'..', $tag$..$tag$) are unescaped. Comments are skipped.
import { SqlError } from '../pg/errors';
import { skipQuotedOrComment } from './splitter';

export interface Token {
  kind: 'word' | 'ident' | 'string' | 'number' | 'op';
  /** Folded word, identifier, unescaped string, number text or operator character(s). */
  value: string;
  /** Offset of the token in the statement text. */
  start: number;
  end: number;
}

/** Identifiers longer than NAMEDATALEN - 1 bytes are truncated, as PostgreSQL does. */
const MAX_IDENTIFIER_BYTES = 63;

function truncateIdentifier(name: string): string {
  const bytes = Buffer.from(name);
  if (bytes.length <= MAX_IDENTIFIER_BYTES) return name;
  let n = MAX_IDENTIFIER_BYTES;
  while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
  return bytes.subarray(0, n).toString();
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const stringPrefix = /[eE]/.test(c) && sql[i + 1] === "'";
    const skipped = skipQuotedOrComment(sql, stringPrefix ? i + 1 : i);
    if (skipped !== (stringPrefix ? i + 1 : i)) {
      const region = sql.slice(stringPrefix ? i + 1 : i, skipped);
      if (region.startsWith('--') || region.startsWith('/*')) {
        i = skipped;
        continue;
      }
      tokens.push({ ...quoted(region, stringPrefix), start: i, end: skipped });
      i = skipped;
      continue;
    }
    const word = /^[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/.exec(sql.slice(i));
    if (word) {
      tokens.push({
        kind: 'word',
        value: truncateIdentifier(word[0].toLowerCase()),
        start: i,
        end: i + word[0].length,
      });
      i += word[0].length;
      continue;
    }
    const num = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i));
    if (num) {
      tokens.push({ kind: 'number', value: num[0], start: i, end: i + num[0].length });
      i += num[0].length;
      continue;
    }
    const op = sql.startsWith('::', i) ? '::' : c;
    tokens.push({ kind: 'op', value: op, start: i, end: i + op.length });
    i += op.length;
  }
  return tokens;
}

function quoted(region: string, escapes: boolean): Pick<Token, 'kind' | 'value'> {
  if (region.startsWith('"')) {
    const name = region.slice(1, -1).replace(/""/g, '"');
    if (!name) throw new SqlError('42601', 'zero-length delimited identifier');
    return { kind: 'ident', value: truncateIdentifier(name) };
  }
  if (region.startsWith('$')) {
    const tag = /^\$[^$]*\$/.exec(region)![0];
    return { kind: 'string', value: region.slice(tag.length, -tag.length) };
  }
  const body = region.slice(1, -1).replace(/''/g, "'");
  return { kind: 'string', value: escapes ? unescapeE(body) : body };
}

const SIMPLE_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function unescapeE(s: string): string {
  return s.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|.)/gs,
    (_m, e: string) => {
      if (e[0] === 'x') return String.fromCharCode(Number.parseInt(e.slice(1), 16));
      if (e[0] === 'u' || e[0] === 'U') return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
      if (/^[0-7]/.test(e)) return String.fromCharCode(Number.parseInt(e, 8));
      return SIMPLE_ESCAPES[e] ?? e;
    },
  );
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
