// biome-ignore-all lint/performance/useDomNodeTextContent: these are Playwright Locator.innerText() calls (the rendered text a user reads), not the DOM property
// The web console in a real headless Chromium: sign-in, the overview of a cluster built with SQL, a
// check_disk created from the page whose progress climbs live to COMPLETE with a finding, a read-only user
// refused with 42501 by the same code path as SQL, sign-out, and no page without a session.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server';
import { load } from './helpers/tasks';
import { createTopology } from './helpers/topology';

let server: TestServer;
let client: pg.Client;
let browser: Browser;
let base: string;
const MiB = 1024 * 1024;
// The screenshots in docs/ are refreshed with SEGTASKS_UPDATE_SCREENSHOTS=1; other runs write them to a
// temporary directory, so that a test run leaves the work tree as it was.
const DOCS = process.env.SEGTASKS_UPDATE_SCREENSHOTS
  ? join(__dirname, '..', '..', 'docs')
  : mkdtempSync(join(tmpdir(), 'segtasks-screens-'));
/** Screenshots for the docs: the top of the page, to keep the files small. */
const TOP = { x: 0, y: 0, width: 1100, height: 1000 };

test.before(async () => {
  server = await startTestServer({ httpPort: 0 });
  base = `http://127.0.0.1:${server.app.httpPort}`;
  client = new pg.Client(server.pgConfig);
  await client.connect();
  // 256 KiB segments: 12 groups of 6, six segments per device, so that progress moves in small steps.
  await createTopology(client, server.dataDir, { segmentSize: 256 * 1024 });
  await load(client, 'data', 12 * MiB);
  await client.query("CREATE USER viewer WITH PASSWORD 'look-only'");
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await client?.end();
  await server?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  return context.newPage();
}

async function signIn(page: Page, user: string, password: string, path = '/'): Promise<void> {
  await page.goto(base + path);
  await page.waitForURL(/\/login/);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

test.serial('no page or event stream without a session: pages redirect to the sign-in page', async (t) => {
  const page = await newPage();
  for (const path of ['/', '/tasks', '/tasks/00000000-0000-0000-0000-000000000000']) {
    await page.goto(base + path);
    const url = new URL(page.url());
    t.is(url.pathname, '/login', path);
    t.is(url.searchParams.get('next'), path);
  }
  const events = await fetch(`${base}/events/tasks`);
  t.is(events.status, 401);
  const post = await fetch(`${base}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'type=check_disk',
    redirect: 'manual',
  });
  t.is(post.status, 401);
  t.is((await client.query('SELECT count(*)::int AS n FROM sys.tasks')).rows[0].n, 0);
  await page.context().close();
});

test.serial('a wrong password is refused with one message for every cause', async (t) => {
  const page = await newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel('User').fill('admin');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  t.regex(await page.getByRole('alert').innerText(), /Wrong user name or password/);
  t.is(new URL(page.url()).pathname, '/login');
  await page.context().close();
});

test.serial(
  'overview, then check_disk from the page: live progress to COMPLETE, a finding, sign-out',
  async (t) => {
    // A corrupted data block in one segment, for check_disk to find.
    const seg = (await client.query('SELECT path FROM sys.segments ORDER BY storage_id LIMIT 1')).rows[0];
    const bytes = readFileSync(seg.path);
    bytes[bytes.length - 4096] ^= 0x5a;
    writeFileSync(seg.path, bytes);

    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD, '/');
    t.is(new URL(page.url()).pathname, '/');
    const clusters = page.getByRole('table').first();
    t.regex(await clusters.innerText(), /c1\s+c1_space\s+4 \+ 2\s+6 \/ 6/);
    const nodes = await page.locator('section[aria-labelledby="h-nodes"] tbody tr').allInnerTexts();
    t.is(nodes.length, 6);
    for (const n of nodes) t.regex(n, /^c1_n\d\s+c1\s+ONLINE\s+2$/);
    t.is(await page.locator('section[aria-labelledby="h-devices"] meter').count(), 12);
    const used = (await client.query('SELECT sum(used_bytes)::int8 AS u FROM sys.storage_devices')).rows[0].u;
    const meters = await page
      .locator('section[aria-labelledby="h-devices"] meter')
      .evaluateAll((ms) => ms.reduce((s, m) => s + Number(m.getAttribute('value')), 0));
    t.is(meters, Number(used));
    t.is(await page.getByTestId('reduced-count').innerText(), '0');
    t.regex(await page.getByText('Signed in as').innerText(), /admin.*sysadmin/);
    await page.screenshot({ path: join(DOCS, 'console-overview.png'), fullPage: true, clip: TOP });

    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await page.getByLabel('Name (optional)').fill('scrub from console');
    await page.getByLabel('Type').selectOption('check_disk');
    await page.getByLabel('Location', { exact: true }).selectOption('SYSTEM');
    // Only the chosen type's options are shown; a throttle makes the run last a few seconds.
    t.false(await page.locator('fieldset[data-type="rebuild"]').isVisible());
    await page.locator('#f-check_disk-max_bytes_per_sec').fill('200000');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/')[2];
    const row = (
      await client.query('SELECT name, type, status, created_by, options FROM sys.tasks WHERE id = $1', [id])
    ).rows[0];
    t.is(row.name, 'scrub from console');
    t.is(row.created_by, 'admin');
    t.is(row.options.max_bytes_per_sec, 200000);
    t.regex(
      await page.getByRole('status', { name: 'Statement result' }).innerText(),
      /CREATE TASK[\s\S]*created/,
    );

    // Live updates come over Server-Sent Events into this same document: mark it to prove there is no reload.
    await page.evaluate('window.notReloaded = true');
    const seen: number[] = [];
    const statuses = new Set<string>();
    let rateShown = false;
    let shot = false;
    for (const end = Date.now() + 60_000; Date.now() < end; ) {
      // One read of the document (not three locator calls) so that the values belong to one update.
      const s = (await page.evaluate(`({
      value: document.querySelector('#task-summary progress').value,
      status: document.querySelector('#task-summary dd.status').textContent,
      rate: document.querySelector('#task-summary dd.rate').textContent,
    })`)) as { value: number; status: string; rate: string };
      seen.push(s.value);
      statuses.add(s.status);
      if (s.status === 'RUNNING' && /\/s$/.test(s.rate)) rateShown = true;
      // The screenshot for the docs: mid-run, with the throughput plot drawn.
      if (rateShown && !shot && s.value >= 0.5 && (await page.locator('#task-plot svg').count())) {
        shot = true;
        await page.screenshot({ path: join(DOCS, 'console-task-running.png'), fullPage: true, clip: TOP });
      }
      if (s.status === 'COMPLETE') break;
      await page.waitForTimeout(150);
    }
    t.true(statuses.has('COMPLETE'), [...statuses].join(','));
    t.true(statuses.has('RUNNING'));
    const between = [...new Set(seen.filter((v) => v > 0 && v < 1))];
    t.true(between.length >= 3, `progress seen climbing: ${between.join(', ')}`);
    t.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
      'progress never goes back',
    );
    t.true(rateShown, 'a throughput was shown while running');
    t.true(
      await page.evaluate('window.notReloaded === true'),
      'the page was updated in place, never reloaded',
    );
    await page.locator('#task-findings table.findings').waitFor();
    const findings = await page.locator('#task-findings tbody tr').allInnerTexts();
    t.is(findings.length, 1);
    t.regex(findings[0], /CHECKSUM_MISMATCH/);
    const plot = page.locator('#task-plot svg[role="img"]');
    t.regex((await plot.getAttribute('aria-label')) ?? '', /Throughput over .*peak .*\/s/);
    t.true((await page.locator('#task-subtasks tbody tr').count()) >= 6);
    t.is(
      await page.locator('#task-subtasks tbody tr[data-status="COMPLETE"]').count(),
      await page.locator('#task-subtasks tbody tr').count(),
    );
    await page
      .locator('section[aria-labelledby="h-findings"]')
      .screenshot({ path: join(DOCS, 'console-findings.png') });

    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    const listed = page.locator(`tr[data-task="${id}"]`);
    t.is(await listed.getAttribute('data-status'), 'COMPLETE');
    t.regex(await listed.innerText(), /scrub from console\s+check_disk\s+SYSTEM\s+COMPLETE[\s\S]*100\.0 %/);
    await page.screenshot({ path: join(DOCS, 'console-tasks.png') });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${base}/tasks/${id}`);
    t.is(new URL(page.url()).pathname, '/login', 'the old session is gone');
    await page.context().close();
  },
);

test.serial(
  'a user without sysadmin can look but not create: the page shows 42501 as SQL would',
  async (t) => {
    const page = await newPage();
    await signIn(page, 'viewer', 'look-only', '/tasks');
    t.is(new URL(page.url()).pathname, '/tasks');
    t.regex(await page.getByText('Signed in as').innerText(), /viewer.*read only/);
    t.true((await page.locator('#tasks-body tr[data-task]').count()) >= 1, 'tasks are visible to any user');
    const before = (await client.query('SELECT count(*)::int AS n FROM sys.tasks')).rows[0].n;
    await page.getByLabel('Name (optional)').fill("viewer's try");
    await page.getByRole('button', { name: 'Create task' }).click();
    const alert = page.getByRole('alert', { name: 'Statement error' });
    t.is(await alert.locator('.sqlstate').innerText(), '42501');
    t.regex(await alert.innerText(), /permission denied: CREATE TASK requires the sysadmin role/);
    t.regex(await alert.innerText(), /CREATE TASK 'viewer''s try' TYPE 'check_disk'/);
    t.is(
      await page.getByLabel('Name (optional)').inputValue(),
      "viewer's try",
      'the form keeps what was typed',
    );
    t.is((await client.query('SELECT count(*)::int AS n FROM sys.tasks')).rows[0].n, before);
    await page.screenshot({ path: join(DOCS, 'console-denied.png') });
    await page.context().close();
  },
);

test.serial(
  'the task list updates live; an admin cancels from the task page; a forged form is refused',
  async (t) => {
    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD, '/tasks');
    await page.getByLabel('Name (optional)').fill('slow');
    await page.locator('#f-check_disk-max_bytes_per_sec').fill('100000');
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/')[2];

    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await page.evaluate('window.notReloaded = true');
    const progress = page.locator(`tr[data-task="${id}"] progress`);
    const first = Number(await progress.getAttribute('value'));
    // (Polled from here: the console's CSP rightly forbids the string evaluation waitForFunction uses.)
    for (const end = Date.now() + 20_000; Date.now() < end; await page.waitForTimeout(200))
      if (Number(await progress.getAttribute('value')) > first) break;
    t.true(Number(await progress.getAttribute('value')) > first, 'progress climbed in the list');
    t.regex(await page.locator(`tr[data-task="${id}"] td.rate`).innerText(), /\/s$/);
    t.true(await page.evaluate('window.notReloaded === true'), 'the list was updated in place');
    await page.getByRole('link', { name: 'slow', exact: true }).click();
    await page.waitForURL(new RegExp(`/tasks/${id}$`));

    // A cross-site form post carries the cookie (were it not SameSite=Strict) but not the token.
    const forged = await page.evaluate(
      async (url) =>
        (await fetch(url, { method: 'POST', body: new URLSearchParams({ csrf: 'guess' }) })).status,
      `/tasks/${id}/cancel`,
    );
    t.is(forged, 403);
    t.not(
      (await client.query('SELECT status FROM sys.tasks WHERE id = $1', [id])).rows[0].status,
      'CANCELLED',
    );

    // Pause and resume from the page run PAUSE TASK and RESUME TASK as the signed-in user.
    await page.getByRole('button', { name: /^Pause task/ }).click();
    await page.waitForURL(new RegExp(`/tasks/${id}$`));
    t.regex(
      await page.getByRole('status', { name: 'Statement result' }).innerText(),
      /PAUSE TASK[\s\S]*paused at/,
    );
    t.is((await client.query('SELECT status FROM sys.tasks WHERE id = $1', [id])).rows[0].status, 'PAUSED');
    await page.getByRole('button', { name: /^Resume task/ }).click();
    await page.waitForURL(new RegExp(`/tasks/${id}$`));
    t.regex(
      await page.getByRole('status', { name: 'Statement result' }).innerText(),
      /RESUME TASK[\s\S]*resumed/,
    );
    t.is((await client.query('SELECT status FROM sys.tasks WHERE id = $1', [id])).rows[0].status, 'RUNNING');

    await page.getByRole('button', { name: /^Cancel task/ }).click();
    await page.waitForURL(new RegExp(`/tasks/${id}$`));
    t.regex(
      await page.getByRole('status', { name: 'Statement result' }).innerText(),
      /CANCEL TASK[\s\S]*being cancelled/,
    );
    await page.locator('#task-summary dd.status[data-status="CANCELLED"]').waitFor({ timeout: 30_000 });
    t.is(
      (await client.query('SELECT status FROM sys.tasks WHERE id = $1', [id])).rows[0].status,
      'CANCELLED',
    );
    await page.context().close();
  },
);
