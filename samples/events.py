#!/usr/bin/env python3
"""Builders of complete, realistic audit events (kind, apiVersion, auditID,
stage, requestURI, user, sourceIPs, userAgent, objectRef, responseStatus,
timestamps, annotations) for samples/make_sample.py."""
import itertools
import uuid

_seq = itertools.count(1)
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


