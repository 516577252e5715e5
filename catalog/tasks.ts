// Data access for tasks, subtasks and their results (sys.tasks, sys.subtasks, sys.result_cache).
import { randomUUID } from 'node:crypto';
import { nowText } from './db';
import { DIALECTS, type DialectSql, type Sql } from './sql';
import { StorageCatalog } from './storage';

export type TaskStatus =
  | 'PENDING'
  | 'RUNNING'
  | 'PAUSED'
  | 'CANCELLING'
  | 'COMPLETE'
  | 'FAILED'
  | 'CANCELLED';
/** Statuses of a task that has not ended: its name is taken, and CANCEL TASK applies to it. */
export const ACTIVE_STATUSES: TaskStatus[] = ['PENDING', 'RUNNING', 'PAUSED', 'CANCELLING'];
export const FINISHED_STATUSES: TaskStatus[] = ['COMPLETE', 'FAILED', 'CANCELLED'];
const ACTIVE_SQL = ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ');

export function isFinished(status: string): boolean {
  return (FINISHED_STATUSES as string[]).includes(status);
}

/** The counters of a task or subtask's progress, as sys.tasks and sys.subtasks have them. */
export interface ProgressCounts {
  bytes_total: number;
  bytes_done: number;
  segments_total: number;
  segments_done: number;
  segments_failed: number;
}

export interface TaskRow extends ProgressCounts {
  id: string;
  name: string | null;
  type: string;
  location_type: string;
  location_name: string | null;
  options: string;
  status: TaskStatus;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  fraction_complete: number;
  error: string | null;
}

export interface SubtaskRow {
  id: string;
  task_id: string;
  parent_id: string | null;
  node_name: string | null;
  cluster_name: string | null;
  device_id: string | null;
  description: string;
  status: TaskStatus;
  bytes_total: number;
  segments_total: number;
  plan: string | null;
  /** How far the subtask got at its last checkpoint (its type's unit), null before its first one. */
  checkpoint: number | null;
  checkpoint_bytes_done: number;
  checkpoint_segments_done: number;
  checkpoint_segments_failed: number;
}

export interface Progress {
  bytes_done: number;
  segments_done: number;
  segments_failed: number;
}

/**
 * A checkpoint to write: the position reached, the counters at that point, the result rows of the work before
 * it, and catalog changes that belong to that work (a segment switched to its new file). All of it is
 * committed in one transaction, so a restart never sees the one without the other.
 */
export interface Checkpoint {
  position: number | null;
  progress: Progress;
  results: ResultRow[];
  apply: ((storage: StorageCatalog) => Promise<void>)[];
}

/** What the engine writes for a running subtask: its live counters and rate, and a checkpoint if one was reached. */
export interface SubtaskProgress extends Progress {
  task_id: string;
  task_type: string;
  bytes_total: number;
  segments_total: number;
  bytes_per_sec: number;
  checkpoint?: Checkpoint;
}

export interface NewSubtask {
  node_name: string | null;
  cluster_name: string | null;
  device_id: string | null;
  description: string;
  bytes_total: number;
  segments_total: number;
  plan: unknown;
}

export interface ResultRow {
  subtask_id: string | null;
  node_name: string | null;
  device_id: string | null;
  table_id: string | null;
  segment_group_id: number | null;
  storage_id: string | null;
  result: string;
  detail: string;
}

/**
 * A subtask's fraction_complete for new counter values (SQL; an UPDATE's expressions see the old row, so the
 * new values are named, not the columns being set).
 */
const fraction = (d: DialectSql, bytesDone: string, segmentsDone: string) =>
  `CASE WHEN bytes_total > 0 THEN ${d.least('1.0', `CAST(${bytesDone} AS DOUBLE PRECISION) / bytes_total`)}
     WHEN segments_total > 0 THEN ${d.least('1.0', `CAST(${segmentsDone} AS DOUBLE PRECISION) / segments_total`)} ELSE 0 END`;

/**
 * When the remaining bytes are done at the current rate, in the catalog's timestamptz form; NULL while the
 * rate is 0 or nothing remains.
 */
const etaAt = (d: DialectSql, remainingBytes: string, bytesPerSec: string) =>
  // The rate is cast where it is compared: PostgreSQL would type a bare "$n > 0" as integer (a rate of
  // 12.5 bytes/s was then 22P02).
  `CASE WHEN CAST(${bytesPerSec} AS DOUBLE PRECISION) > 0 AND ${remainingBytes} > 0
     THEN ${d.nowPlusSeconds(`CAST(${remainingBytes} AS DOUBLE PRECISION) / ${bytesPerSec}`)}
   END`;

