// A schedule's interval: read from what an operator writes ('1 day', '6 hours', '1 week', '90 minutes',
// '1 day 12:00:00', '00:30:00'), kept in seconds, shown as PostgreSQL shows an interval ('1 day', '7 days',
// '06:00:00', '1 day 12:00:00'). Months and years are refused: their length varies, a schedule's does not.
import { formatInterval as pgInterval } from '../../pg/codecs';
import { SqlError } from '../../pg/errors';

const UNIT_SECONDS: [RegExp, number][] = [
  [/^(s|secs?|seconds?)$/, 1],
  [/^(m|mins?|minutes?)$/, 60],
  [/^(h|hours?|hrs?)$/, 3600],
  [/^(d|days?)$/, 86_400],
  [/^(w|weeks?)$/, 7 * 86_400],
];

function invalid(text: string): SqlError {
  return new SqlError('22007', `invalid input syntax for type interval: "${text}"`);
}

/** Seconds in the interval `text`; 22007 for what PostgreSQL would not read, 22023 for months or a zero. */
export function parseInterval(text: string): number {
  let rest = text.trim().toLowerCase();
  if (!rest) throw invalid(text);
  let seconds = 0;
  while (rest) {
    const clock = /^(\d+):(\d\d)(?::(\d\d))?\s*/.exec(rest);
    if (clock) {
      seconds += +clock[1] * 3600 + +clock[2] * 60 + +(clock[3] ?? 0);
      rest = rest.slice(clock[0].length);
      continue;
    }
    const part = /^(\d+(?:\.\d+)?)\s*([a-z]+)\s*/.exec(rest);
    if (!part) throw invalid(text);
    if (/^(mons?|months?|y|years?)$/.test(part[2])) {
      throw new SqlError('22023', `a schedule interval cannot be given in months or years: "${text}"`, {
        hint: "Give it in days or weeks, e.g. EVERY '30 days'.",
      });
    }
    const unit = UNIT_SECONDS.find(([re]) => re.test(part[2]));
    if (!unit) throw invalid(text);
    seconds += Number(part[1]) * unit[1];
    rest = rest.slice(part[0].length);
  }
  seconds = Math.round(seconds);
  if (seconds < 1)
    throw new SqlError('22023', `a schedule interval must be at least 1 second, not "${text}"`);
  return seconds;
}

/** PostgreSQL's output of the interval (IntervalStyle postgres, days and time). */
export function formatInterval(seconds: number): string {
  return pgInterval(BigInt(seconds % 86_400) * 1_000_000n, Math.floor(seconds / 86_400), 0);
}
