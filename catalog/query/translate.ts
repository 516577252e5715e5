// Translates a PostgreSQL SELECT (as parsed by pgsql-ast-parser) into SQLite SQL over the catalog, and infers
// the PostgreSQL type of every result column and parameter along the way. Relations are resolved against the
// registry (sys.*, pg_catalog.*, information_schema.*), so only known relations can be referenced and every
// name in the output is fully qualified. This module holds the statements, clauses and expression forms;
// operators and casts are in expressions/, functions in functions/ (by domain). What SQLite cannot express is
// done by functions registered on the reader connections, never by matching query text.
import type * as A from 'pgsql-ast-parser';
import { canonicalType, isIntegerType, isNumericType } from '../../pg/types';
import type { RelationDef, RelationRegistry } from '../relations';
import { castSql } from './expressions/casts';
import { binaryOperator, negateOp, operandsShareType, unaryOperator } from './expressions/operators';
import { err, quoteIdent, quoteLit, type Typed } from './expressions/typed';
import { type FnDef, FUNCTIONS, lowerBound, type TableFunction, tableFunction } from './functions';

export interface OutColumn {
  name: string;
  /** Canonical PostgreSQL type name, or null when the expression's type is not known (decltype decides). */
  type: string | null;
  /** Set when the column is known to come out of SQLite as 0/1 but is boolean in PostgreSQL. */
  star?: boolean;
}

interface ScopeTable {
  alias: string;
  columns: { name: string; type: string | null }[];
  /** The relation's OID, for its tableoid system column (a registry relation; not a CTE or subquery). */
  oid?: number;
}

interface Scope {
  tables: ScopeTable[];
  ctes: Map<string, ScopeTable>;
  parent: Scope | null;
}

export interface Translation {
  sql: string;
  columns: OutColumn[];
  /** Inferred type of each $n parameter (index n-1). */
  paramTypes: (string | null)[];
}

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

export class Translator {
  private readonly params: (string | null)[] = [];
  /** Select-list set-returning calls of the select being translated, by the text of their call. */
  private srfJoins: Map<
    string,
    { alias: string; name: string; columns: { name: string; type: string }[] }
  > | null = null;

  constructor(
    private readonly registry: RelationRegistry,
    clientParamTypes: (string | null)[],
  ) {
    clientParamTypes.forEach((t, i) => {
      this.params[i] = t;
    });
  }

  translate(stmt: A.Statement): Translation {
    const root: Scope = { tables: [], ctes: new Map(), parent: null };
    const { sql, columns } = this.statement(stmt, root);
    return { sql, columns, paramTypes: [...this.params].map((p) => p ?? null) };
  }

  // ---------- statements ----------

  /** The statement a WITH clause applies to; one with a WITH of its own is a subquery in SQLite. */
  private withBody(s: A.Statement, scope: Scope): { sql: string; columns: OutColumn[] } {
    const body = this.statement(s, scope);
    if (s.type !== 'with' && s.type !== 'with recursive') return body;
    return { sql: `SELECT * FROM (${body.sql})`, columns: body.columns };
  }

  private statement(s: A.Statement, scope: Scope): { sql: string; columns: OutColumn[] } {
    switch (s.type) {
      case 'select':
        return this.select(s, scope);
      case 'union':
      case 'union all':
        return this.union(s, scope);
      case 'values':
        return this.values(s, scope);
      case 'with':
        return this.with(s, scope);
      case 'with recursive': {
        const inner: Scope = { tables: [], ctes: new Map(scope.ctes), parent: scope.parent };
        const name = s.alias.name;
        const bind = s.bind as A.SelectStatement;
        const recursive = bind.type === 'union' || bind.type === 'union all' ? bind : null;
        // The non-recursive term first: it gives the CTE its column types (and names, without a list).
        const seed = this.statement(recursive ? recursive.left : bind, inner);
        const cols = seed.columns.map((c, i) => ({ name: s.columnNames[i]?.name ?? c.name, type: c.type }));
        inner.ctes.set(name, { alias: name, columns: cols });
        let body = seed.sql;
        if (recursive) {
          // SQLite finds the recursive reference only in the FROM of the recursive term itself: that term
          // is not wrapped in a subquery as other set operations are.
          const step = this.statement(recursive.right, inner);
          body = `SELECT * FROM (${seed.sql}) ${recursive.type === 'union' ? 'UNION' : 'UNION ALL'} ${step.sql}`;
        }
        const main = this.withBody(s.in, inner);
        const colList = cols.map((c) => quoteIdent(c.name)).join(', ');
        return {
          sql: `WITH RECURSIVE ${quoteIdent(name)}(${colList}) AS (${body}) ${main.sql}`,
          columns: main.columns,
        };
      }
      default: {
        const t = (s as { type: string }).type;
        if (['union', 'intersect', 'except', 'intersect all', 'except all'].includes(t)) {
          const u = s as unknown as { left: A.SelectStatement; right: A.SelectStatement };
          const l = this.statement(u.left, scope);
          const r = this.statement(u.right, scope);
          return {
            sql: `SELECT * FROM (${l.sql}) ${t.toUpperCase().replace(' ALL', '')} SELECT * FROM (${r.sql})`,
            columns: mergeColumns(l.columns, r.columns),
          };
        }
        throw err(
          '0A000',
          `${t.toUpperCase()} is not supported here: only SELECT, VALUES, SHOW and WITH queries read the catalog`,
        );
      }
    }
  }

