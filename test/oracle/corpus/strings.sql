-- LIKE / ILIKE / regular expressions and string functions

SELECT name FROM sys.nodes WHERE name LIKE 'c1\_n%' ORDER BY name

SELECT name FROM sys.nodes WHERE name LIKE 'C1%'

SELECT name FROM sys.nodes WHERE name ILIKE 'C1_N1'

SELECT name FROM sys.nodes WHERE name NOT LIKE '%1' ORDER BY name

SELECT name FROM sys.nodes WHERE name NOT ILIKE '%N1' ORDER BY name

SELECT 'a%b' LIKE 'a\%b', 'axb' LIKE 'a\%b', 'a_b' LIKE 'a\_b', 'a\b' LIKE 'a\\b'

SELECT 'a%b' LIKE 'a!%b' ESCAPE '!'

SELECT 'abc' LIKE 'abc', 'abc' LIKE 'ab', 'abc' LIKE '%', '' LIKE '%', NULL LIKE '%', 'a' LIKE NULL

SELECT 'ABC' ILIKE 'abc', 'ÄB' ILIKE 'äb'

SELECT 'line1
line2' LIKE 'line1%'

SELECT name FROM sys.nodes WHERE name ~ '^c1_n[1-3]$' ORDER BY name

SELECT name FROM sys.nodes WHERE name ~* '^C1_N[1-3]$' ORDER BY name

SELECT name FROM sys.nodes WHERE name !~ '[12]$' ORDER BY name

SELECT name FROM sys.nodes WHERE name !~* 'N[12]$' ORDER BY name

SELECT 'abc' ~ 'b', 'abc' ~ '^b', 'abc' ~ 'B', 'abc' ~* 'B', NULL ~ 'a'

SELECT 'abc' ~ '('

SELECT 'foo.bar' ~ '\.', 'foobar' ~ '\.', 'a1' ~ '\d', 'ab' ~ '\w+$'

SELECT 'aaa' ~ 'a{2,}', 'x' ~ '[[:alpha:]]', '1' ~ '[[:digit:]]'

SELECT 'ab' SIMILAR TO 'a%'

SELECT length('hello'), length(''), length(NULL), char_length('héllo'), character_length('ab'), octet_length('héllo')

SELECT lower('AbC'), upper('aBc'), lower(NULL), upper('straße')

SELECT substr('hello', 2), substr('hello', 2, 3), substr('hello', 0, 2), substr('hello', -1, 3), substr('hello', 10)

SELECT substring('hello' from 2 for 3), substring('hello' from 3), substring('hello' for 2)

SELECT substring('hello', 2, 3), substring('abc123' from '[0-9]+')

SELECT substr('hello', 2, -1)

SELECT position('l' in 'hello'), position('z' in 'hello'), strpos('hello', 'lo'), strpos('hello', '')

SELECT left('hello', 2), right('hello', 2), left('hello', -1), right('hello', -1), left('hi', 10)

SELECT lpad('7', 3, '0'), rpad('7', 3, '0'), lpad('hello', 3), rpad('ab', 5), lpad('x', 5, 'ab'), lpad('x', 0)

SELECT trim('  a  '), ltrim('  a  '), rtrim('  a  '), btrim('xxaxx', 'x'), ltrim('xxa', 'x'), rtrim('axx', 'x')

SELECT trim(both 'x' from 'xxaxx'), trim(leading 'x' from 'xxaxx'), trim(trailing 'x' from 'xxaxx'), trim(from '  b ')

SELECT replace('hello', 'l', 'L'), replace('hello', '', 'x'), replace(NULL, 'a', 'b'), replace('aaa', 'aa', 'b')

SELECT reverse('abc'), repeat('ab', 3), repeat('ab', 0), repeat('ab', -1)

SELECT split_part('a,b,c', ',', 2), split_part('a,b,c', ',', 5), split_part('a,b,c', ',', -1), split_part('abc', '', 1)

SELECT split_part('a,b', ',', 0)

SELECT concat('a', NULL, 'b', 1, true), concat_ws('-', 'a', NULL, 'b'), concat_ws(NULL, 'a', 'b'), concat()

SELECT 'a' || 'b', 'a' || NULL, 'n' || 1, 1 || 'n', 'x' || 1.50 || true

SELECT name || ':' || status FROM sys.nodes ORDER BY name

SELECT md5('abc'), md5(''), md5(NULL)

SELECT quote_ident('abc'), quote_ident('Abc'), quote_ident('a b'), quote_ident('select'), quote_ident('a"b')

SELECT quote_literal('abc'), quote_literal('it''s'), quote_literal(NULL), quote_literal(42), quote_literal(E'a\\b')

SELECT regexp_replace('hello', 'l', 'L'), regexp_replace('hello', 'l', 'L', 'g'), regexp_replace('Hello', 'h', 'x', 'i')

SELECT regexp_replace('abc', '(b)', '[\1]'), regexp_replace('a.b.c', '\.', '-', 'g')

SELECT string_to_array('a,b,c', ','), string_to_array('a,,c', ','), string_to_array('abc', NULL), string_to_array('', ',')

SELECT string_to_array('a,b,x', ',', 'x')

SELECT to_char(123, '00000'), to_char(1234.5, '9999.99'), to_char(timestamptz '2026-01-02 03:04:05+00', 'YYYY-MM-DD HH24:MI:SS')

SELECT to_char(created_at, 'YYYY') FROM sys.tasks ORDER BY created_at

SELECT 'abc' COLLATE "C" < 'abd', name COLLATE "C" FROM sys.clusters

SELECT E'a\tb', E'it\'s', E'\\x', 'plain\n'

SELECT $$dollar 'quoted'$$, $t$tagged$t$

SELECT U&'\0041'

SELECT initcap('hello world')

SELECT translate('abc', 'ab', 'xy')

SELECT format('%s-%s', 'a', 1)

SELECT ascii('A'), chr(65)

SELECT starts_with('hello', 'he')

SELECT regexp_match('abc123', '[0-9]+')

SELECT regexp_matches('a1b2', '[0-9]', 'g')

SELECT regexp_split_to_table('a,b,c', ',')

SELECT regexp_split_to_array('a,b,c', ',')

SELECT encode('abc'::bytea, 'hex'), 'abc'::bytea

SELECT to_hex(255), to_number('12.5', '99.9')

SELECT parse_ident('sys.tasks'), parse_ident('"A".b')

SELECT string_agg(name, ',' ORDER BY name) FROM sys.nodes

SELECT string_agg(name, ', ' ORDER BY name DESC) FROM sys.nodes WHERE name LIKE '%1' OR name LIKE '%2'

SELECT string_agg(DISTINCT status, ',') FROM sys.segments

SELECT string_agg(NULL::text, ',')

SELECT path FROM sys.segments WHERE path LIKE '%' || node_name || '%' ORDER BY storage_id LIMIT 1

SELECT count(*) FROM sys.segments WHERE path LIKE '%/' || node_name || '/%'
