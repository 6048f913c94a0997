"""Groups `perf report -F overhead,dso,sym` lines (on stdin) by component, so BENCHMARKS.md
can say where a page's CPU goes. The first rule that matches a symbol (or its DSO) wins."""
import re
import sys

path, wrk = sys.argv[1:3]
GROUPS = [
    ("kernel: TCP, epoll, syscalls", r"\[kernel|\[unknown\]|^\[k\]"),
    ("HTML rendering (tachys, leptos, the app's views)", r"tachys|leptos|reactive_graph|::app::|app::|either_of|any_spawner|html_escape"),
    ("async runtime (tokio)", r"tokio|mio::|parking_lot|crossbeam"),
    ("HTTP (hyper, axum, tower, compression)", r"hyper|axum|tower|http::|h2::|httparse|brotli|flate2|async_compression|compression"),
    ("sessions and cookies", r"tower_sessions|cookie|session"),
    ("Redis client", r"redis"),
    ("Postgres client (sqlx)", r"sqlx"),
    ("JSON and serialization", r"serde|json"),
    ("tracing and metrics", r"tracing|prometheus|opentelemetry|metrics"),
    ("allocation and copying", r"malloc|free|realloc|memcpy|memmove|memset|alloc::|_int_|cfree|calloc|__rdl_|__rust_(re|de)?alloc|no_alloc_shim"),
    ("hashing and strings", r"hash|fmt::|core::str|String|to_string|write_str|Formatter"),
    ("other libc", r"libc\.so|ld-linux"),
]
totals = {name: 0.0 for name, _ in GROUPS}
other = 0.0
top_other = []
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if not m:
        continue
    pct, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
    text = f"[k] {sym}" if kind == "k" else f"{dso} {sym}"
    for name, rule in GROUPS:
        if re.search(rule, text):
            totals[name] += pct
            break
    else:
        other += pct
        top_other.append((pct, sym))

body = open(wrk).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", body).group(1)
print(f"`perf record -F 999` of the server process while wrk loads `{path}` ({float(rps):,.0f} req/s "
      f"during the recording). Share of the server's CPU samples:\n")
print("| component | share |")
print("|---|---:|")
for name, _ in GROUPS:
    if totals[name] >= 0.05:
        print(f"| {name} | {totals[name]:.1f} % |")
print(f"| everything else | {other:.1f} % |")
top_other.sort(reverse=True)
if top_other:
    print("\nLargest of the rest: " + ", ".join(f"`{s.strip()[:60]}` {p:.1f} %" for p, s in top_other[:5]))
