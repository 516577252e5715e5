-- CASE, casts, arithmetic, division by zero, comparison, boolean logic

SELECT CASE WHEN position = 0 THEN 'first' WHEN position < 4 THEN 'data' ELSE 'parity' END AS kind, count(*) FROM sys.segments GROUP BY 1 ORDER BY 1

SELECT CASE status WHEN 'INTACT' THEN 1 WHEN 'MISSING' THEN 2 END FROM sys.segments ORDER BY storage_id

SELECT CASE WHEN false THEN 1 END

SELECT CASE WHEN NULL THEN 'a' ELSE 'b' END

SELECT CASE NULL WHEN NULL THEN 'same' ELSE 'different' END

SELECT CASE 1 WHEN 1 THEN 'one' WHEN 1 THEN 'again' END

SELECT CASE WHEN true THEN 1 ELSE 2.5 END

SELECT 1 / 0

SELECT 1 % 0

SELECT 1.0 / 0

SELECT 1.0 / 0.0

SELECT 5 / 2, 5 % 2, -5 / 2, -5 % 2

SELECT 5.0 / 2, 7::float8 / 2

SELECT 2 ^ 10, 2.0 ^ 0.5

SELECT 1 + 1, 1 - 2, 3 * 4, 2 + 2 * 3, (2 + 2) * 3

SELECT 9223372036854775807 + 1

SELECT 2147483647 + 1

SELECT 2147483647::int4 + 1::int4

SELECT -2147483648::int4

SELECT abs(-7), abs(-7.5), abs(NULL::int)

SELECT 7 & 3, 7 | 8, 1 << 4, 256 >> 2, 5 # 1

SELECT ~5

SELECT '42'::int, '42'::int8, '42'::int2, '4.5'::float8, '4.5'::numeric

SELECT 'x'::int

SELECT '4.5'::int

SELECT 4.5::int, 5.5::int, -4.5::int, 4.4999::int

SELECT 3.7::int8, (-3.7)::int8

SELECT '99999'::int2

SELECT 't'::bool, 'yes'::bool, 'off'::bool, '0'::bool, 'on'::boolean

SELECT 'maybe'::bool

SELECT 1::bool, 0::bool

SELECT true::int, false::int

SELECT true::text, 12::text, 1.50::text, 2.0::float8::text

SELECT CAST('2026-01-02' AS date), CAST('2026-01-02 03:04:05+00' AS timestamptz)

SELECT '2026-13-02'::date

SELECT '2026-01-02'::date + 1

SELECT '1 day'::interval, '90 minutes'::interval, '1 day 2 hours'::interval

SELECT '00000000-0000-4000-8000-000000000000'::uuid

SELECT 'not-a-uuid'::uuid

SELECT '{"a": 1}'::json, '[1,2]'::json

SELECT '{bad'::json

SELECT 'sys.tasks'::regclass, 'sys.nodes'::regclass::text

SELECT 'sys.nope'::regclass

SELECT 'int8'::regtype, 'text'::regtype::text, 'pg_catalog'::regnamespace

SELECT 23::regtype, 25::regtype::text

SELECT 1.5::float4, 1.5::real, 1e10::float8, 1e-5::float8

SELECT 0.1 + 0.2, 0.1::float8 + 0.2::float8

SELECT 1/3::float8, 2/3.0

SELECT 10::numeric / 4, 10 / 4::numeric

SELECT round(2.5), round(3.5), round(-2.5), round(2.567, 2), round(2.5::float8)

SELECT trunc(2.7), trunc(-2.7), trunc(2.567, 1)

SELECT ceil(2.1), ceiling(-2.1), floor(2.9), floor(-2.1)

SELECT mod(7, 3), mod(-7, 3), mod(7, 0)

SELECT power(2, 3), power(2.0, 0.5), sqrt(16), sqrt(2)

SELECT sqrt(-1)

SELECT greatest(1, 5, 3), least(1, 5, 3), greatest(NULL, 2), least('b', 'a')

