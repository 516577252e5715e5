// One server per data directory: a second server on the same directory refuses at once and names the holder;
// a server killed with -9 leaves nothing that blocks the next start.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { connectAdmin, startServerProcess } from './helpers/process';

test('a second server on the same data directory refuses, naming the PID; kill -9 leaves no lock behind', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'segtasks-lock-'));
  const first = await startServerProcess(dataDir);
  try {
    t.is(readFileSync(join(dataDir, 'segtasks.pid'), 'utf8').trim(), String(first.child.pid));
    const started = Date.now();
    const err = await t.throwsAsync(startServerProcess(join(dataDir, '.', '')));
    t.true(Date.now() - started < 10_000, 'refused at once');
    t.regex(err!.message, /exited with 1/);
    t.regex(err!.message, new RegExp(`in use by another segtasks server \\(PID ${first.child.pid}\\)`));
    // The first server is untouched by the attempt.
    const c = await connectAdmin(first.port);
    t.is((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    await c.end();

    await first.kill9();
    // The PID file of the killed server is still there; it must not matter.
    t.is(readFileSync(join(dataDir, 'segtasks.pid'), 'utf8').trim(), String(first.child.pid));
    const next = await startServerProcess(dataDir);
    t.is(readFileSync(join(dataDir, 'segtasks.pid'), 'utf8').trim(), String(next.child.pid));
    await next.stop();
  } finally {
    await first.kill9().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
});
