// The catalog as real client tools read it (issue 9), each run as a subprocess against segtasks and against a
// real PostgreSQL 15 holding the same sys tables with the same constraints and rows (the oracle's mirror,
// test/oracle/mirror.ts): pgcli's completion (typed in tmux) and its \d; SQLAlchemy reflection and
// pandas.read_sql_table; DBD::Pg's catalog methods; psqlODBC's SQLTables / SQLColumns / SQLPrimaryKeys /
// SQLForeignKeys through pyodbc (default DSN and UseDeclareFetch=1); pgjdbc's key metadata; drizzle-kit pull. What each prints is compared with what
// it prints against PostgreSQL, and the content is asserted on its own (so that two equally wrong answers fail).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { sysRelations } from '../catalog/schema';
import { PYTHON, run, runJdbcProgram } from './helpers/run';
import { ADMIN_PASSWORD } from './helpers/server';
import { type Mirror, startMirror } from './oracle/mirror';

const CLIENTS = join(__dirname, '..', '..', 'test', 'clients');

interface Target {
  name: 'segtasks' | 'postgresql';
  port: number;
  password: string;
}

let mirror: Mirror;
let targets: Target[];
let home: string;
test.before(async () => {
  mirror = await startMirror();
  targets = [
    { name: 'segtasks', port: mirror.server.port, password: ADMIN_PASSWORD },
    // the mirror's PostgreSQL trusts local connections: any password is accepted
    { name: 'postgresql', port: Number(mirror.theirs.port), password: 'unused' },
  ];
  // pgcli writes its config and history under $HOME
  home = mkdtempSync(join(tmpdir(), 'segtasks-pgcli-'));
});
test.after.always(async () => {
  await mirror?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

const both = <T>(f: (t: Target) => Promise<T>) => Promise.all(targets.map(f));

// ---------- pgcli ----------

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The entries of pgcli's completion menu on screen: "name   kind" pairs. */
function menuEntries(screen: string, kind: string): string[] {
  const re = new RegExp(`^\\s+(\\S+)\\s+${kind}\\s*$`);
  return screen
    .split('\n')
    .map((l) => re.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

/**
 * Types into an interactive pgcli and returns the completion menus it shows: after `SELECT * FROM sys.` (tables)
 * and with the cursor in the select list of `SELECT  FROM sys.tasks` (columns). pgcli loads its completions in
 * a background refresh after connecting, so the typing is repeated until the menu holds the tables.
 */
async function pgcliCompletions(t: Target): Promise<{ tables: string[]; columns: string[] }> {
  const session = `segtasks-pgcli-${process.pid}-${t.name}`;
  const url = `postgresql://admin@127.0.0.1:${t.port}/segtasks`;
  tmux(
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '200',
    '-y',
    '50',
    `env HOME='${home}' PGPASSWORD='${t.password}' pgcli --less-chatty '${url}'`,
  );
  try {
    for (let i = 0; i < 100 && !tmux('capture-pane', '-t', session, '-p').includes('segtasks>'); i++)
      await sleep(100);
    let tables: string[] = [];
    for (let i = 0; i < 60 && !tables.includes('tasks'); i++) {
      tmux('send-keys', '-t', session, 'C-u');
      tmux('send-keys', '-t', session, '-l', 'SELECT * FROM sys.');
      await sleep(500);
      tables = menuEntries(tmux('capture-pane', '-t', session, '-p'), 'table');
    }
    let columns: string[] = [];
    for (let i = 0; i < 40 && !columns.length; i++) {
      // the cursor was left inside the line: to its end, then clear it (C-u deletes only what is before it)
      tmux('send-keys', '-t', session, 'C-e', 'C-u');
      tmux('send-keys', '-t', session, '-l', 'SELECT  FROM sys.tasks');
      tmux('send-keys', '-t', session, 'C-a', ...Array(7).fill('Right'));
      tmux('send-keys', '-t', session, '-l', 'c');
      await sleep(800);
      columns = menuEntries(tmux('capture-pane', '-t', session, '-p'), 'column');
    }
    return { tables, columns };
  } finally {
    tmux('kill-session', '-t', session);
  }
}

test.serial(
  'pgcli completes the sys tables and the columns of a sys table, as against PostgreSQL 15',
  async (t) => {
    // one after the other: two first runs of pgcli under one fresh $HOME race to write its config
    const ours = await pgcliCompletions(targets[0]);
    const theirs = await pgcliCompletions(targets[1]);
    t.deepEqual(ours.tables, [...sysRelations].sort());
    // the menu shows the columns matching "c", fuzzily, ranked by pgcli
    t.true(ours.columns.includes('created_at') && ours.columns.includes('created_by'), ours.columns.join());
    t.deepEqual(ours, theirs);
  },
);

/** pgcli's \d of a table, run from its standard input: the table it prints, prompts and timings dropped. */
async function pgcliDescribe(t: Target, table: string): Promise<string> {
  const r = await run(
    'pgcli',
    ['--less-chatty', '-h', '127.0.0.1', '-p', String(t.port), '-U', 'admin', 'segtasks'],
    { input: `\\d ${table}\n`, env: { HOME: home, PGPASSWORD: t.password }, timeoutMs: 60_000 },
  );
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('+-'));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('Time:'));
  if (start < 0 || end < 0) throw new Error(`pgcli \\d ${table}: ${r.stdout}\n${r.stderr}`);
  return lines.slice(start, end).join('\n');
}

test.serial(
  'pgcli \\d of sys tables: columns, keys, foreign keys and what references the table',
  async (t) => {
    for (const table of ['sys.subtasks', 'sys.tasks', 'sys.segment_groups']) {
      const ours = await pgcliDescribe(targets[0], table);
      const theirs = await pgcliDescribe(targets[1], table);
      t.is(ours, theirs, table);
      if (table === 'sys.subtasks') {
        t.regex(ours, /^\| task_id +\| uuid +\| +not null \|$/m);
        t.regex(ours, /"subtasks_pkey" PRIMARY KEY, btree \(id\)/);
        t.regex(ours, /"subtasks_task_id_fkey" FOREIGN KEY \(task_id\) REFERENCES sys\.tasks\(id\)/);
      }
      if (table === 'sys.segment_groups') t.regex(ours, /Referenced by:/);
    }
  },
);

// ---------- SQLAlchemy and pandas ----------

test('SQLAlchemy reflection of schema sys and pandas.read_sql_table agree with PostgreSQL 15', async (t) => {
  const [ours, theirs] = await both(async (x) => {
    const url = `postgresql+psycopg2://admin:${x.password}@127.0.0.1:${x.port}/segtasks`;
    const r = await run(PYTHON, [join(CLIENTS, 'sqlalchemy_reflect.py'), url], { timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`${x.name}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  });
  t.deepEqual(ours.table_names, [...sysRelations].sort());
  const reflected = ours.reflected;
  t.deepEqual(reflected.segments.pk, { constrained_columns: ['storage_id'], name: 'segments_pkey' });
  t.deepEqual(reflected.subtasks.fks, [
    {
      name: 'subtasks_task_id_fkey',
      constrained_columns: ['task_id'],
      referred_schema: 'sys',
      referred_table: 'tasks',
      referred_columns: ['id'],
      options: {},
    },
  ]);
  t.deepEqual(reflected.tasks.columns[0], { name: 'id', type: 'UUID', nullable: false, default: null });
  t.deepEqual(ours.autoload.tables_loaded, ['sys.subtasks', 'sys.tasks']);
  t.deepEqual(ours.pandas.tasks_names, ['heal', 'scan']);
  t.is(ours.pandas.tasks_shape[1], reflected.tasks.columns.length);
  t.deepEqual(ours, theirs);
});

// ---------- DBD::Pg ----------

test('DBD::Pg table_info, column_info, primary_key_info, foreign_key_info and statistics_info agree with PostgreSQL 15', async (t) => {
  const [ours, theirs] = await both(async (x) => {
    const r = await run('perl', [join(CLIENTS, 'dbd_pg_catalog.pl'), String(x.port), 'admin', x.password]);
    if (r.code !== 0) throw new Error(`${x.name}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    // CARDINALITY and PAGES are the planner's statistics (reltuples, relpages): ANALYZE sets them on the
    // mirror, segtasks keeps none (-1, as PostgreSQL before the first ANALYZE).
    for (const k of ['statistics_info', 'statistics_info_unique']) {
      const cols: string[] = out[k].columns;
      for (const row of out[k].rows)
        for (const c of ['CARDINALITY', 'PAGES']) row[cols.indexOf(c)] = '<statistics>';
    }
    return out;
  });
  const col = (k: string, name: string) =>
    ours[k].rows.map((r: unknown[]) => r[ours[k].columns.indexOf(name)]);
  t.deepEqual(col('table_info', 'TABLE_NAME'), [...sysRelations].sort());
  t.deepEqual(ours.primary_key, ['id']);
  t.deepEqual(col('primary_key_info', 'COLUMN_NAME'), ['storage_id']);
  t.deepEqual(col('foreign_key_info_pk', 'FK_TABLE_NAME'), ['subtasks']);
  t.deepEqual(col('foreign_key_info_fk', 'UK_TABLE_NAME'), ['segment_groups']);
  t.deepEqual(col('statistics_info', 'INDEX_NAME'), ['tasks_pkey', null]);
  t.deepEqual(col('statistics_info', 'ASC_OR_DESC'), ['A', null]);
  t.deepEqual(ours.one_element_in, [['c1_n2', 'ONLINE']]);
  t.deepEqual(ours, theirs);
});

// ---------- psqlODBC through pyodbc ----------

/** SQLTables, SQLColumns, SQLPrimaryKeys and SQLForeignKeys through psqlODBC, as pyodbc calls them. */
const odbcCatalogScript = `
import json, sys, pyodbc
port, password, extra = sys.argv[1], sys.argv[2], sys.argv[3]
conn = pyodbc.connect("Driver=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;Server=127.0.0.1;Port=%s;"
                      "Database=segtasks;Uid=admin;Pwd=%s;%s" % (port, password, extra))
cur = conn.cursor()
def rows(result):
    cols = [d[0] for d in cur.description]
    return {"columns": cols, "rows": [[None if v is None else str(v) for v in r] for r in result.fetchall()]}
out = {
    "tables": rows(cur.tables(schema="sys")),
    "columns": rows(cur.columns(table="tasks", schema="sys")),
    "primary_keys": rows(cur.primaryKeys("segments", schema="sys")),
    # pyodbc's table is SQLForeignKeys' primary-key table, foreignTable the referencing one
    "foreign_keys": rows(cur.foreignKeys(foreignTable="subtasks", foreignSchema="sys")),
    "referencing": rows(cur.foreignKeys(table="tasks", schema="sys")),
}
print(json.dumps(out))
`;

for (const [label, extra] of [
  ['the default DSN', ''],
  ['UseDeclareFetch=1', 'UseDeclareFetch=1;Fetch=2'],
] as const) {
  test(`psqlODBC (pyodbc) SQLTables, SQLColumns, SQLPrimaryKeys, SQLForeignKeys with ${label} agree with PostgreSQL 15`, async (t) => {
    const [ours, theirs] = await both(async (x) => {
      const r = await run(PYTHON, ['-c', odbcCatalogScript, String(x.port), x.password, extra], {
        timeoutMs: 60_000,
      });
      if (r.code !== 0) throw new Error(`${x.name}: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      // psqlODBC's SQLColumns adds the table's OID, which each server assigns on its own
      const oid = out.columns.columns.indexOf('table oid');
      for (const row of out.columns.rows) row[oid] = '<oid>';
      return out;
    });
    t.true(ours.columns.columns.includes('table oid'));
    const col = (k: string, name: string) =>
      ours[k].rows.map((r: (string | null)[]) => r[ours[k].columns.indexOf(name)]);
    t.deepEqual(col('tables', 'table_name'), [...sysRelations].sort());
    t.true(col('tables', 'table_type').every((v: string) => v === 'TABLE'));
    t.deepEqual(col('columns', 'column_name').slice(0, 2), ['id', 'name']);
    t.deepEqual(col('primary_keys', 'column_name'), ['storage_id']);
    t.deepEqual(col('foreign_keys', 'pktable_name'), ['tasks']);
    t.deepEqual(col('foreign_keys', 'fkcolumn_name'), ['task_id']);
    t.true(col('referencing', 'fktable_name').includes('subtasks'));
    t.deepEqual(ours, theirs);
  });
}

// ---------- pgjdbc ----------

test('pgjdbc getImportedKeys, getExportedKeys, getCrossReference, getPrimaryKeys and getColumns agree with PostgreSQL 15', async (t) => {
  const [ours, theirs] = await both(async (x) => {
    const r = await runJdbcProgram('JdbcKeys.java', [String(x.port), 'admin', x.password]);
    if (r.code !== 0) throw new Error(`${x.name}: ${r.stderr}`);
    return r.out;
  });
  const rows = (k: string) => ours[k].split(';').slice(1);
  t.deepEqual(rows('imported_subtasks'), [
    'null|sys|tasks|id|null|sys|subtasks|task_id|1|3|3|subtasks_task_id_fkey|tasks_pkey|7',
  ]);
  t.deepEqual(rows('exported_segment_groups'), [
    'null|sys|segment_groups|id|null|sys|segments|segment_group_id|1|3|3|segments_segment_group_id_fkey|segment_groups_pkey|7',
  ]);
  t.deepEqual(rows('cross'), rows('imported_subtasks'));
  t.deepEqual(rows('pk_segments'), ['null|sys|segments|storage_id|1|segments_pkey']);
  t.deepEqual(
    rows('columns_subtasks')
      .slice(0, 2)
      .map((r) => r.split('|').slice(0, 6).join('|')),
    ['null|sys|subtasks|id|1111|uuid', 'null|sys|subtasks|task_id|1111|uuid'],
  );
  t.deepEqual(ours, theirs);
});

// ---------- pg_dump ----------

/** The columns and constraints of schema sys, as PostgreSQL's catalog states them, one line each. */
async function sysShape(dsn: string): Promise<string[]> {
  const r = await run('psql', [
    dsn,
    '-X',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    `SELECT c.relname || '.' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) ||
       CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'sys' AND c.relkind = 'r' AND a.attnum > 0 ORDER BY 1`,
    '-c',
    `SELECT conrelid::pg_catalog.regclass::text || ' ' || conname || ' ' || pg_catalog.pg_get_constraintdef(oid)
     FROM pg_catalog.pg_constraint WHERE connamespace = 'sys'::regnamespace ORDER BY 1`,
  ]);
  if (r.code !== 0) throw new Error(`${dsn}: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

test("pg_dump --schema-only -n sys of segtasks equals PostgreSQL 15's, and restored into PostgreSQL recreates the sys tables", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-dump-'));
  try {
    const dsnOf = (x: Target, db = 'segtasks') =>
      `host=127.0.0.1 port=${x.port} user=admin password=${x.password} dbname=${db}`;
    const [ours, theirs] = await both(async (x) => {
      const file = join(dir, `${x.name}.sql`);
      const r = await run('pg_dump', [dsnOf(x), '--schema-only', '-n', 'sys', '-f', file], {
        timeoutMs: 90_000,
      });
      if (r.code !== 0) throw new Error(`pg_dump of ${x.name}: ${r.stderr}`);
      return { file, text: readFileSync(file, 'utf8') };
    });
    // what may differ: the server version in the header and pg_dump's random \restrict key
    const comparable = (s: string) =>
      s.replace(/^(\\(un)?restrict) \S+$/gm, '$1 <key>').replace(/^-- Dumped from database version .*$/m, '');
    t.is(comparable(ours.text), comparable(theirs.text));
    t.regex(ours.text, /^CREATE TABLE sys\.subtasks \($/m);
    t.regex(
      ours.text,
      /^ {4}ADD CONSTRAINT subtasks_task_id_fkey FOREIGN KEY \(task_id\) REFERENCES sys\.tasks\(id\);$/m,
    );

    const pg = targets[1];
    const restored = `restored_${process.pid}`;
    const create = await run('psql', [dsnOf(pg, 'postgres'), '-X', '-c', `CREATE DATABASE ${restored}`]);
    t.is(create.code, 0, create.stderr);
    const restore = await run('psql', [
      dsnOf(pg, restored),
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-f',
      ours.file,
    ]);
    t.is(restore.code, 0, restore.stderr);
    t.is(restore.stderr, '');
    const [shapeOurs, shapeRestored] = [
      await sysShape(dsnOf(targets[0])),
      await sysShape(dsnOf(pg, restored)),
    ];
    t.true(shapeOurs.includes('tasks.id uuid NOT NULL'), shapeOurs.join('\n'));
    t.true(
      shapeOurs.includes('sys.subtasks subtasks_task_id_fkey FOREIGN KEY (task_id) REFERENCES sys.tasks(id)'),
    );
    t.true(shapeOurs.includes('sys.segments segments_pkey PRIMARY KEY (storage_id)'));
    t.deepEqual(shapeRestored, shapeOurs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------- drizzle-kit ----------

const DRIZZLE_KIT = join(__dirname, '..', '..', 'node_modules', 'drizzle-kit', 'bin.cjs');

/**
 * Runs `drizzle-kit pull` for schema sys and returns what it wrote: the schema file's declarations, the
 * relations file's, and the SQL file's statements, each list sorted (drizzle-kit writes the tables in the
 * order its catalog query returns them, which has no ORDER BY: PostgreSQL's is the order of creation).
 */
async function drizzlePull(
  x: Target,
  dir: string,
): Promise<Record<'schema' | 'relations' | 'sql', string[]>> {
  const out = join(dir, x.name);
  const config = join(dir, `${x.name}.config.js`);
  writeFileSync(
    config,
    `module.exports = ${JSON.stringify({
      dialect: 'postgresql',
      out,
      schemaFilter: ['sys'],
      dbCredentials: {
        host: '127.0.0.1',
        port: x.port,
        user: 'admin',
        password: x.password,
        database: 'segtasks',
        ssl: false,
      },
    })};\n`,
  );
  const r = await run(process.execPath, [DRIZZLE_KIT, 'pull', '--config', config], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`drizzle-kit pull of ${x.name}: ${r.stdout}\n${r.stderr}`);
  const sqlFile = readdirSync(out).find((f) => f.endsWith('.sql'));
  if (!sqlFile) throw new Error(`drizzle-kit pull of ${x.name} wrote no SQL file: ${r.stdout}`);
  const blocks = (file: string, sep: string) =>
    readFileSync(join(out, file), 'utf8')
      .split(sep)
      .map((b) => b.trim())
      .filter((b) => b !== '')
      // the names an import lists follow the order of the tables too
      .map((b) =>
        b.replace(
          /^import \{ (.*) \} from/,
          (_, n: string) => `import { ${n.split(', ').sort().join(', ')} } from`,
        ),
      )
      .sort();
  return {
    schema: blocks('schema.ts', '\n\n'),
    relations: blocks('relations.ts', '\n\n'),
    sql: blocks(sqlFile, '--> statement-breakpoint'),
  };
}

test('drizzle-kit pull of schema sys declares every sys table and column, as from PostgreSQL 15', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-drizzle-'));
  try {
    const [ours, theirs] = await both((x) => drizzlePull(x, dir));
    // Every sys table with each of its columns, as PostgreSQL's own catalog lists them.
    const client = new pg.Client(mirror.theirs);
    await client.connect();
    const { rows } = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'sys'
       ORDER BY table_name, ordinal_position`,
    );
    await client.end();
    t.deepEqual([...new Set(rows.map((r) => r.table_name))], [...sysRelations].sort());
    for (const table of sysRelations) {
      const create = ours.sql.find((s) => s.startsWith(`CREATE TABLE "sys"."${table}" (`));
      t.truthy(create, `no CREATE TABLE for ${table}`);
      const declared = [...(create ?? '').matchAll(/^\t"(\w+)" /gm)].map((m) => m[1]);
      t.deepEqual(
        declared,
        rows.filter((r) => r.table_name === table).map((r) => r.column_name),
        table,
      );
      t.true(
        ours.schema.some((b) => b.includes(`= sys.table("${table}", {`)),
        `schema.ts declares no ${table}`,
      );
    }
    t.true(
      ours.schema.some((b) =>
        b.startsWith('export const tasksInSys = sys.table("tasks", {\n\tid: uuid().primaryKey().notNull(),'),
      ),
    );
    t.true(
      ours.sql.some((s) =>
        s.startsWith(
          'ALTER TABLE "sys"."subtasks" ADD CONSTRAINT "subtasks_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "sys"."tasks"("id")',
        ),
      ),
      ours.sql.filter((s) => s.includes('FOREIGN KEY')).join('\n'),
    );
    t.true(
      ours.relations.some((b) =>
        b.startsWith('export const subtasksInSysRelations = relations(subtasksInSys,'),
      ),
    );
    t.deepEqual(ours, theirs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
