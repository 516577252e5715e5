// Data access for schedules (sys.task_schedules): one row per schedule, with the CREATE TASK it runs, when it
// runs next, and how its last run went.
import type { Catalog } from './db';

export interface ScheduleRow {
  name: string;
  definition: string;
  interval: string;
  next_run: string;
  last_run: string | null;
  last_task_id: string | null;
  last_status: string | null;
  paused: boolean;
  created_by: string;
  created_at: string;
  skipped_runs: number;
  note: string | null;
}

export type ScheduleChange = Partial<
  Pick<
    ScheduleRow,
    'next_run' | 'last_run' | 'last_task_id' | 'last_status' | 'paused' | 'skipped_runs' | 'note'
  >
>;

export class DuplicateScheduleError extends Error {
  constructor(readonly scheduleName: string) {
    super(`schedule "${scheduleName}" already exists`);
  }
}

function fromDb(r: Record<string, unknown> | undefined): ScheduleRow | undefined {
  return r ? ({ ...r, paused: !!r.paused } as ScheduleRow) : undefined;
}

export class ScheduleCatalog {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  /** Runs `fn` in one catalog transaction (nested transactions become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insert(
    s: Omit<ScheduleRow, 'last_run' | 'last_task_id' | 'last_status' | 'paused' | 'skipped_runs' | 'note'>,
  ): void {
    this.transaction(() => {
      if (this.get(s.name)) throw new DuplicateScheduleError(s.name);
      this.db
        .prepare(
          `INSERT INTO task_schedules (name, definition, interval, next_run, paused, created_by, created_at)
           VALUES (@name, @definition, @interval, @next_run, 0, @created_by, @created_at)`,
        )
        .run(s);
    });
  }

  get(name: string): ScheduleRow | undefined {
    return fromDb(this.db.prepare('SELECT * FROM task_schedules WHERE name = ?').get(name) as never);
  }

  all(): ScheduleRow[] {
    return (this.db.prepare('SELECT * FROM task_schedules ORDER BY name').all() as never[]).map(
      (r) => fromDb(r)!,
    );
  }

  update(name: string, change: ScheduleChange): void {
    const keys = Object.keys(change) as (keyof ScheduleChange)[];
    if (!keys.length) return;
    const values = Object.fromEntries(
      keys.map((k) => [k, typeof change[k] === 'boolean' ? (change[k] ? 1 : 0) : change[k]]),
    );
    this.db
      .prepare(`UPDATE task_schedules SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE name = @name`)
      .run({ ...values, name });
  }

  /** Keeps last_status equal to the status of the task the schedule last created. */
  setLastStatus(taskId: string, status: string): void {
    this.db.prepare('UPDATE task_schedules SET last_status = ? WHERE last_task_id = ?').run(status, taskId);
  }

  drop(name: string): boolean {
    return this.db.prepare('DELETE FROM task_schedules WHERE name = ?').run(name).changes > 0;
  }
}
