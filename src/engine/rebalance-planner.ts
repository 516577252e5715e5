// The rebalance planner, on a plain model of a cluster (devices with capacity and usage, the segments on them):
// which moves bring every device's used fraction within `threshold` of the cluster's mean, never putting two
// segments of a group on one node. Devices of different sizes are balanced by the fraction they use; the mean
// is the cluster's (total used / total capacity), which no move changes.
//
// A move is allowed when the destination is another device with room for the segment, on a node that holds
// no segment of the group or on the segment's own node (a move between the disks of a node keeps the failure
// domain as it is). A move is taken only if it narrows the gap between its two devices (the source stays
// above where the destination ends, less than the gap): that is exactly when sum(used^2 / capacity) falls,
// so the plan cannot cycle and ends. It ends when every device is within the threshold, or when no allowed
// move narrows the gap between a device outside the threshold and any other device; `explain` then says
// which constraint keeps which device outside.

export interface PlanDevice {
  id: string;
  node: string;
  /** How messages name the device (its path). */
  label: string;
  capacity: number;
  used: number;
}

export interface PlanSegment {
  storage_id: string;
  group: number;
  device: string;
  bytes: number;
}

export interface PlannedMove {
  storage_id: string;
  group: number;
  from: string;
  to: string;
  bytes: number;
}

/** The part of a device's usage the mean does not explain, relative to the mean (0.1 = 10% off the mean). */
export function spread(devices: readonly { used: number; capacity: number }[]): number {
  const mean = meanFraction(devices);
  if (!(mean > 0)) return 0;
  return Math.max(0, ...devices.map((d) => Math.abs(d.used / d.capacity - mean))) / mean;
}

export function meanFraction(devices: readonly { used: number; capacity: number }[]): number {
  const cap = devices.reduce((s, d) => s + d.capacity, 0);
  return cap > 0 ? devices.reduce((s, d) => s + d.used, 0) / cap : 0;
}

interface Dev extends PlanDevice {
  segs: PlanSegment[];
}

/** A cluster's layout while moves are planned on it. */
export class Layout {
  readonly devices: Dev[];
  private readonly byId = new Map<string, Dev>();
  /** Per group, how many of its segments each node holds. */
  private readonly nodesOfGroup = new Map<number, Map<string, number>>();
  readonly mean: number;

  constructor(devices: readonly PlanDevice[], segments: readonly PlanSegment[]) {
    this.devices = devices.filter((d) => d.capacity > 0).map((d) => ({ ...d, segs: [] }));
    for (const d of this.devices) this.byId.set(d.id, d);
    for (const s of segments) {
      const d = this.byId.get(s.device);
      if (!d) continue;
      d.segs.push({ ...s });
      this.count(s.group, d.node, 1);
    }
    this.mean = meanFraction(this.devices);
  }

  private count(group: number, node: string, delta: number): void {
    const m = this.nodesOfGroup.get(group) ?? new Map<string, number>();
    m.set(node, (m.get(node) ?? 0) + delta);
    this.nodesOfGroup.set(group, m);
  }

  fraction(d: PlanDevice): number {
    return d.used / d.capacity;
  }

  /**
   * Whether the device is farther from the mean than the threshold (plus `slack` bytes of it). A device on
   * the boundary itself counts as outside, so that rounding never leaves one a hair beyond it.
   */
  outside(d: PlanDevice, threshold: number, slack = 0): boolean {
    const limit = threshold * this.mean + slack / d.capacity;
    return Math.abs(this.fraction(d) - this.mean) >= limit * (1 - 1e-9);
  }

  /** Why `seg` may not go from `src` to `dest`, or null when the move is allowed. */
  refusal(seg: PlanSegment, src: Dev, dest: Dev): 'same device' | 'room' | 'failure domain' | null {
    if (src.id === dest.id) return 'same device';
    if (dest.capacity - dest.used < seg.bytes) return 'room';
    const onDest = this.nodesOfGroup.get(seg.group)?.get(dest.node) ?? 0;
    if (onDest > 0 && dest.node !== src.node) return 'failure domain';
    return null;
  }

  /** Whether moving `bytes` from src to dest narrows the gap between their used fractions. */
  narrows(bytes: number, src: PlanDevice, dest: PlanDevice): boolean {
    const gap = this.fraction(src) - this.fraction(dest);
    const step = bytes / src.capacity + bytes / dest.capacity;
    return gap > 0 && step < 2 * gap && 2 * gap - step > 1e-9 * step;
  }