export class TaskCatalog {
  constructor(private readonly catalog: { sql: Sql }) {}

  private get sql(): Sql {
    return this.catalog.sql;
  }

  private get d(): DialectSql {
    return DIALECTS[this.sql.dialect];
  }

  /** Runs `fn` in one catalog transaction, with a TaskCatalog and a StorageCatalog bound to it. */
  transaction<T>(fn: (tasks: TaskCatalog, storage: StorageCatalog) => Promise<T>): Promise<T> {
    return this.sql.transaction((tx) => fn(new TaskCatalog({ sql: tx }), new StorageCatalog({ sql: tx })));
  }

  /** Inserts a task with its subtasks (status PENDING) in one transaction; returns the task id. */
  async createTask(
    t: {
      name: string | null;
      type: string;
      location_type: string;
      location_name: string | null;
      options: unknown;
      created_by: string;
    },
    subtasks: NewSubtask[],
    /** Runs inside the same transaction, after the inserts. */
    alongside?: (taskId: string, tx: Sql) => Promise<void>,
  ): Promise<string> {
    const id = randomUUID();
    await this.sql.transaction(async (tx) => {
      if (t.name && (await new TaskCatalog({ sql: tx }).activeByName(t.name)))
        throw new DuplicateTaskError(t.name);
      const bytes = subtasks.reduce((s, x) => s + x.bytes_total, 0);
      const segs = subtasks.reduce((s, x) => s + x.segments_total, 0);
      await tx.run(
        `INSERT INTO tasks (id, name, type, location_type, location_name, options, status, created_by, created_at, bytes_total, segments_total)
         VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)`,
        [
          id,
          t.name,
          t.type,
          t.location_type,
          t.location_name,
          JSON.stringify(t.options),
          t.created_by,
          nowText(),
          bytes,
          segs,
        ],
      );
      for (const s of subtasks) {
        await tx.run(
          `INSERT INTO subtasks (id, task_id, parent_id, node_name, cluster_name, device_id, description, status, bytes_total, segments_total, plan)
           VALUES (?, ?, NULL, ?, ?, ?, ?, 'PENDING', ?, ?, ?)`,
          [
            randomUUID(),
            id,
            s.node_name,
            s.cluster_name,
            s.device_id,
            s.description,
            s.bytes_total,
            s.segments_total,
            JSON.stringify(s.plan),
          ],
        );
      }
      await alongside?.(id, tx);
    });
    return id;
  }

  activeByName(name: string): Promise<TaskRow | undefined> {
    return this.sql.get<TaskRow>(`SELECT * FROM tasks WHERE name = ? AND status IN (${ACTIVE_SQL})`, [name]);
  }

  /** Finds a task by id, or by name (the most recent one with that name). */
  async find(nameOrId: string): Promise<TaskRow | undefined> {
    const byId = /^[0-9a-f-]{36}$/i.test(nameOrId) ? await this.task(nameOrId.toLowerCase()) : undefined;
    if (byId) return byId;
    return (
      (await this.activeByName(nameOrId)) ??
      (await this.sql.get<TaskRow>('SELECT * FROM tasks WHERE name = ? ORDER BY created_at DESC LIMIT 1', [
        nameOrId,
      ]))
    );
  }

  task(id: string): Promise<TaskRow | undefined> {
    return this.sql.get<TaskRow>('SELECT * FROM tasks WHERE id = ?', [id]);
  }

  /** Tasks that have not ended (PAUSED ones included), oldest first. */
  activeTasks(): Promise<TaskRow[]> {
    return this.sql.all<TaskRow>(`SELECT * FROM tasks WHERE status IN (${ACTIVE_SQL}) ORDER BY created_at`);
  }

  subtasks(taskId: string): Promise<SubtaskRow[]> {
    return this.sql.all<SubtaskRow>(
      `SELECT id, task_id, parent_id, node_name, cluster_name, device_id, description, status, bytes_total,
         segments_total, plan, checkpoint, checkpoint_bytes_done, checkpoint_segments_done,
         checkpoint_segments_failed
       FROM subtasks WHERE task_id = ? ORDER BY rowid`,
      [taskId],
    );
  }

