// The query engine's entry: PostgreSQL SQL in, SQLite SQL with its result and parameter types out. The text is
// rewritten where pgsql-ast-parser cannot read it (parse/rewrite.ts), parsed, and translated (translate.ts and
// the statements/, clauses/ and expressions/ it is made of);
// syntax errors carry the position in the user's text, as PostgreSQL reports them.
import { parse } from 'pgsql-ast-parser';
import { SqlError } from '../../pg/errors';
import { lex } from '../../pg/lexer';
import type { RelationRegistry } from '../relations';
import { normalize } from './parse/rewrite';
import { checkRelationReferences, relationKey } from './relation-guard';
import { type Translation, translate } from './translate';

export function compileQuery(
  sql: string,
  registry: RelationRegistry,
  clientParamTypes: (string | null)[],
): Translation {
  // A lexical error (pg/lexer.ts) is already a 42601 SqlError with its position.
  const norm = normalize(sql);
  checkComplexity(norm.sql);
  let ast: ReturnType<typeof parse>;
  try {
    ast = parse(norm.sql);
  } catch (e) {
    throw syntaxError(e as Error, norm.sql, norm.originalOffset);
  }
  if (ast.length !== 1) throw new SqlError('42601', 'expected exactly one statement');
  const t = translate(ast[0], registry, clientParamTypes);
  checkRelationReferences(t.sql, allowedRelations(registry));
  return t;
}

const allowedByRegistry = new WeakMap<RelationRegistry, Set<string>>();

/** The SQLite names of the registry's relations: the only relations translated SQL may read. */
function allowedRelations(registry: RelationRegistry): Set<string> {
  let allowed = allowedByRegistry.get(registry);
  if (!allowed) {
    allowed = new Set(registry.relations.map((r) => relationKey(r.sqlite)));
    allowedByRegistry.set(registry, allowed);
  }
  return allowed;
}

function syntaxError(e: Error, sql: string, originalOffset: (at: number) => number): SqlError {
  if (/Unexpected end of input/i.test(e.message)) {
    return new SqlError('42601', 'syntax error at end of input', {
      position: originalOffset(sql.length) + 1,
    });
  }
  const m = /line (\d+) col (\d+)/.exec(e.message);
  if (!m) return new SqlError('42601', `syntax error: ${e.message.split('\n')[0]}`);
  const lines = sql.split('\n');
  let at = 0;
  for (let i = 0; i < +m[1] - 1; i++) at += lines[i].length + 1;
  at += +m[2] - 1;
  const near = /^\s*("[^"]*"|'[^']*'|\w+|\S)/.exec(sql.slice(at))?.[1];
  const message = near
    ? `syntax error at or near "${near.replace(/^"(.*)"$/, '$1')}"`
    : 'syntax error at end of input';
  return new SqlError('42601', message, { position: originalOffset(at) + 1 });
}

/**
 * pgsql-ast-parser's time and memory grow faster than linearly with the length of a list (a 1,000-element IN
 * list takes a second, 100,000 took 4 GB), so statements beyond these bounds fail fast with PostgreSQL's
 * 54001 instead of holding a reader for minutes. An array parameter (x = ANY($1)) has no such bound.
 */
export const MAX_LIST_ELEMENTS = 1000;
export const MAX_TOKENS = 20000;

function checkComplexity(sql: string): void {
  const tokens = lex(sql);
  const tooComplex = (detail: string) =>
    new SqlError('54001', 'statement too complex', {
      detail,
      hint: 'Pass a long list of values as one array parameter: x = ANY($1).',
    });
  if (tokens.length > MAX_TOKENS) throw tooComplex(`The statement has more than ${MAX_TOKENS} tokens.`);
  const commas: number[] = [0];
  for (const t of tokens) {
    if (t.kind !== 'punct') continue;
    if (t.raw === '(') commas.push(0);
    else if (t.raw === ')') commas.length > 1 && commas.pop();
    else if (t.raw === ',' && ++commas[commas.length - 1] >= MAX_LIST_ELEMENTS)
      throw tooComplex(`A list has more than ${MAX_LIST_ELEMENTS} elements.`);
  }
}
