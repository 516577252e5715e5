// Data access for tasks, subtasks and their results (sys.tasks, sys.subtasks, sys.result_cache).
import { randomUUID } from 'node:crypto';
import { type Catalog, nowText } from './db';

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
  apply: (() => void)[];
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
const fraction = (bytesDone: string, segmentsDone: string) =>
  `CASE WHEN bytes_total > 0 THEN min(1.0, CAST(${bytesDone} AS REAL) / bytes_total)
     WHEN segments_total > 0 THEN min(1.0, CAST(${segmentsDone} AS REAL) / segments_total) ELSE 0 END`;

/**
 * When the remaining bytes are done at the current rate, in the catalog's timestamptz text form (nowText's);
 * NULL while the rate is 0 or nothing remains.
 */
const etaAt = (remainingBytes: string, bytesPerSec: string) =>
  `CASE WHEN ${bytesPerSec} > 0 AND ${remainingBytes} > 0
     THEN strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || (CAST(${remainingBytes} AS REAL) / ${bytesPerSec}) || ' seconds') || '+00'
   END`;

export class TaskCatalog {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  /** Inserts a task with its subtasks (status PENDING) in one transaction; returns the task id. */
  createTask(
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
    alongside?: (taskId: string) => void,
  ): string {
    const id = randomUUID();
    this.db.transaction(() => {
      if (t.name && this.activeByName(t.name)) throw new DuplicateTaskError(t.name);
      const bytes = subtasks.reduce((s, x) => s + x.bytes_total, 0);
      const segs = subtasks.reduce((s, x) => s + x.segments_total, 0);
      this.db
        .prepare(
          `INSERT INTO tasks (id, name, type, location_type, location_name, options, status, created_by, created_at, bytes_total, segments_total)
           VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?, ?)`,
        )
        .run(
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
        );
      const ins = this.db.prepare(
        `INSERT INTO subtasks (id, task_id, parent_id, node_name, cluster_name, device_id, description, status, bytes_total, segments_total, plan)
         VALUES (?, ?, NULL, ?, ?, ?, ?, 'PENDING', ?, ?, ?)`,
      );
      for (const s of subtasks) {
        ins.run(
          randomUUID(),
          id,
          s.node_name,
          s.cluster_name,
          s.device_id,
          s.description,
          s.bytes_total,
          s.segments_total,
          JSON.stringify(s.plan),
        );
      }
      alongside?.(id);
    })();
    return id;
  }

  activeByName(name: string): TaskRow | undefined {
    return this.db.prepare(`SELECT * FROM tasks WHERE name = ? AND status IN (${ACTIVE_SQL})`).get(name) as
      | TaskRow
      | undefined;
  }

  /** Finds a task by id, or by name (the most recent one with that name). */
  find(nameOrId: string): TaskRow | undefined {
    const byId = /^[0-9a-f-]{36}$/i.test(nameOrId)
      ? (this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(nameOrId.toLowerCase()) as
          | TaskRow
          | undefined)
      : undefined;
    if (byId) return byId;
    return (
      (this.db.prepare(`SELECT * FROM tasks WHERE name = ? AND status IN (${ACTIVE_SQL})`).get(nameOrId) as
        | TaskRow
        | undefined) ??
      (this.db.prepare('SELECT * FROM tasks WHERE name = ? ORDER BY created_at DESC LIMIT 1').get(nameOrId) as
        | TaskRow
        | undefined)
    );
  }

  task(id: string): TaskRow | undefined {
    return this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
  }

  /** Tasks that have not ended (PAUSED ones included), oldest first. */
  activeTasks(): TaskRow[] {
    return this.db
      .prepare(`SELECT * FROM tasks WHERE status IN (${ACTIVE_SQL}) ORDER BY created_at`)
      .all() as TaskRow[];
  }

  subtasks(taskId: string): SubtaskRow[] {
    return this.db
      .prepare(
        `SELECT id, task_id, parent_id, node_name, cluster_name, device_id, description, status, bytes_total,
           segments_total, plan, checkpoint, checkpoint_bytes_done, checkpoint_segments_done,
           checkpoint_segments_failed
         FROM subtasks WHERE task_id = ? ORDER BY rowid`,
      )
      .all(taskId) as SubtaskRow[];
  }

  setTaskStatus(id: string, status: TaskStatus, error: string | null = null): void {
    const finished = isFinished(status);
    this.db
      .prepare(
        `UPDATE tasks SET status = ?, error = coalesce(?, error),
           started_at = CASE WHEN ? = 'RUNNING' AND started_at IS NULL THEN ? ELSE started_at END,
           finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
           bytes_per_sec = CASE WHEN ? = 'RUNNING' THEN bytes_per_sec ELSE 0 END,
           eta = CASE WHEN ? = 'RUNNING' THEN eta END
         WHERE id = ?`,
      )
      .run(status, error, status, nowText(), finished ? 1 : 0, nowText(), status, status, id);
  }

  setSubtaskStatus(id: string, status: TaskStatus, error: string | null = null): void {
    const finished = isFinished(status);
    this.db
      .prepare(
        `UPDATE subtasks SET status = ?, error = ?,
           started_at = CASE WHEN ? = 'RUNNING' THEN ? ELSE started_at END,
           finished_at = CASE WHEN ? THEN ? ELSE NULL END,
           bytes_per_sec = CASE WHEN ? = 'RUNNING' THEN bytes_per_sec ELSE 0 END,
           eta = CASE WHEN ? = 'RUNNING' THEN eta END
         WHERE id = ?`,
      )
      .run(status, error, status, nowText(), finished ? 1 : 0, nowText(), status, status, id);
  }

