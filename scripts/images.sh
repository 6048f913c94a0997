#!/usr/bin/env bash
# Builds the images with a real engine (Debian's dockerd, classic builder), offline:
#   1. local stand-ins, from Debian's packages, PyPI and this machine's own Rust toolchain,
#      for every upstream image the repo names (Debian, rust, distroless/cc, postgres, redis,
#      prometheus, nats, moto), each rebuilt only when its inputs change;
#   2. the app, $APP_IMAGE (bazaar:local), from the repo's Dockerfile with the stand-ins
#      passed as build arguments.
# Usage: ./scripts/images.sh [standins|app|all]   (default all)
# BUILD_CA_BUNDLE (default: the machine's /etc/ssl/certs/ca-certificates.crt) is handed to
# the build stages so cargo can reach the crates registry through this machine's TLS
# interception; it is deleted from the context afterwards and never reaches the final image.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

what="${1:-all}"
case "$what" in standins|app|all) ;; *) die "usage: $0 [standins|app|all]" ;; esac
ensure_docker

LABEL_KEY=org.bazaar.standin-inputs
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
standins="$BAZAAR_ROOT/docker/standins"
work="$BAZAAR_CACHE/standins"
mkdir -p "$work"

current_label() { "$DOCKER" image inspect -f "{{index .Config.Labels \"$LABEL_KEY\"}}" "$1" 2>/dev/null || true; }
inputs_hash() { # inputs_hash DIR [EXTRA…]: the stand-in's recipe plus whatever else it bakes in
  { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); printf '%s\n' "${@:2}"; } |
    sha256sum | cut -c1-16
}
timed() { # timed LABEL CMD…: runs CMD and prints how long it took
  local t0; t0=$(date +%s)
  "${@:2}"
  say "$1 in $(( $(date +%s) - t0 ))s"
}

# The base every stand-in builds on: a minimal Debian root filesystem from debootstrap.
standin_debian() {
  local hash; hash="$(printf '%s %s' "$DEBIAN_SUITE" "$DEBIAN_MIRROR" | sha256sum | cut -c1-16)"
  if [ "$(current_label "$STANDIN_DEBIAN")" = "$hash" ]; then say "$STANDIN_DEBIAN is current"; return; fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  local root; root="$(mktemp -d "$work/rootfs.XXXXXX")"
  say "debootstrap $DEBIAN_SUITE (minbase) → $STANDIN_DEBIAN"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" > "$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  cat > "$root/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $DEBIAN_SUITE main
deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main
deb ${DEBIAN_MIRROR%/debian}/debian-security $DEBIAN_SUITE-security main
EOF
  # Images keep no apt caches or docs, as the official slim images do.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$root/etc/apt/apt.conf.d/90bazaar"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | "$DOCKER" import \
    --change "LABEL $LABEL_KEY=$hash" --change 'CMD ["bash"]' - "$STANDIN_DEBIAN" > /dev/null
  rm -rf "$root"
}

standin_build() { # standin_build NAME DIR [EXTRA-INPUT…]
  local name="$1" dir="$2" hash
  hash="$(inputs_hash "$dir" "$(current_label "$STANDIN_DEBIAN")" "${@:3}")"
  if [ "$(current_label "$name")" = "$hash" ]; then say "$name is current"; return; fi
  say "building $name"
  "$DOCKER" build -q --label "$LABEL_KEY=$hash" --build-arg "DEBIAN_IMAGE=$STANDIN_DEBIAN" -t "$name" "$dir" > /dev/null
}

# The Rust builder: the context is assembled from this machine's toolchain (hard links, no
# copy) and its pinned tools, so nothing is downloaded.
standin_rust() {
  ensure_rust_tools
  ensure_cargo_chef
  ensure_node_tools
  # "stable-x86_64-unknown-linux-gnu (active, default)": the default toolchain's name.
  local tc; tc="$(rustup toolchain list | awk '/default\)$/ { print $1; exit }')"
  [ -n "$tc" ] || die "no default rustup toolchain (rustup toolchain list)"
  local tcdir; tcdir="$(readlink -f "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/$tc")"
  [ -x "$tcdir/bin/rustc" ] || die "the default toolchain $tc has no rustc at $tcdir"
  local versions
  versions="$(rustc --version; cargo leptos --version; cargo chef --version; wasm-bindgen --version; wasm-opt --version)"
  local hash; hash="$(inputs_hash "$standins/rust" "$(current_label "$STANDIN_DEBIAN")" "$versions")"
  if [ "$(current_label "$STANDIN_RUST")" = "$hash" ]; then say "$STANDIN_RUST is current"; return; fi
  say "assembling $STANDIN_RUST from $tc and the pinned tools"
  local ctx="$work/rust-context"
  rm -rf "$ctx" && mkdir -p "$ctx/rustup/toolchains" "$ctx/cargo-bin"
  cp "$standins/rust/Dockerfile" "$ctx/"
  cp -al "$tcdir" "$ctx/rustup/toolchains/$tc"
  # The documentation is two thirds of a toolchain and no build reads it.
  rm -rf "$ctx/rustup/toolchains/$tc/share/doc"
  printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\nauto_self_update = "disable"\n' "$tc" \
    > "$ctx/rustup/settings.toml"
  cp "$(command -v rustup)" "$ctx/cargo-bin/rustup"
  for proxy in cargo rustc rustdoc cargo-fmt rustfmt cargo-clippy clippy-driver; do ln -s rustup "$ctx/cargo-bin/$proxy"; done
  for tool in cargo-leptos cargo-chef wasm-bindgen; do cp "$(command -v "$tool")" "$ctx/cargo-bin/"; done
  cp -a "$BAZAAR_ROOT/end2end/node_modules/binaryen" "$ctx/binaryen"
  "$DOCKER" build -q --label "$LABEL_KEY=$hash" --build-arg "DEBIAN_IMAGE=$STANDIN_DEBIAN" -t "$STANDIN_RUST" "$ctx" > /dev/null
  rm -rf "$ctx"
}

