// Puts a segment's (verified) payload in a file on a device and points the catalog at it. The one sequence
// rebuild and rebalance share, and the one that must never lose a byte: write to a temporary name, fsync,
// rename, fsync the directory, read the file back and verify it (writeVerifiedCopy); switch the catalog
// (switchTo, which the caller runs inside the transaction of its checkpoint, so that the switch and the
// result row reporting it are never apart); only then remove the file the segment had before
// (removeReplaced). An abort of `signal` is honoured only up to the rename. A crash between the rename and
// the switch leaves a file the catalog does not know, which start-up recovery removes (or, written in place,
// the same bytes the catalog expects), so the copy is simply made again.
import { nowText } from '../../catalog/db';
import type { Segment, SegmentGroup, StorageCatalog } from '../../catalog/storage';
import { writeToDevice } from './device-identity';
import type { StorageIO } from './device-io';

export interface VerifiedCopy {
  seg: Segment;
  dest: { id: string; node_name: string; path: string };
  path: string;
  size: number;
  checksum: string;
}

export async function writeVerifiedCopy(
  storage: StorageCatalog,
  io: StorageIO,
  seg: Segment,
  group: SegmentGroup,
  dest: { id: string; node_name: string; path: string },
  payload: Buffer,
  signal?: AbortSignal,
): Promise<VerifiedCopy> {
  const dio = await io.forNode(dest.node_name);
  const meta = {
    storageId: seg.storage_id,
    groupId: group.id,
    position: seg.position,
    isParity: seg.position >= group.width - group.parity_width,
  };
  const written = await writeToDevice(storage, dio, dest, meta, payload, { durable: true, signal });
  try {
    await dio.readSegment(written.path, { ...meta, payloadLength: group.shard_bytes }, {});
  } catch (err) {
    // A copy that does not verify is never switched in; the segment keeps the file it had.
    if (written.path !== seg.path || dest.node_name !== seg.node_name)
      await dio.remove([written.path]).catch(() => {});
    throw err;
  }
  return { seg, dest, path: written.path, size: written.size, checksum: written.checksum };
}

/** Points the catalog at the copy (INTACT, on its device), through `storage` (that of the caller's transaction). */
export function switchTo(storage: StorageCatalog, copy: VerifiedCopy): Promise<void> {
  return storage.switchSegment(
    copy.seg.storage_id,
    {
      device_id: copy.dest.id,
      node_name: copy.dest.node_name,
      path: copy.path,
      size_bytes: copy.size,
      checksum: copy.checksum,
    },
    nowText(),
  );
}

/**
 * Removes the file the segment had before the switch, if the copy went elsewhere. A source that cannot be
 * reached keeps an uncatalogued file, which the orphan scan at the next start removes.
 */
export async function removeReplaced(io: StorageIO, copy: VerifiedCopy): Promise<void> {
  if (copy.path !== copy.seg.path || copy.dest.node_name !== copy.seg.node_name)
    await (await io.forNode(copy.seg.node_name)).remove([copy.seg.path]).catch(() => {});
}
