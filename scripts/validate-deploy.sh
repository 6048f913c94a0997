#!/usr/bin/env bash
# Validates every deploy artifact with the real tools, offline:
#   ./scripts/validate-deploy.sh            all checks, then the self-test
#   ./scripts/validate-deploy.sh --no-self-test
# The self-test breaks a manifest, a chart value and an alert rule on purpose and
# requires the validators to fail on each: a validator that passes everything is useless.
set -euo pipefail
BAZAAR_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export BAZAAR_ROOT
source "$BAZAAR_ROOT/scripts/lib.sh"
cd "$BAZAAR_ROOT"
ensure_deploy_tools

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
failures=0
check() {
  local name="$1"; shift
  if "$@" > "$out/log" 2>&1; then
    printf '  ok    %s\n' "$name"
  else
    printf '  FAIL  %s\n' "$name"
    sed 's/^/        /' "$out/log" | tail -n 40
    failures=$((failures + 1))
  fi
}
semgrep_run() {
  SEMGREP_ENABLE_VERSION_CHECK=0 SEMGREP_SEND_METRICS=off semgrep scan --error --metrics=off --quiet \
    --config "$BAZAAR_ROOT/.semgrep.yml" --exclude end2end/node_modules --exclude target --exclude .git "$@"
}
# Checkov prints its offline warnings (no Prisma API here) on stderr; keep only results.
checkov_run() { checkov --config-file .checkov.yaml "$@" 2> >(grep -v -e prismacloud -e urllib3 -e 'WARNI' >&2); }

render_chart() {
  helm template bazaar deploy/helm/bazaar --namespace bazaar "$@"
}

k8s_checks() {
  say "Kubernetes: Helm chart and kustomize overlays"
  check "helm lint --strict (defaults)" helm lint --strict deploy/helm/bazaar
  check "helm lint --strict (staging)" helm lint --strict deploy/helm/bazaar -f deploy/helm/bazaar/values-staging.yaml
  check "helm lint --strict (prod, canary on)" helm lint --strict deploy/helm/bazaar -f deploy/helm/bazaar/values-prod.yaml \
    --set canary.enabled=true --set canary.image.tag=next
  render_chart > "$out/chart.yaml"
  render_chart -f deploy/helm/bazaar/values-prod.yaml --set canary.enabled=true --set canary.image.tag=next > "$out/chart-canary.yaml"
  check "kubernetes-validate --strict (chart)" kubernetes-validate --strict --quiet --no-warn "$out/chart.yaml" "$out/chart-canary.yaml"
  check "deploy/k8s/base is rendered from the chart" python3 deploy/k8s/render-base.py --check
  check "shutdown fits the grace period; readiness is the pod's own" python3 deploy/k8s/check-shutdown.py "$out/chart.yaml" "$out/chart-canary.yaml"
  # Blue/green: the router release and a colour release render and validate too.
  render_chart -f deploy/helm/bazaar/values-prod.yaml --set blueGreen.role=router --set blueGreen.activeRelease=bazaar-green > "$out/chart-router.yaml"
  helm template bazaar-green deploy/helm/bazaar --namespace bazaar -f deploy/helm/bazaar/values-prod.yaml --set blueGreen.role=color > "$out/chart-green.yaml"
  check "kubernetes-validate --strict (blue/green router and colour)" kubernetes-validate --strict --quiet --no-warn "$out/chart-router.yaml" "$out/chart-green.yaml"
  check "kubernetes-validate --strict (ops/debug pod)" kubernetes-validate --strict --quiet --no-warn ops/debug/debug-pod.yaml
  check "checkov (ops/debug pod)" checkov_run -f ops/debug/debug-pod.yaml --framework kubernetes
  check "deploy rules: the artifacts agree with each other and the app (scripts/check-deploy.py)" python3 scripts/check-deploy.py
  for overlay in dev staging prod; do
    kubectl kustomize "deploy/k8s/overlays/$overlay" > "$out/k8s-$overlay.yaml"
    check "kubernetes-validate --strict (overlay $overlay)" kubernetes-validate --strict --quiet --no-warn "$out/k8s-$overlay.yaml"
  done
  check "checkov (kustomize)" checkov_run -d deploy/k8s --framework kustomize
  check "checkov (rendered chart)" checkov_run -f "$out/chart.yaml" "$out/chart-canary.yaml" --framework kubernetes
  # Checkov renders the chart itself without a namespace; the rendered check above has one.
  check "checkov (helm)" checkov_run -d deploy/helm --framework helm \
    --skip-check "CKV_K8S_21,$(sed -n 's/^  - //p' .checkov.yaml | paste -sd, -)"
}

