// The loop rebuild and rebalance share: the items of a subtask's plan (groups to rebuild, segments to move) are
// taken in batches. Each item is first prepared (locked, read, verified or decoded: the payloads it will
// write) and then written into the batch's CopyBatch; the next item is prepared while the current one is
// written, so reads overlap writes. A batch ends after BATCH_BYTES of copies or BATCH_MS (so a throttled task
// still checkpoints item by item); its copies are then made durable in one pass (one makeDurable per device I/O:
// files fdatasynced together, each directory fsynced once), switched in one checkpoint transaction with their
// result rows and the count of items done, and only then are the files they replace removed and the locks
// released.
import { CopyBatch, removeReplaced, switchTo, type VerifiedCopy } from '../store/relocate';
import { isCancellation, type RunContext } from './task-type';

export const BATCH_BYTES = 64 * 1024 * 1024;
export const BATCH_MS = 250;

export interface Tally {
  bytes: number;
  segments: number;
  failed: number;
}

export type Row = Parameters<RunContext['result']>[0];

/** One item of the plan, ready to be written. */
export interface PreparedItem {
  index: number;
  /** Groups it locked: released once the batch holding it is checkpointed. */
  locked: number[];
  /** Counted, and reported, with the checkpoint that covers the item (never before its switch). */
  tally: Tally;
  outcomes: Row[];
  /** Bytes it will write. */
  writeBytes: number;
  /** Stages its copies in the batch (all or none), adding to tally and outcomes; absent: nothing to write. */
  write?: (batch: CopyBatch) => Promise<void>;
}

export const noTally = (): Tally => ({ bytes: 0, segments: 0, failed: 0 });

/**
 * Runs the items of a plan from the `from`-th of `count` on, batch after batch, until the end or an abort.
 * The first item of the next batch is read while the current batch is made durable and checkpointed, so that
 * the reads do not stop for the fsyncs. A failure is thrown once what was written before it is checkpointed.
 */
export async function copyInBatches(
  ctx: RunContext,
  taskId: string,
  count: number,
  from: number,
  prepare: (index: number) => Promise<PreparedItem>,
  groupOf?: (index: number) => number,
): Promise<void> {
  const ahead = (i: number) => {
    const p = prepare(i);
    p.catch(() => {}); // awaited where it is used, and a rejection handled there
    return p;
  };
  let next: Promise<PreparedItem> | null = from < count ? ahead(from) : null;
  while (next && !ctx.signal.aborted) ({ next } = await oneBatch(ctx, taskId, count, next, ahead, groupOf));
  // Read ahead for a batch that never started (an abort): not done, its locks released.
  const unused = await next?.catch(() => null);
  if (unused) ctx.locks.unlock(unused.locked, taskId);
}

/**
 * One batch, starting with the item `first` is preparing. Returns the next batch's first item, already being
 * prepared, or null at the end. A failure commits what was fully written before it, checkpoints that, and is
 * thrown; an abort does the same and returns. An item prepared ahead but not written is not done.
 */
async function oneBatch(
  ctx: RunContext,
  taskId: string,
  count: number,
  first: Promise<PreparedItem>,
  ahead: (index: number) => Promise<PreparedItem>,
  groupOf?: (index: number) => number,
): Promise<{ next: Promise<PreparedItem> | null }> {
  const started = Date.now();
  const batch = new CopyBatch(ctx.storage, ctx.store.io);
  const locked: number[] = [];
  const tally = noTally();
  const outcomes: Row[] = [];
  let done: number | null = null;
  let failure: unknown = null;
  let pending: Promise<PreparedItem> | null = first;
  let following: number | null = null;
  // An item of a group that an earlier item of the batch changes is prepared only once that change is
  // switched in: what it checks and reads (where the group's segments are) depends on it.
  const groups = new Set<number>();
  const waits = (i: number) => groupOf !== undefined && groups.has(groupOf(i));
  let waitForSwitch = false;
  try {
    while (pending) {
      const item: PreparedItem = await pending;
      pending = null;
      locked.push(...item.locked);
      done ??= item.index;
      if (groupOf) groups.add(groupOf(item.index));
      const last = item.index + 1 >= count;
      const full =
        batch.bytes + item.writeBytes >= BATCH_BYTES ||
        Date.now() - started >= BATCH_MS ||
        ctx.signal.aborted;
      if (!last && !full && !waits(item.index + 1)) pending = ahead(item.index + 1);
      else if (!last) {
        following = item.index + 1;
        waitForSwitch = waits(following);
      }
      await item.write?.(batch);
      tally.bytes += item.tally.bytes;
      tally.segments += item.tally.segments;
      tally.failed += item.tally.failed;
      outcomes.push(...item.outcomes);
      done = item.index + 1;
    }
  } catch (err) {
    failure = err;
  }
  const unwritten = await pending?.catch(() => null);
  if (unwritten) locked.push(...unwritten.locked);
  // The next batch starts reading while this one syncs (not after a failure or an abort).
  const goOn = following !== null && !failure && !ctx.signal.aborted;
  let next = goOn && !waitForSwitch ? ahead(following!) : null;
  try {
    let copies: VerifiedCopy[];
    try {
      copies = await batch.commit();
    } catch (err) {
      // Nothing was switched: the batch's items are redone by a later run.
      throw failure ?? err;
    }
    for (const row of outcomes) ctx.result(row);
    ctx.progress(tally);
    if (done !== null)
      ctx.checkpoint(
        done,
        copies.length
          ? () => {
              for (const c of copies) switchTo(ctx.storage, c);
            }
          : undefined,
      );
    if (goOn && waitForSwitch) next = ahead(following!);
    await Promise.all(copies.map((c) => removeReplaced(ctx.store.io, c)));
  } catch (err) {
    // The read ahead is abandoned with the batch: wait for it, and give its locks back.
    const n = await next?.catch(() => null);
    if (n) ctx.locks.unlock(n.locked, taskId);
    throw err;
  } finally {
    ctx.locks.unlock(locked, taskId);
  }
  // (After a failure or an abort there is no read ahead: `next` is null, or copyInBatches releases it.)
  if (failure && !isCancellation(failure, ctx.signal)) throw failure;
  return { next };
}
