// A statement's cancellation (PostgreSQL's QueryCancelPending): set by a CancelRequest, by statement_timeout
// or by the client leaving, and looked at by whatever runs the statement.
//
// Node's AbortSignal says the same thing, but making one costs 5-13 µs on Node 20 (createAbortSignal, most of
// it in its own frame), more than the whole execution of a point lookup on the wire thread. A statement that
// finishes without anyone listening for its abort (most of them) never needs one: StatementCancel makes its
// AbortSignal on first use, already aborted if the statement was cancelled before.

export class StatementCancel {
  private controller: AbortController | null = null;
  private why: unknown = undefined;
  private isAborted = false;

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.why;
  }

  /** The AbortSignal for those that must listen (a reader thread's request, a stream, a device read). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.why = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.controller?.abort(this.why);
    const listeners = this.listeners;
    this.listeners = null;
    for (const fn of listeners ?? []) fn(this.why);
  }

  /** Calls fn with the reason once aborted (at once if it is already), without making an AbortSignal. */
  onAbort(fn: (reason: unknown) => void): () => void {
    if (this.isAborted) {
      fn(this.why);
      return () => {};
    }
    const listeners = (this.listeners ??= new Set());
    listeners.add(fn);
    return () => listeners.delete(fn);
  }
  private listeners: Set<(reason: unknown) => void> | null = null;
}

/** What tells an operation that its statement is cancelled: an AbortSignal, or a StatementCancel. */
export type Cancellation = AbortSignal | StatementCancel;

/** The AbortSignal of a cancellation, made now if it is a StatementCancel that has none yet. */
export function signalOf(c: Cancellation | undefined): AbortSignal | undefined {
  return c instanceof StatementCancel ? c.signal : c;
}

/**
 * Calls fn with the reason once the cancellation aborts (at once if it has); returns the function that stops
 * listening. A StatementCancel is listened to without making its AbortSignal.
 */
export function onAbort(c: Cancellation | undefined, fn: (reason: unknown) => void): () => void {
  if (!c) return () => {};
  if (c instanceof StatementCancel) return c.onAbort(fn);
  if (c.aborted) {
    fn(c.reason);
    return () => {};
  }
  const listener = () => fn(c.reason);
  c.addEventListener('abort', listener, { once: true });
  return () => c.removeEventListener('abort', listener);
}
