// Authentication methods and TLS, through real clients.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import { startApp } from '../src/app';
import { run } from './helpers/run';
import { ADMIN_PASSWORD, startTestServer } from './helpers/server';

for (const auth of ['md5', 'password'] as const) {
  test(`${auth} authentication: right password connects, wrong one is 28P01`, async (t) => {
    const server = await startTestServer({ auth });
    try {
      const ok = new pg.Client(server.pgConfig);
      await ok.connect();
      t.is((await ok.query('SELECT current_user AS u')).rows[0].u, 'admin');
      await ok.end();
      const bad = new pg.Client({ ...server.pgConfig, password: 'nope' });
      const e = await t.throwsAsync<Error & { code: string }>(bad.connect());
      t.is(e?.code, '28P01');
    } finally {
      await server.stop();
    }
  });
}

test('trust authentication still refuses an unknown user', async (t) => {
  const server = await startTestServer({ auth: 'trust' });
  try {
    const bad = new pg.Client({ ...server.pgConfig, user: 'mallory' });
    const e = await t.throwsAsync<Error & { code: string }>(bad.connect());
    t.is(e?.code, '28000');
  } finally {
    await server.stop();
  }
});

test('TLS: with a certificate configured, psql connects with sslmode=require and sees an SSL connection', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  const app = await startApp({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir,
    auth: 'scram',
    adminPassword: ADMIN_PASSWORD,
    tlsCert: cert,
    tlsKey: key,
    logLevel: 'silent',
    say: () => {},
  });
  try {
    const r = await run('psql', [
      `host=127.0.0.1 port=${app.port} user=admin password=${ADMIN_PASSWORD} dbname=segtasks sslmode=require`,
      '-X',
      '-A',
      '-t',
      '-c',
      "SELECT 'over tls'",
      '-c',
      '\\conninfo',
    ]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /over tls/);
    t.regex(r.stdout, /SSL connection \(protocol: TLSv1\.[23]/);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
