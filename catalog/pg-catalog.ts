// Emulation of pg_catalog and information_schema on a reader connection. Each relation has its PostgreSQL 15
// column list; static ones are TEMP tables filled once per connection from the registry, and those that
// depend on users or live data are TEMP views over the catalog file, so they are always current.
import type BetterSqlite3 from 'better-sqlite3';
import { formatArrayLiteral } from '../pg/codecs';
import { ARRAY_SUBSCRIPT_HANDLER, BTHANDLER, HEAP_TABLEAM_HANDLER, TYPE_IO } from '../pg/type-io';
import { canonicalType, PG_TYPES, typeSize } from '../pg/types';
import { SYS_DESCRIPTIONS } from './descriptions';
import { ACTION_NAME, foreignKeyDef, sysForeignKeys } from './foreign-keys';
import { PRESET_SETTINGS } from './preset-settings';
import { formatTypeName } from './query/functions';
import { pgProcRows } from './query/functions/pg-proc';
import { typeOid } from './query/pgtypes';
import {
  type ColumnDef,
  columns,
  NAMESPACES,
  namespaceOid,
  type RelationDef,
  RelationRegistry,
  relationOid,
  SYSTEM_COLUMNS,
  USER_TABLE_OID_BASE,
} from './relations';
import { sysRelations, sysSources } from './schema';
import { FIRST_ADMIN } from './users';

