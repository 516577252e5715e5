// Mathematical functions and random values.
import { SqlError } from '../../../pg/errors';
import { call, type FnDef, firstArg, type Register, type V } from './define';

export const definitions: Record<string, FnDef> = {
  abs: call('abs', firstArg),
  round: call('round', (t) => (t[0] === 'float8' ? 'float8' : 'numeric')),
  ceil: call('ceil', firstArg),
  ceiling: call('ceil', firstArg),
  floor: call('floor', firstArg),
  trunc: call('trunc', firstArg),
  sqrt: call('sqrt', 'float8'),
  power: call('power', 'float8'),
  mod: { sql: (a) => `pg_mod(${a[0]}, ${a[1]})`, returns: firstArg },
  random: call('random_float', 'float8'),
  gen_random_uuid: call('pg_gen_random_uuid', 'uuid'),
};

const INTEGER_RANGES: Record<string, { min: number; max: number; name: string }> = {
  int2: { min: -32768, max: 32767, name: 'smallint' },
  int4: { min: -2147483648, max: 2147483647, name: 'integer' },
};

export function register(reg: Register): void {
  reg('pg_int_range', (v: V, type: V) => {
    const range = INTEGER_RANGES[String(type)];
    if (v !== null && range && (Number(v) < range.min || Number(v) > range.max))
      throw new SqlError('22003', `${range.name} out of range`);
    return v;
  });
  // PostgreSQL's << and >> (expressions/operators.ts): C shifts of the left operand's width, wrapping.
  reg('pg_shift', (v: V, n: V, op: V, type: V) => {
    if (v === null || n === null) return null;
    const bits = type === 'int8' ? 64 : 32;
    const count = BigInt(Number(n) & (bits - 1));
    const x = BigInt(v as number | bigint);
    let out = BigInt.asIntN(bits, op === '<<' ? x << count : x >> count);
    if (type === 'int2') out = BigInt.asIntN(16, out);
    return type === 'int8' ? out : Number(out);
  });
  // PostgreSQL's % and mod(): the remainder has the dividend's sign (as JavaScript's), integers stay integers
  reg('pg_mod', (a: V, b: V) => {
    if (a === null || b === null) return null;
    if (Number(b) === 0) throw new SqlError('22012', 'division by zero');
    const [x, y] = [Number(a), Number(b)];
    return Number.isInteger(x) && Number.isInteger(y) ? BigInt(x) % BigInt(y) : x % y;
  });
  reg('pg_gen_random_uuid', () => crypto.randomUUID(), { deterministic: false });
  reg('random_float', () => Math.random(), { deterministic: false });
}
