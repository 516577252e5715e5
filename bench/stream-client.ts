// A node-postgres client for bench/stream, run as a process of its own: reads a query's rows `rows` at a
// time (Execute with a row count, then Flush, until the portal completes: what pg-cursor does) and prints
// {"rows", "firstMs", "totalMs"} as JSON. usage: node stream-client.js PORT USER SQL ROWS_PER_EXECUTE
import pg from 'pg';

async function main() {
  const [port, user, sql, per] = process.argv.slice(2);
  const client = new pg.Client({ host: '127.0.0.1', port: Number(port), user, database: 'segtasks' });
  await client.connect();
  const t0 = performance.now();
  let first = -1;
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    const q = new pg.Query({ text: sql, rows: Number(per) } as pg.QueryConfig & { rows: number });
    q.on('row', () => {
      if (first < 0) first = performance.now() - t0;
      rows++;
    });
    q.on('end', () => resolve());
    q.on('error', reject);
    client.query(q);
  });
  const total = performance.now() - t0;
  await client.end();
  console.log(JSON.stringify({ rows, firstMs: first, totalMs: total }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
