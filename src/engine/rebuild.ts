// rebuild: reconstructs DAMAGED and MISSING segments from the rest of their group with Reed-Solomon, writes
// them to healthy disks, verifies them, and marks them INTACT. Never loses a byte: the new file is written to
// a temporary name, fsynced, verified against its checksum, then switched in the catalog, and only then is an
// old file elsewhere removed. One subtask per batch of segment groups, checkpointed per group: the switches
// of a group's rebuilt segments, their REBUILT rows and the count of groups done are one transaction.
import type { Segment, SegmentGroup } from '../../catalog/storage';
import { DeviceUnavailable } from '../store/device-io';
import { coderFor } from '../store/erasure';
import { removeReplaced, switchTo, type VerifiedCopy, writeVerifiedCopy } from '../store/relocate';
import { type FindingKind, fileSizeFor, SegmentFault } from '../store/segment-file';
import { TaskError } from './errors';
import { array, nullable, number, object, string } from './plan-decoder';
import { markFailedSegment, segmentRow } from './results';
import { option } from './task-options';
import {
  defineTaskType,
  isCancellation,
  nodeThroughClusterOption,
  type PlannedSubtask,
  type RunContext,
} from './task-type';

const GROUPS_PER_SUBTASK = 16;
const LOCK_WAIT_MS = 30_000;

/** A batch of segment groups, and the node whose segments alone are rebuilt (null: all of them). */
interface RebuildPlan {
  groups: number[];
  node: string | null;
}

