// A pass over the tokens of a PostgreSQL statement that rewrites the constructs pgsql-ast-parser 12 cannot
// read into ones it can, without changing their meaning:
//   E'..' and $tag$..$tag$ strings     -> standard '..' strings
//   COLLATE x / FROM ONLY t            -> dropped (collations do not change results here)
//   OPERATOR(pg_catalog.op)            -> op
//   a IS [NOT] DISTINCT FROM b         -> pg_is_distinct(a, b) / NOT pg_is_distinct(a, b)
//   x LIKE p ESCAPE '\'                -> x LIKE p (backslash is the default escape, as in PostgreSQL)
//   trim(both|leading|trailing x from y) -> btrim|ltrim|rtrim(y, x)
//   (expr).field                       -> pg_field(expr, 'field')
//   AS <keyword>                       -> AS "<keyword>"
//   i-1 (a binary minus, unspaced)     -> i- 1 (the parser reads -1 as one number)
//   AS [NOT] MATERIALIZED (            -> AS ( (a CTE's materialization does not change its rows)
//   WITH q(a, b) AS (body)             -> WITH q AS (SELECT * FROM (body) AS __cte_columns(a, b))
//   ((query)), (WITH ...) statement    -> (SELECT * FROM (query) AS __paren_query) (parenthesized.ts)
//   INTERSECT / EXCEPT [ALL]           -> FROM items standing for the set operation (set-operations.ts)
//   UNION [ALL] (SELECT ...)           -> UNION [ALL] SELECT * FROM (SELECT ...) AS __set_operand
//     (the parser drops the parentheses of a set operation's right operand, which would leave its ORDER BY
//     and LIMIT indistinguishable from those of the whole set operation, and its own set operations merged
//     into the outer chain; as a subquery it keeps its meaning)
// and it raises PostgreSQL's 42601 where the parser would accept what PostgreSQL does not (a WITH clause
// followed by another WITH: with-clauses.ts).
// It works on tokens, never on query strings, and keeps a map from output offsets back to input offsets so
// that syntax errors point at the user's text.
import { flatten, groupTree } from './groups';
import { unwrapParenthesizedQueries } from './parenthesized';
import { rewriteSetOperations } from './set-operations';
import { isWord, matchParen, nextSolid, prevSolid, quoteString, type Token, tokenize } from './tokens';
import { checkWithBodies, moveCteColumnLists } from './with-clauses';

/** Words after AS that the parser would take as keywords; quoted so they are read as aliases. */
const KEYWORD_ALIASES = new Set([
  'type',
  'default',
  'user',
  'name',
  'value',
  'position',
  'order',
  'group',
  'table',
  'column',
  'check',
  'primary',
  'references',
  'references',
  'constraint',
  'unique',
  'index',
  'key',
  'schema',
  'comment',
  'owner',
  'collation',
  'sequence',
  'function',
  'language',
  'option',
  'options',
  'level',
  'location',
  'start',
  'end',
  'first',
  'last',
  'result',
  'size',
  'status',
  'data',
  'left',
  'right',
  'time',
  'timestamp',
  'date',
  'interval',
  'year',
  'month',
  'day',
  'hour',
  'minute',
  'second',
  'public',
  'analyze',
  'do',
  'role',
  'when',
  'then',
  'else',
  'current_user',
  'session_user',
  'user',
  'array',
  'all',
  'any',
  'some',
  'filter',
  'window',
  'over',
  'partition',
  'range',
  'rows',
  'row',
  'with',
  'without',
  'local',
  'global',
  'temp',
  'temporary',
  'sql',
  'external',
  'inherit',
  'inherits',
  'not',
  'null',
  'to',
  'in',
  'is',
  'on',
  'as',
  'asc',
  'desc',
  'limit',
  'offset',
  'fetch',
  'for',
  'from',
  'where',
  'having',
  'case',
  'cast',
  'select',
  'create',
  'insert',
  'update',
  'delete',
  'using',
  'natural',
  'join',
  'inner',
  'outer',
  'cross',
  'full',
  'union',
  'intersect',
  'except',
  'distinct',
  'values',
  'nulls',
  'returning',
  'only',
  'true',
  'false',
  'both',
  'leading',
  'trailing',
  'collate',
  'lateral',
  'returns',
  'catalog',
  'count',
  'min',
  'max',
  'sum',
  'avg',
]);

