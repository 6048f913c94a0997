#!/usr/bin/env bash
# The whole test suite: format, lints, SQL offline data, unit and integration tests
# against real Postgres and Redis, Playwright journeys in Debian's Chromium, then the image
# built and run in a real container engine and the compose stack brought up and down.
# Installs and starts whatever is missing first (the engine too: Debian's docker.io).
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

started=$(date +%s)
timings=()
step() {
  local name="$1"; shift
  local t0; t0=$(date +%s)
  say "$name"
  "$@"
  timings+=("$(printf '%-28s %4ss' "$name" $(( $(date +%s) - t0 )))")
}

ensure_rust_tools
ensure_sqlx_cli
ensure_leptosfmt
ensure_node_tools
ensure_chromium
if [ -z "${DATABASE_URL:-}" ]; then
  BAZAAR_LOCAL_DB=1 ensure_postgres
  ensure_database bazaar_test
  export DATABASE_URL="$BAZAAR_DB_BASE/bazaar_test"
fi
ensure_redis
ensure_nats
ensure_moto

host_cargo() { RUSTFLAGS="$DEV_RUSTFLAGS" SQLX_OFFLINE=true cargo "$@"; }

step "format" cargo fmt --all -- --check
step "format (view! macros)" leptosfmt --check app/src
step "migrations apply" sqlx migrate run --source migrations
step "sqlx offline data" env RUSTFLAGS="$DEV_RUSTFLAGS" cargo sqlx prepare --workspace --check -- --all-targets
step "clippy (server)" host_cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
step "clippy (wasm)" host_cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
results="$BAZAAR_CACHE/test-results"
mkdir -p "$results"
# Each test in its own process: Leptos keeps process-wide state (its executor and reactive
# graph), and tests sharing one process on separate runtimes can stall each other's renders.
# Without nextest, the fallback runs the tests one at a time for the same reason.
cargo_tests() {
  if cargo nextest --version >/dev/null 2>&1; then
    host_cargo nextest run --workspace --exclude frontend --no-fail-fast 2>&1 | tee "$results/cargo.log"
  else
    host_cargo test --workspace --exclude frontend -- --test-threads=1 2>&1 | tee "$results/cargo.log"
  fi
}
step "unit + integration tests" cargo_tests
step "build site" env SQLX_OFFLINE=true cargo leptos build

# End to end: a fresh database, the built server on its own port, Playwright.
e2e() {
  local db_url="${E2E_DATABASE_URL:-$BAZAAR_DB_BASE/bazaar_e2e}"
  local port="${E2E_PORT:-3100}"
  local media; media="$(mktemp -d)"
  psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_e2e WITH (FORCE)' -c 'CREATE DATABASE bazaar_e2e' \
    || [ -n "${E2E_DATABASE_URL:-}" ]
  export DATABASE_URL="$db_url" LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    MEDIA_STORE="file://$media" LOG_FORMAT=json RUST_LOG=warn RATE_LIMIT_WINDOW_SECS=1 \
    PUBLIC_URL="http://127.0.0.1:$port"
  local server="$CARGO_TARGET_DIR/debug/server"
  "$server" seed
  # The merchant the admin journey signs in as, made the way an operator makes one.
  printf '%s\n' "${E2E_ADMIN_PASSWORD:-e2e admin password}" |
    "$server" create-admin --email "${E2E_ADMIN_EMAIL:-admin@bazaar.test}" --name Admin --password-stdin
  "$server" serve > "$BAZAAR_CACHE/e2e-server.log" 2>&1 &
  E2E_PID=$!
  for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "http://127.0.0.1:$port/ready" >/dev/null || { cat "$BAZAAR_CACHE/e2e-server.log"; die "server did not become ready"; }
  (cd end2end && BASE_URL="http://127.0.0.1:$port" npx playwright test 2>&1 | tee "$results/playwright.log")
}
E2E_PID=""
trap '[ -z "$E2E_PID" ] || kill "$E2E_PID" 2>/dev/null || true' EXIT
step "end-to-end (Playwright)" e2e
# The live API against its derived OpenAPI document (schemathesis, signed in as an admin).
step "API conformance" ./scripts/api-conformance.sh
# Delivery with a real engine: the stand-ins and the image from the Dockerfile, the image run
# as the pod spec says, and the compose stack up and down.
step "images (docker build)" ./scripts/images.sh
step "image runtime contract" ./scripts/image-contract.sh
step "compose stack" ./scripts/compose-smoke.sh
step "replicas and rollouts" ./scripts/rollout-test.sh
step "deploy artifacts" ./scripts/validate-deploy.sh

say "all green in $(( $(date +%s) - started ))s"
printf '  %s\n' "${timings[@]}"
# One closing line over both runners: cargo's "N passed; M failed" and Playwright's summary.
# cargo test prints "test result: ok. N passed; M failed"; nextest "N tests run: N passed, M failed".
read -r passed failed < <(awk '
  /^test result:/ { p += $4; f += $6 }
  /tests? run:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { print p + 0, f + 0 }' "$results/cargo.log")
e2e_passed=$(sed -nE 's/^ *([0-9]+) passed.*/\1/p' "$results/playwright.log" | tail -n1)
e2e_skipped=$(sed -nE 's/^ *([0-9]+) skipped.*/\1/p' "$results/playwright.log" | tail -n1)
echo "tests: $(( passed + ${e2e_passed:-0} )) passed, $failed failed, ${e2e_skipped:-0} skipped"
