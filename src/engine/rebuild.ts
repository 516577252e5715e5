// rebuild: reconstructs DAMAGED and MISSING segments from the rest of their group with Reed-Solomon, writes
// them to healthy disks, and marks them INTACT. Never loses a byte (store/relocate.ts, docs/durability.md): a
// rebuilt payload must hash to the segment's checksum in the catalog before it is written, the new file is
// written through its node's device I/O and made durable with its batch, then switched in the catalog, and
// only then is an old file elsewhere removed. One subtask per run of segment groups, checkpointed per batch of
// groups (copy-batches.ts): the switches of the batch's rebuilt segments, their REBUILT rows and the count of
// groups done are one transaction, and the batch's files and directories are synced once, together.
import type { Segment, SegmentGroup } from '../../catalog/storage';
import { BufferPool } from '../store/buffer-pool';
import { DeviceUnavailable } from '../store/device-io';
import { coderFor } from '../store/erasure';
import type { CopyBatch, VerifiedCopy } from '../store/relocate';
import { type FindingKind, fileSizeFor, SegmentFault } from '../store/segment-file';
import { copyInBatches, evenShare, noTally, type PreparedItem, type Row, readAhead } from './copy-batches';
import { TaskError } from './errors';
import { array, nullable, number, object, string } from './plan-decoder';
import { markFailedSegment, segmentRow } from './results';
import { option } from './task-options';
import { defineTaskType, nodeThroughClusterOption, type PlannedSubtask, type RunContext } from './task-type';

