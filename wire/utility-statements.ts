// The parsers of the utility statements the wire layer runs itself because they act on the session's
// statements, portals and channels: PREPARE / EXECUTE / DEALLOCATE (commands/prepare.c), DECLARE / FETCH /
// MOVE / CLOSE (commands/portalcmds.c), LISTEN / UNLISTEN / NOTIFY (commands/async.c). The grammar is gram.y's.
import { SqlError } from '../pg/errors';
import { ALL, type FetchDirection } from './cursor';
import { TokenReader } from './tokens';

/** An EXECUTE argument: a constant (text, or null for NULL), or an expression for the handler to evaluate. */
export type ExecuteArg = { constant: string | null } | { expression: string };

export type UtilityStatement =
  | { kind: 'prepare'; name: string; types: string[]; body: string; bodyOffset: number }
  | { kind: 'execute'; name: string; args: ExecuteArg[] }
  | { kind: 'deallocate'; name: string | null }
  | {
      kind: 'declare';
      name: string;
      binary: boolean;
      /** SCROLL true, NO SCROLL false, neither null. */
      scroll: boolean | null;
      hold: boolean;
      body: string;
      bodyOffset: number;
    }
  | { kind: 'fetch'; move: boolean; direction: FetchDirection; name: string }
  | { kind: 'close'; name: string | null }
  | { kind: 'listen'; channel: string }
  | { kind: 'unlisten'; channel: string | null }
  | { kind: 'notify'; channel: string; payload: string };

export const UTILITY_WORDS = new Set([
  'prepare',
  'execute',
  'deallocate',
  'declare',
  'fetch',
  'move',
  'close',
  'listen',
  'unlisten',
  'notify',
]);

/** Parses a statement whose first word is one of UTILITY_WORDS. PREPARE TRANSACTION is not one. */
export function parseUtility(sql: string): UtilityStatement | null {
  const r = new TokenReader(sql);
  const word = r.next()?.value;
  switch (word) {
    case 'prepare':
      if (r.peek()?.value === 'transaction' && r.peek()?.kind === 'word') return null;
      return parsePrepare(r);
    case 'execute':
      return parseExecute(r);
    case 'deallocate': {
      r.acceptWord('prepare');
      const name = r.acceptWord('all') ? null : r.identifier();
      r.expectEnd();
      return { kind: 'deallocate', name };
    }
    case 'declare':
      return parseDeclare(r);
    case 'fetch':
    case 'move':
      return parseFetch(r, word === 'move');
    case 'close': {
      const name = r.acceptWord('all') ? null : r.identifier();
      r.expectEnd();
      return { kind: 'close', name };
    }
    case 'listen': {
      const channel = r.identifier();
      r.expectEnd();
      return { kind: 'listen', channel };
    }
    case 'unlisten': {
      const channel = r.acceptOp('*') ? null : r.identifier();
      r.expectEnd();
      return { kind: 'unlisten', channel };
    }
    case 'notify': {
      const channel = r.identifier();
      let payload = '';
      if (r.acceptOp(',')) {
        const t = r.next();
        if (t?.kind !== 'string') throw syntaxErrorAt(sql, t);
        payload = t.value;
      }
      r.expectEnd();
      return { kind: 'notify', channel, payload };
    }
    default:
      return null;
  }
}

function syntaxErrorAt(sql: string, t: { start: number; end: number } | undefined): SqlError {
  if (!t) return new SqlError('42601', 'syntax error at end of input', { position: sql.length + 1 });
  return new SqlError('42601', `syntax error at or near "${sql.slice(t.start, t.end)}"`, {
    position: t.start + 1,
  });
}

/** The texts of a parenthesised, comma-separated list, split at its top-level commas. */
function parenthesisedList(r: TokenReader): string[] {
  const items: string[] = [];
  r.expectOp('(');
  let depth = 0;
  let from = r.peek()?.start;
  for (;;) {
    const t = r.next();
    if (!t || from === undefined) throw r.syntaxError();
    if (t.kind === 'op' && t.value === '(') depth++;
    else if (t.kind === 'op' && t.value === ')' && depth > 0) depth--;
    else if (t.kind === 'op' && (t.value === ',' || t.value === ')') && depth === 0) {
      const text = r.sql.slice(from, t.start).trim();
      if (!text) throw syntaxErrorAt(r.sql, t);
      items.push(text);
      if (t.value === ')') return items;
      from = r.peek()?.start;
    }
  }
}

