// The differential oracle (issue 9): every statement of the corpus (test/oracle/corpus/*.sql, hand-written
// edge cases of the SQL docs/sql.md claims) and of the captured client traffic (test/fixtures/captures/*.json,
// recorded from real clients against a real PostgreSQL 15 by test/tools/capture-proxy.ts) runs on segtasks and
// on a real PostgreSQL 15 holding the same sys tables with the same rows (mirror.ts). Compared: column names,
// type OIDs, rows as text (in order when the outermost query has ORDER BY, as multisets otherwise) and the
// SQLSTATE of errors. Every difference must be listed, with its reason, in test/oracle/allowlist.json; the test
// fails on a difference not listed and on a listed entry that no longer differs (so the list only shrinks).
//
// What is the same by design: the rows (copied from segtasks, so ids and recorded timestamps are identical),
// the session (both UTC, user "admin", database "segtasks"). What differs by design, and how it is handled:
// the OIDs of user objects (the sys schema, its tables, row types, indexes, constraints, the admin role) are
// assigned by each server; in columns of an OID type (oid, reg*, oid[], oidvector) such a value is replaced by
// the object's name on both sides (compare.ts), and nowhere else: a query that shows them as integers, or
// that shows runtime values (version(), pg_backend_pid(), now()), differs and is allowlisted as such.
// Captured statements may carry OIDs as literals (psql's \d chain asks for `c.oid = '16390'` after finding the
// table): the capture was made against a fresh PostgreSQL given the same DDL, which assigns the same OIDs, so
// such a literal is rewritten, for segtasks only, to segtasks's OID of the object of that name.
// Each statement that may change session state is followed by ROLLBACK and DISCARD ALL on both sides.
//
// Run: `npx tsc -p tsconfig.json && npx ava dist/test/oracle/oracle.test.js` (part of `npm test`).
// ORACLE_UPDATE=1 rewrites the allowlist: kept reasons stay, entries that now agree are dropped, new
// differences get a "TODO" reason to classify by hand. To explore one by hand: node dist/test/tools/mirror-shell.js.
// Re-capture the clients (after the sys schema changed, since captured OID literals follow it):
// bash test/tools/capture/capture-clients.sh [client...].
import { readFileSync, writeFileSync } from 'node:fs';
import test from 'ava';
import pg from 'pg';
import { answer, difference, hasTopLevelOrderBy, userOidNames } from './compare';
import { ALLOWLIST, loadStatements } from './corpus';
import { type Mirror, startMirror } from './mirror';

let mirror: Mirror;
test.before(async () => {
  mirror = await startMirror();
});
test.after.always(async () => {
  await mirror?.stop();
});

const READ_ONLY = /^\s*(\(\s*)*(select|with|values|table|show)\b/i;

test('segtasks answers the corpus as PostgreSQL 15 does, outside the allowlist', async (t) => {
  const statements = loadStatements();
  const allow = JSON.parse(readFileSync(ALLOWLIST, 'utf8')) as Record<string, string>;
  const ours = new pg.Client(mirror.ours);
  const theirs = new pg.Client(mirror.theirs);
  await ours.connect();
  await theirs.connect();
  ours.on('error', () => {});
  theirs.on('error', () => {});
  const oursNames = await userOidNames(ours);
  const theirNames = await userOidNames(theirs);
  const ourOidOf = new Map([...oursNames].map(([oid, name]) => [name, oid]));
  const toOurs = (text: string) =>
    text.replace(/\b\d{5,}\b/g, (d) => ourOidOf.get(theirNames.get(d) ?? '') ?? d);
  const differences = new Map<string, string>();
  try {
    for (const s of statements) {
      const local = s.id.startsWith('capture/');
      const a = await answer(
        ours,
        local ? toOurs(s.sql) : s.sql,
        local ? s.params?.map((p) => (p === null ? p : toOurs(p))) : s.params,
        oursNames,
      );
      const b = await answer(theirs, s.sql, s.params, theirNames);
      const d = difference(a, b, hasTopLevelOrderBy(s.sql));
      if (d) differences.set(s.id, d);
      if (!READ_ONLY.test(s.sql)) {
        for (const c of [ours, theirs]) {
          await c.query('ROLLBACK').catch(() => {});
          await c.query('DISCARD ALL').catch(() => {});
        }
      }
    }
  } finally {
    await ours.end();
    await theirs.end();
  }

  const sqlOf = new Map(statements.map((s) => [s.id, s.sql]));
  const unlisted = [...differences].filter(([id]) => !(id in allow));
  const nowPass = Object.keys(allow).filter((id) => sqlOf.has(id) && !differences.has(id));
  const stale = Object.keys(allow).filter((id) => !sqlOf.has(id));
  const byReason = new Map<string, number>();
  for (const id of differences.keys()) {
    const r = allow[id] ?? 'NOT ALLOWLISTED';
    byReason.set(r, (byReason.get(r) ?? 0) + 1);
  }
  t.log(
    `${statements.length} statements: ${statements.length - differences.size} identical, ` +
      `${differences.size - unlisted.length} allowlisted, ${unlisted.length} not allowlisted`,
  );
  for (const [r, n] of [...byReason].sort((x, y) => y[1] - x[1])) t.log(`  ${String(n).padStart(4)}  ${r}`);
  for (const id of nowPass)
    t.log(`now passes (remove from the allowlist): ${id}: ${sqlOf.get(id)?.slice(0, 200)}`);
  for (const id of stale) t.log(`allowlisted but no longer in the corpus: ${id}`);
  for (const [id, d] of unlisted) t.log(`DIFFERS ${id}\n  ${sqlOf.get(id)?.slice(0, 400)}\n  ${d}`);

  if (process.env.ORACLE_UPDATE) {
    const next: Record<string, string> = {};
    for (const [id, d] of [...differences].sort()) next[id] = allow[id] ?? `TODO ${d.slice(0, 160)}`;
    writeFileSync(ALLOWLIST, JSON.stringify(next, null, 1) + '\n');
  }
  t.deepEqual(
    unlisted.map(([id]) => id),
    [],
    'differences not in the allowlist',
  );
  t.deepEqual(nowPass, [], 'allowlisted statements that now agree with PostgreSQL');
  t.deepEqual(stale, [], 'allowlisted statements no longer in the corpus');
});
