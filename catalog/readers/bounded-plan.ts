// Which statements are cheap enough to run on the inline lane (lane.ts) instead of a reader thread (see
// inline-guard.ts and the pool): those whose cost SQLite's own plan bounds, whatever their parameters.
//
// A statement qualifies when every table it reads is reached by equality on all the columns of a unique key
// (an INTEGER PRIMARY KEY or a UNIQUE index: at most one row per lookup, or one per IN-list element, which the
// statement's length bounds), or it reads no table at all; and no native function in it can produce far more
// than it is given (zeroblob(n), printf('%*d', n), replace() can turn a few bytes into a gigabyte). JavaScript
// functions are not judged here: the guard checks each call as it happens. Everything else (any full or range
// scan, a virtual table, a subquery in FROM, a recursive CTE) runs on a reader as before.
import type Database from 'better-sqlite3';

/** Native SQLite functions whose output is not bounded by the size of their inputs. */
const AMPLIFYING_NATIVE = new Set(['zeroblob', 'randomblob', 'printf', 'format', 'replace']);

/** Plan lines that only arrange other lines (their children are judged on their own). */
const STRUCTURE =
  /^(USE TEMP B-TREE FOR |(CORRELATED )?(SCALAR|LIST) SUBQUERY|COMPOUND QUERY|LEFT-MOST SUBQUERY|UNION ALL|UNION USING TEMP B-TREE|EXCEPT USING TEMP B-TREE|INTERSECT USING TEMP B-TREE|MULTI-INDEX OR|INDEX \d+$)/;

const SEARCH = /^SEARCH \S+ USING (INTEGER PRIMARY KEY|(?:COVERING )?INDEX (\S+)) \(([^)]*)\)/;

/** Whether the translated statement `sql` (parameters ?1..?n) is proven bounded by its plan (see above). */
export function isBoundedPlan(db: Database.Database, sql: string, params: number): boolean {
  if (callsAmplifier(sql)) return false;
  let rows: { detail: string }[];
  try {
    const eqp = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
    const nulls: Record<number, null> = {};
    for (let i = 1; i <= params; i++) nulls[i] = null;
    rows = (params ? eqp.all(nulls) : eqp.all()) as { detail: string }[];
  } catch {
    return false;
  }
  return rows.every((r) => boundedLine(db, r.detail));
}

/** One line of EXPLAIN QUERY PLAN: a lookup by a whole unique key, a constant row, or structure. */
export function boundedLine(db: Database.Database, detail: string): boolean {
  if (detail === 'SCAN CONSTANT ROW' || STRUCTURE.test(detail)) return true;
  const m = SEARCH.exec(detail);
  if (!m) return false;
  const equal = new Set(
    m[3]
      .split(' AND ')
      .map((c) => /^(\w+)=\?$/.exec(c.trim())?.[1])
      .filter((c): c is string => c !== undefined),
  );
  if (m[1] === 'INTEGER PRIMARY KEY') return equal.has('rowid');
  const key = uniqueKeyColumns(db, m[2]);
  return key?.every((c) => equal.has(c)) ?? false;
}

/** The columns of a unique index, or null when the index is not unique (or not found). */
function uniqueKeyColumns(db: Database.Database, index: string): string[] | null {
  const owner = db
    .prepare("SELECT tbl_name FROM sqlite_schema WHERE type = 'index' AND name = ?")
    .get(index) as { tbl_name: string } | undefined;
  if (!owner) return null;
  const list = db.pragma(`index_list("${owner.tbl_name.replace(/"/g, '""')}")`) as {
    name: string;
    unique: number;
    partial: number;
  }[];
  const entry = list.find((i) => i.name === index);
  if (!entry?.unique || entry.partial) return null;
  const cols = db.pragma(`index_info("${index.replace(/"/g, '""')}")`) as { name: string | null }[];
  // An index on an expression has a null column name: not a key we can match against the plan's columns.
  if (cols.some((c) => c.name === null)) return null;
  return cols.map((c) => c.name as string);
}

/** Whether translated SQL calls one of AMPLIFYING_NATIVE, by a plain or a quoted name (never in a string). */
export function callsAmplifier(sql: string): boolean {
  const re = /'(?:[^']|'')*'|"((?:[^"]|"")*)"(\s*\()?|\b([A-Za-z_]\w*)\s*\(/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(sql))) {
    const name = m[3] ?? (m[2] ? m[1].replace(/""/g, '"') : null);
    if (name && AMPLIFYING_NATIVE.has(name.toLowerCase())) return true;
  }
  return false;
}
