// FROM items and joins: relations of the registry (sys.*, pg_catalog.*, information_schema.*), CTEs,
// subqueries (LATERAL ones seeing the FROM items before them), and functions in FROM. Each item is added to the
// scope under its alias, with its columns and their types.
import type * as A from 'pgsql-ast-parser';
import type { RelationDef } from '../../relations';
import type { Context, Rows, Scope } from '../context';
import { expr } from '../expressions/expr';
import { err, quoteIdent } from '../expressions/typed';
import { FUNCTIONS, int4Series, tableFunction } from '../functions';
import { statement } from '../statements';
import { isSetOperation, setOperationItem } from '../statements/set-operations';
import { tableCall } from './select-list-srfs';

/** The SQL of one FROM item: the first bare, the others with their join (or a comma). */
export function fromItem(ctx: Context, f: A.From, scope: Scope, first: boolean): string {
  let sql: string;
  if (f.type === 'table') sql = tableItem(ctx, f, scope);
  else if (f.type === 'statement') sql = subqueryItem(ctx, f, scope);
  else if (f.type === 'call' && isSetOperation(f.function.name)) sql = setOperation(ctx, f, scope);
  else if (f.type === 'call') sql = functionItem(ctx, f, scope);
  else throw err('0A000', `unsupported FROM item`);
  if (first || !f.join) return first ? sql : `, ${sql}`;
  const j = f.join;
  let out = ` ${j.type} ${sql}`;
  if (j.on) out += ` ON ${expr(ctx, j.on, scope).sql}`;
  if (j.using?.length) out += ` USING (${j.using.map((u) => quoteIdent(u.name)).join(', ')})`;
  return out;
}

function tableItem(ctx: Context, f: A.FromTable, scope: Scope): string {
  const { name, schema } = f.name;
  const alias = f.name.alias ?? name;
  const cte = !schema ? scope.ctes.get(name) : undefined;
  let sql: string;
  if (cte) {
    sql = quoteIdent(name);
    scope.tables.push({ alias, columns: cte.columns });
  } else {
    const rel = relation(ctx, schema, name);
    sql = rel.sqlite;
    scope.tables.push({
      alias,
      columns: rel.columns.map((c) => ({ name: c.name, type: c.type })),
      oid: rel.oid,
    });
  }
  return `${sql} AS ${quoteIdent(alias)}`;
}

function subqueryItem(ctx: Context, f: A.FromStatement, scope: Scope): string {
  const inner = statement(ctx, f.statement, {
    tables: [],
    ctes: scope.ctes,
    parent: f.lateral ? scope : scope.parent,
  });
  const alias = f.alias;
  const listed = f.columnNames?.length ?? 0;
  if (listed > inner.columns.length)
    throw err(
      '42P10',
      `table "${alias}" has ${inner.columns.length} columns available but ${listed} columns specified`,
    );
  const names = inner.columns.map((c, i) => f.columnNames?.[i]?.name ?? c.name);
  if (f.lateral) return lateralSubquery(inner, alias, names, scope);
  // A column list renames positionally (the subquery's own names may repeat, as in SELECT 1, 2): a SQLite CTE
  // with a column list names them by position.
  const sql = listed
    ? `(WITH "__columns"(${names.map(quoteIdent).join(', ')}) AS (${inner.sql}) SELECT * FROM "__columns")`
    : `(${inner.sql})`;
  scope.tables.push({ alias, columns: inner.columns.map((c, i) => ({ name: names[i], type: c.type })) });
  return `${sql} AS ${quoteIdent(alias)}`;
}

/**
 * A LATERAL subquery. SQLite has no LATERAL: a subquery in FROM cannot see the FROM items before it, but a
 * scalar subquery can, and so can the arguments of a table-valued function. So the subquery's rows are
 * gathered by a scalar subquery into one JSON array of rows (in the subquery's order), which json_each turns
 * back into rows; each column is read from its row by position. JSON keeps SQLite's integers, reals, text and
 * NULLs as they are; a blob it cannot hold is SQLite's error, never a changed value.
 */
