// Parenthesized queries where PostgreSQL's grammar allows them and pgsql-ast-parser does not: a query inside
// more than one pair of parentheses (`((SELECT 1))`, `WITH q AS ((SELECT ...))`, `FROM ((SELECT ...)) s`), a
// whole statement in parentheses (`(WITH q AS (...) SELECT ...)`), and a parenthesized first operand of UNION
// or of ORDER BY / LIMIT (`(SELECT ...) UNION ...`, `(SELECT ...) ORDER BY 1`). Each such query becomes the one
// FROM item of a `SELECT *`, which has its rows and column names:
//   ((query))            -> (SELECT * FROM (query) AS __paren_query)
//   (query) [ORDER BY..] -> SELECT * FROM (query) AS __paren_query [ORDER BY ..]
import { type Group, groupsOf, type Item, isGroup, nextSolid, tokenOf, trim, wordOf } from './groups';
import { synthesized } from './tokens';

const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);

/**
 * Words after which a parenthesized expression is not a call's argument list: there `((query))` is a subquery
 * in parentheses. (After a function name the outer parentheses are the call's, and stay.)
 */
const BEFORE_SUBQUERY = new Set([
  'as',
  'from',
  'join',
  'lateral',
  'union',
  'intersect',
  'except',
  'select',
  'where',
  'and',
  'or',
  'not',
  'on',
  'when',
  'then',
  'else',
  'by',
]);

/** Whether a group holds a query: it begins with SELECT, WITH, VALUES or TABLE, or with a parenthesized one. */
function isQuery(g: Group): boolean {
  const first = g.items[nextSolid(g.items, 0)];
  if (isGroup(first)) return isQuery(first);
  const w = wordOf(first);
  return w !== null && QUERY_WORDS.has(w);
}

/** The one group a group holds and nothing else (spaces aside), or null. */
function onlyGroup(items: Item[]): Group | null {
  const solid = trim(items);
  return solid.length === 1 && isGroup(solid[0]) ? solid[0] : null;
}

function asFromItem(inner: Group, at: number): Item[] {
  return [...synthesized('SELECT * FROM ', at), inner, ...synthesized(' AS __paren_query', at)];
}

/** Words after a parenthesized first operand that make its level a query: a set operation or its trailer. */
const AFTER_FIRST_OPERAND = new Set(['union', 'order', 'limit', 'offset', 'fetch']);

/**
 * One level that stands where a query or a parenthesized expression may: `((query))` there, and a level that
 * begins with a parenthesized query followed by UNION / ORDER BY / LIMIT (or by nothing, for the statement).
 * INTERSECT and EXCEPT levels are the set-operation rewrite's (set-operations.ts), which keeps such operands.
 */
function rewriteLevel(level: Group, isStatement: boolean): void {
  const inner = onlyGroup(level.items);
  if (inner && isQuery(inner) && !isStatement) {
    level.items = asFromItem(inner, level.open?.at ?? 0);
    return;
  }
  const first = nextSolid(level.items, 0);
  const g = level.items[first];
  if (!isGroup(g) || !isQuery(g) || level.hasSetKeyword) return;
  const after = nextSolid(level.items, first + 1);
  const w = wordOf(level.items[after]);
  if ((isStatement && after >= level.items.length) || (w !== null && AFTER_FIRST_OPERAND.has(w)))
    level.items.splice(first, 1, ...asFromItem(g, g.open?.at ?? 0));
}

export function unwrapParenthesizedQueries(root: Group): void {
  rewriteLevel(root, true);
  for (const parent of groupsOf(root)) {
    parent.items.forEach((g, k) => {
      if (!isGroup(g)) return;
      let p = k - 1;
      while (p >= 0 && tokenOf(parent.items[p])?.kind === 'space') p--;
      const before = tokenOf(parent.items[p]);
      if (p >= 0 && !before) return; // after another group
      const word = wordOf(before);
      // after a function name the parentheses are the call's
      if (before && !(word !== null ? BEFORE_SUBQUERY.has(word) : before.kind === 'op')) return;
      rewriteLevel(g, false);
    });
  }
}