# Compose interpolates the image variables; the upstream defaults must parse as they are.
docker_compose_config() {
  command -v docker-compose > /dev/null 2>&1 || { echo "docker-compose is not installed (ensure_docker)"; return 1; }
  docker-compose -f docker-compose.yml config -q
}

infra_checks() {
  say "Terraform, Ansible, Docker, workflows"
  check "terraform fmt -check" terraform fmt -check -recursive deploy/terraform
  check "terraform variables and outputs (python-hcl2)" python3 deploy/terraform/check.py deploy/terraform deploy/terraform/global deploy/terraform/bootstrap
  check "checkov (terraform)" checkov_run -d deploy/terraform --framework terraform
  for playbook in deploy/ansible/playbooks/*.yml; do
    check "ansible-playbook --syntax-check $(basename "$playbook")" \
      env ANSIBLE_CONFIG=deploy/ansible/ansible.cfg ansible-playbook --syntax-check -i deploy/ansible/inventory/example.yml "$playbook"
  done
  check "ansible-lint (production profile)" sh -c 'cd deploy/ansible && ansible-lint --profile production playbooks/'
  check "ansible-playbook --check, local connection: no variable undefined at run time" python3 scripts/ansible-check.py
  check "hadolint Dockerfile" hadolint Dockerfile
  # DL4006: the builder's one pipe ends in `grep -qx`, which fails the step on an empty
  # listing too, so pipefail would add nothing.
  check "hadolint stand-in Dockerfiles" hadolint --ignore DL4006 docker/standins/*/Dockerfile
  check "checkov (Dockerfile)" checkov_run -f Dockerfile --framework dockerfile
  check "actionlint" actionlint
  check "checkov (GitHub Actions)" checkov_run -d .github --framework github_actions
  check "docker-compose config (1.29) accepts the file" docker_compose_config
  check "docker compose file parses and names its services" python3 -c '
import yaml, sys
c = yaml.safe_load(open("docker-compose.yml"))
want = {"postgres", "redis", "app", "prometheus", "grafana", "tempo"}
missing = want - set(c["services"])
sys.exit(f"missing services: {missing}" if missing else 0)'
}

ops_checks() {
  say "Observability, scripts, YAML, secrets, supply chain"
  check "promtool check rules" promtool check rules deploy/helm/bazaar/files/alerts.rules.yml
  check "promtool test rules" promtool test rules ops/alerts/alerts.test.yml
  check "canary gate: verdicts and promote/rollback (scripts/canary.py --self-test)" python3 scripts/canary.py --self-test
  check "semgrep (the project's rules, .semgrep.yml)" semgrep_run .
  check "every alert has a runbook" python3 -c '
import pathlib, re, sys, yaml
rules = yaml.safe_load(open("deploy/helm/bazaar/files/alerts.rules.yml"))
missing = []
for g in rules["groups"]:
    for r in g["rules"]:
        if "alert" not in r:
            continue  # a recording rule
        url = r["annotations"]["runbook_url"]
        page = pathlib.Path("ops/runbooks") / url.rsplit("/", 1)[-1]
        if not page.exists():
            missing.append(f"{r['"'"'alert'"'"']}: {page}")
sys.exit("\n".join(missing) if missing else 0)'
  check "Grafana dashboards are valid JSON with panels" python3 -c '
import json, pathlib, sys
bad = [p.name for p in pathlib.Path("ops/dashboards").glob("*.json") if not json.load(open(p)).get("panels")]
sys.exit(f"no panels: {bad}" if bad else 0)'
  check "shellcheck" shellcheck -x scripts/*.sh bench/*.sh .ci/run docker/build/*.sh docker/standins/*/*.sh
  check "yamllint" yamllint -s -c .yamllint.yml .
  # The Rust builder stand-in runs its build steps as root, as the official rust image does;
  # it never runs outside a build, and hadolint still checks it.
  check "trivy config and secret scan" trivy fs --quiet --scanners secret,misconfig --skip-db-update --skip-check-update \
    --exit-code 1 --severity HIGH,CRITICAL --skip-dirs end2end/node_modules --skip-dirs target \
    --skip-files docker/standins/rust/Dockerfile .
  check "gitleaks (history)" gitleaks git --no-banner --redact .
  check "syft SBOM" syft "dir:$BAZAAR_ROOT" -q -o "spdx-json=$out/sbom.spdx.json"
  if command -v cargo-deny >/dev/null 2>&1 || cargo deny --version >/dev/null 2>&1; then
    check "cargo deny --offline (licenses, bans, sources)" cargo deny --offline check licenses bans sources
  else
    say "cargo-deny not installed: skipped here (the Security workflow runs it)"
  fi
  say "skipped offline: trivy vulnerability DB, cargo audit and cargo deny advisories need their databases; the Security and Release workflows run them"
}

