#!/usr/bin/env bash
# One memory budget end to end: with stdout stalled (a pipe nobody reads),
# --threads 16 and 80 bodies of 12 MB posted at once, peak RSS must stay
# within 1.5x webhookMaxInflightBytes (128 MiB here): the bodies, what they
# decode into, their copies in the evaluation queue and their parse nodes
# all count against it, held until each request is answered, and the rest
# are told 503.  Three times: audit EventLists on the webhook path, Fluent
# Bit bodies on /ingest/generic and Firehose deliveries (gzip CloudWatch
# messages, 12 MB once inflated) on /ingest/aws-firehose.
#
#   tests/hostile/budget.sh [BUILD]      (uses BUILD/peregrine; needs curl)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
hostile_workdir budget "${1:-build}"
BUDGET=$((128 << 20))
trap '[ -n "$PID" ] && kill -9 $PID 2>/dev/null; kill $(jobs -p) 2>/dev/null; serve_cleanup; exec 3>&-' EXIT

# the same generated audit events (each raising an alert), 12 MB of them
# three ways: an EventList, a Fluent Bit json body (each line under "log"),
# a Firehose delivery of gzip CloudWatch messages inflating to 12 MB
python3 - <<'EOF'
import base64, gzip, json
LIMIT = 12 * 1024 * 1024 - 4096
def events():
    i = 0
    while True:
        yield json.dumps({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "id-%d" % i,
                          "stage": "ResponseComplete", "verb": "create", "requestURI": "/api/v1/namespaces/default/pods",
                          "user": {"username": "user-%d" % (i % 50), "groups": ["system:authenticated"]},
                          "objectRef": {"resource": "pods", "namespace": "default", "name": "web-%d" % i},
                          "requestObject": {"spec": {"containers": [{"name": "c", "image": "nginx:1.%d" % (i % 30)}]}},
                          "stageTimestamp": "2024-01-01T00:00:01.000000Z"}, separators=(",", ":"))
        i += 1
def upto(parts, size=lambda p: len(p) + 1):
    out, n = [], 64
    for p in parts:
        if n + size(p) > LIMIT:
            return out
        out.append(p)
        n += size(p)
open("audit.json", "w").write('{"kind":"EventList","items":[' + ",".join(upto(events())) + "]}")
recs = upto(json.dumps({"date": 1767225601.5, "log": e}) for e in events())
open("generic.json", "w").write("[" + ",".join(recs) + "]")
def messages():
    ev, k = events(), 0
    while True:
        yield json.dumps({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/eks/c/cluster",
                          "logStream": "kube-apiserver-audit-1", "subscriptionFilters": ["f"],
                          "logEvents": [{"id": str(k + j), "timestamp": 1, "message": next(ev)} for j in range(100)]})
        k += 100
recs = [base64.b64encode(gzip.compress(m.encode(), mtime=0)).decode() for m in upto(messages())]
open("firehose.json", "w").write(json.dumps({"requestId": "r", "timestamp": 1, "records": [{"data": r} for r in recs]}))
EOF
every_event_rule 'id=%ka.auditid user=%ka.user.name' > rules.yaml
# phase NAME PATH BODY: a server with stdout stalled, BODY posted 80 times
# at once to PATH; its peak RSS within 1.5x the budget
phase() {
    local name=$1 path=$2 body=$3 rss limit answers
    mkfifo $name.out
    exec 3<> $name.out      # held open, never read: stdout stalls once the pipe is full
    serve $name ${BUDGET_ENV:-} "$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' \
        -o webserver.enabled=false -o "plugins[0].init_config={\"webhookMaxInflightBytes\":$BUDGET}" \
        ${BUDGET_INIT:+-o "plugins[0].init_config=$BUDGET_INIT"} --threads 16 ||
        { echo "webhook did not start: $(serve_why)"; exit 1; }
    for k in $(seq 80); do
        printf '%s\n' "$(post_json $body "http://127.0.0.1:$PORT$path" --max-time 120)" >> $name.codes &
    done
    # until every request is answered or stuck behind the stalled output: 60
    # answers (the others wait for stdout), or 90 s
    wait_until 90 answered $name.codes
    rss=$(peak_rss_kb)
    serve_kill
    wait
    exec 3>&-
    limit=${RSS_LIMIT_KB:-$((BUDGET * 3 / 2 / 1024))}     # relaxed for instrumented builds (make asan)
    answers=$(sort $name.codes | uniq -c | tr -s ' \n' ' ')
    [ "${rss:-999999999}" -le "$limit" ] &&
        ok "$path: 80 x $(awk -v n=$(wc -c < $body) 'BEGIN { printf "%.1f", n / 1e6 }') MB bodies, stdout stalled, 16 threads: peak RSS $rss KB <= $limit KB (1.5x the budget of $((BUDGET >> 10)) KB); answers:$answers" ||
        bad "memory budget on $path" "peak RSS ${rss:-?} KB > $limit KB (1.5x the budget); answers:$answers"
}
answered() { [ -f $1 ] && [ "$(wc -l < $1)" -ge 60 ]; }
phase audit /k8s-audit audit.json
phase generic /ingest/generic generic.json
phase firehose /ingest/aws-firehose firehose.json
tally budget
