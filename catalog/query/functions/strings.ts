// String functions and regular expressions.
import { formatArrayLiteral } from '../../../pg/codecs';
import { SqlError } from '../../../pg/errors';
import { call, type FnDef, fixed, type Register, type V, VARIADIC } from './define';
import { cachedRegex, regexpSplit } from './regex';
import { KEYWORDS } from './set-returning';

export const definitions: Record<string, FnDef> = {
  lower: call('lower', 'text'),
  upper: call('upper', 'text'),
  length: call('length', 'int4'),
  char_length: call('length', 'int4'),
  character_length: call('length', 'int4'),
  octet_length: { sql: (a) => `length(CAST(${a[0]} AS BLOB))`, returns: fixed('int4') },
  substr: call('pg_substr', 'text'),
  substring: call('pg_substr', 'text'),
  replace: call('replace', 'text'),
  btrim: call('trim', 'text'),
  ltrim: call('ltrim', 'text'),
  rtrim: call('rtrim', 'text'),
  trim: call('trim', 'text'),
  concat: {
    sql: (a) => `(${a.map((x) => `coalesce(${x}, '')`).join(' || ') || "''"})`,
    returns: fixed('text'),
  },
  concat_ws: call('pg_concat_ws', 'text'),
  left: { sql: (a) => `pg_left(${a[0]}, ${a[1]})`, returns: fixed('text') },
  right: { sql: (a) => `pg_right(${a[0]}, ${a[1]})`, returns: fixed('text') },
  position: { sql: (a) => `instr(${a[1]}, ${a[0]})`, returns: fixed('int4') },
  strpos: call('instr', 'int4'),
  split_part: call('pg_split_part', 'text'),
  lpad: call('pg_lpad', 'text'),
  rpad: call('pg_rpad', 'text'),
  repeat: call('pg_repeat', 'text'),
  reverse: call('pg_reverse', 'text'),
  md5: call('pg_md5', 'text'),
  quote_ident: call('pg_quote_ident', 'text'),
  quote_literal: call('quote', 'text'),
  regexp_replace: call('pg_regexp_replace', 'text'),
  regexp_split_to_array: call('pg_regexp_split_to_array', '_text'),
  parse_ident: call('pg_parse_ident', '_text', ['text', 'bool']),
};

/**
 * parse_ident(): splits a qualified identifier as PostgreSQL's parser reads it: "quoted" parts keep their case
 * (with "" for a quote), bare parts are folded to lower case, parts are joined by '.' with optional spaces.
 * In strict mode anything after the last identifier is an error; otherwise it is ignored.
 */
function parseIdent(text: string, strict: boolean): string[] {
  const invalid = (detail?: string) =>
    new SqlError('22023', `string is not a valid identifier: "${text}"`, detail ? { detail } : undefined);
  const parts: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  skipSpace();
  for (;;) {
    if (text[i] === '"') {
      let part = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw invalid('String has unclosed double quotes.');
        part += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          part += '"';
          i++;
        } else break;
      }
      if (part === '') throw invalid('Quoted identifier must not be empty.');
      parts.push(part);
    } else if (i < text.length && /[A-Za-z_\u0080-\uffff]/.test(text[i])) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(text[i])) i++;
      parts.push(text.slice(start, i).replace(/[A-Z]/g, (c) => c.toLowerCase()));
    } else if (text[i] === '.') {
      throw invalid(parts.length ? 'No valid identifier after ".".' : 'No valid identifier before ".".');
    } else {
      throw invalid();
    }
    skipSpace();
    if (text[i] === '.') {
      i++;
      skipSpace();
      if (i >= text.length) throw invalid('No valid identifier after ".".');
      continue;
    }
    if (i < text.length && strict) throw invalid();
    return parts;
  }
}