  /**
   * pgsql-ast-parser reads `a UNION ALL b UNION c ORDER BY x LIMIT n` right-nested, with the ORDER BY and LIMIT
   * on c. PostgreSQL's set operations associate to the left and an ORDER BY or LIMIT after the last operand
   * applies to the whole result. (A parenthesized operand was made a subquery by parse/rewrite.ts, so the
   * chain here is only what was written without parentheses.)
   */
  private union(s: A.SelectFromUnion, scope: Scope): { sql: string; columns: OutColumn[] } {
    const operands: A.SelectStatement[] = [];
    const ops: string[] = [];
    let node: A.SelectStatement = s;
    while (node.type === 'union' || node.type === 'union all') {
      operands.push(node.left);
      ops.push(node.type === 'union' ? 'UNION' : 'UNION ALL');
      node = node.right;
    }
    let orderBy: A.OrderByStatement[] | null | undefined;
    let limit: A.LimitStatement | null | undefined;
    if (node.type === 'select' && (node.orderBy?.length || node.limit)) {
      ({ orderBy, limit } = node);
      node = { ...node, orderBy: null, limit: null };
    }
    operands.push(node);
    const parts = operands.map((o) => this.statement(o, scope));
    let sql = `SELECT * FROM (${parts[0].sql})`;
    let columns = parts[0].columns;
    parts.slice(1).forEach((p, i) => {
      sql += ` ${ops[i]} SELECT * FROM (${p.sql})`;
      columns = mergeColumns(columns, p.columns);
    });
    if (!orderBy?.length && !limit) return { sql, columns };
    const result: Scope = {
      tables: [{ alias: '__set_result', columns: columns.map((c) => ({ name: c.name, type: c.type })) }],
      ctes: scope.ctes,
      parent: scope,
    };
    let out = `SELECT * FROM (${sql}) AS "__set_result"`;
    if (orderBy?.length) out += ` ORDER BY ${this.orderBy(orderBy, result, columns)}`;
    out += this.limit(limit, result);
    return { sql: out, columns };
  }

  private with(s: A.WithStatement, scope: Scope): { sql: string; columns: OutColumn[] } {
    const inner: Scope = { tables: [], ctes: new Map(scope.ctes), parent: scope.parent };
    const parts: string[] = [];
    for (const b of s.bind) {
      const r = this.statement(b.statement, inner);
      inner.ctes.set(b.alias.name, {
        alias: b.alias.name,
        columns: r.columns.map((c) => ({ name: c.name, type: c.type })),
      });
      parts.push(`${quoteIdent(b.alias.name)} AS (${r.sql})`);
    }
    const main = this.withBody(s.in, inner);
    return { sql: `WITH ${parts.join(', ')} ${main.sql}`, columns: main.columns };
  }

  private values(s: A.ValuesStatement, scope: Scope): { sql: string; columns: OutColumn[] } {
    const rows = s.values.map((row) => row.map((e) => this.expr(e, scope)));
    const width = rows[0]?.length ?? 0;
    const columns: OutColumn[] = [];
    for (let i = 0; i < width; i++) {
      columns.push({
        name: `column${i + 1}`,
        type: rows.map((r) => r[i]?.type).find((t) => t && t !== 'unknown') ?? 'text',
      });
    }
    // A literal in a column of another type is read as that type (PostgreSQL resolves the column's type
    // first: 'x' beside a json value is json input, and fails as such).
    const cell = (c: Typed, i: number) => {
      const type = columns[i].type;
      return c.type === 'unknown' && type && type !== 'text' ? castSql(c, type) : c.sql;
    };
    // Name the columns as PostgreSQL does (column1, column2, ...), through a first SELECT row.
    const first = rows[0].map((c, i) => `${cell(c, i)} AS ${quoteIdent(`column${i + 1}`)}`).join(', ');
    const rest = rows.slice(1).map((r) => `SELECT ${r.map(cell).join(', ')}`);
    return { sql: [`SELECT ${first}`, ...rest].join(' UNION ALL '), columns };
  }

