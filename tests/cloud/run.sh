#!/usr/bin/env bash
# Managed clusters and shippers end to end (issue 17): the conformance
# corpus sample (3000 events) delivered as Amazon Data Firehose requests
# (gzip+base64 CloudWatch messages, a control message, a non-audit stream,
# the decompression and message-extraction variants, a gzip body, a
# redelivered batch), as AKS diagnostic records (Event Hubs and storage
# forms, other categories mixed in) and as Fluent Bit / Vector bodies, each
# posted with curl, must raise exactly the alerts of posting the same events
# natively.  Then: authentication (401), Pub/Sub pushes (a GKE entry, a
# non-audit entry acknowledged and counted, undecodable data), gzip on the
# audit path (a decompression bomb gets 413, other encodings 415), the same
# envelopes in files (gzip-compressed, pretty-printed, CloudWatch export
# lines) and duplicate suppression identical for any --threads.
#
#   tests/cloud/run.sh build/peregrine
set -uo pipefail
BIN=$(realpath "${1:-build/peregrine}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/shared.sh"
. "$HERE/../lib/serve.sh"
need_shared "cloud envelopes end to end (the corpus sample and upstream rules)"
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; serve_cleanup; rm -rf "$T"' EXIT
pass=0 fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: expected '$3', got '$2'"; fi; }

python3 "$HERE/deliveries.py" "$DATA/corpus_sample.jsonl" "$T/d" || { echo "deliveries.py failed"; exit 1; }

INIT='{"firehoseAccessKeys":["pgr-firehose-key-7Qw2xT9"],"pubsubTokens":["ps-3f9a1c"],"bearerTokens":["shipper-token-1"]}'
cat > "$T/falco.yaml" <<YAML
plugins:
  - name: k8saudit
    library_path: libk8saudit.so
    init_config: '$INIT'
    open_params: "http://127.0.0.1:0/k8s-audit"
  - name: json
    library_path: libjson.so
load_plugins: [k8saudit, json]
json_output: true
priority: debug
rule_matching: all
webserver:
  listen_address: 127.0.0.1
  listen_port: 0
YAML
RULES=(-r "$DATA/rules/k8s_audit_rules-0.18.0.yaml")

# start NAME [args...]: sets PID, PORT and ADMIN; output in $T/NAME.{out,err}
start() {
    local name=$1
    shift
    serve --admin "$T/$name" "$BIN" -c "$T/falco.yaml" "${RULES[@]}" "$@" ||
        { echo "server $name did not start: $(serve_why)"; exit 1; }
}
stop() {
    serve_stop
    check "$1: exit status after SIGTERM" "$?" 0
}
HTTP_BODY=$T/resp       # each request's body, for the checks that read it

# post SCENARIO: every request of the scenario in order, each must get 200
post() {
    local s=$1 n=0 got
    for body in "$T/d/$s"/*.body; do
        local base=${body%.body}
        got=$(http_code -H @"$base.hdr" --data-binary @"$body" "http://127.0.0.1:$PORT$(cat "$base.path")")
        if [ "$got" != 200 ]; then bad "$s $(basename "$base"): HTTP $got $(head -c 300 "$T/resp")"; return; fi
        n=$((n + 1))
    done
    ok
    echo "  $s: $n requests"
}
alerts() { grep '^{' "$T/$1.out" | sort; }

# --- the same 3000 events, four ways --------------------------------------
for s in native firehose aks shippers; do
    start "$s"
    post "$s"
    curl -s "http://127.0.0.1:$ADMIN/metrics" > "$T/$s.metrics"
    stop "$s"
    alerts "$s" > "$T/$s.alerts"
done
n_native=$(wc -l < "$T/native.alerts")
[ "$n_native" -gt 400 ] && ok || bad "native baseline: only $n_native alerts"
for s in firehose aks shippers; do
    if cmp -s "$T/native.alerts" "$T/$s.alerts"; then ok; else
        bad "$s: alerts differ from posting natively ($(wc -l < "$T/$s.alerts") vs $n_native)"
        diff "$T/native.alerts" "$T/$s.alerts" | head -5
    fi
done
echo "  each: $n_native alerts"
grep -q 'Captured Events: 3000,' "$T/firehose.out" && ok || bad "firehose: 3000 events evaluated: $(grep Captured "$T/firehose.out")"
grep -q 'Envelopes: 31 payloads, .* 1 control messages, 1 non-audit records skipped, 0 truncated, 0 undecodable; 100 duplicate events not evaluated again' \
    "$T/firehose.out" && ok || bad "firehose stats: $(grep Envelopes "$T/firehose.out")"
grep -q 'Envelopes: 30 payloads, 3002 records, 0 control messages, 2 non-audit records skipped' "$T/aks.out" \
    && ok || bad "aks stats: $(grep Envelopes "$T/aks.out")"
grep -q '^peregrine_ingest_events_total{route="aws-firehose"} 3100$' "$T/firehose.metrics" \
    && ok || bad "metrics: firehose events $(grep 'ingest_events_total{route="aws' "$T/firehose.metrics")"
grep -q '^peregrine_events_duplicate_total{source="webhook"} 100$' "$T/firehose.metrics" \
    && ok || bad "metrics: duplicates $(grep duplicate_total "$T/firehose.metrics")"
grep -q '^peregrine_ingest_requests_total{route="generic"} 30$' "$T/shippers.metrics" \
    && ok || bad "metrics: generic requests $(grep 'requests_total{route="generic' "$T/shippers.metrics")"

# --- a real shipper: syslog-ng's http() destination tailing the audit log --
# (Debian packages neither Fluent Bit nor Vector; syslog-ng-mod-http sends
# what their json outputs send: a JSON array of records with the line under
# "log", Basic authentication)
if command -v syslog-ng >/dev/null 2>&1 && ls /usr/lib/syslog-ng/*/libhttp.so >/dev/null 2>&1; then
    start syslogng
    cp "$DATA/corpus_sample.jsonl" "$T/audit.log"
    cat > "$T/sng.conf" <<SNG
@version: 3.38
options { chain_hostnames(no); stats_freq(0); log-msg-size(1048576); };
source s_audit { file("$T/audit.log" flags(no-parse) follow-freq(0.1) log-fetch-limit(1000) log-iw-size(100000)); };
destination d_peregrine {
  http(url("http://127.0.0.1:$PORT/ingest/generic/harrier-prod") method("POST")
       user("syslog-ng") password("shipper-token-1") headers("Content-Type: application/json")
       body("\$(format-json --scope none log=\$MSG)") body-prefix("[") delimiter(",") body-suffix("]")
       batch-lines(100) batch-timeout(200) workers(1));
};
log { source(s_audit); destination(d_peregrine); };
SNG
    syslog-ng -F --no-caps -f "$T/sng.conf" -R "$T/sng.persist" -p "$T/sng.pid" -c "$T/sng.ctl" > "$T/sng.log" 2>&1 &
    SNG=$!
    got=0
    shipped() {     # all 3000 arrived, or syslog-ng is gone
        got=$(curl -s "http://127.0.0.1:$ADMIN/metrics" | sed -n 's/^peregrine_ingest_events_total{route="generic"} //p')
        [ "${got:-0}" -ge 3000 ] || ! kill -0 $SNG 2>/dev/null
    }
    wait_until 60 shipped       # a loaded machine's deadline; done as soon as all arrived
    kill -TERM $SNG; wait $SNG 2>/dev/null
    check "syslog-ng: events shipped" "$got" 3000
    stop syslogng
    alerts syslogng > "$T/syslogng.alerts"
    cmp -s "$T/native.alerts" "$T/syslogng.alerts" && ok \
        || { bad "syslog-ng: alerts differ from posting natively"; head -5 "$T/sng.log"; }
else
    echo "  syslog-ng with the http module not installed (scripts/deps.sh): real-shipper case skipped"
fi

# --- authentication, replies, Pub/Sub, gzip on the audit path -------------
start auth
U=http://127.0.0.1:$PORT
F0="$T/d/firehose/000"
FH=(-H "Content-Type: application/json" -H "X-Amz-Firehose-Request-Id: rid-42")
check "firehose: wrong key 401" "$(http_code "${FH[@]}" -H 'X-Amz-Firehose-Access-Key: nope' --data-binary @"$F0.body" $U/ingest/aws-firehose)" 401
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["requestId"]=="rid-42" and isinstance(d["timestamp"],int) and d["errorMessage"]' "$T/resp" \
    && ok || bad "firehose 401 body: $(cat "$T/resp")"
check "firehose: no key 401" "$(http_code "${FH[@]}" --data-binary @"$F0.body" $U/ingest/aws-firehose)" 401
check "firehose: bearer is not a key" "$(http_code "${FH[@]}" -H 'Authorization: Bearer shipper-token-1' --data-binary @"$F0.body" $U/ingest/aws-firehose)" 401
check "firehose: right key 200" "$(http_code "${FH[@]}" -H 'X-Amz-Firehose-Access-Key: pgr-firehose-key-7Qw2xT9' --data-binary @"$F0.body" $U/ingest/aws-firehose)" 200
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"requestId":"rid-42","timestamp":d["timestamp"]} and d["timestamp"]>1.7e12' "$T/resp" \
    && ok || bad "firehose 200 body: $(cat "$T/resp")"
check "firehose: not a Firehose body 400" "$(http_code "${FH[@]}" -H 'X-Amz-Firehose-Access-Key: pgr-firehose-key-7Qw2xT9' --data-binary @"$T/d/native/000.body" $U/ingest/aws-firehose)" 400
check "generic: no credentials 401" "$(http_code --data-binary @"$T/d/native/000.body" $U/ingest/generic)" 401
check "generic: wrong Basic 401" "$(http_code -u fluent-bit:wrong --data-binary @"$T/d/native/000.body" $U/ingest/generic)" 401
check "generic: Basic 200" "$(http_code -u fluent-bit:shipper-token-1 --data-binary @"$T/d/native/000.body" $U/ingest/generic)" 200
check "generic: nothing audit 400" "$(http_code -u x:shipper-token-1 -d '[{"log":"hello"}]' $U/ingest/generic)" 400

# Pub/Sub: a GKE audit entry, wrapped and unwrapped
ENTRY='{"insertId":"a3d9e6f1-07c4-4b2a-9e5d-61f08c2b7a44","logName":"projects/falconry-prod/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"k8s_cluster","labels":{"cluster_name":"merlin","location":"europe-west4","project_id":"falconry-prod"}},"labels":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed"},"timestamp":"2026-01-01T00:00:01.904Z","receiveTimestamp":"2026-01-01T00:00:02.877Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/billing/pods/ledger-0/exec","authenticationInfo":{"principalEmail":"dana@falconry.example"},"requestMetadata":{"callerIp":"203.0.113.40","callerSuppliedUserAgent":"kubectl/v1.31.2"},"status":{"code":0}}}'
OTHER='{"insertId":"x1","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","resource":{"type":"gce_instance","labels":{}},"timestamp":"2026-01-01T00:00:01Z","receiveTimestamp":"2026-01-01T00:00:02Z","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"compute.googleapis.com","methodName":"v1.compute.instances.insert"}}'
push() { printf '{"message":{"data":"%s","messageId":"%s","publishTime":"2026-01-01T00:00:03.512Z","attributes":{}},"subscription":"projects/falconry-sec/subscriptions/peregrine-push"}' "$(printf '%s' "$1" | base64 -w0)" "$2"; }
PS=(-H "Content-Type: application/json")
check "pubsub: no token 401" "$(http_code "${PS[@]}" -d "$(push "$ENTRY" 1)" "$U/ingest/gcp-pubsub")" 401
check "pubsub: wrong token 401" "$(http_code "${PS[@]}" -d "$(push "$ENTRY" 1)" "$U/ingest/gcp-pubsub?token=ps-3f9a1d")" 401
check "pubsub: entry 200" "$(http_code "${PS[@]}" -d "$(push "$ENTRY" 1)" "$U/ingest/gcp-pubsub?token=ps-3f9a1c")" 200
grep -q '"events":1,' "$T/resp" && ok || bad "pubsub: one event queued: $(cat "$T/resp")"
check "pubsub: unwrapped entry 200" "$(http_code "${PS[@]}" -d "$ENTRY" "$U/ingest/gcp-pubsub?token=ps-3f9a1c")" 200
check "pubsub: non-audit entry acknowledged" "$(http_code "${PS[@]}" -d "$(push "$OTHER" 2)" "$U/ingest/gcp-pubsub?token=ps-3f9a1c")" 200
grep -q '"events":0,.*"skipped":1' "$T/resp" && ok || bad "pubsub: non-audit entry counted: $(cat "$T/resp")"
check "pubsub: not base64 acknowledged" "$(http_code "${PS[@]}" -d '{"message":{"data":"!!!","messageId":"3"},"subscription":"s"}' "$U/ingest/gcp-pubsub?token=ps-3f9a1c")" 200
check "pubsub: not JSON inside acknowledged" "$(http_code "${PS[@]}" -d "$(push 'hello' 4)" "$U/ingest/gcp-pubsub?token=ps-3f9a1c")" 200

# cut-short records: CloudWatch's [Truncated...] and AKS's 16 KiB cut are
# counted and reported with their auditID; the rest of the batch goes on
python3 - "$DATA/corpus_sample.jsonl" "$T" <<'PY'
import base64, gzip, json, sys
ev = [l.rstrip("\n") for l in open(sys.argv[1])][:3]
cut = ev[0][:200] + "[Truncated...]"
cwl = {"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/eks/harrier-prod/cluster",
       "logStream": "kube-apiserver-audit-1", "subscriptionFilters": [],
       "logEvents": [{"id": "1", "timestamp": 1, "message": cut}, {"id": "2", "timestamp": 1, "message": ev[1]}]}
rec = base64.b64encode(gzip.compress(json.dumps(cwl).encode(), mtime=0)).decode()
open(sys.argv[2] + "/trunc-fh.json", "w").write(json.dumps({"requestId": "t", "timestamp": 1, "records": [{"data": rec}]}))
big = json.loads(ev[2]); big["requestObject"] = {"pad": "x" * 20000}
aks = {"category": "kube-audit", "resourceId": "/X/MANAGEDCLUSTERS/K", "properties": {"log": json.dumps(big)[:16384]}}
open(sys.argv[2] + "/trunc-aks.json", "w").write(json.dumps({"records": [aks]}))
PY
read -r ID_FH ID_AKS < <(python3 -c 'import json,sys; l=open(sys.argv[1]).readlines(); print(json.loads(l[0])["auditID"], json.loads(l[2])["auditID"])' "$DATA/corpus_sample.jsonl")
check "firehose: truncated event, batch accepted" "$(http_code "${FH[@]}" -H 'X-Amz-Firehose-Access-Key: pgr-firehose-key-7Qw2xT9' --data-binary @"$T/trunc-fh.json" $U/ingest/aws-firehose)" 200
check "aks: 16 KiB cut record, body accepted" "$(http_code -u x:shipper-token-1 --data-binary @"$T/trunc-aks.json" $U/ingest/generic)" 200
grep -q '"truncated":1' "$T/resp" && ok || bad "aks: truncated counted in the reply: $(cat "$T/resp")"

# Content-Encoding on the audit path (issue 20 item 8)
AUTH=(-H 'Authorization: Bearer shipper-token-1' -H 'Content-Type: application/json')
gzip -c "$T/d/native/001.body" > "$T/n1.gz"
check "audit: gzip body 200" "$(http_code "${AUTH[@]}" -H 'Content-Encoding: gzip' --data-binary @"$T/n1.gz" $U/k8s-audit)" 200
grep -q '"events":100,' "$T/resp" && ok || bad "audit gzip: 100 events: $(cat "$T/resp")"
head -c 64000000 /dev/zero | gzip -c > "$T/bomb.gz"     # 62 KB that inflate to 64 MB
check "audit: decompression bomb 413" "$(http_code "${AUTH[@]}" -H 'Content-Encoding: gzip' --data-binary @"$T/bomb.gz" $U/k8s-audit)" 413
check "generic: decompression bomb 413" "$(http_code -u x:shipper-token-1 -H 'Content-Encoding: gzip' --data-binary @"$T/bomb.gz" $U/ingest/generic)" 413
check "audit: br 415" "$(http_code "${AUTH[@]}" -H 'Content-Encoding: br' --data-binary @"$T/d/native/001.body" $U/k8s-audit)" 415
check "audit: corrupt gzip 400" "$(http_code "${AUTH[@]}" -H 'Content-Encoding: gzip' --data-binary @"$T/d/native/001.body" $U/k8s-audit)" 400
check "audit: identity 200" "$(http_code "${AUTH[@]}" -H 'Content-Encoding: identity' --data-binary @"$T/d/native/002.body" $U/k8s-audit)" 200
curl -s "http://127.0.0.1:$ADMIN/metrics" > "$T/auth.metrics"
stop auth
grep -q '^peregrine_ingest_unauthorized_total{route="gcp-pubsub"} 2$' "$T/auth.metrics" && ok || bad "metrics: pubsub 401s"
grep -q '^peregrine_envelope_records_total{source="webhook",outcome="non_audit"} [1-9]' "$T/auth.metrics" \
    && ok || bad "metrics: non-audit pub/sub entry counted: $(grep outcome=.non_audit "$T/auth.metrics")"
grep -q 'dana@falconry.example' "$T/auth.out" || grep -q 'Attach/Exec Pod' "$T/auth.out" && ok \
    || bad "pubsub: the GKE exec entry raised an alert"
grep -q "truncated record dropped (.*auditID $ID_FH)" "$T/auth.err" && ok || bad "firehose: truncated record reported with its auditID"
grep -q "truncated record dropped (.*auditID $ID_AKS)" "$T/auth.err" && ok || bad "aks: cut record reported with its auditID"
grep -q '^peregrine_envelope_records_total{source="webhook",outcome="truncated"} 2$' "$T/auth.metrics" \
    && ok || bad "metrics: truncated $(grep outcome=.truncated "$T/auth.metrics")"

# --- Pub/Sub with OIDC tokens (RS256, a JWKS file, audience, account) ----
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/jwt.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rogue-jwt.key" 2>/dev/null
MOD=$(openssl rsa -in "$T/jwt.key" -noout -modulus | cut -d= -f2)
python3 -c 'import base64,sys,json; n=bytes.fromhex(sys.argv[1]); u=lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode(); print(json.dumps({"keys":[{"kty":"RSA","alg":"RS256","use":"sig","kid":"k1","n":u(n),"e":"AQAB"}]}))' "$MOD" > "$T/jwks.json"
# jwt KEY KID CLAIMS-JSON ALG: a signed token
jwt() {
    local h p
    h=$(printf '{"alg":"%s","kid":"%s","typ":"JWT"}' "${4:-RS256}" "$2" | base64 -w0 | tr '+/' '-_' | tr -d '=')
    p=$(printf '%s' "$3" | base64 -w0 | tr '+/' '-_' | tr -d '=')
    printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')"
}
NOW=$(date +%s)
SA=push@falconry-sec.iam.gserviceaccount.com
AUD=https://peregrine.example/ingest/gcp-pubsub
claims() { printf '{"aud":"%s","azp":"1","email":"%s","email_verified":%s,"exp":%d,"iat":%d,"iss":"https://accounts.google.com","sub":"1"}' "$1" "$2" "${5:-true}" "$3" "$4"; }
GOOD=$(claims "$AUD" "$SA" $((NOW + 3600)) "$NOW")
OIDC_INIT='{"pubsubJwksFile":"'$T'/jwks.json","pubsubAudience":"'$AUD'","pubsubServiceAccount":"'$SA'"}'
start oidc -o "plugins[0].init_config=$OIDC_INIT"
U=http://127.0.0.1:$PORT/ingest/gcp-pubsub
B="$(push "$ENTRY" 9)"
check "oidc: valid token 200" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(jwt "$T/jwt.key" k1 "$GOOD")" -d "$B" $U)" 200
check "oidc: no token 401" "$(http_code "${PS[@]}" -d "$B" $U)" 401
check "oidc: other key 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(jwt "$T/rogue-jwt.key" k1 "$GOOD")" -d "$B" $U)" 401
check "oidc: wrong audience 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(jwt "$T/jwt.key" k1 "$(claims https://elsewhere "$SA" $((NOW + 3600)) "$NOW")")" -d "$B" $U)" 401
check "oidc: expired 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(jwt "$T/jwt.key" k1 "$(claims "$AUD" "$SA" $((NOW - 600)) $((NOW - 4200)))")" -d "$B" $U)" 401
check "oidc: other account 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(jwt "$T/jwt.key" k1 "$(claims "$AUD" mallory@x.iam.gserviceaccount.com $((NOW + 3600)) "$NOW")")" -d "$B" $U)" 401
check "oidc: unverified email 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(jwt "$T/jwt.key" k1 "$(claims "$AUD" "$SA" $((NOW + 3600)) "$NOW" false)")" -d "$B" $U)" 401
TOK=$(jwt "$T/jwt.key" k1 "$GOOD")
FORGED="${TOK%%.*}.$(printf '%s' "$(claims "$AUD" "$SA" $((NOW + 86400)) "$NOW")" | base64 -w0 | tr '+/' '-_' | tr -d '=').${TOK##*.}"
check "oidc: payload changed 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $FORGED" -d "$B" $U)" 401
check "oidc: alg none 401" "$(http_code "${PS[@]}" -H "Authorization: Bearer $(printf '{"alg":"none"}' | base64 -w0 | tr -d '=').$(printf '%s' "$GOOD" | base64 -w0 | tr -d '=')." -d "$B" $U)" 401
stop oidc
grep -q 'OIDC token refused' "$T/oidc.err" && ok || bad "oidc: a refusal is logged"

