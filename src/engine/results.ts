// Result rows (sys.result_cache) about one segment, and what rebuild and rebalance do with a segment that fails
// verification while they read it: mark it (DAMAGED, or MISSING when its file is gone) and report it; the next
// rebuild repairs it.
import { nowText } from '../../catalog/db';
import type { Segment } from '../../catalog/storage';
import type { ResultRow } from '../../catalog/tasks';
import type { SegmentFault } from '../store/segment-file';
import type { RunContext } from './task-type';

/** A result row about a segment, on the node and device given (where it is, or where it went). */
export function segmentRow(
  seg: { storage_id: string; segment_group_id: number; node_name: string | null; device_id: string | null },
  tableId: string | null,
  result: string,
  detail: string,
): Omit<ResultRow, 'subtask_id'> {
  return {
    node_name: seg.node_name,
    device_id: seg.device_id,
    table_id: tableId,
    segment_group_id: seg.segment_group_id,
    storage_id: seg.storage_id,
    result,
    detail,
  };
}

export function markFailedSegment(
  ctx: RunContext,
  seg: Segment,
  tableId: string,
  err: SegmentFault,
  why: string,
): Promise<void> {
  const missing = err.kind === 'MISSING';
  ctx.result(segmentRow(seg, tableId, missing ? 'MISSING' : 'CHECKSUM_MISMATCH', `${why}: ${err.message}`));
  return ctx.storage.setSegmentStatus([
    { storageId: seg.storage_id, status: missing ? 'MISSING' : 'DAMAGED', checkedAt: nowText() },
  ]);
}
