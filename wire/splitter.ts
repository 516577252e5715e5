// Splits a simple-Query string into statements at top-level semicolons. Understands '...' (with '' escapes),
// E'...' (backslash escapes), "...", $tag$...$tag$, -- line comments and nested /* */ comments.

export interface SqlPiece {
  /** The statement text, without the terminating semicolon. */
  text: string;
  /** 0-based offset of text in the original string, so error positions can be reported against it. */
  offset: number;
}

/** Returns the index just past the quoted/commented region that starts at i, or i when none starts there. */
export function skipQuotedOrComment(sql: string, i: number): number {
  const c = sql[i];
  const next = sql[i + 1];
  if (c === '-' && next === '-') {
    const nl = sql.indexOf('\n', i);
    return nl < 0 ? sql.length : nl + 1;
  }
  if (c === '/' && next === '*') {
    let depth = 1;
    let j = i + 2;
    while (j < sql.length && depth > 0) {
      if (sql[j] === '/' && sql[j + 1] === '*') {
        depth++;
        j += 2;
      } else if (sql[j] === '*' && sql[j + 1] === '/') {
        depth--;
        j += 2;
      } else j++;
    }
    return j;
  }
  if (c === "'") {
    const escapes = i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/[\w$]/.test(sql[i - 2] ?? '');
    let j = i + 1;
    while (j < sql.length) {
      if (escapes && sql[j] === '\\') j += 2;
      else if (sql[j] === "'") {
        if (sql[j + 1] === "'") j += 2;
        else return j + 1;
      } else j++;
    }
    return j;
  }
  if (c === '"') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === '"') {
        if (sql[j + 1] === '"') j += 2;
        else return j + 1;
      } else j++;
    }
    return j;
  }
  if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
    const m = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i, i + 64));
    if (m) {
      const tag = m[0];
      const close = sql.indexOf(tag, i + tag.length);
      return close < 0 ? sql.length : close + tag.length;
    }
  }
  return i;
}

export function splitStatements(sql: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const skipped = skipQuotedOrComment(sql, i);
    if (skipped !== i) {
      i = skipped;
      continue;
    }
    if (sql[i] === ';') {
      pushPiece(pieces, sql, start, i);
      start = i + 1;
    }
    i++;
  }
  pushPiece(pieces, sql, start, sql.length);
  return pieces;
}

function pushPiece(pieces: SqlPiece[], sql: string, from: number, to: number): void {
  const text = sql.slice(from, to);
  if (isBlank(text)) return;
  pieces.push({ text, offset: from });
}

/** True when the text holds nothing but whitespace and comments. */
export function isBlank(text: string): boolean {
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    const skipped = text[i] === '-' || text[i] === '/' ? skipQuotedOrComment(text, i) : i;
    if (skipped === i) return false;
    i = skipped;
  }
  return true;
}

/** Removes comments and collapses whitespace; quoted text is kept as it is. Used for classifying statements. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const skipped = skipQuotedOrComment(text, i);
    if (skipped !== i) {
      const region = text.slice(i, skipped);
      out += region.startsWith('--') || region.startsWith('/*') ? ' ' : region;
      i = skipped;
    } else out += text[i++];
  }
  return out.replace(/\s+/g, ' ').trim();
}
