// The console's pages and the fragments that Server-Sent Events replace in them. One function renders each
// fragment, for the first page load and for every live update alike.
import type {
  ClusterSummary,
  DeviceUsage,
  Finding,
  GroupHealth,
  SubtaskSummary,
  TaskSummary,
} from '../../catalog/observe';
import type { SqlOutcome } from './console-sql';
import { bytes, duration, Html, html, layout, percent, rate } from './html';
import { meanRate, type ProgressTracker, type Sample, throughputSeries } from './progress';
import type { ConsoleSession } from './sessions';
import type { TaskTypeForm } from './task-sql';

// Tasks that have not ended: their pages keep updating (a PAUSED task can be resumed, so it has not ended).
export const ACTIVE = new Set(['PENDING', 'RUNNING', 'PAUSED', 'CANCELLING']);

export interface Viewer {
  session: ConsoleSession;
  sysadmin: boolean;
}

function page(v: Viewer, title: string, current: 'overview' | 'tasks' | undefined, body: Html): string {
  const flash = v.session.flash ? new Html(v.session.flash) : '';
  v.session.flash = undefined;
  return layout(
    { title, user: v.session.user, sysadmin: v.sysadmin, csrf: v.session.csrf, current },
    html`${flash}${body}`,
  ).text;
}

export function loginPage(error: string | null, user = '', next = '/'): string {
  return layout(
    { title: 'Sign in' },
    html`<h1>Sign in</h1>
<p>Sign in with a segtasks user (the same user name and password as for psql).</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login" class="login">
  <input type="hidden" name="next" value="${next}">
  <p><label for="user">User</label> <input id="user" name="user" autocomplete="username" required value="${user}" autofocus></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
  <p><button type="submit">Sign in</button></p>
</form>`,
  ).text;
}

export function outcomeBox(sql: string, o: SqlOutcome): Html {
  if (o.ok) {
    return html`<section class="outcome ok" role="status" aria-label="Statement result">
<p><code>${sql}</code></p><p><strong>${o.tag}</strong></p>
${o.notices.map((n) => html`<p>NOTICE: ${n.message}</p>`)}
</section>`;
  }
  return html`<section class="outcome error" role="alert" aria-label="Statement error">
<p><code>${sql}</code></p>
<p><strong>ERROR: ${o.message}</strong></p>
<p>SQLSTATE: <code class="sqlstate">${o.code}</code></p>
${o.detail ? html`<p>DETAIL: ${o.detail}</p>` : ''}${o.hint ? html`<p>HINT: ${o.hint}</p>` : ''}
</section>`;
}

// ---------- overview ----------

export interface OverviewData {
  clusters: ClusterSummary[];
  nodes: { name: string; cluster_name: string; status: string; devices: number }[];
  devices: DeviceUsage[];
  segments: { cluster: string; status: string; n: number }[];
  reduced: GroupHealth[];
}

const SEGMENT_STATUSES = ['INTACT', 'REBUILDING', 'DAMAGED', 'MISSING'];

