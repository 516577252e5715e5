// SIGTERM ends every session with FATAL 57P01 and the process within a bounded time, busy clients included;
// a client that disconnects mid-statement is not an error in the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { startServerProcess } from './helpers/process';
import { RawClient, serialize } from './helpers/raw';
import { ADMIN_PASSWORD } from './helpers/server';

const configFor = (port: number): pg.ClientConfig => ({
  host: '127.0.0.1',
  port,
  user: 'admin',
  password: ADMIN_PASSWORD,
  database: 'segtasks',
});

test('SIGTERM: sessions get FATAL 57P01, the listener closes, the process exits within seconds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-sigterm-'));
  const server = await startServerProcess(dir);
  try {
    const busy = new pg.Client(configFor(server.port));
    const idle = new pg.Client(configFor(server.port));
    const errors: { code?: string; message: string }[] = [];
    for (const c of [busy, idle]) {
      c.on('error', (e) => errors.push(e as never));
      await c.connect();
    }
    const running = busy.query('SELECT pg_sleep(60)').then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    // A client in the middle of a long COPY-sized result, too.
    const streaming = new pg.Client(configFor(server.port));
    streaming.on('error', () => {});
    await streaming.connect();
    const big = streaming
      .query("SELECT g, repeat('x', 100) FROM generate_series(1, 3000000) g")
      .catch((e: Error & { code?: string }) => e);
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((resolve) => server.child.on('exit', (code) => resolve(code)));
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - t0;
    t.log(`exited with ${code} after ${took} ms`);
    t.is(code, 0);
    t.true(took < 10_000, `took ${took} ms`);
    const err = await running;
    t.is(err?.code, '57P01');
    t.is(err?.message, 'terminating connection due to administrator command');
    t.truthy(await big);
    await new Promise((r) => setTimeout(r, 100));
    t.true(
      errors.some((e) => e.code === '57P01'),
      JSON.stringify(errors),
    );
  } finally {
    await server.kill9().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that disconnects in the middle of statements leaves no error in the log', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-gone-'));
  const server = await startServerProcess(dir);
  try {
    for (let i = 0; i < 3; i++) {
      const c = new pg.Client(configFor(server.port));
      c.on('error', () => {});
      await c.connect();
      const conn = (c as unknown as { connection: { stream: import('node:net').Socket } }).connection;
      // Many statements in one string, the first a long one, then the socket is gone.
      void c.query(`SELECT pg_sleep(1);${' SELECT 1;'.repeat(48)}`).catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
      conn.stream.destroy();
    }
    await new Promise((r) => setTimeout(r, 1500));
    const raw = await RawClient.open(server.port);
    raw.write(serialize.startup({ user: 'admin', database: 'segtasks' }));
    await raw.until('authenticationSASL');
    raw.end();
    const errorLines = server
      .output()
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    t.deepEqual(errorLines, []);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
