// The contract of a task type, and all of it: its name, where it may run, the options it takes, how it plans
// subtasks, the shape of a subtask's plan as stored in the catalog, and how it runs one subtask. The engine
// owns scheduling, progress, cancellation, persistence and resumption (as CockroachDB's job registry does for
// a Resumer); CREATE TASK is validated against the registered types (registry.ts). A new task type is one
// module exporting a TaskType and one line in the list that app.ts registers.
import type { StorageCatalog } from '../../catalog/storage';
import type { NewSubtask, ResultRow, SubtaskRow, TaskRow } from '../../catalog/tasks';
import type { SegmentStore } from '../store/store';
import type { VerifyPool } from '../store/verify-pool';
import type { GroupLocks } from './locks';
import type { Decoder } from './plan-decoder';
import type { EngineOptions, OptionDefs, OptionValues } from './task-options';

export type LocationType = 'SYSTEM' | 'CLUSTER' | 'NODE';

export interface TaskLocation {
  type: LocationType;
  name: string | null;
}

/** A type's own options plus the engine's (parallelism, max_bytes_per_sec), as validated. */
export type OptionsOf<D extends OptionDefs> = OptionValues<D> & EngineOptions;

export interface PlanInput<O> {
  location: TaskLocation;
  options: O;
  storage: StorageCatalog;
}

export type PlannedSubtask<P> = Omit<NewSubtask, 'plan'> & { plan: P };

/** One subtask as `run` gets it: its row, its decoded plan, its task's options, and where to resume. */
export interface Subtask<P, O> {
  task: TaskRow;
  row: SubtaskRow;
  plan: P;
  options: O;
  /** The position of the subtask's last checkpoint (ctx.checkpoint), null when it starts from the beginning. */
  resumeFrom: number | null;
}

/** What the engine lends a running subtask. */
export interface RunContext {
  storage: StorageCatalog;
  store: SegmentStore;
  locks: GroupLocks;
  /** Verifies segment files on worker threads (check_disk's hashing stays off the main thread). */
  verifier: VerifyPool;
  /**
   * Aborted by CANCEL TASK (and by server shutdown). Pass it to the I/O: reads stop, a write not yet switched
   * in is undone, throttle waits end. A run that sees it aborted stops at its next safe point; an AbortError it
   * lets through ends the subtask CANCELLED, not FAILED.
   */
  signal: AbortSignal;
  /** Adds to this subtask's progress (bytes read or written, segments finished / failed). */
  progress(delta: { bytes?: number; segments?: number; failed?: number }): void;
  /**
   * Records a finding or an action in sys.result_cache. It is written with the next checkpoint (or at the
   * end of the run), never alone: a run interrupted before that checkpoint redoes the work and reports it then.
   */
  result(row: Omit<ResultRow, 'subtask_id'>): void;
  /**
   * Marks a point the subtask need not redo: `position` (in the type's own unit: a row id, a count of groups
   * or moves) is where a resumed run starts (`resumeFrom`). The progress and results reported so far and the
   * catalog changes `apply` makes (through the StorageCatalog of that transaction it is given) are committed
   * together in one transaction. Without `apply` the engine batches checkpoints (every 250 ms); with it, the
   * checkpoint is written before the returned promise resolves. Rejects once an earlier checkpoint of the
   * subtask could not be written (its results are lost): the subtask fails.
   */
  checkpoint(position: number, apply?: (storage: StorageCatalog) => Promise<void>): Promise<void>;
  /**
   * Accounts `bytes` read or written on a device (default: the subtask's own) and waits as long as that
   * device's max_bytes_per_sec requires (not past an abort). The bucket is shared by the task's subtasks.
   */
  throttle(bytes: number, deviceId?: string | null): Promise<void>;
}

export interface TaskOutcome {
  status: 'COMPLETE' | 'FAILED';
  error?: string;
}

export interface TaskType<P = unknown, D extends OptionDefs = OptionDefs> {
  /** The name CREATE TASK ... TYPE takes (case-sensitive). */
  readonly name: string;
  readonly locations: readonly LocationType[];
  /** The hint for a LOCATION this type refuses, when there is a way to say what was meant. */
  refusedLocationHint?(location: TaskLocation): string | undefined;
  /** The type's own options, in the order the hints list them; the engine's options follow. */
  readonly options: D;
  /** Reads a plan back from the catalog (on every run, and after a restart). */
  readonly planDecoder: Decoder<P>;
  /** Plans the subtasks. Throws TaskError for a location or option value that names nothing (unknown node etc.). */
  plan(input: PlanInput<OptionsOf<D>>): Promise<PlannedSubtask<P>[]>;
  /**
   * Runs one subtask to its end, or to the next safe point once ctx.signal is aborted, starting after
   * `resumeFrom` when it is set. Must be idempotent past its last checkpoint: work after it may be redone.
   */
  run(subtask: Subtask<P, OptionsOf<D>>, ctx: RunContext): Promise<void>;
  /** Decides how a task whose subtasks all ended ends (default: FAILED if any subtask failed). */
  outcome?(task: TaskRow, results: ResultRow[]): TaskOutcome | null;
  /** Result rows that summarise the finished task (e.g. rebalance's imbalance before and after). */
  summary?(
    task: TaskRow,
    options: OptionsOf<D>,
    storage: StorageCatalog,
    plans: P[],
  ): Promise<Omit<ResultRow, 'subtask_id'>[]>;
}

/** Declares a task type; the identity function, there so that TypeScript infers P and D from the literal. */
export function defineTaskType<P, D extends OptionDefs>(type: TaskType<P, D>): TaskType<P, D> {
  return type;
}

/** A CREATE TASK checked against its type: defaults filled in, parameters substituted. */
export interface ValidatedTask {
  name: string | null;
  type: string;
  location: TaskLocation & { at: number };
  options: OptionsOf<OptionDefs>;
}

/** Whether `err` is the abort of `signal` reaching the I/O (its reason, or an AbortError node's I/O made of it). */
export function isCancellation(err: unknown, signal: AbortSignal): boolean {
  return (
    signal.aborted && (err === signal.reason || (err as { name?: unknown } | null)?.name === 'AbortError')
  );
}

/** The hint for LOCATION NODE of a type that works on whole clusters only (it has no node option). */
export function clusterOnly(typeName: string) {
  return (location: TaskLocation): string | undefined =>
    location.type === 'NODE'
      ? `${typeName} evens out the disks of a whole cluster: use LOCATION CLUSTER <cluster> (the cluster of node ${location.name}), or LOCATION SYSTEM.`
      : undefined;
}

/** The hint for LOCATION NODE of a type that works on clusters but can be limited to one node's segments. */
export function nodeThroughClusterOption(typeName: string) {
  return (location: TaskLocation): string | undefined =>
    location.type === 'NODE'
      ? `Use LOCATION CLUSTER <cluster> OPTIONS node = '${location.name}' to ${typeName} the segments of one node.`
      : undefined;
}
