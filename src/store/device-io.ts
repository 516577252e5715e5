// The device-I/O seam of the store: everything the store and the tasks do to the files on a node's devices,
// behind one interface, so that COPY, check_disk, rebuild and rebalance run unchanged whether a node's devices
// are directories of this process (LocalDeviceIO) or of a storage agent on another host (RemoteDeviceIO, through
// the agent protocol). Which one serves a node follows from the catalog: a node with an ADDRESS is an agent's.
import { constants } from 'node:fs';
import { access, readdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { StorageCatalog } from '../../catalog/storage';
import { SqlError } from '../../pg/errors';
import { IdentityChecks, identityProblem, writeIdentity } from './device-identity';
import { OpenCopies } from './open-copies';
import {
  deviceFull,
  fsyncDir,
  type SegmentMeta,
  segmentDir,
  segmentFileName,
  syncFiles,
  type VerifyResult,
  verifySegmentFile,
  writeSegmentFile,
} from './segment-file';
import { isShared, SegmentWriter, WriterThreadFailed } from './segment-writer';
import { deviceCapacity } from './store';
import { type VerifyJob, type VerifyOutcome, VerifyPool } from './verify-pool';

/** A device as the I/O needs it. */
export interface DeviceRef {
  id: string;
  node_name: string;
  path: string;
}

export type Expected = Partial<SegmentMeta> & { payloadLength?: number };

/** The device cannot be reached now (its agent is down, unreachable or answered falsely): not a data fault. */
export class DeviceUnavailable extends Error {}

/** The device's directory or identity is missing or wrong: it must not be written. */
export class DeviceIdentityProblem extends Error {}

export interface WrittenSegment {
  path: string;
  checksum: string;
  size: number;
}

export interface WriteOptions {
  durable: boolean;
  /** The catalog's checksum of the segment being copied: a payload that does not hash to it is not written. */
  checksum?: string;
  /**
   * A move: the header and checksum table (VerifyResult.head) of the source whose verified read left this very
   * payload buffer, used as the copy's instead of hashing the payload again (reuseHeader, docs/durability.md).
   */
  verifiedHead?: Buffer;
  signal?: AbortSignal;
  /**
   * The segment's storage id is new (COPY FROM): nothing names its file before the caller catalogues it, so
   * it may be written under its final name without a rename (writeSegmentFile). Not for a segment rebuilt in
   * place, whose name the catalog already holds.
   */
  fresh?: boolean;
}

export interface DeviceIO {
  /** Where the node's devices are, for messages: "in process" or "agent host:port". */
  readonly where: string;
  /** CREATE NODE / ADD DEVICE: the directory exists and is usable; its path as stored, and its capacity. */
  inspectDevice(path: string): Promise<{ path: string; capacity: number }>;
  /**
   * Declares the devices of a node to whoever serves them (an agent refuses any other). Also the heartbeat:
   * DeviceUnavailable when no answer came within `timeoutMs`.
   */
  serve(node: string, devices: DeviceRef[], timeoutMs?: number): Promise<void>;
  identityProblem(d: DeviceRef): Promise<string | null>;
  writeIdentity(d: DeviceRef): Promise<void>;
  /** The device directory can be reached. */
  usable(devicePath: string): Promise<boolean>;
  /**
   * Writes a segment file (temporary name, rename) after checking the device's identity (DeviceIdentityProblem).
   * With durable = false the caller makes it durable later with makeDurable (on an agent too: it then writes
   * without syncing). With `checksum`, the whole-segment checksum the payload must hash to, computed before
   * anything is written (CopyMismatch). An abort of `signal` before the rename leaves no file (in process, an
   * abort before the write is handed to the writer thread: from then on it completes).
   */
  writeSegment(d: DeviceRef, meta: SegmentMeta, payload: Buffer, opts: WriteOptions): Promise<WrittenSegment>;
  /**
   * fdatasyncs files written with durable = false (side by side), then fsyncs each of their directories once.
   * `writtenBack`: files among `paths` whose writeBack has returned and that were not written since; their
   * data is on disk already, so only their directories are synced.
   */
  makeDurable(paths: string[], writtenBack?: ReadonlySet<string>): Promise<void>;
  /**
   * Starts the disk's work for files written with durable = false early, while more are being written: they
   * are fdatasynced, their directories left to the makeDurable that must still follow for the same files.
   * One fsync per directory per batch of files would force a journal commit each time (where the agent
   * protocol has no files-only sync, this is a whole makeDurable).
   */
  writeBack(paths: string[]): Promise<void>;
  /**
   * writeBack syncs the files only, cheaply enough to be called for each file as soon as it is written (in
   * process: one fdatasync on the descriptor of the write). Not on an agent, where it is a whole makeDurable
   * (a request, and a directory fsync each time): a repair's copies there are synced with their batch.
   */
  readonly writesBackFiles?: boolean;
  /**
   * Reads and verifies a segment file (SegmentFault for what is wrong); with `into`, the payload lands there.
   * Nothing is written into `into` once the promise has settled (also when `signal` stopped the read): the
   * caller may reuse it from then on.
   */
  readSegment(
    path: string,
    expected: Expected,
    opts: { into?: Buffer; signal?: AbortSignal },
  ): Promise<VerifyResult>;
  /** Verifies segment files where they are (the hashing runs beside the data; only outcomes travel). */
  verify(jobs: VerifyJob[]): Promise<VerifyOutcome[]>;
  /**
   * Bytes of segment files that one unthrottled verify call should carry at most: enough that what each
   * call costs beside the hashing (the hand-off, the catalog write of its results) stays small, little
   * enough that it answers promptly (a cancel waits for the calls in flight; an agent's within its request
   * timeout).
   */
  readonly verifyBatchBytes: number;
  /** Removes segment files (absent ones are fine) and syncs their directories. */
  remove(paths: string[]): Promise<void>;
  /** Names in a device's segment directory ([] if it has none), or null when the device directory is gone. */
  listSegmentDir(devicePath: string): Promise<string[] | null>;
  /**
   * Only where the devices are an agent's: reconstructs a segment on the destination device from survivors that
   * the agent pulls from its peers itself (null address: on this same agent), and writes and verifies it there.
   */
  rebuildFromPeers?(req: PeerRebuild, signal?: AbortSignal): Promise<PeerRebuildResult>;
}

export interface PeerRebuild {
  target: {
    device: string;
    device_id: string;
    storage_id: string;
    group: number;
    position: number;
    parity: boolean;
    /** The catalog's checksum of the segment: reconstructed bytes that do not hash to it are not written. */
    checksum?: string;
  };
  k: number;
  m: number;
  shard_bytes: number;
  survivors: { address: string | null; path: string; storage_id: string; position: number }[];
  /** false: one of a batch, made durable later with makeDurable (the agent's POST /v1/sync). Default true. */
  durable?: boolean;
}

export interface PeerRebuildResult {
  ok: boolean;
  path?: string;
  size?: number;
  checksum?: string;
  read: number[];
  faults: { storage_id: string; kind: string; message: string; block?: number }[];
  unavailable: string[];
}

/** The directory checks of CREATE NODE and ADD DEVICE, on this host. */
export async function inspectLocalDevice(
  path: string,
  abs = resolve(path),
): Promise<{ path: string; capacity: number }> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(abs);
  } catch {
    throw new SqlError('58P01', `device path "${abs}" does not exist`, {
      hint: 'Create the directory first; each device is a directory.',
    });
  }
  if (!st.isDirectory()) throw new SqlError('42809', `device path "${abs}" is not a directory`);
  try {
    await access(abs, constants.W_OK | constants.R_OK);
  } catch {
    throw new SqlError('42501', `device path "${abs}" is not readable and writable by the server`);
  }
  return { path: abs, capacity: await deviceCapacity(abs) };
}

