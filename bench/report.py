"""Turns wrk output and bundle sizes into the Markdown tables of BENCHMARKS.md (medians)."""
import re
import statistics
import sys

raw, sizes, rss_kib, duration, conns, rounds, ttl = sys.argv[1:8]
loadgen = sys.argv[8] if len(sys.argv) > 8 else None
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


runs = {}
order = []
for block in open(raw).read().split("### ")[1:]:
    header, body = block.split("\n", 1)
    name, path = header.split("|")
    if name not in runs:
        runs[name] = {"path": path, "rps": [], "p50": [], "p99": [], "cpu": [], "errors": 0}
        order.append(name)
    r = runs[name]
    r["rps"].append(float(re.search(r"Requests/sec:\s+([\d.]+)", body).group(1)))
    r["p50"].append(ms(re.search(r"\s50%\s+(\S+)", body).group(1)))
    r["p99"].append(ms(re.search(r"\s99%\s+(\S+)", body).group(1)))
    cpu = re.search(r"server_cpu_ms (\d+)", body)
    if cpu:
        r["cpu"].append(int(cpu.group(1)) / int(re.search(r"(\d+) requests in", body).group(1)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", body)
    r["errors"] += int(m.group(1)) if m else 0

base = statistics.median(runs[order[0]]["rps"])
print(f"Load: wrk, {conns} connections, 2 threads, {duration} x {rounds} rounds per scenario, medians shown. "
      f"Catalog cache TTL: {ttl} s.\n")
print("| scenario | path | req/s | vs baseline | p50 ms | p99 ms | server CPU ms/request | non-2xx |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for name in order:
    r = runs[name]
    rps = statistics.median(r["rps"])
    print(f"| {name} | `{r['path']}` | {rps:,.0f} | {rps / base:.2f}x | "
          f"{statistics.median(r['p50']):.2f} | {statistics.median(r['p99']):.2f} | "
          f"{statistics.median(r['cpu']) if r['cpu'] else float('nan'):.3f} | {r['errors']} |")
print(f"\nServer peak RSS (VmHWM): {int(rss_kib) / 1024:.1f} MiB\n")
print("| file | raw KB | brotli KB |")
print("|---|---:|---:|")
total_raw = total_br = 0
for line in open(sizes):
    name, raw_b, br_b = line.split()
    kind = name.rsplit(".", 1)[-1]
    if kind in ("wasm", "js"):
        total_raw += int(raw_b)
        total_br += int(br_b)
    print(f"| {name} | {int(raw_b) / 1000:.1f} | {int(br_b) / 1000:.1f} |")
print(f"| **WASM + JS** | **{total_raw / 1000:.1f}** | **{total_br / 1000:.1f}** |")

if loadgen:
    rows = {}
    for line in open(loadgen):
        name, *pairs = line.split()
        values = dict(p.split("=") for p in pairs)
        rows.setdefault(name, []).append(values)
    print("\nStateful scenarios (bench/loadgen, closed loop, same connections; medians):\n")
    print("| scenario | measured step | ok/s | vs baseline | p50 ms | p99 ms | failed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    step = {"health": "`GET /health` (the tool's ceiling)", "add-to-cart": "`POST /api/cart/items`",
            "checkout": "`POST /api/checkout` (after an unmeasured add)"}
    base = statistics.median(float(r["ok_per_sec"]) for r in rows.get("health", [{"ok_per_sec": "1"}]))
    for name in ("health", "add-to-cart", "checkout"):
        rs = rows.get(name, [])
        if not rs:
            continue
        ok = statistics.median(float(r["ok_per_sec"]) for r in rs)
        p50 = statistics.median(float(r["p50_ms"]) for r in rs)
        p99 = statistics.median(float(r["p99_ms"]) for r in rs)
        failed = sum(int(r["failed"]) for r in rs)
        print(f"| {name} | {step[name]} | {ok:,.0f} | {ok / base:.2f}x | {p50:.2f} | {p99:.2f} | {failed} |")