function parsePrepare(r: TokenReader): UtilityStatement {
  const name = r.identifier();
  const types = r.peek()?.value === '(' && r.peek()?.kind === 'op' ? parenthesisedList(r) : [];
  r.expectWord('as');
  const body = r.rest();
  return { kind: 'prepare', name, types, body: body.text, bodyOffset: body.offset };
}

function parseExecute(r: TokenReader): UtilityStatement {
  const name = r.identifier();
  const args = r.peek()?.value === '(' && r.peek()?.kind === 'op' ? parenthesisedList(r).map(executeArg) : [];
  r.expectEnd();
  return { kind: 'execute', name, args };
}

/** A constant ('text', 42, -1.5, NULL, TRUE, FALSE, any of them with a ::type cast) or an expression. */
function executeArg(text: string): ExecuteArg {
  const r = new TokenReader(text);
  const negative = r.acceptOp('-');
  const t = r.next();
  let constant: string | null | undefined;
  if (t?.kind === 'number') constant = negative ? `-${t.value}` : t.value;
  else if (!negative && t?.kind === 'string') constant = t.value;
  else if (!negative && t?.kind === 'word' && t.value === 'null') constant = null;
  else if (!negative && t?.kind === 'word' && (t.value === 'true' || t.value === 'false')) constant = t.value;
  // A trailing cast names the type the parameter has anyway.
  if (constant !== undefined && r.acceptOp('::')) while (!r.atEnd) r.next();
  if (constant !== undefined && r.atEnd) return { constant };
  return { expression: text };
}

function parseDeclare(r: TokenReader): UtilityStatement {
  const name = r.identifier();
  let binary = false;
  let scroll: boolean | null = null;
  for (;;) {
    if (r.acceptWord('binary')) binary = true;
    else if (r.acceptWord('insensitive', 'asensitive')) continue;
    else if (r.acceptWords('no', 'scroll')) scroll = setScroll(scroll, false);
    else if (r.acceptWord('scroll')) scroll = setScroll(scroll, true);
    else break;
  }
  r.expectWord('cursor');
  let hold = false;
  if (r.acceptWords('with', 'hold')) hold = true;
  else r.acceptWords('without', 'hold');
  r.expectWord('for');
  const first = r.peek();
  const selects = ['select', 'with', 'values', 'table'];
  if (!first || !((first.kind === 'word' && selects.includes(first.value)) || first.value === '('))
    throw r.syntaxError();
  const body = r.rest();
  return { kind: 'declare', name, binary, scroll, hold, body: body.text, bodyOffset: body.offset };
}

function setScroll(current: boolean | null, value: boolean): boolean {
  if (current !== null && current !== value)
    throw new SqlError('42P11', 'cannot specify both SCROLL and NO SCROLL');
  return value;
}

/** gram.y's fetch_args. */
function parseFetch(r: TokenReader, move: boolean): UtilityStatement {
  const signed = (): number | null => {
    const negative = r.acceptOp('-');
    if (!negative) r.acceptOp('+');
    const t = r.peek();
    if (t?.kind !== 'number' || !/^\d+$/.test(t.value)) {
      if (negative) throw r.syntaxError();
      return null;
    }
    r.next();
    return negative ? -Number(t.value) : Number(t.value);
  };
  let direction: FetchDirection = { kind: 'forward', count: 1 };
  if (r.acceptWord('next')) direction = { kind: 'forward', count: 1 };
  else if (r.acceptWord('prior')) direction = { kind: 'backward', count: 1 };
  else if (r.acceptWord('first')) direction = { kind: 'absolute', count: 1 };
  else if (r.acceptWord('last')) direction = { kind: 'absolute', count: -1 };
  else if (r.acceptWord('absolute', 'relative')) {
    const kind = r.peek(-1)?.value as 'absolute' | 'relative';
    const count = signed();
    if (count === null) throw r.syntaxError();
    direction = { kind, count };
  } else if (r.acceptWord('all')) direction = { kind: 'forward', count: ALL };
  else if (r.acceptWord('forward', 'backward')) {
    const kind = r.peek(-1)?.value as 'forward' | 'backward';
    const count = r.acceptWord('all') ? ALL : (signed() ?? 1);
    direction = { kind, count };
  } else {
    const count = signed();
    if (count !== null) direction = { kind: 'forward', count };
  }
  r.acceptWord('from', 'in');
  const name = r.identifier();
  r.expectEnd();
  return { kind: 'fetch', move, direction, name };
}
