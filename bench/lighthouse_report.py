"""The Lighthouse table of BENCHMARKS.md from bench/lighthouse.sh's JSON reports: per page,
the median of each category score and of the page-load metrics over the runs."""
import json
import os
import statistics
import sys

out, runs = sys.argv[1], int(sys.argv[2])
PAGES = ["home", "category", "product", "cart", "checkout"]
CATS = ["performance", "accessibility", "best-practices", "seo"]

print("| page | performance | accessibility | best practices | SEO | FCP s | LCP s | TBT ms | CLS | JS+WASM KB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
failed = {}
for page in PAGES:
    reports = [json.load(open(os.path.join(out, f"{page}-{r}.json"))) for r in range(1, runs + 1)]
    med = lambda f: statistics.median(f(rep) for rep in reports)  # noqa: E731
    scores = [med(lambda rep, c=c: round(rep["categories"][c]["score"] * 100)) for c in CATS]
    audit = lambda name: med(lambda rep: rep["audits"][name]["numericValue"])  # noqa: E731
    script_bytes = med(lambda rep: sum(
        i["transferSize"] for i in rep["audits"]["network-requests"]["details"]["items"]
        if i.get("resourceType") in ("Script", "Fetch", "Other") and (i["url"].endswith(".js") or i["url"].endswith(".wasm"))))
    print(f"| {page} | {scores[0]:.0f} | {scores[1]:.0f} | {scores[2]:.0f} | {scores[3]:.0f} | "
          f"{audit('first-contentful-paint') / 1000:.2f} | {audit('largest-contentful-paint') / 1000:.2f} | "
          f"{audit('total-blocking-time'):.0f} | {audit('cumulative-layout-shift'):.3f} | {script_bytes / 1000:.0f} |")
    last = reports[-1]
    failed[page] = sorted(
        a for c in CATS for ref in last["categories"][c]["auditRefs"]
        if ref["weight"] > 0 and (a := ref["id"]) in last["audits"]
        and last["audits"][a]["score"] is not None and last["audits"][a]["score"] < 1)
print()
for page, audits in failed.items():
    print(f"- {page}: audits below full marks: {', '.join(audits) if audits else 'none'}")
