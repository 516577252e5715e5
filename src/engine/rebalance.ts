// rebalance: moves INTACT segments from the fullest disks of a cluster to the emptiest ones until every disk
// is within `threshold` of the mean used fraction, never putting two segments of a group on one node (the
// planner, rebalance-planner.ts). The moves are planned at CREATE TASK; one subtask per run of moves (a group's
// moves all in one: subtaskRuns). Each move
// reads and verifies its source, and writes a copy whose checksums are computed from the bytes written; the
// moves are checkpointed per batch (copy-batches.ts): the batch's files are synced together, then the
// switches, their MOVED rows and the count of moves done are one transaction, and only then are the sources
// removed.
import type { StorageCatalog } from '../../catalog/storage';
import { BufferPool } from '../store/buffer-pool';
import { fileSizeFor, SegmentFault } from '../store/segment-file';
import { copyInBatches, evenShare, noTally, type PreparedItem, readAhead } from './copy-batches';
import { TaskError } from './errors';
import { array, number, object, string } from './plan-decoder';
import {
  inDependencyOrder,
  Layout,
  type PlanDevice,
  type PlannedMove,
  type PlanSegment,
  planMoves,
  subtaskRuns,
} from './rebalance-planner';
import { markFailedSegment, segmentRow } from './results';
import { option } from './task-options';
import { clusterOnly, defineTaskType, type PlannedSubtask, type RunContext } from './task-type';

/** About this many moves per subtask at most (evenShare; a component of a group's moves may make it more). */
const MOVES_PER_SUBTASK = 128;

type Move = PlannedMove;

/** A batch of moves in one cluster, with the cluster's spread before and as planned after (for the summary). */
interface RebalancePlan {
  cluster: string;
  moves: Move[];
  before: number;
  after: number;
}

/** The cluster as the planner sees it: its ACTIVE devices on ONLINE nodes, and their INTACT segments. */
async function clusterAsPlanned(
  storage: StorageCatalog,
  cluster: string,
): Promise<[PlanDevice[], PlanSegment[]]> {
  const devices = (await storage.devicesOfCluster(cluster))
    .filter((d) => d.status === 'ACTIVE' && d.node_status === 'ONLINE')
    .map((d) => ({
      id: d.id,
      node: d.node_name,
      label: d.path,
      capacity: d.capacity_bytes,
      used: d.used_bytes,
    }));
  const segments = (await storage.segmentsForCheck({ cluster }))
    .filter((s) => s.status === 'INTACT')
    .map((s) => ({
      storage_id: s.storage_id,
      group: s.segment_group_id,
      device: s.device_id,
      bytes: s.size_bytes,
    }));
  return [devices, segments];
}

export const rebalance = defineTaskType({
  name: 'rebalance',
  locations: ['SYSTEM', 'CLUSTER'],
  refusedLocationHint: clusterOnly('rebalance'),
  options: {
    threshold: option.fraction(0.1, 'stop when every disk is within this fraction of the mean'),
  },
  planDecoder: object<RebalancePlan>({
    cluster: string,
    moves: array(
      object<Move>({ storage_id: string, group: number, from: string, to: string, bytes: number }),
    ),
    before: number,
    after: number,
  }),

  async plan(input) {
    const { storage, location, options } = input;
    if (location.type === 'CLUSTER' && !(await storage.cluster(location.name!)))
      throw new TaskError('42704', `cluster "${location.name}" does not exist`);
    const clusters =
      location.type === 'CLUSTER' ? [location.name!] : (await storage.clusters()).map((c) => c.name);
    const subtasks: PlannedSubtask<RebalancePlan>[] = [];
    for (const cluster of clusters) {
      const { moves, before, after } = planMoves(
        ...(await clusterAsPlanned(storage, cluster)),
        options.threshold,
      );
      if (!moves.length) {
        // An empty subtask keeps the cluster's before/after figures for the summary.
        subtasks.push({
          node_name: null,
          cluster_name: cluster,
          device_id: null,
          description: `cluster ${cluster} is balanced (spread ${(before * 100).toFixed(1)}%)`,
          bytes_total: 0,
          segments_total: 0,
          plan: { cluster, moves: [], before, after },
        });
        continue;
      }
      let i = 0;
      const size = evenShare(moves.length, MOVES_PER_SUBTASK, options.parallelism);
      for (const run of subtaskRuns(moves, size)) {
        // Within the subtask, in an order its run can take in fewer batches (moves of one group apart).
        const batch = inDependencyOrder(run);
        subtasks.push({
          node_name: null,
          cluster_name: cluster,
          device_id: null,
          description: `move ${batch.length} segment(s) in cluster ${cluster} (${i + 1}-${i + batch.length} of ${moves.length})`,
          bytes_total: batch.reduce((s, m) => s + m.bytes, 0),
          segments_total: batch.length,
          plan: { cluster, moves: batch, before, after },
        });
        i += batch.length;
      }
    }
    return subtasks;
  },

  async run({ task, plan, options, resumeFrom }, ctx) {
    // The checkpoint position is the number of moves of the plan that are done.
    const depth = readAhead(options.max_bytes_per_sec, Math.max(0, ...plan.moves.map((m) => m.bytes)));
    // Every move read ahead holds a buffer, and one more is being written; in shared memory, so that the
    // writer thread writes the copy from it (device-io.ts).
    const buffers = new BufferPool(depth + 1, true);
    await copyInBatches(
      ctx,
      task.id,
      plan.moves.length,
      resumeFrom ?? 0,
      depth,
      (i) => prepareMove(ctx, task.id, plan.moves[i], i, buffers),
      (i) => plan.moves[i].group,
    );
  },

  async summary(_task, { threshold }, storage, plans) {
    const clusters = new Map<string, number>();
    for (const p of plans) if (!clusters.has(p.cluster)) clusters.set(p.cluster, p.before);
    const rows = [];
    for (const [cluster, before] of clusters) {
      const layout = new Layout(...(await clusterAsPlanned(storage, cluster)));
      const outside = layout.explain(threshold);
      rows.push({
        node_name: null,
        device_id: null,
        table_id: null,
        segment_group_id: null,
        storage_id: null,
        result: 'BALANCE',
        detail:
          `cluster ${cluster}: largest deviation from the mean usage ${(before * 100).toFixed(1)}% before, ${(layout.spread() * 100).toFixed(1)}% after; ` +
          (outside.length
            ? `outside the threshold of ${(threshold * 100).toFixed(0)}% (plus one segment): ${outside.join('; ')}`
            : `every device within the threshold of ${(threshold * 100).toFixed(0)}% (plus one segment)`),
      });
    }
    return rows;
  },
});