  private select(s: A.SelectFromStatement, outer: Scope): { sql: string; columns: OutColumn[] } {
    const scope: Scope = { tables: [], ctes: outer.ctes, parent: outer };
    const from = (s.from ?? []).map((f, i) => this.fromItem(f, scope, i === 0));
    // PostgreSQL expands a set-returning function in the select list into rows; SQLite cannot, so each such
    // call is joined as a table-valued function (calls with the same arguments share one join, which is
    // PostgreSQL's lockstep expansion) and the call is read from the join.
    const outerSrfs = this.srfJoins;
    const srfs = new Map<
      string,
      { alias: string; name: string; columns: { name: string; type: string }[] }
    >();
    const joins: string[] = [];
    for (const c of s.columns ?? []) {
      for (const call of findCalls(c.expr, (fn) => SELECT_LIST_SRFS.has(fn))) {
        const key = JSON.stringify(call);
        if (srfs.has(key)) continue;
        const fname = call.function.name.toLowerCase();
        const args = call.args.map((a) => this.expr(a, scope));
        const tf = tableFunction(
          fname,
          args.map((a) => a.type),
        )!;
        const alias = `__srf${srfs.size + 1}`;
        srfs.set(key, { alias, name: fname, columns: tf.columns });
        joins.push(`${tableCall(tf, args)} AS ${quoteIdent(alias)}`);
      }
    }
    this.srfJoins = srfs.size ? srfs : null;
    const fromParts = [...from, ...joins.map((j, i) => (from.length || i ? `, ${j}` : j))];
    const fromSql = fromParts.length ? ` FROM ${fromParts.join(' ')}` : '';
    const cols: OutColumn[] = [];
    const items: string[] = [];
    for (const c of s.columns ?? []) {
      const e = c.expr;
      if (e.type === 'ref' && e.name === '*') {
        const tables = e.table ? scope.tables.filter((t) => t.alias === e.table!.name) : scope.tables;
        if (e.table && !tables.length)
          throw err('42P01', `missing FROM-clause entry for table "${e.table.name}"`);
        items.push(e.table ? `${quoteIdent(e.table.name)}.*` : '*');
        for (const t of tables)
          for (const col of t.columns) cols.push({ name: col.name, type: col.type, star: true });
        continue;
      }
      const t = this.expr(e, scope);
      const name = c.alias?.name ?? outputName(e);
      items.push(`${t.sql} AS ${quoteIdent(name)}`);
      cols.push({ name, type: t.type === 'unknown' ? 'text' : t.type });
    }
    // PostgreSQL allows an empty select list (rows of no columns); SQLite needs one column, which the reader
    // drops again (Translation.columns is empty).
    if (!items.length) items.push('NULL');
    let sql = 'SELECT ';
    if (s.distinct === 'distinct') sql += 'DISTINCT ';
    else if (Array.isArray(s.distinct)) throw err('0A000', 'SELECT DISTINCT ON is not supported');
    sql += items.join(', ') + fromSql;
    if (s.where) sql += ` WHERE ${this.bool(s.where, scope)}`;
    if (s.groupBy?.length)
      sql += ` GROUP BY ${s.groupBy.map((g) => this.groupOrOrderExpr(g, scope, cols)).join(', ')}`;
    if (s.having) sql += ` HAVING ${this.bool(s.having, scope)}`;
    if (s.orderBy?.length) sql += ` ORDER BY ${this.orderBy(s.orderBy, scope, cols)}`;
    sql += this.limit(s.limit, scope);
    this.srfJoins = outerSrfs;
    return { sql, columns: cols };
  }

  /** GROUP BY / ORDER BY may name an output column alias or position, which SQLite resolves too. */
  private groupOrOrderExpr(e: A.Expr, scope: Scope, cols: OutColumn[]): string {
    if (
      e.type === 'ref' &&
      !e.table &&
      cols.some((c) => c.name === e.name) &&
      !this.findColumn(scope, null, e.name, false)
    ) {
      return quoteIdent(e.name);
    }
    return this.expr(e, scope).sql;
  }

  private orderBy(items: A.OrderByStatement[], scope: Scope, cols: OutColumn[]): string {
    return items
      .map((o) => {
        const dir = o.order ?? 'ASC';
        // PostgreSQL sorts NULLs as larger than any value; SQLite as smaller.
        const nulls = o.nulls ?? (dir === 'DESC' ? 'FIRST' : 'LAST');
        return `${this.groupOrOrderExpr(o.by, scope, cols)} ${dir} NULLS ${nulls}`;
      })
      .join(', ');
  }

  private limit(l: A.LimitStatement | null | undefined, scope: Scope): string {
    if (!l) return '';
    const lim = l.limit ? this.limitValue(l.limit, scope, 'LIMIT') : '-1';
    const off = l.offset ? ` OFFSET ${this.limitValue(l.offset, scope, 'OFFSET')}` : '';
    return ` LIMIT ${lim}${off}`;
  }

