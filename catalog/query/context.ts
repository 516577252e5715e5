// What the parts of the translator share while one statement is translated: the relation registry, the
// parameter types inferred so far, and the select-list set-returning calls of the select being translated;
// and the scopes in which names are resolved.
import type { RelationRegistry } from '../relations';

export interface OutColumn {
  name: string;
  /** Canonical PostgreSQL type name, or null when the expression's type is not known (decltype decides). */
  type: string | null;
  /** Set when the column is known to come out of SQLite as 0/1 but is boolean in PostgreSQL. */
  star?: boolean;
}

/** A statement translated to SQLite, with the names and types of its result columns. */
export interface Rows {
  sql: string;
  columns: OutColumn[];
}

export interface Translation extends Rows {
  /** Inferred type of each $n parameter (index n-1). */
  paramTypes: (string | null)[];
}

export interface ScopeColumn {
  name: string;
  type: string | null;
  /** How the column is read, when not as alias.name (a function in FROM, a LATERAL subquery's rows). */
  sql?: string;
}

export interface ScopeTable {
  alias: string;
  columns: ScopeColumn[];
  /** The relation's OID, for its tableoid system column (a registry relation; not a CTE or subquery). */
  oid?: number;
}

/** The FROM items visible at one level of a query, the CTEs in force, and the enclosing level. */
export interface Scope {
  tables: ScopeTable[];
  ctes: Map<string, ScopeTable>;
  parent: Scope | null;
}

/** A select-list set-returning call, joined (clauses/select-list-srfs.ts): how each of its columns is read. */
export interface SrfJoin {
  name: string;
  columns: { name: string; type: string; sql: string }[];
}

export interface Context {
  readonly registry: RelationRegistry;
  /** Type of each $n parameter (index n-1): the client's, or inferred from where the parameter stands. */
  readonly params: (string | null)[];
  /** Select-list set-returning calls of the select being translated, by the text of their call. */
  srfJoins: Map<string, SrfJoin> | null;
}

export function newContext(registry: RelationRegistry, clientParamTypes: (string | null)[]): Context {
  const params: (string | null)[] = [];
  clientParamTypes.forEach((t, i) => {
    params[i] = t;
  });
  return { registry, params, srfJoins: null };
}

/** The scope of a subquery: its own FROM items, the enclosing query's names visible as outer references. */
export const subqueryScope = (scope: Scope): Scope => ({ tables: [], ctes: scope.ctes, parent: scope });
