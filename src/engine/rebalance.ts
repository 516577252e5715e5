// rebalance: moves INTACT segments from the fullest disks of a cluster to the emptiest ones until every disk
// is within `threshold` of the mean usage, never putting two segments of a group on one node. The moves are
// planned at CREATE TASK; one subtask per batch of moves; each move is a verified copy, then a switch.
import type { StorageCatalog } from '../../catalog/storage';
import { placeVerifiedSegment } from '../store/relocate';
import { SegmentFault, verifySegmentFile } from '../store/segment-file';
import { TaskError } from './errors';
import { array, number, object, string } from './plan-decoder';
import { markFailedSegment, segmentRow } from './results';
import { option } from './task-options';
import { clusterOnly, defineTaskType, type PlannedSubtask, type RunContext } from './task-type';

const MOVES_PER_SUBTASK = 32;
const MAX_MOVES = 100_000;

interface Move {
  storage_id: string;
  group: number;
  from: string;
  to: string;
  bytes: number;
}

/** A batch of moves in one cluster, with the cluster's spread before and as planned after (for the summary). */
interface RebalancePlan {
  cluster: string;
  moves: Move[];
  before: number;
  after: number;
}

interface DevState {
  id: string;
  node: string;
  path: string;
  capacity: number;
  used: number;
}

/** Spread of usage: the largest distance of a device's used fraction from the mean, relative to the mean. */
export function imbalance(devs: { used: number; capacity: number }[]): { mean: number; spread: number } {
  const fr = devs.map((d) => d.used / d.capacity);
  const mean = fr.reduce((a, b) => a + b, 0) / (fr.length || 1);
  const spread = mean > 0 ? Math.max(...fr.map((f) => Math.abs(f - mean))) / mean : 0;
  return { mean, spread };
}

function planCluster(
  storage: StorageCatalog,
  cluster: string,
  threshold: number,
): { moves: Move[]; before: number; after: number } {
  const devices: DevState[] = storage
    .devicesOfCluster(cluster)
    .filter((d) => d.status === 'ACTIVE' && d.node_status === 'ONLINE')
    .map((d) => ({
      id: d.id,
      node: d.node_name,
      path: d.path,
      capacity: d.capacity_bytes,
      used: d.used_bytes,
    }));
  const before = imbalance(devices).spread;
  if (devices.length < 2) return { moves: [], before, after: before };
  const segs = storage.segmentsForCheck({ cluster }).filter((s) => s.status === 'INTACT');
  const onDevice = new Map<string, typeof segs>();
  const nodesOfGroup = new Map<number, Map<string, number>>();
  for (const s of segs) {
    onDevice.set(s.device_id, [...(onDevice.get(s.device_id) ?? []), s]);
    const m = nodesOfGroup.get(s.segment_group_id) ?? new Map<string, number>();
    m.set(s.node_name, (m.get(s.node_name) ?? 0) + 1);
    nodesOfGroup.set(s.segment_group_id, m);
  }
  const frac = (d: DevState) => d.used / d.capacity;
  const moves: Move[] = [];
  const full = new Set<string>();
  while (moves.length < MAX_MOVES) {
    const { spread } = imbalance(devices);
    if (spread <= threshold) break;
    const dest = devices.filter((d) => !full.has(d.id)).sort((a, b) => frac(a) - frac(b))[0];
    if (!dest) break;
    let moved = false;
    for (const src of [...devices].sort((a, b) => frac(b) - frac(a))) {
      if (src.id === dest.id || frac(src) <= frac(dest)) break;
      const list = onDevice.get(src.id) ?? [];
      const i = list.findIndex((s) => {
        const nodes = nodesOfGroup.get(s.segment_group_id)!;
        // allowed when the destination node holds no segment of the group, or only this one
        const onDestNode = nodes.get(dest.node) ?? 0;
        const ok = onDestNode === 0 || (dest.node === src.node && onDestNode === 1);
        // and the move narrows the gap between the two devices without reversing it (so the plan terminates:
        // every move strictly lowers the sum of squared usages)
        const srcAfter = (src.used - s.size_bytes) / src.capacity;
        const destAfter = (dest.used + s.size_bytes) / dest.capacity;
        return ok && destAfter <= srcAfter;
      });
      if (i < 0) continue;
      const [s] = list.splice(i, 1);
      onDevice.set(dest.id, [
        ...(onDevice.get(dest.id) ?? []),
        { ...s, device_id: dest.id, node_name: dest.node },
      ]);
      const nodes = nodesOfGroup.get(s.segment_group_id)!;
      nodes.set(src.node, (nodes.get(src.node) ?? 1) - 1);
      nodes.set(dest.node, (nodes.get(dest.node) ?? 0) + 1);
      src.used -= s.size_bytes;
      dest.used += s.size_bytes;
      moves.push({
        storage_id: s.storage_id,
        group: s.segment_group_id,
        from: src.id,
        to: dest.id,
        bytes: s.size_bytes,
      });
      moved = true;
      break;
    }
    if (!moved) full.add(dest.id);
  }
  return { moves, before, after: imbalance(devices).spread };
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

  plan(input) {
    const { storage, location, options } = input;
    if (location.type === 'CLUSTER' && !storage.cluster(location.name!))
      throw new TaskError('42704', `cluster "${location.name}" does not exist`);
    const clusters = location.type === 'CLUSTER' ? [location.name!] : storage.clusters().map((c) => c.name);
    const subtasks: PlannedSubtask<RebalancePlan>[] = [];
    for (const cluster of clusters) {
      const { moves, before, after } = planCluster(storage, cluster, options.threshold);
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
      for (let i = 0; i < moves.length; i += MOVES_PER_SUBTASK) {
        const batch = moves.slice(i, i + MOVES_PER_SUBTASK);
        subtasks.push({
          node_name: null,
          cluster_name: cluster,
          device_id: null,
          description: `move ${batch.length} segment(s) in cluster ${cluster} (${i + 1}-${i + batch.length} of ${moves.length})`,
          bytes_total: batch.reduce((s, m) => s + m.bytes, 0),
          segments_total: batch.length,
          plan: { cluster, moves: batch, before, after },
        });
      }
    }
    return subtasks;
  },

  async run({ task, plan }, ctx) {
    for (const mv of plan.moves) {
      if (ctx.signal.aborted) return;
      if (!ctx.locks.tryLock([mv.group], task.id)) {
        ctx.result(
          segmentRow(
            { storage_id: mv.storage_id, segment_group_id: mv.group, node_name: null, device_id: mv.from },
            null,
            'SKIPPED',
            'another task is changing this group',
          ),
        );
        ctx.progress({ segments: 1, bytes: mv.bytes });
        continue;
      }
      try {
        await moveSegment(ctx, mv);
      } finally {
        ctx.locks.unlock([mv.group], task.id);
      }
    }
  },

  summary(_task, { threshold }, storage, plans) {
    const clusters = new Map<string, { before: number; planned: number }>();
    for (const p of plans) {
      if (!clusters.has(p.cluster)) clusters.set(p.cluster, { before: p.before, planned: p.after });
    }
    return [...clusters].map(([cluster, { before }]) => {
      const devs = storage
        .devicesOfCluster(cluster)
        .filter((d) => d.status === 'ACTIVE' && d.node_status === 'ONLINE')
        .map((d) => ({ used: d.used_bytes, capacity: d.capacity_bytes }));
      const now = imbalance(devs).spread;
      return {
        node_name: null,
        device_id: null,
        table_id: null,
        segment_group_id: null,
        storage_id: null,
        result: 'BALANCE',
        detail:
          `cluster ${cluster}: largest deviation from the mean usage ${(before * 100).toFixed(1)}% before, ${(now * 100).toFixed(1)}% after` +
          (now > threshold
            ? `; the threshold of ${(threshold * 100).toFixed(0)}% cannot be reached without two segments of a group on one node (add nodes, not only disks)`
            : ''),
      };
    });
  },
});

