// The task engine: creates tasks, runs their subtasks in the background, and keeps sys.tasks / sys.subtasks
// true while it does. Modelled on CockroachDB's jobs: all state lives in the catalog, so a restart resumes
// PENDING and RUNNING tasks; a subtask either finished (and is never run again) or is run again from its start
// with its partial results removed. What a task does is its type's (task-type.ts), looked up by name in the
// registry. CANCEL TASK aborts the task's AbortSignal, which its runs pass to their I/O. Knows nothing of the
// wire.
import type { Logger } from 'pino';
import type { StorageCatalog } from '../../catalog/storage';
import {
  DuplicateTaskError,
  type Progress,
  type ResultRow,
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
import { Throttle } from './throttle';

const PROGRESS_FLUSH_MS = 250;

interface Running {
  row: TaskRow;
  type: TaskType;
  options: OptionsOf<OptionDefs>;
  /** Aborted by CANCEL TASK and by stop(). */
  abort: AbortController;
  done: Promise<void>;
}

interface ProgressEntry extends Progress {
  task_id: string;
  bytes_total: number;
  segments_total: number;
}

export class TaskEngine {
  readonly locks = new GroupLocks();
  private readonly running = new Map<string, Running>();
  private readonly dirty = new Map<string, ProgressEntry>();
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
          this.tasks.resetSubtask(s.id);
          resumed++;
        }
      }
      this.tasks.refreshTaskTotals(t.id);
      this.logger.info({ task: t.id, name: t.name, restartedSubtasks: resumed }, 'resuming task');
      this.launch(t);
    }
    this.flushTimer = setInterval(() => this.flushProgress(), PROGRESS_FLUSH_MS);
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
    const r: Running = { row, type, options, abort: new AbortController(), done: Promise.resolve() };
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
          this.tasks.setSubtaskStatus(s.id, 'CANCELLED');
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
      if (this.stopping && this.tasks.task(r.row.id)?.status !== 'CANCELLING') {
        // Server shutdown, not CANCEL TASK: leave the task RUNNING so that the next start resumes it.
        for (const s of this.tasks.subtasks(r.row.id))
          if (s.status === 'CANCELLED') this.tasks.resetSubtask(s.id);
        return;
      }
      this.tasks.setTaskStatus(r.row.id, 'CANCELLED');
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

  /** Runs one subtask; returns an error message when it failed. */
  private async runSubtask(r: Running, s: SubtaskRow): Promise<string | null> {
    const { type } = r;
    this.tasks.setSubtaskStatus(s.id, 'RUNNING');
    const entry: ProgressEntry = {
      task_id: r.row.id,
      bytes_total: s.bytes_total,
      segments_total: s.segments_total,
      bytes_done: 0,
      segments_done: 0,
      segments_failed: 0,
    };
    const throttle = new Throttle(r.options.max_bytes_per_sec);
    const { signal } = r.abort;
    const pendingResults: ResultRow[] = [];
    const flushResults = () => {
      if (pendingResults.length) this.tasks.addResults(r.row.id, r.row.type, pendingResults.splice(0));
    };
    try {
      const plan = decodePlan(type.planDecoder, s.plan);
      await type.run(
        { task: r.row, row: s, plan, options: r.options },
        {
          storage: this.storage,
          store: this.store,
          locks: this.locks,
          verifier: this.verifier,
          progress: (d) => {
            entry.bytes_done += d.bytes ?? 0;
            entry.segments_done += d.segments ?? 0;
            entry.segments_failed += d.failed ?? 0;
            this.dirty.set(s.id, entry);
          },
          result: (row) => {
            pendingResults.push({ ...row, subtask_id: s.id });
            if (pendingResults.length >= 100) flushResults();
          },
          signal,
          throttle: (n) => throttle.take(n, signal),
        },
      );
      flushResults();
      this.dirty.set(s.id, entry);
      this.flushProgress();
      this.tasks.setSubtaskStatus(s.id, signal.aborted ? 'CANCELLED' : 'COMPLETE');
      return null;
    } catch (err) {
      flushResults();
      this.dirty.set(s.id, entry);
      this.flushProgress();
      // The abort reached the I/O and stopped it: a cancellation, not a failure.
      if (isCancellation(err, signal)) {
        this.tasks.setSubtaskStatus(s.id, 'CANCELLED');
        return null;
      }
      const msg = err instanceof Error ? err.message : String(err);
      this.logger.warn({ task: r.row.id, subtask: s.id, err: msg }, 'subtask failed');
      this.tasks.setSubtaskStatus(s.id, 'FAILED', msg);
      return msg;
    }
  }

  private flushProgress(): void {
    if (!this.dirty.size) return;
    const batch = new Map(this.dirty);
    this.dirty.clear();
    this.tasks.writeProgress(batch);
  }
}

function isFinished(status: string): boolean {
  return status === 'COMPLETE' || status === 'FAILED' || status === 'CANCELLED';
}
