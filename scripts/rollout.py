#!/usr/bin/env python3
"""Replicas of the image behind a local TLS ingress, under shopper traffic.

    scripts/rollout.py            (scripts/rollout-test.sh installs and checks what it needs)

Postgres and Redis run as containers of the local stand-in images; three replicas of
APP_IMAGE run as the pod spec says; Debian's nginx is the ingress, configured like
ingress-nginx's defaults (upstream keep-alive, `proxy_next_upstream error timeout`, 20 MB
bodies, X-Forwarded-For, TLS from a CA made here, HSTS). Sixteen keep-alive clients browse,
fill carts and check out, twelve through it and four through the "Service" (straight to
the endpoints, as kube-proxy routes in-cluster calls), while the script, in one run:

1. replaces every replica the way a Kubernetes rolling update does (the new pod ready
   first, then SIGTERM to the old one and its endpoint removed about 2 s later), and
   requires 0 failed requests and 0 lost or duplicated orders;
2. stops Redis for 6 s: browsing must keep answering 200, cart and checkout 503 with
   Retry-After and nothing else, and the cart must come back within 5 s;
3. restarts Postgres: 503 only while it is down, then recovery;
4. measures how long a stock change made through one replica takes to show on the others
   (must be under 1 s);
5. measures browsing throughput through the ingress with 1, 2 and 3 replicas.

Prints one line per check and a JSON report (also written to $BAZAAR_CACHE/rollout-report.json);
exits non-zero naming the first check that failed.
"""

import http.client
import json
import os
import random
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

DOCKER = os.environ.get("DOCKER", "docker")
IMAGE = os.environ.get("APP_IMAGE", "bazaar:local")
PG_IMAGE = os.environ.get("STANDIN_POSTGRES", "postgres:16-alpine")
REDIS_IMAGE = os.environ.get("STANDIN_REDIS", "redis:7-alpine")
CACHE = os.environ.get("BAZAAR_CACHE", os.path.expanduser("~/.cache/bazaar"))
NAME = "bazaar-rollout"
PG_PORT, REDIS_PORT = 55432, 56379
HTTPS_PORT, HTTP_PORT = 18443, 18480
HOST = "shop.bazaar.test"
CLIENTS = int(os.environ.get("ROLLOUT_CLIENTS", "16"))
DB_URL = f"postgres://bazaar:bazaar@127.0.0.1:{PG_PORT}/bazaar"
# The pod spec: memory and CPU limits, read-only root, an emptyDir on /tmp.
POD = ["--read-only", "--user", "65532:65532", "--cap-drop", "ALL",
       "--security-opt", "no-new-privileges", "--tmpfs", "/tmp:rw,noexec,nosuid,size=64m",
       "--network", "host", "--memory", "512m", "--memory-swap", "512m", "--cpus", "1"]