# configuration that asks for authentication and yields none refuses to start
for bad_init in '{"pubsubJwksFile":"'$T'/jwks.json"}' '{"firehoseAccessKeys":[""]}' '{"pubsubTokens":[""]}' \
                '{"pubsubJwksFile":"/nonexistent","pubsubAudience":"a"}' '{"gkeConversion":"exact"}'; do
    timeout 10 "$BIN" "${RULES[@]}" -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' \
        -o "plugins[0].init_config=$bad_init" -o webserver.enabled=false > /dev/null 2> "$T/badcfg.err"
    check "refused at start: $bad_init" "$?" 1
done

# one body, two clusters: each event keeps its own cluster, the body counts once
cat > "$T/cluster.yaml" <<'YAML'
- rule: any
  desc: any event
  condition: ka.auditid exists
  output: cluster=%ka.cluster.name id=%ka.auditid
  priority: NOTICE
  source: k8s_audit
YAML
python3 - "$DATA/corpus_sample.jsonl" > "$T/two.json" <<'PY'
import json, sys
ev = [l.rstrip("\n") for l in open(sys.argv[1])][:4]
rec = lambda e, c: {"category": "kube-audit", "resourceId": "/S/1/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/" + c,
                    "properties": {"log": e}}
print(json.dumps({"records": [rec(ev[0], "EAST"), rec(ev[1], "EAST"), rec(ev[2], "WEST"), rec(ev[3], "EAST")]}))
PY
serve "$T/two" "$BIN" -r "$T/cluster.yaml" -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o webserver.enabled=false ||
    { echo "server two did not start: $(serve_why)"; exit 1; }
