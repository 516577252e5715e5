// A device carries its identity, as HDFS's VERSION file or a Ceph OSD's fsid: a small file written (and
// fsynced) when the device is added. Before any write the identity is checked: a device whose directory or
// identity is missing or wrong is marked FAILED and never written. A vanished directory is not recreated:
// on a real host it is usually the mount point of a disk that is no longer mounted, and writing there would
// fill the root file system.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Device, StorageCatalog } from '../../catalog/storage';
import {
  DeviceIdentityProblem,
  type DeviceIO,
  DeviceUnavailable,
  type StorageIO,
  type WriteOptions,
  type WrittenSegment,
} from './device-io';
import { type SegmentMeta, segmentDir } from './segment-file';
import { StoreError } from './store';

export const IDENTITY_FILE = '.segtasks-device';

interface Identity {
  device_id: string;
  node: string;
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes the identity into the device's (existing) directory and syncs it and the directory. */
export async function writeIdentity(d: Pick<Device, 'id' | 'node_name' | 'path'>): Promise<void> {
  const file = join(d.path, IDENTITY_FILE);
  const fh = await open(file, 'w');
  try {
    const identity: Identity = { device_id: d.id, node: d.node_name };
    await fh.writeFile(`${JSON.stringify(identity)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncPath(d.path);
}

/** Why the device may not be written, or null when its directory holds its identity. */
export async function identityProblem(d: Pick<Device, 'id' | 'path'>): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(d.path, IDENTITY_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `its directory or its identity file ${IDENTITY_FILE} is missing` : String(err);
  }
  try {
    const id = JSON.parse(text) as Identity;
    if (id.device_id === d.id) return null;
    return `its identity file names device ${id.device_id}, not ${d.id}`;
  } catch {
    return `its identity file ${IDENTITY_FILE} is not readable`;
  }
}

/**
 * Writes a segment to a device through its I/O, which checks the device's identity first: a device without
 * it is marked FAILED and the write refused (58030). Only the segments subdirectory is ever created, never
 * the device's own directory.
 */
export async function writeToDevice(
  storage: StorageCatalog,
  io: DeviceIO,
  d: Pick<Device, 'id' | 'node_name' | 'path'>,
  meta: SegmentMeta,
  payload: Buffer,
  opts: WriteOptions,
): Promise<WrittenSegment> {
  try {
    return await io.writeSegment(d, meta, payload, opts);
  } catch (err) {
    if (!(err instanceof DeviceIdentityProblem)) throw err;
    await storage.setDeviceStatus(d.id, 'FAILED');
    throw new StoreError(
      '58030',
      `device ${d.path} of node ${d.node_name} is not written: ${err.message}`,
      'The device is FAILED. Mount it again and SET the node ONLINE, or add a new device.',
    );
  }
}

/**
 * At start: devices of an older data directory get their identity when their directory is there and holds
 * the segments the catalog puts on them (or none are expected); the others, and devices whose identity is
 * wrong, are FAILED. Returns the paths of the devices failed.
 */
export async function checkDevicesAtStart(
  storage: StorageCatalog,
  io: StorageIO,
  known: Set<string>,
): Promise<{ failed: string[]; unreachable: string[] }> {
  const failed: string[] = [];
  const unreachable: string[] = [];
  for (const d of await storage.devices()) {
    const dio = await io.forNode(d.node_name);
    let problem: string | null;
    try {
      problem = await dio.identityProblem(d);
    } catch (err) {
      // An agent that is down now is the heartbeat's business, not a failed device.
      if (!(err instanceof DeviceUnavailable)) throw err;
      unreachable.push(d.path);
      continue;
    }
    if (!problem) continue;
    const adoptable = problem.includes('is missing') && (await holdsItsSegments(dio, d, known));
    if (adoptable) await dio.writeIdentity(d);
    else {
      if (d.status !== 'FAILED') await storage.setDeviceStatus(d.id, 'FAILED');
      failed.push(d.path);
    }
  }
  return { failed, unreachable };
}

async function holdsItsSegments(io: DeviceIO, d: Device, known: Set<string>): Promise<boolean> {
  const names = await io.listSegmentDir(d.path);
  if (names === null) return false;
  const prefix = segmentDir(d.path) + '/';
  const expected = [...known].filter((p) => p.startsWith(prefix));
  if (!expected.length) return true;
  const present = new Set(names);
  return expected.some((p) => present.has(p.slice(prefix.length)));
}
