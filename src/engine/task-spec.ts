// What each task type accepts: its locations and its options with their types and defaults. CREATE TASK is
// validated against this table (src/ddl/task-validation.ts), and sys.tasks.options shows the options with every
// default filled in.

export const TASK_TYPES = ['rebuild', 'check_disk', 'rebalance'] as const;
export type TaskTypeName = (typeof TASK_TYPES)[number];
export type LocationType = 'SYSTEM' | 'CLUSTER' | 'NODE';

export type OptionKind = 'bool' | 'string' | 'int' | 'fraction' | 'int_list' | 'string_list';

export interface OptionDef {
  kind: OptionKind;
  default: unknown;
  describe: string;
}

const COMMON: Record<string, OptionDef> = {
  max_bytes_per_sec: {
    kind: 'int',
    default: null,
    describe: 'per-device throttle in bytes per second (unset = unlimited)',
  },
  parallelism: { kind: 'int', default: 2, describe: 'concurrent subtasks per node' },
};

export const SPECS: Record<TaskTypeName, { locations: LocationType[]; options: Record<string, OptionDef> }> =
  {
    check_disk: {
      locations: ['SYSTEM', 'CLUSTER', 'NODE'],
      options: {
        fix: { kind: 'bool', default: false, describe: 'mark failing segments DAMAGED or MISSING' },
        sample: { kind: 'bool', default: false, describe: 'check a random sample of blocks' },
        sample_rate: {
          kind: 'fraction',
          default: 0.1,
          describe: 'fraction of blocks when sample = true, in (0,1]',
        },
        only_unhealthy: {
          kind: 'bool',
          default: false,
          describe: 'only segments whose status is not INTACT',
        },
        storage_ids: { kind: 'string_list', default: null, describe: 'only these segment storage ids' },
        ...COMMON,
      },
    },
    rebuild: {
      locations: ['SYSTEM', 'CLUSTER'],
      options: {
        node: { kind: 'string', default: null, describe: 'only segments on this node' },
        segment_groups: { kind: 'int_list', default: null, describe: 'only these segment-group ids' },
        table_id: { kind: 'string', default: null, describe: 'only segment groups of this table' },
        ...COMMON,
      },
    },
    rebalance: {
      locations: ['SYSTEM', 'CLUSTER'],
      options: {
        threshold: {
          kind: 'fraction',
          default: 0.1,
          describe: 'stop when every disk is within this fraction of the mean',
        },
        ...COMMON,
      },
    },
  };

export interface TaskOptions {
  [key: string]: unknown;
}

export interface ValidatedTask {
  name: string | null;
  type: TaskTypeName;
  location: { type: LocationType; name: string | null; at: number };
  options: TaskOptions;
}

/** Checks type, location and options against the table; fills defaults. Parameters are substituted. */