# The S3/SQS stand-in installs moto from PyPI inside the build, through this machine's CA
# bundle (copied into the context for the build only, never hashed or committed).
standin_moto() {
  local dir="$standins/moto" hash
  hash="$(inputs_hash "$dir" "$(current_label "$STANDIN_DEBIAN")")"
  if [ "$(current_label "$STANDIN_MOTO")" = "$hash" ]; then say "$STANDIN_MOTO is current"; return; fi
  local bundle="${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
  if [ -n "$bundle" ] && [ -s "$bundle" ]; then cp "$bundle" "$dir/ca/extra.crt"; fi
  say "building $STANDIN_MOTO"
  local built=0
  "$DOCKER" build -q --label "$LABEL_KEY=$hash" --build-arg "DEBIAN_IMAGE=$STANDIN_DEBIAN" -t "$STANDIN_MOTO" "$dir" > /dev/null || built=$?
  rm -f "$dir/ca/extra.crt"
  [ "$built" -eq 0 ] || die "building $STANDIN_MOTO failed"
}

# Where the registries can be reached there is nothing to stand in for: pull the originals.
pull_upstream() {
  local image
  for image in "$STANDIN_DEBIAN" "$STANDIN_RUST" "$STANDIN_RUNTIME" "$STANDIN_POSTGRES" "$STANDIN_REDIS" "$STANDIN_PROMETHEUS" "$STANDIN_NATS" "$STANDIN_MOTO"; do
    "$DOCKER" pull -q "$image" > /dev/null || die "could not pull $image (unset BAZAAR_UPSTREAM_IMAGES to build stand-ins)"
  done
}

build_standins() {
  if [ "${BAZAAR_UPSTREAM_IMAGES:-0}" = 1 ]; then timed "upstream images pulled" pull_upstream; return; fi
  timed "$STANDIN_DEBIAN" standin_debian
  timed "$STANDIN_RUNTIME" standin_build "$STANDIN_RUNTIME" "$standins/runtime"
  timed "$STANDIN_POSTGRES" standin_build "$STANDIN_POSTGRES" "$standins/postgres"
  timed "$STANDIN_REDIS" standin_build "$STANDIN_REDIS" "$standins/redis"
  timed "$STANDIN_PROMETHEUS" standin_build "$STANDIN_PROMETHEUS" "$standins/prometheus"
  timed "$STANDIN_NATS" standin_build "$STANDIN_NATS" "$standins/nats"
  timed "$STANDIN_MOTO" standin_moto
  timed "$STANDIN_RUST" standin_rust
}

# Global, not local: the EXIT trap that deletes it runs after build_app has returned.
ca_file="$BAZAAR_ROOT/docker/build/ca/extra.crt"
build_app() {
  local bundle="${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
  trap 'rm -f "$ca_file"' EXIT
  if [ -n "$bundle" ] && [ -s "$bundle" ]; then cp "$bundle" "$ca_file"; fi
  say "building $APP_IMAGE from the Dockerfile (log: $BAZAAR_CACHE/image-build.log)"
  local t0; t0=$(date +%s)
  if ! "$DOCKER" build -t "$APP_IMAGE" \
      --build-arg "RUST_IMAGE=$STANDIN_RUST" --build-arg "RUNTIME_IMAGE=$STANDIN_RUNTIME" \
      --build-arg "CARGO_CHEF_VERSION=$CARGO_CHEF_VERSION" --build-arg "CARGO_LEPTOS_VERSION=$CARGO_LEPTOS_VERSION" \
      --build-arg "WASM_BINDGEN_VERSION=$(wasm_bindgen_version)" --build-arg "BINARYEN_VERSION=$BINARYEN_VERSION" \
      . > "$BAZAAR_CACHE/image-build.log" 2>&1; then
    tail -n 40 "$BAZAAR_CACHE/image-build.log" >&2
    die "docker build failed"
  fi
  rm -f "$ca_file"
  local seconds=$(( $(date +%s) - t0 ))
  local bytes; bytes="$("$DOCKER" image inspect -f '{{.Size}}' "$APP_IMAGE")"
  local mb=$(( (bytes + 999999) / 1000000 ))
  printf 'build_seconds=%s\nimage_bytes=%s\n' "$seconds" "$bytes" > "$BAZAAR_CACHE/image-report.txt"
  say "$APP_IMAGE built in ${seconds}s; image size ${mb} MB ($bytes bytes uncompressed)"
  # 80 MB: the binary, its site and a distroless base (60.1 MB once Redis gained TLS,
  # 64.9 MB with the OpenAPI document derived by utoipa and the trace context, 71.1 MB
  # with options, facets and the gallery).
  [ "$bytes" -le 80000000 ] || die "$APP_IMAGE is ${mb} MB, over the 80 MB budget"
}

case "$what" in
  standins) build_standins ;;
  app) build_app ;;
  all) build_standins; build_app ;;
esac
