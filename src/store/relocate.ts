// Puts a segment's (verified) payload in a file on a device and points the catalog at it. The one sequence
// rebuild and rebalance share, and the one that must never lose a byte: write to a temporary name, fsync,
// rename, fsync the directory; read the file back and verify it; switch the catalog; only then remove the
// file the segment had before (if it had another one). An abort of `signal` is honoured only up to the
// rename: after it the sequence runs to its end, so an abort never leaves a file the catalog does not know.
import { unlink } from 'node:fs/promises';
import { nowText } from '../../catalog/db';
import type { Segment, SegmentGroup, StorageCatalog } from '../../catalog/storage';
import { writableSegmentDir } from './device-identity';
import { verifySegmentFile, writeSegmentFile } from './segment-file';

export async function placeVerifiedSegment(
  storage: StorageCatalog,
  seg: Segment,
  group: SegmentGroup,
  dest: { id: string; node_name: string; path: string },
  payload: Buffer,
  signal?: AbortSignal,
): Promise<string> {
  const dir = await writableSegmentDir(storage, dest);
  const meta = {
    storageId: seg.storage_id,
    groupId: group.id,
    position: seg.position,
    isParity: seg.position >= group.width - group.parity_width,
  };
  const written = await writeSegmentFile(dir, meta, payload, true, true, signal);
  await verifySegmentFile(written.path, { ...meta, payloadLength: group.shard_bytes });
  storage.switchSegment(
    seg.storage_id,
    {
      device_id: dest.id,
      node_name: dest.node_name,
      path: written.path,
      size_bytes: written.size,
      checksum: written.checksum,
    },
    nowText(),
  );
  if (written.path !== seg.path) await unlink(seg.path).catch(() => {});
  return written.path;
}
