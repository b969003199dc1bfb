#!/usr/bin/env bash
# One memory budget end to end: with stdout stalled (a pipe nobody reads),
# --threads 16 and 80 bodies of 12 MB posted at once, peak RSS must stay
# within 1.5x webhookMaxInflightBytes (128 MiB here): the bodies, their
# copies in the evaluation queue and their parse nodes all count against
# it, held until each request is answered, and the rest are told 503.
#
#   tests/hostile/budget.sh [BUILD]      (uses BUILD/peregrine; needs curl)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
bin=$(realpath "$build/peregrine")
dir=$(realpath -m "$build/hostile/budget")
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
BUDGET=$((128 << 20))
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1: $2"; }
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; exec 3>&-' EXIT

# a 12 MB EventList of generated audit events, each raising an alert
python3 - > body.json <<'EOF'
import json, sys
items, size, i = [], 40, 0
while True:
    ev = json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "id-%d" % i,
                     "stage": "ResponseComplete", "verb": "create", "requestURI": "/api/v1/namespaces/default/pods",
                     "user": {"username": "user-%d" % (i % 50), "groups": ["system:authenticated"]},
                     "objectRef": {"resource": "pods", "namespace": "default", "name": "web-%d" % i},
                     "requestObject": {"spec": {"containers": [{"name": "c", "image": "nginx:1.%d" % (i % 30)}]}},
                     "stageTimestamp": "2024-01-01T00:00:01.000000Z"}, separators=(",", ":"))
    if size + len(ev) + 1 > 12 * 1024 * 1024 - 64:
        break
    items.append(ev)
    size += len(ev) + 1
    i += 1
sys.stdout.write('{"kind":"EventList","items":[' + ",".join(items) + "]}")
EOF
cat > rules.yaml <<'YAML'
- rule: any
  desc: one alert per event
  condition: ka.auditid exists
  output: id=%ka.auditid user=%ka.user.name
  priority: NOTICE
  source: k8s_audit
YAML
mkfifo out
exec 3<> out        # held open, never read: stdout stalls once the pipe is full
${BUDGET_ENV:-} "$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o webserver.enabled=false \
    -o "plugins[0].init_config={\"webhookMaxInflightBytes\":$BUDGET}" ${BUDGET_INIT:+-o "plugins[0].init_config=$BUDGET_INIT"} \
    --threads 16 > out 2> err &
pid=$!
for ((i = 0; i < 400; i++)); do
    port=$(sed -n 's/.*webhook: listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' err | head -1)
    [ -n "$port" ] && break
    sleep 0.05
done
for k in $(seq 80); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 120 -H 'Content-Type: application/json' \
        --data-binary @body.json "http://127.0.0.1:$port/k8s-audit" >> codes &
done
# until every request is answered or stuck behind the stalled output: 60
# answers (the others wait for stdout), or 90 s
for ((i = 0; i < 1800; i++)); do [ "$(wc -l < codes 2>/dev/null || echo 0)" -ge 60 ] && break; sleep 0.05; done
rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
kill -9 $pid; wait $pid 2>/dev/null; pid=
limit=${RSS_LIMIT_KB:-$((BUDGET * 3 / 2 / 1024))}     # relaxed for instrumented builds (make asan)
answers=$(sort codes | uniq -c | tr -s ' \n' ' ')
[ "${rss:-999999999}" -le "$limit" ] && ok "80 x 12 MB bodies, stdout stalled, 16 threads: peak RSS $rss KB <= $limit KB (1.5x the budget of $((BUDGET >> 10)) KB); answers:$answers" ||
    bad "memory budget" "peak RSS ${rss:-?} KB > $limit KB (1.5x the budget); answers:$answers"
echo "budget: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
