#!/usr/bin/env bash
# Brings docker-compose.yml up for real with the local stand-in images (./scripts/images.sh
# builds them), then in order: waits for the app to be ready; loads the demo catalog with
# the `seed` profile; runs the purchase journey (scripts/purchase.py) through the stack's
# published port; starts Prometheus from the `observability` profile and proves it scrapes
# the app (`up{job="bazaar"} == 1` through its HTTP API); and finally `down -v`, checking
# that no container, network or volume of the project is left.
# Grafana and Tempo have no Debian package, so no stand-in: their services stay in the
# file for machines that can pull them, and this smoke test leaves them out.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

ensure_docker
for image in "$APP_IMAGE" "$STANDIN_POSTGRES" "$STANDIN_REDIS" "$STANDIN_PROMETHEUS" "$STANDIN_DEBIAN" "$STANDIN_NATS" "$STANDIN_MOTO"; do
  "$DOCKER" image inspect "$image" > /dev/null 2>&1 || die "no $image image: run ./scripts/images.sh"
done

export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-bazaar-smoke}"
export POSTGRES_IMAGE="$STANDIN_POSTGRES" REDIS_IMAGE="$STANDIN_REDIS" PROMETHEUS_IMAGE="$STANDIN_PROMETHEUS"
export NATS_IMAGE="$STANDIN_NATS" MOTO_IMAGE="$STANDIN_MOTO"
export DEBIAN_IMAGE="$STANDIN_DEBIAN" RUST_IMAGE="$STANDIN_RUST" RUNTIME_IMAGE="$STANDIN_RUNTIME"
export BAZAAR_PORT="${BAZAAR_PORT:-8080}" PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
export NATS_MONITOR_PORT="${NATS_MONITOR_PORT:-8222}" S3_PORT="${S3_PORT:-5000}"
base="http://127.0.0.1:$BAZAAR_PORT"
compose() { docker-compose --profile seed --profile observability --profile bus "$@"; }
# The bus profile: its env file points the app and the seed at NATS and the S3 stand-in.
bus() { docker-compose --env-file deploy/compose/bus.env --profile seed --profile bus "$@"; }
leftovers() {
  {
    "$DOCKER" ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"
    "$DOCKER" network ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"
    "$DOCKER" volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"
  } | wc -l
}
cleanup() {
  if [ "${done:-0}" -ne 1 ]; then
    compose logs --no-color --tail 40 app seed 2>&1 | sed 's/^/    /' || true
    compose down -v --remove-orphans > /dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

for port in "$BAZAAR_PORT" "$PROMETHEUS_PORT" "$NATS_MONITOR_PORT" "$S3_PORT"; do
  if ss -ltnH 2>/dev/null | awk '{print $4}' | grep -qE "(^|:)$port\$"; then
    die "port $port is taken on this machine (set BAZAAR_PORT / PROMETHEUS_PORT)"
  fi
done
[ "$(leftovers)" -eq 0 ] || compose down -v --remove-orphans > /dev/null 2>&1

fail=0
ok() { printf '  ok    %s\n' "$1"; }
bad() { printf '  FAIL  %s\n' "$1"; fail=1; }
check() { if "${@:2}" > /dev/null 2>&1; then ok "$1"; else bad "$1"; fi; }
waitfor() { # waitfor SECONDS CMD…
  local until=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$until" ]; do "${@:2}" > /dev/null 2>&1 && return 0; sleep 1; done
  return 1
}

say "compose up: postgres, redis, app (project $COMPOSE_PROJECT_NAME)"
t0=$(date +%s)
docker-compose up -d --no-build 2>&1 | sed 's/^/    /'
if waitfor 90 curl -fs "$base/ready"; then ok "the app is ready through :$BAZAAR_PORT in $(( $(date +%s) - t0 ))s"; else bad "the app became ready"; fi
status="$(curl -s "$base/ready" || true)"
check "/ready reaches postgres and redis by service name ($status)" \
  grep -q '"postgres":"ok".*"redis":"ok"\|"redis":"ok".*"postgres":"ok"' <<< "$status"

say "the seed profile loads the demo catalog"
compose up -d --no-build seed 2>&1 | sed 's/^/    /'
seed_id="$(compose ps -q seed)"
waitfor 180 sh -c "[ \"\$('$DOCKER' inspect -f '{{.State.Status}}' $seed_id)\" = exited ]" || true
seed_exit="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$seed_id")"
check "seed exited $seed_exit (0)" test "$seed_exit" = 0
total="$(curl -fs "$base/api/catalog/products?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' || echo 0)"
check "the catalog holds $total products" test "$total" -gt 0
image="$(curl -fs "$base/api/catalog/products?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["image_url"] or "")' || true)"
if [ -n "$image" ] && curl -fs -o /dev/null "$base$image"; then ok "a seeded image is served from the media volume"; else bad "the seeded image $image is served"; fi

