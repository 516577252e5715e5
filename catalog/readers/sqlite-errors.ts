// SQLite's error messages as PostgreSQL errors: what a user's query can make SQLite say, with the SQLSTATE and
// wording PostgreSQL gives the same mistake. Errors thrown by our own functions are SqlErrors and pass through.
// What is left is a fault of the translation, not of the query: it keeps SQLite's text under XX000.
import { SqlError } from '../../pg/errors';
import { NotInline } from './inline-guard';

type Rule = [RegExp, (m: RegExpExecArray) => SqlError];

const unquote = (s: string) => s.replace(/"/g, '');

const RULES: Rule[] = [
  [/no such column: (.+)$/, (m) => new SqlError('42703', `column ${unquote(m[1])} does not exist`)],
  [/no such table: (.+)$/, (m) => new SqlError('42P01', `relation "${unquote(m[1])}" does not exist`)],
  [/no such function: (.+)$/, (m) => new SqlError('42883', `function ${m[1]}() does not exist`)],
  [
    /wrong number of arguments to function (\w+)\(\)|too many arguments on (?:function )?(\w+)/,
    (m) => new SqlError('42883', `function ${m[1] ?? m[2]} with these arguments does not exist`),
  ],
  [/interrupted/, () => new SqlError('57014', 'canceling statement due to user request')],
  [
    /ambiguous column name: (.+)$/,
    (m) => new SqlError('42702', `column reference "${unquote(m[1]).replace(/^.*\./, '')}" is ambiguous`),
  ],
  [/misuse of aggregate|GROUP BY/, (m) => new SqlError('42803', m.input)],
  [
    /ORDER BY term out of range|GROUP BY term out of range/,
    () => new SqlError('42P10', 'position is not in select list'),
  ],
  [
    /do not have the same number of result columns/,
    () => new SqlError('42601', 'each UNION query must have the same number of columns'),
  ],
  [/sub-select returns \d+ columns/, () => new SqlError('42601', 'subquery must return only one column')],
  [
    /IN\(\.\.\.\) element has \d+ terms? - expected \d+/,
    () => new SqlError('42601', 'unequal number of entries in row expressions'),
  ],
  [/row value misused/, () => new SqlError('42601', 'row value used where a single value is expected')],
  [/incomplete input/, () => new SqlError('42601', 'syntax error at end of input')],
  [
    /too many terms in compound SELECT|Expression tree is too large|parser stack overflow|too many SQL variables|at most \d+ tables in a join|too many columns/,
    () => new SqlError('54001', 'statement too complex'),
  ],
  [/string or blob too big/, () => new SqlError('54000', 'value too large')],
  [/out of memory/, () => new SqlError('53200', 'out of memory')],
  [/database or disk is full/, () => new SqlError('53100', 'could not write to the catalog: device is full')],
  [/integer overflow/, () => new SqlError('22003', 'integer out of range')],
  [/datatype mismatch/, () => new SqlError('42804', 'datatype mismatch')],
  [/malformed JSON/, () => new SqlError('22P02', 'invalid input syntax for type json')],
  [
    /misuse of window function (\w+)\(\)/,
    (m) => new SqlError('42P20', `window function ${m[1]} is not allowed here`),
  ],
  [/near "([^"]*)": syntax error/, (m) => new SqlError('42601', `syntax error at or near "${m[1]}"`)],
  [/syntax error/, () => new SqlError('42601', 'syntax error')],
];

export function translateSqliteError(err: unknown): Error {
  // The inline guard's refusal is not the query's error: the pool runs the statement elsewhere.
  if (err instanceof SqlError || err instanceof NotInline) return err;
  const msg = (err as Error).message ?? String(err);
  for (const [re, make] of RULES) {
    const m = re.exec(msg);
    if (m) return make(m);
  }
  return new SqlError('XX000', msg);
}
