#!/usr/bin/env bash
# Why the checkout does not NOTIFY inside its transaction: pgbench runs the same small
# write transaction with and without a pg_notify, 32 clients for DURATION seconds each, on
# a scratch database of the machine's Postgres, and prints both throughputs.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=bench/lib.sh
source "$BAZAAR_ROOT/bench/lib.sh"
cd "$BAZAAR_ROOT"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
ensure_postgres
db="$BAZAAR_DB_BASE/bazaar_notify"
psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE IF EXISTS bazaar_notify' -c 'CREATE DATABASE bazaar_notify'
psql "$db" -qc 'CREATE TABLE notify_stock (id int PRIMARY KEY, n bigint NOT NULL)' \
  -c 'INSERT INTO notify_stock SELECT g, 0 FROM generate_series(1, 1000) g' \
  -c 'CREATE TABLE notify_orders (id bigserial PRIMARY KEY, v text)'
for script in plain notifying; do
  tps="$(pgbench -n -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "bench/notify/$script.sql" "$db" 2>/dev/null \
    | awk '/^tps/ { print $3 }')"
  echo "$script: $tps transactions/s"
done
psql "$BAZAAR_DB_BASE/postgres" -qc 'DROP DATABASE bazaar_notify'
