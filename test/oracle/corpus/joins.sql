-- joins of every kind, LATERAL, correlated subqueries

SELECT n.name, c.storage_space FROM sys.nodes n JOIN sys.clusters c ON c.name = n.cluster_name ORDER BY n.name

SELECT n.name, count(d.id) FROM sys.nodes n LEFT JOIN sys.storage_devices d ON d.node_name = n.name GROUP BY n.name ORDER BY n.name

SELECT t.name, g.seq FROM sys.tables t INNER JOIN sys.segment_groups g ON g.table_id = t.id ORDER BY t.name, g.seq

SELECT t.name, s.description FROM sys.tasks t LEFT OUTER JOIN sys.subtasks s ON s.task_id = t.id AND s.status = 'FAILED' ORDER BY t.created_at

SELECT s.description, t.name FROM sys.subtasks s RIGHT JOIN sys.tasks t ON t.id = s.task_id WHERE t.type = 'check_disk'

SELECT count(*) FROM sys.tasks t FULL JOIN sys.result_cache r ON r.task_id = t.id

SELECT t.name, r.result FROM sys.tasks t FULL OUTER JOIN sys.result_cache r ON r.task_id = t.id AND r.result = 'nope'

SELECT count(*) FROM sys.nodes CROSS JOIN sys.clusters

SELECT count(*) FROM sys.nodes, sys.storage_spaces

SELECT count(*) FROM sys.nodes a JOIN sys.nodes b ON a.name < b.name

SELECT n.name, d.path FROM sys.nodes n JOIN sys.storage_devices d USING (id)

SELECT node_name, count(*) FROM sys.segments JOIN sys.storage_devices d ON d.id = segments.device_id GROUP BY node_name ORDER BY node_name

SELECT name FROM sys.nodes NATURAL JOIN sys.clusters

SELECT g.seq, s.position FROM sys.segment_groups g JOIN sys.segments s ON s.segment_group_id = g.id JOIN sys.tables t ON t.id = g.table_id WHERE t.name = 'demo' AND s.is_parity ORDER BY g.seq, s.position

SELECT * FROM sys.storage_spaces s JOIN sys.clusters c ON c.storage_space = s.name

SELECT c.name, x.n FROM sys.clusters c, LATERAL (SELECT count(*) AS n FROM sys.nodes WHERE cluster_name = c.name) x

SELECT n.name, d.path FROM sys.nodes n CROSS JOIN LATERAL (SELECT path FROM sys.storage_devices WHERE node_name = n.name ORDER BY path LIMIT 1) d ORDER BY n.name

SELECT n.name, d.path FROM sys.nodes n LEFT JOIN LATERAL (SELECT path FROM sys.storage_devices WHERE node_name = n.name AND false) d ON true ORDER BY n.name

SELECT t.name, u.x FROM sys.tasks t, LATERAL unnest(ARRAY[t.segments_total, t.segments_done]) AS u(x) ORDER BY t.created_at, u.x

SELECT n.name, (SELECT count(*) FROM sys.segments s WHERE s.node_name = n.name) FROM sys.nodes n ORDER BY 1

SELECT name FROM sys.tables t WHERE (SELECT count(*) FROM sys.segment_groups g WHERE g.table_id = t.id) > 1

SELECT (SELECT name FROM sys.nodes ORDER BY name LIMIT 1)

SELECT (SELECT name FROM sys.nodes)

SELECT (SELECT name FROM sys.nodes WHERE false)

SELECT s.description FROM sys.subtasks s WHERE s.task_id = (SELECT id FROM sys.tasks WHERE name = 'heal') ORDER BY s.description

SELECT sub.node_name, sub.n FROM (SELECT node_name, count(*) AS n FROM sys.segments GROUP BY node_name) sub WHERE sub.n > 4 ORDER BY 1

SELECT a.name, b.name FROM sys.nodes a JOIN sys.nodes b ON b.name = a.name AND a.name IN ('c1_n1', 'c1_n2') ORDER BY 1

SELECT count(*) FROM sys.segments s JOIN sys.segment_groups g ON g.id = s.segment_group_id JOIN sys.tables t ON t.id = g.table_id JOIN sys.clusters c ON c.name = t.cluster_name JOIN sys.storage_spaces p ON p.name = c.storage_space

SELECT t.name, r.result, r.detail IS NOT NULL FROM sys.result_cache r JOIN sys.tasks t ON t.id = r.task_id ORDER BY t.created_at, r.result

SELECT r.result, s.status FROM sys.result_cache r LEFT JOIN sys.segments s ON s.storage_id = r.storage_id ORDER BY r.id

SELECT x.a, y.b FROM (VALUES (1), (2)) x(a) LEFT JOIN (VALUES (2), (3)) y(b) ON x.a = y.b ORDER BY 1

SELECT x.a, y.b FROM (VALUES (1), (NULL)) x(a) FULL JOIN (VALUES (NULL), (3)) y(b) ON x.a = y.b

SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) ORDER BY n DESC

SELECT * FROM (SELECT 1 AS a) x JOIN (SELECT 1 AS a) y USING (a)

SELECT * FROM sys.nodes n JOIN sys.clusters c ON true WHERE n.name = 'c1_n1'

-- LATERAL subqueries and functions in FROM reading the items before them (PostgreSQL 9.3+)
SELECT n.name, d.* FROM sys.nodes n LEFT JOIN LATERAL (SELECT path, capacity_bytes FROM sys.storage_devices WHERE node_name = n.name ORDER BY path) d ON true ORDER BY n.name, d.path

SELECT c.name, n.name, d.cnt FROM sys.clusters c JOIN sys.nodes n ON n.cluster_name = c.name CROSS JOIN LATERAL (SELECT count(*) AS cnt, c.name || '/' || n.name AS label FROM sys.storage_devices s WHERE s.node_name = n.name) d ORDER BY 2

SELECT t.name, x.* FROM sys.tasks t, LATERAL (SELECT s.status, count(*) AS n FROM sys.subtasks s WHERE s.task_id = t.id GROUP BY s.status) x ORDER BY 1, 2

SELECT t.name, g.i FROM sys.tasks t CROSS JOIN LATERAL generate_series(1, t.segments_failed + 1) AS g(i) ORDER BY 1, 2

SELECT g, h FROM generate_series(1, 3) g, generate_series(g, 3) h ORDER BY 1, 2

SELECT ic.relname, k.attnum, k.i FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid CROSS JOIN LATERAL (SELECT unnest(i.indkey), generate_subscripts(i.indkey, 1) + 1) AS k(attnum, i) WHERE ic.relname IN ('subtasks_pkey', 'segments_pkey') ORDER BY 1, 3

SELECT a.x, b.y, c.z FROM (VALUES (1), (2)) a(x) CROSS JOIN LATERAL (SELECT a.x * 10 AS y) b CROSS JOIN LATERAL (SELECT b.y + a.x AS z) c ORDER BY 1

SELECT u.v, u.ordinality FROM sys.tasks t CROSS JOIN LATERAL unnest(ARRAY[t.bytes_total, t.bytes_done]) WITH ORDINALITY AS u(v) ORDER BY t.created_at, u.ordinality

SELECT x.a FROM (VALUES (1)) v(n), LATERAL (SELECT v.n AS a UNION ALL SELECT v.n + 1) x ORDER BY 1

SELECT * FROM (VALUES (1)) v(n), (SELECT v.n) x