const PG: Record<string, string> = {
  pg_type: `oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool typtype:char typcategory:char
    typispreferred:bool typisdefined:bool typdelim:char typrelid:oid typsubscript:regproc typelem:oid typarray:oid
    typinput:regproc typoutput:regproc typreceive:regproc typsend:regproc typmodin:regproc typmodout:regproc
    typanalyze:regproc typalign:char typstorage:char typnotnull:bool typbasetype:oid typtypmod:int4 typndims:int4
    typcollation:oid typdefaultbin:pg_node_tree typdefault:text typacl:_aclitem`,
  pg_namespace: 'oid:oid nspname:name nspowner:oid nspacl:_aclitem',
  pg_class: `oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid relam:oid relfilenode:oid
    reltablespace:oid relpages:int4 reltuples:float4 relallvisible:int4 reltoastrelid:oid relhasindex:bool
    relisshared:bool relpersistence:char relkind:char relnatts:int2 relchecks:int2 relhasrules:bool
    relhastriggers:bool relhassubclass:bool relrowsecurity:bool relforcerowsecurity:bool relispopulated:bool
    relreplident:char relispartition:bool relrewrite:oid relfrozenxid:xid relminmxid:xid relacl:_aclitem
    reloptions:_text relpartbound:pg_node_tree`,
  pg_attribute: `attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2 attnum:int2 attndims:int4
    attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char attstorage:char attcompression:char attnotnull:bool
    atthasdef:bool atthasmissing:bool attidentity:char attgenerated:char attisdropped:bool attislocal:bool
    attinhcount:int4 attcollation:oid attacl:_aclitem attoptions:_text attfdwoptions:_text attmissingval:text`,
  pg_attrdef: 'oid:oid adrelid:oid adnum:int2 adbin:pg_node_tree',
  pg_constraint: `oid:oid conname:name connamespace:oid contype:char condeferrable:bool condeferred:bool
    convalidated:bool conrelid:oid contypid:oid conindid:oid conparentid:oid confrelid:oid confupdtype:char
    confdeltype:char confmatchtype:char conislocal:bool coninhcount:int4 connoinherit:bool conkey:_int2
    confkey:_int2 conpfeqop:_oid conppeqop:_oid conffeqop:_oid confdelsetcols:_int2 conexclop:_oid conbin:pg_node_tree`,
  pg_description: 'objoid:oid classoid:oid objsubid:int4 description:text',
  pg_index: `indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool indnullsnotdistinct:bool
    indisprimary:bool indisexclusion:bool indimmediate:bool indisclustered:bool indisvalid:bool indcheckxmin:bool
    indisready:bool indislive:bool indisreplident:bool indkey:int2vector indcollation:oidvector indclass:oidvector
    indoption:int2vector indexprs:pg_node_tree indpred:pg_node_tree`,
  pg_am: 'oid:oid amname:name amhandler:regproc amtype:char',
  pg_inherits: 'inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool',
  pg_collation: `oid:oid collname:name collnamespace:oid collowner:oid collprovider:char collisdeterministic:bool
    collencoding:int4 collcollate:text collctype:text colliculocale:text collversion:text`,
  pg_proc: `oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4 prorows:float4
    provariadic:oid prosupport:regproc prokind:char prosecdef:bool proleakproof:bool proisstrict:bool
    proretset:bool provolatile:char proparallel:char pronargs:int2 pronargdefaults:int2 prorettype:oid
    proargtypes:oidvector proallargtypes:_oid proargmodes:_char proargnames:_text proargdefaults:pg_node_tree
    protrftypes:_oid prosrc:text probin:text prosqlbody:pg_node_tree proconfig:_text proacl:_aclitem`,
  pg_extension: `oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool extversion:text
    extconfig:_oid extcondition:_text`,
  pg_tablespace: 'oid:oid spcname:name spcowner:oid spcacl:_aclitem spcoptions:_text',
  pg_views: 'schemaname:name viewname:name viewowner:name definition:text',
  pg_matviews: `schemaname:name matviewname:name matviewowner:name tablespace:name hasindexes:bool ispopulated:bool
    definition:text`,
  pg_tables: `schemaname:name tablename:name tableowner:name tablespace:name hasindexes:bool hasrules:bool
    hastriggers:bool rowsecurity:bool`,
  pg_trigger: `oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2 tgenabled:char tgisinternal:bool
    tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid tgdeferrable:bool tginitdeferred:bool tgnargs:int2
    tgattr:int2vector tgargs:bytea tgqual:pg_node_tree tgoldtable:name tgnewtable:name`,
  pg_rewrite:
    'oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool ev_qual:pg_node_tree ev_action:pg_node_tree',
  pg_sequence:
    'seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8 seqmin:int8 seqcache:int8 seqcycle:bool',
  pg_enum: 'oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name',
  pg_range:
    'rngtypid:oid rngsubtype:oid rngmultitypid:oid rngcollation:oid rngsubopc:oid rngcanonical:regproc rngsubdiff:regproc',
  pg_depend: 'classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid refobjsubid:int4 deptype:char',
  pg_shdescription: 'objoid:oid classoid:oid description:text',
  pg_foreign_table: 'ftrelid:oid ftserver:oid ftoptions:_text',
  pg_foreign_server:
    'oid:oid srvname:name srvowner:oid srvfdw:oid srvtype:text srvversion:text srvacl:_aclitem srvoptions:_text',
  pg_foreign_data_wrapper:
    'oid:oid fdwname:name fdwowner:oid fdwhandler:oid fdwvalidator:oid fdwacl:_aclitem fdwoptions:_text',
  pg_event_trigger:
    'oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid evtenabled:char evttags:_text',
  pg_policy:
    'oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:_oid polqual:pg_node_tree polwithcheck:pg_node_tree',
  pg_publication_namespace: 'oid:oid pnpubid:oid pnnspid:oid',
  pg_publication_rel: 'oid:oid prpubid:oid prrelid:oid prqual:pg_node_tree prattrs:int2vector',
  pg_partitioned_table:
    'partrelid:oid partstrat:char partnatts:int2 partdefid:oid partattrs:int2vector partclass:oidvector partcollation:oidvector partexprs:pg_node_tree',
  pg_statistic_ext_data: 'stxoid:oid stxdinherit:bool',
  // subskiplsn is a pg_lsn in PostgreSQL, a type this server does not have: text (the table is empty)
  pg_subscription: `oid:oid subdbid:oid subskiplsn:text subname:name subowner:oid subenabled:bool subbinary:bool
    substream:bool subtwophasestate:char subdisableonerr:bool subconninfo:text subslotname:name subsynccommit:text
    subpublications:_text`,
  pg_sequences: `schemaname:name sequencename:name sequenceowner:name data_type:regtype start_value:int8
    min_value:int8 max_value:int8 increment_by:int8 cycle:bool cache_size:int8 last_value:int8`,
  pg_policies:
    'schemaname:name tablename:name policyname:name permissive:text roles:_name cmd:text qual:text with_check:text',
  pg_init_privs: 'objoid:oid classoid:oid objsubid:int4 privtype:char initprivs:_aclitem',
  pg_default_acl: 'oid:oid defaclrole:oid defaclnamespace:oid defaclobjtype:char defaclacl:_aclitem',
  pg_opfamily: 'oid:oid opfmethod:oid opfname:name opfnamespace:oid opfowner:oid',
  pg_amop: `oid:oid amopfamily:oid amoplefttype:oid amoprighttype:oid amopstrategy:int2 amoppurpose:char
    amopopr:oid amopmethod:oid amopsortfamily:oid`,
  pg_amproc: 'oid:oid amprocfamily:oid amproclefttype:oid amprocrighttype:oid amprocnum:int2 amproc:regproc',
  pg_ts_parser: `oid:oid prsname:name prsnamespace:oid prsstart:regproc prstoken:regproc prsend:regproc
    prsheadline:regproc prslextype:regproc`,
  pg_ts_template: 'oid:oid tmplname:name tmplnamespace:oid tmplinit:regproc tmpllexize:regproc',
  pg_ts_dict: 'oid:oid dictname:name dictnamespace:oid dictowner:oid dicttemplate:oid dictinitoption:text',
  pg_ts_config: 'oid:oid cfgname:name cfgnamespace:oid cfgowner:oid cfgparser:oid',
  pg_ts_config_map: 'mapcfg:oid maptokentype:int4 mapseqno:int4 mapdict:oid',
  pg_transform: 'oid:oid trftype:oid trflang:oid trffromsql:regproc trftosql:regproc',
  pg_seclabel: 'objoid:oid classoid:oid objsubid:int4 provider:text label:text',
  pg_seclabels: `objoid:oid classoid:oid objsubid:int4 objtype:text objnamespace:oid objname:text provider:text
    label:text`,
  pg_shseclabel: 'objoid:oid classoid:oid provider:text label:text',
  pg_largeobject_metadata: 'oid:oid lomowner:oid lomacl:_aclitem',
  pg_stat_user_tables: `relid:oid schemaname:name relname:name seq_scan:int8 seq_tup_read:int8 idx_scan:int8
    idx_tup_fetch:int8 n_tup_ins:int8 n_tup_upd:int8 n_tup_del:int8 n_tup_hot_upd:int8 n_live_tup:int8 n_dead_tup:int8
    n_mod_since_analyze:int8 n_ins_since_vacuum:int8 last_vacuum:timestamptz last_autovacuum:timestamptz
    last_analyze:timestamptz last_autoanalyze:timestamptz vacuum_count:int8 autovacuum_count:int8 analyze_count:int8
    autoanalyze_count:int8`,
  pg_publication:
    'oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool pubupdate:bool pubdelete:bool pubtruncate:bool pubviaroot:bool',
  pg_statistic_ext:
    'oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid stxstattarget:int4 stxkeys:int2vector stxkind:_char stxexprs:pg_node_tree',
  pg_language:
    'oid:oid lanname:name lanowner:oid lanispl:bool lanpltrusted:bool lanplcallfoid:oid laninline:oid lanvalidator:oid lanacl:_aclitem',
  pg_operator: `oid:oid oprname:name oprnamespace:oid oprowner:oid oprkind:char oprcanmerge:bool oprcanhash:bool
    oprleft:oid oprright:oid oprresult:oid oprcom:oid oprnegate:oid oprcode:regproc oprrest:regproc oprjoin:regproc`,
  pg_opclass:
    'oid:oid opcmethod:oid opcname:name opcnamespace:oid opcowner:oid opcfamily:oid opcintype:oid opcdefault:bool opckeytype:oid',
  pg_cast: 'oid:oid castsource:oid casttarget:oid castfunc:oid castcontext:char castmethod:char',
  pg_conversion:
    'oid:oid conname:name connamespace:oid conowner:oid conforencoding:int4 contoencoding:int4 conproc:regproc condefault:bool',
  pg_stat_user_indexes: `relid:oid indexrelid:oid schemaname:name relname:name indexrelname:name idx_scan:int8
    idx_tup_read:int8 idx_tup_fetch:int8`,
  pg_locks: 'locktype:text database:oid relation:oid pid:int4 mode:text granted:bool',
  pg_timezone_names: 'name:text abbrev:text utc_offset:interval is_dst:bool',
};

/**
 * A user's role OID. The first administrator, admin, is the bootstrap superuser, OID 10 as in PostgreSQL: it
 * owns the schemas, catalogs and sys tables (nspowner, relowner, datdba), so every owner OID names a role.
 */
/** pg_attribute's columns, in order (from its spec above). */
const ATTRIBUTE_COLUMNS = PG.pg_attribute.split(/\s+/).map((c) => c.split(':')[0]);
const CLASS_COLUMNS = PG.pg_class.split(/\s+/).map((c) => c.split(':')[0]);

/**
 * What PostgreSQL stores for a plain attribute (no statistics target set, no default, local, not dropped,
 * aligned to int, stored plain, no collation): a row lists only where it differs.
 */
