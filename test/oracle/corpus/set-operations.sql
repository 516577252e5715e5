-- INTERSECT [ALL], EXCEPT [ALL] (with UNION beside them: precedence, parentheses, ORDER BY / LIMIT of the
-- whole, WITH before the first operand), SELECT DISTINCT ON, and the WITH that may not follow a WITH clause.

SELECT name FROM sys.nodes INTERSECT SELECT name FROM sys.nodes WHERE name <> 'node1' ORDER BY 1

SELECT status FROM sys.segments INTERSECT ALL SELECT status FROM sys.segments WHERE position < 3

SELECT status FROM sys.segments EXCEPT ALL SELECT status FROM sys.segments WHERE position < 3

SELECT status FROM sys.segments EXCEPT SELECT 'MISSING' ORDER BY status

VALUES (1), (1), (1), (2), (NULL), (NULL), (NULL) INTERSECT ALL VALUES (1), (1), (NULL), (NULL), (3)

VALUES (1), (1), (1), (2), (NULL), (NULL), (NULL) EXCEPT ALL VALUES (1), (NULL), (3)

VALUES (1), (1), (2), (NULL) INTERSECT VALUES (1), (NULL)

VALUES (1), (1), (2), (NULL) EXCEPT VALUES (2)

VALUES (1, 'a'), (1, 'a'), (1, NULL), (2, 'b') INTERSECT ALL VALUES (1, 'a'), (1, NULL), (1, NULL)

VALUES (1, 'a'), (1, 'a'), (1, NULL), (2, 'b') EXCEPT ALL VALUES (1, 'a'), (1, NULL)

SELECT 1 AS x UNION SELECT 2 INTERSECT SELECT 2 ORDER BY x DESC

SELECT 1 AS x UNION ALL SELECT 2 INTERSECT ALL SELECT 2 UNION ALL SELECT 3 ORDER BY 1

SELECT 3 AS x EXCEPT SELECT 1 UNION SELECT 1 ORDER BY x

SELECT 1 AS x UNION SELECT 2 EXCEPT SELECT 1 ORDER BY x

(SELECT 1 AS x UNION SELECT 2) INTERSECT SELECT 2

SELECT 1 AS x EXCEPT (SELECT 1 UNION SELECT 2)

(SELECT name FROM sys.nodes ORDER BY name LIMIT 2) EXCEPT ALL (SELECT name FROM sys.nodes ORDER BY name DESC LIMIT 5) ORDER BY name

SELECT name FROM sys.nodes EXCEPT SELECT node_name FROM sys.segments WHERE position = 0 ORDER BY name LIMIT 2 OFFSET 1

WITH q AS (SELECT name FROM sys.nodes) SELECT name FROM q INTERSECT SELECT node_name FROM sys.segments ORDER BY 1

WITH q AS (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 2) SELECT v FROM q EXCEPT ALL SELECT 2 ORDER BY v

SELECT v FROM (SELECT 1 AS v INTERSECT SELECT 1) AS s

SELECT count(*) FROM (SELECT status FROM sys.segments INTERSECT ALL SELECT status FROM sys.segments) AS s

SELECT name FROM sys.nodes WHERE name IN (SELECT name FROM sys.nodes EXCEPT SELECT 'node1') ORDER BY name

SELECT ARRAY(SELECT 1 INTERSECT SELECT 1)

SELECT EXISTS (SELECT 1 EXCEPT SELECT 1)

SELECT 1 AS a, 'x' AS b INTERSECT SELECT 1, 'x'

SELECT 1 AS a, 2 AS a EXCEPT ALL SELECT 3, 4

SELECT 1, 2 INTERSECT SELECT 1

SELECT 1 EXCEPT

SELECT 1 LIMIT 1 INTERSECT SELECT 1

SELECT 1 INTERSECT DISTINCT SELECT 1

SELECT DISTINCT ON (node_name) node_name, position, storage_id FROM sys.segments ORDER BY node_name, position DESC, storage_id

SELECT DISTINCT ON (node_name) node_name, position FROM sys.segments ORDER BY node_name DESC, position

SELECT DISTINCT ON (1) node_name, position FROM sys.segments ORDER BY 1, 2

SELECT DISTINCT ON (n) node_name AS n, position FROM sys.segments ORDER BY n, position

SELECT DISTINCT ON (node_name, status) node_name, status, position FROM sys.segments ORDER BY node_name, status, position

SELECT DISTINCT ON (status, node_name) node_name, status, position FROM sys.segments ORDER BY node_name, status, position

SELECT DISTINCT ON (a) a, b FROM (VALUES (1, 'x'), (1, 'a'), (2, NULL), (2, 'b'), (NULL, 'z'), (NULL, 'y')) AS v(a, b) ORDER BY a, b

SELECT DISTINCT ON (a) a, b FROM (VALUES (1, 'x'), (1, 'a'), (2, NULL), (2, 'b')) AS v(a, b) ORDER BY a, b DESC

SELECT DISTINCT ON (a) * FROM (VALUES (1, 'x'), (1, 'a')) AS v(a, b) ORDER BY a, b

SELECT DISTINCT ON (node_name) node_name, count(*) FROM sys.segments GROUP BY node_name ORDER BY node_name DESC

SELECT DISTINCT ON (node_name) node_name, position FROM sys.segments ORDER BY node_name, position LIMIT 2

SELECT DISTINCT ON (node_name) node_name, position FROM sys.segments ORDER BY position

SELECT DISTINCT ON (node_name, status) node_name FROM sys.segments ORDER BY node_name, position, status

SELECT DISTINCT ON (7) node_name FROM sys.segments

SELECT count(*) FROM (SELECT DISTINCT ON (node_name) node_name FROM sys.segments) AS s

WITH a AS (SELECT 1 AS x) WITH b AS (SELECT 2 AS y) SELECT y FROM b

SELECT * FROM (WITH a AS (SELECT 1 AS x) WITH b AS (SELECT 2 AS y) SELECT y FROM b) AS s

WITH a AS (SELECT 1 AS x) SELECT y FROM (WITH b AS (SELECT 2 AS y) SELECT y FROM b) AS s

WITH m AS NOT MATERIALIZED (SELECT 2 AS v) SELECT v FROM m
