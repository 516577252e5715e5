// Which of the requests posted to a reader worker it may still run: one cell per posted request (by the
// worker's own sequence number), which the worker claims before running it and the pool may mark withdrawn
// before that. Both sides change a cell only with compareExchange from PENDING, so a request is either run by
// this worker or given to another, never both and never neither.
export const PENDING = 0;
export const CLAIMED = 1;
export const WITHDRAWN = 2;

/**
 * Cells per worker, reused by sequence number modulo this. A worker never has this many posted requests it
 * has not reached: at most MAX_IN_FLIGHT in flight, plus those withdrawn while its current one runs.
 */
export const CLAIM_CELLS = 256;

export const newClaims = (): Int32Array => new Int32Array(new SharedArrayBuffer(4 * CLAIM_CELLS));

/** The pool, before posting request seq: its cell starts PENDING. */
export function resetClaim(claims: Int32Array, seq: number): void {
  Atomics.store(claims, seq % CLAIM_CELLS, PENDING);
}

/** The pool: true when the worker had not started seq, which it will now skip. */
export function withdraw(claims: Int32Array, seq: number): boolean {
  return Atomics.compareExchange(claims, seq % CLAIM_CELLS, PENDING, WITHDRAWN) === PENDING;
}

/** The worker: true when it may run seq (false: the pool withdrew it). */
export function claim(claims: Int32Array, seq: number): boolean {
  return Atomics.compareExchange(claims, seq % CLAIM_CELLS, PENDING, CLAIMED) === PENDING;
}
