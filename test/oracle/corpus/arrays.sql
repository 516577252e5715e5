-- arrays, subscripts, array functions, unnest, generate_series, generate_subscripts

SELECT ARRAY[1, 2, 3], ARRAY['a', 'b'], ARRAY[]::int[], ARRAY[NULL, 1]

SELECT (ARRAY[10, 20, 30])[1], (ARRAY[10, 20, 30])[3], (ARRAY[10, 20, 30])[0], (ARRAY[10, 20, 30])[4]

SELECT (ARRAY[10, 20, 30])[2:3], (ARRAY[10, 20, 30])[:2], (ARRAY[10, 20, 30])[2:]

SELECT ('{1,2,3}'::int[])[2], ('{a,b}'::text[])[1]

SELECT '[0:2]={1,2,3}'::int[]

SELECT array_length(ARRAY[1, 2, 3], 1), array_length(ARRAY[]::int[], 1), array_length(ARRAY[1], 2)

SELECT array_lower(ARRAY[1, 2], 1), array_upper(ARRAY[1, 2], 1), array_upper(ARRAY[]::int[], 1)

SELECT cardinality(ARRAY[1, 2, 3]), cardinality(ARRAY[]::int[]), cardinality(NULL::int[])

SELECT array_position(ARRAY['a', 'b', 'c'], 'b'), array_position(ARRAY['a'], 'z'), array_position(ARRAY[1, NULL], NULL)

SELECT array_to_string(ARRAY[1, 2, 3], ','), array_to_string(ARRAY['a', NULL, 'c'], ','), array_to_string(ARRAY['a', NULL], ',', '*')

SELECT ARRAY[1, 2] @> ARRAY[1], ARRAY[1] <@ ARRAY[1, 2], ARRAY[1, 2] && ARRAY[2, 3], ARRAY[1] && ARRAY[3]

SELECT ARRAY[1, 2] = ARRAY[1, 2], ARRAY[1, 2] < ARRAY[1, 3], ARRAY[1, 2] || ARRAY[3], ARRAY[1] || 2, 0 || ARRAY[1]

SELECT array_agg(name ORDER BY name) FROM sys.nodes

SELECT array_agg(position ORDER BY position DESC) FROM sys.segments WHERE segment_group_id = (SELECT min(id) FROM sys.segment_groups)

SELECT array_agg(DISTINCT status) FROM sys.segments

SELECT array_agg(x) FROM (SELECT 1 AS x WHERE false) s

SELECT ARRAY(SELECT name FROM sys.nodes ORDER BY name)

SELECT ARRAY(SELECT name FROM sys.nodes WHERE false)

SELECT (ARRAY(SELECT name FROM sys.nodes ORDER BY name))[2]

SELECT unnest(ARRAY[1, 2, 3])

SELECT unnest(ARRAY['b', 'a']) AS v ORDER BY v

SELECT * FROM unnest(ARRAY[1, 2]) AS u(x)

SELECT * FROM unnest(ARRAY[1, 2], ARRAY['a', 'b', 'c']) AS u(x, y)

SELECT * FROM unnest(ARRAY[10, 20]) WITH ORDINALITY AS u(v, n)

SELECT unnest(ARRAY[1, 2]), unnest(ARRAY[1, 2, 3])

SELECT generate_series(1, 3)

SELECT generate_series(1, 10, 3), generate_series(5, 1, -2)

SELECT * FROM generate_series(1, 0)

SELECT * FROM generate_series(1, 3) g(i) ORDER BY i DESC

SELECT i, i * i FROM generate_series(1, 4) AS g(i) WHERE i % 2 = 0

SELECT * FROM generate_series('2026-01-01'::timestamptz, '2026-01-03'::timestamptz, '1 day')

SELECT g, g * 2, 'x' || g FROM generate_series(1, 3) g

SELECT g FROM generate_series(0.5, 2, 0.5) g

SELECT * FROM generate_series(1::int8, 3)

SELECT * FROM generate_series(1.5::float8, 3)

SELECT * FROM generate_series('1', '3')

