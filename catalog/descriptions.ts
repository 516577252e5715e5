// Comments on the sys.* relations, shown by psql's \d+ and \dt+ and by obj_description()/col_description().
export const SYS_DESCRIPTIONS: Record<string, { table: string; columns?: Record<string, string> }> = {
  tasks: {
    table: 'Distributed tasks (rebuild, check_disk, rebalance) and their progress',
    columns: {
      status: 'PENDING, RUNNING, PAUSED, CANCELLING, COMPLETE, FAILED or CANCELLED',
      options: 'Options as given, with defaults filled in (JSON)',
      fraction_complete: 'Progress from 0 to 1',
      bytes_per_sec: "Current rate while RUNNING: the sum of its running subtasks' rates (0 otherwise)",
      eta: 'When it finishes at the current rate, while RUNNING (NULL while unknown)',
    },
  },
  subtasks: {
    table: 'The units of work of each task: per node and device, per segment-group batch, per move batch',
    columns: {
      bytes_per_sec: 'Bytes read plus written per second over the last two seconds, while RUNNING',
      eta: 'When it finishes at the current rate, while RUNNING (NULL while unknown)',
    },
  },
  result_cache: {
    table: 'Findings and actions of tasks: checksum mismatches, missing segments, rebuilt and moved segments',
  },
  storage_spaces: {
    table: 'Erasure-code settings: segments per group (width) and how many of them are parity',
  },
  clusters: { table: 'Storage clusters: sets of nodes sharing one storage space' },
  nodes: { table: 'Storage nodes and whether they are ONLINE' },
  storage_devices: { table: 'Disks (directories) of each node, with capacity and usage' },
  tables: { table: 'User tables: opaque bytes cut into segment groups' },
  segment_groups: { table: 'Groups of segments coded together; status is the worst of its segments' },
  task_schedules: {
    table: 'Schedules that create a task periodically (CREATE SCHEDULE ... FOR CREATE TASK ...)',
    columns: {
      last_status: 'Status of the task the last run created, or why it could not be created',
      note: 'Why the last due run was skipped (its previous run was still active)',
    },
  },
  segments: {
    table: 'Stored segments: one file each, with checksum and status',
    columns: { status: 'INTACT, DAMAGED, MISSING or REBUILDING', path: 'Segment file on its device' },
  },
};
