#!/usr/bin/env bash
# Side by side with a peer, in one run: Medusa 2.21 (installed from npm by
# ../shared/peers/setup-medusa.sh, 1,000 products) and Bazaar (the release build, `seed
# --products 1000`), the same scenarios back to back on the same machine with the same wrk
# settings: product list (a random page of 20), product detail (a random product) and add to
# cart. Bazaar runs twice, with the catalog cache on (5 s) and off. For each: req/s, p99 and
# the server's CPU-ms per request (its utime + stime over the run / requests answered), then
# the ratios, into bench/results/peer-report.md. Medusa is stopped before Bazaar starts, so
# neither competes with the other. SKIP_BUILD=1 reuses target/release; SKIP_PEER=1 reuses
# the last Medusa figures (bench/results/peer-medusa.txt).
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

PEERS="${PEERS_DIR:-$BAZAAR_ROOT/../shared/peers}"
DUR="${DURATION:-20}"
CONNS="${CONNECTIONS:-32}"
PORT="${BENCH_PORT:-3240}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}"
mkdir -p "$OUT"
command -v wrk >/dev/null || apt_install wrk
ensure_rust_tools
ensure_postgres
ensure_redis
release_build
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p loadgen

if [ -z "${SKIP_PEER:-}" ]; then
  [ -x "$PEERS/setup-medusa.sh" ] || [ -f "$PEERS/setup-medusa.sh" ] || die "no peer scripts at $PEERS"
  say "Medusa: install, seed and start (../shared/peers/setup-medusa.sh up)"
  bash "$PEERS/setup-medusa.sh" up
  say "Medusa: list, detail, add"
  SCENARIOS="list detail add" bash "$PEERS/bench-medusa.sh" "$DUR" "$CONNS" 2 | tee "$OUT/peer-medusa.txt"
  bash "$PEERS/setup-medusa.sh" stop
fi

psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_peer WITH (FORCE)' -c 'CREATE DATABASE bazaar_peer'
media="$(mktemp -d)"
export DATABASE_URL="$BAZAAR_DB_BASE/bazaar_peer" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn
loadgen="$CARGO_TARGET_DIR/release/loadgen"
"$server" seed --products 1000 2>/dev/null
psql "$DATABASE_URL" -Atc "SELECT slug FROM products WHERE active" > "$OUT/peer-slugs.txt"
psql "$DATABASE_URL" -qc "UPDATE variants SET stock = 100000000"

cat > "$OUT/peer-bazaar.lua" <<EOF
local slugs = {}
for l in io.lines("$OUT/peer-slugs.txt") do slugs[#slugs + 1] = l end
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args)
  SCENARIO = args[1]
  math.randomseed(os.time() * 1000 + tid * 7919)
end
function request()
  if SCENARIO == "list" then
    return wrk.format("GET", "/api/catalog/products?per_page=20&page=" .. math.random(1, 50))
  end
  return wrk.format("GET", "/api/catalog/products/" .. slugs[math.random(1, #slugs)])
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("WRK rps=%.1f p50_ms=%.2f p99_ms=%.2f reqs=%d non2xx=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status))
end
EOF

hz=$(getconf CLK_TCK)
results="$OUT/peer-bazaar.txt"
: > "$results"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$media"' EXIT
for ttl in 5 0; do
  CATALOG_CACHE_TTL_SECS=$ttl "$server" serve > "$OUT/peer-server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  label="bazaar-cache-$([ "$ttl" = 0 ] && echo off || echo on)"
  for sc in list detail add; do
    say "$label $sc"
    if [ "$sc" = add ]; then
      "$loadgen" add-to-cart --url "http://127.0.0.1:$PORT" --connections "$CONNS" --duration 3 >/dev/null
      t0=$(ticks "$pid")
      line="$("$loadgen" add-to-cart --url "http://127.0.0.1:$PORT" --connections "$CONNS" --duration "$DUR")"
      t1=$(ticks "$pid")
      reqs=$(sed -n 's/.*total=\([0-9]*\).*/\1/p' <<<"$line")
    else
      wrk -t2 -c"$CONNS" -d5s -s "$OUT/peer-bazaar.lua" "http://127.0.0.1:$PORT" -- "$sc" >/dev/null
      t0=$(ticks "$pid")
      line="$(wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$OUT/peer-bazaar.lua" "http://127.0.0.1:$PORT" -- "$sc" | grep '^WRK ')"
      t1=$(ticks "$pid")
      reqs=$(sed -n 's/.*reqs=\([0-9]*\).*/\1/p' <<<"$line")
    fi
    echo "$label $sc ${line#WRK } cpu_ms_per_req=$(echo "scale=4; ($t1 - $t0) * 1000 / $hz / ${reqs:-1}" | bc)" | tee -a "$results"
  done
  echo "$label rss_kib=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")" >> "$results"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
done
python3 "$BAZAAR_ROOT/bench/peer_report.py" "$OUT/peer-medusa.txt" "$results" "$DUR" "$CONNS" | tee "$OUT/peer-report.md"
