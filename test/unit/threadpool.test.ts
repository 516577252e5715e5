// The server's libuv pool size: the user's UV_THREADPOOL_SIZE wins, else the server's; the entry points load
// src/threadpool.ts before anything else (libuv reads the size at the pool's first use, so later is too late).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { SERVER_THREADPOOL_SIZE, threadpoolSize } from '../../src/threadpool';

const DIST = join(__dirname, '..', '..');

test('the user setting is kept; unset or empty gets the server size', (t) => {
  t.is(threadpoolSize({ UV_THREADPOOL_SIZE: '3' }), '3');
  t.is(threadpoolSize({}), String(SERVER_THREADPOOL_SIZE));
  t.is(threadpoolSize({ UV_THREADPOOL_SIZE: ' ' }), String(SERVER_THREADPOOL_SIZE));
  t.true(SERVER_THREADPOOL_SIZE > 4, "larger than libuv's default, or the module is pointless");
});

test('the CLI and the benches that start the app in process require the module first', (t) => {
  for (const file of [
    'src/cli.js',
    'bench/common.js',
    'bench/repair.js',
    'bench/fuzz.js',
    'bench/sql-fuzz.js',
  ]) {
    const code = readFileSync(join(DIST, file), 'utf8');
    const first = /require\("([^"]+)"\)/.exec(code);
    t.truthy(first, file);
    t.regex(first![1], /(^|\/)threadpool$/, `${file} first requires ${first![1]}`);
  }
});

/** Threads of a node process that loaded src/threadpool.js and then used the pool once. */
function threadsAfterPoolUse(env: NodeJS.ProcessEnv): number {
  const script = `require(${JSON.stringify(join(DIST, 'src', 'threadpool.js'))});
    require('node:fs').readFile('/proc/self/stat', () =>
      console.log(require('node:fs').readdirSync('/proc/self/task').length));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env,
    timeout: 20_000,
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

test('a process that loads it first gets the larger pool, and the user setting is obeyed', (t) => {
  const { UV_THREADPOOL_SIZE: _, ...rest } = process.env;
  const server = threadsAfterPoolUse(rest);
  const four = threadsAfterPoolUse({ ...rest, UV_THREADPOOL_SIZE: '4' });
  t.is(server - four, SERVER_THREADPOOL_SIZE - 4);
});
