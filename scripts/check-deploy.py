#!/usr/bin/env python3
"""What the schema validators cannot see: whether the deploy artifacts agree with each
other and with the app, read the way an operator's first real deploy would use them.

    python3 scripts/check-deploy.py [--root DIR] [--only RULE,...]

Each rule names the production-deploy finding it guards (docs/deploy-checks.md). The
chart is rendered with helm; Terraform is parsed with python-hcl2. Exit 1 on any problem.
"""
import argparse
import ipaddress
import pathlib
import re
import subprocess
import sys

import hcl2
import yaml

RULES = {}


def rule(name):
    def register(fn):
        RULES[name] = fn
        return fn
    return register


class Repo:
    def __init__(self, root: pathlib.Path):
        self.root = root
        self._renders = {}

    def text(self, rel: str) -> str:
        p = self.root / rel
        return p.read_text() if p.exists() else ""

    def yaml(self, rel: str):
        t = self.text(rel)
        return yaml.safe_load(t) if t else None

    def render(self, *args: str, release: str = "bazaar") -> list:
        key = (release,) + args
        if key not in self._renders:
            out = subprocess.run(
                ["helm", "template", release, str(self.root / "deploy/helm/bazaar"),
                 "--namespace", "bazaar", *args],
                check=True, capture_output=True, text=True).stdout
            self._renders[key] = [d for d in yaml.safe_load_all(out) if d]
        return self._renders[key]

    def prod(self) -> list:
        return self.render("-f", str(self.root / "deploy/helm/bazaar/values-prod.yaml"))

    def values(self) -> dict:
        return self.yaml("deploy/helm/bazaar/values.yaml")

    def tf(self, stack: str = "deploy/terraform") -> dict:
        merged = {}
        for f in sorted((self.root / stack).glob("*.tf")):
            for kind, blocks in hcl2.loads(f.read_text()).items():
                merged.setdefault(kind, []).extend(blocks)
        return merged

    def tf_text(self, stack: str = "deploy/terraform") -> str:
        return "".join(f.read_text() for f in sorted((self.root / stack).glob("*.tf")))

    def addons(self) -> list:
        return self.yaml("deploy/ansible/playbooks/addons.yml")[0]["tasks"]

    def group_vars(self) -> dict:
        for where in ("deploy/ansible/inventory/group_vars/all/main.yml",
                      "deploy/ansible/playbooks/group_vars/all/main.yml",
                      "deploy/ansible/group_vars/all/main.yml"):
            if (self.root / where).exists():
                return self.yaml(where)
        return {}


