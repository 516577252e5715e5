// A device carries its identity, as HDFS's VERSION file or a Ceph OSD's fsid: a small file written (and
// fsynced) when the device is added. Before any write the identity is checked: a device whose directory or
// identity is missing or wrong is marked FAILED and never written. A vanished directory is not recreated:
// on a real host it is usually the mount point of a disk that is no longer mounted, and writing there would
// fill the root file system.
import type { BigIntStats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
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

/** Why the device may not be written, or null when its directory holds its identity (read in full). */
export async function readIdentityProblem(
  d: Pick<Device, 'id' | 'path'>,
): Promise<{ problem: string | null; stat: BigIntStats | null }> {
  let text: string;
  let st: BigIntStats;
  try {
    // The stat is of the file that is read, so that a later stat of the path says whether it is still that one.
    const fh = await open(join(d.path, IDENTITY_FILE), 'r');
    try {
      st = await fh.stat({ bigint: true });
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problem:
        code === 'ENOENT' ? `its directory or its identity file ${IDENTITY_FILE} is missing` : String(err),
      stat: null,
    };
  }
  try {
    const id = JSON.parse(text) as Identity;
    if (id.device_id === d.id) return { problem: null, stat: st };
    return { problem: `its identity file names device ${id.device_id}, not ${d.id}`, stat: null };
  } catch {
    return { problem: `its identity file ${IDENTITY_FILE} is not readable`, stat: null };
  }
}

/** Why the device may not be written, or null when its directory holds its identity. */
export async function identityProblem(d: Pick<Device, 'id' | 'path'>): Promise<string | null> {
  return (await readIdentityProblem(d)).problem;
}

/** A full read of an identity file is trusted this long while a stat of the file shows it unchanged. */
export const IDENTITY_RECHECK_MS = 1000;

const sameFile = (a: BigIntStats, b: BigIntStats) =>
  a.dev === b.dev &&
  a.ino === b.ino &&
  a.size === b.size &&
  a.mtimeNs === b.mtimeNs &&
  a.ctimeNs === b.ctimeNs;

/**
 * The identity check before every segment write, at the cost of one stat: the identity file is read in full
 * once, and again only when a stat of its path no longer shows the very file that was read (device and inode
 * number, size, modification and change times; nanoseconds) or IDENTITY_RECHECK_MS have passed. Whatever
 * made the device unfit to write changes one of those: an unmounted disk leaves no file at the path (ENOENT)
 * or the mount point's own (another device), another disk or directory mounted or moved there holds another
 * file (device or inode), and the file rewritten in place changes its change time (docs/robustness.md,
 * "Devices"). Reading it for every segment cost four system calls per segment.
 */
export class IdentityChecks {
  private readonly verified = new Map<string, { id: string; stat: BigIntStats; at: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  async problem(d: Pick<Device, 'id' | 'path'>): Promise<string | null> {
    const last = this.verified.get(d.path);
    if (last && last.id === d.id && this.now() - last.at < IDENTITY_RECHECK_MS) {
      const st = await stat(join(d.path, IDENTITY_FILE), { bigint: true }).catch(() => null);
      if (st && sameFile(st, last.stat)) return null;
    }
    this.verified.delete(d.path);
    const at = this.now();
    const full = await readIdentityProblem(d);
    if (full.stat) this.verified.set(d.path, { id: d.id, stat: full.stat, at });
    return full.problem;
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