const ATTRIBUTE_DEFAULTS: Record<string, unknown> = {
  attstattarget: -1,
  attndims: 0,
  attcacheoff: -1,
  atttypmod: -1,
  attbyval: 0,
  attalign: 'i',
  attstorage: 'p',
  attcompression: '',
  attnotnull: 0,
  atthasdef: 0,
  atthasmissing: 0,
  attidentity: '',
  attgenerated: '',
  attisdropped: 0,
  attislocal: 1,
  attinhcount: 0,
  attcollation: 0,
};

/** One pg_attribute row in column order: the defaults above, with the attribute's own values over them. */
function attributeRow(a: {
  attrelid: number;
  attname: string;
  atttypid: number;
  attlen: number;
  attnum: number;
  [column: string]: unknown;
}): unknown[] {
  return ATTRIBUTE_COLUMNS.map((c) => (c in a ? a[c] : (ATTRIBUTE_DEFAULTS[c] ?? null)));
}

const roleOid = (u: string) => `(CASE WHEN ${u}.name = '${FIRST_ADMIN}' THEN 10 ELSE 16000 + ${u}.rowid END)`;

/** Relations whose rows depend on users or live data: TEMP views over the catalog file. */
const DYNAMIC: Record<string, { spec: string; sql: string }> = {
  pg_roles: {
    spec: `rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool
      rolreplication:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz rolbypassrls:bool
      rolconfig:_text oid:oid`,
    sql: `SELECT u.name, EXISTS(SELECT 1 FROM main.user_roles r WHERE r.user_name = u.name AND r.role = 'sysadmin'), 1,
      EXISTS(SELECT 1 FROM main.user_roles r WHERE r.user_name = u.name AND r.role = 'sysadmin'), 0, 1, 0, -1,
      '********', NULL, 0, NULL, ${roleOid('u')} FROM main.users u
      UNION ALL SELECT 'sysadmin', 1, 1, 1, 0, 0, 0, -1, NULL, NULL, 0, NULL, 15999`,
  },
  pg_user: {
    spec: `usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool usebypassrls:bool passwd:text
      valuntil:timestamptz useconfig:_text`,
    sql: `SELECT u.name, ${roleOid('u')}, 0, EXISTS(SELECT 1 FROM main.user_roles r WHERE r.user_name = u.name AND
      r.role = 'sysadmin'), 0, 0, '********', NULL, NULL FROM main.users u`,
  },
  pg_authid: {
    spec: `oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool rolcreatedb:bool rolcanlogin:bool
      rolreplication:bool rolbypassrls:bool rolconnlimit:int4 rolpassword:text rolvaliduntil:timestamptz`,
    sql: `SELECT ${roleOid('u')}, u.name, EXISTS(SELECT 1 FROM main.user_roles r WHERE r.user_name = u.name AND
      r.role = 'sysadmin'), 1, 0, 0, 1, 0, 0, -1, NULL, NULL FROM main.users u`,
  },
  pg_auth_members: {
    spec: 'roleid:oid member:oid grantor:oid admin_option:bool',
    sql: `SELECT 15999, ${roleOid('u')}, 10, 0 FROM main.user_roles r JOIN main.users u ON u.name = r.user_name`,
  },
  pg_database: {
    spec: `oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char datistemplate:bool datallowconn:bool
      datconnlimit:int4 datfrozenxid:xid datminmxid:xid dattablespace:oid datcollate:text datctype:text
      daticulocale:text datcollversion:text datacl:_aclitem`,
    sql: `SELECT 16383, pg_current_database(), 10, 6, 'c', 0, 1, -1, 0, 1, 1663, 'C.UTF-8', 'C.UTF-8', NULL, NULL, NULL`,
  },
  // Each session as the wire reports it (pg_backend_activity is filled per statement by the worker). As in
  // PostgreSQL, a role sees what other roles' sessions run only if it is a superuser: otherwise their query
  // is '<insufficient privilege>' and their state, times and address are NULL.
  pg_stat_activity: {
    spec: `datid:oid datname:name pid:int4 leader_pid:int4 usesysid:oid usename:name application_name:text
    client_addr:inet client_hostname:text client_port:int4 backend_start:timestamptz xact_start:timestamptz
    query_start:timestamptz state_change:timestamptz wait_event_type:text wait_event:text state:text
    backend_xid:xid backend_xmin:xid query_id:int8 query:text backend_type:text`,
    sql: `SELECT 16383, a.datname, a.pid, NULL, ${roleOid('u')}, a.usename, a.application_name,
      CASE WHEN a.ok THEN a.client_addr END, NULL, CASE WHEN a.ok THEN a.client_port END,
      CASE WHEN a.ok THEN a.backend_start END, CASE WHEN a.ok THEN a.xact_start END,
      CASE WHEN a.ok THEN a.query_start END, CASE WHEN a.ok THEN a.state_change END,
      CASE WHEN a.ok AND a.state <> 'active' THEN 'Client' END,
      CASE WHEN a.ok AND a.state <> 'active' THEN 'ClientRead' END,
      CASE WHEN a.ok THEN a.state END, NULL, NULL, NULL,
      CASE WHEN a.ok THEN a.query ELSE '<insufficient privilege>' END, 'client backend'
      FROM (SELECT *, usename = pg_current_user() OR pg_current_setting('is_superuser', 1) = 'on' AS ok
        FROM pg_backend_activity) a
      LEFT JOIN main.users u ON u.name = a.usename`,
  },
  pg_settings: {
    spec: `name:text setting:text unit:text category:text short_desc:text extra_desc:text context:text vartype:text
      source:text min_val:text max_val:text enumvals:_text boot_val:text reset_val:text sourcefile:text
      sourceline:int4 pending_restart:bool`,
    sql: `SELECT name, setting, NULL, 'Ungrouped', '', NULL, 'user', 'string', 'default', NULL, NULL, NULL, setting,
      setting, NULL, NULL, 0 FROM pg_session_settings
      UNION ALL SELECT column1, column2, NULL, 'Preset Options', '', NULL, 'internal', column3, 'default', NULL, NULL,
      NULL, column2, column2, NULL, NULL, 0 FROM (VALUES ${PRESET_SETTINGS.map((p) => `('${p.name}', '${p.setting}', '${p.vartype}')`).join(', ')})
      WHERE column1 NOT IN (SELECT name FROM pg_session_settings)`,
  },
};

