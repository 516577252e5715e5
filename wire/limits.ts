// PostgreSQL's resource limits as settings (guc.c's integer settings with units, their contexts and ranges),
// and the timers that enforce them on one connection: statement_timeout, idle_in_transaction_session_timeout
// and authentication_timeout. The connection-count limits are the listener's (see admission.ts).
import { SqlError } from '../pg/errors';
import { truncateName } from '../pg/names';

/**
 * Who may change a setting, as PostgreSQL's GucContext: user (SET, startup options), sighup (the server's
 * configuration: here CLI and environment), postmaster (the same, only at start).
 */
type Context = 'user' | 'sighup' | 'postmaster';

interface IntSetting {
  /** The unit of a bare number, and the unit SHOW reports in. */
  unit: 'ms' | 's' | 'kB' | null;
  min: number;
  max: number;
  context: Context;
}

export const INT_MAX = 2147483647;

/** The limit settings this server enforces; anything else is settable without checks. */
export const LIMIT_SETTINGS: Record<string, IntSetting> = {
  statement_timeout: { unit: 'ms', min: 0, max: INT_MAX, context: 'user' },
  idle_in_transaction_session_timeout: { unit: 'ms', min: 0, max: INT_MAX, context: 'user' },
  authentication_timeout: { unit: 's', min: 1, max: 600, context: 'sighup' },
  max_connections: { unit: null, min: 1, max: 262143, context: 'postmaster' },
  superuser_reserved_connections: { unit: null, min: 0, max: 262143, context: 'postmaster' },
  // Not PostgreSQL's (it spills to disk): the most memory one statement's materialized result may take.
  'segtasks.result_memory_limit': { unit: 'kB', min: 64, max: INT_MAX, context: 'sighup' },
};

/** Milliseconds per time unit, as guc.c's unit tables. */
const TIME_UNITS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const MEMORY_UNITS: Record<string, number> = { B: 1 / 1024, kB: 1, MB: 1024, GB: 1024 ** 2, TB: 1024 ** 3 };

/** Parses "1000", "1s", '5 min', "64MB" in the setting's base unit (ms, s or kB); null when not a valid value. */
export function parseWithUnit(value: string, unit: IntSetting['unit']): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  if (!m[2]) return Math.round(n);
  if (!unit) return null;
  const table = unit === 'kB' ? MEMORY_UNITS : TIME_UNITS;
  const factor = table[m[2]];
  if (factor === undefined) return null;
  const base = unit === 'kB' ? 1 : TIME_UNITS[unit];
  return Math.round((n * factor) / base);
}

/** SHOW's spelling: the largest unit that divides the value exactly, as PostgreSQL's GUC_UNIT display. */
export function formatWithUnit(n: number, unit: IntSetting['unit']): string {
  if (!unit || n === 0) return String(n);
  if (unit === 'kB') {
    for (const u of ['TB', 'GB', 'MB']) if (n % MEMORY_UNITS[u] === 0) return `${n / MEMORY_UNITS[u]}${u}`;
    return `${n}kB`;
  }
  const ms = n * TIME_UNITS[unit];
  for (const u of ['d', 'h', 'min', 's']) if (ms % TIME_UNITS[u] === 0) return `${ms / TIME_UNITS[u]}${u}`;
  return `${ms}ms`;
}

/** True for the settings checkLimitSetting knows. */
export function isLimitSetting(name: string): boolean {
  const key = name.toLowerCase();
  return key === 'application_name' || key in LIMIT_SETTINGS;
}

/**
 * Checks a value for a limit setting and returns it as SHOW spells it; other settings pass unchanged.
 * atStart: from the server's own configuration (CLI, environment), where every context is allowed.
 */
export function checkLimitSetting(name: string, value: string, atStart = false): string {
  const key = name.toLowerCase();
  if (key === 'application_name') return truncateName(value);
  const def = LIMIT_SETTINGS[key];
  if (!def) return value;
  if (!atStart && def.context === 'postmaster')
    throw new SqlError('55P02', `parameter "${key}" cannot be changed without restarting the server`);
  if (!atStart && def.context === 'sighup')
    throw new SqlError('55P02', `parameter "${key}" cannot be changed now`);
  const n = parseWithUnit(value, def.unit);
  if (n === null || !Number.isSafeInteger(n))
    throw new SqlError('22023', `invalid value for parameter "${key}": "${value}"`, {
      hint: def.unit ? `Valid units for this parameter are ${unitHint(def.unit)}.` : undefined,
    });
  if (n < def.min || n > def.max)
    throw new SqlError(
      '22023',
      `${n}${def.unit ? ` ${def.unit}` : ''} is outside the valid range for parameter "${key}" (${def.min} .. ${def.max})`,
    );
  return formatWithUnit(n, def.unit);
}

function unitHint(unit: NonNullable<IntSetting['unit']>): string {
  return unit === 'kB' ? '"B", "kB", "MB", "GB", and "TB"' : '"us", "ms", "s", "min", "h", and "d"';
}

/** A checked setting's value in milliseconds (time) or bytes (memory); 0 when unset. */
export function settingValue(name: string, shown: string | undefined): number {
  const def = LIMIT_SETTINGS[name];
  if (!def || shown === undefined) return 0;
  const n = parseWithUnit(shown, def.unit) ?? 0;
  if (def.unit === 's') return n * 1000;
  if (def.unit === 'kB') return n * 1024;
  return n;
}

/** The default values of the server-wide limits, as SHOW spells them. */
export interface ServerLimits {
  maxConnections: number;
  superuserReservedConnections: number;
  authenticationTimeoutMs: number;
  resultMemoryLimitBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 100,
  superuserReservedConnections: 3,
  authenticationTimeoutMs: 60_000,
  resultMemoryLimitBytes: 256 * 1024 * 1024,
};

/** The given limits over the defaults (an undefined value keeps its default). */
export function resolveLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const set = Object.entries(given).filter(([, v]) => v !== undefined);
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(set) };
}

/** The limits as settings, for SHOW and pg_settings. */
export function limitSettings(l: ServerLimits): Record<string, string> {
  return {
    max_connections: String(l.maxConnections),
    superuser_reserved_connections: String(l.superuserReservedConnections),
    authentication_timeout: formatWithUnit(Math.round(l.authenticationTimeoutMs / 1000), 's'),
    'segtasks.result_memory_limit': formatWithUnit(Math.round(l.resultMemoryLimitBytes / 1024), 'kB'),
  };
}

/** The error a statement ends with when statement_timeout passes (PostgreSQL's wording). */
export const statementTimeoutError = () =>
  new SqlError('57014', 'canceling statement due to statement timeout');

/**
 * Arms statement_timeout for one statement: aborts the statement's controller when it passes. Returns a
 * function that disarms it.
 */
export function armStatementTimeout(
  controller: { abort(reason: unknown): void },
  timeoutMs: number,
): () => void {
  if (timeoutMs <= 0) return () => {};
  const timer = setTimeout(() => controller.abort(statementTimeoutError()), timeoutMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/**
 * Waits for next(), or calls onTimeout after timeoutMs (0: never) and returns what it returns; the timer is
 * cleared either way. Used for idle_in_transaction_session_timeout and authentication_timeout.
 */
export async function withTimeout<T>(
  next: Promise<T>,
  timeoutMs: number,
  onTimeout: () => never,
): Promise<T> {
  if (timeoutMs <= 0) return next;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      try {
        onTimeout();
      } catch (err) {
        reject(err);
      }
    }, timeoutMs);
  });
  try {
    return await Promise.race([next, expired]);
  } finally {
    clearTimeout(timer);
  }
}
