-- CTEs, recursive CTEs, window functions, GROUP BY / HAVING, LIMIT / OFFSET, DISTINCT (ON), set operations, ORDER BY

WITH n AS (SELECT name FROM sys.nodes) SELECT count(*) FROM n

WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT * FROM a, b

WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT * FROM c

WITH RECURSIVE c(n) AS (SELECT 1 UNION SELECT n + 1 FROM c WHERE n < 3) SELECT sum(n) FROM c

WITH RECURSIVE t(id, depth) AS (SELECT id, 0 FROM sys.subtasks WHERE parent_id IS NULL UNION ALL SELECT s.id, t.depth + 1 FROM sys.subtasks s JOIN t ON s.parent_id = t.id) SELECT depth, count(*) FROM t GROUP BY depth ORDER BY depth

WITH RECURSIVE x AS (SELECT 1 AS v) SELECT v FROM x

WITH m AS MATERIALIZED (SELECT 2 AS v) SELECT v FROM m

SELECT name, row_number() OVER (ORDER BY name) FROM sys.nodes ORDER BY name

SELECT node_name, position, rank() OVER (PARTITION BY node_name ORDER BY position) FROM sys.segments ORDER BY node_name, position, storage_id

SELECT position, dense_rank() OVER (ORDER BY position) FROM sys.segments ORDER BY position, storage_id

SELECT position, rank() OVER (ORDER BY position) FROM sys.segments ORDER BY position, storage_id

SELECT name, lag(name) OVER (ORDER BY name), lead(name) OVER (ORDER BY name) FROM sys.nodes ORDER BY name

SELECT name, lag(name, 2, 'none') OVER (ORDER BY name) FROM sys.nodes ORDER BY name

SELECT name, count(*) OVER () FROM sys.nodes ORDER BY name

SELECT node_name, count(*) OVER (PARTITION BY node_name) FROM sys.segments ORDER BY node_name, storage_id

SELECT seq, sum(data_bytes) OVER (ORDER BY seq) FROM sys.segment_groups g JOIN sys.tables t ON t.id = g.table_id WHERE t.name = 'demo' ORDER BY seq