const INFO: Record<string, string> = {
  schemata: `catalog_name:name schema_name:name schema_owner:name default_character_set_catalog:name
    default_character_set_schema:name default_character_set_name:name sql_path:text`,
  tables: `table_catalog:name table_schema:name table_name:name table_type:varchar self_referencing_column_name:name
    reference_generation:varchar user_defined_type_catalog:name user_defined_type_schema:name
    user_defined_type_name:name is_insertable_into:varchar is_typed:varchar commit_action:varchar`,
  columns: `table_catalog:name table_schema:name table_name:name column_name:name ordinal_position:int4
    column_default:varchar is_nullable:varchar data_type:varchar character_maximum_length:int4
    character_octet_length:int4 numeric_precision:int4 numeric_precision_radix:int4 numeric_scale:int4
    datetime_precision:int4 interval_type:varchar interval_precision:int4 character_set_catalog:name
    character_set_schema:name character_set_name:name collation_catalog:name collation_schema:name
    collation_name:name domain_catalog:name domain_schema:name domain_name:name udt_catalog:name udt_schema:name
    udt_name:name scope_catalog:name scope_schema:name scope_name:name maximum_cardinality:int4
    dtd_identifier:name is_self_referencing:varchar is_identity:varchar identity_generation:varchar
    identity_start:varchar identity_increment:varchar identity_maximum:varchar identity_minimum:varchar
    identity_cycle:varchar is_generated:varchar generation_expression:varchar is_updatable:varchar`,
  views: `table_catalog:name table_schema:name table_name:name view_definition:varchar check_option:varchar
    is_updatable:varchar is_insertable_into:varchar is_trigger_updatable:varchar is_trigger_deletable:varchar
    is_trigger_insertable_into:varchar`,
  table_constraints: `constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name
    table_schema:name table_name:name constraint_type:varchar is_deferrable:varchar initially_deferred:varchar
    enforced:varchar nulls_distinct:varchar`,
  key_column_usage: `constraint_catalog:name constraint_schema:name constraint_name:name table_catalog:name
    table_schema:name table_name:name column_name:name ordinal_position:int4 position_in_unique_constraint:int4`,
  referential_constraints: `constraint_catalog:name constraint_schema:name constraint_name:name
    unique_constraint_catalog:name unique_constraint_schema:name unique_constraint_name:name match_option:varchar
    update_rule:varchar delete_rule:varchar`,
  constraint_column_usage: `table_catalog:name table_schema:name table_name:name column_name:name
    constraint_catalog:name constraint_schema:name constraint_name:name`,
  routines:
    'specific_catalog:name specific_schema:name specific_name:name routine_catalog:name routine_schema:name routine_name:name routine_type:varchar data_type:varchar',
  character_sets:
    'character_set_catalog:name character_set_schema:name character_set_name:name character_repertoire:name form_of_use:name default_collate_catalog:name default_collate_schema:name default_collate_name:name',
};

// User tables (COPY targets) in pg_class and information_schema.table_privileges, with their owners and grants,
// so that psql's \dp shows them as PostgreSQL would. relacl is NULL until the first GRANT (the owner's
// implicit privileges), then the owner's arwdDxt and one aclitem per grantee, PUBLIC as an empty name.
const ACL_ORDER = 'arwdDxt';
const USER_TABLE_ACL = `CASE WHEN EXISTS (SELECT 1 FROM main.table_privileges p WHERE p.table_id = t.id) THEN
  '{' || t.owner || '=${ACL_ORDER}/' || t.owner || coalesce((SELECT ',' || group_concat(item, ',') FROM (
    SELECT CASE p.grantee WHEN 'public' THEN '' ELSE p.grantee END || '=' || (SELECT group_concat(q.privilege, '')
      FROM (SELECT privilege FROM main.table_privileges q WHERE q.table_id = p.table_id AND q.grantee = p.grantee
        ORDER BY instr('${ACL_ORDER}', privilege)) q) || '/' || p.grantor AS item
    FROM main.table_privileges p WHERE p.table_id = t.id GROUP BY p.grantee ORDER BY min(p.rowid))), '') || '}'
  END`;
const USER_TABLE_CLASS_ROWS = `SELECT ${USER_TABLE_OID_BASE} + t.rowid, t.name, ${namespaceOid('public')}, 0, 0,
  coalesce((SELECT ${roleOid('u')} FROM main.users u WHERE u.name = t.owner), 10), 2, ${USER_TABLE_OID_BASE} + t.rowid,
  0, 0, -1, 0, 0, 0, 0, 'p', 'r', 0, 0, 0, 0, 0, 0, 0, 1, 'd', 0, 0, 0, 1, ${USER_TABLE_ACL}, NULL, NULL
  FROM main.tables t`;
const PRIVILEGE_NAMES = `(SELECT 'a' AS letter, 'INSERT' AS name UNION ALL SELECT 'r', 'SELECT' UNION ALL SELECT 'w', 'UPDATE'
  UNION ALL SELECT 'd', 'DELETE' UNION ALL SELECT 'D', 'TRUNCATE' UNION ALL SELECT 'x', 'REFERENCES'
  UNION ALL SELECT 't', 'TRIGGER')`;
const DYNAMIC_INFO: Record<string, { spec: string; sql: string }> = {
  table_privileges: {
    spec: `grantor:name grantee:name table_catalog:name table_schema:name table_name:name privilege_type:varchar
      is_grantable:varchar with_hierarchy:varchar`,
    sql: `SELECT t.owner, t.owner, 'segtasks', 'public', t.name, x.name, 'YES',
        CASE x.letter WHEN 'r' THEN 'YES' ELSE 'NO' END
      FROM main.tables t, ${PRIVILEGE_NAMES} x
      UNION ALL
      SELECT p.grantor, CASE p.grantee WHEN 'public' THEN 'PUBLIC' ELSE p.grantee END, 'segtasks', 'public', t.name,
        x.name, 'NO', CASE x.letter WHEN 'r' THEN 'YES' ELSE 'NO' END
      FROM main.table_privileges p JOIN main.tables t ON t.id = p.table_id JOIN ${PRIVILEGE_NAMES} x ON x.letter = p.privilege`,
  },
};

const sqlType = (t: string) =>
  ['int2', 'int4', 'int8', 'oid', 'bool', 'xid', 'regproc', 'regclass', 'regtype', 'regnamespace'].includes(t)
    ? 'INTEGER'
    : t === 'float4' || t === 'float8'
      ? 'REAL'
      : 'TEXT';

export interface Emulation {
  registry: RelationRegistry;
  /**
   * Loads what the functions of a statement will look up (users, sizes). Called before the statement runs:
   * a function may not query the connection while the statement that calls it is running.
   */
  prepareFor(sql: string): void;
  databaseSize(): number;
  /** Lookups the registered functions need (regclass etc.). */
  regOid(kind: string, name: string): number | null;
  regName(kind: string, oid: number): string | null;
  userName(oid: number): string | null;
  description(oid: number, sub: number | null): string | null;
  relationSize(oid: number): number;
  indexDef(oid: number, col: number): string | null;
  constraintDef(oid: number): string | null;
}

