#!/usr/bin/env python3
"""Checks rendered manifests for a shutdown that suits a rollout.

    deploy/k8s/check-shutdown.py MANIFEST.yaml...

For every Deployment running the server: the readiness probe is the pod's own
(`/ready/pod`, which a shared outage cannot fail on every replica at once), and the app's
drain plus grace (SHUTDOWN_DRAIN_SECS + SHUTDOWN_GRACE_SECS, from the ConfigMaps it loads
or the defaults 5 and 20) fits inside terminationGracePeriodSeconds, so Kubernetes never
kills a pod that is still finishing requests.
"""

import sys

import yaml

DEFAULTS = {"SHUTDOWN_DRAIN_SECS": 5, "SHUTDOWN_GRACE_SECS": 20}


def main(paths):
    docs = [d for p in paths for d in yaml.safe_load_all(open(p)) if d]
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    problems, seen = [], 0
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        spec = d["spec"]["template"]["spec"]
        for c in spec["containers"]:
            if "serve" not in (c.get("args") or ["serve"]) and "bazaar" not in c.get("image", ""):
                continue
            seen += 1
            where = f"{d['metadata']['name']}/{c['name']}"
            env = dict(DEFAULTS)
            for src in c.get("envFrom", []):
                ref = src.get("configMapRef", {}).get("name")
                env.update({k: int(v) for k, v in configmaps.get(ref, {}).items() if k in DEFAULTS})
            env.update({e["name"]: int(e["value"]) for e in c.get("env", []) if e["name"] in DEFAULTS and "value" in e})
            budget = env["SHUTDOWN_DRAIN_SECS"] + env["SHUTDOWN_GRACE_SECS"]
            tgps = spec.get("terminationGracePeriodSeconds", 30)
            if budget >= tgps:
                problems.append(f"{where}: drain {env['SHUTDOWN_DRAIN_SECS']}s + grace {env['SHUTDOWN_GRACE_SECS']}s "
                                f"does not fit in terminationGracePeriodSeconds {tgps}")
            path = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
            if path != "/ready/pod":
                problems.append(f"{where}: readinessProbe path is {path}, not /ready/pod")
    if not seen:
        problems.append("no server Deployment found")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