export function overviewPage(v: Viewer, d: OverviewData): string {
  const segCount = (cluster: string, status: string) =>
    d.segments.find((s) => s.cluster === cluster && s.status === status)?.n ?? 0;
  const body = html`<h1>Overview</h1>
<section aria-labelledby="h-clusters"><h2 id="h-clusters">Clusters</h2>
${
  d.clusters.length
    ? html`<table><thead><tr><th scope="col">Cluster</th><th scope="col">Storage space</th><th scope="col">Width + parity</th><th scope="col">Nodes online</th><th scope="col">Tables</th><th scope="col">Data</th></tr></thead><tbody>
${d.clusters.map(
  (c) =>
    html`<tr><th scope="row">${c.name}</th><td>${c.storage_space}</td><td>${c.width - c.parity_width} + ${c.parity_width}</td><td>${c.nodes_online} / ${c.nodes}</td><td>${c.tables}</td><td>${bytes(c.bytes)}</td></tr>`,
)}</tbody></table>`
    : html`<p>No clusters yet: create one with <code>CREATE CLUSTER</code>.</p>`
}
</section>
<section aria-labelledby="h-health"><h2 id="h-health">Segment health</h2>
<table><thead><tr><th scope="col">Cluster</th>${SEGMENT_STATUSES.map((s) => html`<th scope="col">${s}</th>`)}</tr></thead><tbody>
${d.clusters.map(
  (c) =>
    html`<tr><th scope="row">${c.name}</th>${SEGMENT_STATUSES.map((s) => html`<td class="${s !== 'INTACT' && segCount(c.name, s) ? 'bad' : ''}" data-status="${s}">${segCount(c.name, s)}</td>`)}</tr>`,
)}</tbody></table>
<h3 id="h-reduced">Segment groups at reduced fault tolerance: <span data-testid="reduced-count">${d.reduced.length}</span></h3>
${
  d.reduced.length
    ? html`<table aria-labelledby="h-reduced"><thead><tr><th scope="col">Group</th><th scope="col">Cluster</th><th scope="col">Table</th><th scope="col">Status</th><th scope="col">Segments not intact</th><th scope="col">Losses still survivable</th></tr></thead><tbody>
${d.reduced.map(
  (g) =>
    html`<tr><td>${g.id}</td><td>${g.cluster_name}</td><td>${g.table_name}</td><td>${g.status}</td><td>${g.unhealthy}</td><td>${Math.max(0, g.parity_width - g.unhealthy)}${g.unhealthy > g.parity_width ? ' (data lost)' : ''}</td></tr>`,
)}</tbody></table>`
    : html`<p>Every segment group has its full parity.</p>`
}
</section>
<section aria-labelledby="h-nodes"><h2 id="h-nodes">Nodes</h2>
<table><thead><tr><th scope="col">Node</th><th scope="col">Cluster</th><th scope="col">Status</th><th scope="col">Devices</th></tr></thead><tbody>
${d.nodes.map(
  (n) =>
    html`<tr><th scope="row">${n.name}</th><td>${n.cluster_name}</td><td class="${n.status === 'ONLINE' ? 'good' : 'bad'}">${n.status}</td><td>${n.devices}</td></tr>`,
)}</tbody></table>
</section>
<section aria-labelledby="h-devices"><h2 id="h-devices">Devices</h2>
<table><thead><tr><th scope="col">Node</th><th scope="col">Path</th><th scope="col">Status</th><th scope="col">Segments</th><th scope="col">Used / capacity</th></tr></thead><tbody>
${d.devices.map((dev) => {
  const frac = dev.capacity_bytes > 0 ? dev.used_bytes / dev.capacity_bytes : 0;
  return html`<tr><td>${dev.node_name}</td><td><code>${dev.path}</code></td><td class="${dev.status === 'ACTIVE' ? 'good' : 'bad'}">${dev.status}</td><td>${dev.segments}</td>
<td><meter min="0" max="${dev.capacity_bytes}" value="${dev.used_bytes}" high="${dev.capacity_bytes * 0.85}" optimum="0" aria-label="used on ${dev.path}">${percent(frac)}</meter> ${bytes(dev.used_bytes)} / ${bytes(dev.capacity_bytes)} (${percent(frac)})</td></tr>`;
})}</tbody></table>
</section>`;
  return page(v, 'Overview', 'overview', body);
}

// ---------- tasks ----------

function progressCell(t: { fraction_complete: number; status: string }, label: string): Html {
  const f = t.status === 'COMPLETE' ? 1 : t.fraction_complete;
  return html`<progress max="1" value="${f}" aria-label="${label}">${percent(f)}</progress> <span class="pct">${percent(f)}</span>`;
}

function actionButton(v: Viewer, t: TaskSummary, action: 'cancel' | 'pause' | 'resume', label: string): Html {
  return html`<form method="post" action="/tasks/${t.id}/${action}" class="inline">
<input type="hidden" name="csrf" value="${v.session.csrf}"><button type="submit" aria-label="${label} task ${t.name ?? t.id}">${label}</button></form>`;
}

/** Pause or Resume (as the status allows) and Cancel, for a task that has not ended. */
function cancelButton(v: Viewer, t: TaskSummary): Html | string {
  if (!ACTIVE.has(t.status) || t.status === 'CANCELLING') return '';
  const toggle =
    t.status === 'PAUSED' ? actionButton(v, t, 'resume', 'Resume') : actionButton(v, t, 'pause', 'Pause');
  return html`${toggle} ${actionButton(v, t, 'cancel', 'Cancel')}`;
}

export function taskRows(v: Viewer, tasks: TaskSummary[], tracker: ProgressTracker): Html {
  if (!tasks.length) return html`<tr><td colspan="9">No tasks yet.</td></tr>`;
  return html`${tasks.map((t) => {
    const r = tracker.rateEta(t);
    return html`<tr data-task="${t.id}" data-status="${t.status}">
<td><a href="/tasks/${t.id}">${t.name ?? t.id.slice(0, 8)}</a></td><td>${t.type}</td><td>${t.location_type}${t.location_name ? ` ${t.location_name}` : ''}</td>
<td class="status">${t.status}</td><td>${progressCell(t, `progress of ${t.name ?? t.id}`)}</td>
<td>${bytes(t.bytes_done)} / ${bytes(t.bytes_total)}</td><td class="rate">${rate(r.rate)}</td><td class="eta">${duration(r.etaSeconds)}</td>
<td>${t.findings}</td><td>${cancelButton(v, t)}</td></tr>`;
  })}`;
}

