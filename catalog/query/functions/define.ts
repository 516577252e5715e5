// What a function module is made of: the translation of a PostgreSQL function to SQLite (FnDef, with helpers for
// the common shapes), and the registration of the JavaScript implementations SQLite lacks, which receive the
// per-statement FunctionContext.

import type BetterSqlite3 from 'better-sqlite3';
import type { BackendActivity, BackendSignal } from '../../../pg/activity';
import { formatTimestampMicros, parseArrayLiteral, parseArrayText } from '../../../pg/codecs';

export interface FnDef {
  sql(args: string[], types: (string | null)[], distinct: boolean): string;
  returns(types: (string | null)[]): string | null;
  argTypes?: (string | null)[];
  minArgs?: number;
  aggregate?: boolean;
}

export const fixed =
  (t: string | null) =>
  (_: (string | null)[]): string | null =>
    t;
export const firstArg = (types: (string | null)[]) => types.find((t) => t && t !== 'unknown') ?? 'text';

/** A function passed straight to an SQLite function of the given name. */
export function call(
  sqlite: string,
  returns: string | null | ((t: (string | null)[]) => string | null),
  argTypes?: (string | null)[],
): FnDef {
  return {
    sql: (args) => `${sqlite}(${args.join(', ')})`,
    returns: typeof returns === 'function' ? returns : fixed(returns),
    argTypes,
  };
}

export function aggregate(sqlite: string, returns: (t: (string | null)[]) => string | null): FnDef {
  return {
    sql: (args, _t, distinct) => `${sqlite}(${distinct ? 'DISTINCT ' : ''}${args.join(', ')})`,
    returns,
    aggregate: true,
  };
}

export const constant = (sql: string, type: string): FnDef => ({ sql: () => sql, returns: fixed(type) });

/** Per-statement state the functions read: the session's user and settings, and catalog lookups. */
export interface FunctionContext {
  user: string;
  database: string;
  pid: number;
  /** The session's settings by lower-case name. Read only: shared by the statements of a settings version. */
  settings: ReadonlyMap<string, string>;
  changedSettings: Map<string, string>;
  /** When the statement started (ms since the epoch), for now() and friends; absent: at the first call. */
  statementStartedAt?: number;
  /** statementStartedAt as timestamptz text, made at the first call that needs it. */
  statementTimeText?: string;
  /** pg_notify() calls, [channel, payload], sent by the session when the statement's transaction commits. */
  notifications: [string, string][];
  /** Every session, when the statement names pg_stat_activity or a backend-signalling function. */
  activity: BackendActivity[];
  signals: [number, BackendSignal][];
  warnings: string[];
  serverVersion: string;
  startedAt: string;
  /** regclass/regtype/regnamespace resolution against the emulated catalog. */
  regOid(kind: string, name: string): number | null;
  regName(kind: string, oid: number): string | null;
  userName(oid: number): string | null;
  relationVisible(oid: number): boolean;
  description(oid: number, sub: number | null): string | null;
  relationSize(oid: number): number;
  databaseSize(): number;
  /** CREATE INDEX text of an emulated index, and the definition of a constraint, by OID. */
  /** The whole CREATE INDEX (col 0) or the name of key column `col` (1-based), as pg_get_indexdef gives. */
  indexDef(oid: number, col: number): string | null;
  constraintDef(oid: number): string | null;
  /** Waits ms milliseconds, throwing when the statement is cancelled meanwhile (pg_sleep); absent: a plain wait. */
  sleep?(ms: number): void;
}
/** A value as SQLite hands it to a JavaScript function. */
export type V = unknown;

/**
 * Asked before each call of a JavaScript function, with its name, whether it was registered deterministic (no
 * effect on the session, the same answer for the same arguments) and its arguments; throws to refuse the call.
 */
export interface CallGuard {
  beforeCall(name: string, deterministic: boolean, args: readonly V[]): void;
}

/** Registers one JavaScript implementation on a reader connection (see functions/index.ts). */
export type Register = (name: string, fn: (...a: V[]) => V, opts?: BetterSqlite3.RegistrationOptions) => void;

/**
 * A whole number as SQLite's INTEGER: better-sqlite3 hands a JavaScript number to SQLite as REAL, which text
 * operations then print as 1.0 ('x' || g, 42::text as '42.0'). A BigInt is stored as INTEGER.
 */
export function sqlInteger(v: number): number | bigint {
  return Number.isSafeInteger(v) ? BigInt(v) : v;
}

export const DETERMINISTIC = { deterministic: true };
export const VARIADIC = { varargs: true, deterministic: true };
/** Session-dependent functions are not deterministic. */
export const SESSION = { deterministic: false };
export const SESSION_VARIADIC = { deterministic: false, varargs: true };

/** The statement's start time: now() and friends are stable within a statement, as in PostgreSQL. */
export function statementTime(c: FunctionContext): string {
  c.statementTimeText ??= formatTimestampMicros(BigInt(c.statementStartedAt ?? Date.now()) * 1000n);
  return c.statementTimeText;
}

/** An array argument: PostgreSQL's text form {a,b}, or the space-separated int2vector / oidvector form. */
export function arr(v: V): (string | null)[] {
  return bounded(v, 1).items;
}

/**
 * An array value's elements and first subscript: `lower` (the type's: 0 for int2vector and oidvector, 1 for
 * arrays) unless its text names another (`[0:2]={a,b,c}`).
 */
export function bounded(v: V, lower: number): { lower: number; items: (string | null)[] } {
  if (v === null || v === undefined) return { lower, items: [] };
  if (Array.isArray(v)) return { lower, items: v.map((x) => (x === null ? null : String(x))) };
  const s = String(v).trim();
  if (s.startsWith('[')) return parseArrayText(s);
  if (!s.startsWith('{')) return { lower, items: s ? s.split(/\s+/) : [] }; // int2vector / oidvector text form
  return { lower, items: parseArrayLiteral(s) };
}
