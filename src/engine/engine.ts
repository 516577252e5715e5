// The task engine: creates tasks, runs their subtasks in the background, and keeps sys.tasks / sys.subtasks
// true while it does. Modelled on CockroachDB's jobs: all state lives in the catalog, so a restart resumes
// PENDING and RUNNING tasks; a subtask either finished (and is never run again) or resumes from its last
// checkpoint, where its counters and result rows were committed together (so nothing is counted or reported
// twice, and only the work after the checkpoint is redone). What a task does is its type's (task-type.ts),
// looked up by name in the registry. CANCEL TASK and PAUSE TASK abort the task's AbortSignal, which its runs
// pass to their I/O; a paused task keeps what is done and its unfinished subtasks wait, PENDING at their last
// checkpoint, for RESUME TASK (across restarts too). max_bytes_per_sec is a bucket per device shared by the
// task's subtasks (throttle.ts); ALTER TASK changes it while the task runs. Every status change goes through
// setStatus, which logs the lifecycle (task-log.ts) and emits the task event (task-events.ts). Which tasks
// this engine runs is its ownership policy's (ownership.ts): all of them in the embedded mode; with several
// engines on one PostgreSQL catalog, those whose lease it holds, every write of a run fenced by that lease
// (docs/coordinators.md). Knows nothing of the wire.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Sql } from '../../catalog/sql';
import type { StorageCatalog } from '../../catalog/storage';
import {
  type Checkpoint,
  DuplicateTaskError,
  isFinished,
  type ResultRow,
  type SubtaskProgress,
  type SubtaskRow,
  type TaskCatalog,
  type TaskRow,
  type TaskStatus,
} from '../../catalog/tasks';
import type { SegmentStore } from '../store/store';
import type { VerifyPool } from '../store/verify-pool';
import { TaskError } from './errors';
import { GroupLocks } from './locks';
import { LOST, type OwnershipHost, SoleOwnership, type TaskOwnership } from './ownership';
import { decodePlan } from './plan-decoder';
import type { TaskTypeRegistry } from './registry';
import { type TaskEvent, TaskEvents, taskEvent } from './task-events';
import { lifecycleEvent, logLifecycle } from './task-log';
import { type OptionDefs, withDefaults } from './task-options';
import { isCancellation, type OptionsOf, type TaskType, type ValidatedTask } from './task-type';
import { DeviceThrottles, RateMeter } from './throttle';

/**
 * Why a run's signal was aborted: it ends CANCELLED, or sets its interrupted subtasks aside to run again, or
 * (lost: another engine took the task) stops writing nothing at all.
 */
type StopReason = 'cancel' | 'pause' | 'shutdown' | 'lost';

/** Progress and checkpoints are written at most this often (one transaction for all running subtasks)... */
const PROGRESS_FLUSH_MS = 250;
/** ...or as soon as this many result rows wait for their checkpoint. */
const RESULTS_PER_FLUSH = 256;

interface Running {
  row: TaskRow;
  type: TaskType;
  options: OptionsOf<OptionDefs>;
  /** Aborted by CANCEL TASK, PAUSE TASK, stop() and the loss of the task's lease; stopReason says which. */
  abort: AbortController;
  stopReason: StopReason | null;
  /** max_bytes_per_sec, per device, for all of the task's subtasks. */
  throttles: DeviceThrottles;
  done: Promise<void>;
}

/** A running subtask's state between flushes. */
interface LiveSubtask extends SubtaskProgress {
  /** Result rows reported since the last checkpoint: written with the next one, dropped if it never comes. */
  pending: ResultRow[];
  position: number | null;
  meter: RateMeter;
  ended: boolean;
  /**
   * The error of a write that failed with one of this subtask's checkpoints: the results it carried are gone,
   * and a later checkpoint written over it would hide that. The subtask cannot end well from then on.
   */
  lostCheckpoint: unknown;
}

export interface TaskEngineOptions {
  /** Who runs which task (ownership.ts); the default is the embedded mode's sole owner. */
  ownership?: TaskOwnership;
}

export class TaskEngine {
  readonly locks = new GroupLocks();
  private readonly running = new Map<string, Running>();
  /** Running subtasks (and ended ones until their last write). */
  private readonly live = new Map<string, LiveSubtask>();
  /** The ones with progress or a checkpoint not yet written. */
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Status changes and findings, for NOTIFY and the console (task-events.ts). */
  readonly events = new TaskEvents();

