// Runs the storage statements (topology DDL and COPY) for the router.
import type { Logger } from 'pino';
import { type Table, unknownCluster, unknownNode } from '../../catalog/storage';
import type { Users } from '../../catalog/users';
import { SqlError } from '../../pg/errors';
import type { ClientSession, PreparedQuery, QueryContext, QueryResult } from '../../wire/handler';
import { parseAddress } from '../agent/client';
import { parseStorageStatement, type StorageStatement } from '../ddl/storage';
import { setNodeOffline, setNodeOnline } from '../store/node-status';
import { DEFAULT_SEGMENT_SIZE, type RepairedSegment, type SegmentStore } from '../store/store';
import { CopyRowCounter, countingRows } from './copy-rows';
import { commandStatement, requireSysadmin, type StatementModule } from './router';

export class StorageModule implements StatementModule {
  constructor(
    private readonly store: SegmentStore,
    private readonly users: Users,
    private readonly logger: Logger,
  ) {}

  prepare(sql: string, _types: number[], _session: ClientSession): PreparedQuery | null {
    const stmt = parseStorageStatement(sql);
    if (!stmt) return null;
    return commandStatement([], (_params, ctx) => this.run(stmt, ctx));
  }

  private async run(stmt: StorageStatement, ctx: QueryContext): Promise<QueryResult> {
    const cat = this.store.catalog;
    const user = ctx.session.user;
    // None of these can be rolled back (files are written, the catalog commits at once): refuse them where
    // a ROLLBACK would be expected to undo them, as PostgreSQL refuses VACUUM. COPY TO changes nothing.
    if (ctx.session.inTransactionBlock && !(stmt.kind === 'copy' && stmt.direction === 'out')) {
      throw new SqlError('25001', `${statementName(stmt)} cannot run inside a transaction block`, {
        hint:
          stmt.kind === 'copy'
            ? 'Run COPY FROM outside BEGIN ... COMMIT (with psycopg2, set autocommit = True).'
            : 'Run it outside BEGIN ... COMMIT.',
      });
    }
    if (stmt.kind === 'copy') return this.copy(stmt, user);
    if (stmt.kind === 'table_privileges') return this.tablePrivileges(stmt, user);
    // A table's owner may drop it, as in PostgreSQL; the rest of the topology is the sysadmins'.
    if (!(stmt.kind === 'drop' && stmt.what === 'table'))
      await requireSysadmin(this.users, user, statementName(stmt));
    switch (stmt.kind) {
      case 'create_space': {
        const size = stmt.segmentSize ?? DEFAULT_SEGMENT_SIZE;
        if (stmt.width < 3) throw new SqlError('22023', `WIDTH must be at least 3, not ${stmt.width}`);
        if (stmt.parity < 1 || stmt.parity > stmt.width - 1) {
          throw new SqlError(
            '22023',
            `PARITY_WIDTH must be between 1 and WIDTH - 1 (${stmt.width - 1}), not ${stmt.parity}`,
            {
              hint: 'A group needs at least one data segment and one parity segment.',
            },
          );
        }
        if (stmt.parity > 6 || stmt.width - stmt.parity > 24) {
          throw new SqlError(
            '22023',
            'the erasure code supports at most 24 data and 6 parity segments per group',
          );
        }
        if (size % 8 !== 0 || size < 4096 || size > 256 * 1024 * 1024) {
          throw new SqlError(
            '22023',
            `SEGMENT_SIZE must be a multiple of 8 between 4096 and 268435456 bytes, not ${size}`,
          );
        }
        await cat.createStorageSpace(stmt.name, stmt.width, stmt.parity, size);
        return { kind: 'command', tag: 'CREATE STORAGESPACE' };
      }
      case 'create_cluster':
        await cat.createCluster(stmt.name, stmt.space);
        return { kind: 'command', tag: 'CREATE CLUSTER' };
      case 'create_node': {
        if (stmt.address !== null) {
          try {
            parseAddress(stmt.address);
          } catch (err) {
            throw new SqlError('22023', `ADDRESS ${(err as Error).message}`, {
              hint: "Give the agent's address as 'host:port', e.g. ADDRESS '10.0.0.5:7433'.",
            });
          }
        }
        // Device paths are checked by whoever serves them: this process, or the agent at ADDRESS.
        const io = this.store.io.forAddress(stmt.address);
        const devices = [];
        for (const d of stmt.devices) devices.push(await io.inspectDevice(d));
        if (new Set(devices.map((d) => d.path)).size !== devices.length)
          throw new SqlError('42710', 'the same device is listed twice');
        await cat.createNode(stmt.name, stmt.cluster, devices, stmt.address);
        try {
          await io.serve(stmt.name, await cat.devices(stmt.name));
          for (const d of await cat.devices(stmt.name)) await io.writeIdentity(d);
        } catch (err) {
          // The node holds nothing yet: a node whose devices could not be given their identity is not kept.
          await cat.dropNode(stmt.name);
          throw err;
        }
        return { kind: 'command', tag: 'CREATE NODE' };
      }
      case 'add_device': {
        if (!(await cat.node(stmt.node))) throw unknownNode(stmt.node);
        const io = await this.store.io.forNode(stmt.node);
        const d = await io.inspectDevice(stmt.path);
        await cat.addDevice(stmt.node, d.path, d.capacity);
        await io.serve(stmt.node, await cat.devices(stmt.node));
        const added = (await cat.devices(stmt.node)).find((x) => x.path === d.path);
        if (added) await io.writeIdentity(added);
        return { kind: 'command', tag: 'ALTER NODE' };
      }
      case 'set_node': {
        const node = await cat.node(stmt.node);
        if (!node) throw unknownNode(stmt.node);
        if (stmt.status === 'ONLINE') {
          const r = await setNodeOnline(cat, this.store.io, stmt.node);
          for (const path of r.stillFailed)
            ctx.notice({
              message: `device ${path} of node ${stmt.node} stays FAILED: its directory is not usable`,
            });
          const waiting = r.stillMissing + r.damaged;
          this.logger.info(
            {
              event: 'node_online',
              node: stmt.node,
              restored: r.restored,
              stillMissing: r.stillMissing,
              damaged: r.damaged,
            },
            'node set ONLINE',
          );
          ctx.notice({
            message: `node ${stmt.node} is ONLINE: ${r.restored} MISSING segment(s) verified cleanly and are INTACT again; ${r.stillMissing} stay MISSING, ${r.damaged} are DAMAGED`,
            ...(waiting
              ? {
                  hint: `Rebuild the ${waiting} that remain with CREATE TASK TYPE rebuild LOCATION CLUSTER ${node.cluster_name} OPTIONS node = '${stmt.node}'.`,
                }
              : {}),
          });
        } else {
          const missing = await setNodeOffline(cat, stmt.node, 'operator');
          if (missing)
            ctx.notice({
              message: `${missing} segment(s) on node ${stmt.node} are now MISSING`,
              hint: `Rebuild them elsewhere with CREATE TASK TYPE rebuild LOCATION CLUSTER ... OPTIONS node = '${stmt.node}'.`,
            });
        }
        return { kind: 'command', tag: 'ALTER NODE' };
      }
      case 'create_table': {
        const cluster = await cat.cluster(stmt.cluster);
        if (!cluster) throw unknownCluster(stmt.cluster);
        const space = (await cat.space(cluster.storage_space))!;
        const nodes = (await cat.nodes(stmt.cluster)).length;
        if (nodes < space.width) {
          throw new SqlError(
            '55000',
            `cluster "${stmt.cluster}" has ${nodes} node(s), fewer than the WIDTH ${space.width} of its storage space`,
            {
              hint: 'Each segment of a group goes to a different node: add nodes with CREATE NODE first.',
            },
          );
        }
        await cat.createTable(stmt.name, stmt.cluster, stmt.columns, user);
        return { kind: 'command', tag: 'CREATE TABLE' };
      }
      case 'drop': {
        const exists =
          stmt.what === 'node'
            ? await cat.node(stmt.name)
            : stmt.what === 'table'
              ? await cat.table(stmt.name)
              : stmt.what === 'cluster'
                ? await cat.cluster(stmt.name)
                : await cat.space(stmt.name);
        if (!exists && stmt.ifExists) {
          ctx.notice({ message: `${stmt.what} "${stmt.name}" does not exist, skipping` });
          return { kind: 'command', tag: `DROP ${stmt.what.toUpperCase()}` };
        }
        if (stmt.what === 'node') await cat.dropNode(stmt.name);
        else if (stmt.what === 'table') {
          await this.requireOwner(stmt.name, user);
          await this.store.dropTable(stmt.name);
        } else if (stmt.what === 'cluster') await cat.dropCluster(stmt.name);
        else await cat.dropStorageSpace(stmt.name);
        return { kind: 'command', tag: `DROP ${stmt.what.toUpperCase()}` };
      }
    }
  }

