#!/usr/bin/env bash
# Shared by the bench/ scripts. Sourced, never run: the repository's settings and helpers
# (scripts/lib.sh), and the release build every bench measures.
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
# The allocator setting the image runs with (Dockerfile), so the benches measure the same.
export MIMALLOC_PURGE_DELAY="${MIMALLOC_PURGE_DELAY:--1}"

# The release build with precompressed assets, unless SKIP_BUILD=1 reuses the last one;
# sets `server` to the binary, or to BENCH_SERVER when set (an A/B run of another build).
release_build() {
  if [ -z "${SKIP_BUILD:-}" ]; then
    say "release build"
    SQLX_OFFLINE=true cargo leptos build --release --precompress
  fi
  # shellcheck disable=SC2034 # read by the script that sources this
  server="${BENCH_SERVER:-$CARGO_TARGET_DIR/release/server}"
}

# CPU time a process has used so far (user + system), in clock ticks of `getconf CLK_TCK`.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
