// Run with: node examples/node-client.js   (connection from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE;
// defaults: 127.0.0.1:5433, user admin, database segtasks)
// Lists the tasks with node-postgres, using a parameter and typed results.
const { Client } = require('pg');

async function main() {
  const env = process.env;
  const client = new Client({
    host: env.PGHOST || '127.0.0.1',
    port: Number(env.PGPORT || 5433),
    user: env.PGUSER || 'admin',
    password: env.PGPASSWORD,
    database: env.PGDATABASE || 'segtasks',
  });
  await client.connect();
  const { rows } = await client.query(
    'SELECT name, type, status, fraction_complete, created_at FROM sys.tasks WHERE status <> $1 ORDER BY created_at DESC',
    ['CANCELLED'],
  );
  for (const r of rows)
    console.log(
      `${r.created_at.toISOString()} ${r.name ?? '(unnamed)'} ${r.type} ${r.status} ${(r.fraction_complete * 100).toFixed(0)}%`,
    );
  if (!rows.length) console.log('no tasks yet');
  await client.end();
}

main().catch((e) => {
  console.error(`${e.code ?? ''} ${e.message}`);
  process.exit(1);
});
