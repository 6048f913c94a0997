#!/usr/bin/env python3
"""Drives a canary release to its end without a person: the deploy workflow's last step.

    python3 scripts/canary.py --release bazaar --namespace bazaar --chart oci://…/charts/bazaar \
        --version 0.1.0-main.42 --values deploy/helm/bazaar/values-prod.yaml \
        --canary-tag <sha> --prometheus http://127.0.0.1:19090 --slo ops/slo.json \
        --steps 10,25,50 --window 300
    python3 scripts/canary.py --self-test

For each weight it upgrades the release with the canary at that share of traffic (the
stable pods keep the version running now), waits one window, then reads the canary's
request rate, 5xx ratio and p95 from Prometheus (the recording rules in
deploy/helm/bazaar/files/alerts.rules.yml, group bazaar.tracks). Over the SLO: roll back
(canary off, stable unchanged) and exit 1. Too little traffic to judge: wait up to two
more windows, then roll back. Every step within the SLO: promote (the stable pods move to
the canary's version, the canary goes) and exit 0. Standard library only.
"""
import argparse
import json
import subprocess
import sys
import time
import urllib.parse
import urllib.request

QUERIES = {
    "rps": 'bazaar_track:requests:rate5m{bazaar_track="canary"}',
    "error_ratio": 'bazaar_track:errors_5xx:ratio_rate5m{bazaar_track="canary"}',
    "p95": 'bazaar_track:latency_seconds:p95_rate5m{bazaar_track="canary"}',
}
EXTRA_WAITS = 2


def verdict(sample: dict, slo: dict) -> tuple:
    """("pass" | "fail" | "wait", why) for one window's readings (None: no series)."""
    rps = sample.get("rps")
    if rps is None or rps < slo["min_requests_per_second"]:
        return "wait", f"too little canary traffic to judge ({rps or 0:.3f} req/s)"
    errors, p95 = sample.get("error_ratio"), sample.get("p95")
    if errors is not None and errors > slo["max_error_ratio"]:
        return "fail", f"5xx ratio {errors:.2%} is over {slo['max_error_ratio']:.2%}"
    # histogram_quantile gives NaN when no request finished in the window: no evidence yet.
    if p95 is not None and p95 != p95:
        return "wait", "no completed requests in the window"
    if p95 is not None and p95 > slo["max_p95_seconds"]:
        return "fail", f"p95 {p95 * 1000:.0f} ms is over {slo['max_p95_seconds'] * 1000:.0f} ms"
    return "pass", f"{rps:.2f} req/s, 5xx {errors or 0:.2%}, p95 {(p95 or 0) * 1000:.0f} ms"


def prometheus_reader(base: str):
    def read() -> dict:
        out = {}
        for key, query in QUERIES.items():
            url = f"{base.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
            if body.get("status") != "success":
                raise RuntimeError(f"Prometheus refused {query}: {body}")
            result = body["data"]["result"]
            out[key] = float(result[0]["value"][1]) if result else None
        return out
    return read