/**
 * Prepares the `index`-th move of the plan: locks its group, checks the move still makes sense, and reads and
 * verifies the source into memory (a bad source is marked and left for rebuild, never copied). Its write
 * puts the copy on the destination; the switch, the MOVED row and the removal of the source follow with the
 * batch's checkpoint (copy-batches.ts).
 */
async function prepareMove(
  ctx: RunContext,
  taskId: string,
  mv: Move,
  index: number,
  buffers: BufferPool,
): Promise<PreparedItem> {
  const out: PreparedItem = { index, locked: [], tally: noTally(), outcomes: [] };
  if (!ctx.locks.tryLock([mv.group], taskId)) {
    out.outcomes.push(
      segmentRow(
        { storage_id: mv.storage_id, segment_group_id: mv.group, node_name: null, device_id: mv.from },
        null,
        'SKIPPED',
        'another task is changing this group',
      ),
    );
    out.tally = { segments: 1, bytes: mv.bytes, failed: 0 };
    return out;
  }
  out.locked = [mv.group];
  try {
    await readMove(ctx, mv, out, buffers);
    return out;
  } catch (err) {
    ctx.locks.unlock([mv.group], taskId);
    throw err;
  }
}

async function readMove(ctx: RunContext, mv: Move, out: PreparedItem, buffers: BufferPool): Promise<void> {
  const { storage } = ctx;
  const skipped = { segments: 1, bytes: mv.bytes, failed: 0 };
  const seg = await storage.segment(mv.storage_id);
  // Changed by someone else since the plan (moved, dropped, damaged): nothing to do.
  if (!seg || seg.device_id !== mv.from || seg.status !== 'INTACT') {
    out.tally = skipped;
    return;
  }
  const dest = await storage.device(mv.to);
  const group = (await storage.group(seg.segment_group_id))!;
  const others = (await storage.segmentsOfGroup(group.id)).filter((s) => s.storage_id !== seg.storage_id);
  if (
    dest?.status !== 'ACTIVE' ||
    (await storage.node(dest.node_name))?.status !== 'ONLINE' ||
    others.some((s) => s.node_name === dest.node_name)
  ) {
    out.outcomes.push(segmentRow(seg, group.table_id, 'SKIPPED', 'the destination is no longer suitable'));
    out.tally = skipped;
    return;
  }
  // Filled whole by the verified read below (or not used).
  const payload = buffers.take(group.shard_bytes);
  let verifiedHead: Buffer | undefined;
  try {
    ({ head: verifiedHead } = await (await ctx.store.io.forNode(seg.node_name)).readSegment(
      seg.path,
      {
        storageId: seg.storage_id,
        groupId: group.id,
        position: seg.position,
        payloadLength: group.shard_bytes,
      },
      { into: payload, signal: ctx.signal },
    ));
  } catch (err) {
    buffers.give(payload);
    if (!(err instanceof SegmentFault)) throw err;
    // Never copy a bad segment: mark it, and leave it for rebuild.
    await markFailedSegment(ctx, seg, group.table_id, err, 'not moved');
    out.tally = { segments: 1, failed: 1, bytes: mv.bytes };
    return;
  }
  await ctx.throttle(fileSizeFor(group.shard_bytes), seg.device_id);
  out.write = async (batch) => {
    const [copy] = await batch
      // The payload buffer is this move's alone from its verified read to the end of this write: its
      // source's header and table are the copy's (docs/durability.md, "A moved segment").
      .addGroup([{ seg, group, dest, payload, verifiedHead }], ctx.signal)
      .finally(() => buffers.give(payload));
    await ctx.throttle(copy.size, dest.id); // ends early on an abort, never throws
    out.outcomes.push(
      segmentRow(
        { ...seg, node_name: dest.node_name, device_id: dest.id },
        group.table_id,
        'MOVED',
        `from ${seg.path} to ${copy.path}`,
      ),
    );
    out.tally = { segments: 1, bytes: mv.bytes, failed: 0 };
  };
}