export interface Normalized {
  sql: string;
  /** Maps an offset in sql back to an offset in the original statement. */
  originalOffset(at: number): number;
}

/** Start index of the operand that ends at tokens[end] (inclusive): a name chain, literal, call or group. */
function operandStart(tokens: Token[], end: number): number {
  let i = end;
  for (;;) {
    const t = tokens[i];
    if (t.kind === 'punct' && t.text === ')') {
      let depth = 0;
      let j = i;
      for (; j >= 0; j--) {
        if (tokens[j].kind === 'punct' && tokens[j].text === ')') depth++;
        else if (tokens[j].kind === 'punct' && tokens[j].text === '(') {
          depth--;
          if (depth === 0) break;
        }
      }
      i = j;
      const before = prevSolid(tokens, i - 1);
      if (before >= 0 && (tokens[before].kind === 'word' || tokens[before].kind === 'qident')) {
        i = before;
      }
    }
    // name chains a.b.c and casts x::type
    const before = i - 1;
    if (before >= 0 && tokens[before].kind === 'punct' && tokens[before].text === '.') {
      i = before - 1;
      continue;
    }
    if (before >= 0 && tokens[before].kind === 'punct' && tokens[before].text === '::') {
      i = before - 1;
      continue;
    }
    return i;
  }
}

/** Index just past the operand that starts at tokens[start]. */
function operandEnd(tokens: Token[], start: number): number {
  let i = start;
  if (isWord(tokens[i], 'not')) i = nextSolid(tokens, i + 1);
  for (;;) {
    const t = tokens[i];
    if (!t) return i;
    if (t.kind === 'punct' && t.text === '(') i = matchParen(tokens, i);
    else i++;
    if (i < 0) return tokens.length;
    const n = tokens[i];
    if (n?.kind === 'punct' && n.text === '(' && (t.kind === 'word' || t.kind === 'qident')) continue;
    if (n?.kind === 'punct' && n.text === '.') {
      i++;
      continue;
    }
    if (n?.kind === 'punct' && n.text === '::') {
      i++;
      continue;
    }
    return i;
  }
}

export function normalize(sql: string): Normalized {
  const tokens = rewrite(tokenize(sql));
  let out = '';
  const starts: number[] = [];
  const origins: number[] = [];
  for (const t of tokens) {
    starts.push(out.length);
    origins.push(t.at);
    out += t.text;
  }
  return {
    sql: out,
    originalOffset(at: number): number {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= at) lo = mid;
        else hi = mid - 1;
      }
      return starts.length ? origins[lo] + Math.max(0, at - starts[lo]) : at;
    },
  };
}

const synth = (text: string, at: number, kind: Token['kind'] = 'word'): Token => ({ kind, text, at });

/** Whether the tokens so far end with an operand, so that a `-` after them is binary. */
function endsOperand(out: Token[]): boolean {
  const last = out[out.length - 1];
  if (!last) return false;
  // a word right before the operator (no space): a name such as k.i in k.i-1, not a keyword as in SELECT -1
  if (last.kind === 'word') return true;
  const p = prevSolid(out, out.length - 1);
  const t = out[p];
  return (
    !!t &&
    (t.kind === 'qident' ||
      t.kind === 'number' ||
      t.kind === 'param' ||
      t.kind === 'string' ||
      (t.kind === 'punct' && (t.text === ')' || t.text === ']')))
  );
}

