#!/usr/bin/env bash
# Flat cost as the catalog grows, on the release build from 127.0.0.1 with wrk:
#   1. `server seed --products $PRODUCTS` into a fresh database, timed;
#   2. the listing scenarios (catalog list, category page and API, search, typo search, and a
#      category filtered by size, price, stock and material) with the catalog cache off, first
#      on the 240-product demo store, then on the large one, in the same run: the 240-product
#      figures are the baseline. FACET_CACHE_TTL_SECS is passed through (default 60; 0 makes
#      every request count its facets);
#   3. the server's peak RSS under that load, and EXPLAIN ANALYZE of each listing query
#      (bench/results/explain.txt).
# SKIP_BUILD=1 reuses target/release (bench/run.sh builds the same).
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

PRODUCTS="${PRODUCTS:-100000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUNDS="${ROUNDS:-3}"
PORT="${BENCH_PORT:-3220}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}"
mkdir -p "$OUT"

command -v wrk >/dev/null || apt_install wrk
ensure_rust_tools
ensure_postgres
ensure_redis
release_build

# Every listing answers with its facets; the filtered ones also page through the filters.
declare -a names=("catalog list API" "category page HTML" "category API, by price" "search API" "typo search API"
  "category API, filtered" "category page, filtered")
declare -a paths=("/api/catalog/products" "/categories/outdoor" "/api/catalog/products?category=outdoor&sort=price_asc"
  "/api/catalog/products?q=alpine+tent" "/api/catalog/products?q=alpine+tnet"
  "/api/catalog/products?category=apparel&option.Size=M&price_max=5000&in_stock=true"
  "/categories/apparel?option.Size=M&attr.material=Organic+cotton")

media="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$media"' EXIT
raw="$OUT/large-raw.txt"
: > "$raw"
seed_log="$OUT/large-seed.txt"
: > "$seed_log"

# Seeds database $1 with `seed $2...`, then loads every scenario against it.
measure() {
  local db="$1" label="$2"
  shift 2
  psql "$BAZAAR_DB_BASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  export DATABASE_URL="$BAZAAR_DB_BASE/$db" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn \
    CATALOG_CACHE_TTL_SECS=0 FACET_CACHE_TTL_SECS="${FACET_CACHE_TTL_SECS:-60}"
  "$server" migrate >/dev/null 2>&1
  say "$label: seeding ($*)"
  local start end
  start=$(date +%s.%N)
  "$server" seed "$@" 2>/dev/null
  end=$(date +%s.%N)
  echo "$label $(echo "$end - $start" | bc)" >> "$seed_log"
  psql "$DATABASE_URL" -qc 'VACUUM ANALYZE'
  "$server" serve > "$OUT/large-server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  for i in "${!paths[@]}"; do
    local url="http://127.0.0.1:$PORT${paths[$i]}"
    curl -fs -o /dev/null "$url" || die "$url does not answer 200"
    wrk -t2 -c"$CONNECTIONS" -d3s "$url" >/dev/null # warm-up
    for r in $(seq 1 "$ROUNDS"); do
      say "$label ${names[$i]}: round $r/$ROUNDS"
      { echo "### $label|${names[$i]}|${paths[$i]}"; wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$url"; } >> "$raw"
    done
  done
  echo "$label rss_kib $(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")" >> "$seed_log"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
}

measure bazaar_bench_small "240 products"
measure bazaar_bench_large "$PRODUCTS products" --products "$PRODUCTS"

# The plans, on the large catalog: the statements the server runs, with this run's values.
python3 "$BAZAAR_ROOT/bench/explain.py" "$DATABASE_URL" > "$OUT/explain.txt"
python3 "$BAZAAR_ROOT/bench/large_report.py" "$raw" "$seed_log" "$DURATION" "$CONNECTIONS" "$ROUNDS" \
  | tee "$OUT/large-report.md"
