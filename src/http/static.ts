// The console's only stylesheet and script, served from memory: no build step, no framework. The script is
// progressive enhancement: every page works without it, it only adds live updates (Server-Sent Events) and
// shows the option fields of the chosen task type.

export const CONSOLE_CSS = `
:root { color-scheme: light dark; --bad: #b00020; --good: #1b7f3b; --line: #888; font-family: system-ui, sans-serif; }
body { margin: 0; line-height: 1.4; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--line); }
header nav { display: flex; flex: 1; align-items: center; gap: 1rem; }
header nav ul { display: flex; gap: 1rem; list-style: none; margin: 0; padding: 0; flex: 1; }
header a[aria-current="page"] { font-weight: bold; }
.brand { font-weight: bold; text-decoration: none; }
main { padding: 0 1rem 2rem; max-width: 80rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .6rem; text-align: left; vertical-align: top; }
td.bad, .bad, .error { color: var(--bad); }
td.good, .good { color: var(--good); }
.outcome { border: 1px solid var(--line); padding: .25rem 1rem; margin: 1rem 0; }
.outcome.error { border-color: var(--bad); }
.outcome.ok { border-color: var(--good); }
form.inline, form.logout { display: inline; }
fieldset { margin: .5rem 0; }
fieldset[hidden] { display: none; }
label { font-weight: 600; }
small { color: GrayText; }
dl.summary { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dl.summary dd { margin: 0; }
progress, meter { width: 10rem; }
svg.plot { max-width: 100%; height: auto; }
svg.plot .axis { stroke: var(--line); }
svg.plot .line { fill: none; stroke: #2a6fdb; stroke-width: 2; }
svg.plot text { font-size: 11px; fill: currentColor; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;

export const CONSOLE_JS = `
'use strict';
// Live updates: an element with data-sse="url" listens to that event stream; each message is a JSON object
// of element id -> HTML rendered (and escaped) by the server.
for (const el of document.querySelectorAll('[data-sse]')) {
  const source = new EventSource(el.dataset.sse);
  source.onmessage = (e) => {
    const parts = JSON.parse(e.data);
    for (const [id, markup] of Object.entries(parts)) {
      const target = document.getElementById(id);
      if (target) target.innerHTML = markup;
    }
  };
  source.addEventListener('end', () => source.close());
}
// The create form shows only the options of the chosen type (the others are disabled, so not sent).
const type = document.getElementById('f-type');
if (type) {
  const show = () => {
    for (const fs of document.querySelectorAll('fieldset[data-type]')) {
      const on = fs.dataset.type === type.value;
      fs.hidden = !on;
      fs.disabled = !on;
    }
  };
  type.addEventListener('change', show);
  show();
}
`;