def helm_runner(args):
    def helm(*sets: str) -> None:
        cmd = ["helm", "upgrade", "--install", args.release, args.chart, "--version", args.version,
               "--namespace", args.namespace, "-f", args.values, "--wait", "--timeout", "10m"]
        for s in sets:
            cmd += ["--set", s]
        print("+", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return helm


def stable_tag(args) -> str:
    image = subprocess.run(
        ["kubectl", "-n", args.namespace, "get", "deploy", args.release,
         "-o", "jsonpath={.spec.template.spec.containers[0].image}"],
        check=True, capture_output=True, text=True).stdout.strip()
    return image.rsplit(":", 1)[-1]


def drive(steps, window, slo, stable, canary, helm, read, sleep=time.sleep, log=print) -> bool:
    """Runs the canary through every step; True when it was promoted."""
    def rollback(why: str) -> bool:
        log(f"rolling back: {why}")
        helm(f"image.tag={stable}", "canary.enabled=false")
        return False

    for weight in steps:
        helm(f"image.tag={stable}", "canary.enabled=true", f"canary.image.tag={canary}",
             f"canary.weight={weight}")
        for attempt in range(1 + EXTRA_WAITS):
            sleep(window)
            try:
                result, why = verdict(read(), slo)
            except (OSError, RuntimeError, ValueError) as e:
                result, why = "wait", f"Prometheus unreadable: {e}"
            log(f"canary at {weight}%: {result}: {why}")
            if result != "wait":
                break
        if result == "fail":
            return rollback(f"at {weight}%, {why}")
        if result == "wait":
            return rollback(f"at {weight}%, still no verdict after {1 + EXTRA_WAITS} windows ({why})")
    log(f"promoting {canary}")
    helm(f"image.tag={canary}", "canary.enabled=false")
    return True


def self_test() -> int:
    slo = {"max_error_ratio": 0.01, "max_p95_seconds": 0.5, "min_requests_per_second": 0.2}
    cases = [
        ({"rps": 5, "error_ratio": 0.0, "p95": 0.05}, "pass"),
        ({"rps": 5, "error_ratio": 0.02, "p95": 0.05}, "fail"),
        ({"rps": 5, "error_ratio": 0.0, "p95": 0.9}, "fail"),
        ({"rps": 0.01, "error_ratio": 0.5, "p95": 3}, "wait"),
        ({"rps": None, "error_ratio": None, "p95": None}, "wait"),
        ({"rps": 5, "error_ratio": 0.0, "p95": float("nan")}, "wait"),
        ({"rps": 5, "error_ratio": None, "p95": None}, "pass"),
    ]
    failures = [f"{s} → {verdict(s, slo)[0]}, want {want}" for s, want in cases if verdict(s, slo)[0] != want]

    def run(readings):
        calls, feed = [], iter(readings)
        promoted = drive([10, 50], 0, slo, "old", "new", lambda *s: calls.append(s),
                         lambda: next(feed), sleep=lambda _: None, log=lambda _: None)
        return promoted, calls

    good = {"rps": 5, "error_ratio": 0.0, "p95": 0.05}
    bad = {"rps": 5, "error_ratio": 0.3, "p95": 0.05}
    idle = {"rps": 0.0, "error_ratio": None, "p95": None}
    promoted, calls = run([good, good])
    if not promoted or calls[-1] != ("image.tag=new", "canary.enabled=false"):
        failures.append(f"two good windows must promote: {calls}")
    if [c[-1] for c in calls[:2]] != ["canary.weight=10", "canary.weight=50"]:
        failures.append(f"the weights must be stepped in order: {calls}")
    promoted, calls = run([good, bad])
    if promoted or calls[-1] != ("image.tag=old", "canary.enabled=false") or len(calls) != 3:
        failures.append(f"a bad second window must roll back at once: {calls}")
    promoted, calls = run([idle, idle, idle])
    if promoted or calls[-1] != ("image.tag=old", "canary.enabled=false"):
        failures.append(f"a canary nobody reaches must be rolled back, not promoted: {calls}")
    promoted, calls = run([idle, good, good])
    if not promoted:
        failures.append(f"traffic arriving in a later window must still be judged: {calls}")
    for f in failures:
        print(f"canary self-test: {f}")
    if not failures:
        print("canary self-test: verdicts and the promote/rollback sequence hold")
    return 1 if failures else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--self-test", action="store_true")
    p.add_argument("--release"), p.add_argument("--namespace"), p.add_argument("--chart")
    p.add_argument("--version"), p.add_argument("--values"), p.add_argument("--canary-tag")
    p.add_argument("--stable-tag", help="default: the image the release runs now")
    p.add_argument("--prometheus"), p.add_argument("--slo", default="ops/slo.json")
    p.add_argument("--steps", default="10,25,50")
    p.add_argument("--window", type=int, default=300, help="seconds per step")
    args = p.parse_args()
    if args.self_test:
        return self_test()
    slo = json.load(open(args.slo))
    try:
        stable = args.stable_tag or stable_tag(args)
    except subprocess.CalledProcessError:
        # The first install: nothing serves yet, so there is nothing to protect.
        print(f"no {args.release} Deployment yet; installing {args.canary_tag} directly")
        helm_runner(args)(f"image.tag={args.canary_tag}")
        return 0
    if stable == args.canary_tag:
        print(f"{stable} already runs; nothing to do")
        return 0
    steps = [int(s) for s in args.steps.split(",")]
    ok = drive(steps, args.window, slo, stable, args.canary_tag, helm_runner(args),
               prometheus_reader(args.prometheus))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
