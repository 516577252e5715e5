// The oracle's statements: hand-written corpus files (test/oracle/corpus/*.sql) and captured client traffic
// (test/fixtures/captures/*.json). A corpus file holds one statement per entry, entries separated by blank
// lines; lines starting with `--` are comments; a trailing `;` is dropped. A statement's id is its source and a
// hash of its whitespace-collapsed text (and parameters), so entries can be moved or reordered freely and an
// edited statement is judged afresh.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapturedStatement } from '../tools/capture-proxy';

export interface Statement {
  id: string;
  sql: string;
  params?: (string | null)[];
}

const ROOT = join(__dirname, '..', '..', '..');
export const CORPUS_DIR = join(ROOT, 'test', 'oracle', 'corpus');
export const CAPTURE_DIR = join(ROOT, 'test', 'fixtures', 'captures');
export const ALLOWLIST = join(ROOT, 'test', 'oracle', 'allowlist.json');

function idOf(source: string, sql: string, params?: (string | null)[]): string {
  const key = sql.replace(/\s+/g, ' ').trim() + (params ? JSON.stringify(params) : '');
  return `${source}#${createHash('sha1').update(key).digest('hex').slice(0, 10)}`;
}

export function parseCorpus(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((e) =>
      e
        .split('\n')
        .filter((l) => !/^\s*--/.test(l))
        .join('\n')
        .trim()
        .replace(/;\s*$/, ''),
    )
    .filter((e) => e !== '');
}

export function loadStatements(): Statement[] {
  const out: Statement[] = [];
  const seen = new Set<string>();
  const add = (s: Statement) => {
    if (seen.has(s.id)) return;
    seen.add(s.id);
    out.push(s);
  };
  for (const f of readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    for (const sql of parseCorpus(readFileSync(join(CORPUS_DIR, f), 'utf8'))) add({ id: idOf(f, sql), sql });
  }
  for (const f of readdirSync(CAPTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const client = f.replace(/\.json$/, '');
    for (const c of JSON.parse(readFileSync(join(CAPTURE_DIR, f), 'utf8')) as CapturedStatement[]) {
      const params = c.params?.length ? c.params : undefined;
      add({ id: idOf(`capture/${client}`, c.sql, params), sql: c.sql, params });
    }
  }
  return out;
}
