#!/usr/bin/env bash
# Runs the built image ($APP_IMAGE, from ./scripts/images.sh) in a real engine exactly as the
# pod spec says: read-only root, uid 65532, all capabilities dropped, no new privileges, the
# chart's memory and CPU limits, and a tmpfs only where the pod mounts its emptyDir. Proves:
#   - the image itself: under 80 MB, user 65532, no shell, nothing writable, no build CA;
#   - migrate and seed run as one-off containers, the way the migration Job runs them;
#   - serve answers /health and /ready, and the image's HEALTHCHECK reports healthy;
#   - a whole purchase over the JSON API (scripts/purchase.py), with RSS under the limit;
#   - docker stop (SIGTERM) exits 0 within the pod's grace period;
#   - a production config missing a secret refuses to start and names the variable.
# The containers share the host's network to reach the local Postgres and Redis, so the
# image's own port, 8080, must be free here.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
# shellcheck source=scripts/lib.sh
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"

ensure_docker
"$DOCKER" image inspect "$APP_IMAGE" > /dev/null 2>&1 || die "no $APP_IMAGE image: run ./scripts/images.sh"

db=bazaar_image_contract
name=bazaar-contract
work="$(mktemp -d)"
cleanup() {
  "$DOCKER" rm -f "$name" "$name-probe" > /dev/null 2>&1 || true
  rm -rf "$work"
  psql "$BAZAAR_DB_BASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" > /dev/null 2>&1 || true
}
trap cleanup EXIT
"$DOCKER" rm -f "$name" "$name-probe" > /dev/null 2>&1 || true  # left by an interrupted run

fail=0
ok() { printf '  ok    %s\n' "$1"; }
bad() { printf '  FAIL  %s\n' "$1"; fail=1; }
check() { if "${@:2}" > /dev/null 2>&1; then ok "$1"; else bad "$1"; fi; }

# The pod spec's numbers, read from the chart so the two cannot drift.
grace=30
eval "$(python3 - <<'PY'
import re, yaml
values = yaml.safe_load(open("deploy/helm/bazaar/values.yaml"))
helpers = open("deploy/helm/bazaar/templates/_helpers.tpl").read()
job = open("deploy/helm/bazaar/templates/migrate-job.yaml").read()
def mem(q):  # Kubernetes quantity → docker's --memory (bytes)
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", str(q))
    return int(m.group(1)) * units.get(m.group(2), 1)
def cpu(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)
limits = values["resources"]["limits"]
jl = re.search(r"limits:\s*\{\s*cpu:\s*(\S+),\s*memory:\s*(\S+)\s*\}", job)
print(f"pod_memory={mem(limits['memory'])} pod_cpus={cpu(limits['cpu'])}")
print(f"job_memory={mem(jl.group(2))} job_cpus={cpu(jl.group(1))}")
print("grace=" + re.search(r"terminationGracePeriodSeconds:\s*(\d+)", helpers).group(1))
print("tmp_size=" + str(mem(re.search(r"emptyDir:\s*\n\s*sizeLimit:\s*(\S+)", helpers).group(1))))
PY
)"
secure=(--read-only --user 65532:65532 --cap-drop ALL --security-opt no-new-privileges
        --tmpfs "/tmp:rw,noexec,nosuid,size=$tmp_size" --network host)
pod=("${secure[@]}" --memory "$pod_memory" --memory-swap "$pod_memory" --cpus "$pod_cpus")
job=("${secure[@]}" --memory "$job_memory" --memory-swap "$job_memory" --cpus "$job_cpus")
say "image contract for $APP_IMAGE (pod: $((pod_memory >> 20)) MiB, $pod_cpus CPU, grace ${grace}s)"

