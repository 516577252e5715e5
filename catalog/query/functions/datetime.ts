// Date and time: the current time, arithmetic on timestamps and intervals, extract and date_trunc.
import { formatTimestampMicros, parseTimestampMicros } from '../../../pg/codecs';
import { SqlError } from '../../../pg/errors';
import {
  call,
  constant,
  type FnDef,
  type FunctionContext,
  type Register,
  SESSION,
  statementTime,
  type V,
  VARIADIC,
} from './define';

export function intervalMicros(v: string): bigint {
  const s = v.trim().toLowerCase();
  let total = 0n;
  const re =
    /(-?\d+(?:\.\d+)?)\s*(microseconds?|us|milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|months?|mons?|years?|y)\b/g;
  let m: RegExpExecArray | null;
  let matched = false;
  while ((m = re.exec(s))) {
    matched = true;
    const n = Number(m[1]);
    const u = m[2];
    const unit =
      u.startsWith('mi') && !u.startsWith('mil') && !u.startsWith('mic')
        ? 60e6
        : u.startsWith('mic') || u === 'us'
          ? 1
          : u.startsWith('mil') || u === 'ms'
            ? 1e3
            : u.startsWith('s')
              ? 1e6
              : u === 'm'
                ? 60e6
                : u.startsWith('h')
                  ? 3600e6
                  : u.startsWith('d')
                    ? 86400e6
                    : u.startsWith('w')
                      ? 7 * 86400e6
                      : u.startsWith('mon')
                        ? 30 * 86400e6
                        : u.startsWith('y')
                          ? 365.25 * 86400e6
                          : 0;
    total += BigInt(Math.round(n * unit));
  }
  const hms = /(-)?(\d+):(\d\d)(?::(\d\d(?:\.\d+)?))?/.exec(s);
  if (hms) {
    matched = true;
    const sign = hms[1] ? -1 : 1;
    total += BigInt(Math.round(sign * ((+hms[2] * 3600 + +hms[3] * 60 + Number(hms[4] ?? 0)) * 1e6)));
  }
  if (!matched) throw new SqlError('22007', `invalid input syntax for type interval: "${v}"`);
  return total;
}

export function formatInterval(micros: bigint): string {
  const neg = micros < 0n;
  let us = neg ? -micros : micros;
  const days = us / 86_400_000_000n;
  us -= days * 86_400_000_000n;
  const h = us / 3_600_000_000n;
  us -= h * 3_600_000_000n;
  const mi = us / 60_000_000n;
  us -= mi * 60_000_000n;
  const sec = Number(us) / 1e6;
  const time = `${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${sec < 10 ? '0' : ''}${sec}`;
  const d = days ? `${neg ? '-' : ''}${days} day${days === 1n ? '' : 's'} ` : '';
  return d + (neg && !days ? '-' : '') + time;
}

export const definitions: Record<string, FnDef> = {
  now: constant('pg_now()', 'timestamptz'),
  transaction_timestamp: constant('pg_now()', 'timestamptz'),
  statement_timestamp: constant('pg_now()', 'timestamptz'),
  clock_timestamp: constant('pg_now()', 'timestamptz'),
  date_trunc: call('pg_date_trunc', 'timestamptz'),
  date_part: call('pg_extract', 'float8'),
  to_char: call('pg_to_char', 'text'),
  age: call('pg_age', 'interval'),
  to_timestamp: call('pg_to_timestamp', 'timestamptz'),
};

export function register(reg: Register, ctx: () => FunctionContext): void {
  reg('pg_ts_key', (v: V) => {
    if (v === null) return null;
    if (typeof v === 'number') return v;
    try {
      return Number(parseTimestampMicros(String(v)));
    } catch {
      return v;
    }
  });
  reg('pg_ts_add', (ts: V, iv: V, sign: V) => {
    if (ts === null || iv === null) return null;
    const micros = parseTimestampMicros(String(ts)) + BigInt(Number(sign)) * intervalMicros(String(iv));
    return formatTimestampMicros(micros);
  });
  reg('pg_ts_diff', (a: V, b: V) => {
    if (a === null || b === null) return null;
    return formatInterval(parseTimestampMicros(String(a)) - parseTimestampMicros(String(b)));
  });
  reg('pg_extract', (field: V, ts: V) => {
    if (ts === null) return null;
    // An interval (from a difference of timestamps): epoch is its length in seconds.
    if (!/^\d{4,}-\d\d-\d\d/.test(String(ts).trim())) {
      const micros = intervalMicros(String(ts));
      if (String(field).toLowerCase() === 'epoch') return Number(micros) / 1e6;
      throw new SqlError('0A000', `EXTRACT ${field} from an interval is not supported; use epoch`);
    }
    const micros = parseTimestampMicros(String(ts));
    const d = new Date(Number(micros / 1000n));
    switch (String(field).toLowerCase()) {
      case 'epoch':
        return Number(micros) / 1e6;
      case 'year':
        return d.getUTCFullYear();
      case 'month':
        return d.getUTCMonth() + 1;
      case 'day':
        return d.getUTCDate();
      case 'hour':
        return d.getUTCHours();
      case 'minute':
        return d.getUTCMinutes();
      case 'second':
        return d.getUTCSeconds() + d.getUTCMilliseconds() / 1000;
      case 'dow':
        return d.getUTCDay();
      case 'doy':
        return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
      default:
        throw new SqlError('22023', `unit "${field}" not recognized for type timestamp with time zone`);
    }
  });
  reg('pg_date_trunc', (unit: V, ts: V) => {
    if (ts === null) return null;
    const d = new Date(Number(parseTimestampMicros(String(ts)) / 1000n));
    const u = String(unit).toLowerCase();
    const parts = [
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ];
    const keep = { year: 1, month: 2, day: 3, hour: 4, minute: 5, second: 6 }[u];
    if (!keep) throw new SqlError('22023', `unit "${u}" not recognized for type timestamp with time zone`);
    const p = parts.map((x, i) => (i < keep ? x : i === 2 ? 1 : 0));
    return formatTimestampMicros(BigInt(Date.UTC(p[0], p[1], p[2], p[3], p[4], p[5])) * 1000n);
  });
  reg(
    'pg_age',
    (a: V, b?: V) => {
      if (a === null) return null;
      const to =
        b === undefined ? parseTimestampMicros(statementTime(ctx())) : parseTimestampMicros(String(a));
      const from = b === undefined ? parseTimestampMicros(String(a)) : parseTimestampMicros(String(b));
      return formatInterval(to - from);
    },
    VARIADIC,
  );
  reg('pg_to_timestamp', (v: V) =>
    v === null ? null : formatTimestampMicros(BigInt(Math.round(Number(v) * 1e6))),
  );
  reg('pg_to_char', (v: V) => (v === null ? null : String(v)), VARIADIC);
  reg('pg_now', () => statementTime(ctx()), SESSION);
}
