// Data access for the storage topology and the segment catalog. Every write is a short catalog transaction
// (catalog/sql.ts); the rules about what may change (no dropping what holds data, names unique) are checked
// inside the same transaction.

import { randomUUID } from 'node:crypto';
import { SqlError } from '../pg/errors';
import { nowText } from './db';
import { DIALECTS, type DialectSql, type Sql } from './sql';

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

/**
 * What check_disk needs of a segment to verify it (segmentsToVerify), as the catalog returns the row: an
 * array, not an object, since a device's pages are thousands of rows built on the main thread. The fields are
 * read by their index in VERIFY_COLUMN. Only the segment's own row is read (no join to its group): the
 * payload length a check expects is derived from size_bytes by the reader (segment-file.ts, payloadLengthOf).
 */
export type SegmentToVerify = readonly [
  rowid: number,
  storage_id: string,
  path: string,
  segment_group_id: number,
  position: number,
  size_bytes: number,
  status: SegmentStatus,
  checksum: string | null,
];
export const VERIFY_COLUMN = {
  rowid: 0,
  storageId: 1,
  path: 2,
  groupId: 3,
  position: 4,
  sizeBytes: 5,
  status: 6,
  checksum: 7,
} as const;

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
  cluster?: string;
  node?: string;
  deviceId?: string;
  storageIds?: string[] | null;
  onlyUnhealthy?: boolean;
}

function segmentWhere(d: DialectSql, filter: SegmentFilter): { where: string; args: unknown[] } {
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
    where.push(d.inJsonArray('g.id', 'int8'));
    args.push(JSON.stringify(filter.groupIds));
  }
  if (filter.tableId) {
    where.push('g.table_id = ?');
    args.push(filter.tableId);
  }
  if (filter.storageIds) {
    where.push(d.inJsonArray('s.storage_id', 'uuid'));
    args.push(JSON.stringify(filter.storageIds));
  }
  return { where: where.length ? 'WHERE ' + where.join(' AND ') : '', args };
}

/** The advisory lock that orders reservations of runs of group ids on PostgreSQL ('sgid' in ASCII). */
const GROUP_ID_LOCK = 0x73676964;

const STATUS_RANK: Record<string, number> = { INTACT: 0, REBUILDING: 1, DAMAGED: 2, MISSING: 3 };

const NODE_COLUMNS = 'id, name, cluster_name, status, address, offline_reason';
const TABLE_COLUMNS = 'id, name, cluster_name, bytes, segment_groups, owner';

export class StorageCatalog {
  constructor(private readonly catalog: { sql: Sql }) {}

  private get sql(): Sql {
    return this.catalog.sql;
  }

  private get d(): DialectSql {
    return DIALECTS[this.sql.dialect];
  }

  /** Every commit so far survives a power loss (Sql.durable). */
  durable(): Promise<void> {
    return this.sql.durable();
  }

  /** Runs `fn` in one transaction, with a StorageCatalog bound to it. */
  private tx<T>(fn: (s: StorageCatalog, tx: Sql) => Promise<T>): Promise<T> {
    return this.sql.transaction((tx) => fn(new StorageCatalog({ sql: tx }), tx));
  }

  /** Runs `fn` on this catalog in one transaction (a savepoint inside another). */
  atomically<T>(fn: (c: StorageCatalog) => Promise<T>): Promise<T> {
    return this.tx((c) => fn(c));
  }

  // ---------- storage spaces, clusters, nodes, devices ----------

  createStorageSpace(name: string, width: number, parity: number, segmentSize: number): Promise<void> {
    return this.tx(async (c, tx) => {
      if (await c.space(name)) throw new CatalogError('42710', `storage space "${name}" already exists`);
      await tx.run(
        'INSERT INTO storage_spaces (name, width, parity_width, segment_size, created_at) VALUES (?, ?, ?, ?, ?)',
        [name, width, parity, segmentSize, nowText()],
      );
    });
  }

  space(name: string): Promise<StorageSpace | undefined> {
    return this.sql.get<StorageSpace>('SELECT * FROM storage_spaces WHERE name = ?', [name]);
  }

