// The devices an agent serves, and the one rule for the files it may touch: a request names a device (by the
// path the catalog has for it) and a segment (by its storage id); the agent touches only
// <device>/segments/<storage id>.seg (and its temporary names) of a device it was told it serves. A request
// never carries a file path of its own, so no '..', symlink-free spelling or prefix trick reaches a file
// outside a device.
import { isAbsolute, join, normalize } from 'node:path';
import { SEGMENT_SUFFIX, segmentDir } from '../store/segment-file';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class PathRefused extends Error {}

export interface ServedDevice {
  id: string;
  node: string;
  path: string;
}

/** A device path as the agent accepts it: absolute and already in normal form (no '.', '..', '//', trailing '/'). */
export function checkDevicePath(path: string): string {
  if (typeof path !== 'string' || !path || path.includes('\0')) throw new PathRefused('device path is empty');
  if (!isAbsolute(path)) throw new PathRefused(`device path "${path}" is not absolute`);
  if (normalize(path) !== path || (path.length > 1 && path.endsWith('/')))
    throw new PathRefused(`device path "${path}" is not in normal form`);
  return path;
}

export function checkStorageId(id: string): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new PathRefused(`"${id}" is not a segment storage id`);
  return id;
}

export class ServedDevices {
  private readonly byPath = new Map<string, ServedDevice>();

  list(): ServedDevice[] {
    return [...this.byPath.values()];
  }

  get(path: string): ServedDevice | undefined {
    return this.byPath.get(path);
  }

  /** Adds (or updates) a device; returns true when the path was not served before. */
  add(d: ServedDevice): boolean {
    checkDevicePath(d.path);
    const fresh = !this.byPath.has(d.path);
    this.byPath.set(d.path, { id: d.id, node: d.node, path: d.path });
    return fresh;
  }

  /** The device a request names, refused unless it is served. */
  device(path: string): ServedDevice {
    checkDevicePath(path);
    const d = this.byPath.get(path);
    if (!d) throw new PathRefused(`device "${path}" is not served by this agent`);
    return d;
  }

  /** The segment file a request may touch. */
  segmentFile(devicePath: string, storageId: string): { device: ServedDevice; dir: string; file: string } {
    const device = this.device(devicePath);
    checkStorageId(storageId);
    const dir = segmentDir(device.path);
    return { device, dir, file: join(dir, storageId + SEGMENT_SUFFIX) };
  }

  /**
   * The device and storage id of a segment path as the catalog records it (<device>/segments/<id>.seg),
   * refused unless the device is served and the path is exactly that shape.
   */
  parseSegmentPath(path: string): { device: ServedDevice; storageId: string; dir: string; file: string } {
    if (typeof path !== 'string' || normalize(path) !== path)
      throw new PathRefused(`bad segment path "${path}"`);
    const m = /^(.*)\/segments\/([^/]+)\.seg$/.exec(path);
    if (!m) throw new PathRefused(`"${path}" is not a segment file path`);
    const r = this.segmentFile(m[1], m[2]);
    return { ...r, storageId: m[2] };
  }
}
