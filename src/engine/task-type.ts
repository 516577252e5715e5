// The one interface a task type implements to plug into the engine. The engine owns scheduling, progress,
// cancellation, persistence and resumption; a task type only plans subtasks and runs one of them.
import type { StorageCatalog } from '../../catalog/storage';
import type { NewSubtask, ResultRow, SubtaskRow, TaskRow } from '../../catalog/tasks';
import type { SegmentStore } from '../store/store';
import type { VerifyPool } from '../store/verify-pool';
import type { GroupLocks } from './locks';
import type { LocationType, TaskOptions } from './task-spec';

export interface PlanInput {
  location: { type: LocationType; name: string | null };
  options: TaskOptions;
  storage: StorageCatalog;
}

export interface RunContext {
  task: TaskRow;
  subtask: SubtaskRow;
  options: TaskOptions;
  plan: Record<string, unknown>;
  storage: StorageCatalog;
  store: SegmentStore;
  locks: GroupLocks;
  /** Verifies segment files on worker threads (check_disk's hashing stays off the main thread). */
  verifier: VerifyPool;
  /** Adds to this subtask's progress (bytes read or written, segments finished / failed). */
  progress(delta: { bytes?: number; segments?: number; failed?: number }): void;
  /** Records a finding or an action in sys.result_cache. */
  result(row: Omit<ResultRow, 'subtask_id'>): void;
  /** True once CANCEL TASK was given: stop at the next safe point. */
  cancelled(): boolean;
  /** Waits as long as the max_bytes_per_sec throttle of this subtask's device requires. */
  throttle(bytes: number): Promise<void>;
}

export interface TaskOutcome {
  status: 'COMPLETE' | 'FAILED';
  error?: string;
}

export interface TaskType {
  /** Plans the subtasks. Throws SqlError for an invalid location or option value (unknown node etc.). */
  plan(input: PlanInput): NewSubtask[];
  /** Runs one subtask to its end, or to the next safe point after cancellation. Must be idempotent. */
  run(ctx: RunContext): Promise<void>;
  /** Decides how a task whose subtasks all ended ends (default: FAILED if any subtask failed). */
  outcome?(task: TaskRow, results: ResultRow[]): TaskOutcome | null;
  /** Result rows that summarise the finished task (e.g. rebalance's imbalance before and after). */
  summary?(
    task: TaskRow,
    storage: StorageCatalog,
    plans: Record<string, unknown>[],
  ): Omit<ResultRow, 'subtask_id'>[];
}