  /**
   * Makes an interrupted subtask ready to run again from its last checkpoint: its counters go back to what
   * the checkpoint recorded (the work after it is redone, and its results were never written).
   */
  resumeSubtask(id: string): void {
    this.db
      .prepare(
        `UPDATE subtasks SET status = 'PENDING', bytes_done = checkpoint_bytes_done,
           segments_done = checkpoint_segments_done, segments_failed = checkpoint_segments_failed,
           fraction_complete = ${fraction('checkpoint_bytes_done', 'checkpoint_segments_done')}, bytes_per_sec = 0, eta = NULL, started_at = NULL, finished_at = NULL,
           error = NULL
         WHERE id = ?`,
      )
      .run(id);
  }

  /**
   * Writes the progress of several subtasks, the checkpoints they reached (with their result rows and
   * catalog changes) and the totals of their tasks, in one transaction.
   */
  writeProgress(updates: Map<string, SubtaskProgress>): void {
    if (!updates.size) return;
    this.db.transaction(() => {
      const live = this.db.prepare(
        `UPDATE subtasks SET bytes_done = @bytes_done, segments_done = @segments_done,
           segments_failed = @segments_failed, bytes_per_sec = @bytes_per_sec,
           fraction_complete = ${fraction('@bytes_done', '@segments_done')},
           eta = ${etaAt('bytes_total - @bytes_done', '@bytes_per_sec')}
         WHERE id = @id`,
      );
      const mark = this.db.prepare(
        `UPDATE subtasks SET checkpoint = @position, checkpoint_bytes_done = @bytes_done,
           checkpoint_segments_done = @segments_done, checkpoint_segments_failed = @segments_failed,
           checkpointed_at = @at
         WHERE id = @id`,
      );
      const tasks = new Set<string>();
      for (const [id, p] of updates) {
        const cp = p.checkpoint;
        if (cp) {
          for (const f of cp.apply) f();
          this.addResults(p.task_id, p.task_type, cp.results);
          mark.run({ id, position: cp.position, at: nowText(), ...cp.progress });
        }
        live.run({
          id,
          bytes_done: p.bytes_done,
          segments_done: p.segments_done,
          segments_failed: p.segments_failed,
          bytes_per_sec: p.bytes_per_sec,
        });
        tasks.add(p.task_id);
      }
      for (const t of tasks) this.refreshTaskTotals(t);
    })();
  }

  /** Replaces a task's options (ALTER TASK). */
  setTaskOptions(id: string, options: unknown): void {
    this.db.prepare('UPDATE tasks SET options = ? WHERE id = ?').run(JSON.stringify(options), id);
  }

  refreshTaskTotals(taskId: string): void {
    this.db
      .prepare(
        `UPDATE tasks SET
           bytes_total = (SELECT coalesce(sum(bytes_total), 0) FROM subtasks WHERE task_id = @id),
           bytes_done = (SELECT coalesce(sum(bytes_done), 0) FROM subtasks WHERE task_id = @id),
           segments_total = (SELECT coalesce(sum(segments_total), 0) FROM subtasks WHERE task_id = @id),
           segments_done = (SELECT coalesce(sum(segments_done), 0) FROM subtasks WHERE task_id = @id),
           segments_failed = (SELECT coalesce(sum(segments_failed), 0) FROM subtasks WHERE task_id = @id),
           bytes_per_sec = CASE WHEN status = 'RUNNING' THEN (SELECT coalesce(sum(bytes_per_sec), 0) FROM subtasks
             WHERE task_id = @id AND status = 'RUNNING') ELSE 0 END
         WHERE id = @id`,
      )
      .run({ id: taskId });
    this.db
      .prepare(
        `UPDATE tasks SET fraction_complete = CASE
           WHEN bytes_total > 0 THEN min(1.0, CAST(bytes_done AS REAL) / bytes_total)
           WHEN segments_total > 0 THEN min(1.0, CAST(segments_done AS REAL) / segments_total)
           ELSE fraction_complete END,
           eta = CASE WHEN status = 'RUNNING' THEN ${etaAt('bytes_total - bytes_done', 'bytes_per_sec')} END
         WHERE id = ?`,
      )
      .run(taskId);
  }

  setFinalFraction(taskId: string): void {
    this.db.prepare('UPDATE tasks SET fraction_complete = 1.0 WHERE id = ?').run(taskId);
  }

  addResults(taskId: string, taskType: string, rows: ResultRow[]): void {
    if (!rows.length) return;
    this.db.transaction(() => {
      const ins = this.db.prepare(
        `INSERT INTO result_cache (task_id, subtask_id, task_type, node_name, device_id, table_id, segment_group_id, storage_id, result, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const at = nowText();
      for (const r of rows) {
        ins.run(
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
        );
      }
    })();
  }

  /** How many result rows of each kind (CHECKSUM_MISMATCH, REBUILT, MOVED ...) the task has. */
  resultCounts(taskId: string): Record<string, number> {
    const rows = this.db
      .prepare(
        'SELECT result, count(*) AS n FROM result_cache WHERE task_id = ? GROUP BY result ORDER BY result',
      )
      .all(taskId) as { result: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.result, r.n]));
  }

  results(taskId: string): (ResultRow & { id: number })[] {
    return this.db
      .prepare('SELECT * FROM result_cache WHERE task_id = ? ORDER BY id')
      .all(taskId) as (ResultRow & { id: number })[];
  }
}

export class DuplicateTaskError extends Error {
  constructor(readonly taskName: string) {
    super(`a task named "${taskName}" is already pending or running`);
  }
}
