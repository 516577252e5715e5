// Data access for the storage topology and the segment catalog. Every write is a short synchronous SQLite
// transaction on the server's one writer connection; the rules about what may change (no dropping what holds
// data, names unique) are checked inside the same transaction.

import { randomUUID } from 'node:crypto';
import { SqlError } from '../pg/errors';
import { type Catalog, nowText } from './db';

export class CatalogError extends SqlError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, hint ? { hint } : {});
  }

  get hint(): string | undefined {
    return this.extra.hint;
  }
}

/** 42704 for a node name the catalog does not know, with a hint that says where the names are listed. */
export function unknownNode(name: string): CatalogError {
  return new CatalogError(
    '42704',
    `node "${name}" does not exist`,
    'SELECT name, cluster_name FROM sys.nodes lists the nodes.',
  );
}

export function unknownCluster(name: string): CatalogError {
  return new CatalogError(
    '42704',
    `cluster "${name}" does not exist`,
    'SELECT name FROM sys.clusters lists the clusters.',
  );
}

export function unknownStorageSpace(name: string): CatalogError {
  return new CatalogError(
    '42704',
    `storage space "${name}" does not exist`,
    'SELECT name FROM sys.storage_spaces lists the storage spaces.',
  );
}

export interface StorageSpace {
  name: string;
  width: number;
  parity_width: number;
  segment_size: number;
}
export interface Cluster {
  id: string;
  name: string;
  storage_space: string;
}
export interface Node {
  id: string;
  name: string;
  cluster_name: string;
  status: 'ONLINE' | 'OFFLINE';
  /** host:port of the storage agent that serves the node; null when it is served in process. */
  address: string | null;
  /** Who set it OFFLINE: 'operator' (ALTER NODE) or 'unreachable' (its agent stopped answering). */
  offline_reason: string | null;
}
export interface Device {
  id: string;
  node_name: string;
  path: string;
  capacity_bytes: number;
  used_bytes: number;
  status: 'ACTIVE' | 'FAILED';
}
export interface Table {
  id: string;
  name: string;
  cluster_name: string;
  bytes: number;
  segment_groups: number;
  owner: string;
}
export interface SegmentGroup {
  id: number;
  table_id: string;
  seq: number;
  cluster_name: string;
  width: number;
  parity_width: number;
  data_bytes: number;
  shard_bytes: number;
  status: string;
}
export type SegmentStatus = 'INTACT' | 'DAMAGED' | 'MISSING' | 'REBUILDING';
export interface Segment {
  storage_id: string;
  segment_group_id: number;
  position: number;
  is_parity: number;
  node_name: string;
  device_id: string;
  path: string;
  size_bytes: number;
  status: SegmentStatus;
  checksum: string | null;
  last_checked_at: string | null;
}

export interface NewSegment {
  storage_id: string;
  position: number;
  is_parity: boolean;
  node_name: string;
  device_id: string;
  path: string;
  size_bytes: number;
  checksum: string;
}

export interface NewGroup {
  id: number;
  seq: number;
  data_bytes: number;
  shard_bytes: number;
  segments: NewSegment[];
}

export interface SegmentFilter {
  /** Only segments in these statuses. */
  statuses?: SegmentStatus[];
  groupIds?: number[] | null;
  tableId?: string | null;
  /** Keyset paging: only segments with a larger rowid, at most `limit` of them, in rowid order. */
  afterRowid?: number;
  limit?: number;
  cluster?: string;
  node?: string;
  deviceId?: string;
  storageIds?: string[] | null;
  onlyUnhealthy?: boolean;
}

function segmentWhere(filter: SegmentFilter): { where: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.cluster) {
    where.push('g.cluster_name = ?');
    args.push(filter.cluster);
  }
  if (filter.node) {
    where.push('s.node_name = ?');
    args.push(filter.node);
  }
  if (filter.deviceId) {
    where.push('s.device_id = ?');
    args.push(filter.deviceId);
  }
  if (filter.onlyUnhealthy) where.push("s.status <> 'INTACT'");
  if (filter.statuses) {
    where.push(`s.status IN (${filter.statuses.map(() => '?').join(', ')})`);
    args.push(...filter.statuses);
  }
  if (filter.groupIds) {
    where.push('g.id IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(filter.groupIds));
  }
  if (filter.tableId) {
    where.push('g.table_id = ?');
    args.push(filter.tableId);
  }
  if (filter.storageIds) {
    where.push('s.storage_id IN (SELECT value FROM json_each(?))');
    args.push(JSON.stringify(filter.storageIds));
  }
  return { where: where.length ? 'WHERE ' + where.join(' AND ') : '', args };
}

