# Shared by bench/run and bench/scaling (sourced, not run): the release binary, a bootstrapped
# database for the run (SQLite, or a fresh PostgreSQL schema with BENCH_DB=postgres) with the
# static token `bench-admin-token`, wrk scripts, starting and stopping Rectus, one wrk run.
# RECTUS_BIN runs a binary built elsewhere (e.g. to try the harness with a debug build).
./scripts/setup --bench
if [ -z "${RECTUS_BIN:-}" ]; then cargo build --release --quiet; fi
BIN="${RECTUS_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/rectus}"

WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# wrk_script NAME [BODY]: $WORK/NAME.lua, requests as the admin; with BODY, JSON POSTs of it.
wrk_script() {
  {
    if [ -n "${2:-}" ]; then
      printf '%s\n' 'wrk.method = "POST"' "wrk.body = '$2'" 'wrk.headers["Content-Type"] = "application/json"'
    fi
    echo 'wrk.headers["Authorization"] = "Bearer bench-admin-token"'
  } > "$WORK/$1.lua"
}
wrk_script post '{"title":"Hello","body":"Benchmark article"}'
# The GraphQL twin of GET /items/articles?limit=10: the same ten items, every field.
wrk_script graphql '{"query":"{ articles(limit: 10) { id status title body } }"}'
wrk_script auth

# A pool opened at start, as a server's is after its first seconds under load: runs measure the
# steady state, not connection setup.
export KEY=bench SECRET=bench HOST=127.0.0.1 PORT=18555 LOG_LEVEL=warn DB_POOL__MIN=10
BENCH_DB="${BENCH_DB:-sqlite}"
if [ "$BENCH_DB" = postgres ]; then
  SCHEMA="bench_$$"
  export DB_CLIENT=pg DB_HOST=127.0.0.1 DB_PORT=5432 DB_DATABASE=test DB_USER=postgres DB_SEARCH_PATH="$SCHEMA"
  psql -q -h 127.0.0.1 -U postgres test -c "CREATE SCHEMA $SCHEMA"
  trap 'kill $(jobs -p) 2>/dev/null || true; PGOPTIONS="-c client_min_messages=warning" psql -q -h 127.0.0.1 -U postgres test -c "DROP SCHEMA $SCHEMA CASCADE"; rm -rf "$WORK"' EXIT
  db_exec() { PGOPTIONS="-c search_path=$SCHEMA" psql -q -h 127.0.0.1 -U postgres test -c "$1" >/dev/null; }
  SERIAL="serial PRIMARY KEY"
  SERIES="(SELECT generate_series(1, %s) AS i)"
else
  export DB_CLIENT=sqlite3 DB_FILENAME="$WORK/bench.db"
  db_exec() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()" "$WORK/bench.db" "$1"; }
  SERIAL="integer PRIMARY KEY AUTOINCREMENT"
  SERIES="(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %s) SELECT i FROM n)"
fi
(cd "$WORK" && "$BIN" bootstrap >/dev/null 2>&1)
# shellcheck disable=SC2059
series() { printf "$SERIES" "$1"; }
db_exec "UPDATE directus_users SET token='bench-admin-token';"

# The rows the request scenarios read: 100 articles, and 100k events for the filtered list.
seed_rows() {
  db_exec "CREATE TABLE articles (id $SERIAL, status varchar(20) DEFAULT 'draft', title varchar(255), body text);"
  db_exec "INSERT INTO articles (title, body) SELECT 'Article ' || i, 'Body ' || i FROM $(series 100) AS s;"
  db_exec "CREATE TABLE events (id $SERIAL, status varchar(20), views integer, title varchar(255));"
  db_exec "INSERT INTO events (status, views, title) SELECT CASE WHEN i % 3 = 0 THEN 'published' ELSE 'draft' END, i % 1000, 'Event ' || i FROM $(series 100000) AS s;"
  # Fresh tables have no planner statistics; a production table would.
  db_exec "ANALYZE events;"
}

start_server() { # $1 = extensions dir
  local t0 t1
  t0=$(date +%s%N)
  (cd "$WORK" && EXTENSIONS_PATH="$1" "$BIN" start >"$WORK/server.log" 2>&1 &)
  until curl -sf "http://127.0.0.1:$PORT/server/ping" >/dev/null 2>&1; do sleep 0.01; done
  t1=$(date +%s%N)
  STARTUP_MS=$(( (t1 - t0) / 1000000 ))
  PID=$(pgrep -f "$BIN start" | head -n1)
}
stop_server() { kill "$PID"; while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }

# CPU time the hypervisor gave to other guests (steal), in ticks of 1/100 s summed over the cores:
# on a shared virtual machine it varies by the minute and takes latency and throughput with it.
steal_ticks() { awk '/^cpu / {print $9}' /proc/stat; }
steal_pct() { # $1 $2 = steal_ticks before and after a run of DURATION seconds
  awk -v a="$1" -v b="$2" -v d="$DURATION" -v n="$(nproc)" 'BEGIN {printf "%.0f", (b - a) / (d * n)}'
}

run() { # $1 = label, rest = wrk args; CONNECTIONS connections for DURATION seconds
  local label="$1"; shift
  local out s0
  s0=$(steal_ticks)
  out=$(wrk -t"$(( CONNECTIONS < 2 ? CONNECTIONS : 2 ))" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" 2>&1)
  local rps p50 p99 errors steal
  steal=$(steal_pct "$s0" "$(steal_ticks)")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {s=s $0 "; "} END {print (s=="" ? "0" : s)}' <<<"$out")
  printf "%-42s %10s %9s %9s %7s %7s\n" "$label" "$rps" "$p50" "$p99" "$steal%" "$errors"
}
