// Where the segments of a new group go. The rule, in one place:
//   1. Each segment of a group on a different ONLINE node (the node is the failure domain).
//   2. Among nodes, prefer the ones with the most free space, so new data evens out usage.
//   3. On the chosen node, the ACTIVE device with the most free space.
// Free space is capacity minus what the catalog says is used, less what this plan already assigned.
import type { Device } from '../../catalog/storage';

export interface PlacementDevice extends Device {
  node_status: string;
}

export class PlacementError extends Error {}

export interface Placement {
  node: string;
  device: PlacementDevice;
}

export class Placer {
  private readonly pending = new Map<string, number>();

  constructor(private readonly devices: PlacementDevice[]) {}

  private free(d: PlacementDevice): number {
    return d.capacity_bytes - d.used_bytes - (this.pending.get(d.id) ?? 0);
  }

  /** Chooses `width` devices on distinct nodes for segments of `bytesEach` bytes, and reserves the space. */
  placeGroup(width: number, bytesEach: number, exclude: Set<string> = new Set()): Placement[] {
    const byNode = new Map<string, PlacementDevice[]>();
    for (const d of this.devices) {
      if (d.node_status !== 'ONLINE' || d.status !== 'ACTIVE' || exclude.has(d.node_name)) continue;
      if (this.free(d) < bytesEach) continue;
      const list = byNode.get(d.node_name) ?? [];
      list.push(d);
      byNode.set(d.node_name, list);
    }
    const candidates = [...byNode.entries()]
      .map(([node, devs]) => {
        const best = devs.reduce((a, b) => (this.free(b) > this.free(a) ? b : a));
        return { node, device: best, free: devs.reduce((s, d) => s + this.free(d), 0) };
      })
      .sort((a, b) => b.free - a.free || a.node.localeCompare(b.node));
    if (candidates.length < width) {
      throw new PlacementError(
        `not enough space: a segment group needs ${width} nodes with ${bytesEach} bytes free on an active device, ${candidates.length} have it`,
      );
    }
    const chosen = candidates.slice(0, width);
    for (const c of chosen) this.pending.set(c.device.id, (this.pending.get(c.device.id) ?? 0) + bytesEach);
    return chosen.map((c) => ({ node: c.node, device: c.device }));
  }

  /** Gives back space reserved for a group that was not written. */
  release(placements: Placement[], bytesEach: number): void {
    for (const p of placements)
      this.pending.set(p.device.id, (this.pending.get(p.device.id) ?? 0) - bytesEach);
  }
}
