// Requests waiting for a reader, one FIFO per user, served round-robin: a user with a backlog of slow queries
// waits behind their own requests, not in front of everyone else's (fair queuing by user, as a scheduler with
// one queue per flow). The pool decides whether a user may take a worker now; this only keeps the order.
export class FairQueue<T> {
  /** Users in the order they are served next (a Map keeps insertion order; a served user moves to the end). */
  private readonly byUser = new Map<string, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Users with something waiting. */
  users(): IterableIterator<string> {
    return this.byUser.keys();
  }

  push(user: string, item: T): void {
    const q = this.byUser.get(user);
    if (q) q.push(item);
    else this.byUser.set(user, [item]);
    this.count++;
  }

  /** Puts an item back at the head of its user's queue (a request taken back from a worker). */
  unshift(user: string, item: T): void {
    const q = this.byUser.get(user);
    if (q) q.unshift(item);
    else this.byUser.set(user, [item]);
    this.count++;
  }

  /** Removes one item wherever it waits; false when it is not queued. */
  remove(user: string, item: T): boolean {
    const q = this.byUser.get(user);
    const i = q ? q.indexOf(item) : -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    if (!q.length) this.byUser.delete(user);
    this.count--;
    return true;
  }

  /**
   * Takes the head of the first user's queue, in round-robin order, for whom choose(user) finds a place; that
   * user then goes to the end of the order. Null when no user with work may take one now.
   */
  take<P>(choose: (user: string) => P | null): { item: T; place: P } | null {
    for (const [user, q] of this.byUser) {
      const place = choose(user);
      if (place === null) continue;
      const item = q.shift()!;
      this.byUser.delete(user);
      if (q.length) this.byUser.set(user, q);
      this.count--;
      return { item, place };
    }
    return null;
  }

  /** Empties the queue, returning everything that waited. */
  drain(): T[] {
    const all = [...this.byUser.values()].flat();
    this.byUser.clear();
    this.count = 0;
    return all;
  }
}