def one(value):
    """python-hcl2 wraps each attribute in a one-element list; this unwraps it."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def kinds(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def resources(tf: dict, rtype: str) -> dict:
    out = {}
    for block in tf.get("resource", []):
        for t, named in block.items():
            if t.strip('"') == rtype:
                for name, body in named.items():
                    out[name.strip('"')] = {k: one(v) for k, v in body.items()}
    return out


def module(tf: dict, name: str) -> dict:
    for block in tf.get("module", []):
        for n, body in block.items():
            if n.strip('"') == name:
                return {k: one(v) for k, v in body.items()}
    return {}


def helm_task(tasks, chart_suffix):
    for t in tasks:
        h = t.get("kubernetes.core.helm")
        if h and h["chart_ref"].endswith(chart_suffix):
            return h
    return None


def version_tuple(v: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def deployment_secrets(docs) -> set:
    names = set()
    for d in kinds(docs, "Deployment") + kinds(docs, "Job"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            for src in c.get("envFrom", []):
                if "secretRef" in src:
                    names.add((d["kind"], d["metadata"]["name"], src["secretRef"]["name"]))
    return names


def is_hook(doc) -> bool:
    notes = doc["metadata"].get("annotations") or {}
    return "helm.sh/hook" in notes or "argocd.argoproj.io/hook" in notes


# 1. TLS Redis -----------------------------------------------------------------------------
@rule("redis-tls")
def redis_tls(repo: Repo) -> list:
    if "rediss://" not in repo.tf_text():
        return []
    line = next((l for l in repo.text("Cargo.toml").splitlines() if l.startswith("redis =")), "")
    if not re.search(r'"tokio-rustls-comp"|"tls-rustls"', line):
        return ["Terraform hands the app a rediss:// URL, but the workspace's redis crate has no rustls TLS feature: "
                "production would fail at startup"]
    return []


# 2. External Secrets ----------------------------------------------------------------------
@rule("eso-api-served")
def eso_api(repo: Repo) -> list:
    pinned = repo.group_vars().get("chart_versions", {}).get("external_secrets", "0")
    used = set()
    for d in repo.prod():
        if d["apiVersion"].startswith("external-secrets.io/"):
            used.add(d["apiVersion"])
    for m in re.finditer(r"apiVersion: (external-secrets\.io/\S+)", repo.text("deploy/ansible/playbooks/addons.yml")):
        used.add(m.group(1))
    problems = []
    if "external-secrets.io/v1" in used and version_tuple(pinned) < (0, 17, 0):
        problems.append(f"manifests use external-secrets.io/v1, which ESO serves from chart 0.17.0; Ansible pins {pinned}")
    if "external-secrets.io/v1beta1" in used and version_tuple(pinned) >= (1, 0, 0):
        problems.append(f"manifests use external-secrets.io/v1beta1, which ESO chart {pinned} no longer serves")
    return problems


@rule("eso-store")
def eso_store(repo: Repo) -> list:
    ref = repo.values()["externalSecret"]["secretStoreRef"]
    gv = repo.group_vars()
    created = []
    for t in repo.addons():
        k8s = t.get("kubernetes.core.k8s")
        if not k8s or "definition" not in k8s:
            continue
        d = k8s["definition"]
        name = str(d.get("metadata", {}).get("name", ""))
        m = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", name)
        if m:
            name = str(gv.get(m.group(1), name))
        created.append((d.get("kind"), name, d))
    store = next((d for kind, name, d in created if kind == ref["kind"] and name == ref["name"]), None)
    if store is None:
        return [f"the chart's ExternalSecret reads {ref['kind']} {ref['name']}, which no playbook creates"]
    problems = []
    aws = store.get("spec", {}).get("provider", {}).get("aws", {})
    if aws.get("service") != "SecretsManager":
        problems.append(f"{ref['name']} is not an AWS Secrets Manager store")
    eso = helm_task(repo.addons(), "/external-secrets") or {}
    annotation = str(eso.get("values", {}).get("serviceAccount", {}).get("annotations", {}).get("eks.amazonaws.com/role-arn", ""))
    var = re.search(r"\{\{\s*(\w+)\s*\}\}", annotation)
    if not var:
        problems.append("External Secrets' ServiceAccount has no IRSA role")
    else:
        outputs = {n.strip('"') for b in repo.tf().get("output", []) for n in b}
        if var.group(1) not in outputs:
            problems.append(f"External Secrets' role comes from {var.group(1)}, which Terraform does not output")
    if "attach_external_secrets_policy" not in repo.tf_text():
        problems.append("Terraform has no IRSA role with the External Secrets policy")
    return problems


def app_required_keys(repo: Repo) -> set:
    src = repo.text("server/src/config.rs")
    keys = set(re.findall(r'required\("([A-Z_]+)"', src))
    keys |= set(re.findall(r'secret\("([A-Z_]+)"', src))
    keys |= set(re.findall(r'"([A-Z_]+) is required in production', src))
    return {k for k in keys if k not in ("PUBLIC_URL",)}


@rule("secret-keys")
def secret_keys(repo: Repo) -> list:
    problems = []
    chart_keys = set(repo.values()["externalSecret"]["keys"])
    config = set(repo.values()["config"])
    for key in sorted(app_required_keys(repo) - chart_keys - config):
        problems.append(f"the app requires {key} in production, but the chart's ExternalSecret does not map it")
    secret = resources(repo.tf(), "aws_secretsmanager_secret_version").get("app", {})
    bundle = str(secret.get("secret_string", ""))
    for key in sorted(chart_keys):
        if not re.search(rf"['\"]?\b{key}\b['\"]?\s*[:=]", bundle):
            problems.append(f"the ExternalSecret reads {key}, but Terraform's secret bundle does not carry it")
    return problems


@rule("hook-secret")
def hook_secret(repo: Repo) -> list:
    problems = []
    for label, docs in (("chart", repo.prod()), ("deploy/k8s/base", load_base(repo))):
        pods = {secret for kind, _, secret in deployment_secrets(docs) if kind == "Deployment"}
        for es in kinds(docs, "ExternalSecret"):
            target = es["spec"]["target"]["name"]
            if is_hook(es) and target in pods:
                problems.append(f"{label}: ExternalSecret {es['metadata']['name']} is a sync hook (deleted and recreated "
                                f"on every sync) and owns {target}, which running pods read")
    return problems


@rule("overlay-secrets")
def overlay_secrets(repo: Repo) -> list:
    problems = []
    for overlay in sorted((repo.root / "deploy/k8s/overlays").iterdir()):
        out = subprocess.run(["kubectl", "kustomize", str(overlay)], check=True, capture_output=True, text=True).stdout
        docs = [d for d in yaml.safe_load_all(out) if d]
        keys = {(es["metadata"]["name"], ref["remoteRef"]["key"])
                for es in kinds(docs, "ExternalSecret") for ref in es["spec"]["data"]}
        want = f"bazaar/{overlay.name}"
        for name, key in sorted(keys):
            if key != want:
                problems.append(f"overlay {overlay.name}: ExternalSecret {name} reads {key}, not {want}")
    return problems


def load_base(repo: Repo) -> list:
    docs = []
    for f in sorted((repo.root / "deploy/k8s/base").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if d and d.get("kind") != "Kustomization"]
    return docs


# 3. Ansible -------------------------------------------------------------------------------
@rule("ansible-group-vars")
def ansible_group_vars(repo: Repo) -> list:
    base = repo.root / "deploy/ansible"
    cfg = repo.text("deploy/ansible/ansible.cfg")
    inventory = re.search(r"^inventory\s*=\s*(\S+)", cfg, re.M)
    inv_dir = (base / inventory.group(1)).parent if inventory else base / "inventory"
    found = [d for d in (inv_dir / "group_vars", base / "playbooks/group_vars") if d.is_dir()]
    stray = base / "group_vars"
    if stray.is_dir() and not found:
        return [f"{stray.relative_to(repo.root)} is beside neither the inventory ({inv_dir.relative_to(repo.root)}) "
                "nor the playbooks: Ansible never loads it"]
    return [] if found else ["no group_vars where Ansible looks"]


# 4. Reaching the cluster ------------------------------------------------------------------
@rule("cluster-access")
def cluster_access(repo: Repo) -> list:
    problems = []
    tf = repo.tf()
    eks = module(tf, "eks")
    if eks.get("cluster_endpoint_public_access") is False:
        bastions = [b for n, b in resources(tf, "aws_instance").items() if "bastion" in n]
        if not bastions:
            problems.append("the EKS endpoint is private, and no bastion exists inside the VPC")
        for b in bastions:
            if b.get("associate_public_ip_address") is not False:
                problems.append("the bastion must have no public address (SSM needs none)")
            if "AmazonSSMManagedInstanceCore" not in repo.tf_text():
                problems.append("the bastion's role lacks AmazonSSMManagedInstanceCore")
        for n, sg in resources(tf, "aws_security_group").items():
            if "bastion" in n and sg.get("ingress"):
                problems.append(f"security group {n} has inbound rules; an SSM bastion needs none")
    entries = eks.get("access_entries", {}) or {}
    if isinstance(entries, list):
        entries = entries[0] if entries else {}
    names = set(entries)
    for want in ("admin", "deploy"):
        if want not in names:
            problems.append(f"EKS has no access entry '{want}' (module v20 grants the creator nothing)")
    global_text = repo.tf_text("deploy/terraform/global")
    if "aws_iam_openid_connect_provider" not in global_text:
        problems.append("no GitHub OIDC provider in Terraform")
    outputs = {}
    for stack in ("deploy/terraform", "deploy/terraform/global"):
        for block in repo.tf(stack).get("output", []):
            for name, body in block.items():
                outputs[name.strip('"')] = str(one(body.get("description", "")))
    for wf in sorted((repo.root / ".github").rglob("*.yml")):
        for secret in sorted(set(re.findall(r"secrets\.(AWS_\w+_ROLE_ARN)", wf.read_text()))):
            if not any(secret in d for d in outputs.values()):
                problems.append(f"{wf.relative_to(repo.root)} assumes {secret}, which no Terraform output provides")
    deploy = repo.text(".github/workflows/deploy.yml") + repo.text(".github/actions/eks-access/action.yml")
    if eks.get("cluster_endpoint_public_access") is False and "eks-tunnel.sh" not in deploy \
            and "self-hosted" not in deploy:
        problems.append("the deploy workflow runs on GitHub-hosted runners, which cannot reach the private endpoint")
    return problems


# 5. Staging and prod ----------------------------------------------------------------------
@rule("stack-collision")
def stack_collision(repo: Repo) -> list:
    problems = []
    tf = repo.tf()
    for shared in ("aws_ecr_repository", "aws_iam_openid_connect_provider"):
        if resources(tf, shared):
            problems.append(f"the per-environment stack creates {shared}, which exists once per account")
    zones = resources(tf, "aws_route53_zone")
    envs = {}
    for f in sorted((repo.root / "deploy/terraform/envs").glob("*.tfvars")):
        if f.stem != "global":
            envs[f.stem] = {k: one(v) for k, v in hcl2.loads(f.read_text()).items()}
    managed = {}
    for env, v in envs.items():
        sub = v.get("dns_subdomain", "")
        for name, z in zones.items():
            conditional = "count" in z
            if not conditional or sub:
                zone = f"{sub}.{v['domain_name']}" if conditional else str(z.get("name", "")).replace(
                    "${var.domain_name}", v["domain_name"])
                if zone in managed:
                    problems.append(f"{env} and {managed[zone]} both create the zone {zone}")
                managed[zone] = env
        own = f"{sub}.{v['domain_name']}" if sub else v["domain_name"]
        if not (v["shop_host"] == own or v["shop_host"].endswith("." + own)):
            problems.append(f"{env}'s shop_host {v['shop_host']} is outside its zone {own}")
    return problems


# 6. Gates in CI/CD ------------------------------------------------------------------------
@rule("release-gates")
def release_gates(repo: Repo) -> list:
    problems = []
    rel = repo.yaml(".github/workflows/release.yml") or {}
    on = rel.get("on") or rel.get(True) or {}
    run = on.get("workflow_run", {})
    if "CI" not in run.get("workflows", []) or "conclusion == 'success'" not in repo.text(".github/workflows/release.yml"):
        problems.append("Release does not wait for CI to pass on the same commit")
    if not any(str(b).startswith("v") for b in run.get("branches", [])):
        problems.append("version tags are never released")
    ci = repo.yaml(".github/workflows/ci.yml") or {}
    ci_on = ci.get("on") or ci.get(True) or {}
    if "tags" not in (ci_on.get("push") or {}):
        problems.append("CI does not run for tags, so a tag can never pass the gate")
    if not re.search(r"helm package .*--version .*--app-version", repo.text(".github/workflows/release.yml")):
        problems.append("the chart's version and appVersion do not follow the release")
    sec = repo.text(".github/workflows/security.yml")
    if "semgrep" not in sec and "codeql" not in sec:
        problems.append("the Security workflow has no SAST (Semgrep or CodeQL)")
    if "scripts/canary.py" not in repo.text(".github/workflows/deploy.yml"):
        problems.append("production's canary is not driven by the deploy workflow")
    problems += blue_green(repo)
    return problems


def blue_green(repo: Repo) -> list:
    if not (repo.root / "scripts/blue-green.sh").exists():
        return ["no blue/green release (the seed asks for one)"]
    try:
        router = repo.render("--set", "blueGreen.role=router", "--set", "blueGreen.activeRelease=bazaar-green")
        green = repo.render("--set", "blueGreen.role=color", release="bazaar-green")
    except subprocess.CalledProcessError as e:
        return [f"the chart cannot render blue/green: {e.stderr.strip()}"]
    problems = []
    if kinds(router, "Deployment"):
        problems.append("the blue/green router release runs pods of its own")
    if kinds(green, "Ingress"):
        problems.append("a blue/green colour has its own public Ingress")
    services = [s for s in kinds(router, "Service") if s["metadata"]["name"] == "bazaar"]
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in kinds(green, "Deployment")
            if not d["metadata"]["name"].endswith("-canary")]
    if not services or not pods:
        problems.append("the router has no live Service, or the colour no Deployment")
    elif not all(pods[0].get(k) == v for k, v in services[0]["spec"]["selector"].items()):
        problems.append(f"the router's selector {services[0]['spec']['selector']} misses the active colour's pods {pods[0]}")
    return problems


# 7. /metrics ------------------------------------------------------------------------------
@rule("metrics-private")
def metrics_private(repo: Repo) -> list:
    problems = []
    docs = repo.prod()
    ingress_ports = {p["backend"]["service"]["port"].get("name") or p["backend"]["service"]["port"].get("number")
                     for i in kinds(docs, "Ingress") for r in i["spec"]["rules"] for p in r["http"]["paths"]}
    for sm in kinds(docs, "ServiceMonitor"):
        for ep in sm["spec"]["endpoints"]:
            if ep.get("port") in ingress_ports:
                problems.append(f"Prometheus scrapes /metrics on Service port '{ep['port']}', the port the public Ingress routes to")
    services = {p["name"]: p for s in kinds(docs, "Service") for p in s["spec"]["ports"]}
    deploys = kinds(docs, "Deployment")
    container_ports = {p["name"]: p["containerPort"] for d in deploys
                       for c in d["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
    monitoring = repo.values()["networkPolicy"]["monitoringNamespace"]
    metrics_port = container_ports.get("metrics")
    for np in kinds(docs, "NetworkPolicy"):
        for rule_ in np["spec"].get("ingress", []):
            sources = {f.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") for f in rule_.get("from", [])}
            ports = {p["port"] for p in rule_.get("ports", [])}
            if monitoring in sources and ports - {metrics_port}:
                problems.append(f"NetworkPolicy {np['metadata']['name']} lets {monitoring} reach ports {sorted(ports - {metrics_port})} beyond metrics")
    if "metrics" in services and services["metrics"].get("targetPort") != "metrics":
        problems.append("the Service's metrics port does not target the container's metrics port")
    return problems


# 8. Client IP -----------------------------------------------------------------------------
@rule("client-ip")
def client_ip(repo: Repo) -> list:
    problems = []
    nginx = helm_task(repo.addons(), "/ingress-nginx") or {}
    service = nginx.get("values", {}).get("controller", {}).get("service", {})
    if service.get("externalTrafficPolicy") != "Local":
        problems.append("ingress-nginx's load balancer Service keeps externalTrafficPolicy: Cluster, so the app sees node "
                        "addresses and five failed logins from anyone lock out everyone")
    trusted = [ipaddress.ip_network(c.strip()) for c in str(repo.values()["config"].get("TRUSTED_PROXIES", "")).split(",") if c.strip()]
    vpc = [v for b in repo.tf().get("variable", []) for n, v in b.items() if n.strip('"') == "vpc_cidr"]
    if vpc:
        cidr = ipaddress.ip_network(one(vpc[0]["default"]))
        if not any(cidr.subnet_of(t) for t in trusted if t.version == cidr.version):
            problems.append(f"TRUSTED_PROXIES {trusted} does not cover the VPC {cidr}, where the controller's pods live")
    return problems


# 9. Observability pipeline ----------------------------------------------------------------
SEED_ALERTS = {"BazaarHigh5xxRate", "BazaarSlowRequests", "BazaarCPUThrottling", "BazaarPodRestarts"}


@rule("observability")
def observability(repo: Repo) -> list:
    problems = []
    tasks = repo.addons()
    for chart, why in (("/loki", "central logs (Loki)"), ("/promtail", "a log-shipping DaemonSet"),
                       ("/opentelemetry-collector", "an OpenTelemetry Collector"), ("/tempo", "trace storage (Tempo)")):
        if not helm_task(tasks, chart):
            problems.append(f"the add-ons playbook does not install {why}")
    collector = helm_task(tasks, "/opentelemetry-collector")
    endpoint = str(repo.values()["config"].get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
    if collector:
        name = collector.get("values", {}).get("fullnameOverride", collector["name"])
        host = f"{name}.{collector['release_namespace']}.svc"
        if host not in endpoint:
            problems.append(f"the chart's OTLP endpoint {endpoint} is not the collector ({host})")
    compose = repo.yaml("docker-compose.yml") or {}
    svc = compose.get("services", {}).get("otel-collector")
    if not svc or "observability" not in svc.get("profiles", []):
        problems.append("compose's observability profile has no otel-collector")
    else:
        cfg = repo.yaml("deploy/compose/otel-collector.yaml") or {}
        for name, pipe in cfg.get("service", {}).get("pipelines", {}).items():
            for part in ("receivers", "processors", "exporters"):
                for item in pipe.get(part, []):
                    if item not in (cfg.get(part) or {}):
                        problems.append(f"collector pipeline {name} uses {part[:-1]} {item}, which is not defined")
        tempo = repo.yaml("deploy/compose/tempo.yaml") or {}
        protocols = tempo.get("distributor", {}).get("receivers", {}).get("otlp", {}).get("protocols", {})
        for ex in (cfg.get("exporters") or {}).values():
            if str(ex.get("endpoint", "")).endswith(":4317") and "grpc" not in protocols:
                problems.append("the collector exports OTLP/gRPC to Tempo, which does not listen for it")
    rules = repo.yaml("deploy/helm/bazaar/files/alerts.rules.yml")
    names = {r.get("alert") for g in rules["groups"] for r in g["rules"]}
    for missing in sorted(SEED_ALERTS - names):
        problems.append(f"the seed's alert {missing} is missing")
    tested = repo.text("ops/alerts/alerts.test.yml")
    for name in sorted(SEED_ALERTS & names):
        if f"alertname: {name}" not in tested:
            problems.append(f"alert {name} has no promtool test")
    return problems


# 10. HPA on RPS ---------------------------------------------------------------------------
@rule("hpa-rps")
def hpa_rps(repo: Repo) -> list:
    hpas = kinds(repo.prod(), "HorizontalPodAutoscaler")
    if not hpas:
        return ["no HPA"]
    metrics = hpas[0]["spec"]["metrics"]
    types = {m["type"] for m in metrics}
    problems = []
    if "Resource" not in types:
        problems.append("the HPA does not scale on CPU")
    pods = [m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"]
    if not pods:
        return problems + ["the HPA does not scale on requests per second"]
    adapter = helm_task(repo.addons(), "/prometheus-adapter")
    if not adapter:
        return problems + ["nothing serves the HPA's custom metric (no prometheus-adapter)"]
    served = set()
    for r in adapter["values"]["rules"]["custom"]:
        series = re.match(r"(\w+)", r["seriesQuery"].strip("'\"")).group(1)
        served.add(re.sub(r["name"]["matches"], r["name"]["as"].replace("${1}", r"\1"), series))
        if not re.search(r'"http_requests_total"', repo.text("domain/src/metrics.rs")) or not series.startswith("bazaar_"):
            problems.append(f"the adapter reads {series}, which the app does not export")
    for name in pods:
        if name not in served:
            problems.append(f"the HPA targets {name}, which prometheus-adapter does not serve ({sorted(served)})")
    return problems


# 11. Debug pods ---------------------------------------------------------------------------
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}


def restricted_violations(pod: dict) -> list:
    """The restricted Pod Security Standard (v1.31), as the admission controller applies it."""
    spec, out = pod["spec"], []
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            out.append(f"{key} is set")
    for v in spec.get("volumes", []):
        kind = next((k for k in v if k != "name"), None)
        if kind not in ALLOWED_VOLUMES:
            out.append(f"volume {v['name']} is {kind}")
    pod_ctx = spec.get("securityContext", {})
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        ctx = c.get("securityContext", {})
        if ctx.get("privileged"):
            out.append(f"{c['name']}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            out.append(f"{c['name']}: allowPrivilegeEscalation must be false")
        caps = ctx.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            out.append(f"{c['name']}: capabilities must drop ALL")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            out.append(f"{c['name']}: adds capabilities")
        if not (ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True):
            out.append(f"{c['name']}: runAsNonRoot must be true")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            out.append(f"{c['name']}: runs as uid 0")
        seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            out.append(f"{c['name']}: seccompProfile must be RuntimeDefault or Localhost")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            out.append(f"{c['name']}: hostPort")
    return out


def selects(np: dict, labels: dict) -> bool:
    sel = np["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in sel.items())


@rule("debug-pod")
def debug_pod(repo: Repo) -> list:
    path = "ops/debug/debug-pod.yaml"
    pod = repo.yaml(path)
    problems = []
    if not pod:
        return [f"no {path}: runbooks fall back to `kubectl run`, which the namespace refuses"]
    problems += [f"{path}: {v}" for v in restricted_violations(pod)]
    labels = pod["metadata"].get("labels", {})
    cidr = ipaddress.ip_network(repo.values()["networkPolicy"]["databaseCidr"])
    reach = set()
    policies = [np for np in kinds(repo.prod(), "NetworkPolicy") if selects(np, labels)]
    for np in policies:
        if np["spec"]["podSelector"].get("matchLabels"):
            for e in np["spec"].get("egress", []):
                ports = {p["port"] for p in e.get("ports", [])}
                for t in e.get("to", []):
                    block = t.get("ipBlock", {}).get("cidr")
                    if block and cidr.subnet_of(ipaddress.ip_network(block)):
                        reach |= ports & {5432, 6379}
                    if t.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") == "kube-system":
                        reach |= ports & {53}
    for port, what in ((53, "DNS"), (5432, "Postgres"), (6379, "Redis")):
        if port not in reach:
            problems.append(f"no NetworkPolicy lets the debug pod reach {what} (:{port}) past the default deny")
    if any(selects(np, labels) and np["spec"]["podSelector"].get("matchLabels") and np["spec"].get("ingress")
           for np in policies):
        problems.append("a NetworkPolicy lets traffic into the debug pod")
    for doc in sorted((repo.root / "ops").rglob("*.md")):
        if re.search(r"kubectl\s+(-n\s+\S+\s+)?run\s+\S+.*--image", doc.read_text()):
            problems.append(f"{doc.relative_to(repo.root)} still uses `kubectl run`")
    return problems


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent))
    p.add_argument("--only", default="")
    args = p.parse_args()
    repo = Repo(pathlib.Path(args.root))
    only = [r for r in args.only.split(",") if r]
    failed = 0
    for name, fn in RULES.items():
        if only and name not in only:
            continue
        try:
            problems = fn(repo)
        except Exception as e:  # a broken artifact the rule cannot even read is a failure too
            problems = [f"cannot check: {type(e).__name__}: {e}"]
        for problem in problems:
            print(f"{name}: {problem}")
        failed += bool(problems)
    if failed:
        print(f"{failed} deploy rule(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
