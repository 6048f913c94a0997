#!/usr/bin/env bash
# Lighthouse (npm, pinned) with Debian's Chromium against the release build on 127.0.0.1:
# the home, category, product, cart and checkout pages, RUNS runs each, medians of the four
# category scores, LCP, FCP, TBT and CLS, and the JS + WASM bytes each page transferred.
# The cart and checkout are measured with one item in the cart (a shopper's cookie).
# Lighthouse's default is a mid-range phone on a throttled 4G link (simulated), which is
# what the scores mean. SKIP_BUILD=1 reuses target/release.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

LIGHTHOUSE_VERSION=12.8.2
RUNS="${RUNS:-3}"
PORT="${BENCH_PORT:-3230}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}/lighthouse"
TOOLS="$HOME/.cache/bazaar/tools/lighthouse"
mkdir -p "$OUT" "$TOOLS"

ensure_rust_tools
ensure_node_tools
ensure_chromium
ensure_postgres
ensure_redis
lh="$TOOLS/node_modules/.bin/lighthouse"
if ! "$lh" --version 2>/dev/null | grep -qx "$LIGHTHOUSE_VERSION"; then
  say "installing lighthouse $LIGHTHOUSE_VERSION (npm, once per machine)"
  (cd "$TOOLS" && npm install --no-audit --no-fund --loglevel=error "lighthouse@$LIGHTHOUSE_VERSION")
fi
release_build

psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_lighthouse WITH (FORCE)' -c 'CREATE DATABASE bazaar_lighthouse'
media="$(mktemp -d)"
export DATABASE_URL="$BAZAAR_DB_BASE/bazaar_lighthouse" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn
"$server" seed 2>/dev/null
"$server" serve > "$OUT/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$media"' EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 60); do curl -fs "$base/ready" >/dev/null 2>&1 && break; sleep 0.5; done

# A shopper with a mug in the cart, for the cart and checkout pages.
jar="$OUT/cookies.txt"
curl -fs -c "$jar" -o /dev/null -H 'content-type: application/json' \
  -d '{"sku":"CLASSIC-MUG-STANDARD","quantity":1}' "$base/api/cart/items"
cookie="$(sed 's/^#HttpOnly_//' "$jar" | awk '!/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep="; " }')"
[ -n "$cookie" ] || die "no session cookie from the cart"
headers="$OUT/headers.json"
printf '{"Cookie": "%s"}' "$cookie" > "$headers"

flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"
declare -a pages=("home|/" "category|/categories/apparel" "product|/products/classic-t-shirt" "cart|/cart" "checkout|/checkout")
for entry in "${pages[@]}"; do
  name="${entry%%|*}" path="${entry#*|}"
  extra=()
  case "$name" in cart | checkout) extra=(--extra-headers "$headers") ;; esac
  for r in $(seq 1 "$RUNS"); do
    say "lighthouse $name: run $r/$RUNS"
    CHROME_PATH=/usr/bin/chromium "$lh" "$base$path" --quiet --chrome-flags="$flags" \
      --only-categories=performance,accessibility,best-practices,seo \
      --output=json --output-path="$OUT/$name-$r.json" "${extra[@]}"
  done
done
python3 "$BAZAAR_ROOT/bench/lighthouse_report.py" "$OUT" "$RUNS" | tee "$OUT/report.md"
