// Devices carry an identity file from the moment they are added; a device whose directory vanished is FAILED
// at its first write and never recreated; an old data directory's devices are given an identity at start.
import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startTestServer } from './helpers/server';
import { createTopology } from './helpers/topology';

const IDENTITY = '.segtasks-device';

async function copyIn(c: pg.Client, table: string, lines: number): Promise<void> {
  const rows = Array.from({ length: lines }, (_, i) => `line ${i} ${'x'.repeat(200)}\n`).join('');
  await pipeline(Readable.from([Buffer.from(rows)]), c.query(copyFrom(`COPY ${table} FROM STDIN`)));
}

test('CREATE NODE writes each device identity; a vanished device is FAILED at once and not recreated', async (t) => {
  const s = await startTestServer();
  const c = new pg.Client(s.pgConfig);
  await c.connect();
  try {
    await createTopology(c, s.dataDir, { nodes: 8, devicesPerNode: 1 });
    const devices = (await c.query('SELECT id, path FROM sys.storage_devices ORDER BY path')).rows as {
      id: string;
      path: string;
    }[];
    t.is(devices.length, 8);
    for (const d of devices) {
      const id = JSON.parse(readFileSync(join(d.path, IDENTITY), 'utf8'));
      t.is(id.device_id, d.id);
    }
    await c.query('CREATE TABLE t1 (line text) IN CLUSTER c1');
    const gone = devices[0].path;
    rmSync(gone, { recursive: true, force: true });
    // 8 devices, width 6: the load places groups elsewhere, or fails; either way the directory stays gone.
    await copyIn(c, 't1', 2000).catch(() => {});
    t.false(existsSync(gone), 'the vanished device directory was recreated');
    const status = (await c.query('SELECT status FROM sys.storage_devices WHERE id = $1', [devices[0].id]))
      .rows[0];
    t.is(status.status, 'FAILED');
  } finally {
    await c.end();
    await s.stop();
  }
});

test('at start, devices without an identity get one when they hold their segments; a wrong one is FAILED', async (t) => {
  const s = await startTestServer();
  const c = new pg.Client(s.pgConfig);
  await c.connect();
  const devices = await (async () => {
    await createTopology(c, s.dataDir, { nodes: 6, devicesPerNode: 1 });
    await c.query('CREATE TABLE t1 (line text) IN CLUSTER c1');
    await copyIn(c, 't1', 500);
    return (await c.query('SELECT id, path FROM sys.storage_devices ORDER BY path')).rows as {
      id: string;
      path: string;
    }[];
  })();
  await c.end();
  await s.app.close();
  // An older data directory: no identities at all; and one device with another's identity.
  for (const d of devices) unlinkSync(join(d.path, IDENTITY));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(devices[1].path, IDENTITY), JSON.stringify({ device_id: 'someone-else', node: 'x' }));
  const again = await startTestServer({ dataDir: s.dataDir });
  const c2 = new pg.Client(again.pgConfig);
  await c2.connect();
  try {
    t.true(existsSync(join(devices[0].path, IDENTITY)));
    t.is(JSON.parse(readFileSync(join(devices[0].path, IDENTITY), 'utf8')).device_id, devices[0].id);
    const rows = (await c2.query('SELECT id, status FROM sys.storage_devices')).rows as {
      id: string;
      status: string;
    }[];
    const statusOf = (id: string) => rows.find((r) => r.id === id)?.status;
    t.is(statusOf(devices[0].id), 'ACTIVE');
    t.is(statusOf(devices[1].id), 'FAILED');
  } finally {
    await c2.end();
    await again.stop();
    rmSync(s.dataDir, { recursive: true, force: true });
  }
});
