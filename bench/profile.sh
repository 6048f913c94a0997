#!/usr/bin/env bash
# Where the server's CPU goes on a shopper page: the release build serves PROFILE_PATH
# (the product page by default) under wrk from 127.0.0.1 while `perf record` samples the
# server process at 999 Hz; bench/profile_report.py groups the samples by component
# (kernel networking, HTML rendering, the async runtime, HTTP, sessions, allocation...)
# into bench/results/profile.md, with the raw top symbols in bench/results/profile.txt.
# SKIP_BUILD=1 reuses target/release.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

PROFILE_PATH="${PROFILE_PATH:-/products/classic-t-shirt}"
DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-32}"
PORT="${BENCH_PORT:-3250}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}"
mkdir -p "$OUT"

command -v wrk >/dev/null || apt_install wrk
command -v perf >/dev/null || apt_install linux-perf
ensure_rust_tools
ensure_postgres
ensure_redis
release_build

psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_profile WITH (FORCE)' -c 'CREATE DATABASE bazaar_profile'
media="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$media"' EXIT
export DATABASE_URL="$BAZAAR_DB_BASE/bazaar_profile" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn
"$server" seed >/dev/null 2>&1
"$server" serve > "$OUT/profile-server.log" 2>&1 &
pid=$!
for _ in $(seq 1 500); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.02; done
url="http://127.0.0.1:$PORT$PROFILE_PATH"
curl -fs -o /dev/null "$url" || die "$url does not answer 200"
wrk -t2 -c"$CONNECTIONS" -d3s "$url" >/dev/null  # warm-up

data="$OUT/perf.data"
perf record -F 999 -p "$pid" -o "$data" -- sleep "$DURATION" 2>/dev/null &
rec=$!
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" > "$OUT/profile-wrk.txt"
wait "$rec" || true
perf report -i "$data" --stdio --no-children -F overhead,dso,sym --percent-limit 0.3 2>/dev/null \
  | grep -v '^#' | sed -e 's/ *$//' -e '/^$/d' > "$OUT/profile.txt"
# Every sample, not just the top, so the groups add up to 100 %.
perf report -i "$data" --stdio --no-children -F overhead,dso,sym 2>/dev/null | grep -v '^#' | sed '/^$/d' \
  | python3 "$BAZAAR_ROOT/bench/profile_report.py" "$PROFILE_PATH" "$OUT/profile-wrk.txt" | tee "$OUT/profile.md"
rm -f "$data" "$data.old"
