#!/usr/bin/env bash
# The live API against its own OpenAPI document: a fresh database, the built server on its
# own port, an admin's token, then schemathesis generating requests for every operation.
# Any 5xx, undocumented status code, wrong content type or body off its schema fails.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"
ensure_schemathesis

port="${CONFORMANCE_PORT:-3200}"
base="http://127.0.0.1:$port"
name="${CONFORMANCE_DB:-bazaar_conformance}"
db="${BAZAAR_DB_BASE:-postgres://postgres@127.0.0.1:5432}/$name"
server="${SERVER_BIN:-$CARGO_TARGET_DIR/debug/server}"
media="$(mktemp -d)"
log="$BAZAAR_CACHE/conformance-server.log"
psql "${BAZAAR_DB_BASE:-postgres://postgres@127.0.0.1:5432}/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
export DATABASE_URL="$db" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn PUBLIC_URL="$base" \
  REDIS_URL="${CONFORMANCE_REDIS_URL:-redis://127.0.0.1:6379/3}" RATE_LIMIT_WINDOW_SECS=1
redis-cli -u "$REDIS_URL" flushdb >/dev/null
"$server" seed --products-per-category 4 >/dev/null
password="conformance admin password"
printf '%s\n' "$password" | "$server" create-admin --email admin@conformance.test --name Admin --password-stdin >/dev/null
"$server" serve > "$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$media"' EXIT
for _ in $(seq 1 60); do curl -fs "$base/ready" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$base/ready" >/dev/null || { cat "$log"; die "server did not become ready"; }

token="$(curl -fs "$base/api/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"admin@conformance.test\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

# Signed in as the admin, so the admin operations are exercised past their 401/403.
# `--seed` keeps a run reproducible; a failure prints the curl command that shows it.
"$BAZAAR_TOOLS/schemathesis/bin/schemathesis" run "$base/api/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${CONFORMANCE_EXAMPLES:-25}" \
  --seed 20261202 \
  --workers 2 \
  --no-color