SELECT greatest(1, NULL, 3), least(NULL::int, NULL)

SELECT coalesce(NULL, NULL, 3), coalesce(NULL::text, 'x'), nullif(1, 1), nullif(1, 2)

SELECT coalesce(name, 'unnamed') FROM sys.tasks ORDER BY created_at

SELECT true AND NULL, false AND NULL, true OR NULL, false OR NULL, NOT NULL::bool

SELECT 1 < 2, 2 <= 2, 3 > 4, 'a' < 'b', 'B' < 'a', 'abc' < 'abd'

SELECT 1 BETWEEN 0 AND 2, 5 BETWEEN 6 AND 2, 5 NOT BETWEEN 1 AND 3

SELECT 5 BETWEEN SYMMETRIC 6 AND 2

SELECT count(*) FROM sys.segments WHERE position BETWEEN 2 AND 4

SELECT NULL IS NULL, 1 IS NULL, NULL IS NOT NULL, true IS TRUE, NULL IS NOT TRUE, false IS FALSE, NULL::bool IS UNKNOWN

SELECT 1 IS DISTINCT FROM NULL, NULL IS DISTINCT FROM NULL, 1 IS NOT DISTINCT FROM 1, NULL IS NOT DISTINCT FROM NULL

SELECT count(*) FROM sys.tasks WHERE name IS DISTINCT FROM 'scan'

SELECT count(*) FROM sys.subtasks WHERE error IS NULL

SELECT count(*) FROM sys.subtasks WHERE parent_id IS NOT NULL

SELECT is_parity, NOT is_parity, is_parity AND position > 4 FROM sys.segments ORDER BY storage_id

SELECT bytes_total - bytes_done, bytes_total * 2, bytes_total / 1024, fraction_complete * 100 FROM sys.tasks ORDER BY created_at

SELECT capacity_bytes, used_bytes, used_bytes::float8 / nullif(capacity_bytes, 0) FROM sys.storage_devices ORDER BY path

SELECT segment_size / width FROM sys.storage_spaces

SELECT segment_size / 0 FROM sys.storage_spaces

SELECT -position, +position, @ -position FROM sys.segments ORDER BY storage_id LIMIT 3

SELECT 'a' = 'a', 'a' = 'A', 'a' <> 'b', 'a' != 'b'

SELECT 1 = 1.0, 1::int8 = 1::int2, 1.5 > 1

SELECT '10' > '9', 10 > 9

SELECT 1 = '1'

SELECT 'abc' = 1

SELECT ROW(1, 2) = ROW(1, 2), (1, 'a') < (1, 'b')

-- integer overflow and remainders as PostgreSQL computes them
SELECT 100000 * 100000

SELECT -2147483647 - 2

SELECT 2147483646 + 1, 3000000000 + 1, 5.5 % 2, -7 % 3, 7 % -3, mod(-7.5, 2)

SELECT 32767::int2 * 100000

SELECT segments_total * 2, bytes_total % 1000 FROM sys.tasks ORDER BY created_at

SELECT n.name, s.x FROM sys.nodes n, LATERAL (SELECT length(n.name) % 0 AS x) s

SELECT 1 << 31, 1 << 32, 1 << 33, -1 >> 1, 256 >> 33, (-8) >> 1

SELECT 1::int2 << 15, 1::int2 << 16, 3::int2 << 14, (-2)::int2 >> 1

SELECT 1::int8 << 52, 1::int8 << 64, 5::int8 << 2, (-16)::int8 >> 2

SELECT pg_typeof(1::int2 << 1), pg_typeof(1::int8 << 1), pg_typeof(1 << 1::int2)

SELECT 1::int2 + 1::int2, pg_typeof(1::int2 + 1::int2), pg_typeof(1::int2 * 2::int2), pg_typeof(1::int2 + 1)

SELECT 20000::int2 + 20000::int2

SELECT 200::int2 * 200::int2

SELECT 1::int8 << 63