export interface TaskFormValues {
  name: string;
  type: string;
  location: string;
  locationName: string;
  options: Record<string, string>;
}

function createForm(
  v: Viewer,
  f: TaskFormValues,
  types: readonly TaskTypeForm[],
  places: { clusters: string[]; nodes: string[] },
): Html {
  const opt = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}" ${selected ? new Html('selected') : ''}>${label}</option>`;
  return html`<section aria-labelledby="h-create"><h2 id="h-create">Create a task</h2>
${v.sysadmin ? '' : html`<p class="note">Creating and cancelling tasks needs the sysadmin role; the statement will be refused with 42501.</p>`}
<form method="post" action="/tasks" class="create" id="create-task">
<input type="hidden" name="csrf" value="${v.session.csrf}">
<p><label for="f-name">Name (optional)</label> <input id="f-name" name="name" value="${f.name}"></p>
<p><label for="f-type">Type</label> <select id="f-type" name="type">${types.map((t) => opt(t.name, t.name, f.type === t.name))}</select></p>
<p><label for="f-location">Location</label> <select id="f-location" name="location">${['SYSTEM', 'CLUSTER', 'NODE'].map((l) => opt(l, l, f.location === l))}</select>
<label for="f-location-name">Cluster or node name</label> <input id="f-location-name" name="location_name" list="places" value="${f.locationName}">
<datalist id="places">${[...places.clusters, ...places.nodes].map((p) => html`<option value="${p}"></option>`)}</datalist></p>
${types.map(
  ({ name: type, options }) =>
    html`<fieldset data-type="${type}"><legend>Options of ${type} (empty = default)</legend>
${Object.entries(options).map(([key, def]) => {
  const id = `f-${type}-${key}`;
  const name = `opt.${type}.${key}`;
  const value = f.type === type ? (f.options[key] ?? '') : '';
  const input =
    def.kind === 'bool'
      ? html`<select id="${id}" name="${name}">${opt('', `default (${String(def.default)})`, value === '')}${opt('true', 'true', value === 'true')}${opt('false', 'false', value === 'false')}</select>`
      : html`<input id="${id}" name="${name}" value="${value}" placeholder="${def.default === null ? '' : String(def.default)}">`;
  return html`<p><label for="${id}">${key}</label> ${input} <small>${def.describe}${def.kind.endsWith('_list') ? ' (comma-separated)' : ''}</small></p>`;
})}</fieldset>`,
)}
<p><button type="submit">Create task</button></p>
</form></section>`;
}

export function tasksPage(
  v: Viewer,
  tasks: TaskSummary[],
  tracker: ProgressTracker,
  form: TaskFormValues,
  types: readonly TaskTypeForm[],
  places: { clusters: string[]; nodes: string[] },
  outcome: Html | string = '',
): string {
  const body = html`<h1>Tasks</h1>
${outcome}
<section aria-labelledby="h-list"><h2 id="h-list">All tasks</h2>
<p class="hint">Progress, throughput and ETA update live.</p>
<table class="tasks" data-sse="/events/tasks"><thead><tr><th scope="col">Task</th><th scope="col">Type</th><th scope="col">Location</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Bytes</th><th scope="col">Throughput</th><th scope="col">ETA</th><th scope="col">Findings</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody id="tasks-body">${taskRows(v, tasks, tracker)}</tbody></table>
</section>
${createForm(v, form, types, places)}`;
  return page(v, 'Tasks', 'tasks', body);
}

export interface TaskDetail {
  task: TaskSummary;
  subtasks: SubtaskSummary[];
  findings: Finding[];
}

export function taskSummary(v: Viewer, d: TaskDetail, tracker: ProgressTracker): Html {
  const t = d.task;
  const r = tracker.rateEta(t);
  return html`<dl class="summary">
<dt>Status</dt><dd class="status" data-status="${t.status}">${t.status}</dd>
<dt>Progress</dt><dd>${progressCell(t, 'task progress')}</dd>
<dt>Bytes</dt><dd>${bytes(t.bytes_done)} of ${bytes(t.bytes_total)}</dd>
<dt>Segments</dt><dd>${t.segments_done} of ${t.segments_total} (${t.segments_failed} failed)</dd>
<dt>Throughput</dt><dd class="rate">${ACTIVE.has(t.status) ? rate(r.rate) : `${rate(meanRate(t))} (mean)`}</dd>
<dt>ETA</dt><dd class="eta">${duration(r.etaSeconds)}</dd>
<dt>Created</dt><dd>${t.created_at} by ${t.created_by}</dd>
<dt>Started</dt><dd>${t.started_at ?? '–'}</dd>
<dt>Finished</dt><dd>${t.finished_at ?? '–'}</dd>
${t.error ? html`<dt>Error</dt><dd class="bad">${t.error}</dd>` : ''}
</dl>${cancelButton(v, t)}`;
}

