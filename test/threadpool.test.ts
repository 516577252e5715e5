// The started server runs with the larger libuv pool unless UV_THREADPOOL_SIZE is set (src/threadpool.ts). A
// preload (NODE_OPTIONS --require) waits until the CLI has loaded (setImmediate: after the main module's
// synchronous load and the microtasks it started, before any timer, so not a matter of how fast the machine
// is), uses the pool once and prints the thread count before and after: the pool's threads are what appear, all
// at once. Were the pool started earlier, the count would be 0 and the test would fail, not pass wrongly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SERVER_THREADPOOL_SIZE } from '../src/threadpool';
import { startServerProcess } from './helpers/process';

const PRELOAD = `const fs = require('node:fs');
const threads = () => fs.readdirSync('/proc/self/task').length;
setImmediate(() => {
  const before = threads();
  fs.readFile('/proc/self/stat', () => console.log('pool threads ' + (threads() - before)));
});
`;

async function poolThreads(env: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-pool-'));
  const preload = join(dir, 'preload.js');
  writeFileSync(preload, PRELOAD);
  const server = await startServerProcess(join(dir, 'data'), {
    ...env,
    NODE_OPTIONS: `--require ${preload}`,
  });
  try {
    const deadline = Date.now() + 20_000;
    while (!/pool threads (\d+)/.test(server.output()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const m = /pool threads (\d+)/.exec(server.output());
    if (!m) throw new Error(`no report: ${server.output()}`);
    return Number(m[1]);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the server process has the larger libuv pool; a user UV_THREADPOOL_SIZE is obeyed', async (t) => {
  // An empty setting counts as unset, so the ava worker's own environment cannot decide this test.
  t.is(await poolThreads({ UV_THREADPOOL_SIZE: '' }), SERVER_THREADPOOL_SIZE);
  t.is(await poolThreads({ UV_THREADPOOL_SIZE: '4' }), 4);
});
