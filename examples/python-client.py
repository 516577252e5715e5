"""Run with: /usr/bin/python3 examples/python-client.py  (PGPASSWORD=... and the server on 127.0.0.1:5433)

Lists the tasks with psycopg 3."""
import psycopg

with psycopg.connect(host="127.0.0.1", port=5433, user="admin", dbname="segtasks") as conn:
    rows = conn.execute("SELECT name, type, status, fraction_complete FROM sys.tasks ORDER BY created_at DESC").fetchall()
    for name, type_, status, fraction in rows:
        print(f"{name or '(unnamed)'} {type_} {status} {fraction:.0%}")
    if not rows:
        print("no tasks yet")