  /** An allowed segment of src whose move to dest narrows their gap. */
  private movable(src: Dev, dest: Dev): PlanSegment | undefined {
    if (!(this.fraction(src) > this.fraction(dest))) return undefined;
    return src.segs.find((s) => this.refusal(s, src, dest) === null && this.narrows(s.bytes, src, dest));
  }

  /**
   * The next move: for the device farthest outside the threshold first, from it to the least used device
   * that can take one of its segments (or, for a device below the mean, into it from the most used). Null
   * when no device is outside, or none of those outside has a move that narrows a gap.
   */
  nextMove(threshold: number): PlannedMove | null {
    const out = this.devices
      .filter((d) => this.outside(d, threshold))
      .sort((a, b) => Math.abs(this.fraction(b) - this.mean) - Math.abs(this.fraction(a) - this.mean));
    if (!out.length) return null;
    const ascending = [...this.devices].sort((a, b) => this.fraction(a) - this.fraction(b));
    for (const x of out) {
      const over = this.fraction(x) > this.mean;
      for (const y of over ? ascending : [...ascending].reverse()) {
        const [src, dest] = over ? [x, y] : [y, x];
        if (!(this.fraction(src) > this.fraction(dest))) break;
        const seg = this.movable(src, dest);
        if (seg)
          return {
            storage_id: seg.storage_id,
            group: seg.group,
            from: src.id,
            to: dest.id,
            bytes: seg.bytes,
          };
      }
    }
    return null;
  }

  apply(m: PlannedMove): void {
    const src = this.byId.get(m.from)!;
    const dest = this.byId.get(m.to)!;
    const i = src.segs.findIndex((s) => s.storage_id === m.storage_id);
    const [seg] = src.segs.splice(i, 1);
    dest.segs.push({ ...seg, device: dest.id });
    this.count(seg.group, src.node, -1);
    this.count(seg.group, dest.node, 1);
    src.used -= seg.bytes;
    dest.used += seg.bytes;
  }

  spread(): number {
    return spread(this.devices);
  }

  /**
   * For every device outside the threshold plus one segment (the granularity of a move), which constraint
   * keeps it there: one sentence per device, empty when every device is within.
   */
  explain(threshold: number): string[] {
    const pct = (f: number) => `${(f * 100).toFixed(2)}%`;
    const out: string[] = [];
    for (const x of this.devices) {
      const largest = Math.max(0, ...this.devices.flatMap((d) => d.segs.map((s) => s.bytes)));
      if (!this.outside(x, threshold, largest)) continue;
      const over = this.fraction(x) > this.mean;
      const others = this.devices.filter((y) =>
        over ? this.fraction(y) < this.fraction(x) : this.fraction(y) > this.fraction(x),
      );
      const why = { room: 0, 'failure domain': 0, granularity: 0, empty: 0 };
      for (const y of others) {
        const [src, dest] = over ? [x, y] : [y, x];
        if (!src.segs.length) {
          why.empty++;
          continue;
        }
        const refusals = src.segs.map((s) => this.refusal(s, src, dest));
        if (refusals.every((r) => r === 'room')) why.room++;
        else if (refusals.every((r) => r !== null)) why['failure domain']++;
        else why.granularity++;
      }
      const parts = [
        why['failure domain'] &&
          (over
            ? `${why['failure domain']} could take none of its segments: their node already holds a segment of the same group`
            : `${why['failure domain']} have no segment it could take: its node already holds a segment of each of their groups`) +
            ' (failure domain: node)',
        why.room && `${why.room} have no room for a segment`,
        why.granularity && `${why.granularity} are closer to it than one segment's size`,
        why.empty && `${why.empty} hold no segment of this cluster to move`,
      ].filter(Boolean);
      out.push(
        `device ${x.label} of node ${x.node} uses ${pct(this.fraction(x))} against a mean of ${pct(this.mean)}: ` +
          (others.length
            ? `of the ${others.length} device(s) ${over ? 'less' : 'more'} used, ${parts.join('; ')}`
            : 'no device is on the other side of the mean'),
      );
    }
    return out;
  }
}