  /** A LIMIT or OFFSET value as bigint, as PostgreSQL coerces it (SQLite wants an integer there). */
  private limitValue(e: A.Expr, scope: Scope, clause: string): string {
    const v = this.typedParam(e, scope, 'int8');
    if (v.type && v.type !== 'unknown' && !isNumericType(v.type) && !isIntegerType(v.type))
      throw err('42804', `argument of ${clause} must be type bigint, not type ${v.type}`);
    return `pg_limit_value(${castSql(v, 'int8')}, ${quoteLit(clause)})`;
  }

  private fromItem(f: A.From, scope: Scope, first: boolean): string {
    let sql: string;
    let alias: string;
    if (f.type === 'table') {
      const { name, schema } = f.name;
      alias = f.name.alias ?? name;
      const cte = !schema ? scope.ctes.get(name) : undefined;
      if (cte) {
        sql = quoteIdent(name);
        scope.tables.push({ alias, columns: cte.columns });
      } else {
        const rel = this.relation(schema, name);
        sql = rel.sqlite;
        scope.tables.push({
          alias,
          columns: rel.columns.map((c) => ({ name: c.name, type: c.type })),
          oid: rel.oid,
        });
      }
      sql += ` AS ${quoteIdent(alias)}`;
    } else if (f.type === 'statement') {
      const inner = this.statement(f.statement, {
        tables: [],
        ctes: scope.ctes,
        parent: f.lateral ? scope : scope.parent,
      });
      alias = f.alias;
      const cols = f.columnNames?.length
        ? inner.columns.map((c, i) => ({ name: f.columnNames![i]?.name ?? c.name, type: c.type }))
        : inner.columns;
      sql = f.columnNames?.length
        ? `(SELECT ${inner.columns.map((_, i) => `column${i + 1}`).join(', ')} FROM (${inner.sql}))`
        : `(${inner.sql})`;
      if (f.columnNames?.length) {
        // Rename positionally: wrap once more, naming each column.
        sql = `(SELECT ${cols.map((c, i) => `${quoteIdent(inner.columns[i].name)} AS ${quoteIdent(c.name)}`).join(', ')} FROM (${inner.sql}))`;
      }
      sql += ` AS ${quoteIdent(alias)}`;
      scope.tables.push({ alias, columns: cols.map((c) => ({ name: c.name, type: c.type })) });
    } else if (f.type === 'call') {
      const fname = f.function.name.toLowerCase();
      alias = f.alias?.name ?? fname;
      const args = f.args.map((a) => this.expr(a, scope));
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
        sql = `(SELECT ${def.sql(
          args.map((a) => a.sql),
          args.map((a) => a.type),
          false,
        )} AS ${quoteIdent(col)}) AS ${quoteIdent(alias)}`;
        scope.tables.push({ alias, columns: [{ name: col, type }] });
        if (first || !f.join) return first ? sql : `, ${sql}`;
        return ` ${f.join.type} ${sql}${f.join.on ? ` ON ${this.bool(f.join.on, scope)}` : ''}`;
      }
      const names =
        f.alias?.columns?.map((c) => c.name) ??
        (tf.columns.length === 1 ? [alias] : tf.columns.map((c) => c.name));
      // WITH ORDINALITY numbers the rows from 1 in the function's order: the virtual table's rowid.
      const cols = [
        ...tf.columns.map((c) => ({ sql: quoteIdent(c.name), type: c.type, name: c.name })),
        ...(f.withOrdinality ? [{ sql: 'rowid', type: 'int8', name: 'ordinality' }] : []),
      ];
      sql = `(SELECT ${cols.map((c, i) => `${c.sql} AS ${quoteIdent(names[i] ?? c.name)}`).join(', ')} FROM ${tableCall(tf, args)}) AS ${quoteIdent(alias)}`;
      scope.tables.push({
        alias,
        columns: cols.map((c, i) => ({ name: names[i] ?? c.name, type: c.type })),
      });
    } else {
      throw err('0A000', `unsupported FROM item`);
    }
    if (first || !f.join) return first ? sql : `, ${sql}`;
    const j = f.join;
    let out = ` ${j.type} ${sql}`;
    if (j.on) out += ` ON ${this.bool(j.on, scope)}`;
    if (j.using?.length) out += ` USING (${j.using.map((u) => quoteIdent(u.name)).join(', ')})`;
    return out;
  }

  private relation(schema: string | undefined, name: string): RelationDef {
    const rel = this.registry.lookup(schema ?? null, name);
    if (!rel) {
      if ((!schema || schema === 'public') && this.registry.isUserTable(name)) {
        throw err(
          '0A000',
          `table "${name}" holds segment data, which is read with COPY, not SELECT`,
          `COPY ${name} TO STDOUT (in psql: \\copy ${name} to 'file' with (format binary)); its size and groups are in sys.tables.`,
        );
      }
      const full = schema ? `${schema}.${name}` : name;
      const hint =
        !schema && this.registry.lookup('sys', name)
          ? `The system tables live in schema sys: try sys.${name}.`
          : undefined;
      throw err('42P01', `relation "${full}" does not exist`, hint);
    }
    return rel;
  }

  // ---------- expressions ----------

  private bool(e: A.Expr, scope: Scope): string {
    return this.expr(e, scope).sql;
  }

  private findColumn(
    scope: Scope,
    table: string | null,
    name: string,
    deep = true,
  ): { type: string | null; alias: string; sql?: string } | null {
    for (let s: Scope | null = scope; s; s = deep ? s.parent : null) {
      for (const t of s.tables) {
        if (table && t.alias !== table) continue;
        const c = t.columns.find((x) => x.name === name);
        if (c) return { type: c.type, alias: t.alias };
        // Every row of a relation has the system column tableoid: the OID of the relation it is in.
        if (name === 'tableoid' && t.oid !== undefined)
          return { type: 'oid', alias: t.alias, sql: String(t.oid) };
      }
      if (!deep) break;
    }
    return null;
  }

  private typedParam(e: A.Expr, scope: Scope, want: string | null): Typed {
    if (e.type === 'parameter') {
      const idx = +e.name.slice(1) - 1;
      if (want && !this.params[idx]) this.params[idx] = want;
      if (this.params[idx] === undefined) this.params[idx] = null;
      return { sql: `?${idx + 1}`, type: this.params[idx] ?? want };
    }
    return this.expr(e, scope);
  }

  expr(e: A.Expr, scope: Scope): Typed {
    switch (e.type) {
      case 'ref': {
        if (e.name === '*') return { sql: '*', type: null };
        const table = e.table?.name ?? null;
        const found = this.findColumn(scope, table, e.name);
        if (!found) {
          if (table && !this.findTable(scope, table))
            throw err('42P01', `missing FROM-clause entry for table "${table}"`);
          throw err('42703', `column "${table ? table + '.' : ''}${e.name}" does not exist`);
        }
        return { sql: found.sql ?? `${quoteIdent(found.alias)}.${quoteIdent(e.name)}`, type: found.type };
      }
      case 'string':
        return { sql: quoteLit(e.value), type: 'unknown' };
      case 'integer':
        return { sql: String(e.value), type: Math.abs(e.value) > 2147483647 ? 'int8' : 'int4' };
      case 'numeric':
        return { sql: String(e.value), type: 'numeric' };
      case 'boolean':
        return { sql: e.value ? '1' : '0', type: 'bool' };
      case 'null':
        return { sql: 'NULL', type: null };
      case 'constant':
        return { sql: typeof e.value === 'string' ? quoteLit(e.value) : String(e.value), type: null };
      case 'parameter':
        return this.typedParam(e, scope, null);
      case 'keyword':
        return this.keyword(e.keyword);
      case 'cast':
        return this.cast(e.operand, canonicalType(typeName(e.to)) ?? 'text', scope);
      case 'unary':
        return this.unary(e, scope);
      case 'binary':
        return this.binary(e, scope);
      case 'ternary': {
        const v = this.expr(e.value, scope);
        const lo = this.typedParam(e.lo, scope, v.type);
        const hi = this.typedParam(e.hi, scope, v.type);
        return { sql: `(${v.sql} ${e.op} ${lo.sql} AND ${hi.sql})`, type: 'bool' };
      }
      case 'case': {
        const value = e.value ? this.expr(e.value, scope) : null;
        let type: string | null = null;
        const whens = e.whens.map((w) => {
          const cond = value ? this.typedParam(w.when, scope, value.type).sql : this.bool(w.when, scope);
          const r = this.expr(w.value, scope);
          if (!type || type === 'unknown') type = r.type;
          return `WHEN ${cond} THEN ${r.sql}`;
        });
        let elseSql = '';
        if (e.else) {
          const r = this.expr(e.else, scope);
          if (!type || type === 'unknown') type = r.type;
          elseSql = ` ELSE ${r.sql}`;
        }
        return {
          sql: `(CASE ${value ? value.sql + ' ' : ''}${whens.join(' ')}${elseSql} END)`,
          type: type === 'unknown' ? 'text' : type,
        };
      }
      case 'call':
        return this.call(e, scope);
      case 'select':
      case 'union':
      case 'union all':
      case 'with':
      case 'values': {
        const inner = this.statement(e, { tables: [], ctes: scope.ctes, parent: scope });
        return { sql: `(${inner.sql})`, type: inner.columns[0]?.type ?? null };
      }
      case 'list':
        return { sql: `(${e.expressions.map((x) => this.expr(x, scope).sql).join(', ')})`, type: null };
      case 'array': {
        const items = e.expressions.map((x) => this.expr(x, scope));
        const known = items.filter((i) => i.type && i.type !== 'unknown');
        const elem = known[0]?.type ?? 'text';
        // PostgreSQL's select_common_type: elements of different type categories cannot share an array.
        const other = known.find((i) => typeCategory(i.type as string) !== typeCategory(elem));
        if (other) throw err('42804', `ARRAY types ${elem} and ${other.type} cannot be matched`);
        const sqlOf = (i: Typed) => (i.type === 'unknown' && elem !== 'text' ? castSql(i, elem) : i.sql);
        return { sql: `pg_array(${items.map(sqlOf).join(', ')})`, type: '_' + elem.replace(/^_/, '') };
      }
      case 'array select': {
        const inner = this.statement(e.select, { tables: [], ctes: scope.ctes, parent: scope });
        const col = inner.columns[0];
        return {
          sql: `(SELECT pg_array_agg(${quoteIdent(col.name)}) FROM (${inner.sql}))`,
          type: '_' + (col.type ?? 'text').replace(/^_/, ''),
        };
      }
      case 'arrayIndex': {
        const arr = this.expr(e.array, scope);
        const idx = this.typedParam(e.index, scope, 'int4');
        // pg_array_get counts from 1; int2vector and oidvector are subscripted from 0
        const at = lowerBound(arr.type) === 1 ? idx.sql : `(${idx.sql}) + 1`;
        return { sql: `pg_array_get(${arr.sql}, ${at})`, type: elementType(arr.type) };
      }
      case 'extract': {
        const from = this.expr(e.from, scope);
        return { sql: `pg_extract(${quoteLit(e.field.name)}, ${from.sql})`, type: 'numeric' };
      }
      case 'substring': {
        const v = this.expr(e.value, scope);
        const from = e.from ? this.typedParam(e.from, scope, 'int4').sql : '1';
        const len = e.for ? `, ${this.typedParam(e.for, scope, 'int4').sql}` : '';
        return { sql: `pg_substr(${v.sql}, ${from}${len})`, type: 'text' };
      }
      case 'member': {
        const op = e.op === '->>' ? '->>' : '->';
        const v = this.expr(e.operand, scope);
        const key = typeof e.member === 'number' ? `'$[${e.member}]'` : quoteLit(`$.${e.member}`);
        // ->> gives JSON scalars as PostgreSQL prints them (true, not SQLite's 1)
        if (op === '->>') return { sql: `pg_json_text(${v.sql} -> ${key})`, type: 'text' };
        return { sql: `(${v.sql} -> ${key})`, type: 'json' };
      }
      default:
        throw err('0A000', `expression of type ${(e as { type: string }).type} is not supported`);
    }
  }

  private findTable(scope: Scope, alias: string): boolean {
    for (let s: Scope | null = scope; s; s = s.parent)
      if (s.tables.some((t) => t.alias === alias)) return true;
    return false;
  }

  private keyword(k: string): Typed {
    switch (k) {
      case 'current_user':
      case 'session_user':
      case 'user':
      case 'current_role':
        return { sql: 'pg_current_user()', type: 'name' };
      case 'current_schema':
        return { sql: "'public'", type: 'name' };
      case 'current_catalog':
        return { sql: 'pg_current_database()', type: 'name' };
      case 'current_timestamp':
      case 'localtimestamp':
        return { sql: 'pg_now()', type: 'timestamptz' };
      case 'current_date':
        return { sql: "date('now')", type: 'date' };
      case 'current_time':
      case 'localtime':
        return { sql: "time('now')", type: 'time' };
      default:
        return { sql: 'NULL', type: null };
    }
  }

  private cast(operand: A.Expr, to: string, scope: Scope): Typed {
    const v = this.typedParam(operand, scope, to);
    // A parameter arrives as its text (or decoded) value: it still needs the conversion the cast implies.
    const source = operand.type === 'parameter' ? { ...v, type: 'unknown' } : v;
    // An array is made from an array or from text (array input); PostgreSQL has no cast from another scalar.
    const scalar =
      source.type &&
      !source.type.startsWith('_') &&
      !['unknown', 'text', 'varchar', 'name', 'int2vector', 'oidvector'].includes(source.type);
    if (to.startsWith('_') && scalar) throw err('42846', `cannot cast type ${source.type} to ${to}`);
    return { sql: castSql(source, to), type: to };
  }

  private unary(e: A.ExprUnary, scope: Scope): Typed {
    const v = this.typedParam(e.operand, scope, e.op === 'NOT' || e.op.startsWith('IS') ? 'bool' : null);
    return unaryOperator(e.op, v);
  }

  private binary(e: A.ExprBinary, scope: Scope): Typed {
    const op = e.op as string;
    // x = ANY(array | subquery), x <> ALL(...)
    if (
      e.right.type === 'call' &&
      ['any', 'some', 'all'].includes(e.right.function.name.toLowerCase()) &&
      !e.right.function.schema
    ) {
      const l = this.expr(e.left, scope);
      const fn = e.right.function.name.toLowerCase();
      const arg = e.right.args[0];
      let set: string;
      let arrayIsNull: string | null = null;
      if (isQuery(arg)) {
        const inner = this.statement(arg, { tables: [], ctes: scope.ctes, parent: scope });
        set = `(SELECT ${quoteIdent(inner.columns[0]?.name ?? 'value')} AS value FROM (${inner.sql}))`;
      } else {
        const arr = this.typedParam(arg, scope, l.type ? '_' + l.type.replace(/^_/, '') : '_text');
        // Elements come out of an array as text: those of a numeric array are numbers again.
        const et = elementType(arr.type);
        const elem = isIntegerType(et)
          ? "pg_to_int(value, 'int8')"
          : isNumericType(et)
            ? 'pg_to_float(value)'
            : 'value';
        set = `(SELECT ${elem} AS value FROM pg_array_each(${arr.sql}))`;
        arrayIsNull = arr.sql;
      }
      let sql: string;
      if (op === '=' && fn !== 'all') sql = `(${l.sql} IN ${set})`;
      else if ((op === '<>' || op === '!=') && fn === 'all') sql = `(${l.sql} NOT IN ${set})`;
      else {
        const quant = fn === 'all' ? 'NOT EXISTS' : 'EXISTS';
        const cmp = fn === 'all' ? negateOp(op) : op;
        sql = `(${quant} (SELECT 1 FROM ${set} AS q WHERE ${l.sql} ${cmp} q.value))`;
      }
      // x = ANY (NULL::array) is NULL, not false
      if (arrayIsNull) sql = `(CASE WHEN ${arrayIsNull} IS NULL THEN NULL ELSE ${sql} END)`;
      return { sql, type: 'bool' };
    }
    if (op === 'IN' || op === 'NOT IN') {
      if (e.left.type === 'list' && !isQuery(e.right)) {
        // A row compared with scalars: PostgreSQL reads an untyped literal as a record it cannot parse.
        const items = e.right.type === 'list' ? e.right.expressions : [e.right];
        const scalar = items.find((x) => x.type !== 'list');
        if (scalar?.type === 'string')
          throw err('0A000', 'input of anonymous composite types is not implemented');
        if (scalar)
          throw err(
            '42883',
            `operator does not exist: record = ${this.expr(scalar, scope).type ?? 'unknown'}`,
          );
      }
      const l = this.expr(e.left, scope);
      let r: string;
      if (e.right.type === 'list')
        r = `(${e.right.expressions.map((x) => this.typedParam(x, scope, l.type).sql).join(', ')})`;
      else if (isQuery(e.right)) r = this.expr(e.right, scope).sql;
      // A one-element list `IN (x)` is parsed as the bare element: it stays a list, or SQLite would read
      // `IN 'x'` / `IN x` as its `IN table` form.
      else r = `(${this.typedParam(e.right, scope, l.type).sql})`;
      return { sql: `(${l.sql} ${op} ${r})`, type: 'bool' };
    }
    // A parameter takes the type of the other operand of a comparison or arithmetic; with || it is text.
    const sameType = operandsShareType(op);
    const want = (t: string | null) => (!sameType || t === 'unknown' || t === null ? 'text' : t);
    let l = this.expr(e.left, scope);
    const r =
      e.right.type === 'parameter'
        ? this.typedParam(e.right, scope, want(l.type))
        : this.expr(e.right, scope);
    if (e.left.type === 'parameter' && !this.params[+e.left.name.slice(1) - 1] && r.type) {
      l = this.typedParam(e.left, scope, want(r.type));
    }
    return binaryOperator(op, l, r);
  }

  private call(e: A.ExprCall, scope: Scope): Typed {
    const name = e.function.name.toLowerCase();
    if (e.function.schema && !['pg_catalog', 'information_schema'].includes(e.function.schema)) {
      throw err('42883', `function ${e.function.schema}.${name}() does not exist`);
    }
    if (name === 'exists') {
      const inner = this.expr(e.args[0], scope);
      return { sql: `EXISTS ${inner.sql}`, type: 'bool' };
    }
    const srf = this.srfJoins?.get(JSON.stringify(e));
    if (srf) {
      const a = quoteIdent(srf.alias);
      if (srf.columns.length === 1)
        return { sql: `${a}.${quoteIdent(srf.columns[0].name)}`, type: srf.columns[0].type };
      // a composite: read with (expr).field, i.e. pg_field()
      return {
        sql: `json_object(${srf.columns.map((c) => `'${c.name}', ${a}.${quoteIdent(c.name)}`).join(', ')})`,
        type: 'record',
      };
    }
    const def: FnDef | undefined = FUNCTIONS[name];
    if (!def)
      throw err(
        '42883',
        `function ${name}() does not exist`,
        'No function matches the given name. docs/sql.md lists the functions this server has.',
      );
    const args = e.args.map((a, i) => this.typedParam(a, scope, def.argTypes?.[i] ?? null));
    if (def.minArgs !== undefined && args.length < def.minArgs)
      throw err('42883', `function ${name} needs at least ${def.minArgs} argument(s)`);
    let sql = def.sql(
      args.map((a) => a.sql),
      args.map((a) => a.type),
      !!e.distinct,
    );
    if (e.orderBy?.length) {
      if (!def.aggregate) throw err('42809', `ORDER BY specified, but ${name} is not an aggregate function`);
      // SQLite (3.44+) orders an aggregate's input as PostgreSQL does, inside the call's parentheses
      sql = `${sql.slice(0, -1)} ORDER BY ${this.orderBy(e.orderBy, scope, [])})`;
    }
    if (e.filter) {
      if (!def.aggregate) throw err('42601', `FILTER specified, but ${name} is not an aggregate function`);
      sql = sql.replace(/\)$/, '') + `) FILTER (WHERE ${this.bool(e.filter, scope)})`;
    }
    if (e.over) {
      const parts: string[] = [];
      if (e.over.partitionBy?.length)
        parts.push(`PARTITION BY ${e.over.partitionBy.map((p) => this.expr(p, scope).sql).join(', ')}`);
      if (e.over.orderBy?.length) parts.push(`ORDER BY ${this.orderBy(e.over.orderBy, scope, [])}`);
      sql += ` OVER (${parts.join(' ')})`;
    }
    return { sql, type: def.returns(args.map((a) => (a.type === 'unknown' ? 'text' : a.type))) };
  }
}

