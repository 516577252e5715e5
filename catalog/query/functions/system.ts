// Session, catalog and system information functions (version(), current_setting(), pg_get_indexdef() ...).

import type { BackendSignal } from '../../../pg/activity';
import { formatArrayLiteral } from '../../../pg/codecs';
import { SqlError } from '../../../pg/errors';
import { checkNotification } from '../../../pg/notify';
import { typeNameOfOid } from '../../../pg/types';
import { presetSetting } from '../../preset-settings';
import { NAMESPACES } from '../../relations';
import { typeOid } from '../pgtypes';
import {
  call,
  constant,
  type FnDef,
  type FunctionContext,
  type Register,
  SESSION,
  SESSION_VARIADIC,
  type V,
} from './define';

const ENCODINGS: Record<number, string> = { 0: 'SQL_ASCII', 6: 'UTF8' };

function sizePretty(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  // PostgreSQL switches unit when the value reaches 10240 of the current one, rounding half up.
  while (Math.abs(v) >= 10 * 1024 - 0.5 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Math.round(v)} ${units[i]}`;
}

/** format_type(): the SQL name PostgreSQL prints for a type (with a typmod where it has one). */
export function formatTypeName(name: string, typmod: number): string {
  const sqlNames: Record<string, string> = {
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    float4: 'real',
    float8: 'double precision',
    bool: 'boolean',
    varchar: 'character varying',
    bpchar: 'character',
    timestamptz: 'timestamp with time zone',
    timestamp: 'timestamp without time zone',
    char: '"char"',
  };
  if (name.startsWith('_')) return formatTypeName(name.slice(1), typmod) + '[]';
  const base = sqlNames[name] ?? name;
  if (typmod > 4 && (name === 'varchar' || name === 'bpchar')) return `${base}(${typmod - 4})`;
  return base;
}

/**
 * pg_cancel_backend / pg_terminate_backend, with the checks of PostgreSQL 15's pg_signal_backend: a superuser's
 * session only by a superuser, another role's only by a superuser (membership is a role's own sessions here).
 * The signal itself is sent by the session once the statement has run.
 */
function signalBackend(c: FunctionContext, pid: V, how: BackendSignal): number | null {
  if (pid === null) return null;
  const target = c.activity.find((a) => a.pid === Number(pid));
  if (!target) {
    c.warnings.push(`PID ${pid} is not a PostgreSQL backend process`);
    return 0;
  }
  const superuser = c.settings.get('is_superuser') === 'on';
  const what = how === 'cancel' ? 'cancel superuser query' : 'terminate superuser process';
  if (target.superuser && !superuser) throw new SqlError('42501', `must be a superuser to ${what}`);
  if (!superuser && target.usename !== c.user)
    throw new SqlError(
      '42501',
      how === 'cancel'
        ? 'must be a member of the role whose query is being canceled or member of pg_signal_backend'
        : 'must be a member of the role whose process is being terminated or member of pg_signal_backend',
    );
  c.signals.push([target.pid, how]);
  return 1;
}

export const definitions: Record<string, FnDef> = {
  // the type the translator inferred for the argument, as a regtype (an untyped literal is unknown)
  pg_typeof: {
    sql: (_args, types) => String(types[0] ? typeOid(types[0]) : typeOid('unknown')),
    returns: () => 'regtype',
  },
  acldefault: call('pg_acldefault', '_aclitem', ['char', 'oid']),
  pg_index_column_has_property: call('pg_index_column_has_property_fn', 'bool', ['oid', 'int4', 'text']),
  pg_indexam_has_property: call('pg_indexam_has_property_fn', 'bool', ['oid', 'text']),
  pg_index_has_property: call('pg_index_has_property_fn', 'bool', ['oid', 'text']),
  // session and system information
  version: constant('pg_version()', 'text'),
  current_database: constant('pg_current_database()', 'name'),
  current_schema: constant('pg_current_schema()', 'name'),
  current_schemas: call('pg_current_schemas', '_name', ['bool']),
  current_user: constant('pg_current_user()', 'name'),
  session_user: constant('pg_current_user()', 'name'),
  current_setting: call('pg_current_setting', 'text', ['text', 'bool']),
  set_config: call('pg_set_config', 'text', ['text', 'text', 'bool']),
  pg_notify: call('pg_notify_fn', 'void', ['text', 'text']),
  pg_cancel_backend: call('pg_cancel_backend_fn', 'bool', ['int4']),
  pg_terminate_backend: call('pg_terminate_backend_fn', 'bool', ['int4', 'int8']),
  pg_backend_pid: constant('pg_backend_pid()', 'int4'),
  inet_server_addr: constant("'127.0.0.1'", 'text'),
  inet_server_port: constant("pg_current_setting('port', 1)", 'int4'),
  inet_client_addr: constant('NULL', 'text'),
  pg_postmaster_start_time: constant('pg_postmaster_start_time()', 'timestamptz'),
  pg_is_in_recovery: constant('0', 'bool'),
  pg_encoding_to_char: call('pg_encoding_to_char', 'name'),
  pg_char_to_encoding: constant('6', 'int4'),
  format_type: call('pg_format_type', 'text', ['oid', 'int4']),
  pg_get_userbyid: call('pg_get_userbyid', 'name', ['oid']),
  pg_table_is_visible: call('pg_table_is_visible', 'bool', ['oid']),
  pg_type_is_visible: constant('1', 'bool'),
  pg_function_is_visible: constant('1', 'bool'),
  pg_collation_is_visible: constant('1', 'bool'),
  pg_opclass_is_visible: constant('1', 'bool'),
  has_table_privilege: constant('1', 'bool'),
  has_schema_privilege: constant('1', 'bool'),
  has_database_privilege: constant('1', 'bool'),
  has_any_column_privilege: constant('1', 'bool'),
  has_column_privilege: constant('1', 'bool'),
  has_function_privilege: constant('1', 'bool'),
  pg_has_role: constant('1', 'bool'),
  obj_description: call('pg_obj_description', 'text'),
  col_description: call('pg_col_description', 'text'),
  shobj_description: constant('NULL', 'text'),
  pg_relation_size: call('pg_relation_size', 'int8'),
  pg_total_relation_size: call('pg_relation_size', 'int8'),
  pg_table_size: call('pg_relation_size', 'int8'),
  pg_indexes_size: constant('0', 'int8'),
  pg_database_size: constant('pg_database_size()', 'int8'),
  pg_size_pretty: call('pg_size_pretty', 'text'),
  pg_get_expr: constant('NULL', 'text'),
  pg_get_indexdef: call('pg_get_indexdef_fn', 'text'),
  pg_get_constraintdef: call('pg_get_constraintdef_fn', 'text'),
  pg_get_viewdef: constant('NULL', 'text'),
  pg_get_triggerdef: constant('NULL', 'text'),
  pg_get_function_arguments: constant("''", 'text'),
  pg_get_function_result: constant("''", 'text'),
  pg_get_function_identity_arguments: constant("''", 'text'),
  pg_get_partkeydef: constant('NULL', 'text'),
  pg_get_statisticsobjdef_columns: constant('NULL', 'text'),
  // the default tablespaces have no location of their own (''); NULL in, NULL out (the function is strict)
  pg_tablespace_location: {
    sql: ([oid]) => `(CASE WHEN ${oid} IS NULL THEN NULL ELSE '' END)`,
    returns: () => 'text',
  },
  pg_get_serial_sequence: constant('NULL', 'text'),
  pg_is_other_temp_schema: constant('0', 'bool'),
  pg_sleep: call('pg_sleep_fn', 'void'),
  pg_stat_get_numscans: constant('0', 'int8'),
  pg_stat_get_tuples_returned: constant('0', 'int8'),
  pg_stat_get_live_tuples: constant('0', 'int8'),
  pg_relation_is_publishable: constant('0', 'bool'),
  pg_my_temp_schema: constant('0', 'oid'),
  txid_current: constant('1', 'int8'),
  pg_current_xact_id: constant('1', 'int8'),
};

/**
 * The properties PostgreSQL 15 reports for btree, the access method of every index here (all of them ascending,
 * NULLS LAST): pg_indexam_has_property, pg_index_has_property and pg_index_column_has_property answer from
 * these; an unknown object, column or property is NULL, as in PostgreSQL.
 */
const BTREE_AM = 403;
const BTREE_AM_PROPERTIES: Record<string, boolean> = {
  can_order: true,
  can_unique: true,
  can_multi_col: true,
  can_exclude: true,
  can_include: true,
};
const BTREE_INDEX_PROPERTIES: Record<string, boolean> = {
  clusterable: true,
  index_scan: true,
  bitmap_scan: true,
  backward_scan: true,
};
const BTREE_COLUMN_PROPERTIES: Record<string, boolean> = {
  asc: true,
  desc: false,
  nulls_first: false,
  nulls_last: true,
  orderable: true,
  distance_orderable: false,
  returnable: true,
  search_array: true,
  search_nulls: true,
};
const property = (table: Record<string, boolean>, name: V) => {
  const v = table[String(name).toLowerCase()];
  return v === undefined ? null : v ? 1 : 0;
};

/**
 * The schemas of the session's search_path that exist, in order: "$user" is the user's own schema, and
 * quoted names keep their case (PostgreSQL's recomputeNamespacePath).
 */
function searchPath(c: FunctionContext): string[] {
  const raw = c.changedSettings.get('search_path') ?? c.settings.get('search_path') ?? '"$user", public';
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s.toLowerCase()))
    .map((s) => (s === '$user' ? c.user : s))
    .filter((s, i, all) => NAMESPACES.some((n) => n.name === s) && all.indexOf(s) === i);
}

/**
 * acldefault(): the privileges an object has before any GRANT, by object type (PostgreSQL 15's acl.c): for
 * each type, the rights of PUBLIC (if any) and of the owner, who also grants them.
 */
const DEFAULT_ACL: Record<string, { world: string; owner: string }> = {
  c: { world: '', owner: '' },
  r: { world: '', owner: 'arwdDxt' },
  s: { world: '', owner: 'rwU' },
  d: { world: 'Tc', owner: 'CTc' },
  f: { world: 'X', owner: 'X' },
  l: { world: 'U', owner: 'U' },
  L: { world: '', owner: 'rw' },
  n: { world: '', owner: 'UC' },
  t: { world: '', owner: 'C' },
  F: { world: '', owner: 'U' },
  S: { world: '', owner: 'U' },
  T: { world: 'U', owner: 'U' },
  p: { world: '', owner: 'sA' },
};

/** A role name as an aclitem prints it: double-quoted unless it is only letters, digits and underscores. */
const aclName = (n: string) => (/^[A-Za-z0-9_]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`);

