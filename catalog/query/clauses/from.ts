// FROM items and joins: relations of the registry (sys.*, pg_catalog.*, information_schema.*), CTEs,
// subqueries (LATERAL ones seeing the FROM items before them), and functions in FROM. Each item is added to the
// scope under its alias, with its columns and their types.
import type * as A from 'pgsql-ast-parser';
import type { RelationDef } from '../../relations';
import type { Context, Scope } from '../context';
import { expr } from '../expressions/expr';
import { err, quoteIdent } from '../expressions/typed';
import { FUNCTIONS, tableFunction } from '../functions';
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
  const cols = f.columnNames?.length
    ? inner.columns.map((c, i) => ({ name: f.columnNames![i]?.name ?? c.name, type: c.type }))
    : inner.columns;
  // A column list renames positionally: wrap once more, naming each column.
  const sql = f.columnNames?.length
    ? `(SELECT ${cols.map((c, i) => `${quoteIdent(inner.columns[i].name)} AS ${quoteIdent(c.name)}`).join(', ')} FROM (${inner.sql}))`
    : `(${inner.sql})`;
  scope.tables.push({ alias, columns: cols.map((c) => ({ name: c.name, type: c.type })) });
  return `${sql} AS ${quoteIdent(alias)}`;
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
  // WITH ORDINALITY numbers the rows from 1 in the function's order: the virtual table's rowid.
  const cols = [
    ...tf.columns.map((c) => ({ sql: quoteIdent(c.name), type: c.type, name: c.name })),
    ...(f.withOrdinality ? [{ sql: 'rowid', type: 'int8', name: 'ordinality' }] : []),
  ];
  const sql = `(SELECT ${cols.map((c, i) => `${c.sql} AS ${quoteIdent(names[i] ?? c.name)}`).join(', ')} FROM ${tableCall(tf, args)}) AS ${quoteIdent(alias)}`;
  scope.tables.push({ alias, columns: cols.map((c, i) => ({ name: names[i] ?? c.name, type: c.type })) });
  return sql;
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
