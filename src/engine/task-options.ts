// The options a task type accepts, each with its kind, default and description; the kind both checks a value
// given in CREATE TASK (src/ddl/task-validation.ts) and types the value the type's plan and run see.

export type OptionKind = 'bool' | 'string' | 'int' | 'fraction' | 'int_list' | 'string_list' | 'uuid_list';

interface KindValue {
  bool: boolean;
  string: string;
  int: number;
  fraction: number;
  int_list: number[];
  string_list: string[];
  uuid_list: string[];
}

/** A rule of one option beyond its kind, checked once all options are known (defaults filled in). */
export type OptionCheck = (value: unknown, options: TaskOptions) => { message: string; hint?: string } | null;

export interface OptionDef<T = unknown> {
  kind: OptionKind;
  default: T;
  describe: string;
  /** Only for an option given in the statement; the error points at it. */
  check?: OptionCheck;
  /** Never set: carries the value's type for OptionValues. */
  readonly __value?: T;
}

export type OptionDefs = Record<string, OptionDef>;

/** The values a type's options hold after validation, typed by their definitions. */
export type OptionValues<D extends OptionDefs> = {
  [K in keyof D]: D[K] extends OptionDef<infer T> ? T : never;
};

export interface TaskOptions {
  [key: string]: unknown;
}

function define<K extends OptionKind>(kind: K) {
  function make(def: KindValue[K], describe: string, check?: OptionCheck): OptionDef<KindValue[K]>;
  function make(def: null, describe: string, check?: OptionCheck): OptionDef<KindValue[K] | null>;
  function make(def: KindValue[K] | null, describe: string, check?: OptionCheck): OptionDef {
    return { kind, default: def, describe, ...(check ? { check } : {}) };
  }
  return make;
}

/** Option definitions by kind: `option.bool(false, 'what it does')`; a null default means "unset". */
export const option = {
  bool: define('bool'),
  string: define('string'),
  int: define('int'),
  fraction: define('fraction'),
  intList: define('int_list'),
  stringList: define('string_list'),
  /** Strings that must be uuids (22P02 otherwise, as PostgreSQL's uuid input), kept in canonical form. */
  uuidList: define('uuid_list'),
};

/** Options every task type takes: the engine itself reads them (scheduling and throttling). */
export const ENGINE_OPTIONS = {
  max_bytes_per_sec: option.int(
    null,
    'throttle per device: bytes read plus written per second on each device (unset = unlimited)',
  ),
  parallelism: option.int(2, 'concurrent subtasks per node'),
};

export type EngineOptions = OptionValues<typeof ENGINE_OPTIONS>;

/**
 * Gives every option not set its definition's default, in place: CREATE TASK's validated options, and a
 * stored task's options when the engine loads it (a task stored before an option existed runs with the
 * option's default). Past this, every option has a value and the code that reads one has no fallback of
 * its own (parallelism is always set).
 */
export function withDefaults<O extends TaskOptions>(defs: OptionDefs, options: O): O {
  for (const [k, def] of Object.entries(defs)) if (!(k in options)) (options as TaskOptions)[k] = def.default;
  return options;
}
