// Start-up recovery of the segment store: a crash can leave temporary files (a write that never finished) and
// segment files that were written but never catalogued (a COPY or rebuild that died before its catalog
// transaction). Both are removed; a catalogued segment is never touched here. Files of a DROP TABLE that
// crashed before removing them all are recorded as pending removals: they go first.
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageCatalog } from '../../catalog/storage';
import { SEGMENT_SUFFIX, segmentDir, TEMP_SUFFIX } from './segment-file';
import { removeFiles } from './store';

export interface RecoveryReport {
  removedDropped: number;
  removedTemp: number;
  removedOrphans: number;
  missingDevices: string[];
}

export async function recoverStore(catalog: StorageCatalog): Promise<RecoveryReport> {
  const dropped = catalog.pendingFileRemovals();
  await removeFiles(catalog, dropped);
  const known = catalog.allSegmentPaths();
  const report: RecoveryReport = {
    removedDropped: dropped.length,
    removedTemp: 0,
    removedOrphans: 0,
    missingDevices: [],
  };
  for (const d of catalog.devices()) {
    const dir = segmentDir(d.path);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        try {
          await readdir(d.path);
        } catch {
          report.missingDevices.push(d.path);
        }
        continue;
      }
      throw err;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        await unlink(path).catch(() => {});
        report.removedTemp++;
      } else if (name.endsWith(SEGMENT_SUFFIX) && !known.has(path)) {
        await unlink(path).catch(() => {});
        report.removedOrphans++;
      }
    }
  }
  return report;
}