check "two clusters in one body: 200" "$(http_code --data-binary @"$T/two.json" "http://127.0.0.1:$PORT/ingest/generic")" 200
stop two
check "two clusters: ka.cluster.name per event" "$(grep -o 'cluster=[a-z]*' "$T/two.out" | tr '\n' ' ')" \
    "cluster=east cluster=east cluster=west cluster=east "
grep -q '^Input: 1 payloads,' "$T/two.out" && ok || bad "two clusters: one payload: $(grep '^Input' "$T/two.out")"

# --- files: the same envelopes as lines, gzip-compressed, pretty-printed ---
for f in "$T"/d/aks/*.body; do cat "$f"; echo; done > "$T/aks.jsonl"   # Event Hubs bodies and a storage blob
python3 - "$T" "$DATA/corpus_sample.jsonl" <<'PY'
import gzip, json, sys
t, sample = sys.argv[1], sys.argv[2]
ev = [l.rstrip("\n") for l in open(sample)]
def cwl(evs, k):
    return json.dumps({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "/aws/eks/harrier-prod/cluster",
                       "logStream": "kube-apiserver-audit-1", "subscriptionFilters": ["f"],
                       "logEvents": [{"id": str(k + i), "timestamp": 1, "message": e} for i, e in enumerate(evs)]})
with open(t + "/s3.gz", "wb") as f:          # Firehose → S3 object
    for k in range(0, len(ev), 100):
        f.write(gzip.compress(cwl(ev[k:k + 100], k).encode(), mtime=0))
with open(t + "/export.gz", "wb") as f:      # CloudWatch export task object
    f.write(gzip.compress("".join("2026-11-20T10:00:00.000Z %s\n" % e for e in ev).encode(), mtime=0))
with open(t + "/filter.json", "w") as f:     # aws logs filter-log-events, pretty-printed
    json.dump({"events": [{"logStreamName": "kube-apiserver-audit-1", "timestamp": 1, "message": e,
                           "ingestionTime": 2, "eventId": str(i)} for i, e in enumerate(ev)],
               "searchedLogStreams": []}, f, indent=4)
with open(t + "/dups.jsonl", "w") as f:      # every CloudWatch message delivered twice, interleaved
    msgs = [cwl(ev[k:k + 50], k) for k in range(0, len(ev), 50)]
    for i, m in enumerate(msgs):
        f.write(m + "\n")
        if i >= 3:
            f.write(msgs[i - 3] + "\n")
PY
"$BIN" "${RULES[@]}" -o json_output=true -o rule_matching=all -e "$DATA/corpus_sample.jsonl" 2>/dev/null | grep '^{' > "$T/file.native"
for f in aks.jsonl s3.gz export.gz filter.json dups.jsonl; do
    "$BIN" "${RULES[@]}" -o json_output=true -o rule_matching=all -e "$T/$f" > "$T/$f.out" 2> "$T/$f.err"
    if cmp -s <(grep '^{' "$T/$f.out") "$T/file.native"; then ok; else
        bad "file $f: alerts differ from the native file ($(grep -c '^{' "$T/$f.out") vs $(wc -l < "$T/file.native"))"
        head -3 "$T/$f.err"
    fi
done
grep -q '2997 duplicate events not evaluated again' "$T/dups.jsonl.out" \
    || grep -q 'duplicate events not evaluated again' "$T/dups.jsonl.out" && ok || bad "dups: counted"
for n in 1 2 4; do
    "$BIN" --threads $n "${RULES[@]}" -o rule_matching=all -e "$T/dups.jsonl" 2>/dev/null \
        | grep -v '^Elapsed time' > "$T/dups.$n"
done
cmp -s "$T/dups.1" "$T/dups.2" && cmp -s "$T/dups.1" "$T/dups.4" && ok || bad "dups: output differs with --threads"
grep -q "; $(( (3000 / 50 - 3) * 50 )) duplicate events" "$T/dups.1" && ok || bad "dups: $(grep Envelopes "$T/dups.1")"

# follow mode: CloudWatch messages appended to a followed file
: > "$T/follow.log"
serve --ready following "$T/follow" "$BIN" "${RULES[@]}" -o json_output=true -o rule_matching=all -o webserver.enabled=false \
    -o "plugins[0].open_params=file://$T/follow.log"
cat "$T/dups.jsonl" >> "$T/follow.log"      # every message, most of them twice
all_alerted() { [ "$(grep -c '^{' "$T/follow.out")" -ge "$(wc -l < "$T/file.native")" ]; }
wait_until 60 all_alerted
serve_stop
cmp -s <(grep '^{' "$T/follow.out") "$T/file.native" && ok \
    || bad "follow: envelope lines: $(grep -c '^{' "$T/follow.out") alerts, want $(wc -l < "$T/file.native")"

echo "cloud: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
