// Schedules: a CREATE TASK run every interval (check_disk with sample = true every day, a full check every
// week, as Ceph's scrub and deep scrub). Each due run is claimed in one catalog transaction that creates the
// task and advances next_run together (if no one advanced it first), so a restart neither loses a due run (a
// run that fell due while the server was down runs once at the next start) nor doubles one. A schedule never
// starts a run while its previous one has not ended: that run is skipped, counted and explained in the row,
// and rescheduled.
import type { Logger } from 'pino';
import { DuplicateScheduleError, ScheduleCatalog, type ScheduleRow } from '../../catalog/schedules';
import { isFinished, type TaskCatalog } from '../../catalog/tasks';
import { formatTimestampMicros, parseTimestampMicros } from '../../pg/codecs';
import { SqlError } from '../../pg/errors';
import { validateTask } from '../ddl/task-validation';
import { type CreateScheduleStatement, parseTaskStatement } from '../ddl/tasks';
import type { TaskEngine } from './engine';
import { TaskError } from './errors';
import { formatInterval, parseInterval } from './schedule-interval';

const TICK_MS = 1000;

const micros = (text: string) => parseTimestampMicros(text);
const text = (m: bigint) => formatTimestampMicros(m);
const nowMicros = () => BigInt(Date.now()) * 1000n;

export class TaskScheduler {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly schedules: ScheduleCatalog,
    private readonly tasks: TaskCatalog,
    private readonly engine: TaskEngine,
    private readonly logger: Logger,
    private readonly now: () => bigint = nowMicros,
  ) {
    engine.events.on('task', (e) => {
      if (e.event === 'status')
        this.schedules
          .setLastStatus(e.task_id, e.status)
          .catch((err) =>
            this.logger.error({ err: (err as Error).stack }, 'could not record a schedule run'),
          );
    });
  }

  start(tickMs = TICK_MS): void {
    const tick = () =>
      this.tick().catch((err) => this.logger.error({ err: (err as Error).stack }, 'schedule tick failed'));
    void tick();
    this.timer = setInterval(tick, tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** CREATE SCHEDULE: the definition is checked now as CREATE TASK would check it, and again at each run. */
  async create(stmt: CreateScheduleStatement, user: string): Promise<ScheduleRow> {
    let seconds: number;
    try {
      seconds = parseInterval(stmt.every);
    } catch (err) {
      throw positioned(err, stmt.everyAt);
    }
    let first: bigint;
    try {
      first = stmt.startingAt ? micros(stmt.startingAt) : this.now() + BigInt(seconds) * 1_000_000n;
    } catch (err) {
      throw positioned(err, stmt.startingAtPos);
    }
    await this.engine.check(validateTask(stmt.task, [], this.engine.types));
    try {
      await this.schedules.insert({
        name: stmt.name,
        definition: stmt.definition,
        interval: formatInterval(seconds),
        next_run: text(first),
        created_by: user,
        created_at: text(this.now()),
      });
    } catch (err) {
      if (err instanceof DuplicateScheduleError) throw new TaskError('42710', err.message);
      throw err;
    }
    this.logger.info(
      { event: 'schedule.created', schedule: stmt.name, every: formatInterval(seconds), by: user },
      `schedule created: ${stmt.name}`,
    );
    return (await this.schedules.get(stmt.name))!;
  }

  /** ALTER SCHEDULE ... PAUSE | RESUME. Resuming plans the next run from now on (missed runs are not run). */
  async setPaused(name: string, paused: boolean): Promise<void> {
    const s = await this.find(name);
    const change: Parameters<ScheduleCatalog['update']>[1] = { paused };
    if (!paused && s.paused) change.next_run = text(this.nextAfter(s, this.now()));
    await this.schedules.update(name, change);
  }

  drop(name: string): Promise<boolean> {
    return this.schedules.drop(name);
  }

  /** Starts the runs that are due. */
  async tick(): Promise<void> {
    const now = this.now();
    for (const s of await this.schedules.all())
      if (!s.paused && micros(s.next_run) <= now) await this.claim(s, now);
  }

  /**
   * One due run: the task (or the skip) is recorded with the next run, on the condition that next_run is
   * still the one read (ScheduleCatalog.advance). Another claimer that got there first (a second coordinator on
   * the same catalog, an overlapping tick) makes this one a no-op, and the task it was creating is rolled back.
   */
  private async claim(s: ScheduleRow, now: bigint): Promise<void> {
    const name = s.name;
    const next = text(this.nextAfter(s, now));
    const last = s.last_task_id ? await this.tasks.task(s.last_task_id) : undefined;
    if (last && !isFinished(last.status)) {
      const note = `run due at ${s.next_run} skipped: the previous run (task ${last.id}) is still ${last.status}`;
      if (
        await this.schedules.advance(name, s.next_run, {
          next_run: next,
          skipped_runs: s.skipped_runs + 1,
          note,
        })
      )
        this.logger.info({ event: 'schedule.skipped', schedule: name, task: last.id }, note);
      return;
    }
    try {
      const stmt = parseTaskStatement(s.definition, this.engine.types.names());
      if (stmt?.kind !== 'create_task') throw new Error(`not a CREATE TASK: ${s.definition}`);
      const v = validateTask(stmt, [], this.engine.types);
      const task = await this.engine.create(v, s.created_by, async (taskId, tx) => {
        const claimed = await new ScheduleCatalog({ sql: tx }).advance(name, s.next_run, {
          next_run: next,
          last_run: text(now),
          last_task_id: taskId,
          last_status: 'PENDING',
          note: null,
        });
        if (!claimed) throw new ClaimedElsewhere();
      });
      this.logger.info(
        { event: 'schedule.run', schedule: name, task: task.id },
        `schedule ${name} created task ${task.id}`,
      );
    } catch (err) {
      if (err instanceof ClaimedElsewhere) return;
      // The run is spent (a topology change may have made the definition invalid): the row says why.
      const msg = err instanceof Error ? err.message : String(err);
      const spent = await this.schedules.advance(name, s.next_run, {
        next_run: next,
        last_run: text(now),
        last_task_id: null,
        last_status: 'FAILED',
        note: `could not create the task: ${msg}`,
      });
      if (spent)
        this.logger.warn({ event: 'schedule.failed', schedule: name, err: msg }, `schedule ${name} failed`);
    }
  }

  /** The first slot of the schedule (next_run plus whole intervals) after `now`. */
  private nextAfter(s: ScheduleRow, now: bigint): bigint {
    const step = BigInt(parseInterval(s.interval)) * 1_000_000n;
    const at = micros(s.next_run);
    if (at > now) return at;
    return at + ((now - at) / step + 1n) * step;
  }

  private async find(name: string): Promise<ScheduleRow> {
    const s = await this.schedules.get(name);
    if (!s) throw new TaskError('42704', `schedule "${name}" does not exist`);
    return s;
  }
}

/** The due run was claimed by someone else between the read and the claim. */
class ClaimedElsewhere extends Error {}

function positioned(err: unknown, at: number): unknown {
  return err instanceof SqlError
    ? new SqlError(err.code, err.message, { ...err.extra, position: at + 1 })
    : err;
}