function typeRows(): unknown[][] {
  return PG_TYPES.map((t) => {
    const len = t.len;
    const pseudo = t.category === 'P';
    return [
      t.oid,
      t.name,
      11,
      10,
      len,
      len > 0 && len <= 8 ? 1 : 0,
      pseudo ? 'p' : 'b',
      t.category,
      0,
      1,
      ',',
      0,
      t.category === 'A' ? ARRAY_SUBSCRIPT_HANDLER : 0,
      t.elem,
      t.array,
      ...(TYPE_IO[t.name] ?? [0, 0, 0, 0]),
      0,
      0,
      0,
      len === 8 ? 'd' : len === 4 ? 'i' : len === 2 ? 's' : 'c',
      len > 0 ? 'p' : 'x',
      0,
      0,
      -1,
      0,
      ['text', 'varchar', 'bpchar', 'name'].includes(t.name) ? 100 : 0,
      null,
      null,
      null,
    ];
  });
}

interface TableInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

const tableInfo = (db: BetterSqlite3.Database, name: string) =>
  db.prepare(`PRAGMA main.table_info("${name}")`).all() as TableInfo[];

function sysColumns(info: TableInfo[]): ColumnDef[] {
  return info.map((c) => ({
    // a primary-key column is NOT NULL in PostgreSQL (SQLite does not enforce it on non-INTEGER keys)
    name: c.name,
    type: canonicalType(c.type === 'integer' ? 'int8' : c.type) ?? 'text',
    notNull: !!c.notnull || c.pk > 0,
  }));
}

/**
 * The columns of sys.<name> as queries see them on a SQLite catalog: the table's declared types, by their
 * PostgreSQL names. The one definition of them, which the PostgreSQL catalog's sys views follow too.
 */
export const sysRelationColumns = (db: BetterSqlite3.Database, name: string): ColumnDef[] =>
  sysColumns(tableInfo(db, name));

/**
 * PostgreSQL 15's default btree operator classes (oid, name, family, indexed type, key type): those of the
 * types the catalog has, as pg_index.indclass names them for the primary keys (drizzle-kit joins them).
 */
const BTREE_OPCLASSES: [number, string, number, number, number][] = [
  [1978, 'int4_ops', 1976, 23, 0],
  [1979, 'int2_ops', 1976, 21, 0],
  [1981, 'oid_ops', 1989, 26, 0],
  [3122, 'date_ops', 434, 1082, 0],
  [3123, 'float8_ops', 1970, 701, 0],
  [3124, 'int8_ops', 1976, 20, 0],
  [3125, 'numeric_ops', 1988, 1700, 0],
  [3126, 'text_ops', 1994, 25, 0],
  [3127, 'timestamptz_ops', 434, 1184, 0],
  [3128, 'timestamp_ops', 434, 1114, 0],
  [10003, 'bool_ops', 424, 16, 0],
  [10004, 'bpchar_ops', 426, 1042, 0],
  [10006, 'bytea_ops', 428, 17, 0],
  [10007, 'char_ops', 429, 18, 0],
  [10012, 'float4_ops', 1970, 700, 0],
  [10022, 'interval_ops', 1982, 1186, 0],
  [10028, 'name_ops', 1994, 19, 2275],
  [10032, 'oidvector_ops', 1991, 30, 0],
  [10038, 'time_ops', 1996, 1083, 0],
  [10065, 'uuid_ops', 2968, 2950, 0],
  [10088, 'jsonb_ops', 4033, 3802, 0],
];
/** The collation of an index column by its type (pg_index.indcollation): default for text, C for name. */
const INDEX_COLLATIONS: Record<number, number> = { 25: 100, 1043: 100, 1042: 100, 19: 950 };

