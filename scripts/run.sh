#!/usr/bin/env bash
# Runs the store: installs what is missing, builds, migrates, seeds, and serves on
# http://127.0.0.1:3000. Set DATABASE_URL / REDIS_URL to use servers of your own.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

ensure_rust_tools
ensure_node_tools
if [ -z "${DATABASE_URL:-}" ]; then
  BAZAAR_LOCAL_DB=1 ensure_postgres
  ensure_database bazaar
  export DATABASE_URL="$BAZAAR_DB_BASE/bazaar"
fi
ensure_redis

say "building the store (release; the first build takes a while)"
SQLX_OFFLINE=true cargo leptos build --release --precompress

export LEPTOS_SITE_ROOT="$BAZAAR_ROOT/target/site"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export MEDIA_STORE="${MEDIA_STORE:-file://$BAZAAR_ROOT/data/media}"
server="$CARGO_TARGET_DIR/release/server"
"$server" migrate
"$server" seed
say "Bazaar is open at http://$LEPTOS_SITE_ADDR (Ctrl-C stops it)"
exec "$server" serve