  constructor(
    private readonly tasks: TaskCatalog,
    private readonly storage: StorageCatalog,
    private readonly store: SegmentStore,
    readonly types: TaskTypeRegistry,
    private readonly logger: Logger,
    private readonly verifier: VerifyPool,
    options: TaskEngineOptions = {},
  ) {
    this.ownership = options.ownership ?? new SoleOwnership();
    // Every WAIT FOR TASK and every NOTIFY bridge listens: not a leak.
    this.events.setMaxListeners(0);
  }
  private readonly ownership: TaskOwnership;

  /**
   * Resumes what a previous run of the server left PENDING or RUNNING, ends what it left CANCELLING (with
   * leases: what no live engine holds, and from then on what the adoption loop finds).
   */
  async start(): Promise<void> {
    await this.ownership.start(this.host());
    this.flushTimer = setInterval(() => {
      this.flushProgress().catch((err) => {
        this.logger.error({ err: (err as Error).stack }, 'could not write task progress');
      });
    }, PROGRESS_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** What the ownership policy calls back. */
  private host(): OwnershipHost {
    return {
      runningTasks: () => [...this.running.keys()],
      lost: (id) => this.lose(id),
      adopt: () => this.adopt(),
      check: (id) => this.reread(id),
      remoteEvent: (e) => this.events.emit('task', e),
      error: (err, what) => this.logger.error({ err: (err as Error).stack ?? String(err) }, what),
    };
  }

  /** Takes every active task nobody runs, and recovers it as a restart does. */
  private async adopt(): Promise<void> {
    for (const found of await this.ownership.unowned(this.tasks)) {
      if (this.stopping) return;
      if (this.running.has(found.id) || !(await this.ownership.take(found.id))) continue;
      // Read again now that it is ours: it may have changed between the scan and the take.
      const t = (await this.tasks.task(found.id))!;
      if (isFinished(t.status)) {
        await this.ownership.release(t.id);
        continue;
      }
      if (t.status === 'CANCELLING') {
        await this.endCancelled(t.id);
        await this.ownership.release(t.id);
        continue;
      }
      const resumed = await this.ownership.fenced(this.tasks, t.id, async (tasks) => {
        let n = 0;
        for (const s of await tasks.subtasks(t.id)) {
          if (s.status === 'RUNNING') {
            await tasks.resumeSubtask(s.id);
            n++;
          }
        }
        await tasks.refreshTaskTotals(t.id);
        return n;
      });
      if (resumed === LOST) continue;
      // A paused task stays paused: only RESUME TASK runs it again.
      if (t.status === 'PAUSED') {
        await this.ownership.release(t.id);
        continue;
      }
      // On a shared catalog a task found here was another coordinator's, whose lease ran out: worth a warning.
      if (this.ownership.shared)
        this.logger.warn(
          { event: 'task.adopted', task: t.id, name: t.name, restartedSubtasks: resumed },
          'adopting a task whose coordinator stopped renewing its lease',
        );
      else
        this.logger.info(
          { event: 'task.recovered', task: t.id, name: t.name, restartedSubtasks: resumed },
          'resuming task',
        );
      this.launch(t);
    }
  }

  /**
   * A task this engine runs was changed by another (CANCEL, PAUSE or ALTER TASK given there): what the
   * catalog now says is applied to the run, as the statement would have here.
   */
  private async reread(taskId: string): Promise<void> {
    const r = this.running.get(taskId);
    if (!r || r.stopReason === 'lost' || r.stopReason === 'cancel') return;
    const t = await this.tasks.task(taskId);
    if (!t) return;
    if (t.status === 'CANCELLING' || (t.status === 'PAUSED' && r.stopReason === null)) {
      r.stopReason = t.status === 'PAUSED' ? 'pause' : 'cancel';
      r.abort.abort();
    }
    const rate = (JSON.parse(t.options) as OptionsOf<OptionDefs>).max_bytes_per_sec ?? null;
    if (rate !== (r.options.max_bytes_per_sec ?? null)) {
      r.options.max_bytes_per_sec = rate;
      r.throttles.setRate(rate);
    }
  }

  /**
   * Another engine holds the task now: its run stops at once and writes nothing more (its un-checkpointed work
   * is dropped; the new owner redoes it from the last checkpoint).
   */
  private lose(taskId: string): void {
    const r = this.running.get(taskId);
    if (!r || r.stopReason === 'lost') return;
    r.stopReason = 'lost';
    r.abort.abort();
    for (const [id, live] of this.live)
      if (live.task_id === taskId) {
        this.live.delete(id);
        this.dirty.delete(id);
      }
    this.logger.warn(
      { event: 'task.lost', task: taskId, name: r.row.name },
      'task taken by another coordinator',
    );
  }

  /** A write of a run, fenced by the task's lease; false (nothing written, the run lost) when not held. */
  private async write(r: Running, fn: (tasks: TaskCatalog) => Promise<unknown>): Promise<boolean> {
    if (r.stopReason === 'lost') return false;
    if ((await this.ownership.fenced(this.tasks, r.row.id, fn)) !== LOST) return true;
    this.lose(r.row.id);
    return false;
  }

  /** Plans a validated CREATE TASK without creating it: the errors CREATE TASK would give (unknown node...). */
  async check(v: ValidatedTask): Promise<void> {
    await this.typeOf(v).plan({ location: v.location, options: v.options, storage: this.storage });
  }

  /**
   * Validated CREATE TASK: plans, persists and starts the task. Returns the new task's row. `alongside` runs
   * in the catalog transaction that inserts the task (a schedule claims its run there).
   */
  async create(
    v: ValidatedTask,
    user: string,
    alongside?: (taskId: string, tx: Sql) => Promise<void>,
  ): Promise<TaskRow> {
    const type = this.typeOf(v);
    const subtasks = await type.plan({ location: v.location, options: v.options, storage: this.storage });
    let id: string;
    try {
      id = await this.tasks.createTask(
        {
          name: v.name,
          type: v.type,
          location_type: v.location.type,
          location_name: v.location.name,
          options: v.options,
          created_by: user,
        },
        subtasks,
        // The lease is taken with the insert: no other engine can adopt the task before this one runs it.
        async (taskId, tx) => {
          await alongside?.(taskId, tx);
          await this.ownership.take(taskId, tx);
        },
      );
    } catch (err) {
      if (err instanceof DuplicateTaskError) {
        throw new TaskError('42710', err.message, {
          hint: 'Choose another name, or CANCEL TASK the running one first.',
        });
      }
      throw err;
    }
    const row = (await this.tasks.task(id))!;
    logLifecycle(this.logger, 'task.created', row);
    this.emit([taskEvent(row)]);
    this.launch(row);
    return row;
  }

  /** CANCEL TASK: stops at the next safe point. Returns the task as it was found. */
  async cancel(nameOrId: string, by?: string): Promise<TaskRow> {
    const t = await this.findTask(nameOrId);
    if (isFinished(t.status)) {
      throw new TaskError('55000', `task "${t.name ?? t.id}" has already finished with status ${t.status}`);
    }
    if (t.status !== 'CANCELLING' && !(await this.setStatus(t.id, 'CANCELLING', { by })))
      throw await this.endedMeanwhile(t);
    const r = this.running.get(t.id);
    if (r) {
      // A pause in flight becomes a cancel: the run ends CANCELLED instead of setting subtasks aside.
      r.stopReason = 'cancel';
      r.abort.abort();
    } else if (await this.ownership.take(t.id)) {
      // Nobody runs it: it ends here. (Another engine that runs it ends it itself: it is told at once.)
      await this.endCancelled(t.id);
      await this.ownership.release(t.id);
    }
    return t;
  }

  /**
   * PAUSE TASK: stops the task at its next safe point and returns once it has stopped. What is done stays
   * done; an interrupted subtask runs again from its start on RESUME TASK. Returns the paused task.
   */
  async pause(nameOrId: string, by?: string): Promise<TaskRow> {
    const t = await this.findTask(nameOrId);
    if (t.status !== 'RUNNING' && t.status !== 'PENDING') {
      throw new TaskError('55000', `task "${t.name ?? t.id}" cannot be paused: its status is ${t.status}`, {
        hint: t.status === 'PAUSED' ? 'RESUME TASK continues it.' : undefined,
      });
    }
    if (!(await this.setStatus(t.id, 'PAUSED', { by }))) throw await this.endedMeanwhile(t);
    const r = this.running.get(t.id);
    if (r) {
      r.stopReason = 'pause';
      r.abort.abort();
      await r.done;
    } else await this.ownership.settled(t.id);
    return (await this.tasks.task(t.id))!;
  }

  /** RESUME TASK: runs a paused task's unfinished subtasks. Returns the task, RUNNING. */
  async resume(nameOrId: string, by?: string): Promise<TaskRow> {
    const t = await this.findTask(nameOrId);
    const notPaused = (status: TaskStatus) =>
      new TaskError('55000', `task "${t.name ?? t.id}" cannot be resumed: its status is ${status}`);
    if (t.status !== 'PAUSED') throw notPaused(t.status);
    // A pause still winding down: its run must be over before the next one starts.
    await this.running.get(t.id)?.done;
    // Or on another engine: it releases the task once its run is over.
    await this.ownership.settled(t.id);
    const now = (await this.tasks.task(t.id))!;
    if (now.status !== 'PAUSED' || this.running.has(t.id)) throw notPaused(now.status);
    if (!(await this.ownership.take(t.id)))
      throw new TaskError('55006', `task "${t.name ?? t.id}" is still stopping on another coordinator`, {
        hint: 'Try again in a moment.',
      });
    if (this.ownership.shared)
      // An engine that died during the pause left its interrupted subtasks RUNNING: they run again.
      for (const s of await this.tasks.subtasks(t.id))
        if (s.status === 'RUNNING') await this.tasks.resumeSubtask(s.id);
    await this.setStatus(t.id, 'RUNNING', { by });
    this.launch((await this.tasks.task(t.id))!);
    return (await this.tasks.task(t.id))!;
  }

  /**
   * WAIT FOR TASK: resolves with the task once it has ended (at once for one that has), rejects with the
   * signal's reason when `signal` aborts first. A PAUSED task has not ended: waiting goes on through it.
   */
  async waitFor(nameOrId: string, signal: AbortSignal): Promise<TaskRow> {
    const t = await this.findTask(nameOrId);
    if (isFinished(t.status)) return t;
    return new Promise<TaskRow>((resolve, reject) => {
      const onEvent = (e: { task_id: string; status: TaskStatus }) => {
        if (e.task_id !== t.id || !isFinished(e.status)) return;
        done();
        this.tasks.task(t.id).then((row) => resolve(row!), reject);
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const check = () =>
        this.tasks
          .task(t.id)
          .then((row) => {
            if (row && isFinished(row.status)) {
              done();
              resolve(row);
            }
          })
          // A failed read is tried again at the next poll; the events go on meanwhile.
          .catch(() => {});
      // With several engines, an event can be missed (the channel reconnecting): the task is read now and then.
      const poll = this.ownership.pollMs === null ? null : setInterval(check, this.ownership.pollMs);
      const done = () => {
        if (poll) clearInterval(poll);
        this.events.off('task', onEvent);
        signal.removeEventListener('abort', onAbort);
      };
      if (signal.aborted) return onAbort();
      this.events.on('task', onEvent);
      signal.addEventListener('abort', onAbort, { once: true });
      // The task may have ended after it was read above and before there was a listener: read it once more,
      // now that no event can be missed.
      void check();
    });
  }

  /**
   * ALTER TASK ... SET max_bytes_per_sec: kept in the task's options (a restart keeps it) and applied to the
   * running subtasks' next reads and writes. Returns the task as it was found.
   */
  async setThrottle(nameOrId: string, bytesPerSec: number | null): Promise<TaskRow> {
    const t = await this.findTask(nameOrId);
    if (isFinished(t.status)) {
      throw new TaskError('55000', `task "${t.name ?? t.id}" has already finished with status ${t.status}`);
    }
    const options = { ...(JSON.parse(t.options) as OptionsOf<OptionDefs>), max_bytes_per_sec: bytesPerSec };
    await this.tasks.setTaskOptions(t.id, options);
    const r = this.running.get(t.id);
    if (r) {
      r.options.max_bytes_per_sec = bytesPerSec;
      r.throttles.setRate(bytesPerSec);
    } else await this.ownership.poke(t.id);
    return t;
  }

  /** Resolves when the task's background run ends (for tests and shutdown). */
  async wait(taskId: string): Promise<void> {
    await this.running.get(taskId)?.done;
  }

  async stop(): Promise<void> {
    // The adoption loop goes on until the runs are over (their leases are renewed meanwhile): it must not take
    // back what they release.
    this.stopping = true;
    for (const r of this.running.values()) {
      r.stopReason ??= 'shutdown';
      r.abort.abort();
    }
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => {})));
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flushProgress();
    await this.ownership.stop();
    await this.verifier.close();
  }

