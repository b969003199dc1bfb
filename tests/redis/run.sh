#!/usr/bin/env bash
# Several replicas, one state: two Peregrine webhook replicas share a real
# redis-server (started here on a free loopback port) and take alternate
# batches of one stream; a threshold, a distinct count, a sequence whose
# steps land on different replicas and a new value each alert exactly once,
# the same alerts as one process reading the whole stream.  Then Redis is
# killed mid-stream: no crash, every post answered 200, the fallback
# counted; Redis back: updates go there again.  Likewise Redis stalled
# (SIGSTOP) and Redis turned into a read-only replica (a failover).  Start
# errors: a wrong password, TLS to a plain server, an untrusted
# certificate, a URL that is not Redis's; rediss:// with its CA works.
#
#   tests/redis/run.sh build/peregrine
set -uo pipefail
BIN=$(realpath "${1:-build/peregrine}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY="python3 $HERE/replicas.py"
. "$HERE/../lib/serve.sh"
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; [ -n "${RPID:-}" ] && kill -9 $RPID 2>/dev/null; wait 2>/dev/null; serve_cleanup; rm -rf "$T"' EXIT
pass=0 fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if [ "$2" = "$3" ]; then ok; else bad "$1: expected '$3', got '$2'"; fi; }

command -v redis-server >/dev/null || { echo "redis: redis-server is not installed (scripts/deps.sh)"; exit 1; }
RPORT=$(free_port)
RPID=
redis_pong() { [ "$(redis-cli -p "$1" "${@:2}" ping 2>/dev/null)" = PONG ]; }   # PORT [redis-cli args]
redis_start() {
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" >>"$T/redis.log" 2>&1 &
    RPID=$!
    wait_until 20 redis_pong "$RPORT" && return 0
    echo "redis-server did not start:"; cat "$T/redis.log"; exit 1
}
redis_start

# config PREFIX TIMEOUT: a webhook replica's configuration using the shared store
config() {
    cat > "$T/$1.yaml" <<YAML
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
webserver:
  listen_address: 127.0.0.1
  listen_port: 0
correlations:
  store: redis://127.0.0.1:$RPORT
  key_prefix: "$1:"
  store_timeout: $2
YAML
}

