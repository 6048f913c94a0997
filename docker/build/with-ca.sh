#!/bin/sh
# Runs a build command trusting an extra CA bundle, when the build was handed one
# (scripts/images.sh copies BUILD_CA_BUNDLE to ca/extra.crt): machines behind a
# TLS-inspecting proxy need it to reach the package registries. Build stages only.
set -eu
ca="$(dirname "$0")/ca/extra.crt"
if [ -s "$ca" ]; then
  export CARGO_HTTP_CAINFO="$ca" SSL_CERT_FILE="$ca" NODE_EXTRA_CA_CERTS="$ca"
fi
exec "$@"