export function register(reg: Register): void {
  reg(
    'pg_regexp_split_to_array',
    (s: V, p: V, flags?: V) =>
      s === null || p === null || flags === null
        ? null
        : formatArrayLiteral(regexpSplit(String(s), String(p), String(flags ?? ''), 'regexp_split_to_array')),
    VARIADIC,
  );
  reg(
    'pg_parse_ident',
    (s: V, strict?: V) =>
      s === null || strict === null
        ? null
        : formatArrayLiteral(parseIdent(String(s), strict === undefined || !!Number(strict))),
    VARIADIC,
  );
  reg('pg_regex_match', (s: V, p: V, flags: V) =>
    s === null || p === null ? null : cachedRegex(String(p), String(flags)).test(String(s)) ? 1 : 0,
  );
  reg(
    'pg_regexp_replace',
    (s: V, p: V, r: V, flags?: V) => {
      if (s === null || p === null) return null;
      const f = String(flags ?? '');
      const re = cachedRegex(String(p), f.replace(/[^gi]/g, ''));
      return String(s).replace(re, String(r).replace(/\\(\d)/g, '$$$1'));
    },
    VARIADIC,
  );
  reg('pg_left', (s: V, n: V) => {
    if (s === null) return null;
    const str = String(s);
    const k = Number(n);
    return k >= 0 ? str.slice(0, k) : str.slice(0, Math.max(0, str.length + k));
  });
  reg('pg_right', (s: V, n: V) => {
    if (s === null) return null;
    const str = String(s);
    const k = Number(n);
    return k >= 0 ? str.slice(Math.max(0, str.length - k)) : str.slice(-k);
  });
  // PostgreSQL's substr counts a start before 1 against the length (substr('abc', -1, 3) is 'a'), where
  // SQLite's counts from the end; a negative length is an error. Positions are characters (code points).
  reg('pg_substr', (s: V, start: V, len?: V) => {
    if (s === null || start === null || len === null) return null;
    const chars = Array.from(String(s));
    const from = Number(start);
    if (len === undefined) return chars.slice(Math.max(from, 1) - 1).join('');
    const n = Number(len);
    if (n < 0) throw new SqlError('22011', 'negative substring length not allowed');
    const end = from + n;
    return end <= 1 ? '' : chars.slice(Math.max(from, 1) - 1, end - 1).join('');
  });
  // split_part: fields from 1, negative fields from the end (PostgreSQL 14+), 0 an error; an empty delimiter
  // leaves the string whole (field 1 or -1).
  reg('pg_split_part', (s: V, sep: V, n: V) => {
    if (s === null || sep === null || n === null) return null;
    const k = Number(n);
    if (k === 0) throw new SqlError('22023', 'field position must not be zero');
    const str = String(s);
    const parts = String(sep) === '' ? (str === '' ? [] : [str]) : str.split(String(sep));
    return (k > 0 ? parts[k - 1] : parts[parts.length + k]) ?? '';
  });
  reg(
    'pg_lpad',
    (s: V, n: V, fill?: V) =>
      s === null
        ? null
        : String(s)
            .padStart(Number(n), String(fill ?? ' '))
            .slice(0, Number(n)),
    VARIADIC,
  );
  reg(
    'pg_rpad',
    (s: V, n: V, fill?: V) =>
      s === null
        ? null
        : String(s)
            .padEnd(Number(n), String(fill ?? ' '))
            .slice(0, Number(n)),
    VARIADIC,
  );
  reg('pg_repeat', (s: V, n: V) => (s === null ? null : String(s).repeat(Math.max(0, Number(n)))));
  reg('pg_reverse', (s: V) => (s === null ? null : [...String(s)].reverse().join('')));
  reg('pg_md5', (s: V) =>
    s === null ? null : require('node:crypto').createHash('md5').update(String(s)).digest('hex'),
  );
  reg('pg_concat_ws', (sep: V, ...items: V[]) => items.filter((x) => x !== null).join(String(sep)), VARIADIC);
  reg('pg_quote_ident', (s: V) => {
    if (s === null) return null;
    const str = String(s);
    return /^[a-z_][a-z0-9_$]*$/.test(str) && !KEYWORDS.includes(str)
      ? str
      : '"' + str.replace(/"/g, '""') + '"';
  });
}