class Failed(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def ok(msg):
    log(f"  ok    {msg}")


def check(cond, msg, detail=""):
    if not cond:
        raise Failed(f"{msg}{': ' + str(detail)[:600] if detail else ''}")
    ok(msg)


def run(*args, input=None, check=True):
    res = subprocess.run(args, input=input, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise Failed(f"`{' '.join(args)}` failed ({res.returncode}): {res.stderr.strip()[-600:]}")
    return res


def docker(*args, **kw):
    return run(DOCKER, *args, **kw)


def wait_for(what, probe, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise Failed(f"{what}: not within {seconds}s")


def plain_get(port, path, timeout=2):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def psql(sql):
    return run("psql", DB_URL, "-qAtc", sql).stdout.strip()


# ---------------------------------------------------------------- the ingress

class Ingress:
    """Debian's nginx as the Ingress: TLS, HSTS and ingress-nginx's proxy defaults."""

    def __init__(self, work):
        self.dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.dir, "temp"), exist_ok=True)
        os.chmod(os.path.join(self.dir, "temp"), 0o777)
        self.ca = os.path.join(self.dir, "ca.crt")
        self._certs()
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, https=HTTPS_PORT, http=HTTP_PORT, host=HOST))
        self.set_upstreams([])

    def _certs(self):
        d = self.dir
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=Bazaar rollout test CA", "-keyout", f"{d}/ca.key", "-out", self.ca)
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={HOST}",
            "-keyout", f"{d}/tls.key", "-out", f"{d}/tls.csr")
        with open(f"{d}/san.ext", "w") as f:
            f.write(f"subjectAltName=DNS:{HOST},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        run("openssl", "x509", "-req", "-in", f"{d}/tls.csr", "-CA", self.ca, "-CAkey",
            f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-extfile", f"{d}/san.ext",
            "-out", f"{d}/tls.crt")

    def set_upstreams(self, ports):
        # An upstream with no server is a configuration error; a down placeholder keeps it valid.
        lines = [f"server 127.0.0.1:{p} max_fails=0;" for p in ports] or ["server 127.0.0.1:9 down;"]
        with open(os.path.join(self.dir, "upstreams.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")
        if os.path.exists(os.path.join(self.dir, "nginx.pid")):
            self._nginx("-s", "reload")
            # The master starts new workers and retires the old ones gracefully.
            time.sleep(0.3)

    def _nginx(self, *args):
        run("nginx", "-p", self.dir, "-c", self.conf, *args)

    def start(self):
        self._nginx("-t", "-q")
        self._nginx()
        wait_for("nginx", lambda: os.path.exists(os.path.join(self.dir, "nginx.pid")), 5)

    def stop(self):
        if os.path.exists(os.path.join(self.dir, "nginx.pid")):
            run("nginx", "-p", self.dir, "-c", self.conf, "-s", "stop", check=False)


NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/temp/body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    upstream bazaar {{
        include {dir}/upstreams.conf;
        keepalive 320;
        keepalive_timeout 60s;
        keepalive_requests 10000;
    }}
    server {{
        listen 127.0.0.1:{http};
        server_name {host};
        return 308 https://$host:{https}$request_uri;
    }}
    server {{
        listen 127.0.0.1:{https} ssl;
        server_name {host};
        ssl_certificate {dir}/tls.crt;
        ssl_certificate_key {dir}/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        client_max_body_size 20m;
        location / {{
            proxy_pass http://bazaar;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_connect_timeout 5s;
            proxy_send_timeout 60s;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            proxy_buffering on;
        }}
    }}
}}
"""


# ---------------------------------------------------------------- the pods

class Replica:
    """One pod: a container of the image, as the Deployment runs it."""

    serial = 0

    def __init__(self, port):
        Replica.serial += 1
        self.port = port
        self.name = f"{NAME}-app-{Replica.serial}"

    def start(self):
        env = {
            "APP_ENV": "development", "DATABASE_URL": DB_URL,
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}",
            "LEPTOS_SITE_ADDR": f"127.0.0.1:{self.port}",
            "PUBLIC_URL": f"https://{HOST}:{HTTPS_PORT}", "MEDIA_STORE": "file:///tmp/media",
            "TRUSTED_PROXIES": "127.0.0.1/32", "CATALOG_CACHE_TTL_SECS": "60",
            "LOG_FORMAT": "json", "RUST_LOG": "warn", "POD_REVISION": str(self.serial),
        }
        args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        docker("run", "-d", "--name", self.name, *POD, *args, IMAGE, "serve")
        return self

    def wait_ready(self, seconds=30):
        wait_for(f"{self.name} ready", lambda: plain_get(self.port, "/ready/pod")[0] == 200, seconds)
        return self

    def terminate(self):
        """SIGTERM, as the kubelet sends it; the pod keeps its grace period."""
        docker("kill", "--signal", "TERM", self.name)

    def wait_exit(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = docker("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", self.name).stdout.split()
            if state[0] == "false":
                return int(state[1])
            time.sleep(0.1)
        raise Failed(f"{self.name} still running {seconds}s after SIGTERM")

    def remove(self):
        docker("rm", "-f", self.name, check=False)


def ephemeral(name):
    docker("rm", "-f", name, check=False)


def start_backends():
    ephemeral(f"{NAME}-pg")
    ephemeral(f"{NAME}-redis")
    # Host networking, like the replicas: no userland proxy between the app and its data.
    docker("run", "-d", "--name", f"{NAME}-pg", "--network", "host",
           "-e", "POSTGRES_USER=bazaar", "-e", "POSTGRES_PASSWORD=bazaar", "-e", "POSTGRES_DB=bazaar",
           PG_IMAGE, "postgres", "-p", str(PG_PORT), "-c", "listen_addresses=127.0.0.1")
    # Append-only, so a stop and start of this container keeps sessions and carts, as a
    # managed Redis failover does.
    docker("run", "-d", "--name", f"{NAME}-redis", "--network", "host", REDIS_IMAGE,
           "redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
           "--appendonly", "yes", "--dir", "/tmp")
    wait_for("postgres", lambda: run("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT), check=False).returncode == 0, 60)
    wait_for("redis", lambda: socket.create_connection(("127.0.0.1", REDIS_PORT), 1).close() is None, 20)


def one_off(*args, input=None):
    env = ["-e", f"DATABASE_URL={DB_URL}", "-e", "APP_ENV=development", "-e", "MEDIA_STORE=file:///tmp/media"]
    return docker("run", "--rm", "-i", *POD, *env, IMAGE, *args, input=input)


# ---------------------------------------------------------------- shoppers

class Conn:
    """One keep-alive HTTPS connection with a cookie jar of one cookie, as a browser tab."""

    def __init__(self, ctx, port=HTTPS_PORT, tls=True, endpoint=None):
        self.ctx, self.port, self.tls, self.endpoint = ctx, port, tls, endpoint
        self.conn, self.cookie, self.retries = None, None, 0

    def _open(self):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        # In-cluster, through the Service: each new connection goes to one of the
        # endpoints as kube-proxy knows them, with no retry on another.
        port = self.endpoint() if self.endpoint else self.port
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, headers=None):
        hdrs = {"Host": HOST if self.tls else "127.0.0.1", **(headers or {})}
        data = None
        if body is not None:
            data, hdrs["Content-Type"] = json.dumps(body), "application/json"
        if self.cookie:
            hdrs["Cookie"] = self.cookie
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = self._open()
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError) as e:
                self.conn.close()
                self.conn = None
                # A kept-alive connection the server closed while idle: every HTTP client
                # retries that once on a new connection (the request never arrived).
                if reused and attempt == 0:
                    self.retries += 1
                    continue
                raise e
            if resp.will_close:
                self.conn.close()
                self.conn = None
            for k, v in resp.getheaders():
                if k.lower() == "set-cookie" and v.startswith("bazaar_session="):
                    self.cookie = v.split(";")[0]
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw
        raise AssertionError("unreachable")


class Traffic:
    """CLIENTS shoppers in threads, each journey: home, a catalog page, a product page, add
    to cart, change the quantity, and every third journey a checkout."""

    def __init__(self, ctx, slugs, skus, browse_only=False, service=None):
        self.ctx, self.slugs, self.skus, self.browse_only = ctx, slugs, skus, browse_only
        # A quarter of the shoppers come through the Service instead of the ingress.
        self.service = service
        self.records = []  # (start, seconds, kind, status, retry_after, error)
        self.orders = {}  # idempotency key -> order id, for every 201
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = []
        self.retries = 0

    def _record(self, started, kind, status, headers, error=None):
        with self.lock:
            self.records.append((started, time.monotonic() - started, kind, status,
                                 bool(headers and headers.get("retry-after")), error))

    def _shopper(self, n):
        rng = random.Random(n)
        if self.service and n % 4 == 3:
            conn = Conn(None, tls=False, endpoint=lambda: rng.choice(self.service.ports()))
        else:
            conn = Conn(self.ctx)
        journey = 0
        while not self.stop.is_set():
            journey += 1

            def req(kind, method, path, body=None, headers=None):
                started = time.monotonic()
                try:
                    status, hdrs, raw = conn.call(method, path, body, headers)
                except Exception as e:  # noqa: BLE001 - every transport failure counts
                    self._record(started, kind, None, None, f"{type(e).__name__}: {e}")
                    return None, None
                self._record(started, kind, status, hdrs)
                return status, raw

            slug = rng.choice(self.slugs)
            if self.browse_only:
                req("browse", "GET", f"/products/{slug}")
                req("browse", "GET", f"/api/catalog/products/{slug}")
                continue
            req("browse", "GET", "/")
            req("browse", "GET", f"/api/catalog/products?page={rng.randint(1, 4)}&per_page=12")
            req("browse", "GET", f"/products/{slug}")
            sku = rng.choice(self.skus)
            added, _ = req("cart", "POST", "/api/cart/items", {"sku": sku, "quantity": 1})
            if added != 200:
                continue
            updated, _ = req("cart", "PATCH", f"/api/cart/items/{sku}", {"quantity": 2})
            if updated != 200 or journey % 3:
                continue
            key = uuid.uuid4().hex
            body = {"email": f"load-{n}@example.test", "shipping_method": "standard",
                    "shipping_address": {"name": "Load Shopper", "line1": "1 Main St",
                                         "city": "Springfield", "postal_code": "12345", "country": "US"}}
            status, raw = req("checkout", "POST", "/api/checkout", body, {"Idempotency-Key": key})
            # A 503 may come after the order was saved (the payment session could not be
            # opened): the contract's answer is to retry with the same key, as our
            # checkout page does, after Retry-After.
            for _ in range(6):
                if status != 503 or self.stop.is_set():
                    break
                time.sleep(2)
                status, raw = req("checkout", "POST", "/api/checkout", body, {"Idempotency-Key": key})
            if status == 201:
                with self.lock:
                    self.orders[key] = json.loads(raw)["order_id"]
        with self.lock:
            self.retries += conn.retries

    def __enter__(self):
        for n in range(CLIENTS):
            t = threading.Thread(target=self._shopper, args=(n,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def window(self, t0, t1):
        with self.lock:
            return [r for r in self.records if t0 <= r[0] < t1]


def expected(kind, status):
    return status == {"browse": 200, "cart": 200, "checkout": 201}[kind]


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(records):
    lat = [r[1] for r in records]
    return {"requests": len(records), "p50_ms": round(pct(lat, 50) * 1000, 1),
            "p99_ms": round(pct(lat, 99) * 1000, 1)}


class Service:
    """The endpoints of the Service as kube-proxy sees them: updated at the same moments as
    the ingress's upstreams."""

    def __init__(self):
        self._ports, self.lock = [], threading.Lock()

    def set(self, ports):
        with self.lock:
            self._ports = list(ports)

    def ports(self):
        with self.lock:
            return list(self._ports)


