// The segment store: loads table data (COPY FROM STDIN) into erasure-coded segment groups and reads it back
// (COPY TO STDOUT), rebuilding lost or corrupt segments on the fly. Knows nothing of the wire.

import { randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type {
  NewGroup,
  NewSegment,
  Segment,
  SegmentGroup,
  StorageCatalog,
  Table,
} from '../../catalog/storage';
import { CatalogError, unknownCluster } from '../../catalog/storage';
import { SqlError } from '../../pg/errors';
import { BoundedQueue } from './bounded-queue';
import { BufferPool } from './buffer-pool';
import { writeToDevice } from './device-identity';
import { type DeviceIO, type DeviceRef, DeviceUnavailable, StorageIO } from './device-io';
import { coderFor } from './erasure';
import { type RemovalLog, removeTold, SILENT } from './failed-removal';
import { type PlacementDevice, Placer } from './placement';
import { type FindingKind, fileSizeFor, SegmentFault } from './segment-file';

/** Segment (shard) size of a storage space created without SEGMENT_SIZE, and of the embedded default. */
export const DEFAULT_SEGMENT_SIZE = 1024 * 1024;

/** How long a load waits for each agent of its cluster to answer before placing its segments elsewhere. */
export const LOAD_PROBE_MS = 1000;

export class StoreError extends SqlError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, hint ? { hint } : {});
  }

  get hint(): string | undefined {
    return this.extra.hint;
  }
}

/**
 * Removes files recorded as pending removals (each through the I/O of its node), syncs their directories,
 * then forgets the records. Files on an agent that cannot be reached stay recorded, for the next start or the
 * agent's return; returns how many.
 */
export async function removeFiles(catalog: StorageCatalog, io: StorageIO, paths: string[]): Promise<number> {
  const nodes = await catalog.pendingRemovalNodes(paths);
  const byIO = new Map<DeviceIO, string[]>();
  // Looked up once per node (each is a catalog read), not once per file.
  const ioOfNode = new Map<string | null, DeviceIO>();
  for (const p of paths) {
    const node = nodes.get(p) ?? null;
    let dio = ioOfNode.get(node);
    if (!dio) ioOfNode.set(node, (dio = node ? await io.forNode(node) : io.local));
    let list = byIO.get(dio);
    if (!list) byIO.set(dio, (list = []));
    list.push(p);
  }
  let left = 0;
  for (const [dio, list] of byIO) {
    try {
      await dio.remove(list);
      await catalog.fileRemovalsDone(list);
    } catch (err) {
      if (!(err instanceof DeviceUnavailable)) throw err;
      left += list.length;
    }
  }
  return left;
}

/** Capacity of the file system holding a device directory. */
export async function deviceCapacity(path: string): Promise<number> {
  const s = await statfs(path);
  return s.blocks * s.bsize;
}

/** After this long without all data segments of a group, COPY TO reads parity for the ones not yet there. */
export const HEDGE_AFTER_MS = 1000;

/** Groups that COPY TO reads ahead of the one it sends. */
const READ_AHEAD = 2;

/** Groups of one load being coded and written at the same time (memory: this many groups of k + m shards). */
const GROUPS_IN_FLIGHT = 3;

/**
 * Groups of one load whose files are being written back at the same time (each one's files side by side):
 * more would hold the thread pool that the writes of the next groups need.
 */
const WRITE_BACKS = 1;

interface LoadState {
  table: Table;
  cluster: string;
  k: number;
  m: number;
  shard: number;
  placer: Placer;
  /** Nodes whose agents did not answer at the start of the load: no segment is placed on them. */
  away: Set<string>;
  groups: NewGroup[];
  nextSeq: number;
  /** Files written with each device I/O: made durable before the catalog transaction, removed if it fails. */
  writtenBy: Map<DeviceIO, string[]>;
  /** The device I/O of each node, looked up once per load (a catalog read), not once per segment. */
  ioOfNode: Map<string, Promise<DeviceIO>>;
}

/** A segment that failed verification while being read and was rebuilt from its group for the reader. */
export interface RepairedSegment {
  storageId: string;
  path: string;
  node: string;
  groupId: number;
  position: number;
  fault: FindingKind;
  message: string;
  /** The status it has in the catalog now. */
  status: 'DAMAGED' | 'MISSING';
}

