// Data access for schedules (sys.task_schedules): one row per schedule, with the CREATE TASK it runs, when it
// runs next, and how its last run went.
import type { Sql } from './sql';

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
  constructor(private readonly catalog: { sql: Sql }) {}

  private get sql(): Sql {
    return this.catalog.sql;
  }

  async insert(
    s: Omit<ScheduleRow, 'last_run' | 'last_task_id' | 'last_status' | 'paused' | 'skipped_runs' | 'note'>,
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      if (await new ScheduleCatalog({ sql: tx }).get(s.name)) throw new DuplicateScheduleError(s.name);
      await tx.run(
        `INSERT INTO task_schedules (name, definition, interval, next_run, paused, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          s.name,
          s.definition,
          s.interval,
          s.next_run,
          tx.dialect === 'postgres' ? false : 0,
          s.created_by,
          s.created_at,
        ],
      );
    });
  }

  async get(name: string): Promise<ScheduleRow | undefined> {
    return fromDb(
      await this.sql.get<Record<string, unknown>>('SELECT * FROM task_schedules WHERE name = ?', [name]),
    );
  }

  async all(): Promise<ScheduleRow[]> {
    return (await this.sql.all<Record<string, unknown>>('SELECT * FROM task_schedules ORDER BY name')).map(
      (r) => fromDb(r)!,
    );
  }

  async update(name: string, change: ScheduleChange): Promise<void> {
    await this.change(name, null, change);
  }

  /**
   * Changes a schedule only if its next_run is still `dueAt`: the claim of one due run, which another claimer
   * (a second coordinator, an overlapping tick) may have made first. Returns whether this one made it.
   */
  async advance(name: string, dueAt: string, change: ScheduleChange): Promise<boolean> {
    return (await this.change(name, dueAt, change)) > 0;
  }

  private async change(name: string, dueAt: string | null, change: ScheduleChange): Promise<number> {
    const keys = Object.keys(change) as (keyof ScheduleChange)[];
    if (!keys.length) return 0;
    const pg = this.sql.dialect === 'postgres';
    const values = keys.map((k) => (typeof change[k] === 'boolean' && !pg ? (change[k] ? 1 : 0) : change[k]));
    const r = await this.sql.run(
      `UPDATE task_schedules SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE name = ?${dueAt === null ? '' : ' AND next_run = ?'}`,
      [...values, name, ...(dueAt === null ? [] : [dueAt])],
    );
    return r.changes;
  }

  /** Keeps last_status equal to the status of the task the schedule last created. */
  async setLastStatus(taskId: string, status: string): Promise<void> {
    await this.sql.run('UPDATE task_schedules SET last_status = ? WHERE last_task_id = ?', [status, taskId]);
  }

  async drop(name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM task_schedules WHERE name = ?', [name])).changes > 0;
  }
}
