-- IN lists of 0, 1 and many elements, NOT IN, IN with NULLs, IN subqueries, = ANY / <> ALL

SELECT name FROM sys.nodes WHERE name IN ('c1_n1')

SELECT name FROM sys.nodes WHERE name IN ('c1_n1', 'c1_n2')

SELECT name FROM sys.nodes WHERE name IN ('c1_n1', 'c1_n2', 'nope', 'c1_n6')

SELECT name FROM sys.nodes WHERE name NOT IN ('c1_n1')

SELECT name FROM sys.nodes WHERE name NOT IN ('c1_n1', 'c1_n3')

SELECT name FROM sys.nodes WHERE name IN (NULL)

SELECT name FROM sys.nodes WHERE name NOT IN ('c1_n1', NULL)

SELECT name FROM sys.nodes WHERE name IN ('c1_n1', NULL)

SELECT 1 IN (1)

SELECT 1 IN (1, 2)

SELECT 3 IN (1, 2)

SELECT 3 NOT IN (1, NULL)

SELECT NULL IN (1, 2)

SELECT 1 IN (NULL, 1)

SELECT position FROM sys.segments WHERE position IN (1) ORDER BY storage_id

SELECT position FROM sys.segments WHERE position IN (0, 5) ORDER BY storage_id

SELECT count(*) FROM sys.segments WHERE position IN (SELECT width FROM sys.storage_spaces)

SELECT count(*) FROM sys.segments WHERE position NOT IN (SELECT width FROM sys.storage_spaces)

SELECT count(*) FROM sys.segments WHERE segment_group_id IN (SELECT id FROM sys.segment_groups WHERE seq = 1)

SELECT name FROM sys.nodes WHERE (name, status) IN (('c1_n1', 'ONLINE'))

SELECT name FROM sys.nodes WHERE name = ANY (ARRAY['c1_n1', 'c1_n2'])

SELECT name FROM sys.nodes WHERE name = ANY (ARRAY['c1_n1'])

SELECT name FROM sys.nodes WHERE name = ANY ('{c1_n4,c1_n5}')

SELECT name FROM sys.nodes WHERE name <> ALL (ARRAY['c1_n1', 'c1_n2'])

SELECT name FROM sys.nodes WHERE name = ANY (ARRAY[]::text[])

SELECT name FROM sys.nodes WHERE name <> ALL (ARRAY[]::text[])

SELECT 1 = ANY (ARRAY[1, NULL])

SELECT 2 = ANY (ARRAY[1, NULL])

SELECT 2 <> ALL (ARRAY[1, NULL])

SELECT name FROM sys.nodes WHERE name IN (SELECT node_name FROM sys.segments WHERE position = 0)

SELECT name FROM sys.nodes WHERE EXISTS (SELECT 1 FROM sys.segments s WHERE s.node_name = nodes.name AND s.position = 1)

SELECT name FROM sys.nodes WHERE NOT EXISTS (SELECT 1 FROM sys.subtasks s WHERE s.node_name = nodes.name)

SELECT id FROM sys.tasks WHERE type IN ('rebuild')

SELECT id FROM sys.tasks WHERE status IN ('COMPLETE') AND type IN ('check_disk', 'rebuild') ORDER BY created_at

SELECT count(*) FROM sys.tasks WHERE name IN ()

SELECT name FROM sys.clusters WHERE name IN ('c1')

SELECT result FROM sys.result_cache WHERE result IN ('REBUILT', 'MISSING')
