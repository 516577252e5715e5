-- pg_catalog and information_schema over the sys tables (OIDs of user objects compared by name, see oracle.test.ts)

SELECT relname, relkind, relnatts FROM pg_catalog.pg_class WHERE relnamespace = 'sys'::regnamespace ORDER BY relname

SELECT c.relname, c.relhasindex, c.relpersistence, c.relispartition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sys' AND c.relkind = 'r' ORDER BY 1

SELECT oid, relname FROM pg_class WHERE relnamespace = 'sys'::regnamespace AND relkind = 'r' ORDER BY relname

SELECT 'sys.tasks'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 'tasks' AND relnamespace = 'sys'::regnamespace)

SELECT nspname FROM pg_namespace WHERE nspname IN ('sys', 'pg_catalog', 'information_schema', 'public') ORDER BY 1

SELECT n.nspname, r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'sys'

SELECT attrelid::regclass, attname, atttypid::regtype, attnum, attnotnull, atttypmod, attlen, attisdropped FROM pg_attribute WHERE attrelid = 'sys.tasks'::regclass AND attnum > 0 ORDER BY attnum

SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'sys.segments'::regclass AND attnum > 0 ORDER BY attnum

SELECT c.relname, count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = 'sys'::regnamespace AND a.attnum > 0 AND c.relkind = 'r' GROUP BY c.relname ORDER BY 1

SELECT attname, attnum FROM pg_attribute WHERE attrelid = 'sys.tasks'::regclass AND attnum <= 0 ORDER BY attnum

SELECT conname, contype, conkey, confkey, confrelid::regclass FROM pg_constraint WHERE connamespace = 'sys'::regnamespace ORDER BY conname

SELECT conrelid::regclass, conname, pg_get_constraintdef(oid, true) FROM pg_constraint WHERE conrelid::regclass::text LIKE 'sys.%' ORDER BY 1, 2

SELECT indexrelid::regclass, indrelid::regclass, indisunique, indisprimary, indkey, indnatts FROM pg_index WHERE indrelid = 'sys.segments'::regclass ORDER BY 1

SELECT i.indkey[0], i.indkey[1] FROM pg_index i WHERE i.indrelid = 'sys.tasks'::regclass AND i.indisprimary

SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'sys.segments'::regclass AND i.indisprimary

SELECT count(*) FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'sys'::regnamespace)

SELECT typname, typtype, typlen, typcategory FROM pg_type WHERE typname IN ('int4', 'int8', 'text', 'uuid', 'timestamptz', 'bool', 'json', 'float8', '_text') ORDER BY typname

SELECT oid, typname, typarray, typelem FROM pg_type WHERE oid IN (16, 20, 21, 23, 25, 26, 114, 701, 1043, 1184, 2950) ORDER BY oid

SELECT typname FROM pg_type WHERE typrelid = 'sys.tasks'::regclass

SELECT schemaname, tablename, tableowner, hasindexes FROM pg_tables WHERE schemaname = 'sys' ORDER BY tablename

SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'sys' ORDER BY table_name

SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'sys' AND table_name = 'subtasks' ORDER BY ordinal_position

SELECT table_name, count(*) FROM information_schema.columns WHERE table_schema = 'sys' GROUP BY table_name ORDER BY 1

SELECT column_name, udt_name, character_maximum_length, numeric_precision, datetime_precision FROM information_schema.columns WHERE table_schema = 'sys' AND table_name = 'tasks' ORDER BY ordinal_position

SELECT schema_name FROM information_schema.schemata WHERE schema_name = 'sys'

SELECT constraint_name, table_name, constraint_type FROM information_schema.table_constraints WHERE table_schema = 'sys' ORDER BY 1

SELECT constraint_name, table_name, column_name, ordinal_position FROM information_schema.key_column_usage WHERE table_schema = 'sys' ORDER BY 1, 4

SELECT constraint_name, unique_constraint_name FROM information_schema.referential_constraints WHERE constraint_schema = 'sys' ORDER BY 1

SELECT table_name, column_name FROM information_schema.constraint_column_usage WHERE table_schema = 'sys' ORDER BY 1, 2

SELECT datname, pg_encoding_to_char(encoding), datallowconn FROM pg_database WHERE datname = 'segtasks'

SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'admin'

SELECT usename, usesuper FROM pg_user WHERE usename = 'admin'

SELECT amname, amtype FROM pg_am WHERE amname IN ('btree', 'hash', 'heap') ORDER BY 1

SELECT count(*) FROM pg_inherits WHERE inhrelid = 'sys.tasks'::regclass

SELECT count(*) FROM pg_views WHERE schemaname = 'sys'

SELECT count(*) FROM pg_matviews

SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'

SELECT spcname FROM pg_tablespace ORDER BY 1

SELECT collname FROM pg_collation WHERE collname IN ('default', 'C', 'POSIX') ORDER BY 1

SELECT d.description IS NOT NULL FROM pg_description d WHERE d.objoid = 'sys.tasks'::regclass AND d.objsubid = 0

SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'sys' ORDER BY 1

SELECT name, setting FROM pg_settings WHERE name IN ('max_index_keys', 'max_identifier_length', 'server_version_num', 'integer_datetimes', 'standard_conforming_strings') ORDER BY name

SELECT proname FROM pg_proc WHERE proname IN ('version', 'now', 'generate_series', 'int4in', 'textout') ORDER BY 1

SELECT count(*) FROM pg_sequences

SELECT count(*) FROM pg_policies WHERE schemaname = 'sys'

SELECT relname, indexrelname FROM pg_stat_user_indexes WHERE schemaname = 'sys' ORDER BY 1, 2

SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid WHERE c.relname ~ '^(tasks)$' AND c.relnamespace = 'sys'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum

SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname OPERATOR(pg_catalog.~) '^(nodes)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3

SELECT tableoid::regclass, name FROM sys.clusters

SELECT x.tableoid::regclass FROM sys.storage_spaces x

SELECT ctid IS NOT NULL FROM sys.clusters

SELECT xmin IS NOT NULL FROM sys.clusters

SELECT * FROM pg_stat_activity WHERE false

SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND state = 'active' AND backend_type = 'client backend'

SELECT pg_cancel_backend(NULL), pg_terminate_backend(NULL)

-- the operator classes of the primary keys' columns, and their collations
SELECT ic.relname, i.indclass::text, i.indcollation::text, opc.opcname, opc.opcdefault, am.amname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace JOIN pg_opclass opc ON opc.oid = ANY (i.indclass) JOIN pg_am am ON am.oid = opc.opcmethod WHERE n.nspname = 'sys' ORDER BY 1

SELECT opcname, opcintype::regtype, opcfamily, opckeytype, opcnamespace::regnamespace FROM pg_opclass WHERE opcmethod = 403 AND opcintype IN ('uuid'::regtype, 'text'::regtype, 'int8'::regtype, 'int4'::regtype, 'name'::regtype) AND opcdefault ORDER BY 1

-- planner statistics of the sys tables: their row counts, as after ANALYZE
SELECT c.relname, c.relkind, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sys' ORDER BY 1

SELECT i.indexrelid::regclass::text, c.reltuples FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'sys.segments'::regclass
