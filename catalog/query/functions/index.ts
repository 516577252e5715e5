// The PostgreSQL functions of the query engine, one module per domain; each module keeps a function's
// translation (its FnDef in `definitions`) beside the JavaScript implementation it relies on (`register`).
import type BetterSqlite3 from 'better-sqlite3';
import * as aggregates from './aggregates';
import * as arrays from './arrays';
import * as conditional from './conditional';
import * as conversions from './conversions';
import * as datetime from './datetime';
import type { CallGuard, FnDef, FunctionContext, Register, V } from './define';
import { DETERMINISTIC, sqlInteger } from './define';
import * as json from './json';
import * as math from './math';
import * as setReturning from './set-returning';
import * as strings from './strings';
import * as system from './system';

export type { CallGuard, FnDef, FunctionContext, V } from './define';
export {
  int4Series,
  lowerBound,
  TABLE_FUNCTION_NAMES,
  type TableFunction,
  tableFunction,
} from './set-returning';
export { formatTypeName } from './system';

/** Every function a query may call, by name. */
export const FUNCTIONS: Record<string, FnDef> = {
  ...aggregates.definitions,
  ...conditional.definitions,
  ...strings.definitions,
  ...math.definitions,
  ...datetime.definitions,
  ...json.definitions,
  ...arrays.definitions,
  ...system.definitions,
};

type Registration = (reg: Register, ctx: () => FunctionContext, db: BetterSqlite3.Database) => void;

const REGISTRATIONS: Registration[] = [
  arrays.register,
  setReturning.register,
  strings.register,
  conditional.register,
  conversions.register,
  datetime.register,
  json.register,
  math.register,
  system.register,
];

/**
 * Registers the JavaScript implementations of every module on a reader connection. guard: asked before every
 * call (the wire thread's connection, which may run only calls it can afford; see readers/inline-guard.ts).
 */
export function registerFunctions(
  db: BetterSqlite3.Database,
  ctx: () => FunctionContext,
  guard?: CallGuard,
): void {
  // Integral results go back as SQLite INTEGERs (sqlInteger), not REALs.
  const reg: Register = (name, fn, opts = DETERMINISTIC) => {
    const deterministic = opts.deterministic === true;
    // varargs: the wrapper's own length is 0, which better-sqlite3 would take as the function's arity.
    db.function(name, { ...opts, varargs: true }, ((...args: V[]) => {
      guard?.beforeCall(name, deterministic, args);
      const r = fn(...args);
      return typeof r === 'number' ? sqlInteger(r) : r;
    }) as (...params: unknown[]) => unknown);
  };
  for (const register of REGISTRATIONS) register(reg, ctx, db);
}
