#!/usr/bin/env bash
# Blue/green for the one binary (docs/rollouts.md): two colour releases of the chart,
# bazaar-blue and bazaar-green, and a router release, bazaar, that owns the live Service and
# Ingress and selects one colour's pods. Needs kubectl and helm pointed at the cluster
# (scripts/eks-tunnel.sh from outside the VPC).
#
#   scripts/blue-green.sh status
#   scripts/blue-green.sh deploy TAG     install TAG on the idle colour and check it there
#   scripts/blue-green.sh switch         send all traffic to the idle colour
#   scripts/blue-green.sh rollback       send it back (the previous colour still runs)
#
# Environment: NAMESPACE (bazaar), CHART (deploy/helm/bazaar, or oci://… with VERSION),
# VALUES (deploy/helm/bazaar/values-prod.yaml).
set -euo pipefail
ns="${NAMESPACE:-bazaar}"
chart="${CHART:-deploy/helm/bazaar}"
values="${VALUES:-deploy/helm/bazaar/values-prod.yaml}"
version_args=()
[ -n "${VERSION:-}" ] && version_args=(--version "$VERSION")

active() {
  kubectl -n "$ns" get service bazaar -o 'jsonpath={.spec.selector.app\.kubernetes\.io/instance}' 2>/dev/null || true
}
idle() {
  case "$(active)" in
    bazaar-blue) echo bazaar-green ;;
    *) echo bazaar-blue ;;
  esac
}
router() {
  helm upgrade --install bazaar "$chart" "${version_args[@]}" -n "$ns" -f "$values" \
    --set blueGreen.role=router --set "blueGreen.activeRelease=$1" --wait --timeout 5m
}

case "${1:-status}" in
  status)
    echo "live: $(active || echo none); idle: $(idle)"
    helm -n "$ns" list --filter '^bazaar(-blue|-green)?$'
    ;;
  deploy)
    tag="${2:?usage: blue-green.sh deploy TAG}"
    target="$(idle)"
    echo "installing $tag on $target (live: $(active || echo none))"
    helm upgrade --install "$target" "$chart" "${version_args[@]}" -n "$ns" -f "$values" \
      --set blueGreen.role=color --set "image.tag=$tag" --atomic --wait --timeout 10m
    # The preview Service reaches the new pods before any shopper does. port-forward goes
    # through the kubelet, which the pods' NetworkPolicies do not filter.
    kubectl -n "$ns" port-forward "service/$target" 18080:80 > /dev/null 2>&1 &
    forward=$!
    trap 'kill "$forward" 2>/dev/null || true' EXIT
    for _ in $(seq 30); do curl -fsS http://127.0.0.1:18080/health > /dev/null 2>&1 && break; sleep 1; done
    for path in /health /ready /; do
      curl --fail --silent --show-error "http://127.0.0.1:18080$path" > /dev/null
    done
    echo "$target serves $tag; run 'scripts/blue-green.sh switch' to make it live"
    ;;
  switch)
    target="$(idle)"
    kubectl -n "$ns" get deploy "$target" > /dev/null
    router "$target"
    echo "live: $(active)"
    ;;
  rollback)
    # The router's previous revision selected the other colour, whose pods never stopped.
    helm -n "$ns" rollback bazaar --wait
    echo "live: $(active)"
    ;;
  *)
    sed -n '2,16p' "$0"
    exit 2
    ;;
esac
