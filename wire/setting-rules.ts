// What guc.c knows about the settings that are checked when set: their type and allowed values, and who may
// set them and when (PGC_SUSET: superusers only; PGC_SU_BACKEND: superusers, at connection start only).
// Values are stored in the form SHOW prints. Settings without a rule accept any text, as they always have.
import { SqlError } from '../pg/errors';
import { checkLimitSetting, formatWithUnit, INT_MAX, isLimitSetting, parseWithUnit } from './limits';

interface Rule {
  context: 'suset' | 'su_backend';
  /** Checks a value and returns it as SHOW prints it; throws 22023 for an invalid one. */
  normalise(name: string, value: string): string;
}

function enumRule(values: string[]): Rule['normalise'] {
  return (name, value) => {
    const v = value.toLowerCase();
    if (!values.includes(v))
      throw new SqlError('22023', `invalid value for parameter "${name}": "${value}"`, {
        hint: `Available values: ${values.join(', ')}.`,
      });
    return v;
  };
}

const BOOL_TRUE = ['on', 'true', 'yes', '1', 't', 'y'];
const BOOL_FALSE = ['off', 'false', 'no', '0', 'f', 'n'];

function boolRule(name: string, value: string): string {
  const v = value.toLowerCase();
  if (BOOL_TRUE.includes(v)) return 'on';
  if (BOOL_FALSE.includes(v)) return 'off';
  throw new SqlError('22023', `parameter "${name}" requires a Boolean value`);
}

/** Milliseconds as guc.c's parse_int reads them: a number with an optional unit (ms when none). */
export function parseMilliseconds(value: string): number | null {
  return parseWithUnit(value, 'ms');
}

/** A time setting in milliseconds (-1 = off), printed with the largest unit that divides it. */
function millisecondsRule(name: string, value: string): string {
  const ms = parseMilliseconds(value);
  if (ms === null) throw new SqlError('22023', `invalid value for parameter "${name}": "${value}"`);
  if (ms < -1 || ms > INT_MAX)
    throw new SqlError(
      '22023',
      `${ms} ms is outside the valid range for parameter "${name}" (-1 .. ${INT_MAX})`,
    );
  return ms <= 0 ? String(ms) : formatWithUnit(ms, 'ms');
}

export const LOG_STATEMENT_LEVELS = ['none', 'ddl', 'mod', 'all'];
/** Message levels in the order log_min_error_statement compares them (LOG ranks above ERROR there). */
export const ERROR_STATEMENT_LEVELS = [
  'debug5',
  'debug4',
  'debug3',
  'debug2',
  'debug1',
  'info',
  'notice',
  'warning',
  'error',
  'log',
  'fatal',
  'panic',
];

const RULES: Record<string, Rule> = {
  log_statement: { context: 'suset', normalise: enumRule(LOG_STATEMENT_LEVELS) },
  log_min_error_statement: { context: 'suset', normalise: enumRule(ERROR_STATEMENT_LEVELS) },
  log_min_duration_statement: { context: 'suset', normalise: millisecondsRule },
  log_connections: { context: 'su_backend', normalise: boolRule },
  log_disconnections: { context: 'su_backend', normalise: boolRule },
};

/** The server-wide defaults of the checked settings (the CLI and environment may change them). */
export const CHECKED_DEFAULTS: Record<string, string> = {
  log_statement: 'none',
  log_min_error_statement: 'error',
  log_min_duration_statement: '-1',
  log_connections: 'off',
  log_disconnections: 'off',
};

/**
 * Checks a setting as set_config_option does; returns the value to store. atStartup: from the startup
 * packet, where PGC_SU_BACKEND settings may still be set.
 */
export function checkSetting(name: string, value: string, superuser: boolean, atStartup: boolean): string {
  // The limits (statement_timeout, max_connections, ...) and names cut to NAMEDATALEN: see limits.ts.
  if (isLimitSetting(name)) return checkLimitSetting(name, value);
  const rule = RULES[name];
  if (!rule) return value;
  if (rule.context === 'su_backend' && !atStartup)
    throw new SqlError('55P02', `parameter "${name}" cannot be set after connection start`);
  if (!superuser) throw new SqlError('42501', `permission denied to set parameter "${name}"`);
  return rule.normalise(name, value);
}

/** Validates a server default (from the command line or the environment); throws with guc.c's message. */
export function checkServerDefault(name: string, value: string): string {
  const rule = RULES[name];
  return rule ? rule.normalise(name, value) : value;
}