SELECT seq, sum(data_bytes) OVER (ORDER BY seq ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM sys.segment_groups ORDER BY id

SELECT name, first_value(name) OVER (ORDER BY name), last_value(name) OVER (ORDER BY name ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM sys.nodes ORDER BY name

SELECT name, ntile(2) OVER (ORDER BY name) FROM sys.nodes ORDER BY name

SELECT name, percent_rank() OVER (ORDER BY name) FROM sys.nodes ORDER BY name

SELECT node_name, avg(position) OVER w FROM sys.segments WINDOW w AS (PARTITION BY node_name) ORDER BY node_name, storage_id

SELECT status, count(*) FROM sys.segments GROUP BY status

SELECT node_name, count(*), sum(size_bytes), min(position), max(position), avg(position) FROM sys.segments GROUP BY node_name ORDER BY node_name

SELECT node_name, count(*) FROM sys.segments GROUP BY node_name HAVING count(*) > 5 ORDER BY node_name

SELECT node_name FROM sys.segments GROUP BY node_name HAVING max(position) = 5 ORDER BY 1

SELECT count(*) FROM sys.segments HAVING count(*) > 0

SELECT count(*) FROM sys.segments HAVING count(*) > 1000

SELECT is_parity, count(*) FROM sys.segments GROUP BY 1 ORDER BY 1

SELECT is_parity, status, count(*) FROM sys.segments GROUP BY is_parity, status ORDER BY 1, 2

SELECT count(*), count(name), count(DISTINCT type), count(error) FROM sys.tasks

SELECT sum(x), avg(x), min(x), max(x), count(x) FROM (SELECT 1 AS x WHERE false) s

SELECT sum(position), avg(position), sum(size_bytes), avg(size_bytes) FROM sys.segments

SELECT avg(fraction_complete), sum(fraction_complete) FROM sys.subtasks

SELECT bool_and(is_parity), bool_or(is_parity), every(position >= 0) FROM sys.segments

SELECT count(*) FILTER (WHERE is_parity), count(*) FILTER (WHERE NOT is_parity) FROM sys.segments

SELECT json_agg(name ORDER BY name) FROM sys.nodes

SELECT json_build_object('a', 1, 'b', 'x', 'c', NULL, 'd', true)

SELECT row_to_json(n) FROM (SELECT name, status FROM sys.nodes ORDER BY name LIMIT 1) n

SELECT to_json('a'::text), to_json(1), to_json(NULL::text), to_json(ARRAY[1, 2])

SELECT options->>'fix', options->'parallelism', options->>'node' FROM sys.tasks ORDER BY created_at

SELECT plan IS NULL, count(*) FROM sys.subtasks GROUP BY 1

SELECT name FROM sys.nodes ORDER BY name LIMIT 2

SELECT name FROM sys.nodes ORDER BY name LIMIT 2 OFFSET 3

SELECT name FROM sys.nodes ORDER BY name OFFSET 5

SELECT name FROM sys.nodes ORDER BY name LIMIT 0

SELECT name FROM sys.nodes ORDER BY name LIMIT ALL

SELECT name FROM sys.nodes ORDER BY name FETCH FIRST 2 ROWS ONLY

SELECT name FROM sys.nodes ORDER BY name LIMIT -1

SELECT name FROM sys.nodes ORDER BY name OFFSET -1

SELECT name FROM sys.nodes ORDER BY name LIMIT NULL

SELECT DISTINCT status FROM sys.segments

SELECT DISTINCT node_name, is_parity FROM sys.segments ORDER BY 1, 2

SELECT DISTINCT ON (node_name) node_name, position FROM sys.segments ORDER BY node_name, position

SELECT DISTINCT ON (task_id) task_id, description FROM sys.subtasks ORDER BY task_id, description

SELECT name FROM sys.nodes UNION SELECT name FROM sys.clusters

SELECT name FROM sys.nodes UNION ALL SELECT name FROM sys.nodes

SELECT status FROM sys.segments UNION SELECT status FROM sys.nodes ORDER BY 1

SELECT name FROM sys.nodes INTERSECT SELECT node_name FROM sys.segments WHERE position = 0

SELECT name FROM sys.nodes EXCEPT SELECT node_name FROM sys.segments WHERE position = 0 ORDER BY 1

SELECT status FROM sys.segments INTERSECT ALL SELECT status FROM sys.segments

SELECT status FROM sys.segments EXCEPT ALL SELECT 'INTACT'

SELECT 1 UNION SELECT 1.5

SELECT 1 UNION SELECT 'a'

SELECT 1, 2 UNION SELECT 1

(SELECT name FROM sys.nodes ORDER BY name LIMIT 1) UNION ALL (SELECT name FROM sys.nodes ORDER BY name DESC LIMIT 1)

SELECT name FROM sys.nodes UNION SELECT name FROM sys.clusters ORDER BY name LIMIT 3

SELECT x FROM (VALUES (1), (NULL), (3)) v(x) ORDER BY x

SELECT x FROM (VALUES (1), (NULL), (3)) v(x) ORDER BY x DESC

SELECT x FROM (VALUES (1), (NULL), (3)) v(x) ORDER BY x NULLS FIRST

SELECT x FROM (VALUES (1), (NULL), (3)) v(x) ORDER BY x DESC NULLS LAST

SELECT x FROM (VALUES (1), (NULL), (3)) v(x) ORDER BY x ASC NULLS LAST

SELECT name, started_at FROM sys.tasks ORDER BY started_at DESC NULLS FIRST, name

SELECT description, parent_id FROM sys.subtasks ORDER BY parent_id NULLS FIRST, description

SELECT description, parent_id FROM sys.subtasks ORDER BY parent_id DESC, description

SELECT x FROM (VALUES ('b'), ('B'), ('a'), ('_'), ('1')) v(x) ORDER BY x

SELECT x FROM (VALUES ('b'), ('B'), ('a')) v(x) ORDER BY x COLLATE "C"

SELECT name FROM sys.nodes ORDER BY 1 DESC

SELECT name AS n FROM sys.nodes ORDER BY n

SELECT name FROM sys.nodes ORDER BY length(name), name

SELECT name FROM sys.nodes ORDER BY 2

VALUES (1, 'a'), (2, 'b')

VALUES (1), (2) ORDER BY 1 DESC

TABLE sys.storage_spaces

SELECT * FROM sys.clusters

SELECT * FROM sys.storage_spaces

SELECT * FROM sys.nodes

SELECT * FROM sys.storage_devices

SELECT * FROM sys.tables

SELECT * FROM sys.segment_groups

SELECT * FROM sys.segments

SELECT * FROM sys.tasks

SELECT * FROM sys.subtasks

SELECT * FROM sys.result_cache

SELECT t.* FROM sys.tasks t ORDER BY created_at

SELECT count(*) FROM sys.segments WHERE last_checked_at IS NOT NULL

SELECT 1 AS "Quoted Name", 2 AS lower, 3 "x y"

SELECT 1, 2, 3

SELECT

SELECT FROM sys.nodes

SELECT nope FROM sys.nodes

SELECT * FROM sys.nope

SELECT * FROM nope

SELECT name FROM sys.nodes WHERE

SELECT name, count(*) FROM sys.nodes

SELECT 1 FROM sys.nodes n JOIN sys.clusters c ON n.nope = c.name

SELECT name FROM sys.nodes, sys.clusters

SELECT sum(name) FROM sys.nodes

SELECT * FROM sys.tasks WHERE id = 'not-a-uuid'

SELECT * FROM sys.tasks WHERE id = '00000000-0000-4000-8000-000000000000'

SELECT * FROM sys.tasks WHERE created_at > '2000-01-01'

SELECT count(*) FROM sys.tasks WHERE created_at < now()

SELECT count(*) FROM sys.tasks WHERE finished_at >= started_at

SELECT count(*) FROM sys.tasks WHERE created_at = created_at::text::timestamptz

SELECT name, created_at::date FROM sys.clusters

SELECT id::text, upper(id::text) FROM sys.tasks ORDER BY created_at

SELECT count(*) FROM sys.storage_devices WHERE capacity_bytes > 0

-- column lists on CTEs, parenthesized WITH bodies and query terms (PostgreSQL's select_with_parens)
WITH q(a, b) AS (SELECT 1, 2) SELECT * FROM q

WITH q(n) AS (SELECT name FROM sys.nodes), r(x, y) AS MATERIALIZED (SELECT n, length(n) FROM q) SELECT x, y FROM r ORDER BY x

WITH q(a) AS (SELECT 1 AS one, 2 AS two) SELECT * FROM q

WITH q(a, b, c) AS (SELECT 1, 2) SELECT * FROM q

WITH q(n) AS (VALUES (1), (2), (3)) SELECT sum(n) FROM q

WITH t(task, subtasks) AS (SELECT t.name, count(s.id) FROM sys.tasks t LEFT JOIN sys.subtasks s ON s.task_id = t.id GROUP BY t.name) SELECT * FROM t ORDER BY task

WITH q AS ((SELECT name FROM sys.clusters)) SELECT * FROM q

(WITH q AS (SELECT 1 AS x) SELECT x FROM q)

((SELECT 1 AS x))

(((SELECT name FROM sys.nodes ORDER BY name LIMIT 2)))

(SELECT name FROM sys.nodes) ORDER BY name LIMIT 3

((SELECT 1) UNION (SELECT 2)) ORDER BY 1

(SELECT 2) UNION ALL SELECT 1 ORDER BY 1

SELECT * FROM ((SELECT name FROM sys.clusters)) s

SELECT ((SELECT count(*) FROM sys.nodes)) + 1

SELECT * FROM (SELECT 1, 2) AS x(a, b)

SELECT * FROM (SELECT 1) AS x(a, b)

-- column names PostgreSQL figures: a chain of casts takes the last type, a CASE its ELSE's name
SELECT 1::int8::text, 'a'::text::varchar, name::text::varchar FROM sys.clusters

SELECT CASE WHEN true THEN 'x' ELSE name END, CASE WHEN false THEN 1 END, CASE WHEN true THEN 1 ELSE 0::int END FROM sys.clusters

SELECT CASE WHEN true THEN NULL ELSE upper(name) END, CASE WHEN true THEN 1 ELSE (SELECT 2 AS two) END FROM sys.clusters