  dropStorageSpace(name: string): Promise<void> {
    return this.tx(async (c, tx) => {
      if (!(await c.space(name))) throw unknownStorageSpace(name);
      const users = await tx.column<string>('SELECT name FROM clusters WHERE storage_space = ?', [name]);
      if (users.length) {
        throw new CatalogError(
          '2BP01',
          `cannot drop storage space "${name}": cluster "${users[0]}" uses it`,
          'Drop the clusters that use it first.',
        );
      }
      await tx.run('DELETE FROM storage_spaces WHERE name = ?', [name]);
    });
  }

  createCluster(name: string, space: string): Promise<void> {
    return this.tx(async (c, tx) => {
      if (await c.cluster(name)) throw new CatalogError('42710', `cluster "${name}" already exists`);
      if (!(await c.space(space))) throw unknownStorageSpace(space);
      await tx.run('INSERT INTO clusters (id, name, storage_space, created_at) VALUES (?, ?, ?, ?)', [
        randomUUID(),
        name,
        space,
        nowText(),
      ]);
    });
  }

  cluster(name: string): Promise<Cluster | undefined> {
    return this.sql.get<Cluster>('SELECT id, name, storage_space FROM clusters WHERE name = ?', [name]);
  }

  clusters(): Promise<Cluster[]> {
    return this.sql.all<Cluster>('SELECT id, name, storage_space FROM clusters ORDER BY name');
  }

  dropCluster(name: string): Promise<void> {
    return this.tx(async (c, tx) => {
      if (!(await c.cluster(name))) throw unknownCluster(name);
      const tables = await tx.column<string>('SELECT name FROM tables WHERE cluster_name = ?', [name]);
      if (tables.length)
        throw new CatalogError(
          '2BP01',
          `cannot drop cluster "${name}": table "${tables[0]}" is stored in it`,
        );
      const nodes = await tx.column<string>('SELECT name FROM nodes WHERE cluster_name = ?', [name]);
      if (nodes.length)
        throw new CatalogError('2BP01', `cannot drop cluster "${name}": node "${nodes[0]}" belongs to it`);
      await tx.run('DELETE FROM clusters WHERE name = ?', [name]);
    });
  }

  createNode(
    name: string,
    cluster: string,
    devices: { path: string; capacity: number }[],
    address: string | null = null,
  ): Promise<void> {
    return this.tx(async (c, tx) => {
      if (await c.node(name)) throw new CatalogError('42710', `node "${name}" already exists`);
      if (!(await c.cluster(cluster))) throw unknownCluster(cluster);
      await tx.run(
        "INSERT INTO nodes (id, name, cluster_name, status, address, created_at) VALUES (?, ?, ?, 'ONLINE', ?, ?)",
        [randomUUID(), name, cluster, address, nowText()],
      );
      for (const d of devices) await c.insertDevice(name, d.path, d.capacity);
    });
  }

  /** The agent address of a node (null: served in process, or no such node). */
  async nodeAddress(name: string): Promise<string | null> {
    return (await this.sql.value<string | null>('SELECT address FROM nodes WHERE name = ?', [name])) ?? null;
  }

  /** Nodes served by agents, with their devices' paths: what the heartbeat declares to each agent. */
  agentNodes(): Promise<{ name: string; address: string; status: string; offline_reason: string | null }[]> {
    return this.sql.all(
      'SELECT name, address, status, offline_reason FROM nodes WHERE address IS NOT NULL ORDER BY name',
    );
  }

  private async insertDevice(node: string, path: string, capacity: number): Promise<void> {
    // A path names a directory of one host: it may belong to one node of that host (nodes served in process
    // share this host; nodes of one agent address share that one).
    const taken = await this.sql.value<string>(
      `SELECT d.node_name FROM storage_devices d JOIN nodes n ON n.name = d.node_name
       WHERE d.path = ? AND ${this.d.isNotDistinct('n.address', '(SELECT address FROM nodes WHERE name = ?)')}`,
      [path, node],
    );
    if (taken) throw new CatalogError('42710', `device "${path}" already belongs to node "${taken}"`);
    await this.sql.run(
      "INSERT INTO storage_devices (id, node_name, path, capacity_bytes, used_bytes, status, created_at) VALUES (?, ?, ?, ?, 0, 'ACTIVE', ?)",
      [randomUUID(), node, path, capacity, nowText()],
    );
  }