/** About this many groups per subtask at most (evenShare). */
const GROUPS_PER_SUBTASK = 64;
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
    const size = evenShare(groups.length, GROUPS_PER_SUBTASK, options.parallelism);
    for (let i = 0; i < groups.length; i += size) {
      const batch = groups.slice(i, i + size);
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

  async run({ task, plan, options, resumeFrom }, ctx) {
    // The checkpoint position is the number of groups of the plan that are done.
    const depth = readAhead(options.max_bytes_per_sec);
    // Every group read ahead holds its buffers, and one more is being written: kept for the next groups
    // instead of freed and allocated again (each new buffer is fresh pages the kernel faults in and zeroes).
    // In shared memory, so that the writer thread writes the rebuilt copies from them (device-io.ts).
    const buffers = new BufferPool(depth + 1, true);
    await copyInBatches(ctx, task.id, plan.groups.length, resumeFrom ?? 0, depth, (i) =>
      prepareGroup(ctx, task.id, plan, i, buffers),
    );
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

/**
 * Locks the `index`-th group of the plan, reads its survivors and rebuilds the payloads of its targets in
 * memory (or, when its survivors are all on agents, leaves that to its write: the destination agents may do
 * it from their peers). Findings about survivors are reported at once (their status changes at once); the
 * rest waits for the batch's checkpoint in `outcomes`. The lock is kept (`locked`) until then.
 */
async function prepareGroup(
  ctx: RunContext,
  taskId: string,
  plan: RebuildPlan,
  index: number,
  buffers: BufferPool,
): Promise<PreparedItem> {
  const groupId = plan.groups[index];
  const out: PreparedItem = { index, locked: [], tally: noTally(), outcomes: [] };
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!ctx.locks.tryLock([groupId], taskId)) {
    if (Date.now() > deadline || ctx.signal.aborted) {
      out.outcomes.push({
        node_name: null,
        device_id: null,
        table_id: null,
        segment_group_id: groupId,
        storage_id: null,
        result: 'SKIPPED',
        detail: 'another task is changing this group',
      });
      return out;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  out.locked = [groupId];
  try {
    await planGroup(ctx, plan.node, groupId, out, buffers);
    return out;
  } catch (err) {
    ctx.locks.unlock([groupId], taskId);
    throw err;
  }
}

/** A group to rebuild: its segments, the ones written (targets), and the positions not to read. */
interface LostGroup {
  group: SegmentGroup;
  segs: Segment[];
  targets: Segment[];
  unhealthy: Set<number>;
  unrecoverable: (why: string) => void;
}

async function planGroup(
  ctx: RunContext,
  nodeFilter: string | null,
  groupId: number,
  out: PreparedItem,
  buffers: BufferPool,
): Promise<void> {
  const { storage } = ctx;
  const group = await storage.group(groupId);
  if (!group) return;
  const table = await storage.tableById(group.table_id);
  const k = group.width - group.parity_width;
  const m = group.parity_width;
  const segs = await storage.segmentsOfGroup(groupId);
  const unhealthy = new Set(segs.filter((s) => s.status !== 'INTACT').map((s) => s.position));
  const targets = segs.filter(
    (s) => unhealthy.has(s.position) && (!nodeFilter || s.node_name === nodeFilter),
  );
  if (!targets.length) return;
  const unrecoverable = (why: string) =>
    out.outcomes.push({
      node_name: null,
      device_id: null,
      table_id: group.table_id,
      segment_group_id: groupId,
      storage_id: null,
      result: 'UNRECOVERABLE',
      detail: `segment group ${groupId} of table "${table?.name ?? group.table_id}": ${why}`,
    });
  if (unhealthy.size > m) {
    unrecoverable(`${unhealthy.size} of ${k + m} segments are lost or damaged, more than its ${m} parity`);
    out.tally = { bytes: 0, segments: targets.length, failed: targets.length };
    return;
  }
  const lost: LostGroup = { group, segs, targets, unhealthy, unrecoverable };
  // Where every survivor is an agent's, the destination agents may do it all (peer to peer): decided when
  // the destinations are chosen, with the batch's.
  let allOnAgents = true;
  for (const s of segs)
    if (!unhealthy.has(s.position) && !(await storage.nodeAddress(s.node_name))) allOnAgents = false;
  if (allOnAgents) {
    out.write = async (batch) => {
      const onAgents = await agentDestinations(ctx, lost, batch.reserved);
      if (onAgents) return rebuildOnAgents(ctx, batch, out, lost, onAgents);
      await (await readAndDecode(ctx, lost, out, buffers))?.(batch);
    };
    return;
  }
  out.write = (await readAndDecode(ctx, lost, out, buffers)) ?? undefined;
}

/**
 * Reads survivors until there are k good shards (a survivor that fails its checksum is DAMAGED too) and
 * reconstructs the targets' payloads. Returns what writes them, or null when the group cannot be rebuilt.
 */
async function readAndDecode(
  ctx: RunContext,
  lost: LostGroup,
  out: PreparedItem,
  buffers: BufferPool,
): Promise<((batch: CopyBatch) => Promise<void>) | null> {
  const { group, segs, targets, unrecoverable } = lost;
  const unhealthy = new Set(lost.unhealthy);
  const groupId = group.id;
  const k = group.width - group.parity_width;
  const m = group.parity_width;
  const S = group.shard_bytes;
  // Every byte of both is either read (and verified) or recomputed by the coder before anything uses it.
  const data = buffers.take(k * S);
  const parity = buffers.take(m * S);
  const release = () => {
    buffers.give(data);
    buffers.give(parity);
  };
  const shard = (pos: number) =>
    pos < k ? data.subarray(pos * S, (pos + 1) * S) : parity.subarray((pos - k) * S, (pos - k + 1) * S);
  let good = 0;
  const missing = new Set(unhealthy);
  // Read survivors in waves, all of a wave at once: as many as are still needed, until k are good or none
  // is left. A survivor that fails verification is marked and another one is read in the next wave.
  const candidates = segs.filter((s) => !unhealthy.has(s.position));
  // Counted with the batch's checkpoint, so that progress shown is never progress a restart takes back.
  let readBytes = 0;
  const read = new Set<number>();
  const unavailable: string[] = [];
  try {
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
    if (good < k && unavailable.length)
      throw new Error(
        `segment group ${groupId}: only ${good} of the ${k} segments needed could be read, ${unavailable.length} of the others are on devices that cannot be reached now (${unavailable[0]})`,
      );
    if (good < k) {
      unrecoverable(`only ${good} of the ${k} segments needed could be read`);
      out.tally = { bytes: readBytes, segments: targets.length, failed: targets.length };
      release();
      return null;
    }
    // Everything not read is recomputed by the coder (only the targets are written).
    for (const s of segs) if (!read.has(s.position)) missing.add(s.position);
    await coderFor(k, m).reconstruct(
      data,
      parity,
      S,
      [...missing].sort((a, b) => a - b),
    );
  } catch (err) {
    release();
    throw err;
  }
  out.tally.bytes = readBytes;
  const payloads = targets.map((t) => shard(t.position));
  return (batch) => writeGroup(ctx, batch, out, lost, payloads).finally(release);
}

/**
 * Chooses where each target of a prepared group goes, marks them REBUILDING, and writes their copies into the
 * batch, all of them or none. An abort puts the targets back as they were; the result rows go to the
 * group's outcomes, to be reported with its switch.
 */
async function writeGroup(
  ctx: RunContext,
  batch: CopyBatch,
  g: PreparedItem,
  lost: LostGroup,
  payloads: Buffer[],
): Promise<void> {
  const { storage } = ctx;
  const { group, segs, targets } = lost;
  await storage.setSegmentStatus(
    targets.map((t) => ({ storageId: t.storage_id, status: 'REBUILDING' as const })),
  );
  // Destinations are chosen one after another (each choice counts the nodes already taken, including the ones
  // chosen for this group's other targets), then the writes run side by side.
  const occupied = new Set(segs.filter((x) => !targets.includes(x)).map((x) => x.node_name));
  const destinations: Destination[] = [];
  let copies: VerifiedCopy[];
  try {
    for (const t of targets) {
      const d = await chooseDestination(ctx, group, t, occupied, batch.reserved);
      occupied.add(d.dest.node_name);
      destinations.push(d);
    }
    copies = await batch.addGroup(
      targets.map((t, i) => ({ seg: t, group, dest: destinations[i].dest, payload: payloads[i] })),
      ctx.signal,
    );
  } catch (err) {
    // The group's copies are all removed (or, written in place, left to a segment still not INTACT): its
    // targets are as they were.
    await storage.setSegmentStatus(targets.map((t) => ({ storageId: t.storage_id, status: t.status })));
    throw err;
  }
  await Promise.all(copies.map((c) => ctx.throttle(c.size, c.dest.id))); // ends early on an abort
  for (const [i, copy] of copies.entries())
    g.outcomes.push(...rebuiltRows(group, targets[i], copy, destinations[i], ''));
  g.tally.segments += copies.length;
  g.tally.bytes += copies.length * fileSizeFor(group.shard_bytes);
}

/**
 * A device can take a rebuilt segment now. An agent that cannot be reached (DeviceUnavailable) counts as no;
 * any other error is not the device's state but a fault (the catalog, a bug) and fails the choice.
 */
async function usable(ctx: RunContext, d: { node_name: string; path: string }): Promise<boolean> {
  try {
    return await (await ctx.store.io.forNode(d.node_name)).usable(d.path);
  } catch (err) {
    if (err instanceof DeviceUnavailable) return false;
    throw err;
  }
}

/** Where one rebuilt segment goes, and whether it shares a node with another segment of its group. */
interface Destination {
  dest: { id: string; node_name: string; path: string };
  reduced: boolean;
}

/**
 * Where a rebuilt segment goes: its own device if healthy; else the emptiest healthy device on a node that
 * holds no other segment of the group (`occupied`); else any healthy device (fault tolerance reduced).
 * Exported for its unit test.
 */
export async function chooseDestination(
  ctx: RunContext,
  group: SegmentGroup,
  target: Segment,
  occupied: Set<string>,
  reserved: ReadonlyMap<string, number>,
): Promise<Destination> {
  const { storage } = ctx;
  const devices = await storage.devicesOfCluster(group.cluster_name);
  const need = fileSizeFor(group.shard_bytes);
  // What a device has free counts the copies this batch wrote there and has not switched in yet.
  const free = (d: (typeof devices)[number]) => d.capacity_bytes - d.used_bytes - (reserved.get(d.id) ?? 0);
  const healthy = (d: (typeof devices)[number]) =>
    d.status === 'ACTIVE' && d.node_status === 'ONLINE' && free(d) >= need;
  const own = devices.find((d) => d.id === target.device_id);
  let dest = own && healthy(own) && (await usable(ctx, own)) ? own : undefined;
  let reduced = false;
  if (!dest) {
    // Failure domain = node: prefer a node that holds no other segment of this group.
    const candidates = devices
      .filter((d) => healthy(d) && d.id !== target.device_id)
      .sort((a, b) => free(b) - free(a));
    for (const d of candidates) {
      if (!occupied.has(d.node_name) && (await usable(ctx, d))) {
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

/** The REBUILT row of a copy (and FAULT_TOLERANCE_REDUCED when it shares a node with its group). */
function rebuiltRows(
  group: SegmentGroup,
  target: Segment,
  copy: VerifiedCopy,
  where: Destination,
  how: string,
): Row[] {
  const { dest, reduced } = where;
  const at = { ...target, node_name: dest.node_name, device_id: dest.id };
  const rows = [
    segmentRow(
      at,
      group.table_id,
      'REBUILT',
      copy.path === target.path && dest.node_name === target.node_name
        ? `rebuilt in place on ${dest.path}${how}`
        : `rebuilt on node ${dest.node_name} (${dest.path})${how}; was on node ${target.node_name}`,
    ),
  ];
  if (reduced)
    rows.push(
      segmentRow(
        at,
        group.table_id,
        'FAULT_TOLERANCE_REDUCED',
        `no node without another segment of group ${group.id} had room: node ${dest.node_name} now holds two of its segments`,
      ),
    );
  return rows;
}

/**
 * The destinations of a group's targets when the rebuild can run on the destination agents (every survivor
 * is on an agent, checked by the caller, and so is every destination). Null otherwise (the coordinator reads
 * and reconstructs).
 */
async function agentDestinations(
  ctx: RunContext,
  lost: LostGroup,
  reserved: ReadonlyMap<string, number>,
): Promise<Destination[] | null> {
  const { group, segs, targets } = lost;
  const occupied = new Set(segs.filter((x) => !targets.includes(x)).map((x) => x.node_name));
  const destinations: Destination[] = [];
  for (const t of targets) {
    const d = await chooseDestination(ctx, group, t, occupied, reserved);
    if (!(await ctx.store.io.forNode(d.dest.node_name)).rebuildFromPeers) return null;
    occupied.add(d.dest.node_name);
    destinations.push(d);
  }
  return destinations;
}

/**
 * Rebuild on the destination agents: each pulls k survivors from its peers, reconstructs its target, writes it
 * durably and verifies it; the coordinator marks the survivors the agents found faulty, and adds the copies to
 * the batch, to be switched in with its checkpoint as the other path's are. A group whose agents could not all
 * do it keeps nothing of it (its copies elsewhere are removed) and fails the batch after what came before.
 */
async function rebuildOnAgents(
  ctx: RunContext,
  batch: CopyBatch,
  out: PreparedItem,
  lost: LostGroup,
  destinations: Destination[],
): Promise<void> {
  const { storage } = ctx;
  const { group, segs, targets, unhealthy } = lost;
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
            checksum: t.checksum ?? undefined,
          },
          durable: false,
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
  const copies: { copy: VerifiedCopy; where: Destination }[] = [];
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
    copies.push({ copy, where: destinations[i] });
  }
  if (failed) {
    await Promise.all(
      copies
        .filter(({ copy: c }) => c.path !== c.seg.path || c.dest.node_name !== c.seg.node_name)
        .map(async ({ copy: c }) =>
          (await ctx.store.io.forNode(c.dest.node_name)).remove([c.path]).catch(() => {}),
        ),
    );
    await storage.setSegmentStatus(targets.map((t) => ({ storageId: t.storage_id, status: t.status })));
    throw failed;
  }
  if (notDone.length)
    await storage.setSegmentStatus(notDone.map((t) => ({ storageId: t.storage_id, status: t.status })));
  if (tooFew && !copies.length) {
    lost.unrecoverable(tooFew);
    out.tally = { bytes: 0, segments: targets.length, failed: targets.length };
    return;
  }
  // Written with durable = false: synced with the batch (one POST /v1/sync per agent) before the switch.
  for (const { copy } of copies) batch.addPending(await ctx.store.io.forNode(copy.dest.node_name), [copy]);
  await Promise.all(copies.map(({ copy }) => ctx.throttle(copy.size, copy.dest.id)));
  for (const { copy, where } of copies)
    out.outcomes.push(
      ...rebuiltRows(group, copy.seg, copy, where, ', on its agent from the survivors on its peers'),
    );
  out.tally.segments += copies.length;
  out.tally.bytes += copies.length * (k * S + fileSizeFor(S));
}
