// Binary and unary operators: one entry per PostgreSQL operator, saying what SQLite SQL it becomes and what type
// it yields from its operands' types (the way functions/ has one entry per function). The translator resolves
// the operands (and the types of parameters among them) and looks the operator up here.
import { isIntegerType } from '../../../pg/types';
import { castSql } from './casts';
import { err, type Typed } from './typed';

interface BinaryOperator {
  /** Whether a parameter operand takes the other operand's type (comparisons, arithmetic); otherwise text. */
  sameType: boolean;
  apply(l: Typed, r: Typed, op: string): Typed;
}

const bool = (sql: string): Typed => ({ sql, type: 'bool' });

/** Compare timestamps by their instant, whatever spelling each side has. */
const comparison: BinaryOperator = {
  sameType: true,
  apply(l, r, op) {
    const instant = l.type === 'timestamptz' || r.type === 'timestamptz';
    const key = (v: Typed) => (instant ? `pg_ts_key(${v.sql})` : v.sql);
    return bool(`(${key(l)} ${op === '!=' ? '<>' : op} ${key(r)})`);
  },
};

const infix = (sameType: boolean, type: (l: Typed, r: Typed) => string | null): BinaryOperator => ({
  sameType,
  apply: (l, r, op) => ({ sql: `(${l.sql} ${op} ${r.sql})`, type: type(l, r) }),
});

const arithmetic = infix(true, (l, r) => arithmeticType(l.type, r.type));

/**
 * + - * of int2 and int4 raise PostgreSQL's 22003 when the result leaves the type's range (SQLite computes in
 * 64 bits and would answer the wider number). The bit operators wrap in PostgreSQL too, and stay unchecked.
 */
const checkedArithmetic: BinaryOperator = {
  sameType: true,
  apply(l, r, op) {
    const t = arithmetic.apply(l, r, op);
    return t.type === 'int2' || t.type === 'int4'
      ? { sql: `pg_int_range(${t.sql}, '${t.type}')`, type: t.type }
      : t;
  },
};

/**
 * << and >>: PostgreSQL's int2shl/int4shl/int8shl (and shr) are typed by the left operand and computed in C,
 * so they wrap within the type (1 << 31 is -2147483648) and the count is taken modulo the operand's width (an
 * int2 is shifted as a 32-bit int, then cut to 16 bits); SQLite shifts in 64 bits and would answer the wider
 * number.
 */
const shift: BinaryOperator = {
  sameType: false,
  apply(l, r, op) {
    const type = l.type === 'int2' || l.type === 'int8' ? l.type : 'int4';
    return { sql: `pg_shift(${l.sql}, ${r.sql}, '${op}', '${type}')`, type };
  },
};

/** % and mod(): 22012 on a zero divisor (SQLite answers NULL), and a numeric remainder for numerics. */
const modulo: BinaryOperator = {
  sameType: true,
  apply: (l, r) => ({ sql: `pg_mod(${l.sql}, ${r.sql})`, type: arithmeticType(l.type, r.type) }),
};
const logical = infix(false, () => 'bool');

const like: BinaryOperator = {
  sameType: false,
  apply: (l, r, op) => bool(`(${l.sql} ${op} ${r.sql} ESCAPE '\\')`),
};

const ilike: BinaryOperator = {
  sameType: false,
  apply: (l, r, op) =>
    bool(`(lower(${l.sql}) ${op === 'ILIKE' ? 'LIKE' : 'NOT LIKE'} lower(${r.sql}) ESCAPE '\\')`),
};

const regexMatch: BinaryOperator = {
  sameType: false,
  apply(l, r, op) {
    const flags = op.includes('*') ? 'i' : '';
    const neg = op.startsWith('!') ? 'NOT ' : '';
    return bool(`(${neg}pg_regex_match(${l.sql}, ${r.sql}, '${flags}'))`);
  },
};

const concat: BinaryOperator = {
  sameType: false,
  apply(l, r) {
    if (l.type?.startsWith('_') || r.type?.startsWith('_')) {
      return { sql: `pg_array_cat(${l.sql}, ${r.sql})`, type: l.type?.startsWith('_') ? l.type : r.type };
    }
    // Non-text operands are converted with their text output (true/false for booleans, as PostgreSQL does).
    return { sql: `(${castSql(l, 'text')} || ${castSql(r, 'text')})`, type: 'text' };
  },
};

const isTimestamp = (t: string | null) => t === 'timestamptz' || t === 'timestamp';

const addOrSubtract: BinaryOperator = {
  sameType: true,
  apply(l, r, op) {
    // the difference of two instants is an interval
    if (op === '-' && isTimestamp(l.type) && isTimestamp(r.type)) {
      return { sql: `pg_ts_diff(${l.sql}, ${r.sql})`, type: 'interval' };
    }
    if (l.type === 'timestamptz' || l.type === 'date' || r.type === 'interval') {
      return {
        sql: `pg_ts_add(${l.sql}, ${r.sql}, ${op === '-' ? -1 : 1})`,
        type: l.type === 'date' ? 'date' : 'timestamptz',
      };
    }
    return checkedArithmetic.apply(l, r, op);
  },
};

