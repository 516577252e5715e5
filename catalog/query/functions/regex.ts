// Regular expressions: PostgreSQL's ARE patterns run as JavaScript RegExps, with the POSIX classes they lack
// rewritten. Flags beyond case (in)sensitivity are refused rather than read differently.
import { SqlError } from '../../../pg/errors';

/** Converts a JS RegExp-incompatible PostgreSQL pattern detail where it matters (ARE classes). */
function pgRegex(pattern: string, flags: string): RegExp {
  const p = pattern
    .replace(/\[\[:alpha:\]\]/g, '[A-Za-z]')
    .replace(/\[\[:digit:\]\]/g, '[0-9]')
    .replace(/\[\[:space:\]\]/g, '\\s')
    .replace(/\[\[:alnum:\]\]/g, '[A-Za-z0-9]');
  try {
    return new RegExp(p, flags);
  } catch (e) {
    throw new SqlError('2201B', `invalid regular expression: ${(e as Error).message}`);
  }
}

const regexCache = new Map<string, RegExp>();
export function cachedRegex(pattern: string, flags: string): RegExp {
  const key = flags + '\0' + pattern;
  let r = regexCache.get(key);
  if (!r) {
    if (regexCache.size > 500) regexCache.clear();
    r = pgRegex(pattern, flags);
    regexCache.set(key, r);
  }
  return r;
}

/**
 * regexp_split_to_table / regexp_split_to_array: the parts of `s` between the matches of `pattern`, as
 * PostgreSQL splits them (a zero-length match splits between characters, and none at the ends).
 */
export function regexpSplit(s: string, pattern: string, flags: string, fname: string): string[] {
  if (flags.includes('g')) throw new SqlError('22023', `${fname}() does not support the "global" option`);
  for (const f of flags) {
    if (f !== 'i' && f !== 'c')
      throw new SqlError('0A000', `regular expression option "${f}" is not supported by ${fname}()`);
  }
  // the last of c and i wins, as in PostgreSQL
  const insensitive = flags.lastIndexOf('i') > flags.lastIndexOf('c');
  const re = new RegExp(cachedRegex(pattern, insensitive ? 'i' : '').source, insensitive ? 'gi' : 'g');
  // Pieces between matches; a zero-length match at either end or right after a match splits nothing.
  const out: string[] = [];
  let start = 0;
  let prevEnd = -1;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const at = m.index;
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex++;
      if (at === 0 || at >= s.length || at === prevEnd) continue;
    }
    out.push(s.slice(start, at));
    start = at + len;
    prevEnd = start;
  }
  out.push(s.slice(start));
  return out;
}