  addDevice(node: string, path: string, capacity: number): Promise<void> {
    return this.tx(async (c) => {
      if (!(await c.node(node))) throw unknownNode(node);
      await c.insertDevice(node, path, capacity);
    });
  }

  node(name: string): Promise<Node | undefined> {
    return this.sql.get<Node>(`SELECT ${NODE_COLUMNS} FROM nodes WHERE name = ?`, [name]);
  }

  nodes(cluster?: string): Promise<Node[]> {
    return cluster
      ? this.sql.all<Node>(`SELECT ${NODE_COLUMNS} FROM nodes WHERE cluster_name = ? ORDER BY name`, [
          cluster,
        ])
      : this.sql.all<Node>(`SELECT ${NODE_COLUMNS} FROM nodes ORDER BY name`);
  }

  async setNodeStatus(
    name: string,
    status: 'ONLINE' | 'OFFLINE',
    reason: 'operator' | 'unreachable' = 'operator',
  ): Promise<void> {
    const r = await this.sql.run('UPDATE nodes SET status = ?, offline_reason = ? WHERE name = ?', [
      status,
      status === 'OFFLINE' ? reason : null,
      name,
    ]);
    if (!r.changes) throw unknownNode(name);
  }

  dropNode(name: string): Promise<void> {
    return this.tx(async (c, tx) => {
      if (!(await c.node(name))) throw unknownNode(name);
      const n = Number(await tx.value('SELECT count(*) FROM segments WHERE node_name = ?', [name]));
      if (n > 0) {
        throw new CatalogError(
          '2BP01',
          `cannot drop node "${name}": it still holds ${n} segment(s)`,
          'Run a rebuild with OPTIONS node = ... or a rebalance to move them first.',
        );
      }
      await tx.run('DELETE FROM storage_devices WHERE node_name = ?', [name]);
      await tx.run('DELETE FROM nodes WHERE name = ?', [name]);
    });
  }

  devices(node?: string): Promise<Device[]> {
    return node
      ? this.sql.all<Device>('SELECT * FROM storage_devices WHERE node_name = ? ORDER BY path', [node])
      : this.sql.all<Device>('SELECT * FROM storage_devices ORDER BY node_name, path');
  }

  device(id: string): Promise<Device | undefined> {
    return this.sql.get<Device>('SELECT * FROM storage_devices WHERE id = ?', [id]);
  }

  devicesOfCluster(cluster: string): Promise<(Device & { node_status: string })[]> {
    return this.sql.all(
      `SELECT d.*, n.status AS node_status FROM storage_devices d JOIN nodes n ON n.name = d.node_name
       WHERE n.cluster_name = ? ORDER BY d.node_name, d.path`,
      [cluster],
    );
  }

  async setDeviceStatus(id: string, status: 'ACTIVE' | 'FAILED'): Promise<void> {
    await this.sql.run('UPDATE storage_devices SET status = ? WHERE id = ?', [status, id]);
  }

  async setDeviceCapacity(id: string, capacity: number): Promise<void> {
    await this.sql.run('UPDATE storage_devices SET capacity_bytes = ? WHERE id = ?', [capacity, id]);
  }

  // ---------- tables ----------

  createTable(name: string, cluster: string, columns: string, owner: string): Promise<Table> {
    return this.tx(async (c, tx) => {
      if (await c.table(name)) throw new CatalogError('42P07', `relation "${name}" already exists`);
      if (!(await c.cluster(cluster))) throw unknownCluster(cluster);
      const id = randomUUID();
      await tx.run(
        'INSERT INTO tables (id, name, cluster_name, bytes, segment_groups, columns, owner, created_at) VALUES (?, ?, ?, 0, 0, ?, ?, ?)',
        [id, name, cluster, columns, owner, nowText()],
      );
      return (await c.table(name))!;
    });
  }

  table(name: string): Promise<Table | undefined> {
    return this.sql.get<Table>(`SELECT ${TABLE_COLUMNS} FROM tables WHERE name = ?`, [name]);
  }

  tableById(id: string): Promise<Table | undefined> {
    return this.sql.get<Table>(`SELECT ${TABLE_COLUMNS} FROM tables WHERE id = ?`, [id]);
  }

