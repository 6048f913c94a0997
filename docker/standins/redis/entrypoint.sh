#!/bin/sh
# `redis-server ARGS` gets the official image's defaults first: all interfaces, no
# protected mode; later arguments still override them.
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec redis-server --bind '0.0.0.0 ::' --protected-mode no "$@"
fi
exec "$@"
