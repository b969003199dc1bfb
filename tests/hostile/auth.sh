#!/usr/bin/env bash
# Configuration that asks for authentication and yields none, and client
# certificates not meant for clients:
#   - bearerTokens holding an empty (or blank) token — a template whose
#     variable is unset — must refuse to start (it used to start a webhook
#     that accepted unauthenticated posts);
#   - a client certificate signed by clientCA whose extended key usage does
#     not allow client authentication (serverAuth only) must be refused
#     (401); one with clientAuth, or with no EKU at all, is accepted.
#
#   tests/hostile/auth.sh [BUILD]      (uses BUILD/peregrine; needs openssl, curl)
set -u
build=${1:-build}
bin=$(realpath "$build/peregrine")
dir=$(realpath -m "$build/hostile/auth")
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1: $2"; }
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

cat > rules.yaml <<'YAML'
- rule: any
  desc: any event
  condition: ka.auditid exists
  output: id=%ka.auditid
  priority: NOTICE
  source: k8s_audit
YAML
printf '{"kind":"Event","auditID":"1","verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}' > ev.json

# start NAME ARGS...: the webhook on a free port (sets PORT), or returns 1 if it exits first
start() {
    local name=$1
    shift
    "$bin" -r rules.yaml -o webserver.enabled=false "$@" > "$name.out" 2> "$name.err" &
    PID=$!
    PORT=
    for ((i = 0; i < 400; i++)); do
        PORT=$(sed -n 's/.*webhook: listening on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' "$name.err" | head -1)
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || { wait "$PID"; EXIT=$?; PID=; return 1; }
        sleep 0.05
    done
    return 1
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }

# --- empty and blank bearer tokens: refuse to start
for toks in '[""]' '["good-token",""]' '["  "]'; do
    if start tok -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o "plugins[0].init_config={\"bearerTokens\":$toks}"; then
        c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @ev.json "http://127.0.0.1:$PORT/k8s-audit")
        bad "bearerTokens $toks" "started; an unauthenticated post got $c"
        stop
    elif [ "${EXIT:-0}" -eq 1 ] && grep -q "bearerTokens: token .* is empty" tok.err; then
        ok "bearerTokens $toks: refused to start ($(head -1 tok.err | cut -c1-120))"
    else
        bad "bearerTokens $toks" "exit ${EXIT:-?}: $(head -c 300 tok.err)"
    fi
done

# --- client certificates: extended key usage
(
    openssl req -x509 -newkey rsa:2048 -nodes -keyout s.key -out s.pem -days 2 -subj /CN=localhost \
        -addext subjectAltName=IP:127.0.0.1 && cat s.pem s.key > webhook.pem &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca &&
    for kind in client server none; do
        openssl req -newkey rsa:2048 -nodes -keyout $kind.key -out $kind.csr -subj /CN=$kind-cert || exit 1
        case $kind in
        client) printf 'extendedKeyUsage=clientAuth\n' > $kind.ext ;;
        server) printf 'extendedKeyUsage=serverAuth\n' > $kind.ext ;;
        none) printf 'basicConstraints=CA:FALSE\n' > $kind.ext ;;
        esac
        openssl x509 -req -in $kind.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $kind.pem -days 2 \
            -extfile $kind.ext || exit 1
    done
) > openssl.log 2>&1 || { bad "openssl" "$(tail -5 openssl.log)"; echo "auth: $pass passed, $fail failed"; exit 1; }
if start tls -o 'plugins[0].open_params=https://127.0.0.1:0/k8s-audit' \
    -o "plugins[0].init_config={\"sslCertificate\":\"$dir/webhook.pem\",\"clientCA\":\"$dir/ca.pem\"}"; then
    for kind in client none server; do
        want=200
        [ $kind = server ] && want=401
        c=$(curl -s -o /dev/null -w '%{http_code}' --cacert s.pem --cert $kind.pem --key $kind.key \
            -H 'Content-Type: application/json' --data-binary @ev.json "https://127.0.0.1:$PORT/k8s-audit")
        [ "$c" = "$want" ] && ok "client certificate with EKU '$kind': $c" || bad "client certificate EKU '$kind'" "got $c, want $want"
    done
    stop
else
    bad "https webhook with clientCA" "did not start: $(head -c 300 tls.err)"
fi
echo "auth: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
