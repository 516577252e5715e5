# Catalog calls of Python clients, for capture through the logging proxy (capture-clients.sh).
# usage: /usr/bin/python3 clients.py odbc|odbc-declare|sqlalchemy PORT
import sys

which, port = sys.argv[1], sys.argv[2]
if which.startswith('odbc'):
    import pyodbc
    extra = ';UseDeclareFetch=1;Fetch=2' if which == 'odbc-declare' else ''
    c = pyodbc.connect(
        'DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=%s;DATABASE=segtasks;UID=admin;PWD=x%s' % (port, extra))
    cur = c.cursor()
    for call in (
        lambda: cur.tables(schema='sys'),
        lambda: cur.tables(),
        lambda: cur.columns(table='tasks', schema='sys'),
        lambda: cur.primaryKeys('segments', schema='sys'),
        lambda: cur.primaryKeys('user_roles', schema='sys'),
        lambda: cur.foreignKeys(table='subtasks', schema='sys'),
        lambda: cur.foreignKeys(foreignTable='tasks', foreignSchema='sys'),
        lambda: cur.statistics('tasks', schema='sys'),
        lambda: cur.getTypeInfo(),
        lambda: cur.execute('SELECT id, name, status FROM sys.tasks ORDER BY created_at'),
        lambda: cur.execute('SELECT name FROM sys.nodes WHERE name = ?', 'c1_n1'),
    ):
        try:
            call()
            print(len(cur.fetchall()))
        except Exception as e:  # the capture wants the traffic, not the answers
            print('error', e)
elif which == 'sqlalchemy':
    import pandas
    import sqlalchemy as sa
    e = sa.create_engine('postgresql+psycopg2://admin@127.0.0.1:%s/segtasks' % port)
    i = sa.inspect(e)
    print(i.get_schema_names())
    print(i.get_table_names(schema='sys'))
    print(i.get_view_names(schema='sys'))
    for t in ('tasks', 'subtasks', 'segments'):
        print(i.get_columns(t, schema='sys'))
        print(i.get_pk_constraint(t, schema='sys'))
        print(i.get_foreign_keys(t, schema='sys'))
        print(i.get_indexes(t, schema='sys'))
        print(i.get_unique_constraints(t, schema='sys'))
        print(i.get_check_constraints(t, schema='sys'))
        print(i.get_table_comment(t, schema='sys'))
    md = sa.MetaData()
    sa.Table('subtasks', md, schema='sys', autoload_with=e)
    print(pandas.read_sql_table('tasks', e, schema='sys').shape)
    print(pandas.read_sql_table('nodes', e, schema='sys', columns=['name', 'status']).shape)
