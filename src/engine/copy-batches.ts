// The loop rebuild and rebalance share: the items of a subtask's plan (groups to rebuild, segments to move) are
// taken in batches. Each item is first prepared (locked, read, verified or decoded: the payloads it will
// write) and then written into the batch's CopyBatch; up to readAhead() items after the current one are
// prepared while it is written, so reads overlap writes and each other. A batch ends after BATCH_BYTES of
// copies or BATCH_MS (so a throttled task still checkpoints item by item); its copies are then made durable
// (in process each was fdatasynced right after its write; then each directory fsynced once: relocate.ts),
// switched in one checkpoint transaction with their result rows and the count of items done, and only then
// are the files they replace removed and the locks released. That finish of a batch runs while the next
// batch is written (a pipeline two batches deep).
import { CopyBatch, removeReplaced, switchTo } from '../store/relocate';
import { isCancellation, type RunContext } from './task-type';

export const BATCH_BYTES = 64 * 1024 * 1024;
export const BATCH_MS = 250;
/** What is read ahead of the item being written, unthrottled, in bytes (the items' buffers in memory). */
export const READ_AHEAD_BYTES = 16 * 1024 * 1024;

/**
 * Items prepared ahead of the one being written: 16 MiB of items of `itemBytes` each (a rebuild's group of
 * four 1 MiB shards: 4), never fewer than 4 nor more than 32. A move reads one segment: with four moves ahead a
 * rebalance had 4 MiB of reads in flight, which the disk served in a fraction of the time its batch took to
 * be made durable and switched, and the reads then stalled until the next batch. With a throttle, one: reads
 * ahead would take the device's budget before the write of the current item, and delay its checkpoint by as
 * many items.
 */
export function readAhead(
  maxBytesPerSec: number | null | undefined,
  itemBytes = READ_AHEAD_BYTES / 4,
): number {
  if (maxBytesPerSec) return 1;
  return Math.max(4, Math.min(32, Math.floor(READ_AHEAD_BYTES / Math.max(1, itemBytes))));
}

/**
 * Items per subtask for a plan of `count` items: at most about `most` (a subtask's checkpoints and locks stay
 * small), in a number of subtasks that is a multiple of `parallelism` and of even sizes, so that the engine's
 * `parallelism` subtasks at once all end together: with fixed cuts, the last subtask (of 85 moves in runs of
 * 32, the third of 21) ran alone after the others, one pipeline where there could be two, each starting with
 * cold reads.
 */
export function evenShare(count: number, most: number, parallelism: number): number {
  const p = Math.max(1, parallelism);
  return Math.max(1, Math.ceil(count / (p * Math.ceil(count / (p * most)))));
}

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
  /** Stages its copies in the batch (all or none), adding to tally and outcomes; absent: nothing to write. */
  write?: (batch: CopyBatch) => Promise<void>;
}

export const noTally = (): Tally => ({ bytes: 0, segments: 0, failed: 0 });

/** An item being prepared, by its index in the plan. */
interface Ahead {
  index: number;
  item: Promise<PreparedItem>;
}

/**
 * Runs the items of a plan from the `from`-th of `count` on, batch after batch, until the end or an abort.
 * Items are prepared ahead of their write, across batches too, and batches overlap two by two: while one is
 * made durable, switched in and its replaced files removed (its finish), the next one is written, so the
 * disk is not idle between them. Each batch keeps the order of docs/durability.md for its own copies, and
 * the batches' checkpoints are written in the plan's order (a batch's finish starts once the one before it
 * has ended). An item whose group (`groupOf`) an earlier item of its batch or of the batch being finished
 * changes is prepared only once that batch is switched in (its checkpoint committed; the removal of the files
 * it replaced may still run): what it checks and reads (where the group's segments are) depends on it. A failure is thrown once what was written before it is
 * checkpointed; a batch written while the one before it failed to finish is removed unswitched.
 */
