// Two servers holding the same sys tables with the same rows: a segtasks test server, filled by real means
// (topology DDL, COPY, a check_disk and a rebuild task), and a real PostgreSQL 15 into which the sys tables
// are recreated from segtasks's own catalog (columns, types, NOT NULL, constraints, indexes and comments as our
// pg_catalog reports them) and every row is copied (SELECT * there, INSERT here, all values as text).
// The real server gets a role "admin" owning schema sys and a database "segtasks", so current_user,
// current_database() and owner names agree; only OIDs of user objects differ (see oids.ts).
import { unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import pg from 'pg';
import { type RealPostgres, startRealPostgres } from '../../bench/common';
import { sysRelations } from '../../catalog/schema';
import { startTestServer, type TestServer } from '../helpers/server';
import { load, runTask } from '../helpers/tasks';
import { createTopology } from '../helpers/topology';

/** Every value arrives as the text the server sent: the comparison is of PostgreSQL's text output. */
export const rawTypes = { getTypeParser: () => (v: string) => v };

export interface Mirror {
  server: TestServer;
  real: RealPostgres;
  ours: pg.ClientConfig;
  theirs: pg.ClientConfig;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Fills segtasks with a topology, one COPYed table, a finished check_disk and a finished rebuild. */
async function fill(server: TestServer): Promise<void> {
  const c = new pg.Client(server.pgConfig);
  await c.connect();
  try {
    await createTopology(c, server.dataDir, { nodes: 6, devicesPerNode: 2, width: 6, parity: 2 });
    await load(c, 'demo', 3 * 4 * 65536 + 1234);
    await load(c, 'small', 1000);
    const seg = await c.query(
      `SELECT s.path FROM sys.segments s JOIN sys.segment_groups g ON g.id = s.segment_group_id
       JOIN sys.tables t ON t.id = g.table_id WHERE t.name = 'demo' AND g.seq = 1 AND s.position = 2`,
    );
    unlinkSync(seg.rows[0].path);
    await runTask(c, 'CREATE TASK scan TYPE check_disk OPTIONS fix = true');
    await runTask(c, 'CREATE TASK heal TYPE rebuild LOCATION CLUSTER c1');
  } finally {
    await c.end();
  }
}

interface TableShape {
  name: string;
  columns: { name: string; type: string; notnull: boolean }[];
  constraints: { name: string; def: string; type: string }[];
  indexes: string[];
  comment: string | null;
  columnComments: (string | null)[];
}

async function shapeOf(c: pg.Client, name: string): Promise<TableShape> {
  const rel = `sys.${name}`;
  const cols = await c.query(
    `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
     FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 ORDER BY a.attnum`,
    [rel],
  );
  const cons = await c.query(
    `SELECT conname, contype, pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint
     WHERE conrelid = $1::regclass ORDER BY conname`,
    [rel],
  );
  const idx = await c.query(
    `SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def FROM pg_catalog.pg_index i
     WHERE i.indrelid = $1::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
     ORDER BY 1`,
    [rel],
  );
  const comments = await c.query(`SELECT pg_catalog.obj_description($1::regclass, 'pg_class') AS d`, [rel]);
  const columnComments = await c.query(
    `SELECT pg_catalog.col_description($1::regclass, a.attnum) AS d FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 ORDER BY a.attnum`,
    [rel],
  );
  return {
    name,
    comment: comments.rows[0].d,
    columnComments: columnComments.rows.map((r) => r.d),
    columns: cols.rows.map((r) => ({ name: r.attname, type: r.type, notnull: r.attnotnull === 't' })),
    constraints: cons.rows.map((r) => ({ name: r.conname, def: r.def, type: r.contype })),
    indexes: idx.rows.map((r) => r.def),
  };
}

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

/** Recreates the sys tables in the real server and copies every row. Foreign keys come after the rows. */
async function copyInto(ours: pg.Client, theirs: pg.Client): Promise<void> {
  const shapes: TableShape[] = [];
  for (const name of sysRelations) shapes.push(await shapeOf(ours, name));
  await theirs.query('CREATE SCHEMA sys');
  for (const s of shapes) {
    const defs = s.columns.map((c) => `${q(c.name)} ${c.type}${c.notnull ? ' NOT NULL' : ''}`);
    for (const k of s.constraints.filter((k) => k.type !== 'f'))
      defs.push(`CONSTRAINT ${q(k.name)} ${k.def}`);
    await theirs.query(`CREATE TABLE sys.${s.name} (${defs.join(', ')})`);
    for (const d of s.indexes) await theirs.query(d);
    const lit = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
    await theirs.query(`COMMENT ON TABLE sys.${s.name} IS ${lit(s.comment)}`);
    for (const [i, col] of s.columns.entries()) {
      await theirs.query(
        `COMMENT ON COLUMN sys.${s.name}.${q(col.name)} IS ${lit(s.columnComments[i] ?? null)}`,
      );
    }
    const rows = await ours.query({ text: `SELECT * FROM sys.${s.name}`, rowMode: 'array' });
    const names = rows.fields.map((f) => q(f.name)).join(', ');
    const marks = rows.fields.map((_, i) => `$${i + 1}`).join(', ');
    for (const r of rows.rows) {
      await theirs.query(`INSERT INTO sys.${s.name} (${names}) VALUES (${marks})`, r);
    }
  }
  for (const s of shapes) {
    for (const k of s.constraints.filter((k) => k.type === 'f')) {
      await theirs.query(`ALTER TABLE sys.${s.name} ADD CONSTRAINT ${q(k.name)} ${k.def}`);
    }
  }
  await theirs.query('ANALYZE');
}

export async function startMirror(): Promise<Mirror> {
  const server = await startTestServer();
  const port = await freePort();
  const real = startRealPostgres(port);
  try {
    await fill(server);
    const boot = new pg.Client({ host: '127.0.0.1', port, user: real.user, database: 'postgres' });
    await boot.connect();
    await boot.query('CREATE ROLE admin SUPERUSER LOGIN');
    await boot.query('CREATE DATABASE segtasks OWNER admin');
    await boot.end();
    const ours: pg.ClientConfig = { ...server.pgConfig, types: rawTypes };
    const theirs: pg.ClientConfig = {
      host: '127.0.0.1',
      port,
      user: 'admin',
      database: 'segtasks',
      types: rawTypes,
      // the same session defaults as segtasks: UTC
      options: '-c TimeZone=UTC',
    };
    const a = new pg.Client(ours);
    const b = new pg.Client(theirs);
    await a.connect();
    await b.connect();
    try {
      await copyInto(a, b);
    } finally {
      await a.end();
      await b.end();
    }
  } catch (e) {
    real.stop();
    await server.stop();
    throw e;
  }
  return {
    server,
    real,
    ours: { ...server.pgConfig, types: rawTypes },
    theirs: {
      host: '127.0.0.1',
      port,
      user: 'admin',
      database: 'segtasks',
      types: rawTypes,
      options: '-c TimeZone=UTC',
    },
    async stop() {
      real.stop();
      await server.stop();
    },
  };
}
