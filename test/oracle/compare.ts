// Runs one statement on a connection and reduces the answer to what the oracle compares: per result, the
// column names, their type OIDs and the rows as PostgreSQL's text output; for an error, its SQLSTATE.
import type pg from 'pg';

export interface Answer {
  error?: string;
  message?: string;
  results: { columns: string[]; types: number[]; rows: (string | null)[][] }[];
}

/** Type OIDs whose values are object identifiers: oid, regclass/regtype/regnamespace/regproc, oid[], oidvector. */
const OID_TYPES = new Set([26, 2205, 2206, 4089, 24, 1028, 30]);

/**
 * Values that are OIDs of user objects on one server (the sys schema, its tables, their row types, indexes and
 * constraints, the admin role) are replaced by a name valid on both, e.g. `<pg_class:sys.tasks>`.
 */
export type OidNames = Map<string, string>;

export async function userOidNames(c: pg.Client): Promise<OidNames> {
  const names: OidNames = new Map();
  const q = async (sql: string) => {
    for (const r of (await c.query({ text: sql, rowMode: 'array' })).rows)
      names.set(String(r[0]), `<${r[1]}>`);
  };
  await q(`SELECT oid, 'pg_namespace:' || nspname FROM pg_catalog.pg_namespace WHERE nspname = 'sys'`);
  await q(`SELECT oid, 'pg_roles:' || rolname FROM pg_catalog.pg_roles WHERE rolname = 'admin'`);
  await q(`SELECT c.oid, 'pg_class:' || c.relname FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sys'`);
  await q(`SELECT c.reltype, 'pg_type:' || c.relname FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sys' AND c.reltype <> 0`);
  await q(`SELECT k.oid, 'pg_constraint:' || k.conname FROM pg_catalog.pg_constraint k
           JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'sys'`);
  return names;
}

function normalizeOids(v: string, names: OidNames): string {
  const whole = names.get(v);
  if (whole) return whole;
  // arrays and vectors: {1,2} or "1 2"
  return v.replace(/\d+/g, (d) => names.get(d) ?? d);
}

export async function answer(
  c: pg.Client,
  sql: string,
  params: (string | null)[] | undefined,
  names: OidNames,
): Promise<Answer> {
  try {
    const r = params
      ? await c.query({ text: sql, values: params, rowMode: 'array' })
      : await c.query({ text: sql, rowMode: 'array' });
    const list = (Array.isArray(r) ? r : [r]) as pg.QueryArrayResult[];
    return {
      results: list
        .filter((x) => x.fields?.length)
        .map((x) => ({
          columns: x.fields.map((f) => f.name),
          types: x.fields.map((f) => f.dataTypeID),
          rows: x.rows.map((row) =>
            row.map((v, i) =>
              v !== null && OID_TYPES.has(x.fields[i].dataTypeID)
                ? normalizeOids(String(v), names)
                : (v as string | null),
            ),
          ),
        })),
    };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { error: err.code ?? 'no SQLSTATE', message: err.message, results: [] };
  }
}

/** True when the statement's outermost query has an ORDER BY (outside parentheses, strings and comments). */
export function hasTopLevelOrderBy(sql: string): boolean {
  let depth = 0;
  let code = '';
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      i = end < 0 ? sql.length : end;
      code += ' ';
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else code += depth === 0 ? ch : ' ';
  }
  return /\border\s+by\b/i.test(code);
}

/** A description of how two answers differ, or undefined when they agree. */
export function difference(ours: Answer, theirs: Answer, ordered: boolean): string | undefined {
  if (ours.error || theirs.error) {
    if (ours.error === theirs.error) return undefined;
    const side = (a: Answer) => (a.error ? `${a.error} (${a.message})` : 'ok');
    return `error: segtasks ${side(ours)}, postgresql ${side(theirs)}`;
  }
  if (ours.results.length !== theirs.results.length)
    return `results: segtasks ${ours.results.length}, postgresql ${theirs.results.length}`;
  for (let i = 0; i < ours.results.length; i++) {
    const a = ours.results[i];
    const b = theirs.results[i];
    if (a.columns.join() !== b.columns.join())
      return `columns: segtasks [${a.columns.join(', ')}], postgresql [${b.columns.join(', ')}]`;
    if (a.types.join() !== b.types.join())
      return `types: segtasks [${a.types.join(', ')}], postgresql [${b.types.join(', ')}]`;
    const rows = (x: typeof a) => {
      const s = x.rows.map((r) => JSON.stringify(r));
      return ordered ? s : s.sort();
    };
    const ra = rows(a);
    const rb = rows(b);
    if (ra.length !== rb.length) return `rows: segtasks ${ra.length}, postgresql ${rb.length}`;
    const at = ra.findIndex((r, k) => r !== rb[k]);
    if (at >= 0) return `row ${at}${ordered ? '' : ' (sorted)'}: segtasks ${ra[at]}, postgresql ${rb[at]}`;
  }
  return undefined;
}