# ---- The image itself, from its exported filesystem.
"$DOCKER" create --name "$name-probe" "$APP_IMAGE" > /dev/null
"$DOCKER" export "$name-probe" > "$work/rootfs.tar"
"$DOCKER" rm "$name-probe" > /dev/null
bytes="$("$DOCKER" image inspect -f '{{.Size}}' "$APP_IMAGE")"
check "the image is at most 80 MB uncompressed ($(( bytes / 1000000 )) MB)" test "$bytes" -le 80000000
check "the image's user is 65532:65532" test "$("$DOCKER" image inspect -f '{{.Config.User}}' "$APP_IMAGE")" = 65532:65532
findings="$(BUILD_CA="${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}" python3 - "$work/rootfs.tar" <<'PY'
import hashlib, os, re, sys, tarfile
ca = os.environ.get("BUILD_CA", "")
ca_hash = hashlib.sha256(open(ca, "rb").read()).hexdigest() if ca and os.path.isfile(ca) else None
shells = re.compile(r"(^|/)(sh|bash|dash|ash|zsh|busybox|apt|apt-get|dpkg)$")
# What docker itself puts into every container; not part of the image.
runtime = {"etc/hosts", "etc/hostname", "etc/resolv.conf", "etc/mtab", ".dockerenv", "dev", "proc", "sys"}
debian_ca = None
with tarfile.open(sys.argv[1]) as tar:
    for m in tar:
        path = m.name.lstrip("./")
        if not path or path.split("/")[0] in runtime or path in runtime:
            continue
        if shells.search(path):
            print(f"shell: {path}")
        writable = m.mode & 0o002 and not (m.isdir() and m.mode & 0o1000) and not m.issym()
        # distroless gives nonroot its home directory; the read-only root keeps it read-only.
        owned = m.uid == 65532 and not m.issym() and path.rstrip("/") != "home/nonroot"
        if writable or owned:
            print(f"writable: {path}")
        if m.isfile() and ca_hash:
            data = tar.extractfile(m).read()
            if hashlib.sha256(data).hexdigest() == ca_hash and path != "etc/ssl/certs/ca-certificates.crt":
                print(f"build CA: {path}")
            if path == "etc/ssl/certs/ca-certificates.crt":
                debian_ca = hashlib.sha256(data).hexdigest()
        if path.endswith("extra.crt") or "bazaar-build" in path:
            print(f"build CA: {path}")
# The image's own bundle is the base image's, which may or may not equal the machine's; the
# build's copy must not have replaced it (it would then differ from the runtime base's).
print(f"ca-bundle {debian_ca or 'none'}")
PY
)"
grep -E '^(shell|writable|build CA):' <<< "$findings" | sed 's/^/        /' || true
check "no shell or package manager in the image" sh -c "! grep -q '^shell:' <<'EOF'
$findings
EOF"
check "no path in the image is writable by the app user" sh -c "! grep -q '^writable:' <<'EOF'
$findings
EOF"
check "the build's CA bundle is not in the image" sh -c "! grep -q '^build CA:' <<'EOF'
$findings
EOF"
check "there is no shell to exec into" sh -c "! '$DOCKER' run --rm --entrypoint /bin/sh '$APP_IMAGE' -c true"

# ---- One-off containers, as the migration Job runs them.
psql "$BAZAAR_DB_BASE/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
secret() { head -c 36 /dev/urandom | base64 | tr -d '/+='; }
# What the operator supplies from the secret store in production; nothing here talks to
# Stripe or SMTP.
prod_vars=("DATABASE_URL=$BAZAAR_DB_BASE/$db" "REDIS_URL=$REDIS_URL" "PUBLIC_URL=https://shop.example.test"
  "JWT_SECRET=$(secret)" "SESSION_SECRET=$(secret)" "STRIPE_SECRET_KEY=sk_test_image_contract"
  "STRIPE_WEBHOOK_SECRET=whsec_$(secret)" "SMTP_URL=smtp://127.0.0.1:2525" "MEDIA_STORE=file:///tmp/media")
env_args() { for v in "$@"; do printf '%s\n' -e "$v"; done; }
mapfile -t prod_env < <(env_args "${prod_vars[@]}")
check "migrate runs as a one-off container" "$DOCKER" run --rm "${job[@]}" "${prod_env[@]}" "$APP_IMAGE" migrate
check "seed runs as a one-off container" "$DOCKER" run --rm "${job[@]}" "${prod_env[@]}" "$APP_IMAGE" seed --products-per-category 2

if ss -ltnH 2>/dev/null | awk '{print $4}' | grep -qE '(^|:)8080$'; then
  die "port 8080 is taken on this machine; the image listens there (stop whatever holds it)"