function lateralSubquery(inner: Rows, alias: string, names: string[], scope: Scope): string {
  const a = quoteIdent(alias);
  const row = inner.columns.map((_, i) => quoteIdent(`__c${i + 1}`));
  const numbered = `SELECT ${inner.columns.map((c, i) => `${quoteIdent(c.name)} AS ${row[i]}`).join(', ')} FROM (${inner.sql})`;
  scope.tables.push({
    alias,
    columns: inner.columns.map((c, i) => ({
      name: names[i],
      type: c.type,
      sql: `json_extract(${a}.value, '$[${i}]')`,
    })),
  });
  return `json_each((SELECT json_group_array(json_array(${row.join(', ')})) FROM (${numbered}))) AS ${a}`;
}

/** A set operation in FROM (INTERSECT and EXCEPT reach the translator so: parse/set-operations.ts). */
function setOperation(ctx: Context, f: A.FromCall, scope: Scope): string {
  const alias = f.alias?.name ?? f.function.name;
  const rows = setOperationItem(ctx, f, scope);
  scope.tables.push({ alias, columns: rows.columns.map((c) => ({ name: c.name, type: c.type })) });
  return `(${rows.sql}) AS ${quoteIdent(alias)}`;
}

/** A function in FROM: a set-returning one as a table-valued function, a scalar one as a one-row relation. */
function functionItem(ctx: Context, f: A.FromCall, scope: Scope): string {
  const fname = f.function.name.toLowerCase();
  const alias = f.alias?.name ?? fname;
  const args = f.args.map((a) => expr(ctx, a, scope));
  const tf = tableFunction(
    fname,
    args.map((a) => a.type),
  );
  if (!tf) {
    // A scalar function in FROM is a one-row relation whose column is named after the alias.
    const def = FUNCTIONS[fname];
    if (!def) throw err('42883', `function ${fname}() does not exist`);
    const type = def.returns(args.map((a) => a.type));
    const col = f.alias?.columns?.[0]?.name ?? alias;
    const sql = `(SELECT ${def.sql(
      args.map((a) => a.sql),
      args.map((a) => a.type),
      false,
    )} AS ${quoteIdent(col)}) AS ${quoteIdent(alias)}`;
    scope.tables.push({ alias, columns: [{ name: col, type }] });
    return sql;
  }
  const names =
    f.alias?.columns?.map((c) => c.name) ??
    (tf.columns.length === 1 ? [alias] : tf.columns.map((c) => c.name));
  // The call stands in FROM itself, not in a subquery, so that its arguments may read the FROM items before
  // it (PostgreSQL's functions in FROM are LATERAL). WITH ORDINALITY numbers the rows from 1 in the
  // function's order: the virtual table's rowid.
  const a = quoteIdent(alias);
  const cols = [
    ...tf.columns.map((c) => ({ sql: `${a}.${quoteIdent(c.name)}`, type: c.type as string | null })),
    ...(f.withOrdinality ? [{ sql: `${a}.rowid`, type: 'int8' }] : []),
  ];
  const ordinality = tf.columns.length;
  const native =
    fname === 'generate_series' && !f.withOrdinality ? int4Series(args, f.args.map(readsRow)) : null;
  scope.tables.push({
    alias,
    columns: cols.map((c, i) => ({
      name: names[i] ?? (i === ordinality ? 'ordinality' : tf.columns[i].name),
      type: c.type,
      sql: c.sql,
    })),
  });
  return `${native ?? tableCall(tf, args)} AS ${a}`;
}

/** Whether an expression may read a row (a column, a subquery, a function: anything but constants and parameters). */
function readsRow(e: A.Expr): boolean {
  switch (e.type) {
    case 'integer':
    case 'numeric':
    case 'string':
    case 'boolean':
    case 'null':
    case 'parameter':
      return false;
    case 'cast':
    case 'unary':
      return readsRow(e.operand);
    case 'binary':
      return readsRow(e.left) || readsRow(e.right);
    default:
      return true;
  }
}

function relation(ctx: Context, schema: string | undefined, name: string): RelationDef {
  const rel = ctx.registry.lookup(schema ?? null, name);
  if (rel) return rel;
  if ((!schema || schema === 'public') && ctx.registry.isUserTable(name)) {
    throw err(
      '0A000',
      `table "${name}" holds segment data, which is read with COPY, not SELECT`,
      `COPY ${name} TO STDOUT (in psql: \\copy ${name} to 'file' with (format binary)); its size and groups are in sys.tables.`,
    );
  }
  const full = schema ? `${schema}.${name}` : name;
  const hint =
    !schema && ctx.registry.lookup('sys', name)
      ? `The system tables live in schema sys: try sys.${name}.`
      : undefined;
  throw err('42P01', `relation "${full}" does not exist`, hint);
}
