"""SQLAlchemy 1.4 reflection of schema sys and pandas.read_sql_table, printed as JSON.

usage: /usr/bin/python3 sqlalchemy_reflect.py URL
The ava test (catalog-client-tools.test.ts) runs it against segtasks and against a real PostgreSQL 15 holding
the same tables, and compares; this script only observes.
"""
import json
import sys

import pandas
import sqlalchemy as sa

engine = sa.create_engine(sys.argv[1])
inspector = sa.inspect(engine)
names = sorted(inspector.get_table_names(schema="sys"))
out = {"schemas": inspector.get_schema_names(), "table_names": names, "reflected": {}}
for name in names:
    out["reflected"][name] = {
        "columns": [
            {"name": c["name"], "type": str(c["type"]), "nullable": c["nullable"], "default": c["default"]}
            for c in inspector.get_columns(name, schema="sys")
        ],
        "pk": inspector.get_pk_constraint(name, schema="sys"),
        "fks": inspector.get_foreign_keys(name, schema="sys"),
        "indexes": inspector.get_indexes(name, schema="sys"),
        "unique": inspector.get_unique_constraints(name, schema="sys"),
        "comment": inspector.get_table_comment(name, schema="sys")["text"],
    }
# Table(..., autoload_with=engine) reflects through the same calls, foreign keys followed to their tables.
metadata = sa.MetaData()
subtasks = sa.Table("subtasks", metadata, schema="sys", autoload_with=engine)
out["autoload"] = {
    "columns": len(subtasks.columns),
    "pk": [c.name for c in subtasks.primary_key.columns],
    "fk_targets": sorted(str(fk.column) for fk in subtasks.foreign_keys),
    "tables_loaded": sorted(metadata.tables),
}
tasks = pandas.read_sql_table("tasks", engine, schema="sys")
nodes = pandas.read_sql_table("nodes", engine, schema="sys", columns=["name", "status"])
out["pandas"] = {
    "tasks_shape": list(tasks.shape),
    "tasks_columns": list(tasks.columns),
    "tasks_names": sorted(str(v) for v in tasks["name"]),
    "tasks_dtypes": {k: str(v) for k, v in tasks.dtypes.items()},
    "nodes": sorted(nodes.itertuples(index=False, name=None)),
}
print(json.dumps(out, default=str))
