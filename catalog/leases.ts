// Task ownership between coordinators on one catalog (CockroachDB's jobs: a claim with a lease, renewed by a
// heartbeat; an adoption loop takes over what a dead coordinator left). A task runs on the coordinator that
// holds its lease; the lease is a row of task_leases with its owner and when it expires, both written by
// the catalog's clock (PostgreSQL's now()), so that the coordinators' own clocks never decide. A lease is taken
// only when it is free, expired or already the taker's, in one statement, so two coordinators can never both
// hold one. Subtasks are claimed under the lease: FOR UPDATE SKIP LOCKED on PostgreSQL, so that concurrent
// claims never take one subtask twice and never wait for each other.
import { nowText } from './db';
import { DIALECTS, type DialectSql, type Sql } from './sql';

export class TaskLeases {
  constructor(
    private readonly catalog: { sql: Sql },
    /** This coordinator's id (unique per process: host, pid and a random part). */
    readonly owner: string,
    /** How long a lease lasts without renewal. */
    readonly ttlMs: number,
  ) {}

  private get sql(): Sql {
    return this.catalog.sql;
  }

  private get d(): DialectSql {
    return DIALECTS[this.sql.dialect];
  }

  private get expiry(): string {
    return this.d.nowPlusSeconds(String(this.ttlMs / 1000));
  }

  /** Takes (or keeps) the lease of a task: true when this coordinator holds it now. */
  async acquire(taskId: string): Promise<boolean> {
    const r = await this.sql.run(
      `INSERT INTO task_leases (task_id, owner, expires_at) VALUES (?, ?, ${this.expiry})
       ON CONFLICT (task_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE task_leases.owner = excluded.owner OR task_leases.expires_at < ${this.d.now}`,
      [taskId, this.owner],
    );
    return r.changes > 0;
  }

  /** Extends this coordinator's leases; returns the tasks it still holds (the others were adopted). */
  async renew(): Promise<Set<string>> {
    await this.sql.run(`UPDATE task_leases SET expires_at = ${this.expiry} WHERE owner = ?`, [this.owner]);
    return new Set(
      await this.sql.column<string>('SELECT task_id FROM task_leases WHERE owner = ?', [this.owner]),
    );
  }

  /** The coordinator that holds the task's lease now (unexpired), or null. */
  async holder(taskId: string): Promise<string | null> {
    return (
      (await this.sql.value<string>(
        `SELECT owner FROM task_leases WHERE task_id = ? AND expires_at > ${this.d.now}`,
        [taskId],
      )) ?? null
    );
  }

  async release(taskId: string): Promise<void> {
    await this.sql.run('DELETE FROM task_leases WHERE task_id = ? AND owner = ?', [taskId, this.owner]);
  }

  /** Active tasks that nobody holds: never leased, or whose lease has expired. What the adoption loop takes. */
  adoptable(): Promise<string[]> {
    return this.sql.column<string>(
      `SELECT t.id FROM tasks t LEFT JOIN task_leases l ON l.task_id = t.id
       WHERE t.status IN ('PENDING', 'RUNNING', 'CANCELLING') AND (l.task_id IS NULL OR l.expires_at < ${this.d.now})
       ORDER BY t.created_at`,
    );
  }

  /**
   * Whether this coordinator holds the task's lease now, by the catalog's clock; run inside the transaction of
   * a write that only the owner may make (fencing). On PostgreSQL the lease row stays locked FOR SHARE until
   * that transaction ends, so an adopter's acquire() waits for the write to commit and then sees it.
   */
  async holds(tx: Sql, taskId: string): Promise<boolean> {
    const row = await tx.value<number>(
      `SELECT 1 FROM task_leases WHERE task_id = ? AND owner = ? AND expires_at > ${DIALECTS[tx.dialect].now}${tx.dialect === 'postgres' ? ' FOR SHARE' : ''}`,
      [taskId, this.owner],
    );
    return row !== undefined;
  }

  /**
   * Claims a PENDING subtask of a task whose lease this coordinator holds (the next one, or the one named),
   * and marks it RUNNING, in one transaction; null when none is left, the one named is no longer PENDING, or
   * the lease is not held.
   */
  claimSubtask(taskId: string, subtaskId?: string): Promise<string | null> {
    return this.sql.transaction(async (tx) => {
      if (!(await this.holds(tx, taskId))) return null;
      const id = await tx.value<string>(
        `SELECT s.id FROM subtasks s
         WHERE s.task_id = ? AND s.status = 'PENDING'${subtaskId === undefined ? '' : ' AND s.id = ?'}
         ORDER BY s.rowid LIMIT 1${tx.dialect === 'postgres' ? ' FOR UPDATE OF s SKIP LOCKED' : ''}`,
        subtaskId === undefined ? [taskId] : [taskId, subtaskId],
      );
      if (id === undefined) return null;
      // As TaskCatalog.setSubtaskStatus(id, 'RUNNING') writes it.
      await tx.run(
        `UPDATE subtasks SET status = 'RUNNING', error = NULL, started_at = ${DIALECTS[tx.dialect].timestamp},
           finished_at = NULL, eta = NULL WHERE id = ?`,
        [nowText(), id],
      );
      return id;
    });
  }
}
