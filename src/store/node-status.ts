// A node going OFFLINE and coming back ONLINE, the one sequence for ALTER NODE SET OFFLINE | ONLINE and for the
// heartbeat (a node whose agent stops answering goes OFFLINE by itself, and ONLINE again when it answers).
import { nowText } from '../../catalog/db';
import type { StorageCatalog } from '../../catalog/storage';
import { DeviceUnavailable, type StorageIO } from './device-io';
import { verifyJobFor } from './verify-pool';

/**
 * Sets a node OFFLINE: its INTACT segments cannot be read and are MISSING until rebuilt or back. One
 * transaction, so that nobody (a rebuild planned on another coordinator) sees the node OFFLINE with its
 * segments still INTACT. Returns how many became MISSING, or null when the heartbeat of another coordinator
 * had already set it OFFLINE as unreachable (nothing to do, nothing to report).
 */
export async function setNodeOffline(
  catalog: StorageCatalog,
  node: string,
  reason: 'operator' | 'unreachable',
): Promise<number | null> {
  return catalog.atomically(async (c) => {
    const before = await c.node(node);
    if (reason === 'unreachable' && before?.status === 'OFFLINE') return null;
    await c.setNodeStatus(node, 'OFFLINE', reason);
    const segs = (await c.segmentsForCheck({ node })).filter((s) => s.status === 'INTACT');
    await c.setSegmentStatus(segs.map((s) => ({ storageId: s.storage_id, status: 'MISSING' as const })));
    return segs.length;
  });
}

export interface OnlineReport {
  restored: number;
  stillMissing: number;
  damaged: number;
  /** Devices that stay FAILED (their directory is not usable). */
  stillFailed: string[];
}

/**
 * Sets a node ONLINE. A node coming back may have had its disks replaced: FAILED devices whose directories are
 * usable again return to service (a replaced disk gets the device's identity). Its MISSING segments are
 * verified where they are: those whose file is sound are INTACT again; the rest wait for a rebuild.
 */
export async function setNodeOnline(
  catalog: StorageCatalog,
  io: StorageIO,
  node: string,
): Promise<OnlineReport> {
  await catalog.setNodeStatus(node, 'ONLINE');
  const dio = await io.forNode(node);
  const stillFailed: string[] = [];
  for (const d of await catalog.devices(node)) {
    if (d.status !== 'FAILED') continue;
    try {
      await dio.inspectDevice(d.path);
      if (await dio.identityProblem(d)) await dio.writeIdentity(d);
      await catalog.setDeviceStatus(d.id, 'ACTIVE');
    } catch {
      stillFailed.push(d.path);
    }
  }
  const missing = await catalog.segmentsForCheck({ node, statuses: ['MISSING'] });
  const damaged = (await catalog.segmentsForCheck({ node, statuses: ['DAMAGED'] })).length;
  // Verified where they are (on the agent's threads for a node it serves), in batches.
  const clean: string[] = [];
  for (let i = 0; i < missing.length; i += 64) {
    const batch = missing.slice(i, i + 64);
    let outcomes: Awaited<ReturnType<typeof dio.verify>>;
    try {
      outcomes = await dio.verify(
        batch.map((seg) =>
          verifyJobFor(seg.path, seg.storage_id, seg.segment_group_id, seg.position, seg.shard_bytes, 1),
        ),
      );
    } catch (err) {
      if (err instanceof DeviceUnavailable) break;
      throw err;
    }
    outcomes.forEach((o, j) => {
      if (o.ok) clean.push(batch[j].storage_id);
    });
  }
  const at = nowText();
  await catalog.setSegmentStatus(
    clean.map((storageId) => ({ storageId, status: 'INTACT' as const, checkedAt: at })),
  );
  return { restored: clean.length, stillMissing: missing.length - clean.length, damaged, stillFailed };
}