/** Builds the registry and the emulated relations on a reader connection. */
export function buildEmulation(db: BetterSqlite3.Database): Emulation {
  const relations: RelationDef[] = [];
  // sys.*: the catalog's own tables, with their declared (PostgreSQL) types.
  sysRelations.forEach((name, i) => {
    const info = tableInfo(db, name);
    relations.push({
      schema: 'sys',
      name,
      oid: relationOid('sys', name, i),
      kind: 'r',
      sqlite: `main."${sysSources[name] ?? name}"`,
      columns: sysColumns(info),
      description: SYS_DESCRIPTIONS[name]?.table,
      primaryKey: info
        .filter((c) => c.pk)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
    });
  });
  const emulated = (schema: string, name: string, cols: ColumnDef[], i: number): RelationDef => ({
    schema,
    name,
    oid: relationOid(schema, name, i),
    kind: schema === 'information_schema' || DYNAMIC[name] ? 'v' : 'r',
    sqlite: `temp."${schema}.${name}"`,
    columns: cols,
  });
  let i = 0;
  for (const [name, spec] of Object.entries(PG))
    relations.push(emulated('pg_catalog', name, columns(spec), i++));
  for (const [name, d] of Object.entries(DYNAMIC))
    relations.push(emulated('pg_catalog', name, columns(d.spec), i++));
  let j = 0;
  for (const [name, spec] of Object.entries(INFO))
    relations.push(emulated('information_schema', name, columns(spec), j++));
  for (const [name, d] of Object.entries(DYNAMIC_INFO))
    relations.push(emulated('information_schema', name, columns(d.spec), j++));
  const registry = new RelationRegistry(relations);
  const userTable = db.prepare('SELECT 1 FROM main.tables WHERE name = ?').pluck();
  registry.isUserTable = (name) => userTable.get(name) !== undefined;

  // Session settings for pg_settings, filled per statement by the worker.
  db.exec('CREATE TEMP TABLE IF NOT EXISTS pg_session_settings (name TEXT, setting TEXT)');
  // Sessions for pg_stat_activity, filled per statement by the worker from the wire's snapshot.
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS pg_backend_activity (pid INTEGER, usename TEXT, datname TEXT,
    superuser INTEGER, application_name TEXT, client_addr TEXT, client_port INTEGER, backend_start TEXT,
    xact_start TEXT, query_start TEXT, state_change TEXT, state TEXT, query TEXT)`);
  const create = (rel: RelationDef) =>
    db.exec(
      `CREATE TEMP TABLE "${rel.schema}.${rel.name}" (${rel.columns.map((c) => `"${c.name}" ${sqlType(c.type)}`).join(', ')})`,
    );
  for (const rel of relations) {
    if (rel.schema === 'sys') continue;
    const dyn =
      rel.schema === 'pg_catalog'
        ? DYNAMIC[rel.name]
        : rel.schema === 'information_schema'
          ? DYNAMIC_INFO[rel.name]
          : undefined;
    if (dyn) {
      db.exec(
        `CREATE TEMP VIEW "${rel.schema}.${rel.name}" (${rel.columns.map((c) => `"${c.name}"`).join(', ')}) AS ${dyn.sql}`,
      );
    } else create(rel);
  }
  const fill = (name: string, rows: unknown[][]) => {
    if (!rows.length) return;
    const rel = registry.lookup(name.split('.')[0], name.split('.')[1])!;
    const stmt = db.prepare(`INSERT INTO ${rel.sqlite} VALUES (${rel.columns.map(() => '?').join(', ')})`);
    db.transaction(() => {
      for (const r of rows) stmt.run(r.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v)));
    })();
  };

  fill('pg_catalog.pg_type', typeRows());
  fill(
    'pg_catalog.pg_namespace',
    NAMESPACES.map((n) => [n.oid, n.name, 10, null]),
  );
  fill(
    'pg_catalog.pg_opclass',
    BTREE_OPCLASSES.map(([oid, name, family, intype, keytype]) => [
      oid,
      403,
      name,
      11,
      10,
      family,
      intype,
      1,
      keytype,
    ]),
  );
  fill('pg_catalog.pg_am', [
    [2, 'heap', HEAP_TABLEAM_HANDLER, 't'],
    [403, 'btree', BTHANDLER, 'i'],
  ]);
  // pg_proc: the type I/O functions and handlers the catalog names, and the functions queries may call
  fill(
    'pg_catalog.pg_proc',
    pgProcRows().map((p) => p.row),
  );
  fill('pg_catalog.pg_tablespace', [
    [1663, 'pg_default', 10, null, null],
    [1664, 'pg_global', 10, null, null],
  ]);
  fill('pg_catalog.pg_collation', [
    [100, 'default', 11, 10, 'd', 1, -1, null, null, null, null],
    [950, 'C', 11, 10, 'c', 1, -1, 'C', 'C', null, null],
  ]);
  fill('pg_catalog.pg_language', [
    [12, 'internal', 10, 0, 0, 0, 0, 0, null],
    [13, 'c', 10, 0, 0, 0, 0, 0, null],
    [14, 'sql', 10, 0, 1, 0, 0, 0, null],
  ]);

  const classRows: unknown[][] = [];
  const attrRows: unknown[][] = [];
  const descRows: unknown[][] = [];
  const indexRows: unknown[][] = [];
  const userIndexRows: unknown[][] = [];
  const pkIndexOf = new Map<number, number>();
  const constraintRows: unknown[][] = [];
  const infoTables: unknown[][] = [];
  const infoColumns: unknown[][] = [];
  let indexOid = 17000;
  const indexDefs = new Map<number, string>();
  const indexColumns = new Map<number, string[]>();
  /** The emulated indexes by OID, and by schema-qualified name: regclass names them too. */
  const indexNames = new Map<number, { schema: string; name: string }>();
  const indexOids = new Map<string, number>();
  const constraintDefs = new Map<number, string>();
  const foreignKeys = sysForeignKeys(db, relations);
  // PostgreSQL enforces a foreign key with triggers on both tables, so relhastriggers is true on each; psql
  // and pgcli list a table's foreign keys (and what references it) only when it is.
  const withTriggers = new Set(foreignKeys.flatMap((fk) => [fk.table.oid, fk.references.oid]));
  for (const rel of relations) {
    const ns = namespaceOid(rel.schema);
    const hasPk = !!rel.primaryKey?.length;
    classRows.push([
      rel.oid,
      rel.name,
      ns,
      0,
      0,
      10,
      rel.kind === 'r' ? 2 : 0,
      rel.oid,
      0,
      1,
      -1,
      0,
      0,
      hasPk ? 1 : 0,
      0,
      'p',
      rel.kind,
      rel.columns.length,
      0,
      0,
      withTriggers.has(rel.oid) ? 1 : 0,
      0,
      0,
      0,
      1,
      'd',
      0,
      0,
      0,
      1,
      null,
      null,
      null,
    ]);
    // a table's system columns (attnum < 0), as PostgreSQL lists them; a view has none
    if (rel.kind === 'r')
      for (const c of SYSTEM_COLUMNS) {
        const oid = typeOid(c.type);
        const byval = c.type === 'tid' ? 0 : 1;
        attrRows.push(
          attributeRow({
            attrelid: rel.oid,
            attname: c.name,
            atttypid: oid,
            attstattarget: 0,
            attlen: typeSize(oid),
            attnum: c.attnum,
            attbyval: byval,
            attalign: byval ? 'i' : 's',
            attnotnull: 1,
          }),
        );
      }
    rel.columns.forEach((c, k) => {
      const oid = typeOid(c.type);
      attrRows.push(
        attributeRow({
          attrelid: rel.oid,
          attname: c.name,
          atttypid: oid,
          attlen: typeSize(oid),
          attnum: k + 1,
          attndims: c.type.startsWith('_') ? 1 : 0,
          attbyval: typeSize(oid) > 0 && typeSize(oid) <= 8 ? 1 : 0,
          // attstorage is the type's storage (typstorage): pg_dump emits SET STORAGE where they differ
          attstorage: typeSize(oid) > 0 ? 'p' : 'x',
          attnotnull: c.notNull ? 1 : 0,
          attcollation: ['text', 'varchar', 'name'].includes(c.type) ? 100 : 0,
        }),
      );
      const colDesc = rel.schema === 'sys' ? SYS_DESCRIPTIONS[rel.name]?.columns?.[c.name] : undefined;
      if (colDesc) descRows.push([rel.oid, 1259, k + 1, colDesc]);
      infoColumns.push([
        'segtasks',
        rel.schema,
        rel.name,
        c.name,
        k + 1,
        null,
        c.notNull ? 'NO' : 'YES',
        formatTypeName(c.type, -1).replace(/\[\]$/, '') === formatTypeName(c.type, -1)
          ? formatTypeName(c.type, -1)
          : 'ARRAY',
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        'segtasks',
        'pg_catalog',
        c.type,
        null,
        null,
        null,
        null,
        String(k + 1),
        'NO',
        'NO',
        null,
        null,
        null,
        null,
        null,
        'NO',
        'NEVER',
        null,
        rel.schema === 'sys' ? 'NO' : 'NO',
      ]);
    });
    if (rel.description) descRows.push([rel.oid, 1259, 0, rel.description]);
    infoTables.push([
      'segtasks',
      rel.schema,
      rel.name,
      rel.kind === 'v' ? 'VIEW' : 'BASE TABLE',
      null,
      null,
      null,
      null,
      null,
      'NO',
      'NO',
      null,
    ]);
    if (hasPk) {
      const idx = indexOid++;
      const keys = rel.primaryKey!.map((k) => rel.columns.findIndex((c) => c.name === k) + 1);
      classRows.push([
        idx,
        `${rel.name}_pkey`,
        ns,
        0,
        0,
        10,
        403,
        idx,
        0,
        1,
        -1,
        0,
        0,
        0,
        0,
        'p',
        'i',
        keys.length,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        'n',
        0,
        0,
        0,
        0,
        null,
        null,
        null,
      ]);
      const keyTypes = keys.map((attnum) => typeOid(rel.columns[attnum - 1].type));
      keys.forEach((attnum, k) => {
        const col = rel.columns[attnum - 1];
        const oid = typeOid(col.type);
        attrRows.push(
          attributeRow({
            attrelid: idx,
            attname: col.name,
            atttypid: oid,
            attlen: typeSize(oid),
            attnum: k + 1,
          }),
        );
      });
      if (rel.schema === 'sys')
        userIndexRows.push([rel.oid, idx, rel.schema, rel.name, `${rel.name}_pkey`, 0, 0, 0]);
      pkIndexOf.set(rel.oid, idx);
      indexNames.set(idx, { schema: rel.schema, name: `${rel.name}_pkey` });
      indexOids.set(`${rel.schema}.${rel.name}_pkey`, idx);
      const keyList = rel.primaryKey!.join(', ');
      indexColumns.set(idx, rel.primaryKey!);
      indexDefs.set(
        idx,
        `CREATE UNIQUE INDEX ${rel.name}_pkey ON ${rel.schema}.${rel.name} USING btree (${keyList})`,
      );
      constraintDefs.set(idx + 1000, `PRIMARY KEY (${keyList})`);
      indexRows.push([
        idx,
        rel.oid,
        keys.length,
        keys.length,
        1,
        0,
        1,
        0,
        1,
        0,
        1,
        0,
        1,
        1,
        0,
        keys.join(' '),
        keyTypes.map((t) => INDEX_COLLATIONS[t] ?? 0).join(' '),
        keyTypes.map((t) => BTREE_OPCLASSES.find((c) => c[3] === t)?.[0] ?? 0).join(' '),
        keys.map(() => 0).join(' '),
        null,
        null,
      ]);
      constraintRows.push([
        idx + 1000,
        `${rel.name}_pkey`,
        ns,
        'p',
        0,
        0,
        1,
        rel.oid,
        0,
        idx,
        0,
        0,
        ' ',
        ' ',
        ' ',
        1,
        0,
        1,
        formatArrayLiteral(keys),
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      ]);
    }
  }
  fill('pg_catalog.pg_class', classRows);
  // pg_class: the emulated relations, filled once, and the user tables, read live. A sys table's reltuples
  // (and its primary key's) is its row count, read live: what PostgreSQL's planner statistics say of a table
  // that autovacuum or ANALYZE has seen (a never-analysed one says -1); the other relations keep -1.
  db.exec('ALTER TABLE temp."pg_catalog.pg_class" RENAME TO "pg_catalog.pg_class.builtin"');
  const counted = relations
    .filter((r) => r.schema === 'sys')
    .flatMap((r) => {
      const count = `(SELECT count(*) FROM ${r.sqlite})`;
      const pk = pkIndexOf.get(r.oid);
      return [`WHEN ${r.oid} THEN ${count}`, ...(pk === undefined ? [] : [`WHEN ${pk} THEN ${count}`])];
    });
  const classColumns = CLASS_COLUMNS.map((c) =>
    c === 'reltuples' && counted.length
      ? `CASE oid ${counted.join(' ')} ELSE reltuples END AS reltuples`
      : `"${c}"`,
  );
  db.exec(
    `CREATE TEMP VIEW "pg_catalog.pg_class" AS SELECT ${classColumns.join(', ')} FROM temp."pg_catalog.pg_class.builtin" UNION ALL ${USER_TABLE_CLASS_ROWS}`,
  );
  fill('pg_catalog.pg_attribute', attrRows);
  // PostgreSQL's comments on the functions pg_proc lists (obj_description(oid, 'pg_proc'))
  for (const p of pgProcRows()) if (p.description) descRows.push([p.oid, 1255, 0, p.description]);
  fill('pg_catalog.pg_description', descRows);
  fill('pg_catalog.pg_index', indexRows);
  const attnum = (rel: RelationDef, col: string) => rel.columns.findIndex((c) => c.name === col) + 1;
  foreignKeys.forEach((fk, k) => {
    const oid = 19000 + k;
    constraintDefs.set(oid, foreignKeyDef(fk));
    constraintRows.push([
      oid,
      fk.name,
      namespaceOid(fk.table.schema),
      'f',
      0,
      0,
      1,
      fk.table.oid,
      0,
      pkIndexOf.get(fk.references.oid) ?? 0,
      0,
      fk.references.oid,
      fk.onUpdate,
      fk.onDelete,
      's',
      1,
      0,
      1,
      formatArrayLiteral(fk.columns.map((c) => attnum(fk.table, c))),
      formatArrayLiteral(fk.referencedColumns.map((c) => attnum(fk.references, c))),
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
  fill('pg_catalog.pg_constraint', constraintRows);
  // pg_depend: what DBD::Pg's foreign_key_info follows from a foreign key to the unique index it references
  // (a normal dependency) and from that index to its primary-key constraint (an internal one).
  fill('pg_catalog.pg_depend', [
    ...[...pkIndexOf.values()].map((idx) => [1259, idx, 0, 2606, idx + 1000, 0, 'i']),
    ...foreignKeys.map((fk, k) => [2606, 19000 + k, 0, 1259, pkIndexOf.get(fk.references.oid) ?? 0, 0, 'n']),
  ]);
  fill(
    'pg_catalog.pg_tables',
    relations
      .filter((r) => r.kind === 'r')
      .map((r) => [
        r.schema,
        r.name,
        'admin',
        null,
        r.primaryKey?.length ? 1 : 0,
        0,
        withTriggers.has(r.oid) ? 1 : 0,
        0,
      ]),
  );
  fill(
    'pg_catalog.pg_stat_user_tables',
    relations
      .filter((r) => r.schema === 'sys')
      .map((r) => [
        r.oid,
        r.schema,
        r.name,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        null,
        null,
        null,
        null,
        0,
        0,
        0,
        0,
      ]),
  );
  fill(
    'pg_catalog.pg_views',
    relations.filter((r) => r.kind === 'v').map((r) => [r.schema, r.name, 'admin', '']),
  );
  fill(
    'information_schema.schemata',
    NAMESPACES.map((n) => ['segtasks', n.name, 'admin', null, null, null, null]),
  );
  fill('information_schema.tables', infoTables);
  const keyed = relations.filter((r) => r.primaryKey?.length);
  const fkTableConstraints = foreignKeys.map((fk) => [
    'segtasks',
    fk.table.schema,
    fk.name,
    'segtasks',
    fk.table.schema,
    fk.table.name,
    'FOREIGN KEY',
    'NO',
    'NO',
    'YES',
    null,
  ]);
  fill(
    'information_schema.referential_constraints',
    foreignKeys.map((fk) => [
      'segtasks',
      fk.table.schema,
      fk.name,
      'segtasks',
      fk.references.schema,
      `${fk.references.name}_pkey`,
      'NONE',
      ACTION_NAME[fk.onUpdate],
      ACTION_NAME[fk.onDelete],
    ]),
  );
  fill('information_schema.table_constraints', [
    ...fkTableConstraints,
    ...keyed.map((r) => [
      'segtasks',
      r.schema,
      `${r.name}_pkey`,
      'segtasks',
      r.schema,
      r.name,
      'PRIMARY KEY',
      'NO',
      'NO',
      'YES',
      null,
    ]),
  ]);
  fill('information_schema.key_column_usage', [
    ...foreignKeys.flatMap((fk) =>
      fk.columns.map((col, i) => [
        'segtasks',
        fk.table.schema,
        fk.name,
        'segtasks',
        fk.table.schema,
        fk.table.name,
        col,
        i + 1,
        i + 1,
      ]),
    ),
    ...keyed.flatMap((r) =>
      r.primaryKey!.map((col, i) => [
        'segtasks',
        r.schema,
        `${r.name}_pkey`,
        'segtasks',
        r.schema,
        r.name,
        col,
        i + 1,
        null,
      ]),
    ),
  ]);
  // constraint_column_usage lists a foreign key under the columns it references
  fill('information_schema.constraint_column_usage', [
    ...keyed.flatMap((r) =>
      r.primaryKey!.map((col) => ['segtasks', r.schema, r.name, col, 'segtasks', r.schema, `${r.name}_pkey`]),
    ),
    ...foreignKeys.flatMap((fk) =>
      fk.referencedColumns.map((col) => [
        'segtasks',
        fk.references.schema,
        fk.references.name,
        col,
        'segtasks',
        fk.table.schema,
        fk.name,
      ]),
    ),
  ]);
  fill('pg_catalog.pg_stat_user_indexes', userIndexRows);
  fill('information_schema.columns', infoColumns);

  const typeByName = new Map<string, number>();
  for (const row of typeRows()) typeByName.set(String(row[1]), Number(row[0]));
  const descByOid = new Map<string, string>();
  for (const d of descRows) descByOid.set(`${d[0]}:${d[2]}`, String(d[3]));
  let users = new Map<number, string>();
  let usersVersion = -1;
  const sizes = new Map<string, number>();
  let dbSize = 0;
  const dataVersion = () => Number(db.pragma('data_version', { simple: true }));

  return {
    registry,
    prepareFor(sql: string) {
      if (/pg_get_userbyid|acldefault/.test(sql)) {
        const v = dataVersion();
        if (v !== usersVersion) {
          users = new Map(
            (
              db.prepare(`SELECT ${roleOid('u')} AS oid, name FROM main.users u`).all() as {
                oid: number;
                name: string;
              }[]
            ).map((u) => [u.oid, u.name]),
          );
          usersVersion = v;
        }
      }
      if (/pg_relation_size/.test(sql)) {
        sizes.clear();
        try {
          for (const r of db
            .prepare('SELECT name, sum(pgsize) AS size FROM main.dbstat GROUP BY name')
            .all() as { name: string; size: number }[]) {
            sizes.set(r.name, r.size);
          }
        } catch {
          // dbstat is an optional SQLite module: sizes stay unknown (0)
        }
      }
      if (/pg_database_size/.test(sql)) {
        dbSize = Number(
          db
            .prepare('SELECT page_count * page_size FROM main.pragma_page_count(), main.pragma_page_size()')
            .pluck()
            .get() ?? 0,
        );
      }
    },
    databaseSize: () => dbSize,
    indexDef: (oid, col) =>
      col > 0 ? (indexColumns.get(oid)?.[col - 1] ?? null) : (indexDefs.get(oid) ?? null),
    constraintDef: (oid) => constraintDefs.get(oid) ?? null,
    regOid(kind, raw) {
      const name = raw.trim();
      const parts = name.replace(/"/g, '').split('.');
      switch (kind) {
        case 'regclass': {
          const rel =
            parts.length === 2
              ? registry.lookup(parts[0], parts[1])
              : (registry.lookup(null, parts[0]) ?? registry.lookup('sys', parts[0]));
          const index =
            parts.length === 2
              ? indexOids.get(`${parts[0]}.${parts[1]}`)
              : (indexOids.get(`pg_catalog.${parts[0]}`) ?? indexOids.get(`public.${parts[0]}`));
          return rel?.oid ?? index ?? null;
        }
        case 'regtype': {
          const t = canonicalType(parts[parts.length - 1]);
          return t ? (typeByName.get(t) ?? null) : null;
        }
        case 'regnamespace':
          return namespaceOid(parts[0]) || null;
        case 'regproc': {
          // a bare or pg_catalog-qualified name, with an argument list for regprocedure
          const fname = name
            .replace(/\(.*\)$/, '')
            .replace(/^pg_catalog\./, '')
            .replace(/"/g, '');
          return pgProcRows().find((f) => f.name === fname)?.oid ?? null;
        }
        default:
          return null;
      }
    },
    regName(kind, oid) {
      switch (kind) {
        case 'regclass': {
          const rel = registry.byOid(oid) ?? indexNames.get(oid);
          if (!rel) return null;
          return rel.schema === 'pg_catalog' || rel.schema === 'public'
            ? rel.name
            : `${rel.schema}.${rel.name}`;
        }
        case 'regtype': {
          for (const [name, o] of typeByName) if (o === oid) return formatTypeName(name, -1);
          return null;
        }
        case 'regnamespace':
          return NAMESPACES.find((n) => n.oid === oid)?.name ?? null;
        case 'regproc':
          return pgProcRows().find((f) => f.oid === oid)?.name ?? null;
        default:
          return null;
      }
    },
    userName(oid) {
      if (oid === 15999) return 'sysadmin';
      return users.get(oid) ?? null;
    },
    description(oid, sub) {
      return descByOid.get(`${oid}:${sub ?? 0}`) ?? null;
    },
    relationSize(oid) {
      const rel = registry.byOid(oid);
      if (rel?.schema !== 'sys') return 0;
      return sizes.get(rel.name) ?? 0;
    },
  };
}