  private async table(name: string): Promise<Table> {
    const t = await this.store.catalog.table(name);
    if (!t) throw new SqlError('42P01', `relation "${name}" does not exist`);
    return t;
  }

  /** 42501 unless the user owns the table or is a sysadmin (PostgreSQL's superuser). */
  private async requireOwner(tableName: string, user: string): Promise<Table> {
    const t = await this.table(tableName);
    if (t.owner !== user && !(await this.users.isSysadmin(user)))
      throw new SqlError('42501', `must be owner of table ${t.name}`);
    return t;
  }

  private async tablePrivileges(
    stmt: Extract<StorageStatement, { kind: 'table_privileges' }>,
    user: string,
  ): Promise<QueryResult> {
    const cat = this.store.catalog;
    const tables: Table[] = [];
    for (const name of stmt.tables) tables.push(await this.requireOwner(name, user));
    for (const g of stmt.grantees)
      if (g !== 'public' && !(await this.users.exists(g)))
        throw new SqlError('42704', `role "${g}" does not exist`);
    for (const t of tables) {
      if (stmt.grant) await cat.grantTable(t.id, stmt.grantees, stmt.privileges, t.owner);
      else await cat.revokeTable(t.id, stmt.grantees, stmt.privileges);
    }
    return { kind: 'command', tag: stmt.grant ? 'GRANT' : 'REVOKE' };
  }

