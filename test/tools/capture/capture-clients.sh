#!/bin/bash
# Captures the catalog traffic of real clients against a real PostgreSQL 15 holding the sys tables
# (test/oracle/mirror.ts), through the logging proxy, into test/fixtures/captures/<client>.json.
# usage (after npx tsc): bash test/tools/capture/capture-clients.sh [client...]
# needs: apt pgcli odbc-postgresql unixodbc python3-pyodbc python3-sqlalchemy python3-pandas libdbd-pg-perl,
# pgjdbc (libpostgresql-jdbc-java); drizzle-kit is a devDependency.
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/test/tools/capture"
OUT="$ROOT/test/fixtures/captures"
mkdir -p "$OUT"
LOG=$(mktemp)
node "$ROOT/dist/test/tools/mirror-shell.js" > "$LOG" 2>&1 &
MIRROR=$!
trap 'kill $MIRROR 2>/dev/null; wait $MIRROR 2>/dev/null' EXIT
for _ in $(seq 60); do grep -q '^postgresql:' "$LOG" && break; sleep 1; done
PGPORT_REAL=$(sed -n 's/^postgresql: .*port=\([0-9]*\).*/\1/p' "$LOG")
[ -n "$PGPORT_REAL" ] || { cat "$LOG"; exit 1; }
PROXY_PORT=$((20000 + RANDOM % 20000))
DSN="host=127.0.0.1 port=$PROXY_PORT user=admin dbname=segtasks"

# capture NAME COMMAND...: runs COMMAND with a proxy on $PROXY_PORT writing $OUT/NAME.json
capture() {
  local name=$1
  shift
  rm -f "$OUT/$name.json"
  node "$ROOT/dist/test/tools/capture-proxy.js" "$PROXY_PORT" 127.0.0.1 "$PGPORT_REAL" "$OUT/$name.json" > /dev/null &
  local proxy=$!
  sleep 0.5
  echo "== $name"
  "$@" 2>&1 | tail -n 40
  kill $proxy
  wait $proxy 2>/dev/null
}

# typing into an interactive program in tmux: tmux_keys SESSION KEYS... (a list of send-keys arguments)
tmux_session() {
  local cmd=$1
  shift
  tmux kill-session -t capture 2>/dev/null
  tmux new-session -d -s capture -x 200 -y 50 "$cmd"
  sleep 3
  for k in "$@"; do
    tmux send-keys -t capture "$k"
    sleep 1.5
  done
  tmux capture-pane -p -t capture | tail -n 15
  tmux kill-session -t capture 2>/dev/null
}

psql_describe() {
  for c in '\d' '\dt sys.*' '\d sys.tasks' '\d+ sys.segments' '\d sys.subtasks' '\di sys.*' '\dn' '\dn+' '\du' \
    '\l' '\dv' '\ds' '\df' '\dT' '\dx' '\db' '\dp sys.tasks' '\dd sys.*' '\dC' '\do' '\dD' '\dconfig'; do
    psql "$DSN" -X -c "$c" > /dev/null
  done
}
psql_completion() {
  tmux_session "psql '$DSN' -X" 'SELECT * FROM sys.' Tab Tab C-u 'SELECT * FROM sys.tas' Tab ' WHERE ' Tab Tab C-u \
    '\d sys.' Tab Tab C-u 'SELECT * FROM pg_catalog.pg_cl' Tab C-u '\dt ' Tab Tab C-u 'SET ' Tab Tab C-u '\q' Enter
}
pgcli_run() {
  tmux_session "pgcli --less-chatty 'postgresql://admin@127.0.0.1:$PROXY_PORT/segtasks'" \
    'SELECT * FROM sys.' Space BSpace C-u 'SELECT  FROM sys.tasks' C-a Right Right Right Right Right Right Right Space \
    C-u '\d sys.tasks' Enter q C-d
}
odbc_isql() {
  local cs="DRIVER={PostgreSQL Unicode};SERVER=127.0.0.1;PORT=$PROXY_PORT;DATABASE=segtasks;UID=admin;PWD=x$1"
  printf 'SELECT count(*) FROM sys.tasks\nSELECT name, status FROM sys.nodes WHERE name IN (%s)\nhelp\nhelp sys.tasks\n' \
    "'c1_n1'" | isql -v -k "$cs" -b
}
drizzle_pull() {
  local dir
  dir=$(mktemp -d)
  DRIZZLE_PORT=$PROXY_PORT DRIZZLE_OUT=$dir node "$ROOT/node_modules/drizzle-kit/bin.cjs" pull --config "$HERE/drizzle.config.js"
  rm -rf "$dir"
}

want() { [ -z "$SELECTED" ] || [[ " $SELECTED " == *" $1 "* ]]; }
SELECTED="${*:-}"
want psql && capture psql-describe psql_describe
want psql-completion && capture psql-completion psql_completion
want pgcli && capture pgcli pgcli_run
want odbc && capture odbc-isql odbc_isql ''
want odbc && capture odbc-isql-declare-fetch odbc_isql ';UseDeclareFetch=1'
want odbc && capture pyodbc /usr/bin/python3 "$HERE/clients.py" odbc "$PROXY_PORT"
want odbc && capture pyodbc-declare-fetch /usr/bin/python3 "$HERE/clients.py" odbc-declare "$PROXY_PORT"
want sqlalchemy && capture sqlalchemy /usr/bin/python3 "$HERE/clients.py" sqlalchemy "$PROXY_PORT"
want dbd-pg && capture dbd-pg perl "$HERE/clients.pl" "$PROXY_PORT"
want pg_dump && capture pg_dump pg_dump "$DSN" --schema-only -n sys -f /dev/null
want pgjdbc && capture pgjdbc java -cp /usr/share/java/postgresql.jar "$HERE/JdbcCapture.java" "$PROXY_PORT"
want drizzle && capture drizzle-kit drizzle_pull
