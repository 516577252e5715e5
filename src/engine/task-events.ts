// What the engine tells the outside world as it happens: each status change of a task and each finding, as
// one event with a JSON-ready payload (the lead's wire server sends it as NOTIFY segtasks_tasks; the console
// pushes it to the browser). The engine only emits; it knows nothing of who listens.
import { EventEmitter } from 'node:events';
import type { ProgressCounts, ResultRow, TaskRow, TaskStatus } from '../../catalog/tasks';

/** A finding in an event: enough to find the segment, not the whole row (NOTIFY payloads stay small). */
export interface FindingSummary {
  result: string;
  node_name: string | null;
  device_id: string | null;
  segment_group_id: number | null;
  storage_id: string | null;
  detail: string;
}

export interface TaskEvent {
  event: 'status' | 'finding';
  task_id: string;
  name: string | null;
  type: string;
  status: TaskStatus;
  fraction: number;
  counts: ProgressCounts;
  error: string | null;
  /** Only on a finding event. */
  finding?: FindingSummary;
}

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; a finding's detail is cut well below that. */
const MAX_DETAIL = 500;

export function taskEvent(row: TaskRow, finding?: Omit<ResultRow, 'subtask_id'>): TaskEvent {
  return {
    event: finding ? 'finding' : 'status',
    task_id: row.id,
    name: row.name,
    type: row.type,
    status: row.status,
    fraction: row.fraction_complete,
    counts: {
      bytes_total: row.bytes_total,
      bytes_done: row.bytes_done,
      segments_total: row.segments_total,
      segments_done: row.segments_done,
      segments_failed: row.segments_failed,
    },
    error: row.error,
    ...(finding
      ? {
          finding: {
            result: finding.result,
            node_name: finding.node_name,
            device_id: finding.device_id,
            segment_group_id: finding.segment_group_id,
            storage_id: finding.storage_id,
            detail:
              finding.detail.length > MAX_DETAIL ? `${finding.detail.slice(0, MAX_DETAIL)}…` : finding.detail,
          },
        }
      : {}),
  };
}

/** The server sends each as NOTIFY: `engine.events.on('task', (e) => notify(TASK_CHANNEL, JSON.stringify(e)))`. */
export class TaskEvents extends EventEmitter<{ task: [TaskEvent] }> {}