  /**
   * Sets a task's status. `ifActive`: only if the task has not ended (a control statement from a coordinator
   * that does not run it must not overwrite the end its owner wrote meanwhile); returns whether it was set.
   */
  async setTaskStatus(
    id: string,
    status: TaskStatus,
    error: string | null = null,
    ifActive = false,
  ): Promise<boolean> {
    const finished = isFinished(status);
    const r = await this.sql.run(
      `UPDATE tasks SET status = ?, error = coalesce(?, error),
         started_at = CASE WHEN ? = 'RUNNING' AND started_at IS NULL THEN ${this.d.timestamp} ELSE started_at END,
         finished_at = CASE WHEN ? = 1 THEN ${this.d.timestamp} ELSE finished_at END,
         bytes_per_sec = CASE WHEN ? = 'RUNNING' THEN bytes_per_sec ELSE 0 END,
         eta = CASE WHEN ? = 'RUNNING' THEN eta END
       WHERE id = ?${ifActive ? ` AND status IN (${ACTIVE_SQL})` : ''}`,
      [status, error, status, nowText(), finished ? 1 : 0, nowText(), status, status, id],
    );
    return r.changes > 0;
  }

  async setSubtaskStatus(id: string, status: TaskStatus, error: string | null = null): Promise<void> {
    const finished = isFinished(status);
    await this.sql.run(
      `UPDATE subtasks SET status = ?, error = ?,
         started_at = CASE WHEN ? = 'RUNNING' THEN ${this.d.timestamp} ELSE started_at END,
         finished_at = CASE WHEN ? = 1 THEN ${this.d.timestamp} ELSE NULL END,
         bytes_per_sec = CASE WHEN ? = 'RUNNING' THEN bytes_per_sec ELSE 0 END,
         eta = CASE WHEN ? = 'RUNNING' THEN eta END
       WHERE id = ?`,
      [status, error, status, nowText(), finished ? 1 : 0, nowText(), status, status, id],
    );
  }

  /**
   * Makes an interrupted subtask ready to run again from its last checkpoint: its counters go back to what
   * the checkpoint recorded (the work after it is redone, and its results were never written).
   */
  async resumeSubtask(id: string): Promise<void> {
    await this.sql.run(
      `UPDATE subtasks SET status = 'PENDING', bytes_done = checkpoint_bytes_done,
         segments_done = checkpoint_segments_done, segments_failed = checkpoint_segments_failed,
         fraction_complete = ${fraction(this.d, 'checkpoint_bytes_done', 'checkpoint_segments_done')}, bytes_per_sec = 0, eta = NULL, started_at = NULL, finished_at = NULL,
         error = NULL
       WHERE id = ?`,
      [id],
    );
  }

  /**
   * Runs `fn` in one transaction if `holds`, run first in that transaction, says this writer may write (the
   * fencing of several coordinators, catalog/leases.ts); nothing is written when it says no.
   */
  async guarded<T>(
    holds: (tx: Sql) => Promise<boolean>,
    fn: (tasks: TaskCatalog) => Promise<T>,
  ): Promise<{ held: true; value: T } | { held: false }> {
    return this.transaction(async (tasks) =>
      (await holds(tasks.sql)) ? { held: true as const, value: await fn(tasks) } : { held: false as const },
    );
  }

  /**
   * Writes the progress of several subtasks, the checkpoints they reached (with their result rows and
   * catalog changes) and the totals of their tasks, in one transaction. With `holds`, the updates of a task
   * it refuses (its lease is no longer this writer's) are left out; returns those tasks.
   */
  async writeProgress(
    updates: Map<string, SubtaskProgress>,
    holds?: (tx: Sql, taskId: string) => Promise<boolean>,
  ): Promise<Set<string>> {
    const refused = new Set<string>();
    if (!updates.size) return refused;
    const d = this.d;
    const live = `UPDATE subtasks SET bytes_done = ?, segments_done = ?, segments_failed = ?, bytes_per_sec = ?,
         fraction_complete = ${fraction(d, '?', '?')},
         eta = ${etaAt(d, 'bytes_total - ?', '?')}
       WHERE id = ?`;
    const mark = `UPDATE subtasks SET checkpoint = ?, checkpoint_bytes_done = ?, checkpoint_segments_done = ?,
         checkpoint_segments_failed = ?, checkpointed_at = ?
       WHERE id = ?`;
    await this.transaction(async (tasks, storage) => {
      const tx = tasks.sql;
      const ids = new Set<string>();
      if (holds)
        for (const taskId of new Set([...updates.values()].map((p) => p.task_id)))
          if (!(await holds(tx, taskId))) refused.add(taskId);
      for (const [id, p] of updates) {
        if (refused.has(p.task_id)) continue;
        const cp = p.checkpoint;
        if (cp) {
          for (const f of cp.apply) await f(storage);
          await tasks.addResults(p.task_id, p.task_type, cp.results);
          const c = cp.progress;
          await tx.run(mark, [cp.position, c.bytes_done, c.segments_done, c.segments_failed, nowText(), id]);
        }
        // fraction's and eta's placeholders come in the order they appear in the statement.
        await tx.run(live, [
          p.bytes_done,
          p.segments_done,
          p.segments_failed,
          p.bytes_per_sec,
          p.bytes_done,
          p.segments_done,
          p.bytes_per_sec,
          p.bytes_done,
          p.bytes_done,
          p.bytes_per_sec,
          id,
        ]);
        ids.add(p.task_id);
      }
      for (const t of ids) await tasks.refreshTaskTotals(t);
    });
    return refused;
  }