say "purchase journey through the stack"
if python3 scripts/purchase.py "$base"; then ok "a whole purchase through the stack's published port"; else bad "the purchase journey"; fi

say "the observability profile: Prometheus scrapes the app"
echo "    (grafana and tempo are left out: no Debian package, so no offline stand-in; their services stay in docker-compose.yml)"
compose up -d --no-build prometheus 2>&1 | sed 's/^/    /'
prom="http://127.0.0.1:$PROMETHEUS_PORT"
scraped() {
  curl -fsG "$prom/api/v1/query" --data-urlencode 'query=up{job="bazaar"}' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and r[0]["value"][1]=="1" else 1)'
}
if waitfor 60 scraped; then ok 'Prometheus reports up{job="bazaar"} == 1'; else bad 'Prometheus scrapes the app'; fi
if waitfor 30 sh -c "curl -fsG '$prom/api/v1/query' --data-urlencode 'query=bazaar_http_requests_total' | grep -q bazaar_http_requests_total"; then
  ok "the app's own series reach Prometheus"
else
  bad "the app's series reach Prometheus"
fi

say "the bus profile: outbox events on NATS JetStream, media on the S3 stand-in"
bus up -d --no-build nats s3 s3-bucket 2>&1 | sed 's/^/    /'
# The app is recreated with the bus wiring; it refuses to start until the bucket exists.
bus up -d --no-build app 2>&1 | sed 's/^/    /'
if waitfor 120 curl -fs "$base/ready"; then ok "the app is ready with EVENT_BUS_URL and MEDIA_STORE=s3://"; else bad "the app became ready on the bus profile"; fi
bus run --rm --no-deps seed > "$BAZAAR_CACHE/compose-bus-seed.log" 2>&1 || true
keys="$(curl -fs "http://127.0.0.1:$S3_PORT/bazaar-media?list-type=2&prefix=shop/products/" | grep -o '<Key>' | wc -l || echo 0)"
check "the seed stored $keys images in the bucket" test "$keys" -gt 0
image="$(curl -fs "$base/api/catalog/products?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["image_url"] or "")' || true)"
if [ -n "$image" ] && curl -fs -o /dev/null "$base$image"; then ok "a seeded image is served from S3 ($image)"; else bad "the image $image is served from S3"; fi
if python3 scripts/purchase.py "$base"; then ok "a purchase on the bus profile"; else bad "the purchase on the bus profile"; fi
stream_messages() {
  curl -fs "http://127.0.0.1:$NATS_MONITOR_PORT/jsz?accounts=true&streams=true" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); s=[x for a in d.get("account_details",[]) for x in a.get("stream_detail",[]) if x["name"]=="BAZAAR_EVENTS"]; print(s[0]["state"]["messages"] if s else 0)'
}
relay_backlog() { curl -fs "$base/metrics" | awk '/^bazaar_event_relay_backlog /{print $2}'; }
if waitfor 30 sh -c "[ \"\$(curl -fs '$base/metrics' | awk '/^bazaar_event_relay_backlog /{print \$2}')\" = 0 ]"; then
  ok "the relay has published every outbox event (backlog $(relay_backlog))"
else
  bad "the relay backlog drains ($(relay_backlog))"
fi
n="$(stream_messages || echo 0)"
check "JetStream stream BAZAAR_EVENTS holds $n events" test "${n:-0}" -gt 0

say "compose down -v"
compose down -v --remove-orphans 2>&1 | sed 's/^/    /'
left="$(leftovers)"
check "no container, network or volume of $COMPOSE_PROJECT_NAME is left ($left)" test "$left" -eq 0
done=1
[ "$fail" -eq 0 ] || die "the compose stack does not work"
say "compose stack works"
