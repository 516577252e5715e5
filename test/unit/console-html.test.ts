// Console markup: every interpolated value is escaped; sessions expire and CSRF tokens must match.
import test from 'ava';
import { bytes, duration, esc, Html, html } from '../../src/http/html';
import { csrfMatches, parseCookies, SessionStore } from '../../src/http/sessions';

test('html`` escapes values but not nested markup', (t) => {
  const name = `<script>alert("x")</script>&'`;
  t.is(
    html`<td title="${name}">${name}</td>${html`<b>${1}</b>`}${[html`<i>a</i>`, '<']}`.text,
    '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td><b>1</b><i>a</i>&lt;',
  );
  t.is(esc(null), '');
  t.true(new Html('<p>') instanceof Html);
});

test('sizes and durations read as a person would write them', (t) => {
  t.is(bytes(512), '512 B');
  t.is(bytes(1536), '1.5 KiB');
  t.is(bytes(200 * 1024 * 1024), '200 MiB');
  t.is(duration(42.4), '42 s');
  t.is(duration(125), '2 min 5 s');
  t.is(duration(null), '–');
});

test('sessions end after their idle time and are extended by use', (t) => {
  let now = 0;
  const s = new SessionStore(1000, () => now);
  const a = s.create('admin');
  now = 900;
  t.is(s.touch(a.id)?.user, 'admin');
  now = 1800;
  t.true(s.alive(a.id));
  now = 1900;
  t.false(s.alive(a.id));
  t.is(s.touch(a.id), undefined);
  t.is(s.touch('nope'), undefined);
  const b = s.create('viewer');
  t.true(csrfMatches(b, b.csrf));
  t.false(csrfMatches(b, a.csrf));
  t.false(csrfMatches(b, undefined));
  s.endUser('viewer');
  t.is(s.touch(b.id), undefined);
});

test('cookies are parsed, malformed encodings ignored', (t) => {
  const c = parseCookies('a=1; segtasks_session=x%2By; bad=%E0%A4%A');
  t.is(c.get('a'), '1');
  t.is(c.get('segtasks_session'), 'x+y');
  t.false(c.has('bad'));
});
