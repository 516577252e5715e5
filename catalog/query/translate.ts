// Translates a PostgreSQL query (as parsed by pgsql-ast-parser) into SQLite SQL over the catalog, and infers
// the PostgreSQL type of every result column and parameter along the way. Relations are resolved against the
// registry (sys.*, pg_catalog.*, information_schema.*), so only known relations can be referenced and every
// name in the output is fully qualified. What SQLite cannot express is done by functions registered on the
// reader connections, never by matching query text.
//
// The translator is cut by topic: statements/ (SELECT, set operations, VALUES, WITH), clauses/ (FROM and joins,
// the select list's set-returning functions, GROUP BY / ORDER BY, LIMIT), expressions/ (expression forms,
// column references, comparisons with lists and subqueries, calls, operators, casts) and functions/ (by
// domain). They share one Context (context.ts) for the statement being translated.
import type * as A from 'pgsql-ast-parser';
import type { RelationRegistry } from '../relations';
import { newContext, type Scope, type Translation } from './context';
import { statement } from './statements';

export type { OutColumn, Translation } from './context';

export function translate(
  stmt: A.Statement,
  registry: RelationRegistry,
  clientParamTypes: (string | null)[],
): Translation {
  const ctx = newContext(registry, clientParamTypes);
  const root: Scope = { tables: [], ctes: new Map(), parent: null };
  const { sql, columns } = statement(ctx, stmt, root);
  return { sql, columns, paramTypes: [...ctx.params].map((p) => p ?? null) };
}