const divide: BinaryOperator = {
  sameType: true,
  apply(l, r) {
    // pg_div raises 22012 on a zero divisor (SQLite would answer NULL) and keeps integer division.
    const t = arithmeticType(l.type, r.type);
    return { sql: `pg_div(${l.sql}, ${r.sql}, ${isIntegerType(t) ? 1 : 0})`, type: t };
  },
};

const call = (fn: string, type: string | null, swap = false): BinaryOperator => ({
  sameType: true,
  apply: (l, r) => ({ sql: `${fn}(${swap ? r.sql : l.sql}, ${swap ? l.sql : r.sql})`, type }),
});

export const BINARY_OPERATORS: Record<string, BinaryOperator> = {
  '=': comparison,
  '<>': comparison,
  '!=': comparison,
  '<': comparison,
  '>': comparison,
  '<=': comparison,
  '>=': comparison,
  AND: logical,
  OR: logical,
  LIKE: like,
  'NOT LIKE': like,
  ILIKE: ilike,
  'NOT ILIKE': ilike,
  '~': regexMatch,
  '~*': regexMatch,
  '!~': regexMatch,
  '!~*': regexMatch,
  '||': concat,
  '+': addOrSubtract,
  '-': addOrSubtract,
  '*': checkedArithmetic,
  '/': divide,
  '%': modulo,
  '^': call('power', 'float8'),
  '&': arithmetic,
  '|': arithmetic,
  '<<': shift,
  '>>': shift,
  '@>': call('pg_array_contains', 'bool'),
  '<@': call('pg_array_contains', 'bool', true),
  '&&': call('pg_array_overlaps', 'bool'),
  IS: infix(true, () => 'bool'),
  'IS NOT': infix(true, () => 'bool'),
};

/** Operators PostgreSQL has for numbers (and date/time), never for strings. */
const NUMERIC_ONLY = new Set(['*', '/', '%']);
const STRING_TYPES = new Set(['text', 'varchar', 'name', 'bpchar', 'char']);

export function binaryOperator(op: string, l: Typed, r: Typed): Typed {
  const def = BINARY_OPERATORS[op];
  const noneForStrings =
    NUMERIC_ONLY.has(op) && (STRING_TYPES.has(l.type ?? '') || STRING_TYPES.has(r.type ?? ''));
  if (!def || noneForStrings)
    throw err('42883', `operator does not exist: ${l.type ?? 'unknown'} ${op} ${r.type ?? 'unknown'}`);
  return def.apply(l, r, op);
}

/** Whether a parameter operand of op takes the type of the other operand (otherwise it is text). */
export function operandsShareType(op: string): boolean {
  return BINARY_OPERATORS[op]?.sameType ?? true;
}

const UNARY_OPERATORS: Record<string, (v: Typed) => Typed> = {
  NOT: (v) => bool(`(NOT ${v.sql})`),
  '-': (v) => ({ sql: `(-${v.sql})`, type: v.type }),
  '+': (v) => v,
  'IS NULL': (v) => bool(`(${v.sql} IS NULL)`),
  'IS NOT NULL': (v) => bool(`(${v.sql} IS NOT NULL)`),
  'IS TRUE': (v) => bool(`(${v.sql} IS 1)`),
  'IS NOT TRUE': (v) => bool(`(${v.sql} IS NOT 1)`),
  'IS FALSE': (v) => bool(`(${v.sql} IS 0)`),
  'IS NOT FALSE': (v) => bool(`(${v.sql} IS NOT 0)`),
};

export function unaryOperator(op: string, v: Typed): Typed {
  const apply = UNARY_OPERATORS[op];
  if (!apply) throw err('0A000', `operator ${op} is not supported`);
  return apply(v);
}

/** The operator that holds exactly when op does not (for x op ALL(...) as NOT EXISTS). */
export function negateOp(op: string): string {
  const negations: Record<string, string> = {
    '=': '<>',
    '<>': '=',
    '!=': '=',
    '<': '>=',
    '>': '<=',
    '<=': '>',
    '>=': '<',
  };
  return negations[op] ?? op;
}

/** The result type of arithmetic on two numeric types: the wider of them, as PostgreSQL's operators resolve. */
export function arithmeticType(a: string | null, b: string | null): string | null {
  const order = ['int2', 'int4', 'oid', 'int8', 'numeric', 'float4', 'float8'];
  const ia = order.indexOf(a ?? '');
  const ib = order.indexOf(b ?? '');
  if (ia < 0 && ib < 0) return a && a !== 'unknown' ? a : b && b !== 'unknown' ? b : 'numeric';
  const t = order[Math.max(ia, ib)];
  // int2 with int2 stays int2 (int2pl, int2mul...); with anything wider, the wider type.
  return t === 'oid' ? 'int4' : t;
}
