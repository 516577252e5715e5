// Set-returning functions in a select list. PostgreSQL expands such a call into rows; SQLite cannot, so each
// call is joined as a table-valued function (calls with the same arguments share one join, which is
// PostgreSQL's lockstep expansion) and the call itself is read from the join's columns.
import type * as A from 'pgsql-ast-parser';
import type { Context, Scope, SrfJoin } from '../context';
import { expr } from '../expressions/expr';
import { quoteIdent, type Typed } from '../expressions/typed';
import { type TableFunction, tableFunction } from '../functions';

/** Set-returning functions that may stand in a select list; they become joined table-valued functions. */
const SELECT_LIST_SRFS = new Set([
  '_pg_expandarray',
  'unnest',
  'generate_series',
  'generate_subscripts',
  'pg_partition_ancestors',
  'pg_options_to_table',
  'regexp_split_to_table',
]);

/**
 * The joins for the set-returning calls of a select list, and the calls by their text (ctx.srfJoins while
 * the select's expressions are translated, so that callSrf finds them).
 *
 * PostgreSQL 10+ runs several set-returning calls of one select list in lockstep: as many rows as the longest
 * call gives, the shorter ones NULL past their end. One call is joined as a table-valued function; several are
 * read row by row beside one series of row numbers 1..the longest count, each call's value of row n being its
 * row whose rowid (numbered from 1) is n.
 */
export function selectListSrfs(
  ctx: Context,
  items: A.SelectedColumn[],
  scope: Scope,
): { joins: string[]; srfs: Map<string, SrfJoin> } {
  const calls = new Map<string, { fname: string; tf: TableFunction; call: string }>();
  for (const c of items) {
    for (const call of findCalls(c.expr, (fn) => SELECT_LIST_SRFS.has(fn))) {
      const key = JSON.stringify(call);
      if (calls.has(key)) continue;
      const fname = call.function.name.toLowerCase();
      const args = call.args.map((a) => expr(ctx, a, scope));
      const tf = tableFunction(
        fname,
        args.map((a) => a.type),
      )!;
      calls.set(key, { fname, tf, call: tableCall(tf, args) });
    }
  }
  const srfs = new Map<string, SrfJoin>();
  if (calls.size === 1) {
    const [[key, { fname, tf, call }]] = [...calls];
    const alias = quoteIdent('__srf1');
    const columns = tf.columns.map((c) => ({ ...c, sql: `${alias}.${quoteIdent(c.name)}` }));
    srfs.set(key, { name: fname, columns });
    return { joins: [`${call} AS ${alias}`], srfs };
  }
  if (calls.size === 0) return { joins: [], srfs };
  const row = quoteIdent('__srf_row');
  const counts = [...calls.values()].map((c) => `(SELECT count(*) FROM ${c.call})`);
  for (const [key, { fname, tf, call }] of calls) {
    const columns = tf.columns.map((c) => ({
      ...c,
      sql: `(SELECT ${quoteIdent(c.name)} FROM ${call} WHERE rowid = ${row}.value)`,
    }));
    srfs.set(key, { name: fname, columns });
  }
  return { joins: [`pg_generate_series(1, max(${counts.join(', ')})) AS ${row}`], srfs };
}

/** A select-list set-returning call read from its join: its one column, or its columns as a composite. */
export function joinedSrf(ctx: Context, e: A.ExprCall): Typed | null {
  const srf = ctx.srfJoins?.get(JSON.stringify(e));
  if (!srf) return null;
  if (srf.columns.length === 1) return { sql: srf.columns[0].sql, type: srf.columns[0].type };
  // a composite: read with (expr).field, i.e. pg_field()
  return {
    sql: `json_object(${srf.columns.map((c) => `'${c.name}', ${c.sql}`).join(', ')})`,
    type: 'record',
  };
}

/** The SQLite call of a table-valued function with its arguments. */
export function tableCall(tf: TableFunction, args: Typed[]): string {
  return `${tf.sqlite}(${[...args.map((a) => a.sql), ...(tf.extraArgs ?? [])].join(', ')})`;
}

/** Calls of functions matching `want` inside an expression (not descending into subqueries). */
function findCalls(e: unknown, want: (fn: string) => boolean, out: A.ExprCall[] = []): A.ExprCall[] {
  if (!e || typeof e !== 'object') return out;
  const node = e as { type?: string };
  if (node.type === 'select' || node.type === 'union' || node.type === 'with') return out;
  if (node.type === 'call' && want((e as A.ExprCall).function.name.toLowerCase())) {
    out.push(e as A.ExprCall);
    return out;
  }
  for (const v of Object.values(e as Record<string, unknown>)) {
    if (Array.isArray(v)) for (const x of v) findCalls(x, want, out);
    else if (v && typeof v === 'object') findCalls(v, want, out);
  }
  return out;
}
