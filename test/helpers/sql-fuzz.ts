// A seeded SQL fuzzer for the catalog query path: statements that mix sys.*, pg_catalog and
// information_schema relations with the constructs the translator claims (joins, subqueries, CTEs, recursive
// CTEs, set operations, window functions, casts, functions, LIMIT/OFFSET, parameters), and now and then a
// reference to one of the catalog's internal SQLite tables in a place a relation goes. For every statement:
// no XX class error, every SQLSTATE well formed, no SQLite wording or internal name in an error, no password
// hash in a result, no statement that names an internal table succeeds, and the server keeps answering.
// Used by test/sql-fuzz.test.ts (a bounded run) and bench/sql-fuzz.ts (a long one).
import type pg from 'pg';
import { rng } from './protocol-fuzz';

export interface Relation {
  name: string;
  columns: string[];
}

export interface SqlFuzzProblem {
  kind:
    | 'internal error'
    | 'bad sqlstate'
    | 'sqlite text'
    | 'internal name'
    | 'secret'
    | 'internal reached'
    | 'hang';
  sql: string;
  detail: string;
}

export interface SqlFuzzStats {
  statements: number;
  ok: number;
  /** SQLSTATEs of the failing statements, with counts. */
  codes: Record<string, number>;
  /** Statements that named an internal table (each must fail). */
  internalProbes: number;
  /** The longest statement, in ms. */
  slowestMs: number;
  problems: SqlFuzzProblem[];
}

/**
 * The catalog's own SQLite tables and SQLite's: never readable by user SQL. The short common words among the
 * catalog's table names (tasks, nodes, tables, users ...) are probed too, unqualified and as main.x / temp.x.
 */
export const INTERNAL_TABLES = [
  'sqlite_master',
  'sqlite_schema',
  'sqlite_temp_master',
  'sqlite_sequence',
  'sqlite_stat1',
  'knex_migrations',
  'knex_migrations_lock',
  'users',
  'user_roles',
  'table_privileges',
  'storage_spaces',
  'clusters',
  'nodes',
  'storage_devices',
  'tables',
  'segment_groups',
  'segments',
  'tasks',
  'subtasks',
  'result_cache',
  'pending_file_removals',
  'task_schedules',
];
/** Internal names distinctive enough that their appearance in an error message means a leak. */
const LEAKY_NAMES = INTERNAL_TABLES.filter((n) => n.includes('_') || n.startsWith('sqlite'));
const SQLITE_WORDING =
  /sqlite|no such (table|column|function)|near "[^"]*": syntax error|incomplete input|SQL logic error|misuse of aggregate|not an error|no such module|unrecognized token|ambiguous column name|datatype mismatch/i;
const SECRET = /SCRAM-SHA-256\$|^md5[0-9a-f]{32}$/;

const TYPES = [
  'int2',
  'int4',
  'int8',
  'text',
  'varchar',
  'bool',
  'float8',
  'numeric',
  'oid',
  'name',
  'char',
  'regclass',
  'regtype',
  'date',
  'timestamp',
  'timestamptz',
  'interval',
  'json',
  'jsonb',
  'bytea',
  'text[]',
  'int4[]',
];
const LITERALS = [
  "'x'",
  "''",
  '0',
  '1',
  '-1',
  '2147483648',
  '1.5',
  'NULL',
  'true',
  "'2024-01-01'",
  "'1 day'",
  "'{1,2}'",
  "'pg_class'",
  '\'{"a":1}\'',
  "E'\\\\x00'",
  "'9223372036854775808'",
  "'NaN'",
];
const UNARY_FUNCTIONS = [
  'lower',
  'upper',
  'length',
  'md5',
  'abs',
  'round',
  'trim',
  'reverse',
  'quote_ident',
  'pg_typeof',
  'format_type',
  'pg_get_userbyid',
  'obj_description',
  'to_regclass',
  'array_length',
  'char_length',
  'octet_length',
  'initcap',
  'sign',
  'floor',
  'ceil',
  'sqrt',
  'exp',
  'ln',
  'date_trunc',
  'to_json',
  'jsonb_typeof',
  'pg_size_pretty',
  'pg_table_is_visible',
  'has_table_privilege',
  'text',
  'col_description',
  'pg_get_expr',
  'unnest',
  'array_to_string',
];
const NULLARY = [
  'now()',
  'current_user',
  'session_user',
  'current_database()',
  'current_schema()',
  'version()',
  'pg_backend_pid()',
  'current_timestamp',
  'random()',
  'pg_postmaster_start_time()',
  'current_schemas(true)',
];
const AGGREGATES = [
  'count(*)',
  'count',
  'max',
  'min',
  'sum',
  'avg',
  'string_agg',
  'array_agg',
  'bool_and',
  'json_agg',
  'every',
];
const WINDOWS = ['row_number()', 'rank()', 'dense_rank()', 'lag', 'lead', 'first_value', 'count(*)', 'sum'];
const OPERATORS = [
  '=',
  '<>',
  '<',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '||',
  'LIKE',
  'ILIKE',
  '~',
  '!~',
  'IS DISTINCT FROM',
  '@>',
  '&&',
  '->',
  '->>',
];

