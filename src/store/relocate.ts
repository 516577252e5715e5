// Puts segments' payloads in files on devices and points the catalog at them: the one sequence rebuild and
// rebalance share, and the one that must never lose a byte (docs/durability.md). Every write goes through the
// device-I/O seam of the destination's node (device-io.ts), in process or on its agent.
//   1. addGroup(): the file's header and block checksum table are computed from the very payload buffer that
//      is written (hash before write), or for a move are those its source was just verified against block by
//      block into that buffer, and the whole-segment checksum they give must equal the catalog's for the
//      segment: a rebuilt payload that is not byte for byte the segment it replaces is never written. The
//      file is written (temporary name, rename) without waiting for the disk (`durable: false`). Where the
//      device I/O has a files-only write-back (in process: DeviceIO.writesBackFiles), each copy is
//      fdatasynced right after its write (writeBack), while the next items are read, decoded and written: the
//      disk writes the batch back as it is written instead of all of it at the commit.
//   2. commit(): waits for those write-backs, then one makeDurable per device I/O for the whole batch: the
//      batch's files not written back yet fdatasynced together (on an agent, the agent does that for its
//      files), and each directory fsynced once. Only once every file and every directory of the batch is
//      durable does the commit return. The next batch may be written meanwhile (copy-batches.ts); its
//      destinations count this batch's bytes as taken until this one is switched in (`reserved`).
//   3. switchTo(), which the caller runs inside the transaction of its checkpoint, so that the switch and the
//      result row reporting it are never apart.
//   4. removeReplaced(): only then the files the segments had before go (the batch's together).
// An abort is honoured up to the commit. A crash before the commit leaves files the catalog does not point at
// as INTACT: temporary files and copies elsewhere (start-up recovery removes both) or, written in place, a file
// of a segment the catalog still calls MISSING, DAMAGED or REBUILDING; the copy is simply made again. A
// write-back that fails fails the commit as a failed makeDurable does: the batch's copies are removed (never
// synced again: docs/durability.md, "What fsync guarantees"), nothing is switched.
import { nowText } from '../../catalog/db';
import type { Segment, SegmentGroup, StorageCatalog } from '../../catalog/storage';
import { BoundedQueue } from './bounded-queue';
import { writeToDevice } from './device-identity';
import type { DeviceIO, StorageIO } from './device-io';
import { type RemovalLog, removeTold, SILENT } from './failed-removal';

export interface CopyDestination {
  id: string;
  node_name: string;
  path: string;
}

export interface VerifiedCopy {
  seg: Segment;
  dest: CopyDestination;
  path: string;
  size: number;
  checksum: string;
}

/** Whether a copy replaces its segment's file (the same file on the same node): nothing to remove after. */
function inPlace(c: VerifiedCopy): boolean {
  return c.path === c.seg.path && c.dest.node_name === c.seg.node_name;
}

/**
 * Write-backs of one batch in flight at most. Four keep up with the writes (fdatasyncs in flight together
 * share the file system's journal commits), so that the commit has little left to wait for; two lagged
 * behind (bench/repair, docs/benchmarks.md, session 10: rebalance 0.64x against 0.74x with four).
 */
export const WRITE_BACKS_IN_FLIGHT = 4;

export class CopyBatch {
  /** The copies written and not yet durable, per device I/O (one makeDurable each at the commit). */
  private readonly pending = new Map<DeviceIO, VerifiedCopy[]>();
  /** The copies' write-backs (step 1), at most WRITE_BACKS_IN_FLIGHT at once, in the order written. */
  private readonly writeBacks = new BoundedQueue(WRITE_BACKS_IN_FLIGHT);
  /** The copies whose write-back returned, per device I/O: their data is on disk, their directories left. */
  private readonly writtenBack = new Map<DeviceIO, Set<string>>();
  /** Bytes this batch wrote per destination device, until they are switched in (used_bytes). */
  private readonly own = new Map<string, number>();
  private written = 0;

  constructor(
    private readonly storage: StorageCatalog,
    private readonly io: StorageIO,
    /** The batch before this one, being made durable and switched in while this one is written. */
    private previous: CopyBatch | null = null,
    /** Where a copy that could not be removed is told (it stays until the orphan scan at the next start). */
    private readonly removals: RemovalLog = SILENT,
  ) {}

  get bytes(): number {
    return this.written;
  }

  /**
   * Bytes written per destination device and not yet in the catalog's used_bytes: this batch's, and those of
   * the batch before it until its switch (what a device has free must count both).
   */
  get reserved(): ReadonlyMap<string, number> {
    if (!this.previous) return this.own;
    const all = new Map(this.previous.own);
    for (const [id, n] of this.own) all.set(id, (all.get(id) ?? 0) + n);
    return all;
  }

  private note(copies: VerifiedCopy[]): void {
    for (const c of copies) {
      this.own.set(c.dest.id, (this.own.get(c.dest.id) ?? 0) + c.size);
      this.written += c.size;
    }
  }

  /** The copies are switched in (their bytes in used_bytes): they no longer count as reserved. */
  switched(): void {
    this.own.clear();
  }