export function register(reg: Register, ctx: () => FunctionContext): void {
  reg(
    'pg_acldefault',
    (type: V, owner: V) => {
      if (type === null || owner === null) return null;
      const d = DEFAULT_ACL[String(type)];
      if (!d) throw new SqlError('XX000', `unrecognized object type abbreviation: ${type}`);
      const o = aclName(ctx().userName(Number(owner)) ?? String(owner));
      const items = [...(d.world ? [`=${d.world}/${o}`] : []), ...(d.owner ? [`${o}=${d.owner}/${o}`] : [])];
      return `{${items.join(',')}}`;
    },
    SESSION,
  );
  reg('pg_indexam_has_property_fn', (am: V, prop: V) =>
    am === null || prop === null || Number(am) !== BTREE_AM ? null : property(BTREE_AM_PROPERTIES, prop),
  );
  reg(
    'pg_index_has_property_fn',
    (oid: V, prop: V) =>
      oid === null || prop === null || ctx().indexDef(Number(oid), 0) === null
        ? null
        : property(BTREE_INDEX_PROPERTIES, prop),
    SESSION,
  );
  reg(
    'pg_index_column_has_property_fn',
    (oid: V, col: V, prop: V) =>
      oid === null || col === null || prop === null || ctx().indexDef(Number(oid), Number(col)) === null
        ? null
        : property(BTREE_COLUMN_PROPERTIES, prop),
    SESSION,
  );
  reg('pg_size_pretty', (n: V) => (n === null ? null : sizePretty(Number(n))));
  reg('pg_encoding_to_char', (n: V) => ENCODINGS[Number(n)] ?? '');
  reg(
    'pg_sleep_fn',
    (secs: V) => {
      const ms = Math.max(0, Math.min(3_600_000, Number(secs) * 1000));
      const c = ctx();
      if (c.sleep) c.sleep(ms);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return '';
    },
    { deterministic: false },
  );
  reg('pg_version', () => `PostgreSQL ${ctx().serverVersion}`, SESSION);
  reg('pg_current_user', () => ctx().user, SESSION);
  reg('pg_current_database', () => ctx().database, SESSION);
  reg('pg_backend_pid', () => ctx().pid, SESSION);
  reg('pg_postmaster_start_time', () => ctx().startedAt, SESSION);
  reg(
    'pg_current_schemas',
    (implicit: V) => {
      const path = searchPath(ctx());
      return formatArrayLiteral(
        Number(implicit) && !path.includes('pg_catalog') ? ['pg_catalog', ...path] : path,
      );
    },
    SESSION,
  );
  reg('pg_current_schema', () => searchPath(ctx())[0] ?? null, SESSION);
  reg(
    'pg_current_setting',
    (name: V, missingOk?: V) => {
      const c = ctx();
      const key = String(name).toLowerCase();
      const v = c.changedSettings.get(key) ?? c.settings.get(key) ?? presetSetting(key);
      if (v === undefined) {
        if (missingOk !== undefined && missingOk !== null && Number(missingOk)) return null;
        throw new SqlError('42704', `unrecognized configuration parameter "${name}"`);
      }
      return v;
    },
    SESSION_VARIADIC,
  );
  reg(
    'pg_set_config',
    (name: V, value: V) => {
      ctx().changedSettings.set(String(name).toLowerCase(), String(value));
      return value;
    },
    SESSION_VARIADIC,
  );
  reg(
    'pg_notify_fn',
    (channel: V, payload: V) => {
      // As async.c's pg_notify: a NULL channel or payload is the empty string, then NOTIFY's checks.
      const c = channel === null ? '' : String(channel);
      const p = payload === null ? '' : String(payload);
      checkNotification(c, p);
      ctx().notifications.push([c, p]);
      return '';
    },
    SESSION,
  );
  reg('pg_cancel_backend_fn', (pid: V) => signalBackend(ctx(), pid, 'cancel'), SESSION);
  reg('pg_terminate_backend_fn', (pid: V) => signalBackend(ctx(), pid, 'terminate'), SESSION_VARIADIC);
  reg(
    'pg_format_type',
    (oid: V, typmod: V) => {
      if (oid === null) return null;
      const name = typeNameOfOid(Number(oid));
      if (!name) return ctx().regName('regtype', Number(oid)) ?? '???';
      return formatTypeName(name, typmod === null || typmod === undefined ? -1 : Number(typmod));
    },
    SESSION_VARIADIC,
  );
  reg(
    'pg_get_userbyid',
    (oid: V) => (oid === null ? null : (ctx().userName(Number(oid)) ?? `unknown (OID=${oid})`)),
    SESSION,
  );
  reg(
    'pg_table_is_visible',
    (oid: V) => (oid === null ? null : ctx().relationVisible(Number(oid)) ? 1 : 0),
    SESSION,
  );
  reg(
    'pg_obj_description',
    (oid: V) => (oid === null ? null : ctx().description(Number(oid), null)),
    SESSION_VARIADIC,
  );
  reg(
    'pg_col_description',
    (oid: V, col: V) => (oid === null ? null : ctx().description(Number(oid), Number(col))),
    SESSION,
  );
  reg(
    'pg_relation_size',
    (oid: V) => (oid === null ? null : ctx().relationSize(Number(oid))),
    SESSION_VARIADIC,
  );
  reg('pg_database_size', () => ctx().databaseSize(), SESSION_VARIADIC);
  reg(
    'pg_get_indexdef_fn',
    (oid: V, col?: V) =>
      oid === null ? null : ctx().indexDef(Number(oid), col === undefined || col === null ? 0 : Number(col)),
    SESSION_VARIADIC,
  );
  reg(
    'pg_get_constraintdef_fn',
    (oid: V) => (oid === null ? null : ctx().constraintDef(Number(oid))),
    SESSION_VARIADIC,
  );
}
