// The last check before translated SQL reaches SQLite: every relation it names must be one the registry
// handed out (sys tables, emulated pg_catalog / information_schema relations), a CTE the statement defines, or
// one of the table-valued functions the translator emits. The reader connection opens the whole catalog file
// (users, user_roles, table_privileges, sqlite_master, knex_migrations ...) and better-sqlite3 has no
// authorizer hook, so this is what keeps user SQL away from them whatever the translator gets wrong: a name in
// any position where SQLite reads a table (FROM, JOIN, a FROM-list comma, `IN name`) is checked.
import { lex, type Token } from '../../pg/lexer';
import { err } from './expressions/typed';
import { TABLE_FUNCTION_NAMES } from './functions';

/** Words that end a FROM list at their nesting level. */
const FROM_LIST_END = new Set([
  'where',
  'group',
  'having',
  'order',
  'limit',
  'union',
  'intersect',
  'except',
  'window',
  'select',
  'values',
]);

const isPunct = (t: Token | undefined, p: string) => t?.kind === 'punct' && t.raw === p;
const isName = (t: Token | undefined) => t?.kind === 'ident' || t?.kind === 'qident';
const isWord = (t: Token | undefined, w: string) => t?.kind === 'ident' && t.value === w;

/** The normalized name of a relation expression as SQLite compares names (case-insensitively). */
export function relationKey(sqliteRef: string): string {
  return lex(sqliteRef)
    .filter(isName)
    .map((t) => t.value.toLowerCase())
    .join('.');
}

/** Index just past the parenthesized group opening at tokens[i]. */
function skipGroup(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    if (isPunct(tokens[j], '(')) depth++;
    else if (isPunct(tokens[j], ')') && --depth === 0) return j + 1;
  }
  return tokens.length;
}

/** Throws 42P01 for the first relation in `sql` that is not in `allowed` (keys from relationKey). */
export function checkRelationReferences(sql: string, allowed: Set<string>): void {
  const tokens = lex(sql);
  // CTE definitions: name AS ( ... or name(cols) AS ( ...
  const ctes = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (!isName(tokens[i])) continue;
    let j = i + 1;
    if (isPunct(tokens[j], '(')) j = skipGroup(tokens, j);
    if (isWord(tokens[j], 'as') && isPunct(tokens[j + 1], '(')) ctes.add(tokens[i].value.toLowerCase());
  }
  const inFrom: boolean[] = [false];
  const checkAt = (i: number) => {
    const first = tokens[i];
    if (!first || isPunct(first, '(')) return; // a subquery
    if (!isName(first)) return;
    const parts = [first];
    let j = i + 1;
    while (isPunct(tokens[j], '.') && isName(tokens[j + 1])) {
      parts.push(tokens[j + 1]);
      j += 2;
    }
    const key = parts.map((t) => t.value.toLowerCase()).join('.');
    if (isPunct(tokens[j], '(')) {
      if (parts.length === 1 && TABLE_FUNCTION_NAMES.has(key)) return;
    } else if (allowed.has(key) || (parts.length === 1 && ctes.has(key))) return;
    throw err('42P01', `relation "${parts.map((t) => t.value).join('.')}" does not exist`);
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (isPunct(t, '(')) inFrom.push(false);
    else if (isPunct(t, ')')) {
      inFrom.pop();
      if (!inFrom.length) inFrom.push(false);
    } else if (isWord(t, 'from')) {
      inFrom[inFrom.length - 1] = true;
      checkAt(i + 1);
    } else if (isWord(t, 'join')) checkAt(i + 1);
    else if (isPunct(t, ',') && inFrom[inFrom.length - 1]) checkAt(i + 1);
    else if (isWord(t, 'in') && !isPunct(tokens[i + 1], '(')) checkAt(i + 1);
    else if (t.kind === 'ident' && FROM_LIST_END.has(t.value)) inFrom[inFrom.length - 1] = false;
  }
}
