"""Drives one Python PostgreSQL driver against the server and prints what it saw as JSON.

usage: py_clients.py {psycopg2|psycopg|asyncpg} HOST PORT USER PASSWORD
The ava test (wire-clients-python.test.ts) asserts on the JSON; this script only observes.
"""
import json
import sys

driver, host, port, user, password = sys.argv[1:6]
out = {}


def typename(v):
    return type(v).__name__


def run_psycopg2():
    import psycopg2
    import psycopg2.errors

    conn = psycopg2.connect(host=host, port=port, user=user, password=password, dbname="segtasks")
    cur = conn.cursor()
    cur.execute(
        "SELECT %s::int4 + 1 AS next, now() AS at, true AS yes, 1.5::float8 AS f, count(*) AS n "
        "FROM sys.tasks WHERE status = %s",
        (41, "RUNNING"),
    )
    row = cur.fetchone()
    out["values"] = [row[0], typename(row[1]), row[2], row[3], row[4]]
    out["type_codes"] = [d.type_code for d in cur.description]
    # psycopg2 opens a transaction block: an error there poisons it until ROLLBACK.
    try:
        cur.execute("SELECT nope FROM sys.tasks")
    except psycopg2.Error as e:
        out["error"] = e.pgcode
    try:
        cur.execute("SELECT 1")
    except psycopg2.Error as e:
        out["after_error"] = e.pgcode
    conn.rollback()
    cur.execute("SELECT 'back' AS s")
    out["after_rollback"] = cur.fetchone()[0]
    conn.commit()
    conn.autocommit = True
    try:
        cur.execute("SELECT 1; SELECT nope; SELECT 3")
    except psycopg2.Error as e:
        out["multi_error"] = e.pgcode
    cur.execute("SELECT 4")
    out["after_multi"] = cur.fetchone()[0]
    conn.close()


def run_psycopg3():
    import psycopg

    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="segtasks") as conn:
        cur = conn.cursor()
        # small Python ints are sent as binary int2 by psycopg 3
        cur.execute("SELECT %s + 1 AS next, %s::text AS s, now() AS at, count(*) AS n FROM sys.tasks", (41, "x"))
        row = cur.fetchone()
        out["values"] = [row[0], row[1], typename(row[2]), row[3]]
        out["type_codes"] = [d.type_code for d in cur.description]
        bcur = conn.cursor(binary=True)
        bcur.execute("SELECT %s::int8 AS big, 2.5::float8 AS f, true AS b, 'txt'::text AS t, now() AS at, "
                     "'6f1c0000-0000-4000-8000-000000000001'::uuid AS u", (2**40,))
        brow = bcur.fetchone()
        out["binary"] = [brow[0], brow[1], brow[2], brow[3], typename(brow[4]), str(brow[5])]
        try:
            cur.execute("SELECT * FROM sys.nothing")
        except psycopg.Error as e:
            out["error"] = e.sqlstate
        conn.rollback()
        cur.execute("SELECT 'ok'")
        out["after_error"] = cur.fetchone()[0]


def run_asyncpg():
    import asyncio
    import asyncpg

    async def main():
        conn = await asyncpg.connect(host=host, port=int(port), user=user, password=password, database="segtasks")
        rows = await conn.fetch(
            "SELECT $1::int4 + 1 AS next, now() AS at, true AS yes, 1.5::float8 AS f, count(*) AS n, "
            "'6f1c0000-0000-4000-8000-000000000001'::uuid AS u FROM sys.tasks WHERE status = $2",
            41,
            "RUNNING",
        )
        r = rows[0]
        out["values"] = [r["next"], typename(r["at"]), r["yes"], r["f"], r["n"], str(r["u"])]
        stmt = await conn.prepare("SELECT id, created_at, bytes_total, fraction_complete FROM sys.tasks WHERE name = $1")
        out["prepared_types"] = [a.type.name for a in stmt.get_attributes()]
        out["prepared_rows"] = len(await stmt.fetch("none"))
        try:
            await conn.fetch("SELECT nope FROM sys.tasks")
        except asyncpg.PostgresError as e:
            out["error"] = e.sqlstate
        out["after_error"] = await conn.fetchval("SELECT 'ok'")
        took = await conn.fetchval(
            "SELECT '2026-11-28 20:16:30.5+00'::timestamptz - '2026-11-27 20:15:00+00'::timestamptz"
        )
        out["interval_seconds"] = took.total_seconds()
        await conn.close()

    asyncio.run(main())


try:
    {"psycopg2": run_psycopg2, "psycopg": run_psycopg3, "asyncpg": run_asyncpg}[driver]()
except Exception as e:  # the test shows the exception text when something unexpected fails
    out["exception"] = f"{type(e).__name__}: {e}"
    if hasattr(e, "pgcode"):
        out["exception_code"] = e.pgcode
print(json.dumps(out))
