// The build happens once at install, not at every start, and the `segtasks` command is a real bin.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';

const ROOT = join(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('npm start runs the built server without compiling; npm install/ci and npm test build', (t) => {
  t.is(pkg.scripts.prestart, undefined);
  t.notRegex(pkg.scripts.start, /tsc|build/);
  t.regex(pkg.scripts.prepare, /npm run build/);
  t.regex(pkg.scripts.pretest, /npm run build/);
});

test('the segtasks bin has a shebang and answers --help', (t) => {
  const bin = join(ROOT, pkg.bin.segtasks);
  t.true(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n'));
  const r = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /--data-dir/);
});
