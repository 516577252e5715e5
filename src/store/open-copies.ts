// The files of copies written on the writer thread (a rebuild's or rebalance's, durable = false), kept open
// from their write to the fdatasync of their batch (LocalDeviceIO.makeDurable), so that making them durable
// costs one call on the file's own descriptor instead of an open, the fdatasync and a close: three thread-pool
// round trips of the main thread's per file, then one. A descriptor is of the inode written: a later write of
// the same path (a segment rebuilt in place again) replaces it here, and a removal closes it.
import { close } from 'node:fs';

/**
 * At most this many are kept (two batches of 64 one-MiB copies are 128); beyond, the oldest is closed, and
 * its file is then opened again for its fdatasync as any other. A batch given up where its copies are left
 * in place keeps its descriptors until they are pushed out this way.
 */
export const KEEP_OPEN = 256;

const closeQuietly = (fd: number) => close(fd, () => {});

export class OpenCopies {
  private readonly fds = new Map<string, number>();

  keep(path: string, fd: number): void {
    this.drop([path]);
    this.fds.set(path, fd);
    for (const [oldest, f] of this.fds) {
      if (this.fds.size <= KEEP_OPEN) break;
      this.fds.delete(oldest);
      closeQuietly(f);
    }
  }

  /** The descriptor kept for `path`, now the caller's to close; undefined when none is. */
  take(path: string): number | undefined {
    const fd = this.fds.get(path);
    this.fds.delete(path);
    return fd;
  }

  /** Closes what is kept for `paths` (their files are being removed). */
  drop(paths: Iterable<string>): void {
    for (const p of paths) {
      const fd = this.take(p);
      if (fd !== undefined) closeQuietly(fd);
    }
  }
}