/** Plans the moves of one cluster; `before` and `after` are the spreads (see `spread`). */
export function planMoves(
  devices: readonly PlanDevice[],
  segments: readonly PlanSegment[],
  threshold: number,
  maxMoves = 100_000,
): { moves: PlannedMove[]; before: number; after: number; layout: Layout } {
  const layout = new Layout(devices, segments);
  const before = layout.spread();
  const moves: PlannedMove[] = [];
  while (moves.length < maxMoves) {
    const m = layout.nextMove(threshold);
    if (!m) break;
    layout.apply(m);
    moves.push(m);
  }
  return { moves, before, after: layout.spread(), layout };
}

/**
 * The same moves in an order that lets a run take more of them in one batch: a batch ends where its next move
 * is of a group that one of its moves changes (copy-batches.ts), so moves are ordered by level, the level of
 * a move being one more than that of the last earlier move it depends on. A move depends on the earlier moves
 * of its group (where the group's segments are, which nodes hold one: their order is kept) and on the earlier
 * moves out of its destination (the room they made). Every device therefore sees each move into it after the
 * moves out of it that came before in the plan: its usage at any point is at most what the plan reached, and
 * every group's segments move in the plan's order. Moves of one level are of distinct groups.
 */
export function inDependencyOrder(moves: readonly PlannedMove[]): PlannedMove[] {
  const groupLevel = new Map<number, number>();
  const outLevel = new Map<string, number>();
  const levels = moves.map((m) => {
    const level = Math.max(groupLevel.get(m.group) ?? -1, outLevel.get(m.to) ?? -1) + 1;
    groupLevel.set(m.group, level);
    outLevel.set(m.from, Math.max(outLevel.get(m.from) ?? -1, level));
    return level;
  });
  return moves
    .map((m, i) => ({ m, level: levels[i], i }))
    .sort((a, b) => a.level - b.level || a.i - b.i)
    .map((x) => x.m);
}

/**
 * The moves cut into runs of about `size` moves, one subtask each, such that all moves of a group are in one
 * run: subtasks run side by side, and a move whose group another subtask has locked is SKIPPED (the lock is
 * per group), so two subtasks must never hold moves of one group. A move into a device is kept, too, with the
 * moves out of that device before it in the plan (the room it may need), as inDependencyOrder orders them.
 * The moves so tied form components; runs take whole components, by their first move in the plan, until a
 * run has `size` moves (one component larger than that is a run of its own size), and keep the plan's order
 * within. Replayed run after run, every device's usage stays within what the plan reached: a move into a
 * device comes after every earlier move out of it (its component's run is not later, and within a run the
 * dependency order puts it after them).
 */
export function subtaskRuns(moves: readonly PlannedMove[], size: number): PlannedMove[][] {
  const parent = moves.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const tie = (a: number, b: number) => {
    const [x, y] = [root(a), root(b)];
    // The smaller index is the root: a component's root is its first move.
    if (x !== y) parent[Math.max(x, y)] = Math.min(x, y);
  };
  const lastOfGroup = new Map<number, number>();
  /** Per device, the moves out of it not yet tied to a later move into it. */
  const outs = new Map<string, number[]>();
  for (const [i, m] of moves.entries()) {
    const g = lastOfGroup.get(m.group);
    if (g !== undefined) tie(g, i);
    lastOfGroup.set(m.group, i);
    const before = outs.get(m.to);
    if (before?.length) {
      for (const o of before) tie(o, i);
      // Tied now to i: a later move into the device that ties to i ties to them too.
      outs.set(m.to, [i]);
    }
    const from = outs.get(m.from) ?? [];
    from.push(i);
    outs.set(m.from, from);
  }
  const components = new Map<number, number[]>();
  for (const i of moves.keys()) {
    const r = root(i);
    const c = components.get(r);
    if (c) c.push(i);
    else components.set(r, [i]);
  }
  const runs: PlannedMove[][] = [];
  let run: number[] = [];
  // By their first move (the root), which Map keeps in insertion order: the plan's.
  for (const c of components.values()) {
    run.push(...c);
    if (run.length >= size) {
      runs.push(run.sort((a, b) => a - b).map((i) => moves[i]));
      run = [];
    }
  }
  if (run.length) runs.push(run.sort((a, b) => a - b).map((i) => moves[i]));
  return runs;
}