export async function copyInBatches(
  ctx: RunContext,
  taskId: string,
  count: number,
  from: number,
  depth: number,
  prepare: (index: number) => Promise<PreparedItem>,
  groupOf?: (index: number) => number,
): Promise<void> {
  const run = new Pipeline(ctx, taskId, count, from, depth, prepare, groupOf);
  try {
    while (!run.finished() && !ctx.signal.aborted) await run.oneBatch();
    await run.drain();
  } finally {
    // The last batch's checkpoint is written (or has failed) before the run ends, whatever ended it.
    await run.settlePrevious();
    // Items prepared for a batch that never started (an abort, a failure): not done, their locks released.
    await run.abandon();
  }
}

class Pipeline {
  /** Being prepared, in plan order; the first is the next to be written. */
  private queue: Ahead[] = [];
  private next: number;
  /** The groups of the current batch's items, written or in the queue. */
  private groups = new Set<number>();
  /** The groups the batch being finished changed: their next items wait for its switch. */
  private finishingGroups = new Set<number>();
  /** The next item's group is one the current batch or the one being finished changes: it waits. */
  private blocked = false;
  /** The finish of the batch before the current one, under way while the current one is written. */
  private finishing: Promise<void> | null = null;
  /** Resolves once that finish has switched its copies in (its checkpoint committed). */
  private switched: Promise<void> | null = null;
  /** That batch, whose copies count against their devices' room until they are switched in. */
  private previous: CopyBatch | null = null;
  /** Why a batch's finish failed: the batches after it are not checkpointed. */
  private failedFinish: { err: unknown } | null = null;

  constructor(
    private readonly ctx: RunContext,
    private readonly taskId: string,
    private readonly count: number,
    from: number,
    /** Items prepared ahead of the one being written, at most. */
    private readonly depth: number,
    private readonly prepare: (index: number) => Promise<PreparedItem>,
    private readonly groupOf?: (index: number) => number,
  ) {
    this.next = from;
  }

  finished(): boolean {
    return !this.queue.length && this.next >= this.count;
  }

  /** Prepares items ahead up to `depth` (none past one that must wait for a switch). */
  private fill(): void {
    while (!this.blocked && this.queue.length < this.depth && this.next < this.count) {
      const g = this.groupOf?.(this.next);
      if (g !== undefined && (this.groups.has(g) || this.finishingGroups.has(g))) {
        this.blocked = true;
        return;
      }
      if (g !== undefined) this.groups.add(g);
      const item = this.prepare(this.next);
      item.catch(() => {}); // awaited where it is used, and a rejection handled there
      this.queue.push({ index: this.next++, item });
    }
  }

  /** Waits for the finish of the batch before the current one (a failure is kept in failedFinish). */
  async settlePrevious(): Promise<void> {
    const finishing = this.finishing;
    if (!finishing) return;
    try {
      await finishing;
    } catch (err) {
      this.failedFinish ??= { err };
    }
    if (this.finishing === finishing) {
      this.finishing = null;
      this.previous = null;
      this.finishingGroups = new Set();
    }
  }

  /**
   * Waits until the batch being finished has switched its copies in, or its finish has ended: from then on
   * the catalog says where its groups' segments are, and their next items may be prepared (the removal of
   * the files it replaced, and the rest of its finish, go on meanwhile). A finish that failed before its
   * switch is settled here (failedFinish).
   */
  private async awaitSwitch(): Promise<void> {
    const finishing = this.finishing;
    if (!finishing) return;
    const switched = await Promise.race([
      this.switched!.then(() => true),
      finishing.then(
        () => true,
        () => false,
      ),
    ]);
    if (!switched) await this.settlePrevious();
    else if (this.finishing === finishing) this.finishingGroups = new Set();
  }

  /** The end of the run: the last batch's finish, and its failure thrown. */
  async drain(): Promise<void> {
    await this.settlePrevious();
    if (this.failedFinish) throw this.failedFinish.err;
  }