  /** COPY FROM needs INSERT on the table, COPY TO needs SELECT (owners and sysadmins hold both). */
  private async requireTablePrivilege(t: Table, user: string, letter: 'a' | 'r'): Promise<void> {
    if (t.owner === user || (await this.users.isSysadmin(user))) return;
    if (await this.store.catalog.hasTablePrivilege(t.id, user, letter)) return;
    throw new SqlError('42501', `permission denied for table ${t.name}`, {
      hint: `The owner or a sysadmin can allow it: GRANT ${letter === 'a' ? 'INSERT' : 'SELECT'} ON ${t.name} TO ${user}.`,
    });
  }

  private async copy(stmt: Extract<StorageStatement, { kind: 'copy' }>, user: string): Promise<QueryResult> {
    const store = this.store;
    const logger = this.logger;
    await this.requireTablePrivilege(await this.table(stmt.table), user, stmt.direction === 'in' ? 'a' : 'r');
    const counter = new CopyRowCounter(stmt.binary);
    if (stmt.direction === 'in') {
      return {
        kind: 'copyIn',
        binary: stmt.binary,
        async consume(data, ctx) {
          await store.load(stmt.table, countingRows(data, counter), ctx.signal);
          return `COPY ${counter.rows}`;
        },
      };
    }
    return {
      kind: 'copyOut',
      binary: stmt.binary,
      async *produce(ctx) {
        const cluster = (await store.catalog.table(stmt.table))?.cluster_name;
        const onRepair = (r: RepairedSegment) => {
          logger.warn(
            {
              event: 'segment_repaired_on_read',
              table: stmt.table,
              storage_id: r.storageId,
              path: r.path,
              node: r.node,
              segment_group_id: r.groupId,
              position: r.position,
              fault: r.fault,
              status: r.status,
            },
            'segment failed verification during COPY TO and was rebuilt from its group for the reader',
          );
          ctx.notice({
            severity: 'WARNING',
            message: `segment ${r.storageId} (${r.path}) of table "${stmt.table}" failed verification (${r.fault}); its data was rebuilt from segment group ${r.groupId} for this COPY, and the segment is now ${r.status}`,
            detail: r.message,
            hint: `Repair it for good with CREATE TASK TYPE rebuild LOCATION CLUSTER ${cluster} OPTIONS segment_groups = [${r.groupId}].`,
          });
        };
        yield* countingRows(store.read(stmt.table, ctx.signal, onRepair), counter);
      },
      tag: () => `COPY ${counter.rows}`,
    };
  }
}

/** The statement's name in messages: CREATE NODE, DROP TABLE, COPY FROM, GRANT ... */
function statementName(stmt: StorageStatement): string {
  switch (stmt.kind) {
    case 'drop':
      return `DROP ${stmt.what.toUpperCase()}`;
    case 'copy':
      return stmt.direction === 'in' ? 'COPY FROM' : 'COPY TO';
    case 'table_privileges':
      return stmt.grant ? 'GRANT' : 'REVOKE';
    default:
      return stmt.kind.replace('_', ' ').toUpperCase();
  }
}
