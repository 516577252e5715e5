// The catalog schema, as knex migrations. Column types are declared with their PostgreSQL names (uuid,
// timestamptz, int8, float8, bool, json): SQLite keeps declared types, and the query path reads them back to
// put real type OIDs in RowDescription. Affinity still follows SQLite's rules (int8 -> INTEGER, float8 -> REAL,
// text -> TEXT, uuid/timestamptz/bool/json -> NUMERIC, which leaves non-numeric text as text).
import type { Knex } from 'knex';

type Table = Knex.CreateTableBuilder;

const ts = (t: Table, name: string) => t.specificType(name, 'timestamptz');
const i8 = (t: Table, name: string) => t.specificType(name, 'int8').notNullable().defaultTo(0);
const uuid = (t: Table, name: string) => t.specificType(name, 'uuid');

function progressColumns(t: Table): void {
  t.specificType('fraction_complete', 'float8').notNullable().defaultTo(0);
  i8(t, 'bytes_total');
  i8(t, 'bytes_done');
  i8(t, 'segments_total');
  i8(t, 'segments_done');
  i8(t, 'segments_failed');
}

/**
 * sys.segments as migration 009 defines it: last_checked_at is the later of the segment row's own and that of
 * the check range covering it. `later` is the dialect's two-argument maximum (SQLite's max, PostgreSQL's
 * greatest); the rest is the same on both.
 */
function sysSegmentsView(later: 'max' | 'greatest'): string {
  return `CREATE VIEW sys_segments AS
    SELECT s.storage_id, s.segment_group_id, s.position, s.is_parity, s.node_name, s.device_id, s.path,
           s.size_bytes, s.status, s.checksum,
           ${later}(coalesce(s.last_checked_at, r.checked_at), coalesce(r.checked_at, s.last_checked_at))
             AS last_checked_at
    FROM segments s LEFT JOIN segment_checks r ON r.rowid = (
      SELECT c.rowid FROM segment_checks c
      WHERE c.device_id = s.device_id AND c.last_rowid >= s.rowid
      ORDER BY c.last_rowid LIMIT 1) AND r.first_rowid <= s.rowid`;
}

