"""The side-by-side table of BENCHMARKS.md from one bench/peer.sh run: per scenario, Medusa's
and Bazaar's (cache on and off) throughput, p99 and server CPU-ms per request, and the
ratios the issue asks for (throughput x, CPU per request 1/x, p99 1/x), cache off."""
import sys

medusa_file, bazaar_file, dur, conns = sys.argv[1:5]


def fields(line):
    return dict(p.split("=", 1) for p in line.split() if "=" in p)


medusa, bazaar, rss = {}, {}, {}
for line in open(medusa_file):
    if line.startswith("medusa "):
        name = line.split()[1]
        f = fields(line)
        medusa[name] = {"rps": float(f["rps"]), "p99": float(f["p99_ms"]),
                        "cpu": float(f["medusa_cpu_ms_per_req"]), "rss": f.get("rss_peak", "")}
for line in open(bazaar_file):
    label, rest = line.split(" ", 1)
    f = fields(line)
    if "rss_kib" in f:
        rss[label] = int(f["rss_kib"]) / 1024
        continue
    name = rest.split()[0]
    bazaar[(label, name)] = {"rps": float(f.get("rps", f.get("ok_per_sec", 0))), "p99": float(f["p99_ms"]),
                             "cpu": float(f["cpu_ms_per_req"])}

print(f"wrk (and bench/loadgen for Bazaar's add to cart), {conns} connections, {dur} s per scenario, "
      "one run, Medusa first, then Bazaar; nothing else loaded on purpose.\n")
print("| scenario | server | req/s | p99 ms | CPU-ms/request |")
print("|---|---|---:|---:|---:|")
for name in ("list", "detail", "add"):
    m = medusa.get(name)
    if m:
        print(f"| {name} | Medusa 2.21 | {m['rps']:,.1f} | {m['p99']:,.0f} | {m['cpu']:.1f} |")
    for label in ("bazaar-cache-on", "bazaar-cache-off"):
        b = bazaar.get((label, name))
        if b:
            print(f"| {name} | Bazaar, cache {label.rsplit('-', 1)[1]} | {b['rps']:,.0f} | {b['p99']:.2f} | {b['cpu']:.3f} |")
print("\nRatios with Bazaar's cache off (goal: ≥ 500x throughput, ≤ 1/500 CPU per request, ≤ 1/100 p99):\n")
print("| scenario | throughput | CPU per request | p99 |")
print("|---|---:|---:|---:|")
for name in ("list", "detail", "add"):
    m, b = medusa.get(name), bazaar.get(("bazaar-cache-off", name))
    if m and b:
        print(f"| {name} | {b['rps'] / m['rps']:,.0f}x | 1/{m['cpu'] / max(b['cpu'], 1e-9):,.0f} | "
              f"1/{m['p99'] / max(b['p99'], 1e-9):,.0f} |")
print()
for label, mib in rss.items():
    print(f"- {label}: server peak RSS {mib:.0f} MiB.")
