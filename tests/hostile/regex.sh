#!/usr/bin/env bash
# Regular-expression denial of service: a rule with a backtracking-prone
# regex and an attacker-chosen 31-byte User-Agent.  Every check must stay
# under 1 ms (PCRE2's own bound allowed ~10^7 steps: 0.1-0.3 s each), the
# checks stopped by the bound are counted in the run summary and said once
# on stderr (not once per event); a large legitimate value (a 200 KB pod
# spec under one of our rules' hostPath patterns) still matches.
#
#   tests/hostile/regex.sh [BUILD]      (uses BUILD/peregrine)
set -u
. "$(dirname "$0")/../lib/hostile.sh"
hostile_workdir regex "${1:-build}"
N=${N:-300}

cat > rules.yaml <<'YAML'
- rule: evil regex
  desc: nested quantifiers, exponential backtracking on a near miss
  condition: ka.useragent regex '([a-z]+[ ]?)+'
  output: ua=%ka.useragent
  priority: WARNING
  source: k8s_audit
- rule: host path
  desc: one of our ruleset's patterns, over a whole pod spec
  condition: json.value[/requestObject/spec/volumes] regex '.*"hostPath":[{][^}]*"path":"/+(etc|root|home|proc|sys|boot|var/lib/kubelet|var/lib/etcd|var/lib/docker|var/lib/containerd)/.*'
  output: host path volume id=%ka.auditid
  priority: WARNING
  source: k8s_audit
YAML
python3 - "$N" > events.jsonl <<'EOF'
import json, sys
n = int(sys.argv[1])
for i in range(n):
    print(json.dumps({"kind": "Event", "auditID": "e%d" % i, "verb": "get", "userAgent": "a" * 30 + "!",
                      "stageTimestamp": "2024-01-01T00:00:01Z"}))
EOF
python3 > big.jsonl <<'EOF'
import json
vols = [{"name": "v%d" % i, "hostPath": {"path": "/data/x%d" % i, "type": "Directory"}} for i in range(3000)]
vols.append({"name": "evil", "hostPath": {"path": "/etc/"}})
print(json.dumps({"kind": "Event", "auditID": "big", "verb": "create", "userAgent": "kubectl/1.29",
                  "objectRef": {"resource": "pods"}, "requestObject": {"spec": {"volumes": vols}},
                  "stageTimestamp": "2024-01-01T00:00:01Z"}, separators=(",", ":")))
EOF

# the cost is the CPU time the run takes (user + system), not its wall
# time: on a loaded machine the wall clock says how busy the others are
TZ=UTC /usr/bin/time -f '%U %S' -o evil.time timeout 600 "$bin" --threads 1 -r rules.yaml -e events.jsonl \
    > evil.out 2> evil.err
code=$?
ms=$(tail -1 evil.time | awk '{ printf "%d", ($1 + $2) * 1000 }')
per_us=$((ms * 1000 / N))
[ "$code" -eq 0 ] && ok "exit status 0" || bad "exit status" "$code"
limit_us=${HOSTILE_REGEX_US:-1000}   # relaxed for instrumented builds (make asan)
[ "$per_us" -le "$limit_us" ] && ok "$N evil checks in $ms ms of CPU: ${per_us} us per event (<= $limit_us)" ||
    bad "cost per event" "$N events in $ms ms of CPU: ${per_us} us per event > $limit_us"
grep -q "^Rules: $N regex checks stopped at their backtracking bound" evil.out && ok "summary counts $N bounded checks" ||
    bad "summary" "$(grep -i regex evil.out | head -3)"
n=$(grep -c "regex check stopped at its backtracking bound" evil.err)
[ "$n" -eq 1 ] && grep -qF "'([a-z]+[ ]?)+'" evil.err && ok "said once on stderr, naming the pattern" ||
    bad "stderr" "$n lines: $(head -c 300 evil.err)"

TZ=UTC "$bin" --threads 1 -r rules.yaml -e big.jsonl > big.out 2> big.err
grep -q "Warning host path volume id=big" big.out && ! grep -q "^Rules: " big.out &&
    ok "200 KB pod spec: the hostPath regex still matches, no bound hit" ||
    bad "large legitimate value" "$(head -c 400 big.out) $(head -c 300 big.err)"
tally regex