/** A group's bytes as read back; release() says the reader is done with them (their buffers are reused). */
export interface GroupBytes {
  bytes: Buffer;
  release(): void;
}

/**
 * The data and parity buffers of one group being read, taken from a pool uninitialised (every byte handed on
 * is read into or reconstructed; parity only once a parity read starts, which most groups never do). They go
 * back to the pool when the reader has released them and every read into them has settled: a read stopped
 * while the group is decoded without it may still be filling its part until then (a device I/O writes
 * nothing into its `into` once its promise has settled).
 */
class GroupBuffers {
  readonly data: Buffer;
  private parityBuf: Buffer | null = null;
  private reading = 0;
  private released = false;
  private returned = false;

  constructor(
    private readonly pool: BufferPool,
    dataBytes: number,
    private readonly parityBytes: number,
  ) {
    this.data = pool.take(dataBytes);
  }

  parity(): Buffer {
    this.parityBuf ??= this.pool.take(this.parityBytes);
    return this.parityBuf;
  }

  /** Counts a read into these buffers until it settles. */
  track<T>(read: Promise<T>): Promise<T> {
    this.reading++;
    return read.finally(() => {
      this.reading--;
      this.giveBack();
    });
  }

  release(): void {
    this.released = true;
    this.giveBack();
  }

  private giveBack(): void {
    if (!this.released || this.reading > 0 || this.returned) return;
    this.returned = true;
    this.pool.give(this.data);
    if (this.parityBuf) this.pool.give(this.parityBuf);
  }
}

export class SegmentStore {
  constructor(
    readonly catalog: StorageCatalog,
    /** The device I/O of each node: in process, or through its storage agent. */
    readonly io: StorageIO = new StorageIO(catalog),
    /** Where a removal that failed is told (the files stay until the orphan scan at the next start). */
    readonly removals: RemovalLog = SILENT,
  ) {}

  private async clusterLayout(clusterName: string) {
    const cluster = await this.catalog.cluster(clusterName);
    if (!cluster) throw unknownCluster(clusterName);
    const space = (await this.catalog.space(cluster.storage_space))!;
    return {
      cluster,
      space,
      k: space.width - space.parity_width,
      m: space.parity_width,
      shard: space.segment_size,
    };
  }