export function subtaskTable(d: TaskDetail): Html {
  return html`<table><thead><tr><th scope="col">Subtask</th><th scope="col">Node</th><th scope="col">Device</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Bytes</th><th scope="col">Segments</th></tr></thead><tbody>
${d.subtasks.map(
  (s) =>
    html`<tr data-status="${s.status}"><td>${s.description}</td><td>${s.node_name ?? '–'}</td><td><code>${s.device_path ?? '–'}</code></td><td>${s.status}${s.error ? html` <span class="bad">${s.error}</span>` : ''}</td>
<td>${progressCell(s, `progress of ${s.description}`)}</td><td>${bytes(s.bytes_done)} / ${bytes(s.bytes_total)}</td><td>${s.segments_done} / ${s.segments_total}${s.segments_failed ? ` (${s.segments_failed} failed)` : ''}</td></tr>`,
)}</tbody></table>`;
}

export function findingsTable(d: TaskDetail): Html {
  if (!d.findings.length) return html`<p data-testid="no-findings">No findings.</p>`;
  return html`<table class="findings"><thead><tr><th scope="col">Result</th><th scope="col">Node</th><th scope="col">Group</th><th scope="col">Segment</th><th scope="col">Detail</th></tr></thead><tbody>
${d.findings.map(
  (f) =>
    html`<tr><td class="bad">${f.result}</td><td>${f.node_name ?? '–'}</td><td>${f.segment_group_id ?? '–'}</td><td><code>${f.storage_id ?? '–'}</code></td><td>${f.detail ?? ''}</td></tr>`,
)}</tbody></table>`;
}

/** Throughput over time as an inline SVG line plot. */
export function throughputPlot(samples: Sample[]): Html {
  const series = throughputSeries(samples);
  if (series.length < 2)
    return html`<p>No throughput samples yet: the console samples a task every half second while it runs.</p>`;
  const W = 640;
  const H = 200;
  const L = 70;
  const B = 30;
  const t0 = series[0].at;
  const span = Math.max(1, series[series.length - 1].at - t0);
  const max = Math.max(1, ...series.map((p) => p.rate));
  const x = (at: number) => L + ((at - t0) / span) * (W - L - 10);
  const y = (r: number) => H - B - (r / max) * (H - B - 10);
  const points = series.map((p) => `${x(p.at).toFixed(1)},${y(p.rate).toFixed(1)}`).join(' ');
  const mean = series.reduce((s, p) => s + p.rate, 0) / series.length;
  const label = `Throughput over ${duration(span / 1000)}: peak ${rate(max)}, mean ${rate(mean)}`;
  return html`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${label}" class="plot">
<title>${label}</title>
<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" class="axis"/>
<line x1="${L}" y1="10" x2="${L}" y2="${H - B}" class="axis"/>
<text x="${L - 6}" y="14" text-anchor="end">${rate(max)}</text>
<text x="${L - 6}" y="${H - B}" text-anchor="end">0</text>
<text x="${L}" y="${H - 8}">0 s</text>
<text x="${W - 10}" y="${H - 8}" text-anchor="end">${duration(span / 1000)}</text>
<polyline points="${points}" class="line"/>
</svg>`;
}

export function taskPage(v: Viewer, d: TaskDetail, tracker: ProgressTracker): string {
  const t = d.task;
  const body = html`<h1>Task ${t.name ?? t.id}</h1>
<p><code>${t.id}</code> · ${t.type} on ${t.location_type}${t.location_name ? ` ${t.location_name}` : ''} · options <code>${t.options}</code></p>
<div data-sse="/events/tasks/${t.id}">
<section aria-labelledby="h-summary"><h2 id="h-summary">Progress</h2><div id="task-summary">${taskSummary(v, d, tracker)}</div></section>
<section aria-labelledby="h-plot"><h2 id="h-plot">Throughput</h2><div id="task-plot">${throughputPlot(tracker.samples(t.id))}</div></section>
<section aria-labelledby="h-subtasks"><h2 id="h-subtasks">Subtasks</h2><div id="task-subtasks">${subtaskTable(d)}</div></section>
<section aria-labelledby="h-findings"><h2 id="h-findings">Findings</h2><div id="task-findings">${findingsTable(d)}</div></section>
</div>`;
  return page(v, `Task ${t.name ?? t.id.slice(0, 8)}`, 'tasks', body);
}

export function notFoundPage(v: Viewer, what: string): string {
  return page(v, 'Not found', undefined, html`<h1>Not found</h1><p>${what}</p>`);
}
