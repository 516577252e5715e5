// Plan-cache keys: a statement's literals replaced by parameters, so that statements differing only in their
// constants share one translation (the normalisation pg_stat_statements does).
import { type Token as LexToken, lex } from '../../pg/lexer';

export interface Parameterized {
  /** The statement with its literals replaced by $1, $2, ... */
  sql: string;
  values: string[];
  /** Type OID hints: int4/int8/numeric for numbers, 0 (infer from context) for strings. */
  hints: number[];
}

/** Words after which a literal is an ordinary value (not a typed literal such as interval '1 hour'). */
const VALUE_CONTEXT = new Set([
  'and',
  'or',
  'not',
  'in',
  'like',
  'ilike',
  'between',
  'select',
  'when',
  'then',
  'else',
  'is',
  'values',
  'limit',
  'offset',
  'where',
  'on',
  'having',
  'distinct',
  'all',
  'any',
  'some',
  'escape',
]);

/** Words that end a BY list (ORDER BY 1, GROUP BY 2) at its depth. */
const BY_LIST_END = new Set([
  'limit',
  'offset',
  'having',
  'union',
  'except',
  'intersect',
  'fetch',
  'for',
  'window',
]);

/**
 * Replaces the literals of a statement with parameters, so that statements differing only in their constants
 * share one plan (the normalisation pg_stat_statements does). Literals whose value decides the shape of the
 * query stay: positions in ORDER BY / GROUP BY / DISTINCT ON, and typed literals like interval '1 hour'. The
 * rest of the statement is kept as written. Returns null when there is nothing to replace or the statement
 * already has parameters. (It runs for every simple-protocol statement: one pass over the lexer's tokens.)
 */
export function parameterizeLiterals(sql: string): Parameterized | null {
  let tokens: LexToken[];
  try {
    tokens = lex(sql);
  } catch {
    return null;
  }
  const values: string[] = [];
  const hints: number[] = [];
  let out = '';
  /** Where the text not yet copied to out starts. */
  let copied = 0;
  let byDepth = -1;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const kind = t.kind;
    if (kind === 'param') return null;
    if (kind === 'punct') {
      if (t.raw === '(') depth++;
      else if (t.raw === ')') {
        depth--;
        if (depth < byDepth) byDepth = -1;
      }
      continue;
    }
    if (kind === 'ident') {
      const w = t.value;
      if (w === 'by') byDepth = depth;
      // DISTINCT ON (1, 2) names output columns by position, as ORDER BY 1 does: inside its parentheses
      else if (w === 'on' && tokens[i - 1]?.kind === 'ident' && tokens[i - 1].value === 'distinct')
        byDepth = depth + 1;
      else if (depth === byDepth && BY_LIST_END.has(w)) byDepth = -1;
      continue;
    }
    if (kind !== 'string' && kind !== 'number') continue;
    const prev = tokens[i - 1];
    const prevOk =
      !prev ||
      (prev.kind === 'punct' && (prev.raw === '(' || prev.raw === ',')) ||
      prev.kind === 'op' ||
      (prev.kind === 'ident' && VALUE_CONTEXT.has(prev.value));
    const inByList = byDepth === depth && byDepth >= 0;
    if (!prevOk || (kind === 'number' && inByList)) continue;
    values.push(t.value);
    if (kind === 'number') {
      const integral = /^\d+$/.test(t.raw);
      hints.push(integral ? (Number(t.raw) > 2147483647 ? 20 : 23) : 1700);
    } else hints.push(0);
    out += `${sql.slice(copied, t.at)}$${values.length}`;
    copied = t.end;
  }
  return values.length ? { sql: out + sql.slice(copied), values, hints } : null;
}
