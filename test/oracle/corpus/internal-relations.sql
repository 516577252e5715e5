-- The catalog file's own tables (users, user_roles, table_privileges, knex_migrations, sqlite_master) are not
-- relations of the server: every way of naming them is 42P01, as on a PostgreSQL that has no such tables.

SELECT 1 WHERE ('admin','sysadmin') IN ('user_roles')

SELECT 1 WHERE 'admin' IN ('users')

SELECT 1 WHERE 'admin' IN ('users', 'user_roles')

SELECT * FROM users

SELECT * FROM "users"

SELECT * FROM public.users

SELECT * FROM sys.users

SELECT * FROM main.users

SELECT * FROM user_roles

SELECT * FROM table_privileges

SELECT * FROM knex_migrations

SELECT * FROM sqlite_master

SELECT * FROM "sqlite_master"

SELECT * FROM sqlite_schema

WITH x AS (SELECT * FROM users) SELECT * FROM x

SELECT (SELECT count(*) FROM sqlite_master)

SELECT 1 WHERE EXISTS (SELECT 1 FROM user_roles)

SELECT * FROM sys.tasks t JOIN users u ON true

SELECT * FROM (SELECT * FROM "main"."user_roles") s

WITH users AS (SELECT 5 AS n) SELECT n FROM users
