// Session state that belongs to the protocol, not to any query engine: run-time settings (SET/SHOW/RESET),
// DISCARD, and the transaction block status reported in ReadyForQuery. Nothing underneath is transactional;
// the status is kept exactly as PostgreSQL would report it so that drivers and poolers behave.
import { stripComments } from './splitter';

export type TxStatus = 'I' | 'T' | 'E';

export interface SettingDef {
  value: string;
  /** Sent as ParameterStatus at startup and whenever it changes. */
  reported?: boolean;
}

export const serverVersion = '15.0';

export function defaultSettings(
  serverName: string,
  extra: Record<string, string> = {},
): Map<string, SettingDef> {
  const s = new Map<string, SettingDef>();
  const reported: Record<string, string> = {
    server_version: `${serverVersion} (${serverName})`,
    server_encoding: 'UTF8',
    client_encoding: 'UTF8',
    DateStyle: 'ISO, MDY',
    IntervalStyle: 'postgres',
    TimeZone: 'UTC',
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
    is_superuser: 'off',
    session_authorization: '',
    application_name: '',
    default_transaction_read_only: 'off',
    in_hot_standby: 'off',
  };
  for (const [k, v] of Object.entries(reported)) s.set(k.toLowerCase(), { value: v, reported: true });
  const other: Record<string, string> = {
    server_version_num: '150000',
    search_path: '"$user", public',
    transaction_isolation: 'read committed',
    default_transaction_isolation: 'read committed',
    transaction_read_only: 'off',
    extra_float_digits: '1',
    statement_timeout: '0',
    lock_timeout: '0',
    idle_in_transaction_session_timeout: '0',
    max_identifier_length: '63',
    max_connections: '100',
    bytea_output: 'hex',
    lc_collate: 'C.UTF-8',
    lc_ctype: 'C.UTF-8',
    lc_messages: 'C.UTF-8',
    lc_monetary: 'C',
    lc_numeric: 'C',
    lc_time: 'C',
    block_size: '8192',
    work_mem: '4MB',
    datestyle_order: 'MDY',
    row_security: 'on',
    synchronous_commit: 'on',
    client_min_messages: 'notice',
    ...extra,
  };
  for (const [k, v] of Object.entries(other)) s.set(k.toLowerCase(), { value: v });
  return s;
}

/** Canonical (display) spelling of reported parameters, for ParameterStatus and SHOW column names. */
const displayNames: Record<string, string> = {
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
  timezone: 'TimeZone',
};
export const displayName = (key: string) => displayNames[key] ?? key;

export type SessionCommand =
  | { kind: 'begin' }
  | { kind: 'commit'; tag: string }
  | { kind: 'rollback' }
  | { kind: 'savepoint'; tag: string }
  | { kind: 'rollback_to' }
  | { kind: 'set'; name: string; value: string | null; local: boolean; tag: string }
  | { kind: 'show'; name: string }
  | { kind: 'discard' }
  | { kind: 'noop'; tag: string };

/** Recognises session statements; anything else returns null and goes to the query handler. */
export function parseSessionCommand(sql: string): SessionCommand | null {
  const text = stripComments(sql).replace(/;\s*$/, '');
  const lower = text.toLowerCase();
  const word = /^[a-z_]+/.exec(lower)?.[0] ?? '';
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
  const value = /^default$/i.test(raw)
    ? null
    : raw
        .split(/\s*,\s*(?=(?:[^']*'[^']*')*[^']*$)/)
        .map(unquote)
        .join(', ');
  return { kind: 'set', name: normaliseName(m[1]), value, local, tag: 'SET' };
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return t;
}
