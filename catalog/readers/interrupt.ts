// Stopping a request a reader worker is running without ending the worker: the pool writes the request's id
// into a cell shared with the worker's thread and wakes it; whatever waits in the worker (pg_sleep) waits on
// that cell and gives up when it holds the id of the request it serves. A statement busy inside SQLite does
// not look at the cell: the pool ends such a worker when it has not answered within a grace period.
export const newInterrupt = (): Int32Array => new Int32Array(new SharedArrayBuffer(4));

/** The pool: asks the worker to stop request id, if it is the one it runs. */
export function interrupt(cell: Int32Array, id: number): void {
  Atomics.store(cell, 0, id | 0);
  Atomics.notify(cell, 0);
}

/** The worker: waits ms milliseconds; false as soon as the pool interrupts request id. */
export function waitUnlessInterrupted(cell: Int32Array, id: number, ms: number): boolean {
  return waitUntil(cell, ms, (seen) => seen === (id | 0));
}

/**
 * The worker, between requests (reading a cursor's rows ahead): waits ms milliseconds; false as soon as the
 * pool interrupts anything after `base` was read from the cell (a held worker's requests are all its cursor's).
 */
export function waitUnlessChanged(cell: Int32Array, base: number, ms: number): boolean {
  return waitUntil(cell, ms, (seen) => seen !== base);
}

function waitUntil(cell: Int32Array, ms: number, stop: (seen: number) => boolean): boolean {
  const deadline = performance.now() + ms;
  for (;;) {
    const seen = Atomics.load(cell, 0);
    if (stop(seen)) return false;
    const left = deadline - performance.now();
    if (left <= 0) return true;
    Atomics.wait(cell, 0, seen, left);
  }
}
