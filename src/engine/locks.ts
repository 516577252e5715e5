// Per-segment-group locks: two tasks never change one group at the same time, and check_disk does not report
// a segment whose group is being changed (its files are being replaced). A task may hold a group's lock more
// than once (two moves of one group in a batch, or one batch's item and the next batch's read ahead): each
// tryLock is matched by one unlock, and the group is free once the last is.
export class GroupLocks {
  private readonly owners = new Map<number, { task: string; holds: number }>();

  /** Locks all of the groups for a task, or none of them; returns whether it did. */
  tryLock(groups: number[], taskId: string): boolean {
    if (
      groups.some((g) => {
        const o = this.owners.get(g);
        return o !== undefined && o.task !== taskId;
      })
    )
      return false;
    for (const g of groups) {
      const o = this.owners.get(g);
      if (o) o.holds++;
      else this.owners.set(g, { task: taskId, holds: 1 });
    }
    return true;
  }

  unlock(groups: number[], taskId: string): void {
    for (const g of groups) {
      const o = this.owners.get(g);
      if (o?.task !== taskId) continue;
      if (--o.holds === 0) this.owners.delete(g);
    }
  }

  isLocked(group: number): boolean {
    return this.owners.has(group);
  }
}
