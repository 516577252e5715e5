// The identity check before each segment write reads a device's identity file in full once and then only
// stats it: everything that must still refuse the write (the directory gone, another disk or directory in
// its place, the file rewritten) changes what the stat shows, so it is read again and the write refused. The
// clock is stopped in these tests, so that no re-read comes from the time bound instead.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  IDENTITY_FILE,
  IDENTITY_RECHECK_MS,
  IdentityChecks,
  writeIdentity,
} from '../../src/store/device-identity';

const ID = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

async function device(t: { teardown(f: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'segtasks-identity-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const path = join(root, 'dev');
  mkdirSync(path);
  await writeIdentity({ id: ID, node_name: 'n1', path });
  return { root, path, d: { id: ID, path } };
}

const stopped = () => {
  let now = 1000;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
};

const later = () => new Promise((r) => setTimeout(r, 20));

test('the identity file replaced by another device’s is refused at the next write', async (t) => {
  const { path, d } = await device(t);
  const checks = new IdentityChecks(stopped().clock);
  t.is(await checks.problem(d), null);
  t.is(await checks.problem(d), null);
  // Another file at the path (another inode): as when the disk of another device is mounted here.
  writeFileSync(join(path, 'x'), JSON.stringify({ device_id: OTHER, node: 'n1' }));
  renameSync(join(path, 'x'), join(path, IDENTITY_FILE));
  t.regex((await checks.problem(d)) ?? '', /names device 2222/);
});

test('the identity file rewritten in place, same size, is refused at the next write', async (t) => {
  const { path, d } = await device(t);
  const checks = new IdentityChecks(stopped().clock);
  t.is(await checks.problem(d), null);
  await later(); // past the file system's timestamp granularity since the identity was written
  // Same inode, same length, another id: only the change time tells.
  writeFileSync(join(path, IDENTITY_FILE), `${JSON.stringify({ device_id: OTHER, node: 'n1' })}\n`);
  t.regex((await checks.problem(d)) ?? '', /names device 2222/);
});

test('a vanished device directory is refused at the next write, and a directory put in its place is read', async (t) => {
  const { root, path, d } = await device(t);
  const checks = new IdentityChecks(stopped().clock);
  t.is(await checks.problem(d), null);
  renameSync(path, join(root, 'away'));
  t.regex((await checks.problem(d)) ?? '', /is missing/);
  // An empty directory at the path (a mount point without its disk): still refused.
  mkdirSync(path);
  t.regex((await checks.problem(d)) ?? '', /is missing/);
  // The disk back at its place: the same identity, accepted again.
  rmSync(path, { recursive: true });
  renameSync(join(root, 'away'), path);
  t.is(await checks.problem(d), null);
});

test('another device id for the same path is checked in full; a stale check is read again', async (t) => {
  const { path, d } = await device(t);
  const clock = stopped();
  const checks = new IdentityChecks(clock.clock);
  t.is(await checks.problem(d), null);
  t.regex((await checks.problem({ id: OTHER, path })) ?? '', /names device 1111/);
  t.is(await checks.problem(d), null);
  clock.advance(IDENTITY_RECHECK_MS);
  t.is(await checks.problem(d), null);
});