/** Segments at least this large are written on the writer thread when they can be (LocalDeviceIO). */
export const WRITER_MIN_BYTES = 64 * 1024;

/** Devices that are directories of this process: the embedded default, and every node without ADDRESS. */
export class LocalDeviceIO implements DeviceIO {
  readonly where = 'in process';
  readonly writesBackFiles = true;
  // 64 MiB is 30-60 ms of a verifier thread from the page cache, and its hand-off and catalog write (about
  // half a millisecond of the main thread's) a hundredth of that; at 16 MiB they were a sixth of the main
  // thread's work in a full check (docs/benchmarks.md, bench/check_disk, branch check4).
  readonly verifyBatchBytes = 64 * 1024 * 1024;
  private pool: VerifyPool | null;
  private readonly identity = new IdentityChecks();
  private readonly writer = new SegmentWriter();
  /** Copies written on the writer thread, open until their makeDurable. */
  private readonly copies = new OpenCopies();

  constructor(verifier?: VerifyPool) {
    this.pool = verifier ?? null;
  }

  inspectDevice(path: string) {
    return inspectLocalDevice(path);
  }

  async serve(): Promise<void> {}

  identityProblem(d: DeviceRef) {
    return identityProblem(d);
  }

  writeIdentity(d: DeviceRef) {
    return writeIdentity(d);
  }

  async usable(devicePath: string): Promise<boolean> {
    try {
      await access(devicePath);
      return true;
    } catch {
      return false;
    }
  }

  /** The identity check before a write: one stat of the identity file while it is the one last read. */
  writeProblem(d: Pick<DeviceRef, 'id' | 'path'>): Promise<string | null> {
    return this.identity.problem(d);
  }