SELECT 'i' || i FROM generate_subscripts(ARRAY[5, 6], 1) i

SELECT pg_notify('oracle_channel', 'payload')

SELECT pg_notify('', 'payload')

SELECT generate_subscripts(ARRAY['a', 'b', 'c'], 1)

SELECT * FROM generate_subscripts(ARRAY[5, 6], 1) AS s(i)

SELECT string_to_array(name, '_') FROM sys.nodes ORDER BY name

SELECT (string_to_array(name, '_'))[2] FROM sys.nodes ORDER BY name

SELECT count(*) FROM sys.nodes WHERE name = ANY (string_to_array('c1_n1,c1_n2', ','))

SELECT x FROM unnest(ARRAY[3, NULL, 1]) AS u(x) ORDER BY x NULLS FIRST

SELECT (ARRAY[[1, 2], [3, 4]])[2][1], array_length(ARRAY[[1, 2], [3, 4]], 2)

SELECT ARRAY[1, 2]::text[], ARRAY['1', '2']::int[], '{1,2}'::int8[]

SELECT ARRAY[1.5, 2]::int[]

SELECT ARRAY['a b', 'c"d', NULL, '']

SELECT array_append(ARRAY[1], 2), array_prepend(0, ARRAY[1]), array_cat(ARRAY[1], ARRAY[2]), array_remove(ARRAY[1, 2, 1], 1)

SELECT array_dims(ARRAY[1, 2]), array_ndims(ARRAY[1])

SELECT _pg_expandarray(ARRAY['a', 'b'])

SELECT (information_schema._pg_expandarray(ARRAY['a', 'b'])).n

SELECT (information_schema._pg_expandarray(ARRAY['a', 'b'])).x

-- several set-returning functions in one select list run in lockstep (PostgreSQL 10+)
SELECT generate_series(1, 3) AS a, generate_series(1, 2) AS b, 'x' AS c

SELECT unnest(ARRAY['a', 'b', 'c']), unnest(ARRAY[1]), generate_series(5, 6)

SELECT name, unnest(ARRAY[segments_total, segments_done]), generate_series(1, 3) FROM sys.tasks ORDER BY created_at

SELECT generate_series(1, 2), generate_series(1, 2)

SELECT generate_series(1, 0), unnest(ARRAY[]::int[])

-- lower bounds other than 1: PostgreSQL's [lo:hi]={...} text form
SELECT '[0:2]={1,2,3}'::int[] AS a, ('[0:2]={1,2,3}'::int[])[0] AS first, ('[0:2]={1,2,3}'::int[])[3] AS past, array_lower('[0:2]={1,2,3}'::int[], 1) AS lo, array_upper('[0:2]={1,2,3}'::int[], 1) AS hi, array_dims('[0:2]={1,2,3}'::int[]) AS dims, array_length('[0:2]={1,2,3}'::int[], 1) AS len, cardinality('[0:2]={1,2,3}'::int[]) AS n

SELECT generate_subscripts('[-1:0]={a,b}'::text[], 1)

SELECT unnest('[5:6]={x,y}'::text[])

SELECT '[1:2]={1,2}'::int[], '[-2:-1]={"a b",NULL}'::text[]

SELECT '[0:1]={1,2,3}'::int[]

SELECT array_append('[0:1]={1,2}'::int[], 3), array_prepend(0, '[5:6]={1,2}'::int[]), array_cat('[2:3]={1,2}'::int[], '{3}'::int[]), array_remove('[0:2]={1,2,1}'::int[], 2), array_position('[0:2]={a,b,c}'::text[], 'c')

SELECT '[0:2]={1,2,3}'::int[] = '{1,2,3}'::int[], array_to_string('[3:4]={a,b}'::text[], '-'), 2 = ANY ('[0:1]={1,2}'::int[])

SELECT array_lower(indkey, 1), array_upper(indkey, 1), array_dims(indkey), indkey[0], indkey[1] FROM pg_index WHERE indrelid = 'sys.subtasks'::regclass

SELECT array_lower('{}'::int[], 1), array_dims('{}'::int[]), array_lower('{1}'::int[], 2)
