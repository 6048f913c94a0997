#!/usr/bin/env bash
# Replicas behind an ingress, tried as an operator would: three containers of the image
# behind Debian's nginx (TLS from a CA made on the spot, HSTS, ingress-nginx's proxy
# defaults), sixteen keep-alive shoppers browsing, filling carts and checking out, and in
# one run a rolling update, a 6 s Redis outage, a Postgres restart, cross-replica cache
# agreement and throughput at 1, 2 and 3 replicas. The checks are in scripts/rollout.py;
# this script installs what they need and fails when the images are missing.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

ensure_docker
command -v nginx >/dev/null 2>&1 || apt_install nginx-light
command -v openssl >/dev/null 2>&1 || apt_install openssl
command -v pg_isready >/dev/null 2>&1 || apt_install postgresql-client
for image in "$APP_IMAGE" "$STANDIN_POSTGRES" "$STANDIN_REDIS"; do
  "$DOCKER" image inspect "$image" > /dev/null 2>&1 || die "no $image image: run ./scripts/images.sh"
done
export DOCKER APP_IMAGE STANDIN_POSTGRES STANDIN_REDIS
exec python3 "$BAZAAR_ROOT/scripts/rollout.py"
