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
 * The tokens of sql, up to the first lexical error. The error is not thrown here: the text from that point on
 * stays in the statement, whose parser then reports it with its position, as PostgreSQL does.
 */
function tokensUntilError(sql: string): { tokens: Token[]; errorAt: number | null } {
  const lexer = new Lexer(sql);
  const tokens: Token[] = [];
  try {
    for (let t = lexer.next(); t; t = lexer.next()) tokens.push(t);
    return { tokens, errorAt: null };
  } catch (e) {
    if (e instanceof LexError) return { tokens, errorAt: e.at };
    throw e;
  }
}

export function splitStatements(sql: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let start = 0;
  let solid = false;
  const { tokens, errorAt } = tokensUntilError(sql);
  for (const t of tokens) {
    if (t.kind === 'punct' && t.value === ';') {
      if (solid) pieces.push({ text: sql.slice(start, t.at), offset: start });
      start = t.end;
      solid = false;
    } else solid = true;
  }
  if (solid || errorAt !== null) pieces.push({ text: sql.slice(start), offset: start });
  return pieces;
}

/** True when the text holds nothing but whitespace and comments (an unterminated comment is not blank). */
export function isBlank(text: string): boolean {
  const { tokens, errorAt } = tokensUntilError(text);
  return tokens.length === 0 && errorAt === null;
}

/** Removes comments and collapses whitespace; quoted text is kept as it is. Used for classifying statements. */
export function stripComments(text: string): string {
  const { tokens, errorAt } = tokensUntilError(text);
  let out = '';
  let last = 0;
  for (const t of tokens) {
    if (t.at > last && out) out += ' ';
    out += t.raw;
    last = t.end;
  }
  if (errorAt !== null) out += (errorAt > last && out ? ' ' : '') + text.slice(errorAt);
  return out.replace(/\s+/g, ' ').trim();
}