# Breaks one thing per validator in a scratch copy and requires a failure.
self_test() {
  say "self-test: broken artifacts must fail"
  local scratch="$out/broken"
  mkdir -p "$scratch"
  cp -r deploy "$scratch/"
  # An unknown field in a Deployment: strict schema validation must refuse it.
  sed 's/^  revisionHistoryLimit: 5$/  revisionHistoryLimit: 5\n  replicaz: 3/' deploy/k8s/base/deployment-bazaar.yaml > "$scratch/deploy/k8s/base/deployment-bazaar.yaml"
  kubectl kustomize "$scratch/deploy/k8s/overlays/prod" > "$out/broken-k8s.yaml"
  expect_failure "kubernetes-validate refuses an unknown Deployment field" replicaz kubernetes-validate --strict --quiet "$out/broken-k8s.yaml"
  # A value of the wrong type: the chart's values.schema.json must refuse it.
  render_chart --set-string config.SHUTDOWN_GRACE_SECS=28 > "$out/broken-grace.yaml"
  expect_failure "the shutdown check refuses drain + grace beyond the pod's grace period" terminationGracePeriodSeconds \
    python3 deploy/k8s/check-shutdown.py "$out/broken-grace.yaml"
  expect_failure "helm lint refuses replicaCount: \"three\"" replicaCount helm lint --strict deploy/helm/bazaar --set-string replicaCount=three
  # A rule with a broken expression: promtool must refuse it.
  sed 's/> 0.02/> > 0.02/' deploy/helm/bazaar/files/alerts.rules.yml > "$out/broken.rules.yml"
  expect_failure "promtool refuses a broken alert expression" "parse error" promtool check rules "$out/broken.rules.yml"
  # Terraform that does not parse, and a variable nobody uses.
  printf 'variable "unused" {\n  type = string\n}\n' >> "$scratch/deploy/terraform/variables.tf"
  expect_failure "the terraform check refuses an undocumented, unused variable" "variable unused" python3 deploy/terraform/check.py "$scratch/deploy/terraform"
  deploy_rule_faults "$scratch"
  # Group variables where Ansible does not look: check mode must hit the undefined variable.
  mkdir -p "$scratch/repo" && cp -r deploy scripts "$scratch/repo/"
  mv "$scratch/repo/deploy/ansible/inventory/group_vars" "$scratch/repo/deploy/ansible/group_vars"
  expect_failure "ansible check mode refuses group_vars Ansible never loads" "kubectl_version' is undefined" \
    python3 "$scratch/repo/scripts/ansible-check.py" "$scratch/repo/deploy/ansible/playbooks/bastion.yml"
  mkdir -p "$scratch/sast/domain/src"
  printf 'fn total(a: i64) -> f64 { a as f64 }\n' > "$scratch/sast/domain/src/cart.rs"
  expect_failure "semgrep refuses a float in money code" bazaar-money-float semgrep_run "$scratch/sast"
}