  /**
   * Removes a table from the catalog and returns the segment files that the caller must delete. The paths are
   * recorded as pending removals in the same transaction; the caller forgets them once the files are gone.
   */
  dropTable(name: string): Promise<string[]> {
    return this.tx(async (c, tx) => {
      const t = await c.table(name);
      if (!t) throw new CatalogError('42P01', `table "${name}" does not exist`);
      const segs = await tx.all<{ path: string; device_id: string; size_bytes: number; node_name: string }>(
        'SELECT s.path, s.device_id, s.size_bytes, s.node_name FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id WHERE g.table_id = ?',
        [t.id],
      );
      for (const s of segs) await c.releaseBytes(s.device_id, s.size_bytes);
      await tx.run(
        'DELETE FROM segments WHERE segment_group_id IN (SELECT id FROM segment_groups WHERE table_id = ?)',
        [t.id],
      );
      await tx.run('DELETE FROM segment_groups WHERE table_id = ?', [t.id]);
      const { verb, tail } = this.d.insertIgnore;
      for (const s of segs)
        await tx.run(`${verb} INTO pending_file_removals (path, node_name) VALUES (?, ?)${tail}`, [
          s.path,
          s.node_name,
        ]);
      await tx.run('DELETE FROM table_privileges WHERE table_id = ?', [t.id]);
      await tx.run('DELETE FROM tables WHERE id = ?', [t.id]);
      return segs.map((s) => s.path);
    });
  }

  /** A device's used bytes less `bytes`, never below 0. */
  private async releaseBytes(deviceId: string, bytes: number): Promise<void> {
    await this.sql.run(
      `UPDATE storage_devices SET used_bytes = ${this.d.greatest('0', 'used_bytes - ?')} WHERE id = ?`,
      [bytes, deviceId],
    );
  }

  /** Files of dropped tables not yet known to be removed. */
  pendingFileRemovals(): Promise<string[]> {
    return this.sql.column<string>('SELECT path FROM pending_file_removals');
  }

  /** The node each pending removal's file is on (null for records older than node addresses: this host). */
  async pendingRemovalNodes(paths: string[]): Promise<Map<string, string | null>> {
    const rows = await this.sql.all<{ path: string; node_name: string | null }>(
      `SELECT path, node_name FROM pending_file_removals WHERE ${this.d.inJsonArray('path')}`,
      [JSON.stringify(paths)],
    );
    return new Map(rows.map((r) => [r.path, r.node_name]));
  }

  /** Forgets pending removals whose files are gone. */
  async fileRemovalsDone(paths: string[]): Promise<void> {
    if (!paths.length) return;
    await this.sql.run(`DELETE FROM pending_file_removals WHERE ${this.d.inJsonArray('path')}`, [
      JSON.stringify(paths),
    ]);
  }

  // ---------- table privileges (PostgreSQL's aclitem letters: r = SELECT, a = INSERT, ...) ----------

  /** Grants privileges on a table; the grantor is recorded as the owner, as PostgreSQL does for a superuser. */
  grantTable(tableId: string, grantees: string[], privileges: string[], grantor: string): Promise<void> {
    const { verb, tail } = this.d.insertIgnore;
    return this.tx(async (_c, tx) => {
      for (const g of grantees)
        for (const p of privileges)
          await tx.run(
            `${verb} INTO table_privileges (table_id, grantee, privilege, grantor) VALUES (?, ?, ?, ?)${tail}`,
            [tableId, g, p, grantor],
          );
    });
  }

  revokeTable(tableId: string, grantees: string[], privileges: string[]): Promise<void> {
    return this.tx(async (_c, tx) => {
      for (const g of grantees)
        for (const p of privileges)
          await tx.run('DELETE FROM table_privileges WHERE table_id = ? AND grantee = ? AND privilege = ?', [
            tableId,
            g,
            p,
          ]);
    });
  }

  /** Whether a user (or PUBLIC) holds a privilege on a table by grant (owners and sysadmins are checked apart). */
  async hasTablePrivilege(tableId: string, user: string, privilege: string): Promise<boolean> {
    return !!(await this.sql.get(
      "SELECT 1 FROM table_privileges WHERE table_id = ? AND grantee IN (?, 'public') AND privilege = ?",
      [tableId, user, privilege],
    ));
  }