  /**
   * Loads a stream of bytes into a table: cut into groups of k * shard bytes, parity computed, every segment
   * written durably, and all groups catalogued in one transaction at the end. If anything fails (or the
   * signal aborts) every file written by this load is removed: the table is as it was before. `data` yields
   * chunks, or runs of chunks (COPY's CopyData messages that arrived together).
   */
  async load(
    tableName: string,
    data: AsyncIterable<Buffer | Buffer[]>,
    signal?: AbortSignal,
  ): Promise<number> {
    const table = await this.catalog.table(tableName);
    if (!table) throw new StoreError('42P01', `table "${tableName}" does not exist`);
    const { k, m, shard } = await this.clusterLayout(table.cluster_name);
    const devices = (await this.catalog.devicesOfCluster(table.cluster_name)) as PlacementDevice[];
    const away = await this.unreachableNodes(devices);
    const usable = new Set(
      devices
        .filter((d) => d.node_status === 'ONLINE' && d.status === 'ACTIVE' && !away.has(d.node_name))
        .map((d) => d.node_name),
    );
    if (away.size && usable.size < k + m)
      throw new StoreError(
        '58030',
        `cannot load table "${tableName}": a segment group needs ${k + m} nodes of cluster ${table.cluster_name}, and only ${usable.size} answer; unreachable: ${[
          ...away,
        ]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([node, why]) => `node ${node} (${why})`)
          .join(', ')}`,
        'Start the storage agents of those nodes again (segtasks agent on their hosts), or add nodes to the cluster.',
      );
    const state: LoadState = {
      table,
      cluster: table.cluster_name,
      k,
      m,
      shard,
      placer: new Placer(devices),
      away: new Set(away.keys()),
      groups: [],
      nextSeq: 0, // order within this load; the catalog numbers the table's groups when it commits
      writtenBy: new Map(),
      ioOfNode: new Map(),
    };
    // Receiving the next group overlaps coding and writing the previous ones.
    const inFlight = new Set<Promise<void>>();
    let failure: unknown = null;
    // Each group's files are fdatasynced as soon as they are written (DeviceIO.writeBack), one group after
    // another, while the next groups are received: the disk writes the load back during the COPY instead of
    // all of it after the last CopyData (40% of a 256 MiB COPY's time). makeDurable still runs over every
    // file before the catalog transaction (their directories, and the files not written back yet:
    // docs/durability.md, step 3).
    const writeBack = new BoundedQueue(WRITE_BACKS);
    /** The files whose writeBack has returned (each is written once): makeDurable syncs only their directories. */
    const writtenBack = new Set<string>();
    const startWriteBack = (written: Map<DeviceIO, string[]>) =>
      writeBack.add(async () => {
        await Promise.all(
          [...written].map(async ([dio, paths]) => {
            await dio.writeBack(paths);
            for (const p of paths) writtenBack.add(p);
          }),
        );
      });
    // Group and parity buffers go back to the pool once their files are written (all of a group's writes
    // have settled by then): allocating and zeroing them for every group kept the garbage collector busy.
    // They lie in shared memory, from which an in-process device I/O writes on its writer thread.
    const buffers = new BufferPool(GROUPS_IN_FLIGHT + 1, true);
    const submit = async (group: Buffer, bytes: number, seq: number) => {
      const p = this.writeGroup(state, group, bytes, seq, buffers)
        .then(startWriteBack)
        .catch((err) => {
          failure ??= err;
        })
        .finally(() => buffers.give(group));
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
      while (inFlight.size >= GROUPS_IN_FLIGHT) await Promise.race(inFlight);
      failure ??= writeBack.failure;
      if (failure) throw failure;
    };
    const groupBytes = k * shard;
    // Filled up to `fill` before use; the rest of a last, short group is zeroed by writeGroup.
    let buf = buffers.take(groupBytes);
    let fill = 0;
    let total = 0;
    try {
      for await (const item of data) {
        if (signal?.aborted) throw new StoreError('57014', 'COPY was cancelled');
        for (const chunk of Array.isArray(item) ? item : [item]) {
          let off = 0;
          while (off < chunk.length) {
            const n = Math.min(chunk.length - off, groupBytes - fill);
            chunk.copy(buf, fill, off, off + n);
            fill += n;
            off += n;
            if (fill === groupBytes) {
              await submit(buf, fill, state.nextSeq++);
              buf = buffers.take(groupBytes);
              fill = 0;
            }
          }
          total += chunk.length;
        }
      }
      if (fill > 0) await submit(buf, fill, state.nextSeq++);
      await Promise.all(inFlight);
      if (failure) throw failure;
      await writeBack.settled();
      if (signal?.aborted) throw new StoreError('57014', 'COPY was cancelled');
      // Every file and its directory entry become durable before the catalog says the segments exist (a
      // crash before this point leaves only uncatalogued files, which start-up recovery removes).
      await Promise.all([...state.writtenBy].map(([dio, paths]) => dio.makeDurable(paths, writtenBack)));
      state.groups.sort((a, b) => a.seq - b.seq);
      await this.catalog.addGroups(table, state.cluster, k + m, m, state.groups);
    } catch (err) {
      await Promise.allSettled(inFlight);
      // err is what the COPY reports: a write-back failure was thrown as err, or comes second to it.
      await writeBack.settled().catch(() => {});
      await Promise.all(
        [...state.writtenBy].map(([dio, paths]) =>
          removeTold(dio, paths, this.removals, 'could not remove the files of a failed COPY'),
        ),
      );
      throw err;
    }
    // The client hears COPY n only once the catalog's commit survives a power loss, as PostgreSQL's does.
    await this.catalog.durable();
    return total;
  }