interface Scope {
  /** Columns visible: alias.name. */
  columns: string[];
  /** CTE names defined around this query. */
  ctes: Relation[];
}

class Generator {
  params = 0;
  internal = false;

  constructor(
    private readonly r: () => number,
    private readonly relations: Relation[],
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  /** One of the alternatives, only that one evaluated (a literal may take a parameter number). */
  private oneOf(...alternatives: (() => string)[]): string {
    return this.pick(alternatives)();
  }
  private chance(p: number): boolean {
    return this.r() < p;
  }
  private int(max: number): number {
    return Math.floor(this.r() * max);
  }

  /** A relation in FROM: a catalog relation mostly, an internal table rarely. */
  private relation(scope: Scope): { sql: string; columns: string[] } {
    if (this.chance(0.06)) {
      this.internal = true;
      const name = this.pick(INTERNAL_TABLES);
      const form = this.pick([
        name,
        `main.${name}`,
        `temp.${name}`,
        `"${name}"`,
        `public.${name}`,
        `MAIN.${name}`,
        `"main"."${name}"`,
      ]);
      return { sql: form, columns: ['name', 'id', 'sql', 'password_hash', 'rolname'] };
    }
    if (scope.ctes.length && this.chance(0.3)) {
      const c = this.pick(scope.ctes);
      return { sql: c.name, columns: c.columns };
    }
    const rel = this.pick(this.relations);
    return { sql: rel.name, columns: rel.columns };
  }

  private literal(): string {
    if (this.chance(0.15)) {
      this.params++;
      return `$${this.params}${this.chance(0.5) ? `::${this.pick(TYPES)}` : ''}`;
    }
    return this.pick(LITERALS);
  }

  private column(scope: Scope): string {
    return scope.columns.length ? this.pick(scope.columns) : this.literal();
  }

  expr(scope: Scope, depth: number): string {
    const leaf = () => (this.chance(0.6) ? this.column(scope) : this.literal());
    if (depth <= 0) return leaf();
    switch (this.int(14)) {
      case 0:
        return `${this.expr(scope, depth - 1)}::${this.pick(TYPES)}`;
      case 1:
        return `CAST(${this.expr(scope, depth - 1)} AS ${this.pick(TYPES)})`;
      case 2:
        return `${this.pick(UNARY_FUNCTIONS)}(${this.expr(scope, depth - 1)})`;
      case 3:
        return this.pick(NULLARY);
      case 4:
        return `(${this.expr(scope, depth - 1)} ${this.pick(OPERATORS)} ${this.expr(scope, depth - 1)})`;
      case 5:
        return `CASE WHEN ${this.cond(scope, depth - 1)} THEN ${this.expr(scope, depth - 1)} ELSE ${this.expr(scope, depth - 1)} END`;
      case 6:
        return `coalesce(${this.expr(scope, depth - 1)}, ${this.expr(scope, depth - 1)})`;
      case 7:
        return `(${this.query(depth - 1, scope.ctes, 1)})`;
      case 8:
        return `substr(${this.expr(scope, depth - 1)}, ${this.int(4)}, ${this.int(10)})`;
      case 9:
        return `concat(${this.expr(scope, depth - 1)}, ${this.expr(scope, depth - 1)})`;
      case 10:
        return `nullif(${this.expr(scope, depth - 1)}, ${this.literal()})`;
      case 11:
        return `ARRAY[${this.expr(scope, depth - 1)}, ${this.expr(scope, depth - 1)}]`;
      case 12:
        return `${this.pick(['split_part', 'regexp_replace', 'replace', 'translate'])}(${this.expr(scope, depth - 1)}, ${this.literal()}, ${this.literal()})`;
      default:
        return leaf();
    }
  }

  cond(scope: Scope, depth: number): string {
    switch (this.int(8)) {
      case 0:
        return `${this.expr(scope, depth)} IS ${this.chance(0.5) ? 'NOT ' : ''}NULL`;
      case 1:
        return `${this.expr(scope, depth)} IN (${this.literal()}${this.chance(0.5) ? `, ${this.literal()}` : ''})`;
      case 2:
        return `${this.expr(scope, depth)} IN (${this.query(depth - 1, scope.ctes, 1)})`;
      case 3:
        return `${this.chance(0.5) ? 'NOT ' : ''}EXISTS (${this.query(depth - 1, scope.ctes)})`;
      case 4:
        return `${this.cond(scope, depth - 1)} ${this.pick(['AND', 'OR'])} ${this.cond(scope, depth - 1)}`;
      case 5:
        return `${this.expr(scope, depth)} BETWEEN ${this.literal()} AND ${this.literal()}`;
      case 6:
        return `${this.expr(scope, depth)} = ANY (${this.oneOf(
          () => "'{1,2}'::int[]",
          () => 'ARRAY[1,2]',
          () => this.literal(),
        )})`;
      default:
        return `${this.expr(scope, depth)} ${this.pick(['=', '<>', '<', '>', 'LIKE', '~'])} ${this.expr(scope, depth)}`;
    }
  }

  /** A FROM item, with the columns it adds to the scope. */
  private fromItem(depth: number, ctes: Relation[], alias: string): { sql: string; columns: string[] } {
    const pickCols = (cols: string[]) => cols.map((c) => `${alias}.${c}`);
    const kind = this.int(10);
    if (kind < 6 || depth <= 0) {
      const rel = this.relation({ columns: [], ctes });
      return { sql: `${rel.sql} ${alias}`, columns: pickCols(rel.columns.slice(0, 8)) };
    }
    if (kind < 8) {
      const width = 1 + this.int(3);
      return { sql: `(${this.query(depth - 1, ctes, width)}) ${alias}`, columns: pickCols(range(width)) };
    }
    if (kind < 9)
      return { sql: `generate_series(1, ${this.int(50)}) ${alias}(c1)`, columns: [`${alias}.c1`] };
    return {
      sql: `(VALUES (1, 'a'), (2, ${this.literal()})) ${alias}(c1, c2)`,
      columns: pickCols(['c1', 'c2']),
    };
  }

  /** One SELECT with `width` output columns c1.. (any width when undefined). */
  select(depth: number, ctes: Relation[], width?: number): string {
    const items: string[] = [];
    const from: string[] = [];
    const scope: Scope = { columns: [], ctes };
    if (!this.chance(0.08)) {
      const first = this.fromItem(depth, ctes, 't0');
      from.push(first.sql);
      scope.columns.push(...first.columns);
      const joins = this.int(depth > 0 ? 3 : 2);
      for (let j = 1; j <= joins; j++) {
        const item = this.fromItem(depth - 1, ctes, `t${j}`);
        const kind = this.pick([
          'JOIN',
          'LEFT JOIN',
          'RIGHT JOIN',
          'FULL JOIN',
          'CROSS JOIN',
          ',',
          'LEFT OUTER JOIN',
        ]);
        scope.columns.push(...item.columns);
        if (kind === ',' || kind === 'CROSS JOIN')
          from.push(`${kind === ',' ? ', ' : ' CROSS JOIN '}${item.sql}`);
        else from.push(` ${kind} ${item.sql} ON ${this.cond(scope, 1)}`);
      }
    }
    const n = width ?? 1 + this.int(4);
    const grouped = this.chance(0.15);
    for (let i = 0; i < n; i++) {
      let e: string;
      const k = this.int(10);
      if (k === 0) {
        const agg = this.pick(AGGREGATES);
        e = agg === 'count(*)' ? agg : `${agg}(${this.expr(scope, 1)}${agg === 'string_agg' ? ", ','" : ''})`;
      } else if (k === 1) {
        const w = this.pick(WINDOWS);
        const call = w.endsWith(')') ? w : `${w}(${this.expr(scope, 0)})`;
        const part = this.chance(0.5) ? `PARTITION BY ${this.column(scope)} ` : '';
        e = `${call} OVER (${part}ORDER BY ${this.column(scope)})`;
      } else e = this.expr(scope, depth > 0 ? 2 : 0);
      items.push(`${e} AS c${i + 1}`);
    }
    let sql = `SELECT ${this.chance(0.1) ? 'DISTINCT ' : ''}${items.join(', ')}`;
    if (from.length) sql += ` FROM ${from.join('')}`;
    if (this.chance(0.5)) sql += ` WHERE ${this.cond(scope, depth > 0 ? 2 : 0)}`;
    if (grouped) sql += ` GROUP BY 1${this.chance(0.3) ? ` HAVING count(*) > ${this.int(3)}` : ''}`;
    if (this.chance(0.4)) sql += ` ORDER BY ${1 + this.int(n)}${this.chance(0.3) ? ' DESC NULLS LAST' : ''}`;
    if (this.chance(0.5))
      sql += ` LIMIT ${this.oneOf(
        () => '1',
        () => '5',
        () => '100',
        () => this.literal(),
      )}`;
    if (this.chance(0.2))
      sql += ` OFFSET ${this.oneOf(
        () => '0',
        () => '3',
        () => this.literal(),
      )}`;
    return sql;
  }

  query(depth: number, ctes: Relation[], width?: number): string {
    const w = width ?? 1 + this.int(3);
    const k = depth <= 0 ? 9 : this.int(10);
    if (k === 0) {
      const name = `cte${this.int(100)}`;
      const inner = this.query(depth - 1, ctes, w);
      const cte: Relation = { name, columns: range(w) };
      return `WITH ${name} AS (${inner}) ${this.query(depth - 1, [...ctes, cte], w)}`;
    }
    if (k === 1) {
      const name = `r${this.int(100)}`;
      const limit = this.int(20);
      return `WITH RECURSIVE ${name}(c1) AS (SELECT 1 UNION ALL SELECT c1 + 1 FROM ${name} WHERE c1 < ${limit}) SELECT ${name}.c1${range(
        w,
      )
        .slice(1)
        .map((c) => `, ${this.literal()} AS ${c}`)
        .join('')} FROM ${name}${this.chance(0.5) ? ` LIMIT ${limit}` : ''}`;
    }
    if (k === 2) {
      const op = this.pick(['UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT', 'EXCEPT ALL']);
      return `${this.wrapped(depth - 1, ctes, w)} ${op} ${this.wrapped(depth - 1, ctes, w)}`;
    }
    if (k === 3)
      return `VALUES ${['(', '(']
        .map(
          () =>
            `(${range(w)
              .map(() => this.literal())
              .join(', ')})`,
        )
        .join(', ')}`;
    return this.select(depth, ctes, w);
  }

  private wrapped(depth: number, ctes: Relation[], w: number): string {
    return this.chance(0.5) ? `(${this.select(depth, ctes, w)})` : this.select(depth, ctes, w);
  }

  /** A whole statement: its text and the number of parameters it uses. */
  statement(): { sql: string; params: number; internal: boolean } {
    this.params = 0;
    this.internal = false;
    const top = this.chance(0.05)
      ? `TABLE ${this.relation({ columns: [], ctes: [] }).sql}`
      : this.query(2, []);
    return { sql: top, params: this.params, internal: this.internal };
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => `c${i + 1}`);

const PARAM_VALUES = ['1', 'x', '', '2024-01-01', '{1,2}', 'pg_class', '-5', 'true', '1 day', null];

/** The catalog relations a client may name, with their columns (read through the server itself). */
export async function catalogRelations(client: pg.Client): Promise<Relation[]> {
  const rels = await client.query(
    "SELECT n.nspname || '.' || c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('sys', 'pg_catalog', 'information_schema') AND c.relkind IN ('r', 'v') ORDER BY 1",
  );
  const out: Relation[] = [];
  for (const { name } of rels.rows as { name: string }[]) {
    const r = await client.query(`SELECT * FROM ${name} LIMIT 0`).catch(() => null);
    if (r)
      out.push({ name, columns: r.fields.map((f) => f.name).filter((c) => /^[a-z_][a-z0-9_]*$/.test(c)) });
  }
  return out;
}

export interface SqlFuzzOptions {
  /** Stop after this many statements ... */
  statements?: number;
  /** ... or at this time (ms since the epoch), whichever comes first. */
  untilMs?: number;
  /** Called every 50 statements: the server must answer it (a SELECT 1 on another connection). */
  health?: () => Promise<void>;
}

/**
 * Runs the fuzzer on the connections given, one statement at a time on each of them at once (the statements
 * are the seed's, in its order; which connection runs which depends on timing).
 */
export async function fuzzSql(
  clients: pg.Client[],
  relations: Relation[],
  seed: number,
  opts: SqlFuzzOptions,
): Promise<SqlFuzzStats> {
  const r = rng(seed);
  const gen = new Generator(r, relations);
  const stats: SqlFuzzStats = {
    statements: 0,
    ok: 0,
    codes: {},
    internalProbes: 0,
    slowestMs: 0,
    problems: [],
  };
  const problem = (kind: SqlFuzzProblem['kind'], sql: string, detail: string) => {
    if (stats.problems.length < 200) stats.problems.push({ kind, sql, detail });
  };
  const max = opts.statements ?? Number.POSITIVE_INFINITY;
  let hung = false;
  let health = Promise.resolve();
  const more = () => !hung && stats.statements < max && (!opts.untilMs || Date.now() < opts.untilMs);
  const runOn = async (client: pg.Client) => {
    while (more()) {
      const { sql, params, internal } = gen.statement();
      const values = Array.from(
        { length: params },
        () => PARAM_VALUES[Math.floor(r() * PARAM_VALUES.length)],
      );
      stats.statements++;
      if (internal) stats.internalProbes++;
      if (opts.health && stats.statements % 50 === 0) health = health.then(opts.health);
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), 15_000);
      });
      try {
        const result = await Promise.race([params ? client.query(sql, values) : client.query(sql), hang]);
        if (result === 'hang') {
          problem('hang', sql, 'no answer in 15 s');
          hung = true;
          return;
        }
        stats.ok++;
        if (internal) problem('internal reached', sql, `answered ${result.rowCount} rows`);
        for (const row of result.rows as Record<string, unknown>[])
          for (const v of Object.values(row))
            if (typeof v === 'string' && SECRET.test(v)) problem('secret', sql, v.slice(0, 40));
      } catch (e) {
        const err = e as { code?: string; message: string };
        const code = err.code ?? 'none';
        stats.codes[code] = (stats.codes[code] ?? 0) + 1;
        if (!/^[0-9A-Z]{5}$/.test(code)) problem('bad sqlstate', sql, `${code}: ${err.message}`);
        else if (code.startsWith('XX')) problem('internal error', sql, `${code}: ${err.message}`);
        if (SQLITE_WORDING.test(err.message) && !/sqlite/i.test(sql))
          problem('sqlite text', sql, err.message);
        for (const n of LEAKY_NAMES)
          if (err.message.toLowerCase().includes(n) && !sql.toLowerCase().includes(n))
            problem('internal name', sql, err.message);
      } finally {
        clearTimeout(timer);
        stats.slowestMs = Math.max(stats.slowestMs, Math.round(performance.now() - t0));
      }
    }
  };
  await Promise.all(clients.map(runOn));
  await health;
  return stats;
}
