// The task engine: creates tasks, runs their subtasks in the background, and keeps sys.tasks / sys.subtasks
// true while it does. Modelled on CockroachDB's jobs: all state lives in the catalog, so a restart resumes
// PENDING and RUNNING tasks; a subtask either finished (and is never run again) or resumes from its last
// checkpoint, where its counters and result rows were committed together (so nothing is counted or reported
// twice, and only the work after the checkpoint is redone). What a task does is its type's (task-type.ts),
// looked up by name in the registry. CANCEL TASK aborts the task's AbortSignal, which its runs pass to their
// I/O. max_bytes_per_sec is a bucket per device shared by the task's subtasks (throttle.ts); ALTER TASK
// changes it while the task runs. Knows nothing of the wire.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { StorageCatalog } from '../../catalog/storage';
import {
  type Checkpoint,
  DuplicateTaskError,
  type ResultRow,
  type SubtaskProgress,
  type SubtaskRow,
  type TaskCatalog,
  type TaskRow,
} from '../../catalog/tasks';
import type { SegmentStore } from '../store/store';
import type { VerifyPool } from '../store/verify-pool';
import { TaskError } from './errors';
import { GroupLocks } from './locks';
import { decodePlan } from './plan-decoder';
import type { TaskTypeRegistry } from './registry';
import type { OptionDefs } from './task-options';
import { isCancellation, type OptionsOf, type TaskType, type ValidatedTask } from './task-type';
import { DeviceThrottles, RateMeter } from './throttle';

/** Progress and checkpoints are written at most this often (one transaction for all running subtasks)... */
const PROGRESS_FLUSH_MS = 250;
/** ...or as soon as this many result rows wait for their checkpoint. */
const RESULTS_PER_FLUSH = 256;

interface Running {
  row: TaskRow;
  type: TaskType;
  options: OptionsOf<OptionDefs>;
  /** Aborted by CANCEL TASK and by stop(). */
  abort: AbortController;
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

  constructor(
    private readonly tasks: TaskCatalog,
    private readonly storage: StorageCatalog,
    private readonly store: SegmentStore,
    readonly types: TaskTypeRegistry,
    private readonly logger: Logger,
    private readonly verifier: VerifyPool,
  ) {}