  /**
   * The ONLINE agent nodes among a load's devices that do not answer now (a heartbeat within LOAD_PROBE_MS),
   * with why. A load places its groups around them, rather than fail at its first write to one (or wait for a
   * hung host's request timeout); the heartbeat sets them OFFLINE in its own time. Nodes served in process
   * always answer.
   */
  private async unreachableNodes(devices: PlacementDevice[]): Promise<Map<string, string>> {
    const byNode = new Map<string, DeviceRef[]>();
    for (const d of devices) {
      if (d.node_status !== 'ONLINE') continue;
      let refs = byNode.get(d.node_name);
      if (!refs) byNode.set(d.node_name, (refs = []));
      refs.push({ id: d.id, node_name: d.node_name, path: d.path });
    }
    const away = new Map<string, string>();
    await Promise.all(
      [...byNode].map(async ([node, refs]) => {
        try {
          await (await this.io.forNode(node)).serve(node, refs, LOAD_PROBE_MS);
        } catch (err) {
          // As for the heartbeat: whatever keeps the agent from answering, it does not answer.
          away.set(node, (err as Error).message);
        }
      }),
    );
    return away;
  }

  private async writeGroup(
    state: LoadState,
    data: Buffer,
    dataBytes: number,
    seq: number,
    buffers: BufferPool,
  ): Promise<Map<DeviceIO, string[]>> {
    const { k, m, shard } = state;
    // The last group of a load is shorter: its shards shrink to fit (kept a multiple of 8 for the coder),
    // zero-padded (the pooled buffer holds an earlier group's bytes past dataBytes).
    const shardBytes = dataBytes === k * shard ? shard : Math.max(8, Math.ceil(dataBytes / k / 8) * 8);
    const dataBuf =
      shardBytes === shard
        ? data.fill(0, dataBytes)
        : Buffer.concat([data.subarray(0, dataBytes), Buffer.alloc(k * shardBytes - dataBytes)]);
    // Every byte of it is written by the coder; back to the pool once the group's files are written.
    const parity = buffers.take(m * shardBytes);
    try {
      return await this.writeShards(state, dataBuf, parity, shardBytes, dataBytes, seq);
    } finally {
      buffers.give(parity);
    }
  }

  private async writeShards(
    state: LoadState,
    dataBuf: Buffer,
    parity: Buffer,
    shardBytes: number,
    dataBytes: number,
    seq: number,
  ): Promise<Map<DeviceIO, string[]>> {
    const { k, m } = state;
    /** This group's files, by the device I/O that wrote them. */
    const ofGroup = new Map<DeviceIO, string[]>();
    await coderFor(k, m).encode(dataBuf, parity, shardBytes);
    const fileBytes = fileSizeFor(shardBytes);
    const placements = state.placer.placeGroup(k + m, fileBytes, state.away);
    const groupId = await this.catalog.reserveGroupIds(1);
    // allSettled, not all: when one write fails the others must finish (and be recorded for cleanup) before
    // the load gives up, or a write still in flight would leave an orphan file behind.
    const settled = await Promise.allSettled(
      placements.map(async (p, position) => {
        const storageId = randomUUID();
        let io = state.ioOfNode.get(p.node);
        if (!io) state.ioOfNode.set(p.node, (io = this.io.forNode(p.node)));
        const dio = await io;
        const payload =
          position < k
            ? dataBuf.subarray(position * shardBytes, (position + 1) * shardBytes)
            : parity.subarray((position - k) * shardBytes, (position - k + 1) * shardBytes);
        // Neither the file nor the directory is synced here: load() syncs all of them before cataloguing.
        const res = await writeToDevice(
          this.catalog,
          dio,
          p.device,
          { storageId, groupId, position, isParity: position >= k },
          payload,
          { durable: false, fresh: true },
        ).catch((err) => {
          if (err instanceof StoreError) throw err;
          const where = `device ${p.device.path} of node ${p.node}`;
          if (err instanceof SqlError && err.code === '53100')
            throw new SqlError(err.code, err.message, {
              ...err.extra,
              detail: `The segment was for ${where}.`,
            });
          throw new StoreError('58030', `could not write segment to ${where}: ${(err as Error).message}`);
        });
        let written = state.writtenBy.get(dio);
        if (!written) state.writtenBy.set(dio, (written = []));
        written.push(res.path);
        let mine = ofGroup.get(dio);
        if (!mine) ofGroup.set(dio, (mine = []));
        mine.push(res.path);
        return {
          storage_id: storageId,
          position,
          is_parity: position >= k,
          node_name: p.node,
          device_id: p.device.id,
          path: res.path,
          size_bytes: res.size,
          checksum: res.checksum,
        };
      }),
    );
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const segments = settled.map((r) => (r as PromiseFulfilledResult<NewSegment>).value);
    state.groups.push({
      id: groupId,
      seq,
      data_bytes: dataBytes,
      shard_bytes: shardBytes,
      segments,
    });
    return ofGroup;
  }