  // ---------- segment groups and segments ----------

  /** Reserves `count` consecutive group ids. Ids are never reused. */
  async reserveGroupIds(count: number): Promise<number> {
    if (this.sql.dialect === 'postgres') {
      // Several coordinators (and the groups a load has in flight) reserve ids at once: the catalog's sequence
      // hands out each id once (migration 009). A run of ids is a nextval and a setval past the run, which is
      // not atomic with another session's nextval (that could land inside the run: duplicate group ids, seen);
      // so every reservation takes the lock.
      return this.sql.transaction(async (tx) => {
        await tx.run('SELECT pg_advisory_xact_lock(?)', [GROUP_ID_LOCK]);
        return Number(
          await tx.value("SELECT setval('segment_group_ids', nextval('segment_group_ids') + ? - 1) - ? + 1", [
            count,
            count,
          ]),
        );
      });
    }
    const max = Number((await this.sql.value('SELECT coalesce(max(id), 0) FROM segment_groups')) ?? 0);
    const reserved = this.reservedUpTo ?? max;
    const start = Math.max(max, reserved) + 1;
    this.reservedUpTo = start + count - 1;
    return start;
  }
  private reservedUpTo: number | null = null;

  async nextSeq(tableId: string): Promise<number> {
    return (
      Number(
        (await this.sql.value('SELECT coalesce(max(seq), -1) FROM segment_groups WHERE table_id = ?', [
          tableId,
        ])) ?? -1,
      ) + 1
    );
  }

  /**
   * Catalogues new groups and their segments, updating table and device totals, in one transaction. The groups'
   * `seq` are their order within this load; the table's sequence numbers are assigned here, after those of every
   * load committed before, so concurrent loads each land as one contiguous run.
   */
  addGroups(table: Table, cluster: string, width: number, parity: number, groups: NewGroup[]): Promise<void> {
    return this.tx(async (c, tx) => {
      if (tx.dialect === 'postgres') {
        // Loads into one table from several coordinators take their sequence numbers one after the other.
        await tx.run('SELECT 1 FROM tables WHERE id = ? FOR UPDATE', [table.id]);
      }
      if (!(await c.tableById(table.id))) {
        throw new CatalogError(
          '42P01',
          `table "${table.name}" was dropped while the COPY into it ran; nothing was loaded`,
        );
      }
      const base = await c.nextSeq(table.id);
      // New rows get row ids above the largest one now; a checked range past it names rows since removed,
      // whose ids the new rows may take again: cut it there.
      const top = Number((await tx.value('SELECT max(rowid) FROM segments')) ?? 0);
      await tx.run('DELETE FROM segment_checks WHERE first_rowid > ?', [top]);
      await tx.run('UPDATE segment_checks SET last_rowid = ? WHERE last_rowid > ?', [top, top]);
      const bytes = groups.reduce((n, g) => n + g.data_bytes, 0);
      await tx.runEach(
        "INSERT INTO segment_groups (id, table_id, seq, cluster_name, width, parity_width, data_bytes, shard_bytes, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'INTACT')",
        groups.map((g) => [
          g.id,
          table.id,
          base + g.seq,
          cluster,
          width,
          parity,
          g.data_bytes,
          g.shard_bytes,
        ]),
      );
      const segments = groups.flatMap((g) => g.segments.map((seg) => ({ g, seg })));
      await tx.runEach(
        "INSERT INTO segments (storage_id, segment_group_id, position, is_parity, node_name, device_id, path, size_bytes, status, checksum, last_checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'INTACT', ?, NULL)",
        segments.map(({ g, seg }) => [
          seg.storage_id,
          g.id,
          seg.position,
          seg.is_parity ? 1 : 0,
          seg.node_name,
          seg.device_id,
          seg.path,
          seg.size_bytes,
          seg.checksum,
        ]),
      );
      await tx.runEach(
        'UPDATE storage_devices SET used_bytes = used_bytes + ? WHERE id = ?',
        segments.map(({ seg }) => [seg.size_bytes, seg.device_id]),
      );
      await tx.run('UPDATE tables SET bytes = bytes + ?, segment_groups = segment_groups + ? WHERE id = ?', [
        bytes,
        groups.length,
        table.id,
      ]);
    });
  }

