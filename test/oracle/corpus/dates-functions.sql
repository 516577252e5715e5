-- date and time functions, session and catalog functions of docs/sql.md (those whose values do not depend on
-- the server's identity or the moment)

SELECT date_trunc('day', timestamptz '2026-03-04 05:06:07+00'), date_trunc('month', timestamptz '2026-03-04 05:06:07+00'), date_trunc('hour', timestamptz '2026-03-04 05:06:07.5+00')

SELECT date_trunc('year', created_at) FROM sys.tasks ORDER BY created_at

SELECT date_part('year', timestamptz '2026-03-04 05:06:07+00'), date_part('dow', date '2026-03-04'), date_part('epoch', timestamptz '2026-01-01 00:00:00+00')

SELECT extract(year FROM timestamptz '2026-03-04 05:06:07+00'), extract(month FROM date '2026-03-04'), extract(epoch FROM interval '1 hour')

SELECT extract(epoch FROM finished_at - started_at) >= 0 FROM sys.tasks ORDER BY created_at

SELECT finished_at - started_at >= interval '0' FROM sys.tasks ORDER BY created_at

SELECT age(timestamptz '2026-03-04 00:00:00+00', timestamptz '2025-01-01 00:00:00+00')

SELECT timestamptz '2026-01-01 00:00:00+00' + interval '1 day', date '2026-01-31' + interval '1 month'

SELECT timestamptz '2026-01-02 00:00:00+00' - timestamptz '2026-01-01 12:00:00+00'

SELECT date '2026-01-02' - date '2026-01-01'

SELECT to_timestamp(0), to_timestamp(1767225600), to_timestamp(1.5)

SELECT to_timestamp('2026-01-02', 'YYYY-MM-DD')

SELECT timestamptz '2026-01-01 00:00:00+02', timestamptz '2026-06-01 12:00:00.123456+00'

SELECT '2026-01-01 00:00:00'::timestamp, '2026-01-01'::timestamp + interval '90 minutes'

SELECT timestamptz '2026-01-01 00:00:00+00' < timestamptz '2026-01-01 01:00:00+02'

SELECT now() >= created_at FROM sys.tasks ORDER BY created_at

SELECT now() = now(), now() - now(), clock_timestamp() >= statement_timestamp(), transaction_timestamp() = now()

SELECT current_date >= date '2026-01-01'

SELECT current_user, session_user, current_database(), current_schema()

SELECT current_schemas(true), current_schemas(false)

SELECT current_setting('TimeZone'), current_setting('DateStyle'), current_setting('server_encoding'), current_setting('client_encoding')

SELECT current_setting('standard_conforming_strings'), current_setting('integer_datetimes'), current_setting('max_identifier_length')

SELECT current_setting('nope')

SELECT current_setting('nope', true)

SELECT set_config('application_name', 'oracle', false)

SELECT current_setting('max_index_keys'), current_setting('search_path')

SELECT pg_encoding_to_char(6), pg_char_to_encoding('UTF8')

SELECT format_type(23, NULL), format_type(1043, 36), format_type(1184, -1), format_type(1700, 655366), format_type(1009, NULL)

SELECT format_type(0, NULL), format_type(NULL, NULL)

SELECT pg_size_pretty(0::int8), pg_size_pretty(1023::int8), pg_size_pretty(1024::int8), pg_size_pretty(1048576::int8), pg_size_pretty(10737418240::int8), pg_size_pretty(-2048::int8)

SELECT pg_size_pretty(1234.5::numeric)

SELECT pg_get_userbyid(10) IS NOT NULL

SELECT pg_table_is_visible('sys.tasks'::regclass), pg_table_is_visible('pg_catalog.pg_class'::regclass)

SELECT has_table_privilege('sys.tasks', 'SELECT'), has_schema_privilege('sys', 'USAGE'), has_database_privilege('segtasks', 'CONNECT')

SELECT has_table_privilege('admin', 'sys.tasks', 'SELECT'), has_any_column_privilege('sys.tasks', 'SELECT'), has_column_privilege('sys.tasks', 'id', 'SELECT')

SELECT pg_has_role('admin', 'USAGE')

SELECT pg_is_in_recovery(), pg_my_temp_schema(), pg_is_other_temp_schema(0)

SELECT obj_description('sys.tasks'::regclass, 'pg_class') IS NOT NULL

SELECT col_description('sys.tasks'::regclass, 1) IS NOT NULL

SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'sys.segments'::regclass ORDER BY conname

SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'sys.tasks'::regclass ORDER BY 1

SELECT pg_get_serial_sequence('sys.tasks', 'id')

SELECT pg_get_expr(NULL, 0)

SELECT pg_get_viewdef('pg_catalog.pg_tables'::regclass) IS NOT NULL

SELECT pg_relation_size('sys.tasks') >= 0, pg_total_relation_size('sys.tasks') >= 0, pg_table_size('sys.tasks') >= 0, pg_indexes_size('sys.tasks') >= 0

SELECT pg_database_size('segtasks') > 0

SELECT pg_tablespace_location(0)

SELECT gen_random_uuid() IS NOT NULL, length(gen_random_uuid()::text)

SELECT random() >= 0 AND random() < 1

SELECT pg_backend_pid() > 0, txid_current() > 0, pg_current_xact_id() IS NOT NULL

SELECT version() LIKE 'PostgreSQL 15%'

SELECT inet_server_port() IS NOT NULL, inet_client_addr() IS NOT NULL, inet_server_addr() IS NOT NULL

SELECT pg_postmaster_start_time() <= now()

SELECT pg_sleep(0)

SELECT count(*) > 400 FROM pg_get_keywords()

SELECT word, catcode FROM pg_get_keywords() WHERE word IN ('select', 'table', 'zone') ORDER BY word

SELECT pg_function_is_visible(0), pg_type_is_visible(23), pg_collation_is_visible(100), pg_opclass_is_visible(0)

SELECT pg_index_column_has_property(0, 1, 'asc'), pg_index_has_property(0, 'clusterable'), pg_indexam_has_property(403, 'can_order')

SELECT pg_relation_is_publishable('sys.tasks'::regclass)

SELECT pg_get_function_arguments(0), pg_get_function_result(0), pg_get_function_identity_arguments(0)

SELECT pg_get_triggerdef(0), pg_get_partkeydef('sys.tasks'::regclass), pg_get_statisticsobjdef_columns(0)

SELECT shobj_description(1, 'pg_database')

SELECT max(length(md5(id::text))) FROM sys.tasks

SELECT upper(status), lower(type), length(options::text) > 0 FROM sys.tasks ORDER BY created_at

SELECT max(created_at), min(created_at) FROM sys.tasks

SELECT max(name), min(name) FROM sys.nodes

SELECT max(is_parity::int) FROM sys.segments

SELECT sum(capacity_bytes) > 0, pg_size_pretty(sum(used_bytes)) IS NOT NULL FROM sys.storage_devices
