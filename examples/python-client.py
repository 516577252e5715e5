"""Run with: /usr/bin/python3 examples/python-client.py

Connects with PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE (defaults: 127.0.0.1:5433, user admin,
database segtasks) and lists the tasks with psycopg 3."""
import os

import psycopg

env = os.environ
with psycopg.connect(
    host=env.get("PGHOST", "127.0.0.1"),
    port=int(env.get("PGPORT", "5433")),
    user=env.get("PGUSER", "admin"),
    password=env.get("PGPASSWORD"),
    dbname=env.get("PGDATABASE", "segtasks"),
) as conn:
    rows = conn.execute("SELECT name, type, status, fraction_complete FROM sys.tasks ORDER BY created_at DESC").fetchall()
    for name, type_, status, fraction in rows:
        print(f"{name or '(unnamed)'} {type_} {status} {fraction:.0%}")
    if not rows:
        print("no tasks yet")