  groupsOfTable(tableId: string): Promise<SegmentGroup[]> {
    return this.sql.all<SegmentGroup>('SELECT * FROM segment_groups WHERE table_id = ? ORDER BY seq', [
      tableId,
    ]);
  }

  group(id: number): Promise<SegmentGroup | undefined> {
    return this.sql.get<SegmentGroup>('SELECT * FROM segment_groups WHERE id = ?', [id]);
  }

  segmentsOfGroup(groupId: number): Promise<Segment[]> {
    return this.sql.all<Segment>('SELECT * FROM segments WHERE segment_group_id = ? ORDER BY position', [
      groupId,
    ]);
  }

  segment(storageId: string): Promise<Segment | undefined> {
    return this.sql.get<Segment>('SELECT * FROM segments WHERE storage_id = ?', [storageId]);
  }

  /** Sets segment statuses and refreshes the status of their groups, in one transaction. */
  async setSegmentStatus(
    updates: { storageId: string; status: SegmentStatus; checkedAt?: string }[],
  ): Promise<void> {
    if (!updates.length) return;
    await this.tx(async (c, tx) => {
      const groups = new Set<number>();
      for (const u of updates) {
        await tx.run(
          `UPDATE segments SET status = ?, last_checked_at = coalesce(${this.d.timestamp}, last_checked_at) WHERE storage_id = ?`,
          [u.status, u.checkedAt ?? null, u.storageId],
        );
        const g = await tx.value<number>('SELECT segment_group_id FROM segments WHERE storage_id = ?', [
          u.storageId,
        ]);
        if (g !== undefined) groups.add(g);
      }
      for (const g of groups) await c.refreshGroupStatus(g);
    });
  }

  /** Records that segments were checked (clean), without changing their status. */
  async markChecked(storageIds: string[], at: string): Promise<void> {
    if (!storageIds.length) return;
    await this.tx((_c, tx) =>
      tx.runEach(
        'UPDATE segments SET last_checked_at = ? WHERE storage_id = ?',
        storageIds.map((id) => [at, id]),
      ),
    );
  }

  /**
   * Records that every segment of a device whose row id is in one of `runs` ([first, last], inclusive) was
   * checked clean at `at`: one row per run (segment_checks, schema.ts) instead of one write per segment. The
   * caller vouches that the runs hold no segment of the device it did not check clean. The device's ranges
   * stay apart: older ones are cut around each new one.
   */
  async markCheckedRange(deviceId: string, runs: [number, number][], at: string): Promise<void> {
    if (!runs.length) return;
    const insert =
      'INSERT INTO segment_checks (device_id, first_rowid, last_rowid, checked_at) VALUES (?, ?, ?, ?)';
    await this.tx(async (_c, tx) => {
      for (const [a, b] of runs) {
        await tx.run(
          'DELETE FROM segment_checks WHERE device_id = ? AND first_rowid >= ? AND last_rowid <= ?',
          [deviceId, a, b],
        );
        // A range reaching past both ends keeps its two outer parts.
        const across = await tx.all<{ last_rowid: number; checked_at: string }>(
          'SELECT rowid, last_rowid, checked_at FROM segment_checks WHERE device_id = ? AND first_rowid < ? AND last_rowid > ?',
          [deviceId, a, b],
        );
        for (const r of across) await tx.run(insert, [deviceId, b + 1, r.last_rowid, r.checked_at]);
        await tx.run(
          'UPDATE segment_checks SET last_rowid = ? WHERE device_id = ? AND first_rowid < ? AND last_rowid >= ?',
          [a - 1, deviceId, a, a],
        );
        await tx.run(
          'UPDATE segment_checks SET first_rowid = ? WHERE device_id = ? AND first_rowid <= ? AND last_rowid > ?',
          [b + 1, deviceId, b, b],
        );
        await tx.run(insert, [deviceId, a, b, at]);
      }
    });
  }

  async refreshGroupStatus(groupId: number): Promise<void> {
    const statuses = await this.sql.column<string>('SELECT status FROM segments WHERE segment_group_id = ?', [
      groupId,
    ]);
    const worst = statuses.reduce((w, s) => (STATUS_RANK[s] > STATUS_RANK[w] ? s : w), 'INTACT');
    await this.sql.run('UPDATE segment_groups SET status = ? WHERE id = ?', [worst, groupId]);
  }

