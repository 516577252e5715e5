// The query engine's entry: PostgreSQL SQL in, SQLite SQL with its result and parameter types out. The text is
// rewritten where pgsql-ast-parser cannot read it (parse/rewrite.ts), parsed, and translated (translate.ts);
// syntax errors carry the position in the user's text, as PostgreSQL reports them.
import { parse } from 'pgsql-ast-parser';
import { SqlError } from '../../pg/errors';
import type { RelationRegistry } from '../relations';
import { normalize } from './parse/rewrite';
import { checkRelationReferences, relationKey } from './relation-guard';
import { type Translation, Translator } from './translate';

export function compileQuery(
  sql: string,
  registry: RelationRegistry,
  clientParamTypes: (string | null)[],
): Translation {
  // A lexical error (pg/lexer.ts) is already a 42601 SqlError with its position.
  const norm = normalize(sql);
  let ast: ReturnType<typeof parse>;
  try {
    ast = parse(norm.sql);
  } catch (e) {
    throw syntaxError(e as Error, norm.sql, norm.originalOffset);
  }
  if (ast.length !== 1) throw new SqlError('42601', 'expected exactly one statement');
  const t = new Translator(registry, clientParamTypes).translate(ast[0]);
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
