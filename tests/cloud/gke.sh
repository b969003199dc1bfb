#!/usr/bin/env bash
# GKE audit LogEntries → audit Events (src/envelope/gke.c): `--extract`
# over LogEntry lines gives, field by field, the ka.* values of Falco's
# k8saudit-gke mapping (default, gkeConversion: falco) and the entry's own
# values in faithful mode.  One check per mapped field and mode.
#
#   tests/cloud/gke.sh build/peregrine
set -uo pipefail
BIN=$(realpath "${1:-build/peregrine}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# exec (7 parts: namespaced + subresource), a denied create (6 parts, a
# request object, a Status response, gRPC 7), a list (5 parts, data_access,
# no name), a cluster-scoped get (4 parts), a non-namespaced subresource
# (5 parts), and a Compute Engine entry that is no Kubernetes audit entry.
cat > "$T/entries.jsonl" <<'EOF'
{"insertId":"a3d9e6f1-07c4-4b2a-9e5d-61f08c2b7a44","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Factivity","operation":{"id":"a3d9e6f1-07c4-4b2a-9e5d-61f08c2b7a44","producer":"k8s.io","first":true,"last":true},"resource":{"type":"k8s_cluster","labels":{"cluster_name":"merlin","location":"europe-west4","project_id":"falconry-prod"}},"labels":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"ops-admin\""},"timestamp":"2026-01-01T00:00:01.904Z","receiveTimestamp":"2026-01-01T00:00:02.877Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/billing/pods/ledger-0/exec","authenticationInfo":{"principalEmail":"dana@falconry.example"},"requestMetadata":{"callerIp":"203.0.113.40","callerSuppliedUserAgent":"kubectl/v1.31.2"},"status":{"code":0}}}
{"insertId":"b1","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"k8s_cluster","labels":{"cluster_name":"merlin","location":"europe-west4","project_id":"falconry-prod"}},"labels":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""},"timestamp":"2026-01-01T00:00:05.5+01:00","receiveTimestamp":"2026-01-01T00:00:06.25Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.create","resourceName":"core/v1/namespaces/default/pods/miner","authenticationInfo":{"principalEmail":"system:serviceaccount:default:ci"},"requestMetadata":{"callerIp":"10.0.0.7","callerSuppliedUserAgent":"ci/1.0"},"request":{"@type":"core.k8s.io/v1.Pod","apiVersion":"v1","kind":"Pod","metadata":{"name":"miner"},"spec":{"containers":[{"name":"m","image":"xmrig/xmrig:latest"}],"hostNetwork":true}},"response":{"@type":"core.k8s.io/v1.Status","kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"pods is forbidden"},"status":{"code":7,"message":"pods is forbidden"}}}
{"insertId":"c1","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Fdata_access","resource":{"type":"k8s_cluster","labels":{"cluster_name":"kestrel","location":"us-east1","project_id":"falconry-prod"}},"timestamp":"2026-01-01T00:00:07Z","receiveTimestamp":"2026-01-01T00:00:08Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.secrets.list","resourceName":"core/v1/namespaces/kube-system/secrets","authenticationInfo":{"principalEmail":"eve@example.com"},"requestMetadata":{"callerIp":"198.51.100.9"},"status":{"code":5,"message":"not found"}}}
{"insertId":"d1","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"k8s_cluster","labels":{"cluster_name":"merlin"}},"timestamp":"2026-01-01T00:00:09Z","receiveTimestamp":"2026-01-01T00:00:10Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.authorization.rbac.v1.clusterroles.get","resourceName":"rbac.authorization.k8s.io/v1/clusterroles/admin","authenticationInfo":{"principalEmail":"ops@example.com"},"requestMetadata":{"callerIp":"192.0.2.1"}}}
{"insertId":"e1","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"k8s_cluster","labels":{"cluster_name":"merlin"}},"timestamp":"2026-01-01T00:00:11Z","receiveTimestamp":"2026-01-01T00:00:12Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.nodes.proxy.get","resourceName":"core/v1/nodes/node-1/proxy","authenticationInfo":{"principalEmail":"ops@example.com"},"requestMetadata":{"callerIp":"192.0.2.1"}}}
{"insertId":"x1","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"gce_instance","labels":{"instance_id":"1"}},"timestamp":"2026-01-01T00:00:13Z","receiveTimestamp":"2026-01-01T00:00:14Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"compute.googleapis.com","methodName":"v1.compute.instances.insert","resourceName":"projects/p/zones/z/instances/i"}}
EOF

python3 - "$BIN" "$T" <<'PY'
import json, subprocess, sys
bin_, t = sys.argv[1], sys.argv[2]
F = ["ka.verb", "ka.target.resource", "ka.target.namespace", "ka.target.name", "ka.target.subresource",
     "ka.auditid", "ka.user.name", "ka.user.groups", "ka.useragent", "ka.uri", "ka.response.code", "ka.stage",
     "ka.auth.decision", "ka.auth.reason", "ka.cluster.name", "ka.req.pod.containers.image",
     "ka.req.pod.host_network", "evt.rawtime", "jevt.value[/level]", "jevt.value[/objectRef/apiGroup]",
     "jevt.value[/objectRef/apiVersion]", "jevt.value[/requestReceivedTimestamp]", "jevt.value[/sourceIPs/0]",
     "jevt.value[/responseStatus/message]", "jevt.value[/annotations/location]",
     "jevt.value[/requestObject/@type]"]

def run(mode):
    args = [bin_, "-e", t + "/entries.jsonl"]
    if mode == "faithful":
        args += ["-o", 'plugins[0].init_config={"gkeConversion":"faithful"}']
    for f in F:
        args += ["--extract", f]
    p = subprocess.run(args, capture_output=True, text=True)
    return [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")], p.stderr

S = lambda *v: list(v)          # field values as --extract prints them
N = None                        # field missing
# (entry, field): (falco-compatible value, faithful value); one value = both
want = {
 (0, "ka.verb"): S("create"), (0, "ka.target.resource"): S("pods"), (0, "ka.target.namespace"): S("billing"),
 (0, "ka.target.name"): S("ledger-0"), (0, "ka.target.subresource"): S("exec"),
 (0, "ka.auditid"): S("a3d9e6f1-07c4-4b2a-9e5d-61f08c2b7a44"), (0, "ka.user.name"): S("dana@falconry.example"),
 (0, "ka.user.groups"): N, (0, "ka.useragent"): S("kubectl/v1.31.2"),
 (0, "ka.uri"): S("/core/v1/namespaces/billing/pods/ledger-0/exec"),
 (0, "ka.response.code"): S("101"), (0, "ka.stage"): S("ResponseStarted"), (0, "jevt.value[/level]"): S("Request"),
 (0, "ka.auth.decision"): S("allow"), (0, "ka.auth.reason"): S('RBAC: allowed by ClusterRoleBinding "ops-admin"'),
 (0, "ka.cluster.name"): S("merlin"), (0, "jevt.value[/annotations/location]"): S("europe-west4"),
 (0, "evt.rawtime"): (S("1767225602877000000"), S("1767225601904000000")),
 (0, "jevt.value[/requestReceivedTimestamp]"): (S("2026-01-01T00:00:02.877000Z"), S("2026-01-01T00:00:01.904000Z")),
 (0, "jevt.value[/objectRef/apiGroup]"): (S("core"), N), (0, "jevt.value[/objectRef/apiVersion]"): S("v1"),
 (0, "jevt.value[/sourceIPs/0]"): S("203.0.113.40"),
 (0, "jevt.value[/responseStatus/message]"): S("Switching Protocols (inferred)"),
 (1, "ka.verb"): S("create"), (1, "ka.target.name"): S("miner"), (1, "ka.target.namespace"): S("default"),
 (1, "ka.target.subresource"): N, (1, "ka.stage"): S("ResponseComplete"),
 (1, "jevt.value[/level]"): S("RequestResponse"),
 (1, "ka.response.code"): (S("201"), S("403")),
 (1, "jevt.value[/responseStatus/message]"): (S("Created (inferred)"), S("pods is forbidden")),
 (1, "ka.auth.decision"): S("forbid"), (1, "ka.req.pod.containers.image"): S("xmrig/xmrig:latest"),
 (1, "ka.req.pod.host_network"): S("true"), (1, "jevt.value[/requestObject/@type]"): S("core.k8s.io/v1.Pod"),
 (1, "evt.rawtime"): (S("1767225606250000000"), S("1767222005500000000")),
 (2, "ka.verb"): S("list"), (2, "ka.target.resource"): S("secrets"), (2, "ka.target.namespace"): S("kube-system"),
 (2, "ka.target.name"): N, (2, "ka.useragent"): N, (2, "ka.cluster.name"): S("kestrel"),
 (2, "ka.response.code"): (S("200"), S("404")), (2, "ka.auth.decision"): N,
 (3, "ka.verb"): S("get"), (3, "ka.target.resource"): S("clusterroles"), (3, "ka.target.name"): S("admin"),
 (3, "ka.target.namespace"): N, (3, "jevt.value[/objectRef/apiGroup]"): S("rbac.authorization.k8s.io"),
 (3, "ka.uri"): S("/rbac.authorization.k8s.io/v1/clusterroles/admin"), (3, "ka.response.code"): S("200"),
 (4, "ka.target.resource"): S("nodes"), (4, "ka.target.name"): S("node-1"), (4, "ka.target.subresource"): S("proxy"),
 (4, "ka.verb"): S("get"),
}
passed = failed = 0
for mode in ("falco", "faithful"):
    rows, err = run(mode)
    if len(rows) != 5:
        print("FAIL: %s: %d events (want 5: the Compute Engine entry is skipped)\n%s" % (mode, len(rows), err))
        failed += 1
        continue
    for (i, f), v in sorted(want.items()):
        exp = v[1 if mode == "faithful" else 0] if isinstance(v, tuple) else v
        got = rows[i].get(f)
        if got == exp:
            passed += 1
        else:
            failed += 1
            print("FAIL: %s: entry %d %s: want %s, got %s" % (mode, i, f, json.dumps(exp), json.dumps(got)))
print("gke: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
