// Plan-cache keys: a statement's literals replaced by parameters, so that statements differing only in their
// constants share one translation (the normalisation pg_stat_statements does).
import { prevSolid, type Token, tokenize } from './parse/tokens';

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

/**
 * Replaces the literals of a statement with parameters, so that statements differing only in their constants
 * share one plan (the normalisation pg_stat_statements does). Literals whose value decides the shape of the
 * query stay: positions in ORDER BY / GROUP BY / DISTINCT ON, and typed literals like interval '1 hour'. Returns null when
 * there is nothing to replace or the statement already has parameters.
 */
export function parameterizeLiterals(sql: string): Parameterized | null {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch {
    return null;
  }
  if (tokens.some((t) => t.kind === 'param')) return null;
  const values: string[] = [];
  const hints: number[] = [];
  let out = '';
  let byDepth = -1;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'punct' && t.text === '(') depth++;
    if (t.kind === 'punct' && t.text === ')') {
      depth--;
      if (depth < byDepth) byDepth = -1;
    }
    if (t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'by') byDepth = depth;
      // DISTINCT ON (1, 2) names output columns by position, as ORDER BY 1 does: inside its parentheses
      else if (w === 'on' && tokens[prevSolid(tokens, i - 1)]?.text.toLowerCase() === 'distinct')
        byDepth = depth + 1;
      else if (
        ['limit', 'offset', 'having', 'union', 'except', 'intersect', 'fetch', 'for', 'window'].includes(w) &&
        depth === byDepth
      ) {
        byDepth = -1;
      }
    }
    if (t.kind !== 'string' && t.kind !== 'number') {
      out += t.text;
      continue;
    }
    const p = prevSolid(tokens, i - 1);
    const prev = tokens[p];
    const prevOk =
      !prev ||
      (prev.kind === 'punct' && (prev.text === '(' || prev.text === ',')) ||
      prev.kind === 'op' ||
      (prev.kind === 'word' && VALUE_CONTEXT.has(prev.text.toLowerCase()));
    const inByList = byDepth === depth && byDepth >= 0;
    if (!prevOk || (t.kind === 'number' && inByList)) {
      out += t.text;
      continue;
    }
    values.push(t.kind === 'string' ? t.text.slice(1, -1).replace(/''/g, "'") : t.text);
    if (t.kind === 'number') {
      const integral = /^\d+$/.test(t.text);
      hints.push(integral ? (Number(t.text) > 2147483647 ? 20 : 23) : 1700);
    } else hints.push(0);
    out += `$${values.length}`;
  }
  return values.length ? { sql: out, values, hints } : null;
}