  async writeSegment(d: DeviceRef, meta: SegmentMeta, payload: Buffer, opts: WriteOptions) {
    const problem = await this.writeProblem(d);
    if (problem) throw new DeviceIdentityProblem(problem);
    // Only the segments subdirectory is created (when a write finds it missing), never the device's own
    // directory (device-identity.ts).
    const dir = segmentDir(d.path);
    // A payload in shared memory that is not to be synced at once is written on the writer thread: a COPY's
    // new segment (nothing to check it against, no abort: the same file as writeSegmentFile's `fresh` write),
    // or a rebuild's or rebalance's copy, checked there against the catalog's checksum before it is written
    // and kept open for its fdatasync (open-copies.ts). Small ones cost the main thread little: they stay
    // here, so that a small COPY does not start the thread.
    const onWriter = !opts.durable && payload.length >= WRITER_MIN_BYTES && isShared(payload);
    const fresh = opts.fresh && !opts.signal && !opts.checksum && !opts.verifiedHead;
    if (onWriter && fresh) {
      const path = join(dir, segmentFileName(meta.storageId));
      return this.writer.write(dir, meta, payload, { fresh: true, syncFile: false }).catch(async (err) => {
        // The thread removes what it created when a write fails; if it died instead, the file (its name a new
        // storage id, created exclusively by this write if it exists) is removed here.
        if (err instanceof WriterThreadFailed) await unlink(path).catch(() => {});
        throw deviceFull(err, path) ?? err;
      });
    }
    if (onWriter && !opts.fresh) {
      // Once posted, the write completes (as once renamed): the abort is honoured before it. A thread that
      // died leaves at most a temporary file, which start-up recovery removes.
      opts.signal?.throwIfAborted();
      const path = join(dir, segmentFileName(meta.storageId));
      const kind = {
        fresh: false as const,
        expectChecksum: opts.checksum,
        verifiedHead: opts.verifiedHead && new Uint8Array(opts.verifiedHead),
      };
      const w = await this.writer.write(dir, meta, payload, kind).catch((err) => {
        throw deviceFull(err, path) ?? err;
      });
      this.copies.keep(w.path, w.fd!);
      return { path: w.path, checksum: w.checksum, size: w.size };
    }
    return writeSegmentFile(dir, meta, payload, {
      syncDir: opts.durable,
      syncFile: opts.durable,
      signal: opts.signal,
      expectChecksum: opts.checksum,
      verifiedHead: opts.verifiedHead,
      fresh: opts.fresh,
    });
  }

  makeDurable(paths: string[], writtenBack?: ReadonlySet<string>): Promise<void> {
    const dirs = new Set(paths.map((p) => dirname(p)));
    if (writtenBack) this.copies.drop(paths.filter((p) => writtenBack.has(p)));
    return syncFiles(writtenBack ? paths.filter((p) => !writtenBack.has(p)) : paths, dirs, (p) =>
      this.copies.take(p),
    );
  }

  /**
   * A copy written on the writer thread is synced through the descriptor of its write, then closed (no
   * second open of its path; open-copies.ts): one thread-pool call for the fdatasync, one for the close.
   */
  writeBack(paths: string[]): Promise<void> {
    return syncFiles(paths, [], (p) => this.copies.take(p));
  }

  readSegment(path: string, expected: Expected, opts: { into?: Buffer; signal?: AbortSignal }) {
    return verifySegmentFile(path, expected, opts);
  }

  verify(jobs: VerifyJob[]): Promise<VerifyOutcome[]> {
    this.pool ??= new VerifyPool();
    return this.pool.verify(jobs);
  }

  async remove(paths: string[]): Promise<void> {
    this.copies.drop(paths);
    await Promise.all(
      paths.map((p) =>
        unlink(p).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        }),
      ),
    );
    await Promise.all(
      [...new Set(paths.map((p) => dirname(p)))].map((d) =>
        fsyncDir(d).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        }),
      ),
    );
  }

  async listSegmentDir(devicePath: string): Promise<string[] | null> {
    try {
      return await readdir(segmentDir(devicePath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await readdir(devicePath);
      return [];
    } catch {
      return null;
    }
  }
}

/** Which DeviceIO serves a node: the local one, or the remote one of the node's agent address. */
export class StorageIO {
  private readonly remotes = new Map<string, DeviceIO>();

  constructor(
    private readonly catalog: StorageCatalog,
    readonly local: DeviceIO = new LocalDeviceIO(),
    /** Makes the I/O of an agent's address; null when this server has no cluster secret. */
    private readonly remote: ((address: string) => DeviceIO) | null = null,
    /**
     * The catalog is shared with other coordinators (on PostgreSQL), which may run on other hosts: a node
     * served in process would be a different set of directories on each of them, so every node needs an agent.
     */
    private readonly shared = false,
  ) {}

  forAddress(address: string | null): DeviceIO {
    if (!address) {
      if (this.shared)
        throw new SqlError(
          '0A000',
          'a node without ADDRESS is served in process, which a catalog shared by several coordinators cannot have',
          { hint: "Run a storage agent on the node's host and give its address: ADDRESS 'host:port'." },
        );
      return this.local;
    }
    let io = this.remotes.get(address);
    if (!io) {
      if (!this.remote)
        throw new SqlError(
          '58030',
          `the devices at ${address} are served by a storage agent, and this server has no cluster secret`,
          {
            hint: "Start the server with --secret-file (or SEGTASKS_SECRET_FILE) holding the agents' secret.",
          },
        );
      io = this.remote(address);
      this.remotes.set(address, io);
    }
    return io;
  }

  async forNode(node: string): Promise<DeviceIO> {
    return this.forAddress(await this.catalog.nodeAddress(node));
  }

  /** The agents' I/O made so far, to close their connections. */
  remoteIOs(): DeviceIO[] {
    return [...this.remotes.values()];
  }
}