const migrations: Record<string, { up(k: Knex): Promise<void>; down(k: Knex): Promise<void> }> = {
  '001_users': {
    async up(k) {
      await k.schema.createTable('users', (t) => {
        t.specificType('name', 'text').primary();
        t.specificType('scram_verifier', 'text');
        t.specificType('md5_hash', 'text');
        ts(t, 'created_at').notNullable();
      });
      await k.schema.createTable('user_roles', (t) => {
        t.specificType('user_name', 'text').notNullable().references('users.name').onDelete('CASCADE');
        t.specificType('role', 'text').notNullable();
        t.primary(['user_name', 'role']);
      });
    },
    async down(k) {
      await k.schema.dropTable('user_roles');
      await k.schema.dropTable('users');
    },
  },
  '002_storage': {
    async up(k) {
      await k.schema.createTable('storage_spaces', (t) => {
        t.specificType('name', 'text').primary();
        t.specificType('width', 'int4').notNullable();
        t.specificType('parity_width', 'int4').notNullable();
        t.specificType('segment_size', 'int8').notNullable();
        ts(t, 'created_at').notNullable();
      });
      await k.schema.createTable('clusters', (t) => {
        uuid(t, 'id').primary();
        t.specificType('name', 'text').notNullable().unique();
        t.specificType('storage_space', 'text').notNullable().references('storage_spaces.name');
        ts(t, 'created_at').notNullable();
      });
      await k.schema.createTable('nodes', (t) => {
        uuid(t, 'id').primary();
        t.specificType('name', 'text').notNullable().unique();
        t.specificType('cluster_name', 'text').notNullable().references('clusters.name');
        t.specificType('status', 'text').notNullable().defaultTo('ONLINE');
        ts(t, 'created_at').notNullable();
      });
      await k.schema.createTable('storage_devices', (t) => {
        uuid(t, 'id').primary();
        t.specificType('node_name', 'text').notNullable().references('nodes.name');
        t.specificType('path', 'text').notNullable().unique();
        i8(t, 'capacity_bytes');
        i8(t, 'used_bytes');
        t.specificType('status', 'text').notNullable().defaultTo('ACTIVE');
        ts(t, 'created_at').notNullable();
      });
      await k.schema.createTable('tables', (t) => {
        uuid(t, 'id').primary();
        t.specificType('name', 'text').notNullable().unique();
        t.specificType('cluster_name', 'text').notNullable().references('clusters.name');
        i8(t, 'bytes');
        i8(t, 'segment_groups');
        t.specificType('columns', 'text').notNullable().defaultTo('');
        ts(t, 'created_at').notNullable();
      });
      await k.schema.createTable('segment_groups', (t) => {
        t.specificType('id', 'int8').primary();
        uuid(t, 'table_id').notNullable().references('tables.id');
        t.specificType('seq', 'int8').notNullable();
        t.specificType('cluster_name', 'text').notNullable();
        t.specificType('width', 'int4').notNullable();
        t.specificType('parity_width', 'int4').notNullable();
        i8(t, 'data_bytes');
        t.specificType('shard_bytes', 'int8').notNullable();
        t.specificType('status', 'text').notNullable().defaultTo('INTACT');
        t.unique(['table_id', 'seq']);
      });
      await k.schema.createTable('segments', (t) => {
        uuid(t, 'storage_id').primary();
        t.specificType('segment_group_id', 'int8').notNullable().references('segment_groups.id');
        t.specificType('position', 'int4').notNullable();
        t.specificType('is_parity', 'bool').notNullable();
        t.specificType('node_name', 'text').notNullable();
        uuid(t, 'device_id').notNullable();
        t.specificType('path', 'text').notNullable();
        i8(t, 'size_bytes');
        t.specificType('status', 'text').notNullable().defaultTo('INTACT');
        t.specificType('checksum', 'text');
        ts(t, 'last_checked_at');
        t.unique(['segment_group_id', 'position']);
        t.index(['device_id']);
        t.index(['node_name']);
        t.index(['status']);
      });
    },
    async down(k) {
      for (const t of [
        'segments',
        'segment_groups',
        'tables',
        'storage_devices',
        'nodes',
        'clusters',
        'storage_spaces',
      ]) {
        await k.schema.dropTable(t);
      }
    },
  },
  '003_tasks': {
    async up(k) {
      await k.schema.createTable('tasks', (t) => {
        uuid(t, 'id').primary();
        t.specificType('name', 'text');
        t.specificType('type', 'text').notNullable();
        t.specificType('location_type', 'text').notNullable();
        t.specificType('location_name', 'text');
        t.specificType('options', 'json').notNullable();
        t.specificType('status', 'text').notNullable();
        t.specificType('created_by', 'text').notNullable();
        ts(t, 'created_at').notNullable();
        ts(t, 'started_at');
        ts(t, 'finished_at');
        progressColumns(t);
        t.specificType('error', 'text');
        t.index(['status']);
        t.index(['name']);
      });
      await k.schema.createTable('subtasks', (t) => {
        uuid(t, 'id').primary();
        uuid(t, 'task_id').notNullable().references('tasks.id');
        uuid(t, 'parent_id');
        t.specificType('node_name', 'text');
        t.specificType('cluster_name', 'text');
        uuid(t, 'device_id');
        t.specificType('description', 'text').notNullable();
        t.specificType('status', 'text').notNullable();
        progressColumns(t);
        ts(t, 'started_at');
        ts(t, 'finished_at');
        t.specificType('error', 'text');
        t.specificType('plan', 'json');
        t.index(['task_id']);
      });
      await k.schema.createTable('result_cache', (t) => {
        t.specificType('id', 'integer').primary();
        uuid(t, 'task_id').notNullable();
        uuid(t, 'subtask_id');
        t.specificType('task_type', 'text').notNullable();
        t.specificType('node_name', 'text');
        uuid(t, 'device_id');
        uuid(t, 'table_id');
        t.specificType('segment_group_id', 'int8');
        uuid(t, 'storage_id');
        t.specificType('result', 'text').notNullable();
        t.specificType('detail', 'text');
        ts(t, 'created_at').notNullable();
        t.index(['task_id']);
      });
    },
    async down(k) {
      for (const t of ['result_cache', 'subtasks', 'tasks']) await k.schema.dropTable(t);
    },
  },
  '004_table_owners_and_privileges': {
    async up(k) {
      // Tables created before owners existed were created by a sysadmin; admin is the first one.
      await k.schema.alterTable('tables', (t) => {
        t.specificType('owner', 'text').notNullable().defaultTo('admin');
      });
      // GRANT SELECT / INSERT ON TABLE: one row per table, grantee and privilege (PostgreSQL's aclitem letter).
      await k.schema.createTable('table_privileges', (t) => {
        uuid(t, 'table_id').notNullable().references('tables.id').onDelete('CASCADE');
        t.specificType('grantee', 'text').notNullable();
        t.specificType('privilege', 'text').notNullable();
        t.specificType('grantor', 'text').notNullable();
        t.primary(['table_id', 'grantee', 'privilege']);
      });
      // Segment files of dropped tables, recorded in the transaction that drops the rows and forgotten once the
      // files are gone: start-up removes what a crash left in between.
      await k.schema.createTable('pending_file_removals', (t) => {
        t.specificType('path', 'text').primary();
      });
    },
    async down(k) {
      await k.schema.dropTable('pending_file_removals');
      await k.schema.dropTable('table_privileges');
      await k.schema.alterTable('tables', (t) => t.dropColumn('owner'));
    },
  },
  '005_task_schedules': {
    async up(k) {
      await k.schema.createTable('task_schedules', (t) => {
        t.specificType('name', 'text').primary();
        // The CREATE TASK each run executes, as written; parsed and validated again at each run.
        t.specificType('definition', 'text').notNullable();
        t.specificType('interval', 'interval').notNullable();
        ts(t, 'next_run').notNullable();
        ts(t, 'last_run');
        uuid(t, 'last_task_id');
        t.specificType('last_status', 'text');
        t.specificType('paused', 'bool').notNullable().defaultTo(false);
        t.specificType('created_by', 'text').notNullable();
        ts(t, 'created_at').notNullable();
        // Runs skipped because the previous one was still active; why the last due run started no task.
        i8(t, 'skipped_runs');
        t.specificType('note', 'text');
      });
    },
    async down(k) {
      await k.schema.dropTable('task_schedules');
    },
  },
  '006_subtask_checkpoints': {
    // A subtask's checkpoint: how far it got (a position in its type's own unit) and its counters at that
    // point, written in the same transaction as the result rows of the work before it; a restart resumes
    // there. bytes_per_sec is the subtask's current I/O rate (reads plus writes), kept while it runs.
    async up(k) {
      await k.schema.alterTable('subtasks', (t) => {
        t.specificType('checkpoint', 'int8');
        i8(t, 'checkpoint_bytes_done');
        i8(t, 'checkpoint_segments_done');
        i8(t, 'checkpoint_segments_failed');
        ts(t, 'checkpointed_at');
        t.specificType('bytes_per_sec', 'float8').notNullable().defaultTo(0);
      });
    },
    async down(k) {
      await k.schema.alterTable('subtasks', (t) => {
        for (const c of [
          'checkpoint',
          'checkpoint_bytes_done',
          'checkpoint_segments_done',
          'checkpoint_segments_failed',
          'checkpointed_at',
          'bytes_per_sec',
        ])
          t.dropColumn(c);
      });
    },
  },
  '007_task_rates': {
    // The current rate of a task (the sum of its running subtasks' rates) and, for tasks and subtasks, when
    // they will finish at that rate: NULL while the rate or the remaining bytes are unknown, and once they stop.
    async up(k) {
      await k.schema.alterTable('tasks', (t) => {
        t.specificType('bytes_per_sec', 'float8').notNullable().defaultTo(0);
        ts(t, 'eta');
      });
      await k.schema.alterTable('subtasks', (t) => {
        ts(t, 'eta');
      });
    },
    async down(k) {
      await k.schema.alterTable('subtasks', (t) => t.dropColumn('eta'));
      await k.schema.alterTable('tasks', (t) => {
        t.dropColumn('eta');
        t.dropColumn('bytes_per_sec');
      });
    },
  },
  '008_node_addresses': {
    // A node with an address is served by the storage agent there (segtasks agent); without one, in process.
    // offline_reason says who set a node OFFLINE: 'operator' (ALTER NODE) or 'unreachable' (the heartbeat),
    // which alone brings it back when the agent answers. Device paths are paths on their host, so two agents
    // may each have /srv/d1: a path is unique per node, and per host among nodes of one host (storage.ts).
    async up(k) {
      await k.schema.alterTable('nodes', (t) => {
        t.specificType('address', 'text');
        t.specificType('offline_reason', 'text');
      });
      await k.schema.alterTable('pending_file_removals', (t) => {
        t.specificType('node_name', 'text');
      });
      // knex made the unique path a constraint on PostgreSQL (an index on SQLite).
      if (k.client.config.client === 'pg')
        await k.raw('ALTER TABLE storage_devices DROP CONSTRAINT IF EXISTS storage_devices_path_unique');
      else await k.raw('DROP INDEX IF EXISTS storage_devices_path_unique');
      await k.raw(
        'CREATE UNIQUE INDEX storage_devices_node_path_unique ON storage_devices (node_name, path)',
      );
    },
    async down(k) {
      await k.raw('DROP INDEX IF EXISTS storage_devices_node_path_unique');
      await k.raw('CREATE UNIQUE INDEX storage_devices_path_unique ON storage_devices (path)');
      await k.schema.alterTable('pending_file_removals', (t) => t.dropColumn('node_name'));
      await k.schema.alterTable('nodes', (t) => {
        t.dropColumn('address');
        t.dropColumn('offline_reason');
      });
    },
  },
  '009_segment_checks': {
    // check_disk records what it verified as ranges of a device's segments (by catalog row id), one row per
    // run of clean segments of a batch, instead of a last_checked_at write for every segment: that write was
    // most of a sampled check's time and of the engine's overhead on small segments. The ranges of a device
    // never overlap (markCheckedRange keeps them apart), so a segment's latest range is found with one index
    // probe. sys.segments reads the view, whose last_checked_at is the later of the row's own (written by
    // findings, rebuilds, moves and ONLINE verification) and that of the range covering it; it lists the
    // columns of segments in their order (a column added to segments is added here too).
    async up(k) {
      await k.schema.createTable('segment_checks', (t) => {
        uuid(t, 'device_id').notNullable();
        t.specificType('first_rowid', 'int8').notNullable();
        t.specificType('last_rowid', 'int8').notNullable();
        ts(t, 'checked_at').notNullable();
        t.index(['device_id', 'last_rowid']);
        t.index(['last_rowid']);
      });
      // On PostgreSQL the view needs the rowid columns of migration 010: it is made there.
      if (k.client.config.client === 'pg') return;
      await k.raw(sysSegmentsView('max'));
    },
    async down(k) {
      await k.raw('DROP VIEW IF EXISTS sys_segments');
      await k.schema.dropTable('segment_checks');
    },
  },
  '010_task_leases': {
    // Several coordinators on one PostgreSQL catalog (docs/cluster.md): a task runs on the coordinator that
    // holds its lease, renewed by heartbeat; another adopts it once the lease has expired. Internal (not a
    // sys.* relation). On PostgreSQL, which has no rowid, the columns the catalog orders and pages by (the
    // insertion order of subtasks and segments) and the ids SQLite assigns by itself come from sequences.
    async up(k) {
      await k.schema.createTable('task_leases', (t) => {
        uuid(t, 'task_id').primary().references('tasks.id');
        t.specificType('owner', 'text').notNullable();
        ts(t, 'expires_at').notNullable();
      });
      if (k.client.config.client !== 'pg') return;
      await k.raw('ALTER TABLE subtasks ADD COLUMN rowid bigserial');
      await k.raw('ALTER TABLE segments ADD COLUMN rowid bigserial');
      await k.raw('CREATE UNIQUE INDEX segments_rowid ON segments (rowid)');
      await k.raw('ALTER TABLE result_cache ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY');
      await k.raw('CREATE SEQUENCE segment_group_ids');
      await k.raw(
        "SELECT setval('segment_group_ids', coalesce((SELECT max(id) FROM segment_groups), 0) + 1, false)",
      );
      // Migration 009's view; on PostgreSQL it needs the rowid columns made here.
      await k.raw('ALTER TABLE segment_checks ADD COLUMN rowid bigserial');
      await k.raw(sysSegmentsView('greatest'));
    },
    async down(k) {
      await k.schema.dropTable('task_leases');
      if (k.client.config.client !== 'pg') return;
      await k.raw('DROP VIEW IF EXISTS sys_segments');
      await k.raw('ALTER TABLE segment_checks DROP COLUMN rowid');
      await k.raw('DROP SEQUENCE segment_group_ids');
      await k.raw('ALTER TABLE result_cache ALTER COLUMN id DROP IDENTITY');
      await k.raw('ALTER TABLE segments DROP COLUMN rowid');
      await k.raw('ALTER TABLE subtasks DROP COLUMN rowid');
    },
  },
};

/** A knex MigrationSource over the migrations above, so they ship inside the compiled code. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};

/**
 * The tables users may read as sys.<name>. Others (users, user_roles, knex's own) stay internal. On PostgreSQL
 * schema sys holds a view of each (reader-schema.ts), which PostgreSQL makes depend on the table's columns: a
 * migration that alters or drops a column of one drops its view first (DROP VIEW IF EXISTS sys.<name>), and
 * the next start makes it again.
 */
export const sysRelations = [
  'tasks',
  'subtasks',
  'result_cache',
  'storage_spaces',
  'clusters',
  'nodes',
  'storage_devices',
  'tables',
  'segment_groups',
  'segments',
  'task_schedules',
] as const;

/**
 * Where a sys relation is read from when that is not its table: a view with the table's columns, in its
 * order (the relation's columns and types are the table's).
 */
export const sysSources: Partial<Record<(typeof sysRelations)[number], string>> = {
  segments: 'sys_segments',
};
