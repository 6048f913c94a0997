#!/usr/bin/env bash
# Benchmarks the release build from 127.0.0.1 with wrk: a static file (the baseline),
# the category page, the product page and the catalog API. Each scenario runs ROUNDS
# times for DURATION at CONNECTIONS connections; the report gives the medians.
# CATALOG_CACHE_TTL_SECS=0 measures with the catalog read cache off (every request hits Postgres).
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"
PORT="${BENCH_PORT:-3200}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}"
mkdir -p "$OUT"

command -v wrk >/dev/null || apt_install wrk
command -v brotli >/dev/null || apt_install brotli
ensure_rust_tools
ensure_node_tools
ensure_postgres
ensure_redis

release_build

psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_bench WITH (FORCE)' -c 'CREATE DATABASE bazaar_bench'
media="$(mktemp -d)"
export DATABASE_URL="$BAZAAR_DB_BASE/bazaar_bench" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn
"$server" seed 2>/dev/null
# Cold start: from exec to the first 200 from /ready (migrations already applied by seed),
# polled every 2 ms, so the figure is within a few ms of the truth.
started=$(date +%s%N)
"$server" serve > "$OUT/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 5000); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.002; done
echo "$(( ($(date +%s%N) - started) / 1000000 ))" > "$OUT/cold-start-ms.txt"

css="$(find target/site/pkg -maxdepth 1 -name "bazaar.*.css" -printf "%f\n" | head -n1)"
declare -a names=("static file (baseline)" "category page HTML" "product page HTML" "catalog API")
declare -a paths=("/pkg/$css" "/categories/apparel" "/products/classic-t-shirt" "/api/catalog/products")

hz=$(getconf CLK_TCK)
raw="$OUT/raw.txt"
: > "$raw"
for i in "${!paths[@]}"; do
  url="http://127.0.0.1:$PORT${paths[$i]}"
  curl -fs -o /dev/null "$url" || die "$url does not answer 200"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "$url" >/dev/null   # warm-up
  for r in $(seq 1 "$ROUNDS"); do
    say "${names[$i]}: round $r/$ROUNDS"
    t0=$(ticks "$pid")
    { echo "### ${names[$i]}|${paths[$i]}"; wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url"; } >> "$raw"
    # The server's own CPU per request holds up better than req/s when something else runs.
    echo "server_cpu_ms $(( ($(ticks "$pid") - t0) * 1000 / hz ))" >> "$raw"
  done
done
# Stateful scenarios (a cart per shopper, a fresh idempotency key per order) need a
# scripted client: bench/loadgen, closed loop, same connection count, same machine.
say "building the load generator"
cargo build --release -p loadgen
loadgen="$CARGO_TARGET_DIR/release/loadgen"
psql "$DATABASE_URL" -qc "UPDATE variants SET stock = 100000000 WHERE sku = 'CLASSIC-MUG-STANDARD'"
lg="$OUT/loadgen.txt"
: > "$lg"
secs="${DURATION%s}"
for scenario in health add-to-cart checkout; do
  "$loadgen" "$scenario" --url "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" --duration 3 >/dev/null  # warm-up
  for r in $(seq 1 "$ROUNDS"); do
    say "loadgen $scenario: round $r/$ROUNDS"
    echo "$scenario $("$loadgen" "$scenario" --url "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" --duration "$secs")" >> "$lg"
  done
done

rss_kib="$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"

sizes="$OUT/sizes.txt"
: > "$sizes"
for f in target/site/pkg/bazaar.*.wasm target/site/pkg/bazaar.*.js target/site/pkg/bazaar.*.css; do
  echo "$(basename "$f") $(stat -c %s "$f") $(brotli -c -q 11 "$f" | wc -c)" >> "$sizes"
done

python3 "$BAZAAR_ROOT/bench/report.py" "$raw" "$sizes" "$rss_kib" "$DURATION" "$CONNECTIONS" "$ROUNDS" \
  "${CATALOG_CACHE_TTL_SECS:-5}" "$lg" | tee "$OUT/report.md"
echo "- Cold start to ready: $(cat "$OUT/cold-start-ms.txt") ms." | tee -a "$OUT/report.md"