export const rebuild = defineTaskType({
  name: 'rebuild',
  locations: ['SYSTEM', 'CLUSTER'],
  refusedLocationHint: nodeThroughClusterOption('rebuild'),
  options: {
    node: option.string(null, 'only segments on this node'),
    segment_groups: option.intList(null, 'only these segment-group ids'),
    table_id: option.string(null, 'only segment groups of this table'),
  },
  planDecoder: object<RebuildPlan>({ groups: array(number), node: nullable(string) }),

  async plan(input) {
    const { storage, options, location } = input;
    if (location.type === 'CLUSTER' && !(await storage.cluster(location.name!)))
      throw new TaskError('42704', `cluster "${location.name}" does not exist`);
    const node = options.node;
    if (node) {
      const n = await storage.node(node);
      if (!n) throw new TaskError('42704', `node "${node}" does not exist`);
      if (location.type === 'CLUSTER' && n.cluster_name !== location.name) {
        throw new TaskError('22023', `node "${node}" is not in cluster "${location.name}"`);
      }
    }
    const tableId = options.table_id;
    if (tableId && !(await storage.tableById(tableId)))
      throw new TaskError('42704', `table with id "${tableId}" does not exist`, {
        hint: 'See sys.tables for table ids.',
      });
    const groupIds = options.segment_groups;
    if (groupIds) {
      const unknown = await storage.unknownGroupIds(groupIds);
      if (unknown.length) throw new TaskError('42704', `segment group ${unknown[0]} does not exist`);
    }
    const groups = await storage.groupsNeedingRebuild({
      cluster: location.type === 'CLUSTER' ? location.name! : undefined,
      node: node ?? undefined,
      groupIds,
      tableId,
    });
    const subtasks: PlannedSubtask<RebuildPlan>[] = [];
    for (let i = 0; i < groups.length; i += GROUPS_PER_SUBTASK) {
      const batch = groups.slice(i, i + GROUPS_PER_SUBTASK);
      let bytes = 0;
      let segs = 0;
      let cluster: string | null = null;
      for (const id of batch) {
        const g = (await storage.group(id))!;
        cluster = g.cluster_name;
        const lost = (await storage.segmentsOfGroup(id)).filter(
          (s) => s.status !== 'INTACT' && (!node || s.node_name === node),
        );
        // read k survivors, write each lost segment
        bytes += (g.width - g.parity_width) * g.shard_bytes + lost.length * fileSizeFor(g.shard_bytes);
        segs += lost.length;
      }
      subtasks.push({
        node_name: null,
        cluster_name: cluster,
        device_id: null,
        description: `rebuild ${batch.length} segment group(s) ${batch[0]}..${batch[batch.length - 1]}`,
        bytes_total: bytes,
        segments_total: segs,
        plan: { groups: batch, node },
      });
    }
    return subtasks;
  },

  async run({ task, plan, resumeFrom }, ctx) {
    // The checkpoint position is the number of groups of the plan that are done.
    for (let i = resumeFrom ?? 0; i < plan.groups.length; i++) {
      const groupId = plan.groups[i];
      if (ctx.signal.aborted) return;
      const deadline = Date.now() + LOCK_WAIT_MS;
      while (!ctx.locks.tryLock([groupId], task.id)) {
        if (Date.now() > deadline || ctx.signal.aborted) {
          ctx.result({
            node_name: null,
            device_id: null,
            table_id: null,
            segment_group_id: groupId,
            storage_id: null,
            result: 'SKIPPED',
            detail: 'another task is changing this group',
          });
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!ctx.locks.tryLock([groupId], task.id)) {
        await ctx.checkpoint(i + 1);
        continue;
      }
      try {
        await rebuildGroup(ctx, groupId, plan.node, i);
      } finally {
        ctx.locks.unlock([groupId], task.id);
      }
    }
  },

  outcome(_task, results) {
    const lost = results.filter((r) => r.result === 'UNRECOVERABLE').length;
    if (!lost) return null;
    return {
      status: 'FAILED',
      error: `${lost} segment group(s) could not be rebuilt: more segments lost than parity; see sys.result_cache (result = 'UNRECOVERABLE')`,
    };
  },
});

/** Rebuilds one group, the `index`-th of its subtask's plan, and checkpoints it (done: index + 1). */
async function rebuildGroup(
  ctx: RunContext,
  groupId: number,
  nodeFilter: string | null,
  index: number,
): Promise<void> {
  const { storage } = ctx;
  const group = await storage.group(groupId);
  if (!group) return ctx.checkpoint(index + 1);
  const table = await storage.tableById(group.table_id);
  const k = group.width - group.parity_width;
  const m = group.parity_width;
  const S = group.shard_bytes;
  const segs = await storage.segmentsOfGroup(groupId);
  const unhealthy = new Set(segs.filter((s) => s.status !== 'INTACT').map((s) => s.position));
  const targets = segs.filter(
    (s) => unhealthy.has(s.position) && (!nodeFilter || s.node_name === nodeFilter),
  );
  if (!targets.length) return ctx.checkpoint(index + 1);
  const base = { node_name: null, device_id: null, table_id: group.table_id, segment_group_id: groupId };
  const unrecoverable = (why: string) =>
    ctx.result({
      ...base,
      storage_id: null,
      result: 'UNRECOVERABLE',
      detail: `segment group ${groupId} of table "${table?.name ?? group.table_id}": ${why}`,
    });
  if (unhealthy.size > m) {
    unrecoverable(`${unhealthy.size} of ${k + m} segments are lost or damaged, more than its ${m} parity`);
    ctx.progress({ failed: targets.length, segments: targets.length });
    return ctx.checkpoint(index + 1);
  }
  // Where the destinations and every survivor are agents', the destination agents do it (peer to peer).
  const onAgents = await agentDestinations(ctx, group, segs, targets, unhealthy);
  if (onAgents) return rebuildOnAgents(ctx, group, segs, targets, unhealthy, onAgents, index, unrecoverable);
  // Read survivors until there are k good shards; a survivor that fails its checksum is DAMAGED too.
  const data = Buffer.alloc(k * S);
  const parity = Buffer.alloc(m * S);
  const shard = (pos: number) =>
    pos < k ? data.subarray(pos * S, (pos + 1) * S) : parity.subarray((pos - k) * S, (pos - k + 1) * S);
  let good = 0;
  const missing = new Set(unhealthy);
  // Read survivors in waves, all of a wave at once: as many as are still needed, until k are good or none
  // is left. A survivor that fails verification is marked and another one is read in the next wave.
  const candidates = segs.filter((s) => !unhealthy.has(s.position));
  // Counted with the group's checkpoint, so that progress shown is never progress a restart takes back.
  let readBytes = 0;
  const read = new Set<number>();
  const unavailable: string[] = [];
  while (good < k && candidates.length) {
    const wave = candidates.splice(0, k - good);
    const results = await Promise.all(
      wave.map(async (s) =>
        (await ctx.store.io.forNode(s.node_name))
          .readSegment(
            s.path,
            { storageId: s.storage_id, groupId, position: s.position, payloadLength: S },
            { into: shard(s.position), signal: ctx.signal },
          )
          .then(
            () => null,
            (err: unknown) => err,
          ),
      ),
    );
    for (const [w, err] of results.entries()) {
      const s = wave[w];
      if (err === null) {
        good++;
        read.add(s.position);
        continue;
      }
      unhealthy.add(s.position);
      // A survivor whose agent cannot be reached now is not damaged: it is only not read this time.
      if (err instanceof DeviceUnavailable) {
        unavailable.push(err.message);
        continue;
      }
      if (!(err instanceof SegmentFault)) throw err;
      await markFailedSegment(ctx, s, group.table_id, err, 'survivor failed while rebuilding');
    }
    readBytes += S * wave.length;
    await Promise.all(wave.map((s) => ctx.throttle(fileSizeFor(S), s.device_id)));
  }
  // Everything not read is recomputed by the coder (only the targets are written).
  for (const s of segs) if (!read.has(s.position)) missing.add(s.position);
  if (good < k && unavailable.length)
    throw new Error(
      `segment group ${groupId}: only ${good} of the ${k} segments needed could be read, ${unavailable.length} of the others are on devices that cannot be reached now (${unavailable[0]})`,
    );
  if (good < k) {
    unrecoverable(`only ${good} of the ${k} segments needed could be read`);
    ctx.progress({ failed: targets.length, segments: targets.length, bytes: readBytes });
    return ctx.checkpoint(index + 1);
  }
  await coderFor(k, m).reconstruct(
    data,
    parity,
    S,
    [...missing].sort((a, b) => a - b),
  );
  await storage.setSegmentStatus(
    targets.map((t) => ({ storageId: t.storage_id, status: 'REBUILDING' as const })),
  );
  // Destinations are chosen one after another (each choice counts the nodes already taken, including the ones
  // chosen for this group's other targets), then the writes run side by side.
  const occupied = new Set(segs.filter((x) => !targets.includes(x)).map((x) => x.node_name));
  const destinations: Destination[] = [];
  for (const t of targets) {
    const d = await chooseDestination(ctx, group, t, occupied);
    occupied.add(d.dest.node_name);
    destinations.push(d);
  }
  const writes = await Promise.allSettled(
    targets.map((t, i) => writeRebuilt(ctx, group, t, shard(t.position), destinations[i])),
  );
  // A write the abort stopped left no file behind (writeSegmentFile): its segment is as it was.
  const aborted = targets.filter((_, i) => {
    const w = writes[i];
    return w.status === 'rejected' && isCancellation(w.reason, ctx.signal);
  });
  if (aborted.length)
    await storage.setSegmentStatus(aborted.map((t) => ({ storageId: t.storage_id, status: t.status })));
  const failed = writes.find((w) => w.status === 'rejected');
  const copies = writes.flatMap((w) => (w.status === 'fulfilled' ? [w.value] : []));
  ctx.progress({ segments: copies.length, bytes: readBytes + copies.length * fileSizeFor(S) });
  // The verified copies are switched in with their REBUILT rows; the group counts as done only if all of
  // its targets were (else a resumed run takes it again, and finds the switched ones INTACT).
  await ctx.checkpoint(failed ? index : index + 1, async (tx) => {
    for (const c of copies) await switchTo(tx, c);
  });
  await Promise.all(copies.map((c) => removeReplaced(ctx.store.io, c)));
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** A device can take a rebuilt segment now (an agent that cannot be reached counts as no). */
async function usable(ctx: RunContext, d: { node_name: string; path: string }): Promise<boolean> {
  return (await ctx.store.io.forNode(d.node_name)).usable(d.path).catch(() => false);
}

/** Places, writes, verifies and switches one rebuilt segment. */
interface Destination {
  dest: { id: string; node_name: string; path: string };
  reduced: boolean;
}

/**
 * Where a rebuilt segment goes: its own device if healthy; else the emptiest healthy device on a node that
 * holds no other segment of the group (`occupied`); else any healthy device (fault tolerance reduced).
 */
async function chooseDestination(
  ctx: RunContext,
  group: SegmentGroup,
  target: Segment,
  occupied: Set<string>,
): Promise<Destination> {
  const { storage } = ctx;
  const devices = await storage.devicesOfCluster(group.cluster_name);
  const need = fileSizeFor(group.shard_bytes);
  const healthy = (d: (typeof devices)[number]) =>
    d.status === 'ACTIVE' && d.node_status === 'ONLINE' && d.capacity_bytes - d.used_bytes >= need;
  const own = devices.find((d) => d.id === target.device_id);
  let dest = own && healthy(own) && (await usable(ctx, own)) ? own : undefined;
  let reduced = false;
  if (!dest) {
    // Failure domain = node: prefer a node that holds no other segment of this group.
    const taken = occupied;
    const candidates = devices
      .filter((d) => healthy(d) && d.id !== target.device_id)
      .sort((a, b) => b.capacity_bytes - b.used_bytes - (a.capacity_bytes - a.used_bytes));
    for (const d of candidates) {
      if (!taken.has(d.node_name) && (await usable(ctx, d))) {
        dest = d;
        break;
      }
    }
    if (!dest) {
      for (const d of candidates) {
        if (await usable(ctx, d)) {
          dest = d;
          reduced = true;
          break;
        }
      }
    }
  }
  if (!dest)
    throw new Error(
      `no healthy device with ${need} bytes free in cluster ${group.cluster_name} for segment ${target.storage_id}`,
    );
  return { dest, reduced };
}

/** Writes and verifies one rebuilt segment at its chosen destination, and reports it (switched in later). */
async function writeRebuilt(
  ctx: RunContext,
  group: SegmentGroup,
  target: Segment,
  payload: Buffer,
  where: Destination,
): Promise<VerifiedCopy> {
  const { dest } = where;
  const copy = await writeVerifiedCopy(ctx.storage, ctx.store.io, target, group, dest, payload, ctx.signal);
  await ctx.throttle(copy.size, dest.id);
  reportRebuilt(ctx, group, target, copy, where, '');
  return copy;
}

/** The REBUILT row of a verified copy (and FAULT_TOLERANCE_REDUCED when it shares a node with its group). */
function reportRebuilt(
  ctx: RunContext,
  group: SegmentGroup,
  target: Segment,
  copy: VerifiedCopy,
  where: Destination,
  how: string,
): void {
  const { dest, reduced } = where;
  const at = { ...target, node_name: dest.node_name, device_id: dest.id };
  ctx.result(
    segmentRow(
      at,
      group.table_id,
      'REBUILT',
      copy.path === target.path && dest.node_name === target.node_name
        ? `rebuilt in place on ${dest.path}${how}`
        : `rebuilt on node ${dest.node_name} (${dest.path})${how}; was on node ${target.node_name}`,
    ),
  );
  if (reduced) {
    ctx.result(
      segmentRow(
        at,
        group.table_id,
        'FAULT_TOLERANCE_REDUCED',
        `no node without another segment of group ${group.id} had room: node ${dest.node_name} now holds two of its segments`,
      ),
    );
  }
}

/**
 * The destinations of a group's targets when the rebuild can run on the destination agents: every survivor
 * and every destination is on an agent. Null otherwise (the coordinator reads and reconstructs).
 */
async function agentDestinations(
  ctx: RunContext,
  group: SegmentGroup,
  segs: Segment[],
  targets: Segment[],
  unhealthy: Set<number>,
): Promise<Destination[] | null> {
  const { storage } = ctx;
  for (const s of segs)
    if (!unhealthy.has(s.position) && !(await storage.nodeAddress(s.node_name))) return null;
  const occupied = new Set(segs.filter((x) => !targets.includes(x)).map((x) => x.node_name));
  const destinations: Destination[] = [];
  for (const t of targets) {
    const d = await chooseDestination(ctx, group, t, occupied);
    if (!(await ctx.store.io.forNode(d.dest.node_name)).rebuildFromPeers) return null;
    occupied.add(d.dest.node_name);
    destinations.push(d);
  }
  return destinations;
}

/**
 * Rebuild on the destination agents: each pulls k survivors from its peers, reconstructs its target, writes it
 * durably and verifies it; the coordinator marks the survivors the agents found faulty, then switches the
 * copies in with the group's checkpoint, as the other path does.
 */
async function rebuildOnAgents(
  ctx: RunContext,
  group: SegmentGroup,
  segs: Segment[],
  targets: Segment[],
  unhealthy: Set<number>,
  destinations: Destination[],
  index: number,
  unrecoverable: (why: string) => void,
): Promise<void> {
  const { storage } = ctx;
  const k = group.width - group.parity_width;
  const S = group.shard_bytes;
  const survivors = segs.filter((s) => !unhealthy.has(s.position));
  const addresses = new Map<string, string | null>();
  for (const s of survivors) addresses.set(s.node_name, await storage.nodeAddress(s.node_name));
  await storage.setSegmentStatus(
    targets.map((t) => ({ storageId: t.storage_id, status: 'REBUILDING' as const })),
  );
  const outcomes = await Promise.allSettled(
    targets.map(async (t, i) => {
      const d = destinations[i].dest;
      return (await ctx.store.io.forNode(d.node_name)).rebuildFromPeers!(
        {
          target: {
            device: d.path,
            device_id: d.id,
            storage_id: t.storage_id,
            group: group.id,
            position: t.position,
            parity: t.position >= k,
          },
          k,
          m: group.parity_width,
          shard_bytes: S,
          survivors: survivors.map((s) => ({
            address: s.node_name === d.node_name ? null : (addresses.get(s.node_name) ?? null),
            path: s.path,
            storage_id: s.storage_id,
            position: s.position,
          })),
        },
        ctx.signal,
      );
    }),
  );
  const marked = new Set<string>();
  for (const o of outcomes) {
    if (o.status !== 'fulfilled') continue;
    for (const f of o.value.faults) {
      const s = survivors.find((x) => x.storage_id === f.storage_id);
      if (!s || marked.has(f.storage_id)) continue;
      marked.add(f.storage_id);
      await markFailedSegment(
        ctx,
        s,
        group.table_id,
        new SegmentFault(f.kind as FindingKind, f.message, f.block),
        'survivor failed while rebuilding',
      );
    }
  }
  const copies: VerifiedCopy[] = [];
  const notDone: Segment[] = [];
  let failed: unknown = null;
  let tooFew: string | null = null;
  for (const [i, o] of outcomes.entries()) {
    const t = targets[i];
    if (o.status === 'rejected') {
      failed ??= o.reason;
      notDone.push(t);
      continue;
    }
    const r = o.value;
    if (!r.ok) {
      notDone.push(t);
      if (r.unavailable.length)
        failed ??= new Error(
          `segment group ${group.id}: only ${r.read.length} of the ${k} segments needed could be read, ${r.unavailable.length} of the others are on devices that cannot be reached now (${r.unavailable[0]})`,
        );
      else tooFew = `only ${r.read.length} of the ${k} segments needed could be read`;
      continue;
    }
    const copy: VerifiedCopy = {
      seg: t,
      dest: destinations[i].dest,
      path: r.path!,
      size: r.size!,
      checksum: r.checksum!,
    };
    await ctx.throttle(copy.size, copy.dest.id);
    reportRebuilt(ctx, group, t, copy, destinations[i], ', on its agent from the survivors on its peers');
    copies.push(copy);
  }
  if (notDone.length)
    await storage.setSegmentStatus(notDone.map((t) => ({ storageId: t.storage_id, status: t.status })));
  if (tooFew && !failed && !copies.length) {
    unrecoverable(tooFew);
    ctx.progress({ failed: targets.length, segments: targets.length });
    return ctx.checkpoint(index + 1);
  }
  ctx.progress({ segments: copies.length, bytes: copies.length * (k * S + fileSizeFor(S)) });
  await ctx.checkpoint(failed || notDone.length ? index : index + 1, async (tx) => {
    for (const c of copies) await switchTo(tx, c);
  });
  await Promise.all(copies.map((c) => removeReplaced(ctx.store.io, c)));
  if (failed) throw failed;
}