  /** Replaces a task's options (ALTER TASK). */
  async setTaskOptions(id: string, options: unknown): Promise<void> {
    await this.sql.run('UPDATE tasks SET options = ? WHERE id = ?', [JSON.stringify(options), id]);
  }

  async refreshTaskTotals(taskId: string): Promise<void> {
    const d = this.d;
    await this.sql.run(
      `UPDATE tasks SET bytes_total = x.bytes_total, bytes_done = x.bytes_done, segments_total = x.segments_total,
         segments_done = x.segments_done, segments_failed = x.segments_failed,
         bytes_per_sec = CASE WHEN tasks.status = 'RUNNING' THEN x.running_rate ELSE 0 END
       FROM (SELECT coalesce(sum(bytes_total), 0) AS bytes_total, coalesce(sum(bytes_done), 0) AS bytes_done,
           coalesce(sum(segments_total), 0) AS segments_total, coalesce(sum(segments_done), 0) AS segments_done,
           coalesce(sum(segments_failed), 0) AS segments_failed,
           coalesce(sum(CASE WHEN status = 'RUNNING' THEN bytes_per_sec END), 0) AS running_rate
         FROM subtasks WHERE task_id = ?) AS x
       WHERE tasks.id = ?`,
      [taskId, taskId],
    );
    await this.sql.run(
      `UPDATE tasks SET fraction_complete = CASE
         WHEN bytes_total > 0 THEN ${d.least('1.0', 'CAST(bytes_done AS DOUBLE PRECISION) / bytes_total')}
         WHEN segments_total > 0 THEN ${d.least('1.0', 'CAST(segments_done AS DOUBLE PRECISION) / segments_total')}
         ELSE fraction_complete END,
         eta = CASE WHEN status = 'RUNNING' THEN ${etaAt(d, 'bytes_total - bytes_done', 'bytes_per_sec')} END
       WHERE id = ?`,
      [taskId],
    );
  }

  async setFinalFraction(taskId: string): Promise<void> {
    await this.sql.run('UPDATE tasks SET fraction_complete = 1.0 WHERE id = ?', [taskId]);
  }

  /** Adds result rows (in one transaction; inside the caller's when it is a transaction's TaskCatalog). */
  async addResults(taskId: string, taskType: string, rows: ResultRow[]): Promise<void> {
    if (!rows.length) return;
    const at = nowText();
    await this.sql.transaction((tx) =>
      tx.runEach(
        `INSERT INTO result_cache (task_id, subtask_id, task_type, node_name, device_id, table_id, segment_group_id, storage_id, result, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        rows.map((r) => [
          taskId,
          r.subtask_id,
          taskType,
          r.node_name,
          r.device_id,
          r.table_id,
          r.segment_group_id,
          r.storage_id,
          r.result,
          r.detail,
          at,
        ]),
      ),
    );
  }

  /** How many result rows of each kind (CHECKSUM_MISMATCH, REBUILT, MOVED ...) the task has. */
  async resultCounts(taskId: string): Promise<Record<string, number>> {
    const rows = await this.sql.all<{ result: string; n: number }>(
      'SELECT result, count(*) AS n FROM result_cache WHERE task_id = ? GROUP BY result ORDER BY result',
      [taskId],
    );
    return Object.fromEntries(rows.map((r) => [r.result, r.n]));
  }

  results(taskId: string): Promise<(ResultRow & { id: number })[]> {
    return this.sql.all<ResultRow & { id: number }>(
      'SELECT * FROM result_cache WHERE task_id = ? ORDER BY id',
      [taskId],
    );
  }
}

export class DuplicateTaskError extends Error {
  constructor(readonly taskName: string) {
    super(`a task named "${taskName}" is already pending or running`);
  }
}
