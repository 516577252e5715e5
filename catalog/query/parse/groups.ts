// A statement's tokens as a tree of parenthesized groups: each group (and the whole statement) is one query level
// or expression list, so a rewrite can look at one level's items without counting parentheses.
import { isWord, type Token } from './tokens';

export interface Group {
  open: Token | null;
  items: Item[];
  close: Token | null;
  /** Whether an INTERSECT or EXCEPT stands somewhere inside (at any depth). */
  hasSetKeyword: boolean;
}
export type Item = Token | Group;

export const isGroup = (i: Item | undefined): i is Group => !!i && 'items' in i;
export const tokenOf = (i: Item | undefined): Token | undefined => (i && !isGroup(i) ? i : undefined);
export const isSpace = (i: Item | undefined) => tokenOf(i)?.kind === 'space';
export const isPunct = (i: Item | undefined, p: string) =>
  tokenOf(i)?.kind === 'punct' && tokenOf(i)?.text === p;
export const wordOf = (i: Item | undefined) =>
  tokenOf(i)?.kind === 'word' ? tokenOf(i)!.text.toLowerCase() : null;

/** The tokens as a tree of parenthesized groups (an unbalanced group is kept as it is, for the parser). */
export function groupTree(tokens: Token[]): Group {
  const root: Group = { open: null, items: [], close: null, hasSetKeyword: false };
  const stack = [root];
  for (const t of tokens) {
    const top = stack[stack.length - 1];
    if (t.kind === 'punct' && t.text === '(') {
      const g: Group = { open: t, items: [], close: null, hasSetKeyword: false };
      top.items.push(g);
      stack.push(g);
    } else if (t.kind === 'punct' && t.text === ')' && stack.length > 1) {
      top.close = t;
      stack.pop();
    } else {
      top.items.push(t);
      if (isWord(t, 'intersect') || isWord(t, 'except')) {
        for (let i = stack.length - 1; i >= 0 && !stack[i].hasSetKeyword; i--) stack[i].hasSetKeyword = true;
      }
    }
  }
  return root;
}

export function flatten(root: Group): Token[] {
  const out: Token[] = [];
  // iteratively: a statement may nest deeper than the call stack goes
  const stack: (Item | null)[] = [root];
  while (stack.length) {
    const i = stack.pop();
    if (i === undefined) break;
    if (i === null) continue;
    if (!isGroup(i)) {
      out.push(i);
      continue;
    }
    if (i.open) out.push(i.open);
    stack.push(i.close);
    for (let k = i.items.length - 1; k >= 0; k--) stack.push(i.items[k]);
  }
  return out;
}

/** Every group of the tree, the root first, each before the groups inside it. */
export function groupsOf(root: Group): Group[] {
  const out: Group[] = [];
  const stack = [root];
  while (stack.length) {
    const g = stack.pop()!;
    out.push(g);
    for (const i of g.items) if (isGroup(i)) stack.push(i);
  }
  return out;
}

export function nextSolid(items: Item[], i: number): number {
  while (i < items.length && isSpace(items[i])) i++;
  return i;
}

export function trim(items: Item[]): Item[] {
  let a = 0;
  let b = items.length;
  while (a < b && isSpace(items[a])) a++;
  while (b > a && isSpace(items[b - 1])) b--;
  return items.slice(a, b);
}