  async abandon(): Promise<void> {
    const left = this.queue;
    this.queue = [];
    for (const a of left) {
      const item = await a.item.catch(() => null);
      if (item) this.ctx.locks.unlock(item.locked, this.taskId);
    }
  }

  /**
   * One batch: writes prepared items until it is full or nothing more can be written before a switch, then
   * waits for the finish of the batch before it and starts its own (finish) without waiting for it. A
   * failure commits what was fully written before it, checkpoints that, and is thrown; an abort does the
   * same and returns. Items prepared ahead and not written are carried to the next batch (they do not
   * depend on this one's changes).
   */
  async oneBatch(): Promise<void> {
    const { ctx } = this;
    const started = Date.now();
    const batch = new CopyBatch(ctx.storage, ctx.store.io, this.previous, ctx.store.removals);
    const locked: number[] = [];
    const written = new Set<number>();
    const tally = noTally();
    const outcomes: Row[] = [];
    let done: number | null = null;
    let failure: unknown = null;
    this.blocked = false;
    const groupOf = this.groupOf;
    this.groups = new Set(groupOf ? this.queue.map((a) => groupOf(a.index)) : []);
    this.fill();
    try {
      for (;;) {
        if (!this.queue.length) {
          // What is left waits for the batch being finished: once it has switched, this batch goes on.
          if (!this.blocked || !this.finishing) break;
          await this.awaitSwitch();
          if (this.failedFinish) break;
          this.blocked = false;
          this.fill();
          if (!this.queue.length) break;
        }
        const full =
          done !== null &&
          (batch.bytes >= BATCH_BYTES || Date.now() - started >= BATCH_MS || ctx.signal.aborted);
        if (full) break;
        const item: PreparedItem = await this.queue.shift()!.item;
        locked.push(...item.locked);
        if (groupOf) written.add(groupOf(item.index));
        done ??= item.index;
        this.fill();
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
    // The checkpoints are written in order: this batch's after the one before it.
    await this.settlePrevious();
    if (this.failedFinish) {
      // Nothing of this batch is switched: its items are redone by a later run.
      try {
        await batch.discard();
      } finally {
        ctx.locks.unlock(locked, this.taskId);
      }
      throw this.failedFinish.err;
    }
    let onSwitched = () => {};
    const switched = new Promise<void>((resolve) => {
      onSwitched = resolve;
    });
    const finish = this.finish(batch, locked, tally, outcomes, done, onSwitched);
    if (failure) {
      try {
        await finish;
      } catch {
        throw failure; // the batch's own failure, whatever its finish then met
      }
      if (!isCancellation(failure, ctx.signal)) throw failure;
      return;
    }
    finish.catch(() => {}); // settled by settlePrevious
    this.finishing = finish;
    this.switched = switched;
    this.previous = batch;
    this.finishingGroups = written;
  }

  /**
   * A batch's finish: its copies made durable, switched in with their result rows and the checkpoint
   * (`onSwitched` then), that commit made durable, the files they replace removed, the locks released. On a
   * failure before the switch nothing of it is switched (the commit removed its copies) and the error is
   * thrown.
   */
  private async finish(
    batch: CopyBatch,
    locked: number[],
    tally: Tally,
    outcomes: Row[],
    done: number | null,
    onSwitched: () => void,
  ): Promise<void> {
    const { ctx } = this;
    try {
      const copies = await batch.commit();
      for (const row of outcomes) ctx.result(row);
      ctx.progress(tally);
      if (done !== null)
        await ctx.checkpoint(
          done,
          copies.length
            ? async (tx) => {
                for (const c of copies) await switchTo(tx, c);
              }
            : undefined,
        );
      batch.switched();
      onSwitched();
      // The switch must outlive a power loss before the files it replaced go (docs/durability.md, step 5).
      if (copies.length) await ctx.store.catalog.durable();
      await removeReplaced(ctx.store.io, copies, ctx.store.removals);
    } finally {
      ctx.locks.unlock(locked, this.taskId);
    }
  }
}
