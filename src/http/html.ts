// HTML building for the console: every value goes through esc() (or a tagged template that calls it), so
// names typed by users (tasks, nodes, paths, error messages) can never become markup.

/** Markup that is already safe, as produced by html`` or raw(). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function esc(v: unknown): string {
  return String(v ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

type Part = Html | string | number | null | undefined | boolean | Part[];

function render(p: Part): string {
  if (p instanceof Html) return p.text;
  if (Array.isArray(p)) return p.map(render).join('');
  if (p === null || p === undefined || p === false || p === true) return '';
  return esc(p);
}

/** Tagged template: interpolations are escaped unless they are Html. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function rate(bps: number | null): string {
  return bps === null ? '–' : `${bytes(bps)}/s`;
}

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function percent(fraction: number): string {
  return `${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(1)} %`;
}

export interface LayoutOptions {
  title: string;
  user?: string;
  sysadmin?: boolean;
  csrf?: string;
  /** Which navigation entry is the current page. */
  current?: 'overview' | 'tasks';
}

export function layout(o: LayoutOptions, body: Html): Html {
  const nav = o.user
    ? html`<nav aria-label="Main">
        <ul>
          <li><a href="/" ${o.current === 'overview' ? new Html('aria-current="page"') : ''}>Overview</a></li>
          <li><a href="/tasks" ${o.current === 'tasks' ? new Html('aria-current="page"') : ''}>Tasks</a></li>
          <li><a href="/metrics">Metrics</a></li>
        </ul>
        <form method="post" action="/logout" class="logout">
          <input type="hidden" name="csrf" value="${o.csrf}">
          <span>Signed in as <strong>${o.user}</strong>${o.sysadmin ? ' (sysadmin)' : ' (read only)'}</span>
          <button type="submit">Sign out</button>
        </form>
      </nav>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · segtasks</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body>
<header><a class="brand" href="/">segtasks</a>${nav}</header>
<main id="main">
${body}
</main>
</body>
</html>
`;
}
