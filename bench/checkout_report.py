"""Turns bench/checkout.sh's loadgen lines and Postgres statistics into the checkout
breakdown of BENCHMARKS.md: throughput (median of the rounds), then per order of the last
round the statements, the commits and the WAL flushes."""
import re
import statistics
import sys

loadgen, stmts, wal, orders, duration, conns = sys.argv[1:7]
orders = max(int(orders), 1)

rounds = []
for line in open(loadgen):
    fields = dict(kv.split("=") for kv in line.split())
    rounds.append({k: float(v) for k, v in fields.items()})
rps = statistics.median(r["ok_per_sec"] for r in rounds)
p50 = statistics.median(r["p50_ms"] for r in rounds)
p99 = statistics.median(r["p99_ms"] for r in rounds)
failed = sum(int(r["failed"]) for r in rounds)
print(f"bench/loadgen checkout, {conns} connections, {duration} s x {len(rounds)} rounds, medians; "
      f"private Postgres with pg_stat_statements and WAL timing on.\n")
print("| orders/s | p50 ms | p99 ms | failed |")
print("|---:|---:|---:|---:|")
print(f"| {rps:,.0f} | {p50:.1f} | {p99:.1f} | {failed} |\n")


def label(sql):
    """A short name for a statement: its verb and first table."""
    s = sql.strip()
    m = re.match(r"(?is)(?:with .*?\)\s*)?(select|insert into|update|delete from)\s+(.*)", s)
    if not m:
        return s[:40]
    verb, rest = m.group(1).lower(), m.group(2)
    if verb == "select":
        t = re.search(r"(?i)\bfrom\s+([a-z_]+)", rest)
        return f"SELECT {t.group(1) if t else rest[:30]}"
    return f"{verb.split()[0].upper()} {re.match(r'[a-z_]+', rest, re.I).group(0)}"


rows = []
total_ms = 0.0
for line in open(stmts):
    calls, ms, nrows, sql = line.rstrip("\n").split("\t", 3)
    calls, ms = int(calls), float(ms)
    total_ms += ms
    rows.append((label(sql), calls, ms, sql))
print(f"Per order of the last round ({orders:,} orders): statements by execution time.\n")
print("| statement | calls per order | µs per order | µs per call |")
print("|---|---:|---:|---:|")
shown = 0.0
for name, calls, ms, _ in rows[:14]:
    shown += ms
    print(f"| `{name}` | {calls / orders:.2f} | {ms * 1000 / orders:,.0f} | {ms * 1000 / calls:,.0f} |")
rest = [r for r in rows[14:]]
if rest:
    print(f"| {len(rest)} others | {sum(r[1] for r in rest) / orders:.2f} | "
          f"{(total_ms - shown) * 1000 / orders:,.0f} | |")
calls_all = sum(r[1] for r in rows)
print(f"| **all statements** | {calls_all / orders:.2f} | {total_ms * 1000 / orders:,.0f} | |\n")

records, wal_bytes, writes, syncs, write_ms, sync_ms, commits = wal.split("\t")
syncs, sync_ms, write_ms, commits = int(syncs), float(sync_ms), float(write_ms), int(commits)
wall_us = 1e6 / rps * int(conns)  # time one connection spends per order, closed loop
print("| per order | value |")
print("|---|---:|")
print(f"| transactions (read-only ones included) | {commits / orders:.2f} |")
print(f"| WAL bytes | {int(wal_bytes) / orders:,.0f} |")
print(f"| WAL flushes (fsync) | {syncs / orders:.2f} |")
print(f"| WAL write + flush time, µs | {(write_ms + sync_ms) * 1000 / orders:,.0f} |")
print(f"| statement execution, µs | {total_ms * 1000 / orders:,.0f} |")
print(f"| a shopper's wait, µs (connections / orders per s) | {wall_us:,.0f} |")