  /** Resumes what a previous run of the server left PENDING, RUNNING or CANCELLING. */
  start(): void {
    for (const t of this.tasks.activeTasks()) {
      if (t.status === 'CANCELLING') {
        for (const s of this.tasks.subtasks(t.id))
          if (!isFinished(s.status)) this.tasks.setSubtaskStatus(s.id, 'CANCELLED');
        this.tasks.refreshTaskTotals(t.id);
        this.tasks.setTaskStatus(t.id, 'CANCELLED');
        continue;
      }
      let resumed = 0;
      for (const s of this.tasks.subtasks(t.id)) {
        if (s.status === 'RUNNING') {
          this.tasks.resumeSubtask(s.id);
          resumed++;
        }
      }
      this.tasks.refreshTaskTotals(t.id);
      this.logger.info({ task: t.id, name: t.name, resumedSubtasks: resumed }, 'resuming task');
      this.launch(t);
    }
    this.flushTimer = setInterval(() => {
      try {
        this.flushProgress();
      } catch (err) {
        this.logger.error({ err: (err as Error).stack }, 'could not write task progress');
      }
    }, PROGRESS_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Validated CREATE TASK: plans, persists and starts the task. Returns the new task's row. */
  create(v: ValidatedTask, user: string): TaskRow {
    const type = this.types.get(v.type);
    if (!type) throw new TaskError('0A000', `task type ${v.type} is not available in this build`);
    const subtasks = type.plan({ location: v.location, options: v.options, storage: this.storage });
    let id: string;
    try {
      id = this.tasks.createTask(
        {
          name: v.name,
          type: v.type,
          location_type: v.location.type,
          location_name: v.location.name,
          options: v.options,
          created_by: user,
        },
        subtasks,
      );
    } catch (err) {
      if (err instanceof DuplicateTaskError) {
        throw new TaskError('42710', err.message, {
          hint: 'Choose another name, or CANCEL TASK the running one first.',
        });
      }
      throw err;
    }
    const row = this.tasks.task(id)!;
    this.launch(row);
    return row;
  }

  /** CANCEL TASK: stops at the next safe point. Returns the task as it was found. */
  cancel(nameOrId: string): TaskRow {
    const t = this.tasks.find(nameOrId);
    if (!t) throw new TaskError('42704', `task "${nameOrId}" does not exist`);
    if (isFinished(t.status)) {
      throw new TaskError('55000', `task "${t.name ?? t.id}" has already finished with status ${t.status}`);
    }
    if (t.status !== 'CANCELLING') this.tasks.setTaskStatus(t.id, 'CANCELLING');
    const r = this.running.get(t.id);
    if (r) r.abort.abort();
    else {
      this.tasks.setTaskStatus(t.id, 'CANCELLED');
    }
    return t;
  }

  /**
   * ALTER TASK ... SET max_bytes_per_sec: kept in the task's options (a restart keeps it) and applied to the
   * running subtasks' next reads and writes. Returns the task as it was found.
   */
  setThrottle(nameOrId: string, bytesPerSec: number | null): TaskRow {
    const t = this.tasks.find(nameOrId);
    if (!t) throw new TaskError('42704', `task "${nameOrId}" does not exist`);
    if (isFinished(t.status)) {
      throw new TaskError('55000', `task "${t.name ?? t.id}" has already finished with status ${t.status}`);
    }
    const options = { ...(JSON.parse(t.options) as OptionsOf<OptionDefs>), max_bytes_per_sec: bytesPerSec };
    this.tasks.setTaskOptions(t.id, options);
    const r = this.running.get(t.id);
    if (r) {
      r.options.max_bytes_per_sec = bytesPerSec;
      r.throttles.setRate(bytesPerSec);
    }
    return t;
  }

  /** Resolves when the task's background run ends (for tests and shutdown). */
  async wait(taskId: string): Promise<void> {
    await this.running.get(taskId)?.done;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.abort.abort();
    await Promise.all([...this.running.values()].map((r) => r.done.catch(() => {})));
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushProgress();
    await this.verifier.close();
  }

  private launch(row: TaskRow): void {
    const type = this.types.get(row.type);
    if (!type) {
      // A task left by a build that had this type: it cannot run here, and saying so beats leaving it RUNNING.
      this.tasks.setTaskStatus(row.id, 'FAILED', `task type ${row.type} is not available in this build`);
      return;
    }
    // The options were validated against the type when the task was created, defaults included.
    const options = JSON.parse(row.options) as OptionsOf<OptionDefs>;
    const abort = new AbortController();
    // Every throttle wait and read of the task's subtasks listens to this one signal.
    setMaxListeners(0, abort.signal);
    const r: Running = {
      row,
      type,
      options,
      abort,
      throttles: new DeviceThrottles(options.max_bytes_per_sec),
      done: Promise.resolve(),
    };
    this.running.set(row.id, r);
    // Start on the next turn of the event loop: the statement that created the task answers first.
    r.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runTask(r))
      .catch((err) => {
        this.logger.error({ task: row.id, err: (err as Error).stack }, 'task failed unexpectedly');
        this.tasks.setTaskStatus(row.id, 'FAILED', `internal error: ${(err as Error).message}`);
      })
      .finally(() => this.running.delete(row.id));
  }

  private async runTask(r: Running): Promise<void> {
    const { type } = r;
    const { signal } = r.abort;
    const parallelism = r.options.parallelism ?? 2;
    const all = this.tasks.subtasks(r.row.id);
    const queue = all.filter((s) => s.status === 'PENDING');
    if (r.row.status === 'PENDING') this.tasks.setTaskStatus(r.row.id, 'RUNNING');
    // Per node, at most `parallelism` subtasks at once; nodes run side by side.
    const perNode = new Map<string, SubtaskRow[]>();
    for (const s of queue) {
      const k = s.node_name ?? '';
      perNode.set(k, [...(perNode.get(k) ?? []), s]);
    }
    const failures: string[] = [];
    const worker = async (list: SubtaskRow[]) => {
      for (;;) {
        const s = list.shift();
        if (!s) return;
        if (signal.aborted) {
          // A subtask that never started stays PENDING for a later run, unless the task is being cancelled.
          if (!this.resumesLater(r)) this.tasks.setSubtaskStatus(s.id, 'CANCELLED');
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
    this.flushProgress();
    this.tasks.refreshTaskTotals(r.row.id);
    if (signal.aborted) {
      // Server shutdown, not CANCEL TASK: the task stays RUNNING and the next start resumes it.
      if (!this.resumesLater(r)) this.tasks.setTaskStatus(r.row.id, 'CANCELLED');
      return;
    }
    if (type.summary) {
      const plans = all.map((s) => decodePlan(type.planDecoder, s.plan));
      this.tasks.addResults(
        r.row.id,
        r.row.type,
        type.summary(r.row, r.options, this.storage, plans).map((x) => ({ ...x, subtask_id: null })),
      );
    }
    const failedBefore = all.filter((s) => s.status === 'FAILED').length;
    const outcome = type.outcome?.(r.row, this.tasks.results(r.row.id)) ?? null;
    if (failures.length || failedBefore) {
      const n = failures.length + failedBefore;
      this.tasks.setTaskStatus(
        r.row.id,
        'FAILED',
        `${n} of ${all.length} subtask(s) failed${failures.length ? `; first: ${failures[0]}` : ''}`,
      );
    } else if (outcome?.status === 'FAILED') {
      this.tasks.setFinalFraction(r.row.id);
      this.tasks.setTaskStatus(r.row.id, 'FAILED', outcome.error ?? 'failed');
    } else {
      this.tasks.setFinalFraction(r.row.id);
      this.tasks.setTaskStatus(r.row.id, 'COMPLETE');
    }
  }

  /** Whether an aborted run stops for now and goes on later (server shutdown), rather than for good (CANCEL). */
  private resumesLater(r: Running): boolean {
    return this.stopping && this.tasks.task(r.row.id)?.status !== 'CANCELLING';
  }

  /** Runs one subtask, from its last checkpoint if it has one; returns an error message when it failed. */
  private async runSubtask(r: Running, s: SubtaskRow): Promise<string | null> {
    const { type } = r;
    this.tasks.setSubtaskStatus(s.id, 'RUNNING');
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
    };
    this.live.set(s.id, live);
    const { signal } = r.abort;
    /** Makes what was reported so far part of the next checkpoint write, at `position`. */
    const reach = (position: number | null, apply?: () => void): Checkpoint => {
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
          checkpoint: (position, apply) => {
            const cp = reach(position, apply);
            // A checkpoint with catalog changes is written at once and alone: what the type does next
            // (remove the file a segment had) depends on it, and its failure is this subtask's alone.
            if (apply) this.flushProgress([s.id]);
            else if (cp.results.length >= RESULTS_PER_FLUSH) this.flushProgress();
          },
          signal,
          throttle: (n, on) => {
            live.meter.add(n);
            return r.throttles.take(on ?? device, n, signal);
          },
        },
      );
      return this.endSubtask(r, s, live, reach, signal.aborted ? 'CANCELLED' : 'COMPLETE');
    } catch (err) {
      // The abort reached the I/O and stopped it: a cancellation, not a failure.
      if (isCancellation(err, signal)) return this.endSubtask(r, s, live, reach, 'CANCELLED');
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.warn({ task: r.row.id, subtask: s.id, err: msg }, 'subtask failed');
      return this.endSubtask(r, s, live, reach, 'FAILED', msg);
    }
  }

  /**
   * The end of a run. Stopped for a later run: what was checkpointed is written, the rest is dropped and
   * redone. Otherwise the end is the last checkpoint: everything reported is written, and the status set.
   */
  private endSubtask(
    r: Running,
    s: SubtaskRow,
    live: LiveSubtask,
    reach: (position: number | null) => Checkpoint,
    status: 'COMPLETE' | 'CANCELLED' | 'FAILED',
    error: string | null = null,
  ): string | null {
    live.ended = true;
    if (status === 'CANCELLED' && this.resumesLater(r)) {
      live.pending = [];
      this.flushProgress([s.id]);
      this.tasks.resumeSubtask(s.id);
      return null;
    }
    reach(live.position);
    this.flushProgress([s.id]);
    this.tasks.setSubtaskStatus(s.id, status, error);
    return status === 'FAILED' ? error : null;
  }

  /** Writes the progress of running subtasks (all that changed, or the ones named) and their checkpoints. */
  private flushProgress(only?: string[]): void {
    const ids = only ?? [...this.dirty];
    if (!ids.length) return;
    const batch = new Map<string, SubtaskProgress>();
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
      live.checkpoint = undefined;
      this.dirty.delete(id);
      if (live.ended) this.live.delete(id);
    }
    this.tasks.writeProgress(batch);
  }
}

function isFinished(status: string): boolean {
  return status === 'COMPLETE' || status === 'FAILED' || status === 'CANCELLED';
}
