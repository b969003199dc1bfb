#!/usr/bin/env python3
"""rulecheck — a small, slow *reference model* of the Falco rule language as
described in shared/spec/rules.md and shared/spec/fields.md, restricted to the
k8s_audit source.  It exists so that the Peregrine ruleset (rules/*.yaml) and
its test cases (rules/tests/*.yaml) can be checked independently of the C
engine, and so that the two can be compared.  It is NOT the product: the C
engine (build/peregrine) is.  When the two disagree, the spec decides.

Usage:
  rulecheck.py validate [-r DIR_OR_FILE ...]          load + compile, print warnings
  rulecheck.py run      [-r ...] -e EVENTS.jsonl [--all] [--quiet]
  rulecheck.py test     [-r ...] TESTDIR_OR_FILE ...  run rule test cases
  rulecheck.py list     [-r ...]                      rules with priority/tags/enabled
  rulecheck.py engine-test [-r ...] [--engine BIN] TESTDIR_OR_FILE ...
                        run the same test cases through the C engine (JSON output,
                        rule_matching=all) — a stand-in until `peregrine --test` exists
  rulecheck.py diff     [-r ...] [--engine BIN] -e EVENTS.jsonl [--all]
                        compare the engine's alerts with this model's, event by event
Defaults: -r rules (relative to the repository root).
"""
import base64
import datetime
import fnmatch
import json
import os
import re
import sys

import warnings

import yaml

warnings.simplefilter("ignore", FutureWarning)

# --------------------------------------------------------------------------
# Field table (name -> (is_list, argkind)) argkind: None | 'idx' | 'key'
# --------------------------------------------------------------------------
FIELDS = {}


def _f(name, is_list=False, arg=None):
    FIELDS[name] = (is_list, arg)


for n in ["ka.auditid", "ka.stage", "ka.auth.decision", "ka.auth.reason", "ka.auth.openshift.decision",
          "ka.validations.admission.policy.failure", "ka.security.pod.violations", "ka.auth.openshift.username",
          "ka.user.name", "ka.impuser.name", "ka.verb", "ka.uri", "ka.target.name", "ka.target.namespace",
          "ka.target.resource", "ka.target.subresource", "ka.target.pod.name", "ka.req.binding.role",
          "ka.req.configmap.name", "ka.req.configmap.obj", "ka.req.container.image",
          "ka.req.container.image.repository", "ka.req.pod.host_ipc", "ka.req.pod.host_network",
          "ka.req.container.host_network", "ka.req.pod.host_pid", "ka.req.container.privileged",
          "ka.req.pod.run_as_user", "ka.req.pod.run_as_group", "ka.req.pod.fs_group", "ka.req.service.type",
          "ka.resp.name", "ka.response.code", "ka.response.reason", "ka.useragent", "ka.cluster.name"]:
    _f(n)
for n in ["ka.user.groups", "ka.req.binding.subjects", "ka.req.binding.subjects.user_names",
          "ka.req.binding.subjects.serviceaccount_names", "ka.req.binding.subjects.serviceaccount_ns_names",
          "ka.req.binding.subjects.group_names", "ka.req.role.rules", "ka.req.pod.supplemental_groups"]:
    _f(n, True)
_f("ka.uri.param", False, "key")
_f("ka.req.binding.subject.has_name", False, "key")
_f("ka.req.volume.hostpath", False, "key")
for n in ["ka.req.role.rules.apiGroups", "ka.req.role.rules.nonResourceURLs", "ka.req.role.rules.verbs",
          "ka.req.role.rules.resources", "ka.req.service.ports", "ka.req.pod.volumes.hostpath",
          "ka.req.pod.volumes.flexvolume_driver", "ka.req.pod.volumes.volume_type", "ka.sourceips"]:
    _f(n, True, "idx")
CSUBS = ["name", "image", "image.repository", "command", "args", "privileged", "allow_privilege_escalation",
         "read_only_fs", "run_as_user", "eff_run_as_user", "run_as_group", "eff_run_as_group", "proc_mount",
         "add_capabilities", "host_port"]
for fam in ["containers", "initContainers", "ephemeralContainers"]:
    for s in CSUBS:
        if fam == "ephemeralContainers" and s == "host_port":
            continue
        _f("ka.req.pod.%s.%s" % (fam, s), True, "idx")
for p in ["json", "jevt"]:
    _f(p + ".value", False, "key")
    _f(p + ".obj")
    _f(p + ".rawtime")
for n in ["evt.time", "evt.time.s", "evt.time.iso8601", "evt.datetime", "evt.datetime.s", "evt.rawtime",
          "evt.rawtime.s", "evt.rawtime.ns", "evt.num", "evt.source", "evt.pluginname", "evt.plugininfo",
          "evt.hostname", "evt.is_async"]:
    _f(n)


class LoadError(Exception):
    pass


# --------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------
MISSING = object()
NIL = object()


def R(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def P(obj, *keys):
    v = obj
    for k in keys:
        if isinstance(v, dict):
            if k not in v:
                return MISSING
            v = v[k]
        elif isinstance(v, list):
            try:
                i = int(k)
            except ValueError:
                return MISSING
            if i < 0 or i >= len(v):
                return MISSING
            v = v[i]
        else:
            return MISSING
    return v


def W(v, idx, keys):
    for i, k in enumerate(keys):
        if isinstance(v, list):
            if idx == -1:
                out = []
                for e in v:
                    r = W(e, idx, keys[i:])
                    if r is MISSING:
                        out.append(NIL)
                    else:
                        out.extend(r)
                return out
            if idx >= len(v):
                return MISSING
            v = v[idx]
        if k != "":
            if isinstance(v, dict) and k in v:
                v = v[k]
            else:
                return MISSING
    return [v]


def repo(img):
    return img.split(":", 1)[0].split("@", 1)[0]


def rfc3339_ns(s):
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", s or "")
    if not m:
        return None
    y, mo, d, h, mi, se, frac, tz = m.groups()
    dt = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(se), tzinfo=datetime.timezone.utc)
    ns = int(dt.timestamp()) * 10 ** 9 + int((frac or "0").ljust(9, "0")[:9])
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        ns -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * 10 ** 9
    return ns


def uri_param(uri, key):
    if uri is MISSING:
        return None
    s = R(uri)
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in s):
        return None
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        return None
    q = s.split("#", 1)[0]
    if "?" not in q:
        return None
    q = q.split("?", 1)[1]
    if ";" in q:
        return None
    from urllib.parse import unquote_plus
    res = None
    for pair in q.split("&"):
        if pair == "":
            continue
        k, _, v = pair.partition("=")
        k = unquote_plus(k)
        if k == key and res is None:
            res = unquote_plus(v)
    return res