  /**
   * Writes copies (step 1 at the top of this file), all of them or none: when one fails, the others' files
   * are removed (unless written in place) and the error thrown. An abort of `signal` before a write counts as
   * a failure.
   */
  async addGroup(
    items: {
      seg: Segment;
      group: SegmentGroup;
      dest: CopyDestination;
      payload: Buffer;
      /** A move's: the verified source's header and table (WriteOptions.verifiedHead). */
      verifiedHead?: Buffer;
    }[],
    signal?: AbortSignal,
  ): Promise<VerifiedCopy[]> {
    const settled = await Promise.allSettled(
      items.map(async ({ seg, group, dest, payload, verifiedHead }) => {
        const dio = await this.io.forNode(dest.node_name);
        const meta = {
          storageId: seg.storage_id,
          groupId: group.id,
          position: seg.position,
          isParity: seg.position >= group.width - group.parity_width,
        };
        const w = await writeToDevice(this.storage, dio, dest, meta, payload, {
          durable: false,
          checksum: seg.checksum ?? undefined,
          signal,
          verifiedHead,
        });
        const copy: VerifiedCopy = { seg, dest, path: w.path, size: w.size, checksum: w.checksum };
        return { dio, copy };
      }),
    );
    const done = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(
        done
          .filter((d) => !inPlace(d.copy))
          .map((d) => removeTold(d.dio, [d.copy.path], this.removals, GIVEN_UP)),
      );
      throw (failed as PromiseRejectedResult).reason;
    }
    for (const { dio, copy } of done) {
      this.addPending(dio, [copy]);
      if (dio.writesBackFiles) this.startWriteBack(dio, copy.path);
    }
    return done.map((d) => d.copy);
  }

  /**
   * fdatasyncs one copy now, behind the writes that follow it. Its path is written once in a batch (an item's
   * group is in one batch only), so a write-back that returned made its data durable for good.
   */
  private startWriteBack(dio: DeviceIO, path: string): void {
    this.writeBacks.add(async () => {
      await dio.writeBack([path]);
      const done = this.writtenBack.get(dio) ?? new Set<string>();
      done.add(path);
      this.writtenBack.set(dio, done);
    });
  }

  /**
   * Adds copies written with durable = false through `dio` by someone else (an agent that rebuilt them from
   * its peers), verified against the catalog's checksum before they were written: made durable at the commit.
   */
  addPending(dio: DeviceIO, copies: VerifiedCopy[]): void {
    const list = this.pending.get(dio) ?? [];
    list.push(...copies);
    this.pending.set(dio, list);
    this.note(copies);
  }

  /**
   * Makes every copy durable (step 2) and returns them all, to be switched in. On failure nothing is
   * switched, and the files written to a path that is not their segment's current one are removed.
   */
  async commit(): Promise<VerifiedCopy[]> {
    // The batch before this one has been switched in (its finish ended before this one's began).
    this.previous = null;
    const pending = [...this.pending];
    const copies = pending.flatMap(([, list]) => list);
    this.pending.clear();
    try {
      // Every write-back has returned (or one has failed, and the batch with it) before the directories are
      // synced: the files' data, then their names, then (the caller) the switch.
      await this.writeBacks.settled();
      await Promise.all(
        pending.map(([dio, list]) =>
          dio.makeDurable(
            list.map((c) => c.path),
            this.writtenBack.get(dio),
          ),
        ),
      );
    } catch (err) {
      await this.removeCopies(copies);
      throw err;
    }
    return copies;
  }

  /**
   * Gives the batch up unswitched (the batch before it failed to finish, so that no later checkpoint may
   * be written): its copies written elsewhere than their segment's file are removed.
   */
  async discard(): Promise<void> {
    this.previous = null;
    const copies = [...this.pending.values()].flat();
    this.pending.clear();
    // No file is removed under a write-back still running on it.
    await this.writeBacks.settled().catch(() => {});
    await this.removeCopies(copies);
  }

  private async removeCopies(copies: VerifiedCopy[]): Promise<void> {
    this.own.clear();
    await Promise.all(
      copies
        .filter((c) => !inPlace(c))
        .map(async (c) =>
          removeTold(await this.io.forNode(c.dest.node_name), [c.path], this.removals, GIVEN_UP),
        ),
    );
  }
}

/**
 * Points the catalog at the copy (INTACT, on its device), through `storage` (that of the caller's transaction),
 * if the segment is still where the copy was made from (StorageCatalog.switchSegment).
 */
export function switchTo(storage: StorageCatalog, copy: VerifiedCopy): Promise<void> {
  return storage.switchSegment(
    copy.seg.storage_id,
    { device_id: copy.seg.device_id, path: copy.seg.path },
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
 * Removes the files the segments had before their switch, where the copies went elsewhere: one remove per
 * node's device I/O for the whole batch, so that each source directory is fsynced once, not once per file
 * (a directory fsync is a journal commit, which a batch of moves from one disk paid dozens of times). A
 * source that cannot be reached keeps an uncatalogued file, which the orphan scan at the next start removes.
 */
export async function removeReplaced(
  io: StorageIO,
  copies: VerifiedCopy[],
  removals: RemovalLog = SILENT,
): Promise<void> {
  const perNode = new Map<string, string[]>();
  for (const c of copies)
    if (!inPlace(c)) perNode.set(c.seg.node_name, [...(perNode.get(c.seg.node_name) ?? []), c.seg.path]);
  await Promise.all(
    [...perNode].map(async ([node, paths]) =>
      removeTold(
        await io.forNode(node),
        paths,
        removals,
        'could not remove the files repaired copies replaced',
      ),
    ),
  );
}

const GIVEN_UP = 'could not remove a repair copy given up';
