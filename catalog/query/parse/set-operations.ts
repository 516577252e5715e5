// pgsql-ast-parser 12 knows UNION [ALL] only. A query level whose set operations include INTERSECT or EXCEPT
// is rewritten here, on tokens, into nested FROM items the parser reads and the translator turns back into the
// set operation (statements/set-operations.ts):
//   a UNION b INTERSECT ALL c ORDER BY 1
//     -> SELECT * FROM __set_union((SELECT * FROM (a) AS __set_operand),
//          (SELECT * FROM __set_intersect_all((SELECT * FROM (b) AS __set_operand),
//            (SELECT * FROM (c) AS __set_operand)) AS __set_result)) AS __set_result ORDER BY 1
// with PostgreSQL's grammar: INTERSECT binds tighter than UNION and EXCEPT, which associate to the left; a
// WITH before the first operand and an ORDER BY / LIMIT / OFFSET / FETCH after the last apply to the whole;
// a parenthesized operand keeps its own. A level with UNION only is left to the parser (and rewrite.ts).
import { SqlError } from '../../../pg/errors';
import {
  flatten,
  type Group,
  groupsOf,
  groupTree,
  type Item,
  isGroup,
  isSpace,
  nextSolid,
  tokenOf,
  trim,
  wordOf,
} from './groups';
import { isWord, type Token } from './tokens';
import { withClauseEnd } from './with-clauses';

/** The FROM-item functions the rewrite emits, and the SQL set operation each one stands for. */
export const SET_OPERATIONS: Record<string, { keyword: 'UNION' | 'INTERSECT' | 'EXCEPT'; all: boolean }> = {
  __set_union: { keyword: 'UNION', all: false },
  __set_union_all: { keyword: 'UNION', all: true },
  __set_intersect: { keyword: 'INTERSECT', all: false },
  __set_intersect_all: { keyword: 'INTERSECT', all: true },
  __set_except: { keyword: 'EXCEPT', all: false },
  __set_except_all: { keyword: 'EXCEPT', all: true },
};

const SET_WORDS = new Set(['union', 'intersect', 'except']);
/** Words that end the last operand: what follows them applies to the whole set operation. */
const TRAILER_WORDS = new Set(['order', 'limit', 'offset', 'fetch', 'for']);

export function rewriteSetOperations(tokens: Token[]): Token[] {
  if (!tokens.some((t) => isWord(t, 'intersect') || isWord(t, 'except'))) return tokens;
  const root = groupTree(tokens);
  rewriteGroup(root);
  return flatten(root);
}

function rewriteGroup(root: Group): void {
  // innermost levels first, so that an operand is rewritten before it is moved
  for (const g of groupsOf(root).reverse()) {
    if (g.hasSetKeyword && g.items.some((i) => wordOf(i) === 'intersect' || wordOf(i) === 'except'))
      g.items = rewriteChain(g.items);
  }
}

interface Operator {
  word: string;
  all: boolean;
  at: Token;
}
type SetTree = { operand: Item[] } | { op: Operator; left: SetTree; right: SetTree };

const synth = (text: string, at: number, kind: Token['kind'] = 'word'): Token => ({ kind, text, at });
const group = (items: Item[], at: number): Group => ({
  open: synth('(', at, 'punct'),
  items,
  close: synth(')', at, 'punct'),
  hasSetKeyword: false,
});

function syntaxError(at: Token | undefined, endOfInput: number): SqlError {
  if (!at) return new SqlError('42601', 'syntax error at end of input', { position: endOfInput + 1 });
  return new SqlError('42601', `syntax error at or near "${at.text}"`, { position: at.at + 1 });
}

/** One query level: [WITH ...] operand (op operand)* [ORDER BY ... LIMIT ...]. */
function rewriteChain(items: Item[]): Item[] {
  const start = withClauseEnd(items);
  if (start < 0) return items;
  const end = lastTokenEnd(items);
  const operands: Item[][] = [[]];
  const ops: Operator[] = [];
  let trailerAt = -1;
  for (let i = start; i < items.length; i++) {
    const item = items[i];
    const w = wordOf(item);
    if (w && SET_WORDS.has(w)) {
      // an ORDER BY or LIMIT before a set operation's last operand: PostgreSQL's syntax error there
      if (trailerAt >= 0 || !operands[operands.length - 1].some((x) => !isSpace(x)))
        throw syntaxError(tokenOf(item), end);
      let all = false;
      const next = nextSolid(items, i + 1);
      const modifier = wordOf(items[next]);
      if (modifier === 'all' || modifier === 'distinct') {
        all = modifier === 'all';
        i = next;
      }
      ops.push({ word: w, all, at: tokenOf(item)! });
      operands.push([]);
      continue;
    }
    if (trailerAt < 0 && w && TRAILER_WORDS.has(w)) trailerAt = i;
    if (trailerAt < 0) operands[operands.length - 1].push(item);
  }
  if (!operands[operands.length - 1].some((x) => !isSpace(x))) {
    const after = trailerAt >= 0 ? tokenOf(items[trailerAt]) : undefined;
    throw syntaxError(after, end);
  }
  // INTERSECT first, then UNION and EXCEPT, each from the left.
  const terms: SetTree[] = [{ operand: operands[0] }];
  const termOps: Operator[] = [];
  ops.forEach((op, k) => {
    const right: SetTree = { operand: operands[k + 1] };
    if (op.word === 'intersect') terms.push({ op, left: terms.pop()!, right });
    else {
      termOps.push(op);
      terms.push(right);
    }
  });
  let tree = terms[0];
  termOps.forEach((op, k) => {
    tree = { op, left: tree, right: terms[k + 1] };
  });
  const at = ops[0].at.at;
  const trailer = trailerAt >= 0 ? [synth(' ', at, 'space'), ...items.slice(trailerAt)] : [];
  return [...items.slice(0, start), ...query(tree), ...trailer];
}

/** A set tree as a query: an operand as a subquery, an operation as the FROM item that stands for it. */
function query(t: SetTree): Item[] {
  if ('operand' in t) {
    let inner = trim(t.operand);
    // a parenthesized operand keeps its own ORDER BY and LIMIT inside the subquery
    while (inner.length === 1 && isGroup(inner[0]) && inner[0].close) inner = trim(inner[0].items);
    const at = tokenOf(inner[0])?.at ?? (isGroup(inner[0]) ? (inner[0].open?.at ?? 0) : 0);
    return [synth('SELECT * FROM ', at), group(inner, at), synth(' AS __set_operand', at)];
  }
  const at = t.op.at.at;
  const name = `__set_${t.op.word}${t.op.all ? '_all' : ''}`;
  return [
    synth(`SELECT * FROM ${name}`, at),
    group([group(query(t.left), at), synth(',', at, 'punct'), group(query(t.right), at)], at),
    synth(' AS __set_result', at),
  ];
}

/** The offset just past the level's last token, for "syntax error at end of input". */
function lastTokenEnd(items: Item[]): number {
  const last = items[items.length - 1];
  const t = isGroup(last) ? (last.close ?? last.open) : last;
  return t ? t.at + t.text.length : 0;
}