  /**
   * Stops as a crash (kill -9) would leave things: the runs stop writing nothing, no lease is released, the
   * loops stop. The other engines adopt the tasks once their leases expire. For the tests of adoption.
   */
  async abandon(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    // The loops stop at the call (before anything is awaited), and the runs with them.
    const stopped = this.ownership.stop();
    for (const id of this.running.keys()) this.lose(id);
    await stopped;
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => {})));
    await this.verifier.close();
  }

  private launch(row: TaskRow): void {
    const type = this.types.get(row.type);
    if (!type) {
      // A task left by a build that had this type: it cannot run here, and saying so beats leaving it RUNNING.
      // Under this engine's lease, as every other status it writes for a task it runs.
      this.setStatus(
        row.id,
        'FAILED',
        { error: `task type ${row.type} is not available in this build` },
        row.id,
      )
        .then(() => this.ownership.release(row.id))
        .catch((err) =>
          this.logger.error({ task: row.id, err: (err as Error).stack }, 'could not fail the task'),
        );
      return;
    }
    // The options were validated against the type when the task was created, defaults included; an option
    // added since then takes its default here.
    const options = withDefaults(
      this.types.optionsOf(type),
      JSON.parse(row.options) as OptionsOf<OptionDefs>,
    );
    const r: Running = {
      row,
      type,
      options,
      abort: new AbortController(),
      stopReason: null,
      throttles: new DeviceThrottles(options.max_bytes_per_sec),
      done: Promise.resolve(),
    };
    // Every subtask's I/O and throttle wait listens on the one signal: many listeners are expected.
    setMaxListeners(0, r.abort.signal);
    this.running.set(row.id, r);
    // Start on the next turn of the event loop: the statement that created the task answers first.
    r.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runTask(r))
      .catch(async (err) => {
        this.logger.error({ task: row.id, err: (err as Error).stack }, 'task failed unexpectedly');
        await this.setStatus(row.id, 'FAILED', { error: `internal error: ${(err as Error).message}` }, r);
      })
      .catch((err) =>
        this.logger.error({ task: row.id, err: (err as Error).stack }, 'could not fail the task'),
      )
      .finally(async () => {
        this.running.delete(row.id);
        // Ended, paused or stopped: another engine may take it (RESUME TASK, or adoption after a shutdown).
        if (r.stopReason !== 'lost')
          await this.ownership
            .release(row.id)
            .catch((err) =>
              this.logger.error({ task: row.id, err: (err as Error).stack }, 'could not release the task'),
            );
      });
  }

  private async runTask(r: Running): Promise<void> {
    const { type } = r;
    const { signal } = r.abort;
    const { parallelism } = r.options;
    const all = await this.tasks.subtasks(r.row.id);
    const queue = all.filter((s) => s.status === 'PENDING');
    // Read afresh: a PAUSE TASK may have come between launch and this turn of the event loop.
    if (!signal.aborted && (await this.tasks.task(r.row.id))?.status === 'PENDING')
      await this.setStatus(r.row.id, 'RUNNING', {}, r);
    // Per node, at most `parallelism` subtasks at once; nodes run side by side.
    const perNode = new Map<string, SubtaskRow[]>();
    for (const s of queue) {
      const k = s.node_name ?? '';
      const list = perNode.get(k);
      if (list) list.push(s);
      else perNode.set(k, [s]);
    }
    const failures: string[] = [];
    const worker = async (list: SubtaskRow[]) => {
      for (;;) {
        const s = list.shift();
        if (!s) return;
        if (signal.aborted) {
          // A subtask that never started stays PENDING for a later run, unless the task is being cancelled.
          if (!this.resumesLater(r))
            await this.write(r, (tasks) => tasks.setSubtaskStatus(s.id, 'CANCELLED'));
          continue;
        }
        const err = await this.runSubtask(r, s);
        if (err) failures.push(`${s.description}: ${err}`);
      }
    };
    await Promise.all(
      [...perNode.values()].flatMap((list) =>
        Array.from({ length: Math.min(parallelism, list.length) }, () => worker(list)),
      ),
    );
    await this.flushProgress();
    if (!(await this.write(r, (tasks) => tasks.refreshTaskTotals(r.row.id)))) return;
    if (signal.aborted) {
      if (!this.resumesLater(r)) {
        await this.endCancelled(r.row.id, r);
        return;
      }
      // PAUSE TASK or server shutdown: the interrupted subtasks are PENDING again at their last checkpoint
      // (endSubtask), for RESUME TASK or the next start of the server; the totals were refreshed above.
      return;
    }
    if (type.summary) {
      const plans = all.map((s) => decodePlan(type.planDecoder, s.plan));
      const rows = (await type.summary(r.row, r.options, this.storage, plans)).map((x) => ({
        ...x,
        subtask_id: null,
      }));
      if (!(await this.write(r, (tasks) => tasks.addResults(r.row.id, r.row.type, rows)))) return;
    }
    const failedBefore = all.filter((s) => s.status === 'FAILED').length;
    const outcome = type.outcome ? type.outcome(r.row, await this.tasks.results(r.row.id)) : null;
    if (failures.length || failedBefore) {
      const n = failures.length + failedBefore;
      await this.setStatus(
        r.row.id,
        'FAILED',
        {
          error: `${n} of ${all.length} subtask(s) failed${failures.length ? `; first: ${failures[0]}` : ''}`,
        },
        r,
      );
    } else if (outcome?.status === 'FAILED') {
      if (!(await this.write(r, (tasks) => tasks.setFinalFraction(r.row.id)))) return;
      await this.setStatus(r.row.id, 'FAILED', { error: outcome.error ?? 'failed' }, r);
    } else {
      if (!(await this.write(r, (tasks) => tasks.setFinalFraction(r.row.id)))) return;
      await this.setStatus(r.row.id, 'COMPLETE', {}, r);
    }
  }

  private typeOf(v: ValidatedTask): TaskType {
    const type = this.types.get(v.type);
    if (!type) throw new TaskError('0A000', `task type ${v.type} is not available in this build`);
    return type;
  }

  /** The error of a control statement whose task ended on another coordinator between the read and the write. */
  private async endedMeanwhile(t: TaskRow): Promise<TaskError> {
    const now = (await this.tasks.task(t.id))!;
    return new TaskError('55000', `task "${t.name ?? t.id}" has already finished with status ${now.status}`);
  }

  private async findTask(nameOrId: string): Promise<TaskRow> {
    const t = await this.tasks.find(nameOrId);
    if (!t) throw new TaskError('42704', `task "${nameOrId}" does not exist`);
    return t;
  }

  /**
   * Ends a task that is not running (any more) CANCELLED, with its unfinished subtasks; this engine holds it
   * (the writes are fenced: with `r`, those of its run).
   */
  private async endCancelled(taskId: string, r?: Running): Promise<void> {
    const ended = await this.ownership.fenced(this.tasks, taskId, async (tasks) => {
      for (const s of await tasks.subtasks(taskId))
        if (!isFinished(s.status)) await tasks.setSubtaskStatus(s.id, 'CANCELLED');
      await tasks.refreshTaskTotals(taskId);
    });
    if (ended === LOST) {
      this.lose(taskId);
      return;
    }
    await this.setStatus(taskId, 'CANCELLED', {}, r ?? taskId);
  }

  /**
   * Every change of a task's status: the catalog, the lifecycle log, the task event. `fence`: a change that
   * only the task's owner may make (its run's, by `r`, or of a task this engine holds, by id); without it, a
   * control statement's, which with other coordinators on the catalog is made only while the task has not
   * ended. Returns whether the status was set.
   */
  private async setStatus(
    id: string,
    status: TaskStatus,
    how: { error?: string; by?: string } = {},
    fence?: Running | string,
  ): Promise<boolean> {
    const before = (await this.tasks.task(id))?.status ?? null;
    const set = (tasks: TaskCatalog) =>
      tasks.setTaskStatus(id, status, how.error ?? null, fence === undefined && this.ownership.shared);
    if (fence === undefined) {
      if (!(await set(this.tasks))) return false;
    } else if (typeof fence !== 'string') {
      if (!(await this.write(fence, set))) return false;
    } else if ((await this.ownership.fenced(this.tasks, id, set)) === LOST) return false;
    const row = (await this.tasks.task(id))!;
    const event = lifecycleEvent(before, status);
    if (event) {
      const findings = isFinished(status) ? await this.tasks.resultCounts(id) : undefined;
      logLifecycle(this.logger, event, row, { by: how.by, findings });
    }
    this.emit([taskEvent(row)]);
    return true;
  }

  /** Task events of this engine: to its listeners, and to the other engines on the catalog (one statement). */
  private emit(events: TaskEvent[]): void {
    for (const e of events) this.events.emit('task', e);
    if (this.ownership.shared && events.length)
      this.ownership
        .publish(events)
        .catch((err) => this.logger.error({ err: (err as Error).stack }, 'could not publish a task event'));
  }

  /** Whether an aborted run stops for now and goes on later (PAUSE, server shutdown), not for good (CANCEL). */
  private resumesLater(r: Running): boolean {
    return r.stopReason === 'pause' || r.stopReason === 'shutdown';
  }

  /** Runs one subtask, from its last checkpoint if it has one; returns an error message when it failed. */
  private async runSubtask(r: Running, s: SubtaskRow): Promise<string | null> {
    const { type } = r;
    // Marked RUNNING for this run; with leases, claimed (never run by two engines, not run once lost).
    if (r.stopReason === 'lost' || !(await this.ownership.claimSubtask(this.tasks, r.row.id, s.id)))
      return null;
    const live: LiveSubtask = {
      task_id: r.row.id,
      task_type: r.row.type,
      bytes_total: s.bytes_total,
      segments_total: s.segments_total,
      bytes_done: s.checkpoint_bytes_done,
      segments_done: s.checkpoint_segments_done,
      segments_failed: s.checkpoint_segments_failed,
      bytes_per_sec: 0,
      pending: [],
      position: s.checkpoint,
      meter: new RateMeter(),
      ended: false,
      lostCheckpoint: null,
    };
    this.live.set(s.id, live);
    const { signal } = r.abort;
    /** Makes what was reported so far part of the next checkpoint write, at `position`. */
    const reach = (
      position: number | null,
      apply?: (storage: StorageCatalog) => Promise<void>,
    ): Checkpoint => {
      const progress = {
        bytes_done: live.bytes_done,
        segments_done: live.segments_done,
        segments_failed: live.segments_failed,
      };
      // Checkpoints reached between two writes fold into one: the last position, all of their results.
      const cp = live.checkpoint ?? { position, progress, results: [], apply: [] };
      cp.position = position;
      cp.progress = progress;
      cp.results.push(...live.pending.splice(0));
      if (apply) cp.apply.push(apply);
      live.position = position;
      live.checkpoint = cp;
      this.dirty.add(s.id);
      return cp;
    };
    const device = s.device_id ?? '';
    try {
      const plan = decodePlan(type.planDecoder, s.plan);
      await type.run(
        { task: r.row, row: s, plan, options: r.options, resumeFrom: s.checkpoint },
        {
          storage: this.storage,
          store: this.store,
          locks: this.locks,
          verifier: this.verifier,
          progress: (d) => {
            live.bytes_done += d.bytes ?? 0;
            live.segments_done += d.segments ?? 0;
            live.segments_failed += d.failed ?? 0;
            this.dirty.add(s.id);
          },
          result: (row) => {
            live.pending.push({ ...row, subtask_id: s.id });
          },
          checkpoint: async (position, apply) => {
            if (live.lostCheckpoint) throw live.lostCheckpoint;
            const cp = reach(position, apply);
            // A checkpoint with catalog changes is written at once and alone: what the type does next
            // (remove the file a segment had) depends on it, and its failure is this subtask's alone.
            if (apply) await this.flushProgress([s.id]);
            else if (cp.results.length >= RESULTS_PER_FLUSH) await this.flushProgress();
          },
          signal,
          throttle: (n, on) => {
            live.meter.add(n);
            return r.throttles.take(on ?? device, n, signal);
          },
        },
      );
      return await this.endSubtask(r, s, live, reach, signal.aborted ? 'CANCELLED' : 'COMPLETE');
    } catch (err) {
      // The abort reached the I/O and stopped it: a cancellation, not a failure.
      if (isCancellation(err, signal)) return this.endSubtask(r, s, live, reach, 'CANCELLED');
      const msg = failureMessage(err);
      this.logger.warn({ task: r.row.id, subtask: s.id, err: msg }, 'subtask failed');
      return this.endSubtask(r, s, live, reach, 'FAILED', msg);
    }
  }

  /**
   * The end of a run. Stopped for a later run: what was checkpointed is written, the rest is dropped and
   * redone. Otherwise the end is the last checkpoint: everything reported is written, and the status set.
   */
  private async endSubtask(
    r: Running,
    s: SubtaskRow,
    live: LiveSubtask,
    reach: (position: number | null) => Checkpoint,
    status: 'COMPLETE' | 'CANCELLED' | 'FAILED',
    error: string | null = null,
  ): Promise<string | null> {
    live.ended = true;
    if (r.stopReason === 'lost') {
      this.live.delete(s.id);
      this.dirty.delete(s.id);
      return null;
    }
    const resumes = status === 'CANCELLED' && this.resumesLater(r);
    if (resumes) live.pending = [];
    else reach(live.position);
    await this.flushProgress([s.id]);
    // Read after the flush: a failed write before it (the timer's) has marked the subtask by then. A run that
    // would end well, or resume after a checkpoint written over the lost one, fails instead.
    if (live.lostCheckpoint && (status === 'COMPLETE' || resumes)) {
      status = 'FAILED';
      error = `its progress could not be written: ${failureMessage(live.lostCheckpoint)}`;
    } else if (resumes) {
      await this.write(r, (tasks) => tasks.resumeSubtask(s.id));
      return null;
    }
    await this.write(r, (tasks) => tasks.setSubtaskStatus(s.id, status, error));
    return status === 'FAILED' ? error : null;
  }

  /**
   * Writes the progress of running subtasks (all that changed, or the ones named) and their checkpoints. The
   * writes are chained: each starts after the one before has committed, so they commit in the order taken.
   */
  private flushProgress(only?: string[]): Promise<void> {
    const { batch, checkpointed } = this.takeProgress(only);
    if (!batch.size) return this.flushing;
    const write = this.flushing.then(async () => {
      // With leases, a task whose lease is gone has nothing written: its run stops.
      const refused = await this.tasks.writeProgress(batch, this.ownership.holds);
      for (const id of refused) this.lose(id);
      await this.emitFindings(batch, refused);
    });
    // A failed write is its caller's to report (the timer's only logs it), and the subtasks whose checkpoints
    // it carried are marked before the next write starts; the chain goes on.
    this.flushing = write.catch((err) => {
      for (const live of checkpointed) live.lostCheckpoint ??= err;
    });
    return write;
  }
  private flushing: Promise<void> = Promise.resolve();

  /**
   * The progress to write now, taken from the live subtasks (all that changed, or the ones named), and the
   * subtasks whose checkpoints it takes.
   */
  private takeProgress(only?: string[]): {
    batch: Map<string, SubtaskProgress>;
    checkpointed: LiveSubtask[];
  } {
    const ids = only ?? [...this.dirty];
    const batch = new Map<string, SubtaskProgress>();
    const checkpointed: LiveSubtask[] = [];
    for (const id of ids) {
      const live = this.live.get(id);
      if (!live) continue;
      batch.set(id, {
        task_id: live.task_id,
        task_type: live.task_type,
        bytes_total: live.bytes_total,
        segments_total: live.segments_total,
        bytes_done: live.bytes_done,
        segments_done: live.segments_done,
        segments_failed: live.segments_failed,
        bytes_per_sec: live.ended ? 0 : Math.round(live.meter.rate()),
        checkpoint: live.checkpoint,
      });
      // The checkpoint now belongs to this write (if the write fails, so does the work it recorded).
      if (live.checkpoint) checkpointed.push(live);
      live.checkpoint = undefined;
      this.dirty.delete(id);
      if (live.ended) this.live.delete(id);
    }
    return { batch, checkpointed };
  }

  /**
   * A finding event for each result row just written (only when someone listens: NOTIFY, the console, or
   * the other engines on the catalog).
   */
  private async emitFindings(batch: Map<string, SubtaskProgress>, refused: Set<string>): Promise<void> {
    if (!this.events.listenerCount('task') && !this.ownership.shared) return;
    for (const p of batch.values()) {
      if (!p.checkpoint?.results.length || refused.has(p.task_id)) continue;
      const task = await this.tasks.task(p.task_id);
      if (!task) continue;
      this.emit(p.checkpoint.results.map((f) => taskEvent(task, f)));
    }
  }
}

/** A subtask's failure as sys.subtasks.error has it: the message, and the hint of a TaskError or SqlError. */
function failureMessage(err: unknown): string {
  const hint = (err as { extra?: { hint?: string } } | null)?.extra?.hint;
  return (err instanceof Error ? err.message : String(err)) + (hint ? ` HINT: ${hint}` : '');
}
