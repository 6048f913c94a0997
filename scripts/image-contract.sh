#!/usr/bin/env bash
# Proves the container image's runtime contract without a Docker engine: the release
# binary and site in the image's layout (/app/server, /app/hash.txt, /app/site), mounted
# read-only, run as the image's user (65532) with the Dockerfile's ENV and working
# directory, answer /health, /ready, a product page, an asset and the HEALTHCHECK command.
# Needs root (a private mount namespace); the release build must exist
# (`cargo leptos build --release`).
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

[ "$(id -u)" -eq 0 ] || die "the image contract check needs root for a read-only mount namespace"
binary="$CARGO_TARGET_DIR/release/server"
if [ ! -x "$binary" ] || [ ! -f "$CARGO_TARGET_DIR/release/hash.txt" ]; then
  die "no release build: run cargo leptos build --release"
fi

stage="$(mktemp -d)"
db="bazaar_image_contract"
cleanup() {
  [ -z "${pid:-}" ] || kill "$pid" 2>/dev/null || true
  rm -rf "$stage"
  psql "$BAZAAR_DB_BASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The image's files, as the Dockerfile's runtime stage copies them (root-owned, not writable).
mkdir -p "$stage/app"
cp "$binary" "$CARGO_TARGET_DIR/release/hash.txt" "$stage/app/"
cp -r target/site "$stage/app/site"
chmod -R a-w "$stage/app"
fingerprint() { (cd "$stage/app" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
before="$(fingerprint)"
mkdir -p /app "$stage/tmp" && chown 65532:65532 "$stage/tmp"

# The Dockerfile's ENV lines, read from the Dockerfile itself so the two cannot drift.
mapfile -t image_env < <(python3 - <<'PY'
import re, shlex
text = open("Dockerfile").read().replace("\\\n", " ")
runtime = text.split("AS runtime", 1)[1]
for line in runtime.splitlines():
    if line.startswith("ENV "):
        for pair in shlex.split(line[4:]):
            print(pair)
PY
)
workdir="$(sed -n 's/^WORKDIR //p' Dockerfile | tail -n1)"
user="$(sed -n 's/^USER //p' Dockerfile | tail -n1)"
port="$(sed -n 's/^EXPOSE //p' Dockerfile | tail -n1)"
if [ "$workdir" != /app ] || [ "$user" != 65532:65532 ]; then
  die "the Dockerfile's WORKDIR/USER changed; update this check"
fi

psql "$BAZAAR_DB_BASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
secret() { head -c 36 /dev/urandom | base64 | tr -d '/+='; }
# What an operator supplies from the secret store; nothing here talks to Stripe or SMTP.
runtime_env=(
  "DATABASE_URL=$BAZAAR_DB_BASE/$db" "REDIS_URL=$REDIS_URL" "PUBLIC_URL=https://shop.example.test"
  "JWT_SECRET=$(secret)" "SESSION_SECRET=$(secret)" "STRIPE_SECRET_KEY=sk_test_image_contract"
  "STRIPE_WEBHOOK_SECRET=whsec_$(secret)" "SMTP_URL=smtp://127.0.0.1:2525" "MEDIA_STORE=file:///tmp/media"
  "OUTBOX_WORKER=off"
)
run_as_image() {
  # A private mount namespace: /app is the staged image, read-only; /tmp is the pod's emptyDir.
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
  ${exec_as_image:+exec} unshare --mount --propagation private sh -c '
    mount --bind -o ro "$0/app" /app && mount --bind "$0/tmp" /tmp && cd /app &&
    exec setpriv --reuid=65532 --regid=65532 --clear-groups --no-new-privs env -i "$@"' \
    "$stage" "${image_env[@]}" "${runtime_env[@]}" "$@"
}

say "image contract: migrate and seed as the image user"
run_as_image /app/server migrate
run_as_image /app/server seed --products-per-category 2 > /dev/null

say "image contract: serve on :$port from a read-only /app"
# `exec` all the way down: $! is the server itself, so the uid check and cleanup hit it.
(exec_as_image=1 run_as_image /app/server serve) > "$stage/server.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 60); do curl -fs "$base/health" > /dev/null 2>&1 && break; sleep 0.5; done

fail=0
expect() { # expect NAME CMD...
  if "${@:2}" > /dev/null 2>&1; then printf '  ok    %s\n' "$1"; else printf '  FAIL  %s\n' "$1"; fail=1; fi
}
expect "GET /health is 200" curl -fs "$base/health"
expect "GET /ready is 200 (Postgres and Redis)" curl -fs "$base/ready"
product="$(curl -fs "$base/api/catalog/products?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["slug"])')"
expect "a product page renders" sh -c "curl -fs '$base/products/$product' | grep -q 'data-hydrated\\|<h1'"
asset="$(curl -fs "$base/" | grep -o '/pkg/[^"]*\.css' | head -n1)"
expect "the hashed stylesheet is served" curl -fs "$base$asset"
expect "the HEALTHCHECK command passes" run_as_image /app/server healthcheck --url "$base/health"
server_uid="$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo '?')"
expect "the server runs as uid 65532, not root" test "$server_uid" = 65532
expect "nothing in /app changed" test "$(fingerprint)" = "$before"
if [ "$fail" -ne 0 ]; then
  sed 's/^/    /' "$stage/server.log" | tail -n 30
  die "the image's runtime contract does not hold"
fi
say "image contract holds"
