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
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
hostile_workdir auth "${1:-build}"
trap serve_cleanup EXIT

every_event_rule > rules.yaml
printf '{"kind":"Event","auditID":"1","verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}' > ev.json

# start NAME ARGS...: the webhook on a free port (sets PORT), or returns 1 if
# it exits first (its status in SERVE_EXIT)
start() {
    local name=$1
    shift
    serve "$name" "$bin" -r rules.yaml -o webserver.enabled=false "$@"
}

# --- empty and blank bearer tokens: refuse to start
for toks in '[""]' '["good-token",""]' '["  "]'; do
    if start tok -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o "plugins[0].init_config={\"bearerTokens\":$toks}"; then
        c=$(post_json ev.json "http://127.0.0.1:$PORT/k8s-audit")
        bad "bearerTokens $toks" "started; an unauthenticated post got $c"
        serve_stop
    elif [ "${SERVE_EXIT:-0}" -eq 1 ] && grep -q "bearerTokens: token .* is empty" tok.err; then
        ok "bearerTokens $toks: refused to start ($(head -1 tok.err | cut -c1-120))"
    else
        bad "bearerTokens $toks" "$(serve_why)"
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
        c=$(post_json ev.json "https://127.0.0.1:$PORT/k8s-audit" --cacert s.pem --cert $kind.pem --key $kind.key)
        [ "$c" = "$want" ] && ok "client certificate with EKU '$kind': $c" || bad "client certificate EKU '$kind'" "got $c, want $want"
    done
    serve_stop
else
    bad "https webhook with clientCA" "did not start: $(serve_why)"
fi
tally auth
