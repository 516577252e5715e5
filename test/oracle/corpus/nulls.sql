-- every binary operator with NULL on either side (typed and untyped), and unary operators and functions of NULL

SELECT 1 = NULL, NULL = 1, NULL::int = 1, 1 = NULL::int, NULL = NULL

SELECT count(*), count(position = NULL), count((position = NULL) IS NULL) FROM sys.segments

SELECT 1 <> NULL, NULL <> 1, NULL::int <> 1, 1 <> NULL::int, NULL <> NULL

SELECT count(*), count(position <> NULL), count((position <> NULL) IS NULL) FROM sys.segments

SELECT 1 < NULL, NULL < 1, NULL::int < 1, 1 < NULL::int, NULL < NULL

SELECT count(*), count(position < NULL), count((position < NULL) IS NULL) FROM sys.segments

SELECT 1 <= NULL, NULL <= 1, NULL::int <= 1, 1 <= NULL::int, NULL <= NULL

SELECT count(*), count(position <= NULL), count((position <= NULL) IS NULL) FROM sys.segments

SELECT 1 > NULL, NULL > 1, NULL::int > 1, 1 > NULL::int, NULL > NULL

SELECT count(*), count(position > NULL), count((position > NULL) IS NULL) FROM sys.segments

SELECT 1 >= NULL, NULL >= 1, NULL::int >= 1, 1 >= NULL::int, NULL >= NULL

SELECT count(*), count(position >= NULL), count((position >= NULL) IS NULL) FROM sys.segments

SELECT 1 + NULL, NULL + 1, NULL::int + 1, 1 + NULL::int, NULL + NULL

SELECT count(*), count(position + NULL), count((position + NULL) IS NULL) FROM sys.segments

SELECT 1 - NULL, NULL - 1, NULL::int - 1, 1 - NULL::int, NULL - NULL

SELECT count(*), count(position - NULL), count((position - NULL) IS NULL) FROM sys.segments

SELECT 1 * NULL, NULL * 1, NULL::int * 1, 1 * NULL::int, NULL * NULL

SELECT count(*), count(position * NULL), count((position * NULL) IS NULL) FROM sys.segments

SELECT 1 / NULL, NULL / 1, NULL::int / 1, 1 / NULL::int, NULL / NULL

SELECT count(*), count(position / NULL), count((position / NULL) IS NULL) FROM sys.segments

SELECT 1 % NULL, NULL % 1, NULL::int % 1, 1 % NULL::int, NULL % NULL

SELECT count(*), count(position % NULL), count((position % NULL) IS NULL) FROM sys.segments

SELECT 'a' || NULL, NULL || 'a', NULL::text || 'a', 'a' || NULL::text, NULL || NULL

SELECT count(*) FROM sys.tasks WHERE (name || NULL)

SELECT 'a' LIKE NULL, NULL LIKE 'a', NULL::text LIKE 'a', 'a' LIKE NULL::text, NULL LIKE NULL

SELECT count(*) FROM sys.tasks WHERE (name LIKE NULL)

SELECT 'a' ILIKE NULL, NULL ILIKE 'a', NULL::text ILIKE 'a', 'a' ILIKE NULL::text, NULL ILIKE NULL

SELECT count(*) FROM sys.tasks WHERE (name ILIKE NULL)

SELECT 'a' ~ NULL, NULL ~ 'a', NULL::text ~ 'a', 'a' ~ NULL::text, NULL ~ NULL

SELECT count(*) FROM sys.tasks WHERE (name ~ NULL)

SELECT 1 IS DISTINCT FROM NULL, NULL IS DISTINCT FROM 1, NULL::int IS DISTINCT FROM 1, 1 IS DISTINCT FROM NULL::int, NULL IS DISTINCT FROM NULL

SELECT count(*), count(name || NULL), count((name || NULL) IS NULL) FROM sys.tasks

SELECT true AND NULL, NULL AND true, NULL::bool AND true, true AND NULL::bool, NULL AND NULL

SELECT count(*), count(name LIKE NULL), count((name LIKE NULL) IS NULL) FROM sys.tasks

SELECT true OR NULL, NULL OR true, NULL::bool OR true, true OR NULL::bool, NULL OR NULL

SELECT count(*), count(name ILIKE NULL), count((name ILIKE NULL) IS NULL) FROM sys.tasks

SELECT -NULL::int, NOT NULL::bool, abs(NULL::int), length(NULL::text), upper(NULL), coalesce(NULL)

SELECT NULL::int + 1, NULL::text || 'x', NULL::int BETWEEN 1 AND 2, 1 BETWEEN NULL AND 2

SELECT NULL = ANY (ARRAY[1]), 1 = ANY (NULL::int[]), NULL::int IN (1, 2), NULL::int NOT IN (1, 2)

SELECT CASE WHEN NULL::bool THEN 1 ELSE 0 END, NULLIF(NULL::int, 1), greatest(NULL::int), least(NULL::int)

SELECT count(NULL), sum(NULL::int), max(NULL::text), avg(NULL::int), array_agg(NULL::int), string_agg(NULL, ',')

SELECT error, name FROM sys.tasks ORDER BY error NULLS FIRST, created_at

SELECT count(*) FROM sys.subtasks WHERE error = NULL

SELECT count(*) FROM sys.subtasks WHERE error <> 'x'

SELECT count(*) FROM sys.subtasks WHERE NOT (error = 'x')

SELECT count(*) FROM sys.subtasks WHERE error IS NOT DISTINCT FROM NULL

SELECT name IS NULL, count(*) FROM sys.tasks GROUP BY 1 ORDER BY 1

SELECT NULL::int UNION SELECT NULL::int

SELECT DISTINCT x FROM (VALUES (NULL::int), (NULL), (1)) v(x) ORDER BY x

SELECT x, count(*) FROM (VALUES (NULL::int), (NULL), (1)) v(x) GROUP BY x ORDER BY x

SELECT NULL

SELECT NULL AS n, NULL::text AS t, NULL::int8 AS i

SELECT coalesce(NULL::int), coalesce(3), coalesce((SELECT name FROM sys.clusters))
