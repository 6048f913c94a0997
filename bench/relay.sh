#!/usr/bin/env bash
# The event relay on the release build against a real nats-server (JetStream), from
# 127.0.0.1:
#   1. lag under load: loadgen's checkout scenario for DURATION at CONNECTIONS, every order
#      writing order_created; the relay's events/s and, per event, the time from the
#      writing transaction to the relay's mark (made after the broker's acknowledgement):
#      median and p99, from the outbox itself;
#   2. capacity: a backlog of BURST events written at once, and how fast the relay drains it;
#   3. an outage: nats-server killed (SIGKILL) for OUTAGE seconds under checkout load, then
#      started again on its store; the time until no event from before the restart is left,
#      and whether the stream holds exactly the outbox's events.
# SKIP_BUILD=1 reuses target/release (bench/run.sh builds the same).
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-32}"
BURST="${BURST:-20000}"
OUTAGE="${OUTAGE:-10}"
PORT="${BENCH_PORT:-3210}"
NATS_PORT="${BENCH_NATS_PORT:-4333}"
NATS_MONITOR="${BENCH_NATS_MONITOR:-8333}"
OUT="${BENCH_OUT:-$BAZAAR_ROOT/bench/results}"
mkdir -p "$OUT"

ensure_rust_tools
ensure_node_tools
ensure_postgres
ensure_redis
ensure_nats

release_build
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p loadgen
loadgen="$CARGO_TARGET_DIR/release/loadgen"

store="$(mktemp -d)"
media="$(mktemp -d)"
nats_pid=""
start_nats() {
  "$NATS_SERVER" -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR" -js -sd "$store" > "$OUT/nats.log" 2>&1 &
  nats_pid=$!
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$NATS_MONITOR/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  die "nats-server did not start"
}
start_nats

psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_bench_relay WITH (FORCE)' -c 'CREATE DATABASE bazaar_bench_relay'
db="$BAZAAR_DB_BASE/bazaar_bench_relay"
export DATABASE_URL="$db" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
  MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn EVENT_BUS_URL="nats://127.0.0.1:$NATS_PORT"
"$server" seed 2>/dev/null
"$server" serve > "$OUT/relay-server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; kill $nats_pid 2>/dev/null || true; rm -rf "$store" "$media"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1 && break; sleep 0.5; done
psql "$db" -qc "UPDATE variants SET stock = 100000000 WHERE sku = 'CLASSIC-MUG-STANDARD'"

sql() { psql "$db" -tAc "$1"; }
backlog() { sql "SELECT count(*) FROM outbox WHERE relayed_at IS NULL"; }
wait_drained() { # wait_drained SECONDS: until nothing is left to relay
  local until=$(( $(date +%s) + $1 ))
  while [ "$(backlog)" != 0 ]; do [ "$(date +%s)" -lt "$until" ] || die "the relay did not drain"; sleep 0.05; done
}
stream_messages() {
  curl -fs "http://127.0.0.1:$NATS_MONITOR/jsz?accounts=true&streams=true" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); s=[x for a in d.get("account_details",[]) for x in a.get("stream_detail",[]) if x["name"]=="BAZAAR_EVENTS"]; print(s[0]["state"]["messages"] if s else 0)'
}
report="$OUT/relay.md"
: > "$report"
line() { echo "$*" | tee -a "$report"; }

say "1. lag under checkout load: $CONNECTIONS connections for ${DURATION}s"
"$loadgen" checkout --url "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" --duration 3 >/dev/null  # warm-up
wait_drained 30
from="$(sql "SELECT coalesce(max(id), 0) FROM outbox")"
orders="$("$loadgen" checkout --url "http://127.0.0.1:$PORT" --connections "$CONNECTIONS" --duration "$DURATION")"
wait_drained 60
read -r n p50 p99 span < <(sql "SELECT count(*),
    round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM relayed_at - created_at)) * 1000)::numeric, 2),
    round((percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM relayed_at - created_at)) * 1000)::numeric, 2),
    round(extract(epoch FROM max(relayed_at) - min(created_at))::numeric, 2)
  FROM outbox WHERE id > $from" | tr '|' ' ')
line "| lag under load | $n events in ${span} s ($(python3 -c "print(round($n / $span))") events/s) | commit → broker ack p50 ${p50} ms, p99 ${p99} ms | loadgen checkout: $orders |"

say "2. capacity: a backlog of $BURST events at once"
sql "INSERT INTO outbox (topic, payload) SELECT 'product_updated', jsonb_build_object('slug', 'bench-' || (g % 100), 'change', 'updated') FROM generate_series(1, $BURST) g" >/dev/null
t0="$(date +%s.%N)"
wait_drained 300
t1="$(date +%s.%N)"
line "| capacity | $BURST events drained in $(python3 -c "print(round($t1 - $t0, 2))") s | $(python3 -c "print(round($BURST / ($t1 - $t0)))") events/s | |"

say "3. outage: nats-server killed for ${OUTAGE}s under checkout load"
"$loadgen" checkout --url "http://127.0.0.1:$PORT" --connections 8 --duration $(( OUTAGE + 15 )) > "$OUT/relay-outage-load.txt" &
load=$!
sleep 5
kill -9 "$nats_pid"; wait "$nats_pid" 2>/dev/null || true
sleep "$OUTAGE"
waiting="$(backlog)"
start_nats
back="$(sql "SELECT now()")"
t0="$(date +%s.%N)"
until [ "$(sql "SELECT count(*) FROM outbox WHERE relayed_at IS NULL AND created_at < '$back'")" = 0 ]; do sleep 0.05; done
t1="$(date +%s.%N)"
wait "$load"
wait_drained 60
written="$(sql "SELECT count(*) FROM outbox")"
stored="$(stream_messages)"
line "| outage ${OUTAGE} s | $waiting events waiting at restart; caught up $(python3 -c "print(round($t1 - $t0, 2))") s after it | stream holds $stored of $written events written | |"
[ "$stored" = "$written" ] || die "the stream holds $stored events, the outbox $written"
rss_kib="$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")"
line "| server peak RSS | $(( rss_kib / 1024 )) MiB | | |"