  /** Groups with a DAMAGED, MISSING or REBUILDING segment (the work of a rebuild), filtered. */
  async groupsNeedingRebuild(filter: {
    cluster?: string;
    node?: string;
    groupIds?: number[] | null;
    tableId?: string | null;
  }): Promise<number[]> {
    const { where, args } = segmentWhere(this.d, {
      ...filter,
      statuses: ['DAMAGED', 'MISSING', 'REBUILDING'],
    });
    return (
      await this.sql.column(
        `SELECT DISTINCT g.id FROM segment_groups g JOIN segments s ON s.segment_group_id = g.id ${where} ORDER BY g.id`,
        args,
      )
    ).map(Number);
  }

  /** Group ids of the list that do not exist. */
  async unknownGroupIds(ids: number[]): Promise<number[]> {
    const known = new Set(
      (
        await this.sql.column(`SELECT id FROM segment_groups WHERE ${this.d.inJsonArray('id', 'int8')}`, [
          JSON.stringify(ids),
        ])
      ).map(Number),
    );
    return ids.filter((i) => !known.has(i));
  }

  /**
   * Points a segment at its new, verified file: location, checksum, status INTACT; moves the used bytes from
   * the old device to the new one and refreshes the group's status. One transaction. Only if the segment is
   * still where the copy was made from (`from`): a task of another coordinator that switched it first (the
   * group locks are per process) makes this one fail with 40001, nothing switched, and its copy an orphan.
   */
  switchSegment(
    storageId: string,
    from: { device_id: string; path: string },
    to: { device_id: string; node_name: string; path: string; size_bytes: number; checksum: string },
    checkedAt: string,
  ): Promise<void> {
    return this.tx(async (c, tx) => {
      const old = await c.segment(storageId);
      if (!old) throw new CatalogError('42704', `segment ${storageId} does not exist`);
      const moved = () =>
        new CatalogError(
          '40001',
          `segment ${storageId} was moved by another task since it was copied`,
          'The task that moved it holds the newer copy; run this task again if it is still needed.',
        );
      if (old.device_id !== from.device_id || old.path !== from.path) throw moved();
      // Conditional again in the UPDATE: on PostgreSQL a concurrent switch may commit after the read above.
      const r = await tx.run(
        "UPDATE segments SET device_id = ?, node_name = ?, path = ?, size_bytes = ?, checksum = ?, status = 'INTACT', last_checked_at = ? WHERE storage_id = ? AND device_id = ? AND path = ?",
        [
          to.device_id,
          to.node_name,
          to.path,
          to.size_bytes,
          to.checksum,
          checkedAt,
          storageId,
          from.device_id,
          from.path,
        ],
      );
      if (r.changes === 0) throw moved();
      await c.releaseBytes(old.device_id, old.size_bytes);
      await tx.run('UPDATE storage_devices SET used_bytes = used_bytes + ? WHERE id = ?', [
        to.size_bytes,
        to.device_id,
      ]);
      await c.refreshGroupStatus(old.segment_group_id);
    });
  }

  /** Every segment file path the catalog knows, for the orphan scan at start-up. */
  async allSegmentPaths(): Promise<Set<string>> {
    return new Set(await this.sql.column<string>('SELECT path FROM segments'));
  }

