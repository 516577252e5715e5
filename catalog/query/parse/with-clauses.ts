// WITH clauses: where one ends, and PostgreSQL's rule that the statement after it is not a WITH of its own
// unless parenthesized (pgsql-ast-parser reads `WITH a AS (..) WITH b AS (..) SELECT ..`; PostgreSQL does not).
import { SqlError } from '../../../pg/errors';
import { type Group, groupsOf, type Item, isGroup, isPunct, nextSolid, tokenOf, wordOf } from './groups';

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
