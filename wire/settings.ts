// Run-time settings, like PostgreSQL's guc.c: the defaults, SET/SHOW/RESET, and ParameterStatus reports
// of the settings a client is told about. Keys are lower case; displayName() gives the reported spelling.

import { SqlError } from '../pg/errors';
import { Oid } from '../pg/types';
import * as msg from './backend-messages';
import type { QueryResult } from './handler';
import type { SessionCommand } from './session';
import { CHECKED_DEFAULTS, checkSetting } from './setting-rules';
import type { MessageSink } from './transport';

export interface SettingDef {
  value: string;
  /** Sent as ParameterStatus at startup and whenever it changes. */
  reported?: boolean;
}

export const serverVersion = '15.0';

export function defaultSettings(
  serverName: string,
  extra: Record<string, string> = {},
): Map<string, SettingDef> {
  const s = new Map<string, SettingDef>();
  const reported: Record<string, string> = {
    server_version: `${serverVersion} (${serverName})`,
    server_encoding: 'UTF8',
    client_encoding: 'UTF8',
    DateStyle: 'ISO, MDY',
    IntervalStyle: 'postgres',
    TimeZone: 'UTC',
    integer_datetimes: 'on',
    standard_conforming_strings: 'on',
    is_superuser: 'off',
    session_authorization: '',
    application_name: '',
    default_transaction_read_only: 'off',
    in_hot_standby: 'off',
  };
  for (const [k, v] of Object.entries(reported)) s.set(k.toLowerCase(), { value: v, reported: true });
  const other: Record<string, string> = {
    server_version_num: '150000',
    search_path: '"$user", public',
    transaction_isolation: 'read committed',
    default_transaction_isolation: 'read committed',
    transaction_read_only: 'off',
    extra_float_digits: '1',
    statement_timeout: '0',
    lock_timeout: '0',
    idle_in_transaction_session_timeout: '0',
    max_identifier_length: '63',
    max_connections: '100',
    bytea_output: 'hex',
    lc_collate: 'C.UTF-8',
    lc_ctype: 'C.UTF-8',
    lc_messages: 'C.UTF-8',
    lc_monetary: 'C',
    lc_numeric: 'C',
    lc_time: 'C',
    block_size: '8192',
    work_mem: '4MB',
    datestyle_order: 'MDY',
    row_security: 'on',
    synchronous_commit: 'on',
    client_min_messages: 'notice',
    ...CHECKED_DEFAULTS,
    ...extra,
  };
  for (const [k, v] of Object.entries(other)) s.set(k.toLowerCase(), { value: v });
  return s;
}

/** Canonical (display) spelling of reported parameters, for ParameterStatus and SHOW column names. */
const displayNames: Record<string, string> = {
  datestyle: 'DateStyle',
  intervalstyle: 'IntervalStyle',
  timezone: 'TimeZone',
};
export const displayName = (key: string) => displayNames[key] ?? key;

export type SettingsSnapshot = ReadonlyMap<string, SettingDef>;

export class Settings {
  private readonly values: Map<string, SettingDef>;
  private changes = 0;
  private list: [string, string][] | null = null;

  /** serverDefaults: the server's own defaults (log_statement from the command line, ...). */
  constructor(
    private readonly serverName: string,
    private readonly sink: MessageSink,
    private readonly serverDefaults: Record<string, string> = {},
  ) {
    this.values = this.defaults();
  }

  private defaults(): Map<string, SettingDef> {
    return defaultSettings(this.serverName, this.serverDefaults);
  }

  get superuser(): boolean {
    return this.get('is_superuser') === 'on';
  }

  /**
   * Sets a value as SET or set_config() does, or the startup packet: checked settings are validated and
   * reserved to superusers (42501) as guc.c does.
   */
  setChecked(name: string, value: string, atStartup = false): void {
    const key = name.toLowerCase();
    this.apply(key, checkSetting(key, value, this.superuser, atStartup), !atStartup);
  }

  /** Changes whenever any setting changes; lets a handler cache what it derived from the settings. */
  get version(): number {
    return this.changes;
  }

  get(name: string): string | undefined {
    return this.values.get(name.toLowerCase())?.value;
  }

  /** Sets a value; report says whether a change to a reported setting is sent as ParameterStatus now. */
  apply(name: string, value: string, report: boolean): void {
    const key = name.toLowerCase();
    const def = this.values.get(key);
    if (def?.value !== value) {
      this.changes++;
      this.list = null;
    }
    if (def) {
      if (def.value === value) return;
      this.values.set(key, { ...def, value });
      if (def.reported && report) this.sink.send(msg.parameterStatus(displayName(key), value));
    } else this.values.set(key, { value });
  }

  /** Every setting as [display name, value]; the same array until something changes. */
  all(): [string, string][] {
    this.list ??= [...this.values].map(([k, v]) => [displayName(k), v.value]);
    return this.list;
  }

  /** Sends ParameterStatus for every reported setting (at the end of startup). */
  reportAll(): void {
    for (const [k, def] of this.values)
      if (def.reported) this.sink.send(msg.parameterStatus(displayName(k), def.value));
  }

  snapshot(): SettingsSnapshot {
    return new Map(this.values);
  }

  /** Puts back the values of a snapshot (reporting changes), except the keys in keep. */
  restore(from: SettingsSnapshot, keep: string[] = []): void {
    for (const [k, def] of from) {
      if (keep.includes(k)) continue;
      this.apply(k, def.value, true);
    }
  }

  /** DISCARD ALL / RESET ALL: back to the defaults, except who the session is. */
  resetAll(): void {
    this.restore(this.defaults(), ['session_authorization', 'is_superuser']);
  }

  /** SET name = value, SET name TO DEFAULT, RESET name. */
  set(cmd: Extract<SessionCommand, { kind: 'set' }>): QueryResult {
    if (cmd.value === null) {
      const def = this.defaults().get(cmd.name);
      if (def) this.setChecked(cmd.name, def.value);
    } else {
      if (cmd.name === 'client_encoding' && !/^(utf-?8|unicode)$/i.test(cmd.value)) {
        throw new SqlError(
          '0A000',
          `client encoding "${cmd.value}" is not supported: this server speaks UTF8 only`,
        );
      }
      if (cmd.name === 'server_version' || cmd.name === 'server_encoding' || cmd.name === 'is_superuser') {
        throw new SqlError('55P02', `parameter "${cmd.name}" cannot be changed`);
      }
      const v = cmd.name === 'client_encoding' ? 'UTF8' : cmd.value;
      this.setChecked(cmd.name, v);
    }
    return { kind: 'command', tag: cmd.tag };
  }

  /** SHOW name, SHOW ALL. */
  show(cmd: Extract<SessionCommand, { kind: 'show' }>): QueryResult {
    if (cmd.name === 'all') {
      return {
        kind: 'rows',
        fields: [
          { name: 'name', typeOid: Oid.text },
          { name: 'setting', typeOid: Oid.text },
          { name: 'description', typeOid: Oid.text },
        ],
        rows: [...this.values].map(([k, v]) => [displayName(k), v.value, '']),
        tag: 'SHOW',
      };
    }
    const v = this.values.get(cmd.name);
    if (!v) throw new SqlError('42704', `unrecognized configuration parameter "${cmd.name}"`);
    return { kind: 'rows', fields: [{ name: cmd.name, typeOid: Oid.text }], rows: [[v.value]], tag: 'SHOW' };
  }
}
