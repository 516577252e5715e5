// The statement's tokens as the rewriting pass and the plan cache see them: the one SQL lexer's tokens, each
// with the text it contributes to the SQL handed to pgsql-ast-parser, and a space token where the source had
// whitespace or a comment.
import { type Token as LexToken, lex } from '../../../pg/lexer';

export interface Token {
  kind: 'word' | 'qident' | 'string' | 'number' | 'param' | 'op' | 'punct' | 'space';
  text: string;
  /** Offset of the token in the original statement. */
  at: number;
}

/**
 * The statement's tokens from the one SQL lexer, in the form the rewrites below work on: the text each token
 * contributes to the output (strings of every quoting as standard '..' strings, which pgsql-ast-parser reads),
 * with a space token wherever the source had whitespace or a comment. Throws LexError.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const t of lex(sql)) {
    if (t.at > last) out.push({ kind: 'space', text: ' ', at: last });
    last = t.end;
    out.push({
      kind: PIECE_KIND[t.kind],
      text: t.kind === 'string' ? quoteString(t.value) : t.raw,
      at: t.at,
    });
  }
  if (sql.length > last) out.push({ kind: 'space', text: ' ', at: last });
  return out;
}

const PIECE_KIND: Record<LexToken['kind'], Token['kind']> = {
  ident: 'word',
  qident: 'qident',
  string: 'string',
  // B'..' and X'..' pass through as written; they are not literals parameterization may replace.
  bitstring: 'punct',
  number: 'number',
  param: 'param',
  op: 'op',
  punct: 'punct',
};

export function quoteString(v: string): string {
  return "'" + v.replace(/'/g, "''") + "'";
}

export const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text.toLowerCase() === w;

/** Finds the index just past the balanced group that opens at tokens[i] ('('), or -1. */
export function matchParen(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    if (tokens[j].kind !== 'punct') continue;
    if (tokens[j].text === '(') depth++;
    else if (tokens[j].text === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

export function nextSolid(tokens: Token[], i: number): number {
  while (i < tokens.length && tokens[i].kind === 'space') i++;
  return i;
}

export function prevSolid(tokens: Token[], i: number): number {
  while (i >= 0 && tokens[i].kind === 'space') i--;
  return i;
}

/** The tokens of a piece of SQL a rewrite inserts, all placed at `at` of the statement (for error positions). */
export const synthesized = (sql: string, at: number): Token[] => tokenize(sql).map((t) => ({ ...t, at }));