  /**
   * Reads a group's data back: the data segments, verified; any that is missing, marked DAMAGED/MISSING, or
   * fails verification is rebuilt from the others. A segment the catalog called INTACT whose file fails
   * verification becomes DAMAGED (MISSING when the file is gone), so that a rebuild repairs it for good, and
   * is reported to `onRepair`. Fails with an error naming the group and table when more segments are lost than
   * the group has parity. The bytes lie in buffers of `pool`, which go back to it after release().
   */
  async readGroup(
    group: SegmentGroup,
    tableName: string,
    onRepair?: (r: RepairedSegment) => void,
    pool: BufferPool = new BufferPool(0),
  ): Promise<GroupBytes> {
    const k = group.width - group.parity_width;
    const m = group.parity_width;
    const S = group.shard_bytes;
    const segs = await this.catalog.segmentsOfGroup(group.id);
    const buffers = new GroupBuffers(pool, k * S, m * S);
    try {
      const bytes = await this.decodeGroup(group, tableName, segs, buffers, onRepair);
      return { bytes, release: () => buffers.release() };
    } catch (err) {
      buffers.release();
      throw err;
    }
  }

  private async decodeGroup(
    group: SegmentGroup,
    tableName: string,
    segs: Segment[],
    buffers: GroupBuffers,
    onRepair?: (r: RepairedSegment) => void,
  ): Promise<Buffer> {
    const k = group.width - group.parity_width;
    const m = group.parity_width;
    const S = group.shard_bytes;
    let data = buffers.data;
    const found: RepairedSegment[] = [];
    /** Each read's own abort: a read still running when the group is decoded without it is stopped. */
    const aborts = new Map<number, AbortController>();
    const readInto = async (position: number): Promise<boolean> => {
      const seg = segs.find((s) => s.position === position);
      if (!seg || seg.status === 'MISSING' || seg.status === 'REBUILDING') return false;
      const into =
        position < k
          ? data.subarray(position * S, (position + 1) * S)
          : buffers.parity().subarray((position - k) * S, (position - k + 1) * S);
      const abort = new AbortController();
      aborts.set(position, abort);
      try {
        await (await this.io.forNode(seg.node_name)).readSegment(
          seg.path,
          { storageId: seg.storage_id, groupId: group.id, position, payloadLength: S },
          { into, signal: abort.signal },
        );
        return true;
      } catch (err) {
        // Stopped because the group was decoded without it: not a finding.
        if (abort.signal.aborted) return false;
        // An agent that cannot be reached now: the shard is rebuilt for this read, and its status is left to
        // the heartbeat (the node becomes OFFLINE if the agent stays away).
        if (err instanceof DeviceUnavailable) return false;
        if (!(err instanceof SegmentFault)) throw err;
        if (seg.status === 'INTACT')
          found.push({
            storageId: seg.storage_id,
            path: seg.path,
            node: seg.node_name,
            groupId: group.id,
            position,
            fault: err.kind,
            message: err.message,
            status: err.kind === 'MISSING' ? 'MISSING' : 'DAMAGED',
          });
        return false;
      }
    };
    const reportFound = async () => {
      if (!found.length) return;
      await this.catalog.setSegmentStatus(found.map((f) => ({ storageId: f.storageId, status: f.status })));
      for (const f of found) onRepair?.(f);
    };
    // The data segments are read at once. Parity is read for each one that fails, and, after a deadline (a
    // hedged read), for each one still not there: whichever k segments arrive first are decoded.
    const done = new Map<number, boolean>();
    const running = new Map<number, Promise<void>>();
    const start = (p: number) => {
      running.set(
        p,
        buffers.track(readInto(p)).then((ok) => {
          done.set(p, ok);
          running.delete(p);
        }),
      );
    };
    for (let p = 0; p < k; p++) start(p);
    let hedging = false;
    const deadline = new Promise<void>((r) => setTimeout(() => r(), HEDGE_AFTER_MS).unref());
    let nextParity = k;
    // Each round either starts a read or waits for one to end: at most 2 (k + m) rounds.
    for (let round = 0; round < 2 * (k + m) + 1; round++) {
      const good = [...done.values()].filter(Boolean).length;
      if (good >= k || (!running.size && nextParity >= k + m)) break;
      const waitingFor = hedging ? 0 : running.size;
      const need = k - good - waitingFor;
      if (need > 0 && nextParity < k + m) {
        for (let i = 0; i < need && nextParity < k + m; i++) start(nextParity++);
        continue;
      }
      if (!running.size) break;
      const settled = await Promise.race([
        Promise.race(running.values()).then(() => true),
        hedging ? new Promise<boolean>(() => {}) : deadline.then(() => false),
      ]);
      if (!settled) hedging = true;
    }
    const good = [...done].filter(([, ok]) => ok).map(([p]) => p);
    if (good.length < k) {
      for (const a of aborts.values()) a.abort();
      await reportFound();
      throw new StoreError(
        'XX001',
        `segment group ${group.id} of table "${tableName}" cannot be read: ${k + m - good.length} of its ${k + m} segments are lost or corrupt, and it has only ${m} parity`,
        'Run CREATE TASK ... TYPE rebuild to repair what can be repaired.',
      );
    }
    // Reads still running are stopped; as they may still be filling their part of the buffers, the segments
    // that arrived are decoded in fresh buffers.
    const stopped = [...running.keys()];
    for (const p of stopped) aborts.get(p)!.abort();
    const allData = good.filter((p) => p < k).length === k;
    if (!allData) {
      let parity = buffers.parity();
      if (stopped.length) {
        const d2 = Buffer.alloc(k * S);
        const p2 = Buffer.alloc(m * S);
        for (const p of good) {
          if (p < k) data.copy(d2, p * S, p * S, (p + 1) * S);
          else parity.copy(p2, (p - k) * S, (p - k) * S, (p - k + 1) * S);
        }
        data = d2;
        parity = p2;
      }
      const goodSet = new Set(good);
      const lost = Array.from({ length: k + m }, (_, p) => p).filter((p) => !goodSet.has(p));
      await coderFor(k, m).reconstruct(data, parity, S, lost);
    }
    await reportFound();
    return data.subarray(0, group.data_bytes);
  }