fi
base=http://127.0.0.1:8080
wait_health() {
  for _ in $(seq 1 60); do curl -fs "$base/health" > /dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
stop_and_check_exit() { # the kubelet's SIGTERM, then SIGKILL after the grace period
  local t0 t1 code
  t0=$(date +%s%N)
  "$DOCKER" stop -t "$grace" "$name" > /dev/null
  t1=$(date +%s%N)
  code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$name")"
  stop_ms=$(( (t1 - t0) / 1000000 ))
  check "docker stop (SIGTERM) exits 0 in ${stop_ms} ms, within the ${grace}s grace period" \
    test "$code" = 0 -a "$stop_ms" -lt $(( grace * 1000 ))
  "$DOCKER" rm "$name" > /dev/null
}

# ---- serve with the production config: probes, a page, an asset, the HEALTHCHECK.
"$DOCKER" run -d --name "$name" "${pod[@]}" "${prod_env[@]}" "$APP_IMAGE" > /dev/null
if wait_health; then ok "serve (production config) answers /health"; else bad "serve answers /health"; fi
check "GET /ready is 200 (Postgres and Redis)" curl -fs "$base/ready"
product="$(curl -fs "$base/api/catalog/products?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["slug"])' || true)"
check "a product page renders" sh -c "curl -fs '$base/products/$product' | grep -q '<h1'"
asset="$(curl -fs "$base/" | grep -o '/pkg/[^"]*\.css' | head -n1 || true)"
check "the hashed stylesheet is served" curl -fs "$base$asset"
uid="$(awk '/^Uid:/ {print $2}' "/proc/$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")/status")"
check "the server process runs as uid $uid (65532)" test "$uid" = 65532
environ="/proc/$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")/environ"
check "the allocator keeps the pages it frees (MIMALLOC_PURGE_DELAY=-1)" \
  sh -c "tr '\\0' '\\n' < '$environ' | grep -qx 'MIMALLOC_PURGE_DELAY=-1'"
health=starting
for _ in $(seq 1 45); do
  health="$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$name")"
  [ "$health" = starting ] || break
  sleep 1
done
check "the image's HEALTHCHECK reports healthy ($health)" test "$health" = healthy
stop_and_check_exit

# ---- A purchase against the container, with the dev payment provider and dev mailbox.
dev_env=(-e APP_ENV=development -e "DATABASE_URL=$BAZAAR_DB_BASE/$db" -e "REDIS_URL=$REDIS_URL"
  -e "PUBLIC_URL=$base" -e "MEDIA_STORE=file:///tmp/media" -e RATE_LIMIT_WINDOW_SECS=1)
"$DOCKER" run -d --name "$name" "${pod[@]}" "${dev_env[@]}" "$APP_IMAGE" > /dev/null
wait_health || bad "serve (development config) answers /health"
if python3 scripts/purchase.py "$base"; then ok "a whole purchase over the JSON API"; else bad "a whole purchase over the JSON API"; fi
pid="$("$DOCKER" inspect -f '{{.State.Pid}}' "$name")"
rss_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")"
printf 'rss_peak_kib=%s\n' "$rss_kb" > "$BAZAAR_CACHE/image-contract-report.txt"
check "peak RSS $(( rss_kb / 1024 )) MiB stays under the $((pod_memory >> 20)) MiB limit" test $(( rss_kb * 1024 )) -lt "$pod_memory"
stop_and_check_exit

# ---- Production without a secret: refuses to start and says which one.
mapfile -t without_jwt < <(printf '%s\n' "${prod_vars[@]}" | grep -v '^JWT_SECRET=')
mapfile -t missing < <(env_args "${without_jwt[@]}")
set +e
out="$("$DOCKER" run --rm "${pod[@]}" "${missing[@]}" "$APP_IMAGE" serve 2>&1)"; code=$?
set -e
check "production without JWT_SECRET refuses to start (exit $code)" test "$code" -ne 0
check "and names JWT_SECRET" grep -q JWT_SECRET <<< "$out"

if [ "$fail" -ne 0 ]; then
  "$DOCKER" logs "$name" 2>/dev/null | tail -n 30 | sed 's/^/    /' || true
  die "the image's runtime contract does not hold"
fi
say "image contract holds"