function tableCall(tf: TableFunction, args: Typed[]): string {
  return `${tf.sqlite}(${[...args.map((a) => a.sql), ...(tf.extraArgs ?? [])].join(', ')})`;
}

function isQuery(e: A.Expr): e is A.Expr & A.SelectStatement {
  return ['select', 'union', 'union all', 'with', 'with recursive', 'values'].includes(e.type);
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

function typeName(t: A.DataTypeDef): string {
  if ('kind' in t && t.kind === 'array') return typeName(t.arrayOf) + '[]';
  const b = t as A.BasicDataTypeDef;
  return (b.schema && b.schema !== 'pg_catalog' ? b.schema + '.' : '') + b.name;
}

function elementType(t: string | null): string | null {
  if (t === 'int2vector') return 'int2';
  if (t === 'oidvector') return 'oid';
  return t?.startsWith('_') ? t.slice(1) : null;
}

function mergeColumns(a: OutColumn[], b: OutColumn[]): OutColumn[] {
  return a.map((c, i) => ({
    name: c.name,
    type: c.type && c.type !== 'unknown' ? c.type : (b[i]?.type ?? c.type),
  }));
}

/** The column name PostgreSQL gives an unaliased select item. */
export function outputName(e: A.Expr): string {
  switch (e.type) {
    case 'ref':
      return e.name;
    case 'call':
      return e.function.name.toLowerCase();
    case 'cast':
      if (e.operand.type === 'ref' || e.operand.type === 'call' || e.operand.type === 'cast')
        return outputName(e.operand);
      return canonicalName(typeName(e.to));
    case 'keyword':
      return e.keyword === 'user' ? 'current_user' : e.keyword;
    case 'case':
      return 'case';
    case 'array':
    case 'array select':
      return 'array';
    case 'extract':
      return 'extract';
    case 'select':
      return e.columns?.length === 1 ? outputName(e.columns[0].expr) : '?column?';
    case 'arrayIndex':
      return outputName(e.array);
    case 'substring':
      return 'substring';
    default:
      return '?column?';
  }
}

/** PostgreSQL names a cast column after the type's SQL name (int4 -> int4, integer -> int4, text -> text). */
function canonicalName(t: string): string {
  const c = canonicalType(t) ?? t;
  return c.startsWith('_') ? c.slice(1) : c;
}

/** PostgreSQL's type categories (pg_type.typcategory), as far as they decide whether types can be mixed. */
function typeCategory(t: string): string {
  if (t.startsWith('_') || t === 'int2vector' || t === 'oidvector') return 'A';
  if (isNumericType(t) || t === 'oid' || t.startsWith('reg')) return 'N';
  if (['text', 'varchar', 'name', 'bpchar', 'char'].includes(t)) return 'S';
  if (['date', 'timestamp', 'timestamptz', 'time', 'timetz'].includes(t)) return 'D';
  if (t === 'bool') return 'B';
  return t;
}
