// The HTTP side of the server: GET /metrics for Prometheus, and the web console behind a login with the
// segtasks users. node:http is enough for a handful of routes, form posts and Server-Sent Events; a framework
// would add more surface than it saves (docs/decisions.md).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { CatalogObserver, TaskSummary } from '../../catalog/observe';
import type { Users } from '../../catalog/users';
import { checkPassword } from '../../pg/auth';
import type { QueryHandler } from '../../wire/handler';
import { runAs } from './console-sql';
import type { Html } from './html';
import type { Metrics } from './metrics';
import {
  ACTIVE,
  findingsTable,
  loginPage,
  notFoundPage,
  outcomeBox,
  overviewPage,
  subtaskTable,
  type TaskDetail,
  type TaskFormValues,
  taskPage,
  taskRows,
  taskSummary,
  tasksPage,
  throughputPlot,
  type Viewer,
} from './pages';
import { ProgressTracker } from './progress';
import { type ConsoleSession, csrfMatches, parseCookies, SESSION_COOKIE, SessionStore } from './sessions';
import { CONSOLE_CSS, CONSOLE_JS } from './static';
import { createTaskSql, type TaskAction, type TaskTypeForm, taskActionSql } from './task-sql';

export interface HttpServerDeps {
  observer: CatalogObserver;
  users: Users;
  /** The query handler the wire server uses: the console's statements take exactly the same path. */
  handler: QueryHandler;
  metrics: Metrics;
  /** The task types of this build, for the create form. */
  taskTypes: readonly TaskTypeForm[];
  logger: Logger;
  /** How often live pages and the rate sampler read the catalog. */
  pollMs?: number;
  sessionIdleMs?: number;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_FORM_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class HttpServer {
  private readonly server: Server;
  private readonly sessions: SessionStore;
  private readonly tracker = new ProgressTracker();
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<() => void>();
  private readonly pollMs: number;
  private sampler: NodeJS.Timeout | null = null;
  private lastActive = new Set<string>();

  constructor(private readonly deps: HttpServerDeps) {
    this.pollMs = deps.pollMs ?? 500;
    this.sessions = new SessionStore(deps.sessionIdleMs);
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err) => this.fail(res, err));
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.sampler = setInterval(() => void this.sample(), this.pollMs);
    this.sampler.unref();
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    for (const stop of this.streams) stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Records the bytes done of running tasks, and a last sample of those that just ended. */
  private async sample(): Promise<void> {
    try {
      const active = await this.deps.observer.activeTasks();
      const now = new Set(active.map((t) => t.id));
      const ended: TaskSummary[] = [];
      for (const id of this.lastActive) {
        if (now.has(id)) continue;
        const t = await this.deps.observer.task(id);
        if (t) ended.push(t);
      }
      this.tracker.record([...active, ...ended]);
      this.lastActive = now;
    } catch (err) {
      this.deps.logger.warn({ err }, 'console: sampling task progress failed');
    }
  }

  // ---------- routing ----------

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/metrics') return this.metrics(res);
    if (method === 'GET' && path === '/static/console.css') return send(res, 200, 'text/css', CONSOLE_CSS);
    if (method === 'GET' && path === '/static/console.js')
      return send(res, 200, 'text/javascript', CONSOLE_JS);
    if (path === '/login') {
      if (method === 'GET')
        return this.html(res, 200, loginPage(null, '', safeNext(url.searchParams.get('next'))));
      if (method === 'POST') return this.login(req, res);
    }