class Event:
    def __init__(self, obj, num=0):
        self.o = obj
        self.num = num
        self.cache = {}
        self.ns = rfc3339_ns(obj.get("stageTimestamp")) if isinstance(obj, dict) else None
        if self.ns is None:
            self.ns = 0

    def get(self, name, arg):
        k = (name, arg)
        if k not in self.cache:
            self.cache[k] = self._get(name, arg)
        return self.cache[k]

    def _get(self, name, arg):
        """Returns a list of strings (possibly one) or None (missing)."""
        o = self.o
        if name.startswith("json.") or name.startswith("jevt."):
            sub = name.split(".", 1)[1]
            if sub == "value":
                ptr = arg
                if ptr == "":
                    return [R(o)]
                if ptr.startswith("/"):
                    ptr = ptr[1:]
                v = o
                for t in ptr.split("/"):
                    t = t.replace("~1", "/").replace("~0", "~")
                    if isinstance(v, dict):
                        if t not in v:
                            return None
                        v = v[t]
                    elif isinstance(v, list):
                        try:
                            i = int(t)
                        except ValueError:
                            return None
                        if i < 0 or i >= len(v):
                            return None
                        v = v[i]
                    else:
                        return None
                return [R(v)]
            if sub == "obj":
                return [json.dumps(o, indent=2, ensure_ascii=False)]
            if sub == "rawtime":
                return [str(self.ns)]
        if name.startswith("evt."):
            dt = datetime.datetime.fromtimestamp(self.ns / 1e9, datetime.timezone.utc)
            if name == "evt.time":
                return [dt.strftime("%H:%M:%S") + ".%09d" % (self.ns % 10 ** 9)]
            if name == "evt.time.iso8601":
                return [dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%09d+0000" % (self.ns % 10 ** 9)]
            if name == "evt.num":
                return [str(self.num)]
            if name == "evt.source":
                return ["k8s_audit"]
            if name == "evt.rawtime":
                return [str(self.ns)]
            return [dt.isoformat()]
        if not isinstance(o, dict) or "auditID" not in o:
            return None

        def single(*keys):
            v = P(o, *keys)
            return None if v is MISSING else [R(v)]

        def plist(*keys):
            v = P(o, *keys)
            if not isinstance(v, list) or not v:
                return None
            return [R(e) for e in v]

        simple = {
            "ka.auditid": ("auditID",), "ka.stage": ("stage",),
            "ka.auth.decision": ("annotations", "authorization.k8s.io/decision"),
            "ka.auth.reason": ("annotations", "authorization.k8s.io/reason"),
            "ka.auth.openshift.decision": ("annotations", "authentication.openshift.io/decision"),
            "ka.auth.openshift.username": ("annotations", "authentication.openshift.io/username"),
            "ka.validations.admission.policy.failure": ("annotations", "validation.policy.admission.k8s.io/validation_failure"),
            "ka.security.pod.violations": ("annotations", "pod-security.kubernetes.io/audit-violations"),
            "ka.cluster.name": ("annotations", "cluster_name"),
            "ka.user.name": ("user", "username"), "ka.impuser.name": ("impersonatedUser", "username"),
            "ka.verb": ("verb",), "ka.uri": ("requestURI",), "ka.useragent": ("userAgent",),
            "ka.response.code": ("responseStatus", "code"), "ka.response.reason": ("responseStatus", "reason"),
            "ka.resp.name": ("responseObject", "metadata", "name"),
            "ka.target.name": ("objectRef", "name"), "ka.target.namespace": ("objectRef", "namespace"),
            "ka.target.resource": ("objectRef", "resource"), "ka.target.subresource": ("objectRef", "subresource"),
            "ka.req.configmap.name": ("objectRef", "name"), "ka.req.configmap.obj": ("requestObject", "data"),
            "ka.req.binding.role": ("requestObject", "roleRef", "name"),
            "ka.req.pod.host_ipc": ("requestObject", "spec", "hostIPC"),
            "ka.req.pod.host_network": ("requestObject", "spec", "hostNetwork"),
            "ka.req.container.host_network": ("requestObject", "spec", "hostNetwork"),
            "ka.req.pod.host_pid": ("requestObject", "spec", "hostPID"),
            "ka.req.pod.run_as_user": ("requestObject", "spec", "securityContext", "runAsUser"),
            "ka.req.pod.run_as_group": ("requestObject", "spec", "securityContext", "runAsGroup"),
            "ka.req.pod.fs_group": ("requestObject", "spec", "securityContext", "fsGroup"),
            "ka.req.service.type": ("requestObject", "spec", "type"),
        }
        if name in simple:
            return single(*simple[name])
        if name == "ka.user.groups":
            return plist("user", "groups")
        if name == "ka.req.binding.subjects":
            return plist("requestObject", "subjects")
        if name == "ka.req.role.rules":
            return plist("requestObject", "rules")
        if name == "ka.req.pod.supplemental_groups":
            return plist("requestObject", "spec", "securityContext", "supplementalGroups")
        if name == "ka.uri.param":
            v = uri_param(P(o, "requestURI"), arg)
            return None if v is None else [v]
        if name == "ka.req.binding.subject.has_name":
            return ["true"]
        if name == "ka.target.pod.name":
            res = P(o, "objectRef", "resource")
            sub = P(o, "objectRef", "subresource")
            res = res if isinstance(res, str) else ""
            sub = sub if isinstance(sub, str) else ""
            if res == "pods" and sub == "":
                return single("responseObject", "metadata", "name")
            return None
        if name.startswith("ka.req.binding.subjects."):
            kind = {"user_names": "User", "group_names": "Group", "serviceaccount_names": "ServiceAccount",
                    "serviceaccount_ns_names": "ServiceAccount"}[name.rsplit(".", 1)[1]]
            subs = P(o, "requestObject", "subjects")
            if subs is MISSING or not isinstance(subs, list):
                return None
            out = []
            for s in subs:
                if isinstance(s, dict) and "kind" in s and "name" in s and R(s["kind"]) == kind:
                    if name.endswith("ns_names"):
                        if "namespace" not in s:
                            continue
                        out.append(R(s["namespace"]) + ":" + R(s["name"]))
                    else:
                        out.append(R(s["name"]))
            return out or None
        idx = -1 if arg is None or FIELDS.get(name, (0, None))[1] != "idx" else int(arg)
        if name.startswith("ka.req.role.rules."):
            sub = name.rsplit(".", 1)[1]
            r = W(o, idx, ["requestObject", "rules", sub])
            if r is MISSING:
                return None
            out = []
            for v in r:
                if isinstance(v, list):
                    out.extend(R(e) for e in v)
            return out or None
        if name == "ka.sourceips":
            r = W(o, idx, ["requestObject", "rules", "sourceIPs"])
            if r is MISSING:
                return None
            out = []
            for v in r:
                if isinstance(v, list):
                    out.extend(R(e) for e in v)
            return out or None
        if name == "ka.req.service.ports":
            r = W(o, idx, ["requestObject", "spec", "ports"])
            if r is MISSING:
                return None
            out = [R(v) for v in r if v is not NIL]
            return out or None
        if name in ("ka.req.pod.volumes.hostpath", "ka.req.pod.volumes.flexvolume_driver"):
            k2 = ["hostPath", "path"] if name.endswith("hostpath") else ["flexVolume", "driver"]
            r = W(o, idx, ["requestObject", "spec", "volumes"] + k2)
            if r is MISSING:
                return None
            out = [R(v) for v in r if v is not NIL]
            return out or None
        if name == "ka.req.pod.volumes.volume_type":
            r = W(o, idx, ["requestObject", "spec", "volumes", ""])
            if r is MISSING:
                return None
            out = []
            for v in r:
                if isinstance(v, dict):
                    out.extend(k for k in v if k != "name")
            return out or None
        if name == "ka.req.volume.hostpath":
            vols = P(o, "requestObject", "spec", "volumes")
            if vols is MISSING:
                return None
            r = W(o, -1, ["requestObject", "spec", "volumes", "hostPath", "path"])
            paths = [R(v) for v in (r if r is not MISSING else []) if v is not NIL]
            for p in paths:
                if (arg.endswith("*") and p.startswith(arg[:-1])) or p == arg:
                    return ["true"]
            return ["false"]
        if name in ("ka.req.container.image", "ka.req.container.image.repository"):
            v = P(o, "requestObject", "spec", "containers", "0", "image")
            if v is MISSING:
                return None
            return [R(v) if name.endswith("image") else repo(R(v))]
        if name == "ka.req.container.privileged":
            c = P(o, "requestObject", "spec", "containers")
            if c is MISSING:
                return None
            r = W(o, -1, ["requestObject", "spec", "containers", "securityContext", "privileged"])
            return ["true" if r is not MISSING and any(v is True for v in r) else "false"]
        m = re.match(r"ka\.req\.pod\.(containers|initContainers|ephemeralContainers)\.(.+)$", name)
        if m:
            fam, sub = m.groups()
            base = ["requestObject", "spec", fam]
            if sub in ("name", "image", "image.repository"):
                r = W(o, idx, base + [sub.split(".")[0]])
                if r is MISSING or any(v is NIL for v in r):
                    return None
                vals = [R(v) for v in r]
                if sub == "image.repository":
                    vals = [repo(v) for v in vals]
                return vals or None
            if sub in ("command", "args"):
                r = W(o, idx, base + [sub])
                if r is MISSING:
                    return None
                out = []
                for v in r:
                    if v is NIL:
                        continue
                    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                        return None
                    out.append(" ".join(v))
                return out or None
            sc = {"privileged": "privileged", "allow_privilege_escalation": "allowPrivilegeEscalation",
                  "read_only_fs": "readOnlyRootFilesystem", "run_as_user": "runAsUser",
                  "run_as_group": "runAsGroup", "proc_mount": "procMount"}
            if sub in sc or sub == "add_capabilities":
                ks = ["securityContext", "capabilities", "add"] if sub == "add_capabilities" else ["securityContext", sc[sub]]
                r = W(o, idx, base + ks)
                if r is MISSING:
                    return None
                out = [R(v) for v in r if v is not NIL]
                return out or None
            if sub in ("eff_run_as_user", "eff_run_as_group"):
                key = "runAsUser" if sub.endswith("user") else "runAsGroup"
                if P(o, *base) is MISSING:
                    return None
                d = P(o, "requestObject", "spec", key)
                d = "0" if d is MISSING else R(d)
                r = W(o, idx, base + [key])
                if r is MISSING:
                    return None
                return [d if v is NIL else R(v) for v in r] or None
            if sub == "host_port":
                r = W(o, idx, base + ["ports"])
                if r is MISSING:
                    return None
                out = []
                for v in r:
                    if v is NIL:
                        continue
                    if not isinstance(v, list):
                        return None
                    for p in v:
                        if isinstance(p, dict):
                            if "hostPort" in p:
                                out.append(R(p["hostPort"]))
                            elif "containerPort" in p:
                                out.append(R(p["containerPort"]))
                return out or None
        raise LoadError("extraction not implemented for " + name)


# --------------------------------------------------------------------------
# Condition parser (spec/rules.md §6)
# --------------------------------------------------------------------------
BLANKS = " \t\b\r\n"
RE_FIELD = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*(\.[a-zA-Z]+[a-zA-Z0-9_]*)+")
RE_IDENT = re.compile(r"[a-zA-Z]+[a-zA-Z0-9_]*")
RE_ARGBARE = re.compile(r"[^\]\[\"'\s]+")
RE_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|[+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)?")
RE_BARESTR = re.compile(r"[^()\"'\s=,]+")
TRANSFORMERS = ["tolower", "toupper", "b64", "basename", "len"]
NUMOPS = ["<=", "<", ">=", ">"]
STROPS = ["==", "=", "!=", "glob", "iglob", "contains", "icontains", "bcontains", "startswith", "bstartswith",
          "endswith", "regex"]
LISTOPS = ["intersects", "in", "pmatch"]


class ParseError(Exception):
    pass


def unescape(body, q):
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            m = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "/": "/", " ": "\\"}
            if n in m:
                out.append(m[n])
            elif n == q:
                out.append(q)
            else:
                raise ParseError("unsupported string escape sequence: \\" + n)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Parser:
    def __init__(self, text):
        self.t = text
        self.p = 0

    def blanks(self):
        while self.p < len(self.t) and self.t[self.p] in BLANKS:
            self.p += 1

    def err(self, msg):
        raise ParseError("%s at pos %d: ...%r" % (msg, self.p, self.t[self.p:self.p + 40]))

    def parse(self):
        self.blanks()
        if self.p >= len(self.t):
            self.err("empty condition")
        e = self.expr()
        self.blanks()
        if self.p != len(self.t):
            self.err("unexpected token, expecting 'or', 'and'")
        return e

    def kw(self, word):
        self.blanks()
        if self.t.startswith(word, self.p):
            n = self.p + len(word)
            if n < len(self.t) and (self.t[n] in BLANKS or self.t[n] == "("):
                self.p = n
                return True
        return False

    def expr(self):
        items = [self.and_()]
        while self.kw("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else ("or", items)

    def and_(self):
        items = [self.not_()]
        while self.kw("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else ("and", items)

    def not_(self):
        neg = False
        while True:
            self.blanks()
            if self.t.startswith("not", self.p) and self.p + 3 < len(self.t) and (
                    self.t[self.p + 3] in BLANKS or self.t[self.p + 3] == "("):
                self.p += 3
                neg = not neg
                continue
            break
        c = self.check()
        return ("not", c) if neg else c

    def check(self):
        self.blanks()
        if self.t.startswith("(", self.p):
            self.p += 1
            e = self.expr()
            self.blanks()
            if not self.t.startswith(")", self.p):
                self.err("expected ')'")
            self.p += 1
            return e
        lhs = self.try_transformer_or_field()
        if lhs is not None:
            return self.condition(lhs)
        m = RE_IDENT.match(self.t, self.p)
        if m:
            self.p = m.end()
            return ("macro", m.group(0))
        self.err("expected a field, macro or '('")

    def try_transformer_or_field(self):
        for tr in TRANSFORMERS:
            if self.t.startswith(tr + "(", self.p):
                self.p += len(tr) + 1
                self.blanks()
                inner = self.try_transformer_or_field()
                if inner is None:
                    self.err("expected field in transformer")
                self.blanks()
                if not self.t.startswith(")", self.p):
                    self.err("expected ')' after transformer")
                self.p += 1
                return ("tr", tr, inner)
        m = RE_FIELD.match(self.t, self.p)
        if not m:
            return None
        name = m.group(0)
        self.p = m.end()
        arg = None
        if self.t.startswith("[", self.p):
            self.p += 1
            if self.p < len(self.t) and self.t[self.p] in "\"'":
                q = self.t[self.p]
                j = self.p + 1
                while j < len(self.t) and not (self.t[j] == q and self.t[j - 1] != "\\"):
                    j += 1
                arg = unescape(self.t[self.p + 1:j], q)
                self.p = j + 1
            else:
                ma = RE_ARGBARE.match(self.t, self.p)
                arg = ma.group(0) if ma else ""
                self.p = ma.end() if ma else self.p
            if not self.t.startswith("]", self.p):
                self.err("expected ']'")
            self.p += 1
        return ("field", name, arg)

    def value(self):
        self.blanks()
        if self.p < len(self.t) and self.t[self.p] in "\"'":
            q = self.t[self.p]
            j = self.p + 1
            while j < len(self.t) and not (self.t[j] == q and self.t[j - 1] != "\\"):
                j += 1
            if j >= len(self.t):
                self.err("unterminated string")
            v = unescape(self.t[self.p + 1:j], q)
            self.p = j + 1
            return v
        m = RE_BARESTR.match(self.t, self.p)
        if not m:
            self.err("expected a value")
        self.p = m.end()
        return m.group(0)

    def rhs_special(self):
        if self.t.startswith("val(", self.p):
            self.p += 4
            f = self.try_transformer_or_field()
            self.blanks()
            self.p += 1
            return ("val", f)
        for tr in TRANSFORMERS:
            if self.t.startswith(tr + "(", self.p):
                return ("rhs_tr", self.try_transformer_or_field())
        return None

    def condition(self, lhs):
        self.blanks()
        t, p = self.t, self.p
        if t.startswith("exists", p):
            self.p += 6
            return ("cmp", lhs, "exists", None)
        for op in NUMOPS:
            if t.startswith(op, p) and not (op in ("<", ">") and t.startswith(op + "=", p)):
                self.p += len(op)
                self.blanks()
                s = self.rhs_special()
                if s:
                    return ("cmp", lhs, op, s)
                m = RE_NUMBER.match(t, self.p)
                if not m:
                    self.err("numeric operator needs a number")
                self.p = m.end()
                return ("cmp", lhs, op, m.group(0))
        for op in STROPS:
            if t.startswith(op, p):
                n = p + len(op)
                if op[0].isalpha() and not (n < len(t) and t[n] in BLANKS):
                    continue
                if op == "=" and t.startswith("==", p):
                    continue
                self.p = n
                self.blanks()
                for mod in ("oneof", "anyof", "allof"):
                    if t.startswith(mod, self.p):
                        raise ParseError("modifiers not supported by rulecheck")
                s = self.rhs_special()
                if s:
                    return ("cmp", lhs, op, s)
                return ("cmp", lhs, op, self.value())
        for op in LISTOPS:
            if t.startswith(op, p):
                self.p = p + len(op)
                self.blanks()
                s = self.rhs_special()
                if s:
                    return ("cmp", lhs, op, s)
                if t.startswith("(", self.p):
                    self.p += 1
                    items = []
                    self.blanks()
                    if t.startswith(")", self.p):
                        self.p += 1
                        return ("cmp", lhs, op, items)
                    while True:
                        items.append(self.value())
                        self.blanks()
                        if t.startswith(",", self.p):
                            self.p += 1
                            continue
                        if t.startswith(")", self.p):
                            self.p += 1
                            break
                        self.err("expected ',' or ')' in list")
                    return ("cmp", lhs, op, items)
                return ("cmp", lhs, op, [self.value()])
        self.err("expected an operator")


# --------------------------------------------------------------------------
# Rules loading / compilation
# --------------------------------------------------------------------------
PRIOS = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"]
PRIO_LONG = ["Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"]
PRIO_SHORT = ["EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"]


def prio_index(p):
    p = str(p).lower()
    if p == "info":
        p = "informational"
    if p not in PRIOS:
        raise LoadError("Invalid priority " + p)
    return PRIOS.index(p)


def quote_item(s):
    s = str(s)
    if " " in s and not s.startswith('"') and not s.startswith("'"):
        return '"' + s + '"'
    return s


DELIMS = " \t\n\r(),="


def substitute_lists(text, lists, order):
    for name in order:
        items = lists[name]
        out = []
        i = 0
        L = len(name)
        while True:
            j = text.find(name, i)
            if j < 0:
                out.append(text[i:])
                break
            before_ok = j == 0 or text[j - 1] in DELIMS
            after_ok = j + L == len(text) or text[j + L] in DELIMS
            if before_ok and after_ok:
                seg = text[i:j]
                rest_start = j + L
                if items:
                    out.append(seg.rstrip(" \t\n\r") + (" " if seg.rstrip(" \t\n\r") != seg else "")
                               + ", ".join(quote_item(x) for x in items))
                else:
                    s2 = seg.rstrip(" \t\n\r")
                    if s2.endswith(","):
                        out.append(s2[:-1])
                    else:
                        out.append(s2)
                        k = rest_start
                        while k < len(text) and text[k] in " \t\n\r":
                            k += 1
                        if k < len(text) and text[k] == ",":
                            rest_start = k + 1
                i = rest_start
            else:
                out.append(text[i:j + L])
                i = j + L
        text = "".join(out)
    return text


class Ruleset:
    def __init__(self):
        self.lists = {}
        self.list_order = []
        self.macros = {}        # name -> (condition, first_index, last_index)
        self.macro_order = []
        self.rules = {}
        self.rule_order = []
        self.seq = 0
        self.warnings = []
        self.required_engine_version = None
        self.list_refs = set()

    def load_path(self, path):
        if os.path.isdir(path):
            for f in sorted(os.listdir(path)):
                fp = os.path.join(path, f)
                if os.path.isfile(fp) and (f.endswith(".yaml") or f.endswith(".yml")):
                    self.load_file(fp)
        elif path.endswith(".yaml") or path.endswith(".yml"):
            self.load_file(path)

    def load_file(self, fp):
        with open(fp) as fh:
            try:
                docs = list(yaml.safe_load_all(fh))
            except yaml.YAMLError as e:
                raise LoadError("%s: YAML parse error: %s" % (fp, e))
        for doc in docs:
            if doc is None:
                continue
            if not isinstance(doc, list):
                raise LoadError("%s: Rules content is not yaml array of objects" % fp)
            for item in doc:
                if item is None:
                    continue
                if not isinstance(item, dict):
                    raise LoadError("%s: Unexpected element type" % fp)
                try:
                    self.load_item(item)
                except LoadError as e:
                    raise LoadError("%s: %s" % (fp, e))
        self.compile()

    def load_item(self, it):
        self.seq += 1
        if "required_engine_version" in it:
            self.required_engine_version = it["required_engine_version"]
            return
        if "required_plugin_versions" in it:
            return
        if "list" in it:
            name = it["list"]
            items = it.get("items")
            if not isinstance(items, list):
                raise LoadError("list %s: items must be a sequence" % name)
            items = [("true" if x is True else "false" if x is False else str(x)) for x in items]
            app = it.get("append") or (it.get("override", {}) or {}).get("items") == "append"
            # expand list references to lists defined earlier
            exp = []
            for x in items:
                if x in self.lists and x != name:
                    self.list_refs.add(x)
                    exp.extend(self.lists[x])
                else:
                    exp.append(x)
            if app:
                if name not in self.lists:
                    raise LoadError("List %s uses append but no list by that name already exists" % name)
                self.lists[name] = self.lists[name] + exp
            else:
                if name not in self.lists:
                    self.list_order.append(name)
                self.lists[name] = exp
            return
        if "macro" in it:
            name = it["macro"]
            if not re.fullmatch(r"[a-zA-Z]+[a-zA-Z0-9_]*", name):
                self.warnings.append("LOAD_INVALID_MACRO_NAME " + name)
            cond = it.get("condition")
            if cond is None or str(cond).strip() == "":
                raise LoadError("macro %s: missing condition" % name)
            cond = str(cond)
            app = it.get("append") or (it.get("override", {}) or {}).get("condition") == "append"
            if app:
                if name not in self.macros:
                    raise LoadError("Macro %s uses append but no macro by that name already exists" % name)
                c0, first, _ = self.macros[name]
                self.macros[name] = (c0 + " " + cond, first, self.seq)
            else:
                if name in self.macros:
                    self.macros[name] = (cond, self.macros[name][1], self.seq)
                else:
                    self.macros[name] = (cond, self.seq, self.seq)
                    self.macro_order.append(name)
            return
        if "rule" in it:
            name = it["rule"]
            known = {"rule", "condition", "output", "desc", "priority", "source", "enabled", "tags", "exceptions",
                     "append", "override", "warn_evttypes", "skip-if-unknown-filter", "capture",
                     "capture_duration"}
            for k in it:
                if k not in known:
                    self.warnings.append("LOAD_UNKNOWN_KEY %s in rule %s" % (k, name))
            ov = it.get("override")
            if ov:
                if name not in self.rules:
                    raise LoadError("override of unknown rule " + name)
                r = self.rules[name]
                for k, op in ov.items():
                    if k not in it:
                        raise LoadError("override key %s not present" % k)
                    if op == "append":
                        if k == "tags":
                            r["tags"] = sorted(set(r["tags"]) | set(it["tags"]))
                        elif k == "exceptions":
                            r["exceptions"] = merge_exceptions(r["exceptions"], it["exceptions"])
                        else:
                            r[k] = r[k] + " " + str(it[k])
                    else:
                        r[k] = it[k]
                return
            if it.get("append"):
                r = self.rules[name]
                if "condition" in it:
                    r["condition"] = r["condition"] + " " + it["condition"]
                if "exceptions" in it:
                    r["exceptions"] = merge_exceptions(r["exceptions"], it["exceptions"])
                return
            if not any(k in it for k in ("condition", "output", "desc", "priority")):
                if "enabled" not in it or name not in self.rules:
                    raise LoadError("rule %s: enabled-only item for unknown rule" % name)
                self.rules[name]["enabled"] = bool(it["enabled"])
                return
            for k in ("condition", "output", "desc", "priority"):
                if k not in it or it[k] is None or str(it[k]).strip() == "":
                    raise LoadError("rule %s: missing or empty key %s" % (name, k))
            r = {"name": name, "condition": str(it["condition"]), "output": str(it["output"]).strip(),
                 "desc": str(it["desc"]), "priority": prio_index(it["priority"]),
                 "source": it.get("source", "syscall"), "enabled": it.get("enabled", True),
                 "tags": sorted(set(str(x) for x in it.get("tags", []) or [])),
                 "exceptions": it.get("exceptions", []) or []}
            if not isinstance(r["enabled"], bool):
                raise LoadError("rule %s: enabled must be a boolean" % name)
            if name not in self.rules:
                self.rule_order.append(name)
            self.rules[name] = r
            return
        self.warnings.append("LOAD_UNKNOWN_ITEM %r" % (list(it.keys()),))

    # ---- compile
    def exceptions_text(self, r):
        out = ""
        for ex in r["exceptions"]:
            if "name" not in ex:
                raise LoadError("rule %s: exception without name" % r["name"])
            fields = ex.get("fields")
            values = ex.get("values") or []
            if not values:
                continue
            if isinstance(fields, list):
                comps = ex.get("comps") or ["="] * len(fields)
                if len(comps) != len(fields):
                    raise LoadError("rule %s: fields/comps length mismatch" % r["name"])
                ors = []
                for tup in values:
                    if not isinstance(tup, list) or len(tup) != len(fields):
                        raise LoadError("Fields and values lists must have equal length")
                    ands = []
                    for f, c, v in zip(fields, comps, tup):
                        if isinstance(v, list):
                            vv = "(" + ", ".join(quote_item(x) for x in v) + ")"
                        else:
                            vv = quote_item(v)
                            if c in ("in", "intersects", "pmatch") and not vv.startswith("("):
                                vv = "(" + vv + ")"
                        ands.append(" %s %s %s" % (f, c, vv))
                    ors.append("(" + " and ".join(ands) + ")")
                out += " and not (" + " or ".join(ors) + ")"
            else:
                comp = ex.get("comps") or "in"
                out += " and not (%s %s (%s))" % (fields, comp, ", ".join(quote_item(v) for v in values))
        return out

    def compile(self):
        # unused-item warnings are only meaningful for the final collection
        self.warnings = [w for w in self.warnings if not w.startswith(("LOAD_UNUSED_", "LOAD_UNKNOWN_SOURCE"))]
        self.parsed_macros = {}
        used_macros = set()
        used_lists = set()
        for name in self.macro_order:
            cond, first, last = self.macros[name]
            text = substitute_lists(cond, self.lists, self.list_order)
            try:
                ast = Parser(text).parse()
            except ParseError as e:
                raise LoadError("macro %s: %s" % (name, e))
            for ref in macro_refs(ast):
                if ref not in self.macros or self.macros[ref][1] > last:
                    raise LoadError("Undefined macro '%s' used in filter (macro %s)" % (ref, name))
                used_macros.add(ref)
            self.parsed_macros[name] = ast
        self.compiled = []
        for rn in self.rule_order:
            r = self.rules[rn]
            if r["source"] != "k8s_audit":
                self.warnings.append("LOAD_UNKNOWN_SOURCE %s (rule %s)" % (r["source"], rn))
                continue
            text = "(" + r["condition"] + ")" + self.exceptions_text(r)
            text = substitute_lists(text, self.lists, self.list_order)
            try:
                ast = Parser(text).parse()
                ast = self.resolve(ast, used_macros, ())
                check_ast(ast)
                outfmt = compile_output(r["output"])
            except (ParseError, LoadError) as e:
                raise LoadError("rule '%s': %s" % (rn, e))
            self.compiled.append((r, ast, outfmt))
        for name in self.macro_order:
            if name not in used_macros:
                self.warnings.append("LOAD_UNUSED_MACRO " + name)
        all_text = " ".join([m[0] for m in self.macros.values()] +
                            [r["condition"] + " " + json.dumps(r["exceptions"]) for r in self.rules.values()])
        for ln in self.list_order:
            if ln in self.list_refs:
                continue
            if not re.search(r"(^|[ \t\n\r(),=])" + re.escape(ln) + r"($|[ \t\n\r(),=])", all_text):
                self.warnings.append("LOAD_UNUSED_LIST " + ln)
        self.warnings = list(dict.fromkeys(self.warnings))

    def resolve(self, ast, used, stack):
        k = ast[0]
        if k == "macro":
            name = ast[1]
            if name not in self.parsed_macros:
                raise LoadError("Undefined macro '%s' used in filter." % name)
            if name in stack:
                raise LoadError("reference loop in macro '%s'" % name)
            used.add(name)
            return self.resolve(self.parsed_macros[name], used, stack + (name,))
        if k in ("and", "or"):
            return (k, [self.resolve(x, used, stack) for x in ast[1]])
        if k == "not":
            return ("not", self.resolve(ast[1], used, stack))
        return ast


def merge_exceptions(old, new):
    out = [dict(e) for e in old]
    for ex in new:
        for o in out:
            if o.get("name") == ex.get("name"):
                if "fields" in ex or "comps" in ex:
                    raise LoadError("exception %s: fields/comps given again on append" % ex.get("name"))
                o["values"] = list(o.get("values") or []) + list(ex.get("values") or [])
                break
        else:
            if "fields" not in ex or "values" not in ex:
                raise LoadError("new exception %s needs fields and values" % ex.get("name"))
            out.append(ex)
    return out


def macro_refs(ast):
    k = ast[0]
    if k == "macro":
        return [ast[1]]
    if k in ("and", "or"):
        return [r for x in ast[1] for r in macro_refs(x)]
    if k == "not":
        return macro_refs(ast[1])
    return []


def field_info(f):
    if f[0] == "tr":
        inner_list, _ = field_info(f[2])
        if f[1] == "len":
            return False, "num"
        return inner_list, "str"
    name, arg = f[1], f[2]
    if name not in FIELDS:
        raise LoadError("filter_check called with nonexistent field " + name)
    is_list, argkind = FIELDS[name]
    if argkind == "key" and arg is None:
        raise LoadError("field %s requires an argument" % name)
    if argkind is None and arg is not None:
        raise LoadError("field %s does not take an argument" % name)
    if argkind == "idx" and arg is not None and not re.fullmatch(r"0|[1-9][0-9]*", arg):
        raise LoadError("field %s: bad index %r" % (name, arg))
    if argkind == "key" and arg is not None and " " in arg:
        raise LoadError("field %s: argument with space" % name)
    return is_list, "str"


def check_ast(ast):
    k = ast[0]
    if k in ("and", "or"):
        for x in ast[1]:
            check_ast(x)
        return
    if k == "not":
        check_ast(ast[1])
        return
    _, lhs, op, rhs = ast
    is_list, typ = field_info(lhs)
    if op in ("bcontains", "bstartswith"):
        raise LoadError("'%s' operator not supported for string filters" % op)
    if typ == "num":
        if op not in NUMOPS + ["=", "==", "!=", "in", "exists"]:
            raise LoadError("operator %s not supported on numbers" % op)
        return
    if is_list and op not in ("in", "intersects", "exists"):
        raise LoadError("'%s' operator not supported list filters (field %s)" % (op, lhs[1] if lhs[0] == "field" else lhs))
    if op in NUMOPS and isinstance(rhs, str):
        pass
    if op == "regex":
        try:
            re.compile(rhs)
        except re.error as e:
            raise LoadError("invalid regex pattern: %s" % e)
    if isinstance(rhs, tuple):
        if rhs[0] == "val":
            field_info(rhs[1])


RE_OUTFIELD = re.compile(r"%(\d*)(?:([a-z]+)\()?")


def compile_output(fmt):
    """Returns list of literal strings and (width, fieldtuple) items."""
    parts = []
    i = 0
    lit = []
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            lit.append(c)
            i += 1
            continue
        j = i + 1
        m = re.match(r"\d*", fmt[j:])
        width = int(m.group(0)) if m.group(0) else None
        j += len(m.group(0))
        best = None
        tr = None
        for t in TRANSFORMERS:
            if fmt.startswith(t + "(", j):
                tr = t
        if tr:
            k = fmt.find(")", j)
            inner = fmt[j + len(tr) + 1:k]
            fi = parse_field_token(inner)
            if fi is None:
                raise LoadError("invalid output field near " + fmt[i:i + 40])
            best = (("tr", tr, fi), k + 1)
        else:
            m2 = RE_FIELD.match(fmt, j)
            if m2:
                tok = m2.group(0)
                end = m2.end()
                # longest prefix that is a known field
                cand = tok
                while cand and cand not in FIELDS:
                    cand = cand[:-1]
                if cand:
                    end = j + len(cand)
                    arg = None
                    if fmt.startswith("[", end):
                        k = fmt.find("]", end)
                        arg = fmt[end + 1:k]
                        if arg and arg[0] in "\"'":
                            arg = arg[1:-1]
                        end = k + 1
                    f = ("field", cand, arg)
                    field_info(f)
                    best = (f, end)
        if best is None:
            raise LoadError("unknown filter in output near %r" % fmt[i:i + 40])
        if lit:
            parts.append("".join(lit))
            lit = []
        parts.append((width, best[0]))
        i = best[1]
    if lit:
        parts.append("".join(lit))
    return parts


def parse_field_token(s):
    m = RE_FIELD.fullmatch(s.split("[")[0])
    if not m:
        return None
    arg = None
    if "[" in s:
        arg = s[s.index("[") + 1:-1]
    return ("field", m.group(0), arg)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------
def values_of(f, ev):
    if f[0] == "tr":
        inner = values_of(f[2], ev)
        if inner is None:
            return None
        t = f[1]
        if t == "len":
            is_list, _ = field_info(f[2])
            return [len(inner)] if is_list else [len(inner[0].split("\0")[0].encode())]
        out = []
        for v in inner:
            if t == "tolower":
                out.append(v.lower())
            elif t == "toupper":
                out.append(v.upper())
            elif t == "basename":
                out.append(v.rsplit("/", 1)[-1])
            elif t == "b64":
                try:
                    out.append(base64.b64decode(v + "=" * (-len(v) % 4)).decode("utf-8", "replace"))
                except Exception:
                    return None
        return out
    vals = ev.get(f[1], f[2])
    if vals is None:
        return None
    return [v.split("\0")[0] for v in vals]


def pmatch(val, paths):
    vc = [c for c in val.split("/") if c]
    for p in paths:
        pc = [c for c in p.split("/") if c]
        if len(pc) <= len(vc) and all(
                (fnmatch.fnmatchcase(vc[i], pc[i]) if any(ch in pc[i] for ch in "*?[") else vc[i] == pc[i])
                for i in range(len(pc))):
            return True
    return False


def cmp1(v, op, rhs):
    if op in ("=", "=="):
        return v == rhs
    if op == "!=":
        return v != rhs
    if op == "contains":
        return rhs in v
    if op == "icontains":
        return rhs.lower() in v.lower()
    if op == "startswith":
        return v.startswith(rhs)
    if op == "endswith":
        return v.endswith(rhs)
    if op == "glob":
        return fnmatch.fnmatchcase(v, rhs)
    if op == "iglob":
        return fnmatch.fnmatchcase(v.lower(), rhs.lower())
    if op == "regex":
        return re.fullmatch(rhs, v) is not None
    if op == "<":
        return v < rhs
    if op == "<=":
        return v <= rhs
    if op == ">":
        return v > rhs
    if op == ">=":
        return v >= rhs
    raise LoadError("op " + op)


def evaluate(ast, ev):
    k = ast[0]
    if k == "and":
        return all(evaluate(x, ev) for x in ast[1])
    if k == "or":
        return any(evaluate(x, ev) for x in ast[1])
    if k == "not":
        return not evaluate(ast[1], ev)
    _, lhs, op, rhs = ast
    vals = values_of(lhs, ev)
    if vals is None:
        return False
    if op == "exists":
        return True
    if isinstance(rhs, tuple):
        rv = values_of(rhs[1], ev)
        if rv is None:
            return False
        if op in ("in", "intersects", "pmatch"):
            rhs = rv
        else:
            rhs = rv[0]
    is_list = field_info(lhs)[0]
    if isinstance(vals[0], int):
        n = vals[0]
        if op in NUMOPS + ["=", "==", "!="]:
            r = int(rhs, 0) if isinstance(rhs, str) else int(rhs)
            return {"<": n < r, "<=": n <= r, ">": n > r, ">=": n >= r, "=": n == r, "==": n == r, "!=": n != r}[op]
        return str(n) in rhs
    if op in ("in", "intersects"):
        s = set(rhs)
        if is_list:
            return all(v in s for v in vals) if op == "in" else any(v in s for v in vals)
        return vals[0] in s
    if op == "pmatch":
        return pmatch(vals[0], rhs)
    return cmp1(vals[0], op, rhs)


def render(outfmt, ev):
    out = []
    for p in outfmt:
        if isinstance(p, str):
            out.append(p)
            continue
        width, f = p
        vals = values_of(f, ev)
        if vals is None:
            s = "<NA>"
        elif field_info(f)[0]:
            s = ("(" + ",".join(str(v) for v in vals) + ")")[:1023]
        else:
            s = str(vals[0])
        if width:
            s = s[:width].ljust(width)
        out.append(s)
    return "".join(out)


# --------------------------------------------------------------------------
# Events input
# --------------------------------------------------------------------------
def split_payload(obj):
    """Spec source.md: an Event, an EventList (items) or an array of those."""
    if isinstance(obj, list):
        out = []
        for x in obj:
            out.extend(split_payload(x))
        return out
    if isinstance(obj, dict):
        if obj.get("kind") == "EventList" and isinstance(obj.get("items"), list):
            return [x for x in obj["items"] if isinstance(x, dict)]
        if obj.get("kind") == "Event":
            return [obj]
    return []


def read_events(path):
    evs = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            evs.extend(split_payload(obj))
    return evs


def run_events(rs, events, match_all=True, only_enabled=True):
    alerts = []
    n = 0
    for obj in events:
        n += 1
        ev = Event(obj, n)
        for r, ast, outfmt in rs.compiled:
            if only_enabled and not r["enabled"]:
                continue
            if evaluate(ast, ev):
                alerts.append((r, ev, render(outfmt, ev)))
                if not match_all:
                    break
    return alerts


# --------------------------------------------------------------------------
# Test cases
# --------------------------------------------------------------------------
def load_ruleset(paths, extra=()):
    rs = Ruleset()
    for p in paths:
        rs.load_path(p)
    for p in extra:
        rs.load_path(p)
    return rs


def run_tests(rule_paths, test_paths, verbose=False):
    base_rs = load_ruleset(rule_paths)
    files = []
    for tp in test_paths:
        if os.path.isdir(tp):
            files += [os.path.join(tp, f) for f in sorted(os.listdir(tp)) if f.endswith((".yaml", ".yml"))]
        else:
            files.append(tp)
    passed = failed = 0
    covered_fire, covered_nofire = set(), set()
    known = set(base_rs.rules)
    for fp in files:
        cases = yaml.safe_load(open(fp)) or []
        for c in cases:
            name = c.get("case", "?")
            extra = [os.path.join(os.path.dirname(fp), x) for x in c.get("extra_rules", []) or []]
            rs = load_ruleset(rule_paths, extra) if extra else base_rs
            evs = []
            for e in c.get("events", []) or []:
                evs.extend(split_payload(json.loads(json.dumps(e))))
            if c.get("events_file"):
                evs.extend(read_events(os.path.join(os.path.dirname(fp), c["events_file"])))
            alerts = run_events(rs, evs, match_all=True)
            fired = {}
            for r, ev, txt in alerts:
                fired.setdefault(r["name"], []).append(txt)
            problems = []
            for rn in c.get("fire", []) or []:
                if rn not in known:
                    problems.append("unknown rule in fire: " + rn)
                elif rn not in fired:
                    problems.append("expected to fire: " + rn)
                covered_fire.add(rn)
            for rn in c.get("no_fire", []) or []:
                if rn not in known:
                    problems.append("unknown rule in no_fire: " + rn)
                elif rn in fired:
                    problems.append("must not fire: %s -> %s" % (rn, fired[rn][0]))
                covered_nofire.add(rn)
            if not evs:
                problems.append("no events")
            if problems:
                failed += 1
                print("FAIL %s :: %s" % (os.path.basename(fp), name))
                for p in problems:
                    print("     " + p)
                if verbose:
                    for rn, t in fired.items():
                        print("     fired %s: %s" % (rn, t[0]))
            else:
                passed += 1
                if verbose:
                    print("ok   %s :: %s (fired: %s)" % (os.path.basename(fp), name, ", ".join(sorted(fired))))
    missing_pos = [r for r in base_rs.rule_order if r not in covered_fire]
    missing_neg = [r for r in base_rs.rule_order if r not in covered_nofire]
    if missing_pos:
        print("rules without a positive case: " + "; ".join(missing_pos))
    if missing_neg:
        print("rules without a negative case: " + "; ".join(missing_neg))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0 and not missing_pos and not missing_neg


def engine_alerts(engine, rule_paths, events_path, match_all=True):
    import subprocess
    cmd = [engine]
    for p in rule_paths:
        cmd += ["-r", p]
    cmd += ["-e", events_path, "-o", "json_output=true", "-o", "rule_matching=" + ("all" if match_all else "first"), "-q"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            j = json.loads(line)
            if "rule" in j:
                out.append(j)
    return out, p


def engine_tests(engine, rule_paths, test_paths, verbose=False):
    import tempfile
    files = []
    for tp in test_paths:
        if os.path.isdir(tp):
            files += [os.path.join(tp, f) for f in sorted(os.listdir(tp)) if f.endswith((".yaml", ".yml"))]
        else:
            files.append(tp)
    passed = failed = 0
    for fp in files:
        for c in yaml.safe_load(open(fp)) or []:
            extra = [os.path.join(os.path.dirname(fp), x) for x in c.get("extra_rules", []) or []]
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as tf:
                for e in c.get("events", []) or []:
                    tf.write(json.dumps(e) + "\n")
                if c.get("events_file"):
                    tf.write(open(os.path.join(os.path.dirname(fp), c["events_file"])).read())
                tmp = tf.name
            alerts, proc = engine_alerts(engine, list(rule_paths) + extra, tmp)
            os.unlink(tmp)
            fired = {a["rule"] for a in alerts}
            problems = ["expected to fire: " + r for r in c.get("fire", []) or [] if r not in fired]
            problems += ["must not fire: " + r for r in c.get("no_fire", []) or [] if r in fired]
            if proc.returncode != 0:
                problems.append("engine exit %d: %s" % (proc.returncode, proc.stderr.strip()[:300]))
            if problems:
                failed += 1
                print("FAIL %s :: %s" % (os.path.basename(fp), c.get("case")))
                for pr in problems:
                    print("     " + pr)
            else:
                passed += 1
                if verbose:
                    print("ok   %s :: %s" % (os.path.basename(fp), c.get("case")))
    print("%d passed, %d failed" % (passed, failed))
    return failed == 0


def diff_run(engine, rule_paths, events_path, match_all):
    rs = load_ruleset(rule_paths)
    ref = [(r["name"], ev.ns) for r, ev, _ in run_events(rs, read_events(events_path), match_all=match_all)]
    eng, _ = engine_alerts(engine, rule_paths, events_path, match_all)
    got = []
    for a in eng:
        t = a["time"]
        ns = rfc3339_ns(t[:19] + "." + t[20:29] + "Z") if "." in t else rfc3339_ns(t)
        got.append((a["rule"], ns))
    from collections import Counter
    cr, cg = Counter(ref), Counter(got)
    only_ref = cr - cg
    only_eng = cg - cr
    for (rule, ns), n in sorted(only_ref.items(), key=lambda x: x[0][1]):
        print("only in model : %s @%d (x%d)" % (rule, ns, n))
    for (rule, ns), n in sorted(only_eng.items(), key=lambda x: x[0][1]):
        print("only in engine: %s @%d (x%d)" % (rule, ns, n))
    print("model %d alerts, engine %d alerts, %d differences" % (len(ref), len(got),
                                                                 sum(only_ref.values()) + sum(only_eng.values())))
    return not only_ref and not only_eng


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd = argv[0]
    args = argv[1:]
    rules, rest, events, match_all, quiet, verbose = [], [], None, False, False, False
    engine = "build/peregrine"
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-r":
            rules.append(args[i + 1])
            i += 2
        elif a == "-e":
            events = args[i + 1]
            i += 2
        elif a == "--all":
            match_all = True
            i += 1
        elif a == "--quiet":
            quiet = True
            i += 1
        elif a == "-v":
            verbose = True
            i += 1
        elif a == "--engine":
            engine = args[i + 1]
            i += 2
        else:
            rest.append(a)
            i += 1
    if not rules:
        rules = ["rules"]
    try:
        if cmd == "validate":
            rs = load_ruleset(rules)
            for w in rs.warnings:
                print("warning: " + w)
            en = sum(1 for r, _, _ in rs.compiled if r["enabled"])
            print("ok: %d rules (%d enabled), %d macros, %d lists" % (
                len(rs.compiled), en, len(rs.macros), len(rs.lists)))
            return 0
        if cmd == "list":
            rs = load_ruleset(rules)
            for r, _, _ in rs.compiled:
                print("%-55s %-13s %-5s %s" % (r["name"], PRIO_LONG[r["priority"]],
                                               "on" if r["enabled"] else "off", ",".join(r["tags"])))
            return 0
        if cmd == "run":
            rs = load_ruleset(rules)
            alerts = run_events(rs, read_events(events), match_all=match_all)
            counts = {}
            sev = {}
            for r, ev, txt in alerts:
                if not quiet:
                    print("%s: %s %s" % (Event.get(ev, "evt.time", None)[0], PRIO_LONG[r["priority"]], txt))
                counts[r["name"]] = counts.get(r["name"], 0) + 1
                sev[r["priority"]] = sev.get(r["priority"], 0) + 1
            print("Events detected: %d" % len(alerts))
            print("Rule counts by severity:")
            for p in sorted(sev):
                print("   %s: %d" % (PRIO_SHORT[p], sev[p]))
            print("Triggered rules by rule name:")
            for rn in rs.rule_order:
                if rn in counts:
                    print("   %s: %d" % (rn, counts[rn]))
            return 0
        if cmd == "engine-test":
            return 0 if engine_tests(engine, rules, rest or ["rules/tests"], verbose) else 1
        if cmd == "diff":
            return 0 if diff_run(engine, rules, events, match_all) else 1
        if cmd == "test":
            ok = run_tests(rules, rest or ["rules/tests"], verbose)
            return 0 if ok else 1
    except LoadError as e:
        print("error: %s" % e)
        return 1
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
