// Mathematical functions and random values.
import { call, type FnDef, firstArg, type Register } from './define';

export const definitions: Record<string, FnDef> = {
  abs: call('abs', firstArg),
  round: call('round', (t) => (t[0] === 'float8' ? 'float8' : 'numeric')),
  ceil: call('ceil', firstArg),
  ceiling: call('ceil', firstArg),
  floor: call('floor', firstArg),
  trunc: call('trunc', firstArg),
  sqrt: call('sqrt', 'float8'),
  power: call('power', 'float8'),
  mod: { sql: (a) => `(${a[0]} % ${a[1]})`, returns: firstArg },
  random: call('random_float', 'float8'),
  gen_random_uuid: call('pg_gen_random_uuid', 'uuid'),
};

export function register(reg: Register): void {
  reg('pg_gen_random_uuid', () => crypto.randomUUID(), { deterministic: false });
  reg('random_float', () => Math.random(), { deterministic: false });
}
