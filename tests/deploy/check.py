"""Checks of the deploy kit that need a YAML parser (run by tests/deploy/run.sh
with Debian's python3 and python3-yaml).

Every YAML file under deploy/ parses; the Kubernetes objects are well formed
and keep the properties docs/deployment.md promises (replicas, probes,
non-root, read-only root filesystem, resources, TLS wiring); the audit policy
never logs secret bodies; the webhook kubeconfig uses https and a client
certificate.  Writes the embedded configuration and local rules to OUTDIR so
that run.sh can load them with peregrine.

usage: check.py REPO_ROOT OUTDIR
"""
import glob
import os
import sys

import yaml

root, outdir = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


docs = {}
for path in sorted(glob.glob(os.path.join(root, "deploy", "**", "*.yaml"), recursive=True)):
    rel = os.path.relpath(path, root)
    try:
        docs[rel] = load_all(path)
    except yaml.YAMLError as e:
        failures.append(f"{rel}: does not parse: {e}")
check(docs, "no YAML files under deploy/")

k8s = "deploy/kubernetes/"
objects = {}
for rel, ds in docs.items():
    if not rel.startswith(k8s) or rel.endswith("kustomization.yaml"):
        continue
    for d in ds:
        check(isinstance(d, dict) and d.get("apiVersion") and d.get("kind"), f"{rel}: a document without apiVersion/kind")
        if d.get("kind") in ("Config", "Policy"):
            objects[d["kind"]] = d
            continue
        md = d.get("metadata") or {}
        check(md.get("name"), f"{rel}: {d.get('kind')} without metadata.name")
        if d.get("kind") != "Namespace":
            check(md.get("namespace") == "peregrine", f"{rel}: {d.get('kind')} {md.get('name')} not in namespace peregrine")
        objects[(d["kind"], md.get("name"))] = d

for kind in ("Namespace", "ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget"):
    check(any(isinstance(k, tuple) and k[0] == kind for k in objects), f"no {kind} in {k8s}")

kust = docs.get(k8s + "kustomization.yaml", [{}])[0]
for res in kust.get("resources", []):
    check(os.path.exists(os.path.join(root, k8s, res)), f"kustomization: {res} does not exist")

# --- the Deployment ------------------------------------------------------
dep = objects.get(("Deployment", "peregrine"), {})
spec = dep.get("spec", {})
check(spec.get("replicas", 1) >= 2, "Deployment: fewer than 2 replicas")
pod = spec.get("template", {}).get("spec", {})
labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
check(spec.get("selector", {}).get("matchLabels", {}).items() <= labels.items(), "Deployment: selector does not match the pod labels")
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True, "Deployment: runAsNonRoot is not true")
check(pod.get("automountServiceAccountToken") is False, "Deployment: service account token mounted")
containers = pod.get("containers", [])
check(len(containers) == 1, "Deployment: want one container")
c = containers[0] if containers else {}
ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
check(ports.get("webhook") == 9765 and ports.get("admin") == 8765, f"Deployment: ports {ports}")
csc = c.get("securityContext", {})
check(csc.get("readOnlyRootFilesystem") is True, "Deployment: root filesystem not read-only")
check(csc.get("allowPrivilegeEscalation") is False, "Deployment: privilege escalation allowed")
check(csc.get("capabilities", {}).get("drop") == ["ALL"], "Deployment: capabilities not dropped")
for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
    g = c.get(probe, {}).get("httpGet", {})
    check(g.get("path") == path and g.get("port") in ("admin", 8765), f"Deployment: {probe} is not GET {path} on the admin port")
res = c.get("resources", {})
check(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory"), "Deployment: no resource requests")
check(res.get("limits", {}).get("memory"), "Deployment: no memory limit")
mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in pod.get("volumes", [])}
check(set(mounts) <= set(vols), "Deployment: a volumeMount without a volume")
args = c.get("args", [])
cfg_path = args[args.index("-c") + 1] if "-c" in args else None
check(cfg_path and os.path.dirname(cfg_path) == mounts.get("config"), "Deployment: -c does not point into the config mount")

# --- configuration: the ConfigMap's and the default one ------------------
cm = objects.get(("ConfigMap", "peregrine-config"), {}).get("data", {})
check("peregrine.yaml" in cm, "ConfigMap peregrine-config: no peregrine.yaml")
configs = {"k8s": yaml.safe_load(cm.get("peregrine.yaml", "{}"))}
configs["default"] = docs.get("deploy/peregrine.yaml", [{}])[0]
for name, conf in configs.items():
    plugins = {p.get("name"): p for p in conf.get("plugins", [])}
    check("k8saudit" in plugins and "json" in plugins, f"{name} config: k8saudit and json plugins")
    ws = conf.get("webserver", {})
    check(ws.get("enabled") is True and ws.get("listen_port") == 8765, f"{name} config: admin server not on 8765")
    check(ws.get("k8s_healthz_endpoint", "/healthz") == "/healthz", f"{name} config: healthz path")
    op = plugins.get("k8saudit", {}).get("open_params", "")
    if name == "default":
        check(op == "http://:9765/k8s-audit", f"default config: open_params {op}")
        check(conf.get("rules_files") == ["/etc/peregrine/rules"], "default config: rules_files")
    else:
        check(op == "https://:9765/k8s-audit", f"k8s config: open_params {op} (want https)")
        ic = plugins["k8saudit"].get("init_config", {})
        tls = mounts.get("tls", "")
        check(ic.get("sslCertificate", "").startswith(tls + "/") and ic.get("clientCA", "").startswith(tls + "/"),
              "k8s config: sslCertificate/clientCA not in the TLS Secret mount")
        secret = objects.get(("Secret", vols.get("tls", {}).get("secret", {}).get("secretName")), {})
        keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
        for k in ("sslCertificate", "clientCA"):
            check(os.path.basename(ic.get(k, "")) in keys, f"k8s config: {k} is not a key of the TLS Secret")
        for rf in conf.get("rules_files", []):
            check(rf == "/etc/peregrine/rules" or rf in mounts.values(), f"k8s config: rules_files {rf} is not mounted")
