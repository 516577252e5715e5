// psql's tab completion, typed into a real interactive psql running in tmux.
import { execFileSync } from 'node:child_process';
import test from 'ava';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
const session = `segtasks-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  server = await startTestServer();
  tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', `psql '${server.dsn}'`);
  for (let i = 0; i < 50 && !tmux('capture-pane', '-t', session, '-p').includes('segtasks=#'); i++)
    await sleep(100);
});
test.after.always(async () => {
  try {
    tmux('kill-session', '-t', session);
  } catch {
    // already gone
  }
  await server?.stop();
});

async function complete(typed: string, tabs = 2): Promise<string> {
  tmux('send-keys', '-t', session, 'C-u');
  tmux('send-keys', '-t', session, typed);
  for (let i = 0; i < tabs; i++) {
    tmux('send-keys', '-t', session, 'Tab');
    await sleep(400);
  }
  return tmux('capture-pane', '-t', session, '-p');
}

test.serial('table names complete from the sys schema', async (t) => {
  const screen = await complete('SELECT * FROM sys.ta');
  t.regex(screen, /sys\.tables +sys\.task_schedules +sys\.tasks/);
});

test.serial('column names complete from the table in FROM', async (t) => {
  const screen = await complete('SELECT * FROM sys.tasks WHERE fraction_c', 1);
  t.regex(screen, /WHERE fraction_complete/);
});
