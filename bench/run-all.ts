// npm run bench: every benchmark in turn (each also runs alone: node dist/bench/<name>.js).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

for (const name of ['wire', 'copy', 'check-disk', 'repair', 'restart']) {
  console.log(`\n=== bench/${name}`);
  const r = spawnSync(process.execPath, [join(__dirname, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = 1;
}
