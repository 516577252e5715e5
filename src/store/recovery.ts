// Start-up recovery of the segment store: a crash can leave temporary files (a write that never finished) and
// segment files that were written but never catalogued (a COPY or rebuild that died before its catalog
// transaction). Both are removed; a catalogued segment is never touched here. Files of a DROP TABLE that
// crashed before removing them all are recorded as pending removals: they go first. Devices of a node served
// by an agent are listed and cleaned through the agent (which removes temporary files itself); an agent that
// cannot be reached is skipped and reported.
import type { StorageCatalog } from '../../catalog/storage';
import { DeviceUnavailable, type StorageIO } from './device-io';
import { type FailedRemoval, tryRemove } from './failed-removal';
import { SEGMENT_SUFFIX, segmentDir, TEMP_SUFFIX } from './segment-file';
import { removeFiles } from './store';

export interface RecoveryReport {
  removedDropped: number;
  removedTemp: number;
  removedOrphans: number;
  missingDevices: string[];
  unreachableDevices: string[];
  /** Removals of temporary or orphan files that failed (not counted as removed): they stay until the next start. */
  failedRemovals: FailedRemoval[];
}

/**
 * `shared`: the catalog is shared with other coordinators (on PostgreSQL). Their writes in flight are files not
 * yet catalogued, indistinguishable from what a crash left, so no uncatalogued file is removed then; the
 * agents still remove their own temporary files, and files of dropped tables (catalogued) go as always.
 */
export async function recoverStore(
  catalog: StorageCatalog,
  io: StorageIO,
  shared = false,
): Promise<RecoveryReport> {
  const dropped = await catalog.pendingFileRemovals();
  const left = await removeFiles(catalog, io, dropped);
  const known = await catalog.allSegmentPaths();
  const report: RecoveryReport = {
    removedDropped: dropped.length - left,
    removedTemp: 0,
    removedOrphans: 0,
    missingDevices: [],
    unreachableDevices: [],
    failedRemovals: [],
  };
  for (const d of shared ? [] : await catalog.devices()) {
    const dio = await io.forNode(d.node_name);
    const dir = segmentDir(d.path);
    let names: string[] | null;
    try {
      names = await dio.listSegmentDir(d.path);
    } catch (err) {
      if (!(err instanceof DeviceUnavailable)) throw err;
      report.unreachableDevices.push(d.path);
      continue;
    }
    if (names === null) {
      report.missingDevices.push(d.path);
      continue;
    }
    const temp = names.filter((n) => n.endsWith(TEMP_SUFFIX)).map((n) => `${dir}/${n}`);
    const orphans = names
      .filter((n) => n.endsWith(SEGMENT_SUFFIX))
      .map((n) => `${dir}/${n}`)
      .filter((p) => !known.has(p));
    // An agent refuses temporary names (it removes them itself when it is told of a device): segment files only.
    const local = dio === io.local;
    const paths = local ? [...temp, ...orphans] : orphans;
    if (!paths.length) continue;
    const failed = await tryRemove(dio, paths, d.path);
    if (failed) {
      report.failedRemovals.push(failed);
      continue;
    }
    report.removedTemp += local ? temp.length : 0;
    report.removedOrphans += orphans.length;
  }
  return report;
}
