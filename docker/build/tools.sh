#!/bin/sh
# The build tools at the versions the Dockerfile passes in, each installed only when the
# builder image lacks it: the official rust image gets them all here, while the offline
# stand-in (scripts/images.sh) already carries them, so nothing is downloaded.
set -eu
has() { want="$1"; shift; "$@" 2>/dev/null | grep -q -- "$want"; }
if ! command -v cc >/dev/null || ! command -v node >/dev/null || ! command -v strip >/dev/null; then
  apt-get update
  apt-get install -y --no-install-recommends gcc libc6-dev pkg-config binutils ca-certificates nodejs npm
  rm -rf /var/lib/apt/lists/*
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
has " $CARGO_CHEF_VERSION" cargo chef --version || cargo install cargo-chef --version "$CARGO_CHEF_VERSION" --locked
has " $CARGO_LEPTOS_VERSION" cargo leptos --version || cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
# No --locked: its lockfile pins a webpki-roots release the registry no longer has.
has " $WASM_BINDGEN_VERSION" wasm-bindgen --version || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
has "version $BINARYEN_VERSION" wasm-opt --version || npm install --global "binaryen@$BINARYEN_VERSION"
rm -rf "${CARGO_HOME:-/usr/local/cargo}/registry"