# ---------------------------------------------------------------- the checks

def rolling_update(ingress, service, replicas, next_port):
    """maxSurge 1, maxUnavailable 0: new pod ready, endpoint added; old pod SIGTERM, its
    endpoint removed about 2 s later (the endpoints controller and the ingress catching up)."""
    t0 = time.monotonic()
    exits = []
    for i, old in enumerate(list(replicas)):
        new = Replica(next_port + i).start().wait_ready()
        replicas.append(new)
        ingress.set_upstreams([r.port for r in replicas])
        service.set([r.port for r in replicas])
        old.terminate()
        time.sleep(2)
        replicas.remove(old)
        ingress.set_upstreams([r.port for r in replicas])
        service.set([r.port for r in replicas])
        exits.append(old.wait_exit(30))
        old.remove()
    time.sleep(1)
    return t0, time.monotonic(), exits


def main():
    work = tempfile.mkdtemp(prefix="bazaar-rollout-")
    report = {}
    ingress = None
    replicas = []
    try:
        log(f"==> backends: {PG_IMAGE} and {REDIS_IMAGE}")
        start_backends()
        one_off("migrate")
        one_off("seed", "--products-per-category", "4")
        psql("UPDATE variants SET stock = 1000000")
        one_off("create-admin", "--email", "ops@bazaar.test", "--name", "Ops", "--password-stdin",
                input="rollout admin password\n")
        rows = psql("SELECT p.slug || ' ' || v.sku FROM products p JOIN variants v ON v.product_id = p.id WHERE p.active")
        pairs = [r.split() for r in rows.splitlines()]
        slugs = sorted({p[0] for p in pairs})
        skus = sorted({p[1] for p in pairs})

        log(f"==> ingress: nginx with TLS on {HTTPS_PORT}, three replicas of {IMAGE}")
        ingress = Ingress(work)
        ingress.start()
        replicas = [Replica(18501 + i).start() for i in range(3)]
        for r in replicas:
            r.wait_ready()
        ingress.set_upstreams([r.port for r in replicas])
        service = Service()
        service.set([r.port for r in replicas])
        # Verified: the chain up to the local CA, and the certificate's IP name.
        ctx = ssl.create_default_context(cafile=ingress.ca)
        tls = Conn(ctx)
        status, hdrs, _ = tls.call("GET", "/ready")
        check(status == 200, "the store answers through the ingress over TLS, verified against the local CA")
        try:
            Conn(ssl.create_default_context()).call("GET", "/ready")
            raise Failed("a client without the local CA accepted the certificate")
        except ssl.SSLCertVerificationError:
            ok("a client without the local CA refuses the certificate")
        check(hdrs.get("strict-transport-security", "").startswith("max-age=31536000"), "HSTS is sent", hdrs)
        status, hdrs, _ = Conn(None, HTTP_PORT, tls=False).call("GET", "/products")
        check(status == 308 and hdrs.get("location", "").startswith("https://"), "plain HTTP is redirected to HTTPS", hdrs)

        with Traffic(ctx, slugs, skus, service=service) as traffic:
            time.sleep(3)
            before = len(traffic.orders)

            log("==> a rolling update of every replica under traffic")
            t0, t1, exits = rolling_update(ingress, service, replicas, 18511)
            during = traffic.window(t0, t1)
            bad = [r for r in during if r[3] is None or not expected(r[2], r[3])]
            report["rollout"] = {**summary(during), "failed": len(bad), "exit_codes": exits,
                                 "seconds": round(t1 - t0, 1)}
            log(f"        {report['rollout']}")
            check(len(during) > 100, "traffic flowed through the rollout", len(during))
            check(not bad, "no request failed during the rollout", bad[:5])
            check(exits == [0, 0, 0], "every old replica exited 0 after SIGTERM", exits)

            log("==> Redis stopped for 6 s")
            t0 = time.monotonic()
            docker("stop", "-t", "1", f"{NAME}-redis")
            time.sleep(6)
            docker("start", f"{NAME}-redis")
            up = time.monotonic()
            # A new shopper's first add needs Redis for both the session and the cart.
            wait_for("the cart after Redis returns",
                     lambda: Conn(ctx).call("POST", "/api/cart/items", {"sku": skus[0], "quantity": 1})[0] == 200, 5)
            redis_recovery = time.monotonic() - up
            time.sleep(1)
            outage = traffic.window(t0, up + redis_recovery + 1)
            browse = [r for r in outage if r[2] == "browse"]
            carts = [r for r in outage if r[2] != "browse"]
            browse_bad = [r for r in browse if r[3] != 200]
            cart_bad = [r for r in carts if not (expected(r[2], r[3]) or (r[3] == 503 and r[4]))]
            cart_503 = sum(1 for r in carts if r[3] == 503)
            report["redis_outage"] = {"browse": len(browse), "browse_failed": len(browse_bad),
                                      "cart_calls": len(carts), "cart_503_with_retry_after": cart_503,
                                      "cart_other_failures": len(cart_bad),
                                      "recovery_s": round(redis_recovery, 2)}
            log(f"        {report['redis_outage']}")
            check(browse and not browse_bad, "browsing answered 200 throughout the Redis outage", browse_bad[:5])
            check(not cart_bad, "cart and checkout answered only 503 with Retry-After", cart_bad[:5])
            check(redis_recovery < 5, "the cart recovered within 5 s of Redis returning", redis_recovery)

            log("==> Postgres restarted")
            t0 = time.monotonic()
            docker("restart", "-t", "2", f"{NAME}-pg")
            pg_up = time.monotonic()
            wait_for("ready after Postgres returns", lambda: tls.call("GET", "/ready")[0] == 200, 10)
            pg_recovery = time.monotonic() - pg_up
            time.sleep(1)
            restart = traffic.window(t0, time.monotonic())
            allowed_until = pg_up + pg_recovery + 1
            pg_bad = [r for r in restart if r[3] is None or not (expected(r[2], r[3]) or (r[3] == 503 and r[0] < allowed_until))]
            report["postgres_restart"] = {"requests": len(restart),
                                          "answered_503": sum(1 for r in restart if r[3] == 503),
                                          "other_failures": len(pg_bad), "recovery_s": round(pg_recovery, 2)}
            log(f"        {report['postgres_restart']}")
            check(not pg_bad, "only 503 while Postgres was down, and none after it recovered", pg_bad[:5])
            time.sleep(2)
            after = len(traffic.orders)
        report["retried_idle_connections"] = traffic.retries

        log("==> orders")
        keys = list(traffic.orders)
        rows = psql("SELECT idempotency_key || ' ' || id FROM orders WHERE email LIKE 'load-%'")
        in_db = {}
        for line in rows.splitlines():
            k, oid = line.split()
            in_db.setdefault(k, []).append(oid)
        lost = [k for k in keys if traffic.orders[k] not in in_db.get(k, [])]
        dups = [k for k, ids in in_db.items() if len(ids) > 1]
        unacked = [k for k in in_db if k not in traffic.orders]
        report["orders"] = {"acknowledged": len(keys), "during_checks": after - before,
                            "lost": len(lost), "duplicated": len(dups), "unacknowledged": len(unacked)}
        log(f"        {report['orders']}")
        check(keys and not lost and not dups, "no order lost or duplicated", (lost[:3], dups[:3]))
        check(not unacked, "every saved order reached its shopper, retrying with the same key after a 503", unacked[:3])

        log("==> cache agreement across replicas")
        admin = Conn(None, replicas[0].port, tls=False)
        status, _, body = admin.call("POST", "/api/auth/login", {"email": "ops@bazaar.test", "password": "rollout admin password"})
        check(status == 200, "the merchant signs in through one replica", body)
        readers = [Conn(None, r.port, tls=False) for r in replicas[1:]]
        slug = psql(f"SELECT p.slug FROM products p JOIN variants v ON v.product_id = p.id WHERE v.sku = '{skus[0]}'")
        path = f"/api/catalog/products/{slug}"

        def available(conn):
            _, _, raw = conn.call("GET", path)
            return next(v["available"] for v in json.loads(raw)["variants"] if v["sku"] == skus[0])

        delays = []
        for n in range(5):
            want = available(readers[0]) + 7
            for r in readers:
                available(r)  # warm every cache with the old value
            t = time.monotonic()
            status, _, body = admin.call("POST", f"/api/admin/inventory/{skus[0]}/adjust", {"delta": 7, "reason": f"coherence {n}"})
            if status // 100 != 2:
                raise Failed(f"stock adjustment {n + 1} through one replica: {status} {body[:300]}")
            for r in readers:
                while available(r) != want:
                    if time.monotonic() - t > 5:
                        raise Failed("a replica still showed the old stock after 5 s")
                    time.sleep(0.005)
            delays.append(time.monotonic() - t)
        report["coherence_ms"] = {"median": round(statistics.median(delays) * 1000, 1),
                                  "max": round(max(delays) * 1000, 1)}
        log(f"        {report['coherence_ms']}")
        check(max(delays) < 1, "every replica showed the change within 1 s", delays)

        log("==> browsing throughput through the ingress")
        report["throughput"] = {}
        for n in (1, 2, 3):
            ingress.set_upstreams([r.port for r in replicas[:n]])
            with Traffic(ctx, slugs, skus, browse_only=True) as load:
                time.sleep(1)
                t0 = time.monotonic()
                time.sleep(8)
                t1 = time.monotonic()
                window = load.window(t0, t1)
            bad = [r for r in window if r[3] != 200]
            report["throughput"][f"{n}_replicas"] = {"rps": round(len(window) / (t1 - t0)), **summary(window),
                                                     "failed": len(bad)}
            log(f"        {n} replica(s): {report['throughput'][f'{n}_replicas']}")
            check(not bad, f"browsing with {n} replica(s) had no failures", bad[:5])
        log(json.dumps(report, indent=2))
        os.makedirs(CACHE, exist_ok=True)
        with open(os.path.join(CACHE, "rollout-report.json"), "w") as f:
            json.dump(report, f, indent=2)
        return 0
    except Failed as e:
        log(f"  FAIL  {e}")
        for r in replicas:
            logs = docker("logs", "--tail", "15", r.name, check=False)
            log(f"    {r.name}: {(logs.stdout + logs.stderr)[-1500:]}")
        if ingress and os.path.exists(os.path.join(ingress.dir, "error.log")):
            with open(os.path.join(ingress.dir, "error.log")) as f:
                log("    nginx: " + "".join(f.readlines()[-15:]))
        return 1
    finally:
        if ingress:
            ingress.stop()
        for r in replicas:
            r.remove()
        out = docker("ps", "-aq", "--filter", f"name={NAME}-", check=False).stdout.split()
        if out:
            docker("rm", "-f", *out, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
