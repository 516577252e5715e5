// PostgreSQL's preset options: read-only settings that describe the server's build (PostgreSQL 15's values,
// which hold here too: identifiers are cut at 63 bytes, an index has at most 32 keys ...). Clients read them
// (pgjdbc and DBD::Pg ask for max_index_keys before listing keys); SHOW, current_setting() and pg_settings
// give them beside the session's settings.
export const PRESET_SETTINGS: readonly { name: string; setting: string; vartype: 'integer' | 'bool' }[] = [
  { name: 'block_size', setting: '8192', vartype: 'integer' },
  { name: 'data_checksums', setting: 'off', vartype: 'bool' },
  { name: 'debug_assertions', setting: 'off', vartype: 'bool' },
  { name: 'integer_datetimes', setting: 'on', vartype: 'bool' },
  { name: 'max_function_args', setting: '100', vartype: 'integer' },
  { name: 'max_identifier_length', setting: '63', vartype: 'integer' },
  { name: 'max_index_keys', setting: '32', vartype: 'integer' },
  { name: 'segment_size', setting: '131072', vartype: 'integer' },
  { name: 'wal_block_size', setting: '8192', vartype: 'integer' },
  { name: 'wal_segment_size', setting: '16777216', vartype: 'integer' },
];

export const presetSetting = (name: string) => PRESET_SETTINGS.find((s) => s.name === name)?.setting;
