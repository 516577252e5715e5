-- Run with: psql -f examples/tasks.sql   (psql takes the connection from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE)
-- What the system holds and what its tasks are doing.
SELECT name, width, parity_width, segment_size FROM sys.storage_spaces;
SELECT name, cluster_name, status FROM sys.nodes ORDER BY name;
SELECT name, type, status, round(fraction_complete::numeric, 2) AS done, error FROM sys.tasks ORDER BY created_at DESC LIMIT 10;
SELECT result, count(*) FROM sys.result_cache GROUP BY result ORDER BY 2 DESC;
