// Session commands: the statements the protocol layer answers itself because they act on session state
// (transaction control, SET/SHOW/RESET, DISCARD, and the utility statements of utility-statements.ts) rather
// than on data. Recognised here, run in session-commands.ts.
import { firstWord, stripComments } from './splitter';
import { parseUtility, UTILITY_WORDS, type UtilityStatement } from './utility-statements';

export type SessionCommand =
  | { kind: 'begin' }
  | { kind: 'commit'; tag: string }
  | { kind: 'rollback' }
  | { kind: 'savepoint'; tag: string }
  | { kind: 'rollback_to' }
  | { kind: 'set'; name: string; value: string | null; local: boolean; tag: string }
  | { kind: 'show'; name: string }
  | { kind: 'discard' }
  | { kind: 'noop'; tag: string }
  | UtilityStatement;

const SESSION_WORDS = new Set([
  'begin',
  'start',
  'commit',
  'end',
  'abort',
  'rollback',
  'savepoint',
  'release',
  'discard',
  'reset',
  'show',
  'set',
]);

/** Recognises session statements; anything else returns null and goes to the query handler. */
export function parseSessionCommand(sql: string): SessionCommand | null {
  // The first word alone: a statement that is not a session command costs one token here.
  const word = firstWord(sql);
  if (UTILITY_WORDS.has(word)) return parseUtility(sql);
  if (!SESSION_WORDS.has(word)) return null;
  const text = stripComments(sql).replace(/;\s*$/, '');
  const lower = text.toLowerCase();
  switch (word) {
    case 'begin':
    case 'start':
      if (word === 'start' && !/^start\s+transaction\b/.test(lower)) return null;
      return { kind: 'begin' };
    case 'commit':
    case 'end':
      if (/^commit\s+prepared\b/.test(lower)) return null;
      return { kind: 'commit', tag: 'COMMIT' };
    case 'abort':
      return { kind: 'rollback' };
    case 'rollback':
      if (/^rollback\s+(work\s+|transaction\s+)?to\b/.test(lower)) return { kind: 'rollback_to' };
      if (/^rollback\s+prepared\b/.test(lower)) return null;
      return { kind: 'rollback' };
    case 'savepoint':
      return { kind: 'savepoint', tag: 'SAVEPOINT' };
    case 'release':
      return { kind: 'savepoint', tag: 'RELEASE' };
    case 'discard':
      return { kind: 'discard' };
    case 'reset': {
      const name = lower.slice(5).trim();
      if (name === 'all') return { kind: 'discard' };
      return { kind: 'set', name: normaliseName(name), value: null, local: false, tag: 'RESET' };
    }
    case 'show': {
      const name = lower.slice(4).trim();
      if (name === 'transaction isolation level') return { kind: 'show', name: 'transaction_isolation' };
      if (name === 'time zone') return { kind: 'show', name: 'timezone' };
      return { kind: 'show', name: normaliseName(name) };
    }
    case 'set':
      return parseSet(text);
    default:
      return null;
  }
}

function normaliseName(name: string): string {
  return name.replace(/^"(.*)"$/, '$1').toLowerCase();
}

function parseSet(text: string): SessionCommand | null {
  let rest = text.slice(3).trim();
  if (/^session\s+characteristics\s+as\s+transaction\b/i.test(rest)) return { kind: 'noop', tag: 'SET' };
  let local = false;
  const scope = /^(session|local)\s+/i.exec(rest);
  if (scope) {
    local = scope[1].toLowerCase() === 'local';
    rest = rest.slice(scope[0].length);
  }
  if (/^session\s+characteristics\s+as\s+transaction\b/i.test(rest) || /^transaction\b/i.test(rest)) {
    return { kind: 'noop', tag: 'SET' };
  }
  if (/^session\s+authorization\b/i.test(rest) || /^role\b/i.test(rest)) return null;
  const tz = /^time\s+zone\s+(.+)$/i.exec(rest);
  if (tz) return { kind: 'set', name: 'timezone', value: unquote(tz[1]), local, tag: 'SET' };
  const m = /^([A-Za-z_][\w.]*|"[^"]+")\s*(?:=|\bto\b)\s*(.+)$/is.exec(rest);
  if (!m) return null;
  const raw = m[2].trim();
  const value = /^default$/i.test(raw) ? null : splitList(raw).map(unquote).join(', ');
  return { kind: 'set', name: normaliseName(m[1]), value, local, tag: 'SET' };
}

/** Splits a SET value list at the commas outside quotes, in one pass (a lookahead per comma was quadratic). */
function splitList(raw: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    // '' inside a quoted value toggles twice, which leaves it quoted.
    if (raw[i] === "'") quoted = !quoted;
    else if (raw[i] === ',' && !quoted) {
      items.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  items.push(raw.slice(start));
  return items;
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return t;
}