async function moveSegment(ctx: RunContext, mv: Move): Promise<void> {
  const { storage } = ctx;
  const seg = storage.segment(mv.storage_id);
  // Already moved (a rerun after a crash), or changed by someone else since the plan: nothing to do.
  if (!seg || seg.device_id !== mv.from || seg.status !== 'INTACT') {
    ctx.progress({ segments: 1, bytes: mv.bytes });
    return;
  }
  const dest = storage.device(mv.to);
  const group = storage.group(seg.segment_group_id)!;
  const others = storage.segmentsOfGroup(group.id).filter((s) => s.storage_id !== seg.storage_id);
  if (
    dest?.status !== 'ACTIVE' ||
    storage.node(dest.node_name)?.status !== 'ONLINE' ||
    others.some((s) => s.node_name === dest.node_name)
  ) {
    ctx.result(segmentRow(seg, group.table_id, 'SKIPPED', 'the destination is no longer suitable'));
    ctx.progress({ segments: 1, bytes: mv.bytes });
    return;
  }
  const payload = Buffer.alloc(group.shard_bytes);
  try {
    await verifySegmentFile(
      seg.path,
      {
        storageId: seg.storage_id,
        groupId: group.id,
        position: seg.position,
        payloadLength: group.shard_bytes,
      },
      { into: payload, signal: ctx.signal },
    );
  } catch (err) {
    if (!(err instanceof SegmentFault)) throw err;
    // Never copy a bad segment: mark it, and leave it for rebuild.
    markFailedSegment(ctx, seg, group.table_id, err, 'not moved');
    ctx.progress({ segments: 1, failed: 1, bytes: mv.bytes });
    return;
  }
  await ctx.throttle(mv.bytes);
  const path = await placeVerifiedSegment(storage, seg, group, dest, payload, ctx.signal);
  ctx.result(
    segmentRow(
      { ...seg, node_name: dest.node_name, device_id: dest.id },
      group.table_id,
      'MOVED',
      `from ${seg.path} to ${path}`,
    ),
  );
  ctx.progress({ segments: 1, bytes: mv.bytes });
}