# One planted fault per deploy rule, each in a fresh copy of what the rules read.
deploy_rule_faults() {
  local base="$1/rules"
  fault() {
    local name="$1" rule="$2" file="$3" from="$4" to="$5"
    rm -rf "$base" && mkdir -p "$base/server/src" "$base/domain/src"
    cp -r deploy ops .github scripts docker-compose.yml Cargo.toml "$base/"
    cp server/src/config.rs "$base/server/src/" && cp domain/src/metrics.rs "$base/domain/src/"
    python3 - "$base/$file" "$from" "$to" <<'PY'
import pathlib, sys
p, old, new = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
text = p.read_text()
assert old in text, f"{p}: the planted fault's anchor is gone: {old!r}"
p.write_text(text.replace(old, new, 1))
PY
    expect_failure "$name" "$rule:" python3 "$base/scripts/check-deploy.py" --root "$base" --only "$rule"
  }
  fault "deploy rules refuse a Cluster traffic policy on the NLB" client-ip \
    deploy/ansible/playbooks/addons.yml "externalTrafficPolicy: Local" "externalTrafficPolicy: Cluster"
  fault "deploy rules refuse a scrape on the Ingress's port" metrics-private \
    deploy/helm/bazaar/templates/servicemonitor.yaml "{{ if .Values.config.METRICS_ADDR }}metrics{{ else }}http{{ end }}" "http"
  fault "deploy rules refuse a debug pod outside restricted Pod Security" debug-pod \
    ops/debug/debug-pod.yaml "allowPrivilegeEscalation: false" "allowPrivilegeEscalation: true"
  fault "deploy rules refuse the pods' ExternalSecret as a hook" hook-secret \
    deploy/helm/bazaar/templates/externalsecret.yaml "  name: {{ include \"bazaar.fullname\" . }}-secrets
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include \"bazaar.labels\" . | nindent 4 }}
spec:" "  name: {{ include \"bazaar.fullname\" . }}-secrets
  namespace: {{ .Release.Namespace }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
spec:"
  fault "deploy rules refuse a secret bundle without the Stripe key" secret-keys \
    deploy/terraform/data.tf "    STRIPE_SECRET_KEY     = var.stripe_secret_key" ""
  fault "deploy rules refuse an ESO chart that does not serve v1" eso-api-served \
    deploy/ansible/inventory/group_vars/all/main.yml 'external_secrets: "2.0.1"' 'external_secrets: "0.10.5"'
  fault "deploy rules refuse a bastion with a public address" cluster-access \
    deploy/terraform/access.tf "associate_public_ip_address = false" "associate_public_ip_address = true"
  fault "deploy rules refuse an ECR repository per environment" stack-collision \
    deploy/terraform/main.tf "module \"eks\" {" "resource \"aws_ecr_repository\" \"app\" {
  name = \"bazaar\"
}

module \"eks\" {"
  fault "deploy rules refuse a release that does not wait for CI" release-gates \
    .github/workflows/release.yml "workflows: [CI]" "workflows: [Lint]"
  fault "deploy rules refuse an HPA metric prometheus-adapter does not serve" hpa-rps \
    deploy/helm/bazaar/templates/hpa.yaml "name: bazaar_http_requests_per_second" "name: http_requests_per_second"
  fault "deploy rules refuse traces that bypass the collector" observability \
    deploy/helm/bazaar/values.yaml "http://otel-collector.observability.svc.cluster.local:4318" "http://tempo.observability.svc.cluster.local:4318"
  fault "deploy rules refuse a redis crate without TLS" redis-tls Cargo.toml '"tokio-rustls-comp", ' ""
  fault "deploy rules refuse a ClusterSecretStore nobody creates" eso-store \
    deploy/helm/bazaar/values.yaml "name: aws-secrets-manager" "name: vault-backend"
}

# expect_failure NAME PATTERN CMD...: CMD must fail, and say PATTERN (so it failed for
# the planted reason, not another one).
expect_failure() {
  local name="$1" pattern="$2"; shift 2
  if "$@" > "$out/log" 2>&1; then
    printf '  FAIL  %s (the validator passed a broken artifact)\n' "$name"
    failures=$((failures + 1))
  elif ! grep -q -- "$pattern" "$out/log"; then
    printf '  FAIL  %s (it failed, but not for the planted fault)\n' "$name"
    sed 's/^/        /' "$out/log" | tail -n 20
    failures=$((failures + 1))
  else
    printf '  ok    %s\n' "$name"
  fi
}

k8s_checks
infra_checks
ops_checks
[ "${1:-}" = "--no-self-test" ] || self_test

if [ "$failures" -gt 0 ]; then
  die "$failures deploy check(s) failed"
fi
say "every deploy artifact passed"