    const session = await this.session(req);
    if (!session) {
      if (method === 'GET' && !path.startsWith('/events/'))
        return redirect(res, `/login?next=${encodeURIComponent(path + url.search)}`);
      throw new HttpError(401, 'sign in first');
    }
    const viewer: Viewer = { session, sysadmin: await this.deps.users.isSysadmin(session.user) };
    if (method === 'POST') {
      const form = await readForm(req);
      if (!sameOrigin(req) || !csrfMatches(session, form.get('csrf') ?? undefined))
        throw new HttpError(
          403,
          'the form is stale or comes from another site: reload the page and try again',
        );
      if (path === '/logout') {
        this.sessions.end(session.id);
        res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
        return redirect(res, '/login');
      }
      if (path === '/tasks') return this.createTask(res, viewer, form);
      const action = /^\/tasks\/([^/]+)\/(cancel|pause|resume)$/.exec(path);
      if (action) return this.taskAction(res, viewer, action[2] as TaskAction, decodeURIComponent(action[1]));
      throw new HttpError(404, 'no such page');
    }
    if (method !== 'GET') throw new HttpError(405, 'method not allowed');
    if (path === '/') return this.html(res, 200, overviewPage(viewer, await this.overview()));
    if (path === '/tasks') return this.tasksList(res, viewer, emptyForm());
    if (path === '/events/tasks') return this.stream(req, res, session, () => this.tasksFragments(viewer));
    const events = /^\/events\/tasks\/([^/]+)$/.exec(path);
    if (events) {
      const id = events[1];
      return this.stream(req, res, session, async () => {
        const d = await this.detail(id);
        if (!d) return null;
        return {
          parts: this.taskFragments(viewer, d),
          done: !ACTIVE.has(d.task.status),
        };
      });
    }
    const task = /^\/tasks\/([^/]+)$/.exec(path);
    if (task) {
      const d = await this.detail(decodeURIComponent(task[1]));
      if (!d) return this.html(res, 404, notFoundPage(viewer, 'There is no task with that id.'));
      return this.html(res, 200, taskPage(viewer, d, this.tracker));
    }
    return this.html(res, 404, notFoundPage(viewer, 'There is no such page.'));
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const text = await this.deps.metrics.text();
    res.writeHead(200, { 'Content-Type': this.deps.metrics.contentType, 'Cache-Control': 'no-store' });
    res.end(text);
  }

  // ---------- login ----------

  private async session(req: IncomingMessage): Promise<ConsoleSession | undefined> {
    const s = this.sessions.touch(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    // A dropped user's sessions end with it.
    if (s && !(await this.deps.users.exists(s.user))) {
      this.sessions.endUser(s.user);
      return undefined;
    }
    return s;
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    if (!sameOrigin(req)) throw new HttpError(403, 'sign-in form from another site');
    const user = form.get('user') ?? '';
    const password = form.get('password') ?? '';
    const next = safeNext(form.get('next'));
    const ok = user !== '' && checkPassword(user, password, await this.deps.users.credentials(user));
    this.deps.metrics.login(ok);
    if (!ok) {
      this.deps.logger.info({ user }, 'console: failed sign-in');
      // One message for an unknown user and a wrong password, as the wire protocol's 28P01.
      return this.html(res, 401, loginPage('Wrong user name or password.', user, next));
    }
    const s = this.sessions.create(user);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Strict`);
    return redirect(res, next);
  }

  // ---------- pages ----------

  private async overview() {
    const o = this.deps.observer;
    return {
      clusters: await o.clusters(),
      nodes: await o.nodes(),
      devices: await o.devices(),
      segments: await o.segmentCounts(),
      reduced: await o.reducedGroups(),
    };
  }

  private async places() {
    return {
      clusters: (await this.deps.observer.clusters()).map((c) => c.name),
      nodes: (await this.deps.observer.nodes()).map((n) => n.name),
    };
  }

  private async tasksList(
    res: ServerResponse,
    v: Viewer,
    form: TaskFormValues,
    status = 200,
    outcome: Html | string = '',
  ): Promise<void> {
    const tasks = await this.deps.observer.recentTasks();
    const places = await this.places();
    this.html(res, status, tasksPage(v, tasks, this.tracker, form, this.deps.taskTypes, places, outcome));
  }

  private async detail(id: string): Promise<TaskDetail | null> {
    if (!UUID.test(id)) return null;
    const task = await this.deps.observer.task(id);
    if (!task) return null;
    return {
      task,
      subtasks: await this.deps.observer.subtasks(id),
      findings: await this.deps.observer.findings(id),
    };
  }

  private async tasksFragments(v: Viewer): Promise<{ parts: Record<string, string>; done: boolean }> {
    return {
      parts: { 'tasks-body': taskRows(v, await this.deps.observer.recentTasks(), this.tracker).text },
      done: false,
    };
  }

  private taskFragments(v: Viewer, d: TaskDetail): Record<string, string> {
    return {
      'task-summary': taskSummary(v, d, this.tracker).text,
      'task-plot': throughputPlot(this.tracker.samples(d.task.id)).text,
      'task-subtasks': subtaskTable(d).text,
      'task-findings': findingsTable(d).text,
    };
  }

  private async createTask(res: ServerResponse, v: Viewer, form: URLSearchParams): Promise<void> {
    const values: TaskFormValues = {
      name: form.get('name') ?? '',
      type: form.get('type') ?? '',
      location: form.get('location') ?? 'SYSTEM',
      locationName: form.get('location_name') ?? '',
      options: {},
    };
    const prefix = `opt.${values.type}.`;
    for (const [k, val] of form) if (k.startsWith(prefix)) values.options[k.slice(prefix.length)] = val;
    const sql = createTaskSql(values, this.deps.taskTypes);
    const outcome = await runAs(this.deps.handler, v.session.user, sql);
    if (!outcome.ok) return this.tasksList(res, v, values, 400, outcomeBox(sql, outcome));
    v.session.flash = outcomeBox(sql, outcome).text;
    const id = outcome.notices.map((n) => /^task ([0-9a-f-]{36})/.exec(n.message)?.[1]).find(Boolean);
    return redirect(res, id ? `/tasks/${id}` : '/tasks');
  }

  /** CANCEL, PAUSE or RESUME TASK, run as SQL by the signed-in user: the same rules and errors as psql. */
  private async taskAction(res: ServerResponse, v: Viewer, action: TaskAction, id: string): Promise<void> {
    const sql = taskActionSql(action, id);
    const outcome = await runAs(this.deps.handler, v.session.user, sql);
    v.session.flash = outcomeBox(sql, outcome).text;
    return redirect(res, UUID.test(id) ? `/tasks/${id}` : '/tasks');
  }

  // ---------- live updates ----------

  /**
   * Server-Sent Events: every pollMs the fragments are rendered from the catalog and sent when they changed.
   * `render` returns null when the thing watched is gone; `done` ends the stream after the last update.
   */
  private stream(
    req: IncomingMessage,
    res: ServerResponse,
    session: ConsoleSession,
    render: () => Promise<{ parts: Record<string, string>; done: boolean } | null>,
  ): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    let last = '';
    let sinceHeartbeat = 0;
    let rendering = false;
    let stopped = false;
    const tick = async () => {
      if (!this.sessions.alive(session.id)) return stop();
      // A render still reading the catalog when the next tick comes: that tick is skipped.
      if (rendering) return;
      rendering = true;
      let r: Awaited<ReturnType<typeof render>>;
      try {
        r = await render();
      } catch (err) {
        this.deps.logger.warn({ err }, 'console: a live page could not read the catalog');
        return;
      } finally {
        rendering = false;
      }
      if (stopped) return;
      if (!r) return stop();
      const data = JSON.stringify(r.parts);
      if (data !== last) {
        res.write(`data: ${data}\n\n`);
        last = data;
        sinceHeartbeat = 0;
      } else if ((sinceHeartbeat += this.pollMs) >= 15000) {
        res.write(': keep-alive\n\n');
        sinceHeartbeat = 0;
      }
      if (r.done) {
        res.write('event: end\ndata: {}\n\n');
        stop();
      }
    };
    const timer = setInterval(() => void tick(), this.pollMs);
    const stop = () => {
      stopped = true;
      clearInterval(timer);
      this.streams.delete(stop);
      res.end();
    };
    this.streams.add(stop);
    req.on('close', stop);
    void tick();
  }

  // ---------- responses ----------

  private html(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body);
  }

  private fail(res: ServerResponse, err: unknown): void {
    const status = err instanceof HttpError ? err.status : 500;
    if (status === 500) this.deps.logger.error({ err }, 'console: request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    const message = err instanceof HttpError ? err.message : 'internal error';
    send(res, status, 'text/plain; charset=utf-8', `${status}: ${message}\n`);
  }
}

function emptyForm(): TaskFormValues {
  return { name: '', type: 'check_disk', location: 'SYSTEM', locationName: '', options: {} };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  res.end(body);
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(303, { ...SECURITY_HEADERS, Location: to });
  res.end();
}

/** Only local paths: a `next` of //evil.example or https://... would make the login an open redirect. */
function safeNext(next: string | null | undefined): string {
  return next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/** A browser sends Origin with every POST; when it names another host, the form was not ours. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded'))
    throw new HttpError(415, 'expected a form (application/x-www-form-urlencoded)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
