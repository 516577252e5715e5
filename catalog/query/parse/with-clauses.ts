// WITH clauses: where one ends, PostgreSQL's rule that the statement after it is not a WITH of its own unless
// parenthesized (pgsql-ast-parser reads `WITH a AS (..) WITH b AS (..) SELECT ..`; PostgreSQL does not), and
// column lists on CTEs, which the parser does not read.
import { SqlError } from '../../../pg/errors';
import { type Group, groupsOf, type Item, isGroup, isPunct, nextSolid, tokenOf, wordOf } from './groups';
import { synthesized } from './tokens';

/**
 * The index after a leading WITH clause (0 when there is none), or -1 when it is not one this rewrite
 * understands (the parser then reports what is wrong).
 */
export function withClauseEnd(items: Item[]): number {
  let i = nextSolid(items, 0);
  if (wordOf(items[i]) !== 'with') return 0;
  i = nextSolid(items, i + 1);
  if (wordOf(items[i]) === 'recursive') i = nextSolid(items, i + 1);
  for (;;) {
    const name = tokenOf(items[i]);
    if (!name || (name.kind !== 'word' && name.kind !== 'qident')) return -1;
    i = nextSolid(items, i + 1);
    if (isGroup(items[i])) i = nextSolid(items, i + 1);
    if (wordOf(items[i]) !== 'as') return -1;
    i = nextSolid(items, i + 1);
    if (wordOf(items[i]) === 'not') i = nextSolid(items, i + 1);
    if (wordOf(items[i]) === 'materialized') i = nextSolid(items, i + 1);
    if (!isGroup(items[i])) return -1;
    i = nextSolid(items, i + 1);
    if (!isPunct(items[i], ',')) return i;
    i = nextSolid(items, i + 1);
  }
}

/** Throws PostgreSQL's 42601 where a WITH clause is followed by another WITH, at any query level. */
export function checkWithBodies(root: Group): void {
  for (const g of groupsOf(root)) {
    const end = withClauseEnd(g.items);
    const next = g.items[end];
    if (end > 0 && wordOf(next) === 'with') {
      const t = tokenOf(next)!;
      throw new SqlError('42601', `syntax error at or near "${t.text}"`, { position: t.at + 1 });
    }
  }
}

/**
 * `WITH q(a, b) AS (body)` -> `WITH q AS (SELECT * FROM (body) AS q(a, b))`: pgsql-ast-parser reads
 * no column list on a non-recursive CTE (it does on WITH RECURSIVE, which is left as it is), and a subquery's
 * column list renames its columns positionally as the CTE's does (fewer names keep the other columns' names;
 * more names than columns is 42P10 either way).
 */
export function moveCteColumnLists(root: Group): void {
  for (const g of groupsOf(root)) {
    const items = g.items;
    let i = nextSolid(items, 0);
    if (wordOf(items[i]) !== 'with') continue;
    i = nextSolid(items, i + 1);
    if (wordOf(items[i]) === 'recursive') continue;
    for (;;) {
      const name = tokenOf(items[i]);
      if (!name || (name.kind !== 'word' && name.kind !== 'qident')) break;
      let j = nextSolid(items, i + 1);
      const columns = isGroup(items[j]) ? (items[j] as Group) : null;
      if (columns) {
        items.splice(j, 1);
        j = nextSolid(items, j);
      }
      if (wordOf(items[j]) !== 'as') break;
      j = nextSolid(items, j + 1);
      if (wordOf(items[j]) === 'not') j = nextSolid(items, j + 1);
      if (wordOf(items[j]) === 'materialized') j = nextSolid(items, j + 1);
      const body = items[j];
      if (!isGroup(body)) break;
      if (columns) {
        const at = body.open?.at ?? name.at;
        const [open, close] = synthesized('()', at);
        body.items = [
          ...synthesized('SELECT * FROM ', at),
          { ...body, open, close },
          ...synthesized(' AS ', at),
          { ...name },
          columns,
        ];
      }
      i = nextSolid(items, j + 1);
      if (!isPunct(items[i], ',')) break;
      i = nextSolid(items, i + 1);
    }
  }
}