const STATUS_RANK: Record<string, number> = { INTACT: 0, REBUILDING: 1, DAMAGED: 2, MISSING: 3 };

export class StorageCatalog {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---------- storage spaces, clusters, nodes, devices ----------

  createStorageSpace(name: string, width: number, parity: number, segmentSize: number): void {
    this.tx(() => {
      if (this.space(name)) throw new CatalogError('42710', `storage space "${name}" already exists`);
      this.db
        .prepare(
          'INSERT INTO storage_spaces (name, width, parity_width, segment_size, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(name, width, parity, segmentSize, nowText());
    });
  }

  space(name: string): StorageSpace | undefined {
    return this.db.prepare('SELECT * FROM storage_spaces WHERE name = ?').get(name) as
      | StorageSpace
      | undefined;
  }

  dropStorageSpace(name: string): void {
    this.tx(() => {
      if (!this.space(name)) throw unknownStorageSpace(name);
      const users = this.db
        .prepare('SELECT name FROM clusters WHERE storage_space = ?')
        .pluck()
        .all(name) as string[];
      if (users.length) {
        throw new CatalogError(
          '2BP01',
          `cannot drop storage space "${name}": cluster "${users[0]}" uses it`,
          'Drop the clusters that use it first.',
        );
      }
      this.db.prepare('DELETE FROM storage_spaces WHERE name = ?').run(name);
    });
  }

  createCluster(name: string, space: string): void {
    this.tx(() => {
      if (this.cluster(name)) throw new CatalogError('42710', `cluster "${name}" already exists`);
      if (!this.space(space)) throw unknownStorageSpace(space);
      this.db
        .prepare('INSERT INTO clusters (id, name, storage_space, created_at) VALUES (?, ?, ?, ?)')
        .run(randomUUID(), name, space, nowText());
    });
  }

  cluster(name: string): Cluster | undefined {
    return this.db.prepare('SELECT id, name, storage_space FROM clusters WHERE name = ?').get(name) as
      | Cluster
      | undefined;
  }

  clusters(): Cluster[] {
    return this.db.prepare('SELECT id, name, storage_space FROM clusters ORDER BY name').all() as Cluster[];
  }

  dropCluster(name: string): void {
    this.tx(() => {
      if (!this.cluster(name)) throw unknownCluster(name);
      const tables = this.db
        .prepare('SELECT name FROM tables WHERE cluster_name = ?')
        .pluck()
        .all(name) as string[];
      if (tables.length)
        throw new CatalogError(
          '2BP01',
          `cannot drop cluster "${name}": table "${tables[0]}" is stored in it`,
        );
      const nodes = this.db
        .prepare('SELECT name FROM nodes WHERE cluster_name = ?')
        .pluck()
        .all(name) as string[];
      if (nodes.length)
        throw new CatalogError('2BP01', `cannot drop cluster "${name}": node "${nodes[0]}" belongs to it`);
      this.db.prepare('DELETE FROM clusters WHERE name = ?').run(name);
    });
  }

  createNode(
    name: string,
    cluster: string,
    devices: { path: string; capacity: number }[],
    address: string | null = null,
  ): void {
    this.tx(() => {
      if (this.node(name)) throw new CatalogError('42710', `node "${name}" already exists`);
      if (!this.cluster(cluster)) throw unknownCluster(cluster);
      this.db
        .prepare(
          "INSERT INTO nodes (id, name, cluster_name, status, address, created_at) VALUES (?, ?, ?, 'ONLINE', ?, ?)",
        )
        .run(randomUUID(), name, cluster, address, nowText());
      for (const d of devices) this.insertDevice(name, d.path, d.capacity);
    });
  }

  /** The agent address of a node (null: served in process, or no such node). */
  nodeAddress(name: string): string | null {
    return (
      (this.db.prepare('SELECT address FROM nodes WHERE name = ?').pluck().get(name) as string | null) ?? null
    );
  }

  /** Nodes served by agents, with their devices' paths: what the heartbeat declares to each agent. */
  agentNodes(): { name: string; address: string; status: string; offline_reason: string | null }[] {
    return this.db
      .prepare(
        'SELECT name, address, status, offline_reason FROM nodes WHERE address IS NOT NULL ORDER BY name',
      )
      .all() as { name: string; address: string; status: string; offline_reason: string | null }[];
  }

  private insertDevice(node: string, path: string, capacity: number): void {
    // A path names a directory of one host: it may belong to one node of that host (nodes served in process
    // share this host; nodes of one agent address share that one).
    const taken = this.db
      .prepare(
        `SELECT d.node_name FROM storage_devices d JOIN nodes n ON n.name = d.node_name
         WHERE d.path = ? AND n.address IS (SELECT address FROM nodes WHERE name = ?)`,
      )
      .pluck()
      .get(path, node) as string | undefined;
    if (taken) throw new CatalogError('42710', `device "${path}" already belongs to node "${taken}"`);
    this.db
      .prepare(
        "INSERT INTO storage_devices (id, node_name, path, capacity_bytes, used_bytes, status, created_at) VALUES (?, ?, ?, ?, 0, 'ACTIVE', ?)",
      )
      .run(randomUUID(), node, path, capacity, nowText());
  }

  addDevice(node: string, path: string, capacity: number): void {
    this.tx(() => {
      if (!this.node(node)) throw unknownNode(node);
      this.insertDevice(node, path, capacity);
    });
  }

  node(name: string): Node | undefined {
    return this.db
      .prepare('SELECT id, name, cluster_name, status, address, offline_reason FROM nodes WHERE name = ?')
      .get(name) as Node | undefined;
  }

  nodes(cluster?: string): Node[] {
    return (
      cluster
        ? this.db
            .prepare(
              'SELECT id, name, cluster_name, status, address, offline_reason FROM nodes WHERE cluster_name = ? ORDER BY name',
            )
            .all(cluster)
        : this.db
            .prepare(
              'SELECT id, name, cluster_name, status, address, offline_reason FROM nodes ORDER BY name',
            )
            .all()
    ) as Node[];
  }

  setNodeStatus(
    name: string,
    status: 'ONLINE' | 'OFFLINE',
    reason: 'operator' | 'unreachable' = 'operator',
  ): void {
    const r = this.db
      .prepare('UPDATE nodes SET status = ?, offline_reason = ? WHERE name = ?')
      .run(status, status === 'OFFLINE' ? reason : null, name);
    if (!r.changes) throw unknownNode(name);
  }

  dropNode(name: string): void {
    this.tx(() => {
      if (!this.node(name)) throw unknownNode(name);
      const n = this.db
        .prepare('SELECT count(*) FROM segments WHERE node_name = ?')
        .pluck()
        .get(name) as number;
      if (n > 0) {
        throw new CatalogError(
          '2BP01',
          `cannot drop node "${name}": it still holds ${n} segment(s)`,
          'Run a rebuild with OPTIONS node = ... or a rebalance to move them first.',
        );
      }
      this.db.prepare('DELETE FROM storage_devices WHERE node_name = ?').run(name);
      this.db.prepare('DELETE FROM nodes WHERE name = ?').run(name);
    });
  }

  devices(node?: string): Device[] {
    return (
      node
        ? this.db.prepare('SELECT * FROM storage_devices WHERE node_name = ? ORDER BY path').all(node)
        : this.db.prepare('SELECT * FROM storage_devices ORDER BY node_name, path').all()
    ) as Device[];
  }

  device(id: string): Device | undefined {
    return this.db.prepare('SELECT * FROM storage_devices WHERE id = ?').get(id) as Device | undefined;
  }

  devicesOfCluster(cluster: string): (Device & { node_status: string })[] {
    return this.db
      .prepare(
        `SELECT d.*, n.status AS node_status FROM storage_devices d JOIN nodes n ON n.name = d.node_name
         WHERE n.cluster_name = ? ORDER BY d.node_name, d.path`,
      )
      .all(cluster) as (Device & { node_status: string })[];
  }

  setDeviceStatus(id: string, status: 'ACTIVE' | 'FAILED'): void {
    this.db.prepare('UPDATE storage_devices SET status = ? WHERE id = ?').run(status, id);
  }

  setDeviceCapacity(id: string, capacity: number): void {
    this.db.prepare('UPDATE storage_devices SET capacity_bytes = ? WHERE id = ?').run(capacity, id);
  }

  // ---------- tables ----------

  createTable(name: string, cluster: string, columns: string, owner: string): Table {
    return this.tx(() => {
      if (this.table(name)) throw new CatalogError('42P07', `relation "${name}" already exists`);
      if (!this.cluster(cluster)) throw unknownCluster(cluster);
      const id = randomUUID();
      this.db
        .prepare(
          'INSERT INTO tables (id, name, cluster_name, bytes, segment_groups, columns, owner, created_at) VALUES (?, ?, ?, 0, 0, ?, ?, ?)',
        )
        .run(id, name, cluster, columns, owner, nowText());
      return this.table(name)!;
    });
  }

  table(name: string): Table | undefined {
    return this.db
      .prepare('SELECT id, name, cluster_name, bytes, segment_groups, owner FROM tables WHERE name = ?')
      .get(name) as Table | undefined;
  }

  tableById(id: string): Table | undefined {
    return this.db
      .prepare('SELECT id, name, cluster_name, bytes, segment_groups, owner FROM tables WHERE id = ?')
      .get(id) as Table | undefined;
  }

  /**
   * Removes a table from the catalog and returns the segment files that the caller must delete. The paths are
   * recorded as pending removals in the same transaction; the caller forgets them once the files are gone.
   */
  dropTable(name: string): string[] {
    return this.tx(() => {
      const t = this.table(name);
      if (!t) throw new CatalogError('42P01', `table "${name}" does not exist`);
      const segs = this.db
        .prepare(
          'SELECT s.path, s.device_id, s.size_bytes, s.node_name FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id WHERE g.table_id = ?',
        )
        .all(t.id) as { path: string; device_id: string; size_bytes: number; node_name: string }[];
      const upd = this.db.prepare(
        'UPDATE storage_devices SET used_bytes = max(0, used_bytes - ?) WHERE id = ?',
      );
      for (const s of segs) upd.run(s.size_bytes, s.device_id);
      this.db
        .prepare(
          'DELETE FROM segments WHERE segment_group_id IN (SELECT id FROM segment_groups WHERE table_id = ?)',
        )
        .run(t.id);
      this.db.prepare('DELETE FROM segment_groups WHERE table_id = ?').run(t.id);
      const pending = this.db.prepare(
        'INSERT OR IGNORE INTO pending_file_removals (path, node_name) VALUES (?, ?)',
      );
      for (const s of segs) pending.run(s.path, s.node_name);
      this.db.prepare('DELETE FROM table_privileges WHERE table_id = ?').run(t.id);
      this.db.prepare('DELETE FROM tables WHERE id = ?').run(t.id);
      return segs.map((s) => s.path);
    });
  }

  /** Files of dropped tables not yet known to be removed. */
  pendingFileRemovals(): string[] {
    return this.db.prepare('SELECT path FROM pending_file_removals').pluck().all() as string[];
  }

  /** The node each pending removal's file is on (null for records older than node addresses: this host). */
  pendingRemovalNodes(paths: string[]): Map<string, string | null> {
    const rows = this.db
      .prepare(
        'SELECT path, node_name FROM pending_file_removals WHERE path IN (SELECT value FROM json_each(?))',
      )
      .all(JSON.stringify(paths)) as { path: string; node_name: string | null }[];
    return new Map(rows.map((r) => [r.path, r.node_name]));
  }

  /** Forgets pending removals whose files are gone. */
  fileRemovalsDone(paths: string[]): void {
    if (!paths.length) return;
    this.db
      .prepare('DELETE FROM pending_file_removals WHERE path IN (SELECT value FROM json_each(?))')
      .run(JSON.stringify(paths));
  }

  // ---------- table privileges (PostgreSQL's aclitem letters: r = SELECT, a = INSERT, ...) ----------

  /** Grants privileges on a table; the grantor is recorded as the owner, as PostgreSQL does for a superuser. */
  grantTable(tableId: string, grantees: string[], privileges: string[], grantor: string): void {
    this.tx(() => {
      const ins = this.db.prepare(
        'INSERT OR IGNORE INTO table_privileges (table_id, grantee, privilege, grantor) VALUES (?, ?, ?, ?)',
      );
      for (const g of grantees) for (const p of privileges) ins.run(tableId, g, p, grantor);
    });
  }

  revokeTable(tableId: string, grantees: string[], privileges: string[]): void {
    this.tx(() => {
      const del = this.db.prepare(
        'DELETE FROM table_privileges WHERE table_id = ? AND grantee = ? AND privilege = ?',
      );
      for (const g of grantees) for (const p of privileges) del.run(tableId, g, p);
    });
  }

  /** Whether a user (or PUBLIC) holds a privilege on a table by grant (owners and sysadmins are checked apart). */
  hasTablePrivilege(tableId: string, user: string, privilege: string): boolean {
    return !!this.db
      .prepare(
        "SELECT 1 FROM table_privileges WHERE table_id = ? AND grantee IN (?, 'public') AND privilege = ?",
      )
      .get(tableId, user, privilege);
  }

  // ---------- segment groups and segments ----------

  /** Reserves `count` consecutive group ids. Ids are never reused. */
  reserveGroupIds(count: number): number {
    const max =
      (this.db.prepare('SELECT coalesce(max(id), 0) FROM segment_groups').pluck().get() as number) ?? 0;
    const reserved = this.reservedUpTo ?? max;
    const start = Math.max(max, reserved) + 1;
    this.reservedUpTo = start + count - 1;
    return start;
  }
  private reservedUpTo: number | null = null;

  nextSeq(tableId: string): number {
    return (
      ((this.db
        .prepare('SELECT coalesce(max(seq), -1) FROM segment_groups WHERE table_id = ?')
        .pluck()
        .get(tableId) as number) ?? -1) + 1
    );
  }

  /**
   * Catalogues new groups and their segments, updating table and device totals, in one transaction. The groups'
   * `seq` are their order within this load; the table's sequence numbers are assigned here, after those of every
   * load committed before, so concurrent loads each land as one contiguous run.
   */
  addGroups(table: Table, cluster: string, width: number, parity: number, groups: NewGroup[]): void {
    this.tx(() => {
      if (!this.tableById(table.id)) {
        throw new CatalogError(
          '42P01',
          `table "${table.name}" was dropped while the COPY into it ran; nothing was loaded`,
        );
      }
      const base = this.nextSeq(table.id);
      // New rows get row ids above the largest one now; a checked range past it names rows since removed,
      // whose ids the new rows may take again: cut it there.
      const top = (this.db.prepare('SELECT max(rowid) FROM segments').pluck().get() as number | null) ?? 0;
      this.db.prepare('DELETE FROM segment_checks WHERE first_rowid > ?').run(top);
      this.db.prepare('UPDATE segment_checks SET last_rowid = ? WHERE last_rowid > ?').run(top, top);
      const g = this.db.prepare(
        "INSERT INTO segment_groups (id, table_id, seq, cluster_name, width, parity_width, data_bytes, shard_bytes, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'INTACT')",
      );
      const s = this.db.prepare(
        "INSERT INTO segments (storage_id, segment_group_id, position, is_parity, node_name, device_id, path, size_bytes, status, checksum, last_checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'INTACT', ?, NULL)",
      );
      const dev = this.db.prepare('UPDATE storage_devices SET used_bytes = used_bytes + ? WHERE id = ?');
      let bytes = 0;
      for (const grp of groups) {
        g.run(grp.id, table.id, base + grp.seq, cluster, width, parity, grp.data_bytes, grp.shard_bytes);
        bytes += grp.data_bytes;
        for (const seg of grp.segments) {
          s.run(
            seg.storage_id,
            grp.id,
            seg.position,
            seg.is_parity ? 1 : 0,
            seg.node_name,
            seg.device_id,
            seg.path,
            seg.size_bytes,
            seg.checksum,
          );
          dev.run(seg.size_bytes, seg.device_id);
        }
      }
      this.db
        .prepare('UPDATE tables SET bytes = bytes + ?, segment_groups = segment_groups + ? WHERE id = ?')
        .run(bytes, groups.length, table.id);
    });
  }

  groupsOfTable(tableId: string): SegmentGroup[] {
    return this.db
      .prepare('SELECT * FROM segment_groups WHERE table_id = ? ORDER BY seq')
      .all(tableId) as SegmentGroup[];
  }

  group(id: number): SegmentGroup | undefined {
    return this.db.prepare('SELECT * FROM segment_groups WHERE id = ?').get(id) as SegmentGroup | undefined;
  }

  segmentsOfGroup(groupId: number): Segment[] {
    return this.db
      .prepare('SELECT * FROM segments WHERE segment_group_id = ? ORDER BY position')
      .all(groupId) as Segment[];
  }

  segment(storageId: string): Segment | undefined {
    return this.db.prepare('SELECT * FROM segments WHERE storage_id = ?').get(storageId) as
      | Segment
      | undefined;
  }

  /** Sets segment statuses and refreshes the status of their groups, in one transaction. */
  setSegmentStatus(updates: { storageId: string; status: SegmentStatus; checkedAt?: string }[]): void {
    if (!updates.length) return;
    this.tx(() => {
      const upd = this.db.prepare(
        'UPDATE segments SET status = ?, last_checked_at = coalesce(?, last_checked_at) WHERE storage_id = ?',
      );
      const groups = new Set<number>();
      for (const u of updates) {
        upd.run(u.status, u.checkedAt ?? null, u.storageId);
        const g = this.db
          .prepare('SELECT segment_group_id FROM segments WHERE storage_id = ?')
          .pluck()
          .get(u.storageId) as number | undefined;
        if (g !== undefined) groups.add(g);
      }
      for (const g of groups) this.refreshGroupStatus(g);
    });
  }

  /** Records that segments were checked (clean), without changing their status. */
  markChecked(storageIds: string[], at: string): void {
    if (!storageIds.length) return;
    this.tx(() => {
      const upd = this.db.prepare('UPDATE segments SET last_checked_at = ? WHERE storage_id = ?');
      for (const id of storageIds) upd.run(at, id);
    });
  }

  /**
   * Records that every segment of a device whose row id is in one of `runs` ([first, last], inclusive) was
   * checked clean at `at`: one row per run (segment_checks, schema.ts) instead of one write per segment. The
   * caller vouches that the runs hold no segment of the device it did not check clean. The device's ranges
   * stay apart: older ones are cut around each new one.
   */
  markCheckedRange(deviceId: string, runs: [number, number][], at: string): void {
    if (!runs.length) return;
    this.tx(() => {
      const inside = this.db.prepare(
        'DELETE FROM segment_checks WHERE device_id = ? AND first_rowid >= ? AND last_rowid <= ?',
      );
      const across = this.db.prepare(
        'SELECT rowid, last_rowid, checked_at FROM segment_checks WHERE device_id = ? AND first_rowid < ? AND last_rowid > ?',
      );
      const insert = this.db.prepare(
        'INSERT INTO segment_checks (device_id, first_rowid, last_rowid, checked_at) VALUES (?, ?, ?, ?)',
      );
      const cutEnd = this.db.prepare(
        'UPDATE segment_checks SET last_rowid = ? WHERE device_id = ? AND first_rowid < ? AND last_rowid >= ?',
      );
      const cutStart = this.db.prepare(
        'UPDATE segment_checks SET first_rowid = ? WHERE device_id = ? AND first_rowid <= ? AND last_rowid > ?',
      );
      for (const [a, b] of runs) {
        inside.run(deviceId, a, b);
        // A range reaching past both ends keeps its two outer parts.
        for (const r of across.all(deviceId, a, b) as { last_rowid: number; checked_at: string }[])
          insert.run(deviceId, b + 1, r.last_rowid, r.checked_at);
        cutEnd.run(a - 1, deviceId, a, a);
        cutStart.run(b + 1, deviceId, b, b);
        insert.run(deviceId, a, b, at);
      }
    });
  }

  refreshGroupStatus(groupId: number): void {
    const statuses = this.db
      .prepare('SELECT status FROM segments WHERE segment_group_id = ?')
      .pluck()
      .all(groupId) as string[];
    const worst = statuses.reduce((w, s) => (STATUS_RANK[s] > STATUS_RANK[w] ? s : w), 'INTACT');
    this.db.prepare('UPDATE segment_groups SET status = ? WHERE id = ?').run(worst, groupId);
  }

  /** Groups with a DAMAGED, MISSING or REBUILDING segment (the work of a rebuild), filtered. */
  groupsNeedingRebuild(filter: {
    cluster?: string;
    node?: string;
    groupIds?: number[] | null;
    tableId?: string | null;
  }): number[] {
    const { where, args } = segmentWhere({ ...filter, statuses: ['DAMAGED', 'MISSING', 'REBUILDING'] });
    return this.db
      .prepare(
        `SELECT DISTINCT g.id FROM segment_groups g JOIN segments s ON s.segment_group_id = g.id ${where} ORDER BY g.id`,
      )
      .pluck()
      .all(...args) as number[];
  }

  /** Group ids of the list that do not exist. */
  unknownGroupIds(ids: number[]): number[] {
    const known = new Set(
      this.db
        .prepare('SELECT id FROM segment_groups WHERE id IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(JSON.stringify(ids)) as number[],
    );
    return ids.filter((i) => !known.has(i));
  }

  /**
   * Points a segment at its new, verified file: location, checksum, status INTACT; moves the used bytes from
   * the old device to the new one and refreshes the group's status. One transaction.
   */
  switchSegment(
    storageId: string,
    to: { device_id: string; node_name: string; path: string; size_bytes: number; checksum: string },
    checkedAt: string,
  ): void {
    this.tx(() => {
      const old = this.segment(storageId);
      if (!old) throw new CatalogError('42704', `segment ${storageId} does not exist`);
      this.db
        .prepare(
          "UPDATE segments SET device_id = ?, node_name = ?, path = ?, size_bytes = ?, checksum = ?, status = 'INTACT', last_checked_at = ? WHERE storage_id = ?",
        )
        .run(to.device_id, to.node_name, to.path, to.size_bytes, to.checksum, checkedAt, storageId);
      this.db
        .prepare('UPDATE storage_devices SET used_bytes = max(0, used_bytes - ?) WHERE id = ?')
        .run(old.size_bytes, old.device_id);
      this.db
        .prepare('UPDATE storage_devices SET used_bytes = used_bytes + ? WHERE id = ?')
        .run(to.size_bytes, to.device_id);
      this.refreshGroupStatus(old.segment_group_id);
    });
  }

  /** Every segment file path the catalog knows, for the orphan scan at start-up. */
  allSegmentPaths(): Set<string> {
    return new Set(this.db.prepare('SELECT path FROM segments').pluck().all() as string[]);
  }

  /**
   * How many segments and bytes each device holds under a filter: the plan of a check, in one query. It
   * reads only the segments table (through its device index) and the devices: joining every segment to its
   * group would cost a lookup per segment, which at a million segments is seconds. The payload is derived
   * from the file size (the header and the 8-byte block checksums are the rest).
   */
  segmentsPerDevice(filter: SegmentFilter): {
    device_id: string;
    node_name: string;
    cluster_name: string;
    path: string;
    segments: number;
    bytes: number;
    payload: number;
  }[] {
    const { cluster, ...rest } = filter;
    const devices = new Map(
      (
        this.db
          .prepare(
            'SELECT d.id, d.path, d.node_name, d.used_bytes, n.cluster_name FROM storage_devices d JOIN nodes n ON n.name = d.node_name',
          )
          .all() as {
          id: string;
          path: string;
          node_name: string;
          used_bytes: number;
          cluster_name: string;
        }[]
      ).map((d) => [d.id, d]),
    );
    if (
      !rest.storageIds &&
      !rest.onlyUnhealthy &&
      !rest.statuses &&
      !rest.groupIds &&
      !rest.tableId &&
      !rest.deviceId
    ) {
      // The common case (a whole location): bytes are the devices' used_bytes, kept by every catalog write, and
      // the count comes from the device index alone, so a million segments plan in milliseconds.
      const counts = this.db
        .prepare(
          `SELECT device_id, count(*) AS n FROM segments ${rest.node ? 'WHERE node_name = ?' : ''} GROUP BY device_id`,
        )
        .all(...(rest.node ? [rest.node] : [])) as { device_id: string; n: number }[];
      return counts
        .map((c) => ({ d: devices.get(c.device_id)!, n: c.n }))
        .filter(({ d }) => !cluster || d.cluster_name === cluster)
        .map(({ d, n }) => {
          const overhead = n * 64 + Math.ceil((d.used_bytes / (128 * 1024 + 8)) * 8);
          return {
            device_id: d.id,
            node_name: d.node_name,
            cluster_name: d.cluster_name,
            path: d.path,
            segments: n,
            bytes: d.used_bytes,
            payload: Math.max(0, d.used_bytes - overhead),
          };
        })
        .sort((a, b) => a.node_name.localeCompare(b.node_name) || a.path.localeCompare(b.path));
    }
    const { where, args } = segmentWhere(rest);
    const clusterCond = cluster
      ? `${where ? ' AND' : ' WHERE'} s.node_name IN (SELECT name FROM nodes WHERE cluster_name = ?)`
      : '';
    const rows = this.db
      .prepare(
        `SELECT s.device_id, count(*) AS segments, sum(s.size_bytes) AS bytes FROM segments s
         ${where}${clusterCond} GROUP BY s.device_id`,
      )
      .all(...args, ...(cluster ? [cluster] : [])) as {
      device_id: string;
      segments: number;
      bytes: number;
    }[];

    return rows
      .map((r) => {
        const d = devices.get(r.device_id)!;
        const overhead = r.segments * 64 + Math.ceil((r.bytes / (128 * 1024 + 8)) * 8);
        return {
          ...r,
          node_name: d.node_name,
          cluster_name: d.cluster_name,
          path: d.path,
          payload: Math.max(0, r.bytes - overhead),
        };
      })
      .sort((a, b) => a.node_name.localeCompare(b.node_name) || a.path.localeCompare(b.path));
  }

  /** Storage ids of the list that the catalog does not know. */
  unknownStorageIds(ids: string[]): string[] {
    const known = new Set(
      this.db
        .prepare('SELECT storage_id FROM segments WHERE storage_id IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(JSON.stringify(ids)) as string[],
    );
    return ids.filter((i) => !known.has(i));
  }

  /** Segments to consider for a check, with their group's shard size. */
  segmentsForCheck(filter: SegmentFilter): (Segment & {
    shard_bytes: number;
    cluster_name: string;
    table_id: string;
    rowid: number;
  })[] {
    const { where, args } = segmentWhere(filter);
    if (filter.limit) {
      return this.db
        .prepare(
          `SELECT s.rowid AS rowid, s.*, g.shard_bytes, g.cluster_name, g.table_id FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id
           ${where ? where + ' AND' : 'WHERE'} s.rowid > ? ORDER BY s.rowid LIMIT ?`,
        )
        .all(...args, filter.afterRowid ?? 0, filter.limit) as (Segment & {
        shard_bytes: number;
        cluster_name: string;
        table_id: string;
        rowid: number;
      })[];
    }
    return this.db
      .prepare(
        `SELECT s.*, g.shard_bytes, g.cluster_name, g.table_id FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id
         ${where} ORDER BY s.device_id, s.path`,
      )
      .all(...args) as (Segment & {
      shard_bytes: number;
      cluster_name: string;
      table_id: string;
      rowid: number;
    })[];
  }
}