with open(os.path.join(outdir, "k8s.yaml"), "w") as f:
    f.write(cm.get("peregrine.yaml", ""))
local = objects.get(("ConfigMap", "peregrine-rules-local"), {}).get("data", {})
check(local, "ConfigMap peregrine-rules-local: empty")
os.makedirs(os.path.join(outdir, "rules.d"), exist_ok=True)
for name, text in local.items():
    with open(os.path.join(outdir, "rules.d", name), "w") as f:
        f.write(text)

# --- Service and PDB -------------------------------------------------------
svc = objects.get(("Service", "peregrine"), {}).get("spec", {})
check(svc.get("selector", {}).items() <= labels.items(), "Service: selector does not match the pods")
sports = {p.get("port"): p.get("targetPort") for p in svc.get("ports", [])}
check(sports.get(9765) in ("webhook", 9765), "Service: no webhook port 9765")
pdb = objects.get(("PodDisruptionBudget", "peregrine"), {}).get("spec", {})
check(pdb.get("minAvailable", 0) >= 1 and pdb.get("minAvailable") < spec.get("replicas", 1), "PDB: minAvailable")

# --- audit policy ------------------------------------------------------------
pol = objects.get("Policy", {})
check(pol.get("apiVersion") == "audit.k8s.io/v1", "audit policy: apiVersion")
rules = pol.get("rules", [])
check(rules and rules[-1].get("level") in ("Metadata", "Request", "RequestResponse") and not
      any(k in rules[-1] for k in ("resources", "users", "verbs", "nonResourceURLs", "userGroups", "namespaces")),
      "audit policy: no catch-all rule at the end")
levels = ("None", "Metadata", "Request", "RequestResponse")


def first_level(group, resource, verb):
    """The level of the first rule matching a request (enough of the audit
    policy matching semantics for these checks)."""
    for r in rules:
        if "verbs" in r and verb not in r["verbs"]:
            continue
        if "users" in r or "userGroups" in r or "nonResourceURLs" in r:
            continue
        if "resources" in r and not any(g.get("group", "") == group and resource in g.get("resources", [resource])
                                        for g in r["resources"]):
            continue
        return r["level"]
    return "None"


for r in rules:
    check(r.get("level") in levels, f"audit policy: level {r.get('level')}")
for verb in ("get", "list", "watch", "create", "update", "patch"):
    check(first_level("", "secrets", verb) in ("None", "Metadata"), f"audit policy: secret bodies logged on {verb}")
    check(first_level("authentication.k8s.io", "tokenreviews", verb) in ("None", "Metadata"), f"audit policy: token reviews logged on {verb}")
check(first_level("", "pods", "create") == "RequestResponse", "audit policy: pod creation without its body")
check(first_level("rbac.authorization.k8s.io", "clusterrolebindings", "create") in ("Request", "RequestResponse"),
      "audit policy: RBAC bindings without their body")
check("RequestReceived" in pol.get("omitStages", []) and "ResponseStarted" not in pol.get("omitStages", []),
      "audit policy: stages (omit RequestReceived, keep ResponseStarted for exec)")

# --- webhook kubeconfig ------------------------------------------------------------
kc = objects.get("Config", {})
clusters = kc.get("clusters", [])
users = kc.get("users", [])
server = clusters[0].get("cluster", {}).get("server", "") if clusters else ""
check(server.startswith("https://") and ":9765/k8s-audit/" in server, f"kubeconfig: server {server}")
check(clusters and clusters[0]["cluster"].get("certificate-authority"), "kubeconfig: no certificate-authority")
u = users[0].get("user", {}) if users else {}
check(u.get("client-certificate") and u.get("client-key"), "kubeconfig: no client certificate")
ctx = {c["name"]: c["context"] for c in kc.get("contexts", [])}
check(kc.get("current-context") in ctx, "kubeconfig: current-context")
svc_ip = svc.get("clusterIP")
if svc_ip:
    check(f"//{svc_ip}:" in server, f"kubeconfig: server {server} is not the Service's clusterIP {svc_ip}")

for f in failures:
    print("deploy: FAIL:", f)
sys.exit(1 if failures else 0)
