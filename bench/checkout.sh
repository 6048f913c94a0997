#!/usr/bin/env bash
# Where a checkout's time goes, on the release build from 127.0.0.1:
#   1. bench/loadgen's checkout scenario (a cart per shopper, a fresh idempotency key per
#      order) against a private Postgres cluster started here with pg_stat_statements and
#      WAL timing on, so the shared instance's settings are left alone;
#   2. per order: each SQL statement's calls and execution time, the commits, and the WAL
#      flushes they waited for (bench/results/checkout.md).
# The same scenario on the machine's own Postgres is in bench/run.sh (no instrumentation).
# SKIP_BUILD=1 reuses target/release.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-3}"
PORT="${BENCH_PORT:-3230}"
PGPORT_BENCH="${PGPORT_BENCH:-5499}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}"
mkdir -p "$OUT"

ensure_rust_tools
ensure_postgres
ensure_redis
release_build
cargo build --release -p loadgen
loadgen="$CARGO_TARGET_DIR/release/loadgen"

# A throwaway cluster owned by the postgres account (initdb refuses root), trust auth on
# 127.0.0.1 only, default settings but for the statistics this needs.
pgbin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin | sort -V | tail -n1)"
data="$(mktemp -d)"
chown postgres "$data"
media="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$data" "$media"
}
trap cleanup EXIT
runuser -u postgres -- "$pgbin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" -l "$data/log" -w start -o \
  "-c port=$PGPORT_BENCH -c listen_addresses=127.0.0.1 -c unix_socket_directories=$data \
   -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all \
   -c track_io_timing=on -c track_wal_io_timing=on -c max_connections=200" >/dev/null
base="postgres://postgres@127.0.0.1:$PGPORT_BENCH"
psql "$base/postgres" -qc 'CREATE DATABASE bazaar_bench'
export DATABASE_URL="$base/bazaar_bench" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn
"$server" seed >/dev/null 2>&1
psql "$DATABASE_URL" -qc 'CREATE EXTENSION pg_stat_statements' \
  -c "UPDATE variants SET stock = 100000000 WHERE sku = 'CLASSIC-MUG-STANDARD'"
"$server" serve > "$OUT/checkout-server.log" 2>&1 &
pid=$!
for _ in $(seq 1 500); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.02; done

url="http://127.0.0.1:$PORT"
"$loadgen" checkout --url "$url" --connections "$CONNECTIONS" --duration 3 >/dev/null  # warm-up
lg="$OUT/checkout-loadgen.txt"
: > "$lg"
for r in $(seq 1 "$ROUNDS"); do
  # Statistics cover the last round only; the earlier ones give the median throughput.
  psql "$DATABASE_URL" -qAt -c 'SELECT pg_stat_statements_reset()' -c "SELECT pg_stat_reset_shared('wal')" \
    -c 'SELECT pg_stat_reset()' >/dev/null
  before="$(psql "$DATABASE_URL" -qAt -c 'SELECT count(*) FROM orders')"
  say "checkout: round $r/$ROUNDS"
  "$loadgen" checkout --url "$url" --connections "$CONNECTIONS" --duration "$DURATION" >> "$lg"
done
after="$(psql "$DATABASE_URL" -qAt -c 'SELECT count(*) FROM orders')"
orders=$((after - before))

stmts="$OUT/checkout-statements.tsv"
psql "$DATABASE_URL" -qAt -F $'\t' -c "
  SELECT s.calls, round(s.total_exec_time::numeric, 3), s.rows,
         regexp_replace(s.query, '\s+', ' ', 'g')
    FROM pg_stat_statements s
   WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND s.calls > 0
   ORDER BY s.total_exec_time DESC" > "$stmts"
wal="$(psql "$DATABASE_URL" -qAt -F $'\t' -c "
  SELECT w.wal_records, w.wal_bytes, w.wal_write, w.wal_sync,
         round(w.wal_write_time::numeric, 3), round(w.wal_sync_time::numeric, 3),
         d.xact_commit
    FROM pg_stat_wal w, pg_stat_database d WHERE d.datname = current_database()")"

python3 "$BAZAAR_ROOT/bench/checkout_report.py" "$lg" "$stmts" "$wal" "$orders" "$DURATION" \
  "$CONNECTIONS" | tee "$OUT/checkout.md"
