#!/usr/bin/env bash
# Multi-megabyte lines through the file pipeline: the same alerts, byte for
# byte, with 1, 2 and 3 threads (blocks of whole lines read by the workers,
# at most one big block per worker plus the one being read in flight, big
# buffers kept between blocks), and each line evaluated once.
#
#   tests/big/run.sh build/peregrine
set -uo pipefail
BIN=$(realpath "${1:-build/peregrine}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1: expected '$3', got '$2'"; fi; }

# 40 events: every third one 1-3 MB (a configmap with a large data map),
# the others small; both kinds raise an alert naming the event
python3 - > "$T/big.jsonl" <<'PY'
import json, random
r = random.Random(7)
for i in range(40):
    data = {}
    if i % 3 == 0:
        size = r.randint(1 << 20, 3 << 20)
        k = 0
        while size > 0:
            v = "".join(r.choice("abcdef \"<>&\n0123") for _ in range(4096)) * 8
            data["f%d" % k] = v
            size -= len(v)
            k += 1
    ev = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse", "auditID": "a-%d" % i,
          "stage": "ResponseComplete", "verb": "create", "requestURI": "/api/v1/namespaces/default/configmaps",
          "user": {"username": "u%d" % i}, "objectRef": {"resource": "configmaps", "namespace": "default",
          "name": "cm-%d" % i}, "requestObject": {"kind": "ConfigMap", "data": data},
          "stageTimestamp": "2024-01-01T00:00:%02d.000000Z" % (i % 60)}
    print(json.dumps(ev, separators=(",", ":")))
PY
cat > "$T/rules.yaml" <<'YAML'
- rule: Configmap created
  desc: every configmap create
  condition: ka.verb=create and ka.target.resource=configmaps
  output: created %ka.target.name by %ka.user.name
  priority: INFO
  source: k8s_audit
YAML
cat > "$T/falco.yaml" <<'YAML'
plugins:
  - name: k8saudit
    library_path: libk8saudit.so
    init_config: {maxEventSize: 16777216}
    open_params: ""
  - name: json
    library_path: libjson.so
    init_config: ""
load_plugins: [k8saudit, json]
json_output: false
YAML
for t in 1 2 3; do
    "$BIN" -c "$T/falco.yaml" -r "$T/rules.yaml" -e "$T/big.jsonl" --threads $t > "$T/out$t" 2> "$T/err$t"
    check "threads $t: exit status" "$?" 0
    grep ' created ' "$T/out$t" > "$T/alerts$t"
done
check "threads 1: every event alerted once" "$(wc -l < "$T/alerts1")" 40
check "threads 1: in input order" "$(awk '{print $NF}' "$T/alerts1" | tr '\n' ' ')" \
    "$(seq 0 39 | sed 's/^/u/' | tr '\n' ' ')"
check "threads 2: the alerts of threads 1" "$(md5sum < "$T/alerts2")" "$(md5sum < "$T/alerts1")"
check "threads 3: the alerts of threads 1" "$(md5sum < "$T/alerts3")" "$(md5sum < "$T/alerts1")"
echo "big events: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