  /**
   * How many segments and bytes each device holds under a filter: the plan of a check, in one query. It
   * reads only the segments table (through its device index) and the devices: joining every segment to its
   * group would cost a lookup per segment, which at a million segments is seconds. The payload is derived
   * from the file size (the header and the 8-byte block checksums are the rest).
   */
  async segmentsPerDevice(filter: SegmentFilter): Promise<
    {
      device_id: string;
      node_name: string;
      cluster_name: string;
      path: string;
      segments: number;
      bytes: number;
      payload: number;
    }[]
  > {
    const { cluster, ...rest } = filter;
    const devices = new Map(
      (
        await this.sql.all<{
          id: string;
          path: string;
          node_name: string;
          used_bytes: number;
          cluster_name: string;
        }>(
          'SELECT d.id, d.path, d.node_name, d.used_bytes, n.cluster_name FROM storage_devices d JOIN nodes n ON n.name = d.node_name',
        )
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
      const counts = await this.sql.all<{ device_id: string; n: number }>(
        `SELECT device_id, count(*) AS n FROM segments ${rest.node ? 'WHERE node_name = ?' : ''} GROUP BY device_id`,
        rest.node ? [rest.node] : [],
      );
      return counts
        .map((c) => ({ d: devices.get(c.device_id)!, n: Number(c.n) }))
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
    const { where, args } = segmentWhere(this.d, rest);
    const clusterCond = cluster
      ? `${where ? ' AND' : ' WHERE'} s.node_name IN (SELECT name FROM nodes WHERE cluster_name = ?)`
      : '';
    const rows = await this.sql.all<{ device_id: string; segments: number; bytes: number }>(
      `SELECT s.device_id, count(*) AS segments, sum(s.size_bytes) AS bytes FROM segments s
       ${where}${clusterCond} GROUP BY s.device_id`,
      [...args, ...(cluster ? [cluster] : [])],
    );

    return rows
      .map((r) => {
        const d = devices.get(r.device_id)!;
        const segments = Number(r.segments);
        const bytes = Number(r.bytes);
        const overhead = segments * 64 + Math.ceil((bytes / (128 * 1024 + 8)) * 8);
        return {
          device_id: r.device_id,
          segments,
          bytes,
          node_name: d.node_name,
          cluster_name: d.cluster_name,
          path: d.path,
          payload: Math.max(0, bytes - overhead),
        };
      })
      .sort((a, b) => a.node_name.localeCompare(b.node_name) || a.path.localeCompare(b.path));
  }

  /** Storage ids of the list that the catalog does not know. */
  async unknownStorageIds(ids: string[]): Promise<string[]> {
    const known = new Set(
      await this.sql.column<string>(
        `SELECT storage_id FROM segments WHERE ${this.d.inJsonArray('storage_id', 'uuid')}`,
        [JSON.stringify(ids)],
      ),
    );
    return ids.filter((i) => !known.has(i));
  }

  /** Segments to consider for a check, with their group's shard size. */
  segmentsForCheck(filter: SegmentFilter): Promise<
    (Segment & {
      shard_bytes: number;
      cluster_name: string;
      table_id: string;
    })[]
  > {
    const { where, args } = segmentWhere(this.d, filter);
    return this.sql.all(
      `SELECT s.*, g.shard_bytes, g.cluster_name, g.table_id FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id
       ${where} ORDER BY s.device_id, s.path`,
      args,
    );
  }

  /**
   * One page of the segments check_disk verifies, keyset-paged: those with a row id above `afterRowid`, at
   * most `limit`, in row-id order, with only what a check reads of each, as SQLite gives them (arrays, which
   * it builds about twice as fast as objects; a finding reads the rest of its row again). Only the segments
   * table is read, so that a page is one range of the device index and one row probe a segment (a join to
   * segment_groups cost two more b-tree probes a row): a cluster is the one of the segment's node, as the
   * planner counts it (segmentsPerDevice), which SQLite evaluates once for the statement (a few node names).
   */
  segmentsToVerify(
    filter: Pick<SegmentFilter, 'cluster' | 'node' | 'deviceId' | 'onlyUnhealthy' | 'storageIds'> & {
      afterRowid: number;
      limit: number;
    },
  ): Promise<SegmentToVerify[]> {
    const { cluster, afterRowid, limit, ...rest } = filter;
    const { where, args } = segmentWhere(this.d, rest);
    const conds = [
      where.replace(/^WHERE /, ''),
      cluster ? 's.node_name IN (SELECT name FROM nodes WHERE cluster_name = ?)' : '',
      's.rowid > ?',
    ].filter(Boolean);
    return this.sql.arrays<SegmentToVerify>(
      `SELECT s.rowid, s.storage_id, s.path, s.segment_group_id, s.position, s.size_bytes, s.status, s.checksum
       FROM segments s WHERE ${conds.join(' AND ')} ORDER BY s.rowid LIMIT ?`,
      [...args, ...(cluster ? [cluster] : []), afterRowid, limit],
    );
  }
}