function rewrite(input: Token[]): Token[] {
  const tree = groupTree(input);
  checkWithBodies(tree);
  moveCteColumnLists(tree);
  unwrapParenthesizedQueries(tree);
  let tokens = flatten(tree);
  // Pass 1: removals and simple replacements.
  const out: Token[] = [];
  const castDepths: number[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'punct' && t.text === '(') {
      depth++;
      const p = prevSolid(out, out.length - 1);
      if (p >= 0 && isWord(out[p], 'cast')) castDepths.push(depth);
    } else if (t.kind === 'punct' && t.text === ')') {
      if (castDepths[castDepths.length - 1] === depth) castDepths.pop();
      depth--;
    }
    if (isWord(t, 'collate')) {
      // drop COLLATE and the (possibly qualified) collation name
      let j = nextSolid(tokens, i + 1);
      while (j < tokens.length && (tokens[j].kind === 'word' || tokens[j].kind === 'qident')) {
        const k = j + 1;
        if (tokens[k]?.kind === 'punct' && tokens[k].text === '.') j = k + 1;
        else {
          j = k;
          break;
        }
      }
      i = j - 1;
      continue;
    }
    if (isWord(t, 'only')) {
      const p = prevSolid(out, out.length - 1);
      if (p >= 0 && (isWord(out[p], 'from') || isWord(out[p], 'join'))) continue;
    }
    if (isWord(t, 'operator')) {
      const open = nextSolid(tokens, i + 1);
      if (tokens[open]?.kind === 'punct' && tokens[open].text === '(') {
        const close = matchParen(tokens, open);
        const inner = tokens.slice(open + 1, close - 1).filter((x) => x.kind === 'op');
        if (inner.length === 1) {
          out.push(synth(inner[0].text, t.at, 'op'));
          i = close - 1;
          continue;
        }
      }
    }
    if (isWord(t, 'escape')) {
      const p = prevSolid(out, out.length - 1);
      const s = nextSolid(tokens, i + 1);
      if (p >= 0 && out[p].kind === 'string' && tokens[s]?.kind === 'string') {
        const esc = tokens[s].text;
        if (esc === "'\\'") {
          i = s;
          continue;
        }
      }
    }
    if (isWord(t, 'as') && !castDepths.length) {
      let n = nextSolid(tokens, i + 1);
      if (isWord(tokens[n], 'not') && isWord(tokens[nextSolid(tokens, n + 1)], 'materialized'))
        n = nextSolid(tokens, n + 1);
      const open = nextSolid(tokens, n + 1);
      if (isWord(tokens[n], 'materialized') && tokens[open]?.kind === 'punct' && tokens[open].text === '(') {
        out.push(t, synth(' ', t.at, 'space'));
        i = open - 1;
        continue;
      }
      const w = tokens[n];
      if (w?.kind === 'word' && KEYWORD_ALIASES.has(w.text.toLowerCase())) {
        out.push(t, synth(' ', t.at, 'space'), synth(`"${w.text.toLowerCase()}"`, w.at, 'qident'));
        i = n;
        continue;
      }
    }
    if (t.kind === 'op' && t.text === '-' && tokens[i + 1]?.kind === 'number' && endsOperand(out)) {
      // a binary minus before a number: spaced, or the parser reads `i-1` as i followed by the number -1
      out.push(t, synth(' ', t.at, 'space'));
      continue;
    }
    out.push(t);
  }
  tokens = out;

  // Pass 2: IS [NOT] DISTINCT FROM -> pg_is_distinct(a, b)
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(tokens[i], 'is')) continue;
    let j = nextSolid(tokens, i + 1);
    let negate = false;
    if (isWord(tokens[j], 'not')) {
      negate = true;
      j = nextSolid(tokens, j + 1);
    }
    if (!isWord(tokens[j], 'distinct')) continue;
    const f = nextSolid(tokens, j + 1);
    if (!isWord(tokens[f], 'from')) continue;
    const leftEnd = prevSolid(tokens, i - 1);
    const leftStart = operandStart(tokens, leftEnd);
    const rightStart = nextSolid(tokens, f + 1);
    const rightEnd = operandEnd(tokens, rightStart);
    const at = tokens[leftStart].at;
    const replacement = [
      ...(negate ? [synth('NOT ', at)] : []),
      synth('pg_is_distinct', at),
      synth('(', at, 'punct'),
      ...tokens.slice(leftStart, leftEnd + 1),
      synth(',', at, 'punct'),
      ...tokens.slice(rightStart, rightEnd),
      synth(')', at, 'punct'),
    ];
    tokens = [...tokens.slice(0, leftStart), ...replacement, ...tokens.slice(rightEnd)];
    i = leftStart + replacement.length - 1;
  }

  // Pass 3: trim(both x from y) and (expr).field
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (isWord(t, 'trim')) {
      const open = nextSolid(tokens, i + 1);
      if (!(tokens[open]?.kind === 'punct' && tokens[open].text === '(')) continue;
      const close = matchParen(tokens, open);
      const first = nextSolid(tokens, open + 1);
      let fn = 'btrim';
      let from = first;
      const mode = tokens[first]?.text.toLowerCase();
      if (mode === 'both' || mode === 'leading' || mode === 'trailing') {
        fn = mode === 'both' ? 'btrim' : mode === 'leading' ? 'ltrim' : 'rtrim';
        from = nextSolid(tokens, first + 1);
      }
      // find top-level FROM inside the parentheses
      let d = 0;
      let fromAt = -1;
      for (let k = from; k < close - 1; k++) {
        const x = tokens[k];
        if (x.kind === 'punct' && x.text === '(') d++;
        else if (x.kind === 'punct' && x.text === ')') d--;
        else if (d === 0 && isWord(x, 'from')) {
          fromAt = k;
          break;
        }
      }
      if (fromAt < 0) {
        if (from === first) continue;
        tokens = [...tokens.slice(0, i), synth(fn, t.at), synth('(', t.at, 'punct'), ...tokens.slice(from)];
        continue;
      }
      const chars = tokens.slice(from, fromAt);
      const subject = tokens.slice(fromAt + 1, close - 1);
      const repl = [
        synth(fn, t.at),
        synth('(', t.at, 'punct'),
        ...subject,
        ...(chars.some((x) => x.kind !== 'space') ? [synth(',', t.at, 'punct'), ...chars] : []),
        synth(')', t.at, 'punct'),
      ];
      tokens = [...tokens.slice(0, i), ...repl, ...tokens.slice(close)];
      continue;
    }
    if (
      t.kind === 'punct' &&
      t.text === ')' &&
      tokens[i + 1]?.kind === 'punct' &&
      tokens[i + 1].text === '.'
    ) {
      const field = tokens[i + 2];
      if (!field || (field.kind !== 'word' && field.kind !== 'qident')) continue;
      // find the matching '(' and make sure it is a bare group, not a call
      let d = 0;
      let j = i;
      for (; j >= 0; j--) {
        if (tokens[j].kind === 'punct' && tokens[j].text === ')') d++;
        else if (tokens[j].kind === 'punct' && tokens[j].text === '(') {
          d--;
          if (d === 0) break;
        }
      }
      const before = prevSolid(tokens, j - 1);
      if (before >= 0 && (tokens[before].kind === 'word' || tokens[before].kind === 'qident')) {
        const w = tokens[before].text.toLowerCase();
        if (
          !['select', 'where', 'and', 'or', 'not', 'on', 'by', 'when', 'then', 'else', 'in', 'from'].includes(
            w,
          )
        ) {
          continue;
        }
      }
      const name = field.kind === 'qident' ? field.text.slice(1, -1) : field.text.toLowerCase();
      const repl = [
        synth('pg_field', tokens[j].at),
        ...tokens.slice(j, i),
        synth(',', field.at, 'punct'),
        synth(quoteString(name), field.at, 'string'),
        synth(')', field.at, 'punct'),
      ];
      tokens = [...tokens.slice(0, j), ...repl, ...tokens.slice(i + 3)];
      i = j + repl.length - 1;
    }
  }
  tokens = rewriteSetOperations(tokens);
  // Pass 4: a parenthesized right operand of UNION becomes a subquery.
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(tokens[i], 'union')) continue;
    let open = nextSolid(tokens, i + 1);
    if (isWord(tokens[open], 'all') || isWord(tokens[open], 'distinct')) open = nextSolid(tokens, open + 1);
    if (!(tokens[open]?.kind === 'punct' && tokens[open].text === '(')) continue;
    const first = tokens[nextSolid(tokens, open + 1)];
    if (!(['select', 'values', 'with', 'table'].some((w) => isWord(first, w)) || first?.text === '('))
      continue;
    const close = matchParen(tokens, open);
    if (close < 0) continue;
    const at = tokens[open].at;
    tokens = [
      ...tokens.slice(0, open),
      synth('SELECT * FROM ', at),
      ...tokens.slice(open, close),
      synth(' AS ', at),
      synth('__set_operand', at),
      ...tokens.slice(close),
    ];
  }
  return tokens;
}
