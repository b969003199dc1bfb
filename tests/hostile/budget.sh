#!/usr/bin/env bash
# One memory budget end to end: with stdout stalled (a pipe nobody reads),
# --threads 16 and 80 bodies of 12 MB posted at once, peak RSS must stay
# within 1.5x webhookMaxInflightBytes (128 MiB here): the bodies, their
# copies in the evaluation queue and their parse nodes all count against
# it, held until each request is answered, and the rest are told 503.
#
#   tests/hostile/budget.sh [BUILD]      (uses BUILD/peregrine; needs curl)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
hostile_workdir budget "${1:-build}"
BUDGET=$((128 << 20))
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; kill $(jobs -p) 2>/dev/null; serve_cleanup; exec 3>&-' EXIT

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
every_event_rule 'id=%ka.auditid user=%ka.user.name' > rules.yaml
mkfifo stalled.out
exec 3<> stalled.out    # held open, never read: stdout stalls once the pipe is full
serve stalled ${BUDGET_ENV:-} "$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' \
    -o webserver.enabled=false -o "plugins[0].init_config={\"webhookMaxInflightBytes\":$BUDGET}" \
    ${BUDGET_INIT:+-o "plugins[0].init_config=$BUDGET_INIT"} --threads 16 ||
    { echo "webhook did not start: $(serve_why)"; exit 1; }
for k in $(seq 80); do
    printf '%s\n' "$(post_json body.json "http://127.0.0.1:$PORT/k8s-audit" --max-time 120)" >> codes &
done
# until every request is answered or stuck behind the stalled output: 60
# answers (the others wait for stdout), or 90 s
answered() { [ -f codes ] && [ "$(wc -l < codes)" -ge 60 ]; }
wait_until 90 answered
rss=$(peak_rss_kb)
serve_kill
limit=${RSS_LIMIT_KB:-$((BUDGET * 3 / 2 / 1024))}     # relaxed for instrumented builds (make asan)
answers=$(sort codes | uniq -c | tr -s ' \n' ' ')
[ "${rss:-999999999}" -le "$limit" ] && ok "80 x 12 MB bodies, stdout stalled, 16 threads: peak RSS $rss KB <= $limit KB (1.5x the budget of $((BUDGET >> 10)) KB); answers:$answers" ||
    bad "memory budget" "peak RSS ${rss:-?} KB > $limit KB (1.5x the budget); answers:$answers"
tally budget