  /** Streams a table's bytes, group by group, in load order; segments rebuilt on the way go to `onRepair`. */
  async *read(
    tableName: string,
    signal?: AbortSignal,
    onRepair?: (r: RepairedSegment) => void,
  ): AsyncGenerator<Buffer> {
    const table = await this.catalog.table(tableName);
    if (!table) throw new StoreError('42P01', `table "${tableName}" does not exist`);
    const groups = await this.catalog.groupsOfTable(table.id);
    // READ_AHEAD groups are read ahead while the current one is sent, so that the disk has several segment
    // reads to work on at any time. Their buffers are reused from group to group (allocating and zeroing a
    // group's worth for every group kept the garbage collector busy): the one sent, the ones read ahead, and
    // one whose stopped reads have not all settled yet.
    const pool = new BufferPool(READ_AHEAD + 2);
    const ahead: Promise<GroupBytes>[] = [];
    let started = 0;
    const readAhead = () => {
      while (ahead.length < READ_AHEAD && started < groups.length) {
        const p = this.readGroup(groups[started++], table.name, onRepair, pool);
        p.catch(() => {});
        ahead.push(p);
      }
    };
    readAhead();
    for (let i = 0; i < groups.length; i++) {
      if (signal?.aborted) throw new StoreError('57014', 'COPY was cancelled');
      const { bytes, release } = await ahead.shift()!;
      readAhead();
      // Hand out in slices of at most 1 MiB so that CopyData messages stay small. A slice is the reader's
      // until it asks for the next one; the group's buffers go back to the pool after its last slice.
      try {
        for (let off = 0; off < bytes.length; off += 1 << 20)
          yield bytes.subarray(off, Math.min(bytes.length, off + (1 << 20)));
      } finally {
        release();
      }
    }
  }

  /**
   * Drops a table crash-safely: the catalog forgets it and records its files as pending removals in one
   * transaction, the files are removed and their directories synced, then the records go. A crash in between
   * leaves records that start-up recovery finishes (recovery.ts).
   */
  async dropTable(name: string): Promise<void> {
    await removeFiles(this.catalog, this.io, await this.catalog.dropTable(name));
  }
}

export { CatalogError };