# start NAME CONFIG: sets WEB_<NAME>, ADMIN_<NAME>, PID_<NAME>
start() {
    serve --admin "$T/$1" "$BIN" -c "$T/$2.yaml" -r "$HERE/rules.yaml" ||
        { echo "replica $1 did not start: $(serve_why)"; exit 1; }
    printf -v "WEB_$1" %s "$PORT"; printf -v "ADMIN_$1" %s "$ADMIN"; printf -v "PID_$1" %s "$PID"
}
stop() {    # stop NAME: SIGTERM, expect exit 0
    local v="PID_$1"
    serve_stop "${!v}"
    check "$1: exit status after SIGTERM" "$?" 0
}
metric() {  # metric NAME SERIES
    local v="ADMIN_$1"
    curl -s "http://127.0.0.1:${!v}/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}
# the correlation alerts of the given outputs: rule and text, sorted
alerts() { cat "$@" | python3 -c '
import json, sys
for l in sys.stdin:
    if l.startswith("{"):
        a = json.loads(l); print(a["rule"] + " | " + a["output"])' | sort; }

$PY stream "$T/stream.jsonl"
N=$(wc -l < "$T/stream.jsonl")

# --- one process, the whole stream, state in process ---------------------------
"$BIN" -r "$HERE/rules.yaml" -e "$T/stream.jsonl" -o json_output=true >"$T/one.out" 2>"$T/one.err"
alerts "$T/one.out" > "$T/want"
check "one process: correlation alerts" "$(wc -l < "$T/want")" 4
for r in "Permission probing" "Many secrets read" "Granted then used" "New address"; do
    check "one process: $r alerts once" "$(grep -c "^$r |" "$T/want")" 1
done

# --- two replicas, alternate batches, one Redis ----------------------------------
config a 2s      # generous: on a loaded machine no batch may fall back here
start A a; start B a
$PY post "$T/stream.jsonl" 0 "$N" 4 "$WEB_A,$ADMIN_A" "$WEB_B,$ADMIN_B" || bad "posting to two replicas"
check "A: no fallback" "$(metric A peregrine_correlation_store_fallbacks_total)" 0
check "B: no fallback" "$(metric B peregrine_correlation_store_fallbacks_total)" 0
check "A: store up" "$(metric A peregrine_correlation_store_up)" 1
stop A; stop B
alerts "$T/A.out" "$T/B.out" > "$T/got"
if diff "$T/want" "$T/got" >"$T/diff"; then ok; else bad "two replicas' alerts differ from one process's:"; cat "$T/diff"; fi
# each replica raised some of them: the state really was shared
na=$(alerts "$T/A.out" | wc -l); nb=$(alerts "$T/B.out" | wc -l)
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && ok || bad "alerts spread over both replicas (A $na, B $nb)"
check "keys in Redis under the prefix" "$(redis-cli -p "$RPORT" --scan --pattern 'a:*' | wc -l)" 4
ttl=$(redis-cli -p "$RPORT" pttl "$(redis-cli -p "$RPORT" --scan --pattern 'a:*' | head -1)")
[ "$ttl" -gt 0 ] && ok || bad "Redis keys expire (pttl $ttl)"

# --- each replica alone, with its own per-process state, misses them ------------
# (the reason for the store: a burst of 30 split in two bursts of 15)
"$BIN" -r "$HERE/rules.yaml" -e <(awk 'int((NR-1)/4) % 2 == 0' "$T/stream.jsonl") -o json_output=true >"$T/half.out" 2>/dev/null
check "half the stream alone: no burst alert" "$(alerts "$T/half.out" | grep -c '^Permission probing')" 0

# --- Redis killed mid-stream, then back ----------------------------------------------
config b 300ms
start C b; start D b
half=$((N / 2))
$PY post "$T/stream.jsonl" 0 "$half" 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" || bad "posting before the kill"
kill -9 $RPID; wait $RPID 2>/dev/null; RPID=
$PY post "$T/stream.jsonl" "$half" $((N - half)) 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" \
    && ok || bad "posting with Redis down: every batch answered 200 and evaluated"
kill -0 $PID_C && kill -0 $PID_D && ok || bad "replicas alive with Redis down"
fb=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
[ "$fb" -gt 0 ] && ok || bad "fallbacks counted with Redis down ($fb)"
check "C: store down" "$(metric C peregrine_correlation_store_up)" 0
grep -q "Redis store unavailable" "$T/C.err" "$T/D.err" && ok || bad "the outage is logged"
[ "$(grep -c 'Redis store unavailable' "$T/C.err")" -le 1 ] && ok || bad "logged at most once a minute"

# wait_up WHAT SHIFT: post fresh events (newer than any seen, so that they
# reach the store) to both replicas until both report Redis up (60 s)
wait_up() {
    local end=$((SECONDS + 60)) k=0 up=0
    while [ $SECONDS -lt $end ]; do
        k=$((k + 1))
        $PY stream "$T/nudge.jsonl" --shift $(($2 + 10000 * k))
        $PY post "$T/nudge.jsonl" 0 8 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" || { bad "$1: posting"; break; }
        if [ "$(metric C peregrine_correlation_store_up)" = 1 ] && [ "$(metric D peregrine_correlation_store_up)" = 1 ]; then
            up=1
            break
        fi
    done
    check "$1" "$up" 1
}

redis_start
wait_up "both replicas back on Redis" 86400
$PY stream "$T/later.jsonl" --shift 2000000
L=$(wc -l < "$T/later.jsonl")
fb1=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
$PY post "$T/later.jsonl" 0 "$L" 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" || bad "posting with Redis back"
fb2=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
check "no fallback once Redis is back" "$fb2" "$fb1"
[ "$(redis-cli -p "$RPORT" --scan --pattern 'b:*' | wc -l)" -gt 0 ] && ok || bad "updates reach Redis again"
grep -q "Redis store answers again" "$T/C.err" "$T/D.err" && ok || bad "the return is logged"

# --- Redis stalled (SIGSTOP): answers stop, the webhook does not -------------------
$PY stream "$T/stalled.jsonl" --shift 3000000
fb3=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
kill -STOP $RPID
t0=$SECONDS
$PY post "$T/stalled.jsonl" 0 "$L" 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" \
    && ok || bad "posting with Redis stalled: every batch answered 200 and evaluated"
fb4=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
[ "$fb4" -gt "$fb3" ] && ok || bad "fallbacks counted with Redis stalled ($fb3 -> $fb4)"
echo "redis: $L events posted with Redis stalled in $((SECONDS - t0)) s"
kill -CONT $RPID
wait_up "both replicas back on Redis after the stall" 4000000

# --- a failover leaves us on a read-only replica: writes refused, we reconnect --------
redis-cli -p "$RPORT" replicaof 127.0.0.1 1 >/dev/null
fb5=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
$PY stream "$T/ro.jsonl" --shift 5000000
$PY post "$T/ro.jsonl" 0 40 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" && ok || bad "posting to a read-only Redis"
fb6=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
[ "$fb6" -gt "$fb5" ] && ok || bad "updates refused by a read-only Redis fall back ($fb5 -> $fb6)"
grep -q "READONLY" "$T/C.err" "$T/D.err" && ok || bad "the refusal is logged"
redis-cli -p "$RPORT" replicaof no one >/dev/null
wait_up "both replicas back on Redis once it is a primary again" 6000000
$PY stream "$T/ro2.jsonl" --shift 7000000
fb7=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
$PY post "$T/ro2.jsonl" 0 "$L" 4 "$WEB_C,$ADMIN_C" "$WEB_D,$ADMIN_D" || bad "posting to the promoted Redis"
fb8=$(( $(metric C peregrine_correlation_store_fallbacks_total) + $(metric D peregrine_correlation_store_fallbacks_total) ))
check "no fallback on the promoted Redis" "$fb8" "$fb7"
stop C; stop D

# --- refused at start: a clear message and exit 1 ------------------------------------
"$BIN" -r "$HERE/rules.yaml" -e "$T/stream.jsonl" -o "correlations.store=redis://:wrong@127.0.0.1:$RPORT" >/dev/null 2>"$T/auth.err"
check "bad password: exit status" "$?" 1
grep -q "correlations.store: .*AUTH" "$T/auth.err" && ok || { bad "bad password: message"; cat "$T/auth.err"; }
"$BIN" -r "$HERE/rules.yaml" -e "$T/stream.jsonl" -o "correlations.store=rediss://127.0.0.1:$RPORT" >/dev/null 2>"$T/tls.err"
check "TLS to a plain server: exit status" "$?" 1
grep -q "correlations.store: .*TLS" "$T/tls.err" && ok || { bad "TLS failure: message"; cat "$T/tls.err"; }
"$BIN" -r "$HERE/rules.yaml" -e "$T/stream.jsonl" -o "correlations.store=http://127.0.0.1:$RPORT" >/dev/null 2>"$T/url.err"
check "not a redis URL: exit status" "$?" 1

# --- rediss://: TLS verified against correlations.store_ca ---------------------------
(cd "$T" && openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.pem -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null) || bad "openssl"
TPORT=$(free_port)
redis-server --port 0 --tls-port "$TPORT" --tls-cert-file "$T/tls.pem" --tls-key-file "$T/tls.key" \
    --tls-auth-clients no --bind 127.0.0.1 --save '' --appendonly no --dir "$T" >"$T/tls.log" 2>&1 &
TLSPID=$!
wait_until 20 redis_pong "$TPORT" --tls --cacert "$T/tls.pem"
"$BIN" -r "$HERE/rules.yaml" -e "$T/stream.jsonl" -o json_output=true -o "correlations.store=rediss://localhost:$TPORT" \
    -o "correlations.store_ca=$T/tls.pem" -o correlations.key_prefix=tls: >"$T/tls.out" 2>"$T/tls.err"
check "rediss://: exit status" "$?" 0
if alerts "$T/tls.out" | diff "$T/want" - >/dev/null; then ok; else bad "rediss://: alerts"; cat "$T/tls.err"; fi
check "rediss://: keys in Redis" "$(redis-cli --tls --cacert "$T/tls.pem" -p "$TPORT" --scan --pattern 'tls:*' | wc -l)" 4
"$BIN" -r "$HERE/rules.yaml" -e "$T/stream.jsonl" -o "correlations.store=rediss://localhost:$TPORT" >/dev/null 2>"$T/tls2.err"
check "rediss:// with an untrusted certificate: exit status" "$?" 1
grep -q "correlations.store: .*certificate" "$T/tls2.err" && ok || { bad "untrusted certificate: message"; cat "$T/tls2.err"; }
kill -9 $TLSPID; wait $TLSPID 2>/dev/null

echo "redis: $pass passed, $fail failed"
[ "$fail" = 0 ]
