// The story of each task in the server's JSON log: one structured event per lifecycle step (task.created,
// task.started, task.paused, task.resumed, task.cancelling, task.finished, task.failed, task.cancelled) with
// the task's id, name, type, location and who asked, and on the end a summary an operator can act on: what
// was done, how long it took, and the findings by kind.
import type { Logger } from 'pino';
import { isFinished, type TaskRow, type TaskStatus } from '../../catalog/tasks';

export type LifecycleEvent =
  | 'task.created'
  | 'task.started'
  | 'task.paused'
  | 'task.resumed'
  | 'task.cancelling'
  | 'task.finished'
  | 'task.failed'
  | 'task.cancelled';

const END_EVENT: Partial<Record<TaskStatus, LifecycleEvent>> = {
  COMPLETE: 'task.finished',
  FAILED: 'task.failed',
  CANCELLED: 'task.cancelled',
};

/** The lifecycle event a change to `status` is, given the status before (null for a new task). */
export function lifecycleEvent(before: TaskStatus | null, status: TaskStatus): LifecycleEvent | null {
  if (before === null) return 'task.created';
  if (before === status) return null;
  if (END_EVENT[status]) return END_EVENT[status]!;
  if (status === 'PAUSED') return 'task.paused';
  if (status === 'CANCELLING') return 'task.cancelling';
  if (status === 'RUNNING') return before === 'PAUSED' ? 'task.resumed' : 'task.started';
  return null;
}

function ms(text: string | null): number | null {
  return text ? Date.parse(text.replace(' ', 'T').replace(/\+00$/, 'Z')) : null;
}

export function logLifecycle(
  logger: Logger,
  event: LifecycleEvent,
  row: TaskRow,
  extra: { by?: string; findings?: Record<string, number> } = {},
): void {
  const fields: Record<string, unknown> = {
    event,
    task: row.id,
    name: row.name,
    type: row.type,
    location: row.location_name ? `${row.location_type} ${row.location_name}` : row.location_type,
    by: extra.by ?? (event === 'task.created' ? row.created_by : 'engine'),
  };
  if (isFinished(row.status)) {
    const findings = extra.findings ?? {};
    const start = ms(row.started_at) ?? ms(row.created_at);
    const end = ms(row.finished_at);
    fields.summary = {
      status: row.status,
      segments_done: row.segments_done,
      segments_total: row.segments_total,
      segments_failed: row.segments_failed,
      bytes_done: row.bytes_done,
      bytes_total: row.bytes_total,
      duration_ms: start !== null && end !== null ? end - start : null,
      findings,
      rebuilt: findings.REBUILT ?? 0,
      moved: findings.MOVED ?? 0,
    };
    if (row.error) fields.error = row.error;
  }
  const text = `${event.replace('task.', 'task ')}: ${row.name ?? row.id}`;
  if (row.status === 'FAILED') logger.warn(fields, text);
  else logger.info(fields, text);
}
