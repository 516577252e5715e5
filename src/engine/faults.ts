// What rebuild and rebalance do with a segment that fails verification while they read it: mark it (DAMAGED,
// or MISSING when its file is gone) and report it; the next rebuild repairs it.
import { nowText } from '../../catalog/db';
import type { Segment } from '../../catalog/storage';
import type { SegmentFault } from '../store/segment-file';
import type { RunContext } from './task-type';

export function markFailedSegment(
  ctx: RunContext,
  seg: Segment,
  tableId: string,
  err: SegmentFault,
  why: string,
): void {
  const missing = err.kind === 'MISSING';
  ctx.storage.setSegmentStatus([
    { storageId: seg.storage_id, status: missing ? 'MISSING' : 'DAMAGED', checkedAt: nowText() },
  ]);
  ctx.result({
    node_name: seg.node_name,
    device_id: seg.device_id,
    table_id: tableId,
    segment_group_id: seg.segment_group_id,
    storage_id: seg.storage_id,
    result: missing ? 'MISSING' : 'CHECKSUM_MISMATCH',
    detail: `${why}: ${err.message}`,
  });
}
