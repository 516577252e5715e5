// Per-segment-group locks: two tasks never change one group at the same time, and check_disk does not report
// a segment whose group is being changed (its files are being replaced).
export class GroupLocks {
  private readonly owners = new Map<number, string>();

  /** Locks all of the groups for a task, or none of them; returns whether it did. */
  tryLock(groups: number[], taskId: string): boolean {
    if (
      groups.some((g) => {
        const o = this.owners.get(g);
        return o !== undefined && o !== taskId;
      })
    )
      return false;
    for (const g of groups) this.owners.set(g, taskId);
    return true;
  }

  unlock(groups: number[], taskId: string): void {
    for (const g of groups) if (this.owners.get(g) === taskId) this.owners.delete(g);
  }

  isLocked(group: number): boolean {
    return this.owners.has(group);
  }
}
