// Read-only views of the catalog for the operator's tools: the metrics scrape and the web console. Every query
// is a short read on the writer connection (SQLite answers it from the page cache in microseconds), so a
// scrape or a console refresh sees exactly what sys.* shows at that moment.
import type { Sql } from './sql';
import type { ProgressCounts, TaskRow } from './tasks';

export interface TaskSummary extends TaskRow {
  findings: number;
}

export interface SubtaskSummary extends ProgressCounts {
  id: string;
  node_name: string | null;
  cluster_name: string | null;
  device_id: string | null;
  device_path: string | null;
  description: string;
  status: string;
  fraction_complete: number;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

export interface Finding {
  id: number;
  node_name: string | null;
  device_id: string | null;
  segment_group_id: number | null;
  storage_id: string | null;
  result: string;
  detail: string | null;
  created_at: string;
}

export interface DeviceUsage {
  id: string;
  cluster_name: string;
  node_name: string;
  node_status: string;
  path: string;
  status: string;
  capacity_bytes: number;
  used_bytes: number;
  segments: number;
}

export interface ClusterSummary {
  name: string;
  storage_space: string;
  width: number;
  parity_width: number;
  nodes: number;
  nodes_online: number;
  tables: number;
  bytes: number;
}

export interface GroupHealth {
  id: number;
  cluster_name: string;
  table_name: string;
  seq: number;
  status: string;
  parity_width: number;
  /** Segments not INTACT: the group survives losing parity_width - unhealthy more. */
  unhealthy: number;
}

const TASK_COLUMNS = `t.*, (SELECT count(*) FROM result_cache r WHERE r.task_id = t.id) AS findings`;

export class CatalogObserver {
  constructor(private readonly catalog: { sql: Sql }) {}

  private get sql(): Sql {
    return this.catalog.sql;
  }

  taskCounts(): Promise<{ type: string; status: string; n: number }[]> {
    return this.sql.all('SELECT type, status, count(*) AS n FROM tasks GROUP BY type, status');
  }

  /** Bytes processed by subtasks, by task type, node and device (what check_disk verified, rebuild rebuilt...). */
  bytesByType(): Promise<{ type: string; node: string; device: string; bytes: number }[]> {
    return this.sql.all(
      `SELECT t.type, coalesce(s.node_name, '') AS node, coalesce(d.path, '') AS device, sum(s.bytes_done) AS bytes
       FROM subtasks s JOIN tasks t ON t.id = s.task_id LEFT JOIN storage_devices d ON d.id = s.device_id
       GROUP BY t.type, s.node_name, d.path`,
    );
  }

  segmentCounts(): Promise<{ cluster: string; status: string; n: number }[]> {
    return this.sql.all(
      `SELECT g.cluster_name AS cluster, s.status, count(*) AS n
       FROM segments s JOIN segment_groups g ON g.id = s.segment_group_id GROUP BY g.cluster_name, s.status`,
    );
  }

  clusters(): Promise<ClusterSummary[]> {
    return this.sql.all(
      `SELECT c.name, c.storage_space, sp.width, sp.parity_width,
         (SELECT count(*) FROM nodes n WHERE n.cluster_name = c.name) AS nodes,
         (SELECT count(*) FROM nodes n WHERE n.cluster_name = c.name AND n.status = 'ONLINE') AS nodes_online,
         (SELECT count(*) FROM tables tb WHERE tb.cluster_name = c.name) AS tables,
         (SELECT coalesce(sum(tb.bytes), 0) FROM tables tb WHERE tb.cluster_name = c.name) AS bytes
       FROM clusters c JOIN storage_spaces sp ON sp.name = c.storage_space ORDER BY c.name`,
    );
  }

  nodes(): Promise<{ name: string; cluster_name: string; status: string; devices: number }[]> {
    return this.sql.all(
      `SELECT n.name, n.cluster_name, n.status,
         (SELECT count(*) FROM storage_devices d WHERE d.node_name = n.name) AS devices
       FROM nodes n ORDER BY n.cluster_name, n.name`,
    );
  }

  devices(): Promise<DeviceUsage[]> {
    return this.sql.all(
      `SELECT d.id, n.cluster_name, d.node_name, n.status AS node_status, d.path, d.status,
         d.capacity_bytes, d.used_bytes,
         (SELECT count(*) FROM segments s WHERE s.device_id = d.id) AS segments
       FROM storage_devices d JOIN nodes n ON n.name = d.node_name ORDER BY n.cluster_name, d.node_name, d.path`,
    );
  }

  /** Segment groups with any segment that is not INTACT: they tolerate fewer further losses. */
  reducedGroups(limit = 1000): Promise<GroupHealth[]> {
    return this.sql.all(
      `SELECT g.id, g.cluster_name, tb.name AS table_name, g.seq, g.status, g.parity_width,
         (SELECT count(*) FROM segments s WHERE s.segment_group_id = g.id AND s.status <> 'INTACT') AS unhealthy
       FROM segment_groups g JOIN tables tb ON tb.id = g.table_id
       WHERE EXISTS (SELECT 1 FROM segments s WHERE s.segment_group_id = g.id AND s.status <> 'INTACT')
       ORDER BY unhealthy DESC, g.id LIMIT ?`,
      [limit],
    );
  }

  /** Number of groups by cluster and remaining fault tolerance (parity_width minus unhealthy segments). */
  groupTolerance(): Promise<{ cluster: string; parity_width: number; tolerance: number; n: number }[]> {
    return this.sql.all(
      `SELECT cluster_name AS cluster, parity_width, parity_width - unhealthy AS tolerance, count(*) AS n FROM (
         SELECT g.cluster_name, g.parity_width,
           (SELECT count(*) FROM segments s WHERE s.segment_group_id = g.id AND s.status <> 'INTACT') AS unhealthy
         FROM segment_groups g) AS x
       GROUP BY cluster_name, parity_width, parity_width - unhealthy`,
    );
  }

  recentTasks(limit = 100): Promise<TaskSummary[]> {
    return this.sql.all(
      `SELECT ${TASK_COLUMNS} FROM tasks t
       ORDER BY CASE WHEN t.status IN ('PENDING', 'RUNNING', 'CANCELLING') THEN 0 ELSE 1 END, t.created_at DESC
       LIMIT ?`,
      [limit],
    );
  }

  activeTasks(): Promise<TaskSummary[]> {
    return this.sql.all(
      `SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.status IN ('PENDING', 'RUNNING', 'CANCELLING')`,
    );
  }

  task(id: string): Promise<TaskSummary | undefined> {
    return this.sql.get(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.id = ?`, [id]);
  }

  subtasks(taskId: string): Promise<SubtaskSummary[]> {
    return this.sql.all(
      `SELECT s.id, s.node_name, s.cluster_name, s.device_id, d.path AS device_path, s.description, s.status,
         s.fraction_complete, s.bytes_total, s.bytes_done, s.segments_total, s.segments_done, s.segments_failed,
         s.started_at, s.finished_at, s.error
       FROM subtasks s LEFT JOIN storage_devices d ON d.id = s.device_id WHERE s.task_id = ? ORDER BY s.rowid`,
      [taskId],
    );
  }

  findings(taskId: string, limit = 500): Promise<Finding[]> {
    return this.sql.all(
      `SELECT id, node_name, device_id, segment_group_id, storage_id, result, detail, created_at
       FROM result_cache WHERE task_id = ? ORDER BY id LIMIT ?`,
      [taskId, limit],
    );
  }
}
