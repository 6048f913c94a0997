"""The flat-cost table of BENCHMARKS.md: each listing scenario on the small and the large
catalog from one run of bench/large.sh, medians of the rounds, and the large/small ratio."""
import re
import statistics
import sys

raw, seed_log, duration, conns, rounds = sys.argv[1:6]
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


runs, labels, names = {}, [], []
for block in open(raw).read().split("### ")[1:]:
    header, body = block.split("\n", 1)
    label, name, path = header.split("|")
    labels += [label] if label not in labels else []
    names += [(name, path)] if (name, path) not in names else []
    r = runs.setdefault((label, name), {"rps": [], "p99": [], "errors": 0})
    r["rps"].append(float(re.search(r"Requests/sec:\s+([\d.]+)", body).group(1)))
    r["p99"].append(ms(re.search(r"\s99%\s+(\S+)", body).group(1)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", body)
    r["errors"] += int(m.group(1)) if m else 0

facts = {}
for line in open(seed_log):
    label, rest = line.rsplit(" ", 1)[0], line.rsplit(" ", 1)[1].strip()
    if label.endswith(" rss_kib"):
        facts[(label[: -len(" rss_kib")], "rss")] = int(rest) / 1024
    else:
        facts[(label, "seed")] = float(rest)

small, large = labels[0], labels[-1]
print(f"Load: wrk, {conns} connections, 2 threads, {duration} x {rounds} rounds per scenario, "
      "medians shown, catalog cache off.\n")
print(f"| scenario | path | {small} req/s | p99 ms | {large} req/s | p99 ms | throughput ratio | non-2xx |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for name, path in names:
    a, b = runs[(small, name)], runs[(large, name)]
    ra, rb = statistics.median(a["rps"]), statistics.median(b["rps"])
    print(f"| {name} | `{path}` | {ra:,.0f} | {statistics.median(a['p99']):.1f} | {rb:,.0f} | "
          f"{statistics.median(b['p99']):.1f} | {rb / ra:.2f}x | {a['errors'] + b['errors']} |")
print()
for label in labels:
    print(f"- {label}: seeded in {facts[(label, 'seed')]:.1f} s; server peak RSS under the load "
          f"{facts[(label, 'rss')]:.0f} MiB.")
