#!/usr/bin/env bash
# Webhook end to end: HTTP and HTTPS, every status code, authentication,
# a 4-client load test whose alert count must equal real Falco's on the same
# events, and SIGTERM under load (every acknowledged event evaluated, exit 0).
#
#   tests/webhook/run.sh build/peregrine
set -uo pipefail
BIN=$(realpath "${1:-build/peregrine}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/shared.sh"
. "$HERE/../lib/serve.sh"
need_shared "webhook end to end (upstream rules, corpus sample and Falco's alerts)"
POST="python3 $HERE/post_events.py"
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; serve_cleanup; rm -rf "$T"' EXIT
pass=0 fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: expected '$3', got '$2'"; fi; }

# --- certificates: a server PEM (cert + key, upstream's convention), a CA
# and a client certificate it signed, and a client certificate it did not.
(
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -keyout skey.pem -out scert.pem -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
cat scert.pem skey.pem > server.pem
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=kube-apiserver 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue 2>/dev/null
) || { echo "openssl failed"; exit 1; }

cat > "$T/falco.yaml" <<YAML
plugins:
  - name: k8saudit
    library_path: libk8saudit.so
    init_config: ""
    open_params: "http://127.0.0.1:0/k8s-audit"
  - name: json
    library_path: libjson.so
load_plugins: [k8saudit, json]
json_output: true
priority: debug
rule_matching: first
webserver:
  listen_address: 127.0.0.1
  listen_port: 0
YAML
RULES=(-r "$DATA/rules/falco_rules-1.0.1.yaml" -r "$DATA/rules/k8s_audit_rules-0.6.0.yaml")

# start NAME [peregrine args...]: sets PID, PORT (and ADMIN unless the admin
# server is off), output in $T/NAME.{out,err}
start() {
    local name=$1 admin=--admin
    shift
    case " $* " in *webserver.enabled=false*) admin= ;; esac
    serve $admin "$T/$name" "$BIN" -c "$T/falco.yaml" "${RULES[@]}" "$@" ||
        { echo "server $name did not start: $(serve_why)"; exit 1; }
}
stop() {    # stop NAME: SIGTERM, expect exit 0
    serve_stop
    check "$1: exit status after SIGTERM" "$?" 0
}
EV1="$T/one.json"; head -1 "$DATA/corpus_sample.jsonl" > "$EV1"

# --- HTTP: every status code -------------------------------------------------
start codes -o 'plugins[0].init_config={"webhookMaxBatchSize":100000,"webhookMaxInflightBytes":150000}'
U=http://127.0.0.1:$PORT
J=(-H 'Content-Type: application/json')
check "200 Event"          "$(http_code "${J[@]}" --data-binary @"$EV1" $U/k8s-audit)" 200
check "200 EventList"      "$(http_code "${J[@]}" --data-binary @<(printf '{"kind":"EventList","items":[%s]}' "$(cat "$EV1")") $U/k8s-audit)" 200
check "400 empty EventList (upstream: not an audit event)" "$(http_code "${J[@]}" -d '{"kind":"EventList","items":[]}' $U/k8s-audit)" 400
check "200 charset param"  "$(http_code -H 'Content-Type: application/json; charset=utf-8' --data-binary @"$EV1" $U/k8s-audit)" 200
check "200 cluster path"   "$(http_code "${J[@]}" --data-binary @"$EV1" $U/k8s-audit/prod-eu)" 200
check "400 bad JSON"       "$(http_code "${J[@]}" -d '{"kind":' $U/k8s-audit)" 400
check "400 not audit"      "$(http_code "${J[@]}" -d '{"hello":"world"}' $U/k8s-audit)" 400
check "404 other path"     "$(http_code "${J[@]}" --data-binary @"$EV1" $U/other)" 404
check "404 two segments"   "$(http_code "${J[@]}" --data-binary @"$EV1" $U/k8s-audit/a/b)" 404
check "405 GET"            "$(http_code $U/k8s-audit)" 405
check "405 Allow header"   "$(curl -s -D - -o /dev/null -X PUT $U/k8s-audit | tr -d '\r' | grep -i '^Allow:')" "Allow: POST"
check "413 Content-Length" "$(http_code "${J[@]}" --data-binary @<(head -c 100001 /dev/zero | tr '\0' ' ') $U/k8s-audit)" 413
check "413 chunked"        "$(http_code "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary @<(head -c 100001 /dev/zero | tr '\0' ' ') $U/k8s-audit)" 413
check "415 form"           "$(http_code -d 'a=b' $U/k8s-audit)" 415
# a body within webhookMaxBatchSize but over the in-flight budget left
python3 - "$PORT" "$ADMIN" > "$T/503.txt" <<'PY'
import socket, sys, time, urllib.request
# hold 90 kB in flight on one connection (once the server has read them,
# as /metrics says: however loaded the machine), then ask for 90 kB more on another
a = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
a.sendall(b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99000\r\n\r\n" + b" " * 90000)
def held():
    m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[2]).read().decode()
    return int(next(l.split()[1] for l in m.splitlines() if l.startswith("peregrine_webhook_inflight_bytes ")))
