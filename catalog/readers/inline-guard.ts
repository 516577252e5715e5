// The guard of the inline lane's reader connection (lane-worker.ts). A statement runs there only
// when its plan is bounded (bounded-plan.ts); what the plan does not bound is the JavaScript functions it
// calls, so the guard checks every call before it happens and refuses (NotInline: the statement goes to a
// reader thread instead, as if it had never started) any call that could be slow or have an effect:
// - a function not registered deterministic (it reads or changes the session: set_config, pg_notify,
//   pg_sleep, now(), ...; effects are the reader's to report),
// - a regular-expression function (a pattern can backtrack for seconds on a short string),
// - arguments that could make a large result (a number beyond MAX_ARG_NUMBER, as in lpad(s, 100000000), or a
//   string or bytes beyond MAX_ARG_BYTES),
// - any call after the statement's time budget has run out.
// Refusing is always safe: nothing a deterministic function computes is visible until the statement returns.
import type { CallGuard, V } from '../query/functions';

/** Thrown by the guard; the pool then runs the statement on a reader thread. */
export class NotInline extends Error {
  constructor(
    why: string,
    /** Refused because the statement's time ran out, not for what the call is. */
    readonly outOfTime = false,
  ) {
    super(`not run inline: ${why}`);
  }
}

const MAX_ARG_NUMBER = 65536;
const MAX_ARG_BYTES = 65536;
const UNSAFE_NAME = /regex|similar/;

export class InlineGuard implements CallGuard {
  /** performance.now() after which no call is allowed; Infinity when no statement runs inline. */
  private deadline = Number.POSITIVE_INFINITY;

  /** Runs f with calls allowed for budgetMs. */
  within<T>(budgetMs: number, f: () => T): T {
    this.deadline = performance.now() + budgetMs;
    try {
      return f();
    } finally {
      this.deadline = Number.POSITIVE_INFINITY;
    }
  }

  beforeCall(name: string, deterministic: boolean, args: readonly V[]): void {
    if (!deterministic) throw new NotInline(`${name} is not deterministic`);
    if (UNSAFE_NAME.test(name)) throw new NotInline(`${name} may take long`);
    for (const a of args) {
      if (typeof a === 'number' && Math.abs(a) > MAX_ARG_NUMBER)
        throw new NotInline('a large number argument');
      if (typeof a === 'bigint' && (a > MAX_ARG_NUMBER || a < -MAX_ARG_NUMBER))
        throw new NotInline('a large number argument');
      if ((typeof a === 'string' || a instanceof Uint8Array) && a.length > MAX_ARG_BYTES)
        throw new NotInline('a large argument');
    }
    if (performance.now() > this.deadline) throw new NotInline('out of time', true);
  }
}
