// Writes catalog/query/functions/pg15-proc.json: PostgreSQL 15's pg_proc rows (every overload) of the functions
// the query engine implements (functions/pg-proc.ts isImplemented: FUNCTIONS and the table functions), read from a real PostgreSQL 15,
// so that segtasks's pg_proc lists them with PostgreSQL's OIDs, argument and result types.
// Run after adding a function: npx tsc -p tsconfig.json && node dist/test/oracle/gen-pg-proc.js
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startRealPostgres } from '../../bench/common';
import { isImplemented } from '../../catalog/query/functions/pg-proc';
import { freePort } from './mirror';

const OUT = join(__dirname, '..', '..', '..', 'catalog', 'query', 'functions', 'pg15-proc.json');

async function main(): Promise<void> {
  const real = startRealPostgres(await freePort());
  const c = new pg.Client({ host: '127.0.0.1', port: real.port, user: real.user, database: 'postgres' });
  try {
    await c.connect();
    const r = await c.query(
      `SELECT p.oid::int AS oid, proname, n.nspname, prokind, proretset, provolatile, proisstrict, pronargs,
              pronargdefaults, prorettype::int AS rettype, proargtypes::text AS argtypes,
              provariadic::int AS variadic, procost, prorows, proargnames, proallargtypes::int[] AS allargtypes,
              proargmodes::text[] AS argmodes, prolang::int AS lang, prosrc, proparallel, proleakproof,
              obj_description(p.oid, 'pg_proc') AS description
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname IN ('pg_catalog', 'information_schema')
       ORDER BY p.oid`,
    );
    const implemented = r.rows.filter((x) => isImplemented(x.proname));
    const rows = implemented.map((x) =>
      JSON.stringify([
        x.oid,
        x.proname,
        x.nspname,
        x.prokind,
        x.proretset,
        x.provolatile,
        x.proisstrict,
        x.pronargs,
        x.pronargdefaults,
        x.rettype,
        x.argtypes,
        x.variadic,
        Number(x.procost),
        Number(x.prorows),
        x.proargnames,
        x.allargtypes,
        x.argmodes,
        x.lang,
        x.prosrc,
        x.proparallel,
        x.proleakproof,
        x.description,
      ]),
    );
    // one row per line; the columns are those of Pg15Proc (catalog/query/functions/pg-proc.ts)
    const text = `[\n${rows.map((l) => `  ${l}`).join(',\n')}\n]\n`;
    writeFileSync(OUT, text);
    console.log(`${rows.length} rows -> ${OUT}`);
  } finally {
    await c.end().catch(() => {});
    real.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