end = time.monotonic() + 60
while held() < 90000 and time.monotonic() < end:
    time.sleep(0.05)
b = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
b.sendall(b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 90000\r\n\r\n" + b" " * 90000)
resp = b.recv(4096).decode()
print(resp.split("\r\n")[0].split(" ")[1], "retry-after" in resp.lower())
PY
check "503 over in-flight budget" "$(cat "$T/503.txt")" "503 True"
check "healthz"            "$(curl -s $U/healthz)" ok
# a second instance on the same port fails loudly instead of sharing it
timeout 10 "$BIN" -c "$T/falco.yaml" "${RULES[@]}" -o "plugins[0].open_params=http://127.0.0.1:$PORT/k8s-audit" \
    -o webserver.enabled=false > /dev/null 2> "$T/inuse.err"
check "port in use: exit 1" "$?" 1
grep -q 'Address already in use' "$T/inuse.err" && ok || bad "port in use: the reason is logged"
stop codes
grep -q 'Webhook responses: 200: 5 400: 3 404: 2 405: 2 413: 2 415: 1 503: 1' "$T/codes.out" \
    && ok || bad "stats block counts responses: $(grep Webhook "$T/codes.out")"
grep -q 'body refused' "$T/codes.err" && ok || bad "a refused body is logged"

# --- network abuse: idle floods, slowloris, short and endless bodies --------
start abuse -o 'plugins[0].init_config={"webhookTimeoutSeconds":1,"webhookMaxConnections":64}' -o webserver.enabled=false
if python3 "$HERE/abuse.py" "$PORT" "$PID" "$EV1" 1 64 > "$T/abuse.txt"; then ok; else bad "network abuse:"; cat "$T/abuse.txt"; fi
stop abuse

# --- ka.cluster.name from the path ------------------------------------------
cat > "$T/cluster.yaml" <<'YAML'
- rule: Any event
  desc: every event, with its cluster
  condition: ka.verb exists
  output: cluster=%ka.cluster.name user=%ka.user.name
  priority: INFO
  source: k8s_audit
YAML
serve "$T/cl" "$BIN" -c "$T/falco.yaml" -r "$T/cluster.yaml" -o json_output=false -o webserver.enabled=false \
    -o 'plugins[0].init_config={"clusterPaths":{"/eu-proxy/audit":"prod-eu-2"}}' ||
    { echo "server cluster did not start: $(serve_why)"; exit 1; }
curl -s -o /dev/null "${J[@]}" --data-binary @"$EV1" http://127.0.0.1:$PORT/k8s-audit/prod-eu
curl -s -o /dev/null "${J[@]}" --data-binary @"$EV1" http://127.0.0.1:$PORT/k8s-audit
curl -s -o /dev/null "${J[@]}" --data-binary @"$EV1" http://127.0.0.1:$PORT/eu-proxy/audit
stop cluster
check "clusterPaths maps a path" "$(grep -c 'cluster=prod-eu-2 ' "$T/cl.out")" 1
check "ka.cluster.name from the path" "$(grep -c 'cluster=prod-eu ' "$T/cl.out")" 1
check "no cluster on the bare path"   "$(grep -c 'cluster=<NA> ' "$T/cl.out")" 1

# --- load: 3000 events as EventLists of 400, 4 clients: Falco's 448 alerts ---
EXPECTED=$(wc -l < "$DATA/oracle/corpus-sample.jsonl")
start load_http
$POST http://127.0.0.1:$PORT/k8s-audit "$DATA/corpus_sample.jsonl" --batch 400 --clients 4 > "$T/lh.json"
# /metrics agrees with what was posted (counters move when the writer has emitted: poll briefly)
A=http://127.0.0.1:$ADMIN
all_evaluated() {
    curl -s $A/metrics > "$T/metrics.txt"
    grep -q '^peregrine_events_evaluated_total{source="webhook"} 3000$' "$T/metrics.txt"
}
wait_until 30 all_evaluated
metric() { awk -v k="$1" '$1 == k {print $2}' "$T/metrics.txt"; }
check "metrics: events evaluated"   "$(metric 'peregrine_events_evaluated_total{source="webhook"}')" 3000
check "metrics: payloads received"  "$(metric 'peregrine_payloads_received_total{source="webhook"}')" 8
check "metrics: 200 responses"      "$(metric 'peregrine_webhook_requests_total{code="200"}')" 8
check "metrics: request histogram"  "$(metric 'peregrine_webhook_request_duration_seconds_count')" 8
check "metrics: alerts = Falco's"   "$(grep '^peregrine_alerts_total' "$T/metrics.txt" | awk '{s += $NF} END {print s}')" "$EXPECTED"
check "metrics: rules loaded"       "$( [ "$(metric peregrine_rules_loaded)" -gt 0 ] && echo yes)" yes
check "metrics: queue drained"      "$(metric peregrine_queue_chunks)" 0
check "metrics: stdout deliveries"  "$(metric 'peregrine_output_deliveries_total{channel="stdout"}')" "$EXPECTED"
check "healthz"                     "$(curl -s -o /dev/null -w '%{http_code}' $A/healthz)" 200
check "readyz"                      "$(curl -s $A/readyz)" '{"status": "ready"}'
check "admin: unknown path"         "$(curl -s -o /dev/null -w '%{http_code}' $A/nope)" 404
stop load_http
check "HTTP load: events acknowledged" "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["events_acked"])' "$T/lh.json")" 3000
check "HTTP load: JSON alerts = real Falco's" "$(grep -c '^{"hostname"' "$T/load_http.out")" "$EXPECTED"

# the same load acknowledged once queued (webhookAck: queued: the chunk keeps
# a copy of each body, which is answered before it is evaluated) and with one
# thread (one worker, and the requests' own threads evaluating as guests)
for mode in queued:2 written:1; do
    start load_${mode%:*} -o webserver.enabled=false --threads ${mode#*:} \
        -o "plugins[0].init_config={\"webhookAck\":\"${mode%:*}\"}"
    $POST http://127.0.0.1:$PORT/k8s-audit "$DATA/corpus_sample.jsonl" --batch 400 --clients 4 > "$T/lq.json"
    stop load_${mode%:*}
    check "load, webhookAck ${mode%:*}, threads ${mode#*:}: events acknowledged" \
        "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["events_acked"])' "$T/lq.json")" 3000
    check "load, webhookAck ${mode%:*}, threads ${mode#*:}: the alerts of the first load" \
        "$(grep '^{"hostname"' "$T/load_${mode%:*}.out" | sort | md5sum)" "$(grep '^{"hostname"' "$T/load_http.out" | sort | md5sum)"
done

# rules that number events (evt.num) run on one thread: events are numbered
# in the order they are emitted, whatever the concurrent requests
cat > "$T/num.yaml" <<'YAML'
- rule: Numbered
  desc: every event with its number
  condition: ka.verb exists
  output: num=%evt.num
  priority: INFO
  source: k8s_audit
YAML
serve "$T/num" "$BIN" -c "$T/falco.yaml" -r "$T/num.yaml" -o json_output=false -o webserver.enabled=false \
    --threads 2 || { echo "server num did not start: $(serve_why)"; exit 1; }
$POST http://127.0.0.1:$PORT/k8s-audit "$DATA/corpus_sample.jsonl" --batch 20 --clients 4 --repeat 2 > "$T/num.json"
stop num
check "evt.num under 4 clients: numbered in output order" \
    "$(grep -o 'num=[0-9]*' "$T/num.out" | cut -d= -f2 | awk '$1 != NR {bad++} END {print NR, bad + 0}')" "6000 0"

TLS='{"sslCertificate":"'$T'/server.pem","clientCA":"'$T'/ca.pem","bearerTokens":["t0ken"]}'
start load_https -o 'plugins[0].open_params=https://127.0.0.1:0/k8s-audit' -o "plugins[0].init_config=$TLS"
U=https://127.0.0.1:$PORT
$POST $U/k8s-audit "$DATA/corpus_sample.jsonl" --batch 400 --clients 4 --cafile "$T/scert.pem" \
    --cert "$T/client.pem" --key "$T/client.key" --token t0ken > "$T/ls.json"
# authentication, refused and accepted
C=(--cacert "$T/scert.pem" "${J[@]}" --data-binary @"$EV1")
check "401 no credentials"      "$(http_code "${C[@]}" $U/k8s-audit)" 401
check "401 token, no cert"      "$(http_code "${C[@]}" -H 'Authorization: Bearer t0ken' $U/k8s-audit)" 401
check "401 cert, no token"      "$(http_code "${C[@]}" --cert "$T/client.pem" --key "$T/client.key" $U/k8s-audit)" 401
check "401 cert, wrong token"   "$(http_code "${C[@]}" --cert "$T/client.pem" --key "$T/client.key" -H 'Authorization: Bearer nope' $U/k8s-audit)" 401
check "401 unknown CA"          "$(http_code "${C[@]}" --cert "$T/rogue.pem" --key "$T/rogue.key" -H 'Authorization: Bearer t0ken' $U/k8s-audit)" 401
check "TLS 1.1 refused"         "$(http_code --cacert "$T/scert.pem" --tlsv1.1 --tls-max 1.1 $U/healthz)" 000
check "TLS 1.2 accepted"        "$(http_code --cacert "$T/scert.pem" --tlsv1.2 --tls-max 1.2 $U/healthz)" 200
stop load_https
check "HTTPS load: events acknowledged" "$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["events_acked"])' "$T/ls.json")" 3000
check "HTTPS load: JSON alerts = real Falco's" "$(grep -c '^{"hostname"' "$T/load_https.out")" "$EXPECTED"

# --- SIGTERM under load: every acknowledged event is evaluated ---------------
start term --threads 2
$POST http://127.0.0.1:$PORT/k8s-audit "$DATA/corpus_sample.jsonl" --batch 400 --clients 4 --repeat 40 \
    --stop-on-error > "$T/term.json" &
POSTER=$!
# stop while under load: once some requests were answered 200
answered_200() { curl -s http://127.0.0.1:$ADMIN/metrics | grep -q '^peregrine_webhook_requests_total{code="200"} [1-9]'; }
wait_until 10 answered_200
stop term
wait $POSTER
ACKED=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["events_acked"])' "$T/term.json")
SEEN=$(sed -n 's/.*Captured Events: \([0-9]*\).*/\1/p' "$T/term.out")
# every acknowledged event is evaluated; a body queued whose answer was cut
# by the stop is evaluated without being acknowledged (the sender sends it
# again): at most one batch per client more
[ "${SEEN:-0}" -ge "${ACKED:-1}" ] && [ "${SEEN:-0}" -le $((${ACKED:-0} + 4 * 400)) ] && ok ||
    bad "SIGTERM under load: evaluated ($SEEN) between acknowledged ($ACKED) and one batch per client more"
[ "${ACKED:-0}" -gt 0 ] && ok || bad "SIGTERM under load: some events were acknowledged"

# --- reload under load: every acknowledged event evaluated exactly once ------
rules_gen() {   # rules_gen TAG: one rule firing on every event, its output tagged
cat <<YAML
- rule: Every Event
  desc: fires once per event, tagged with the rules generation
  condition: ka.auditid exists
  output: gen=$1 id=%ka.auditid
  priority: INFO
  source: k8s_audit
YAML
}
rules_gen A > "$T/live.yaml"
serve "$T/rl" "$BIN" -c "$T/falco.yaml" -r "$T/live.yaml" -o json_output=false -o watch_config_files=true \
    -o webserver.enabled=false --threads 2 || { echo "server reload did not start: $(serve_why)"; exit 1; }
$POST http://127.0.0.1:$PORT/k8s-audit "$DATA/corpus_sample.jsonl" --batch 100 --clients 2 --repeat 100000 > "$T/rl.json" &
POSTER=$!
# reload once generation A has fired (its alerts are flushed whenever the queue is idle)
# (every wait is for a condition, with a deadline a loaded machine meets)
wait_until 30 grep -q ' gen=A ' "$T/rl.out"
rules_gen B > "$T/live.yaml.new" && mv "$T/live.yaml.new" "$T/live.yaml"     # watch_config_files
wait_until 30 grep -q 'rules reloaded (a watched file changed)' "$T/rl.err"
wait_until 30 grep -q ' gen=B ' "$T/rl.out"   # B has fired
echo '- rule: broken' > "$T/live.yaml.new"; cp "$T/live.yaml" "$T/good.yaml"
mv "$T/live.yaml.new" "$T/live.yaml"; kill -HUP $PID
wait_until 30 grep -q 'failed, the previous rules stay in use' "$T/rl.err"
# events still flow under B after the failed reload
b0=$(grep -c ' gen=B ' "$T/rl.out")
more_b() { [ "$(grep -c ' gen=B ' "$T/rl.out")" -gt "$b0" ]; }
wait_until 30 more_b
kill -TERM $POSTER; wait $POSTER
stop reload
ACKED=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["events_acked"])' "$T/rl.json")
A=$(grep -c ' gen=A ' "$T/rl.out"); B=$(grep -c ' gen=B ' "$T/rl.out")
check "reload: alerts = acknowledged events (none lost, none twice)" "$((A + B))" "$ACKED"
[ "$A" -gt 0 ] && [ "$B" -gt 0 ] && ok || bad "reload: both generations fired (A=$A B=$B)"
check "reload: the last alert uses the new rules" "$(grep ' gen=' "$T/rl.out" | tail -1 | grep -o 'gen=.')" "gen=B"
grep -q 'rules reload (.*) failed, the previous rules stay in use' "$T/rl.err" && ok || bad "reload: a broken rules file is reported and the old rules kept"

# --- libmicrohttpd is loaded when the webhook starts (dlopen): without it the
# server does not start, says why, and exits 1; a file run does not need it.
# Hiding the library takes a private mount namespace (root and unshare).
mhd_so=$(ldconfig -p 2>/dev/null | awk '$1 == "libmicrohttpd.so.12" { print $NF; exit }')
if [ "$(id -u)" = 0 ] && [ -n "$mhd_so" ] && unshare -m true 2>/dev/null; then
    hide() { unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$mhd_so" "$@"; }
    hide "$BIN" -c "$T/falco.yaml" "${RULES[@]}" >"$T/nomhd.out" 2>"$T/nomhd.err"
    check "no libmicrohttpd: exit status" "$?" 1
    grep -q 'cannot load libmicrohttpd: ' "$T/nomhd.err" && ok || bad "no libmicrohttpd: the reason ($(head -c 300 "$T/nomhd.err"))"
    hide "$BIN" "${RULES[@]}" -e "$EV1" >"$T/nomhd-file.out" 2>&1
    check "no libmicrohttpd: a file run is unaffected" "$?" 0
else
    echo "webhook: skipped the missing-libmicrohttpd case (needs root and unshare -m)"
fi

echo "webhook: $pass passed, $fail failed"
[ $fail -eq 0 ]
