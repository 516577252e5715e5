// Run with: node examples/node-client.js   (PGPASSWORD=... and the server on 127.0.0.1:5433)
// Lists the tasks with node-postgres, using a parameter and typed results.
const { Client } = require('pg');

async function main() {
  const client = new Client({ host: '127.0.0.1', port: 5433, user: 'admin', database: 'segtasks' });
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
