#!/usr/bin/env bash
# The deployment guide's TLS walkthrough, run for real: the openssl commands
# of docs/deployment.md ("TLS and authentication") make a server CA, the
# server certificate (subjectAltName 10.96.0.97 and the Service names) and
# a client CA with the API server's client certificate; peregrine runs with
# the Kubernetes ConfigMap's configuration (paths pointed at them, ports
# free); then:
#   - the API server's client certificate is accepted (200), and the path
#     segment names the cluster (ka.cluster.name = prod-eu in the alert);
#   - no client certificate, or one from another CA, is refused (401);
#   - the server certificate verifies for 10.96.0.97 and the Service name;
#   - the admin server answers the Docker HEALTHCHECK command and /readyz.
# Also: the default configuration (deploy/peregrine.yaml) serves plain HTTP.
set -u
. "$(dirname "$0")/../lib/serve.sh"
bin=$(realpath "${1:-build/peregrine}")
repo=$(pwd)
tmp=$(mktemp -d)
pids=()
cleanup() { serve_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
fails=0
fail() { echo "deploy/tls: FAIL: $*"; fails=$((fails + 1)); }
for tool in openssl curl; do
    command -v $tool >/dev/null || { echo "deploy/tls: $tool missing (scripts/deps.sh installs it)"; exit 1; }
done
cd "$tmp" || exit 1

# --- docs/deployment.md, "TLS and authentication", steps 1-3 -------------
{
openssl req -x509 -newkey rsa:3072 -nodes -days 3650 \
    -subj "/CN=peregrine-server-ca" -keyout server-ca.key -out server-ca.crt
openssl req -newkey rsa:3072 -nodes -subj "/CN=peregrine" \
    -keyout server.key -out server.csr
cat > server.ext <<'EXT'
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:10.96.0.97, DNS:peregrine.peregrine.svc, DNS:peregrine.peregrine.svc.cluster.local
EXT
openssl x509 -req -in server.csr -CA server-ca.crt -CAkey server-ca.key \
    -CAcreateserial -days 825 -extfile server.ext -out server.crt
cat server.crt server.key > peregrine.pem
openssl req -x509 -newkey rsa:3072 -nodes -days 3650 \
    -subj "/CN=peregrine-client-ca" -keyout client-ca.key -out client-ca.crt
openssl req -newkey rsa:3072 -nodes -subj "/O=prod-eu/CN=kube-apiserver-audit" \
    -keyout audit-client.key -out audit-client.csr
cat > client.ext <<'EXT'
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
EXT
openssl x509 -req -in audit-client.csr -CA client-ca.crt -CAkey client-ca.key \
    -CAcreateserial -days 825 -extfile client.ext -out audit-client.crt
openssl verify -CAfile server-ca.crt server.crt
openssl verify -CAfile client-ca.crt -purpose sslclient audit-client.crt
} > openssl.log 2>&1 || { cat openssl.log; fail "the guide's openssl commands"; exit 1; }

# the ConfigMap's configuration, with the Secret's files and free ports
/usr/bin/python3 - "$repo/deploy/kubernetes/configmap.yaml" > k8s.yaml <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["metadata"]["name"] == "peregrine-config":
        print(d["data"]["peregrine.yaml"])
PY
sed -i "s|/etc/peregrine/tls/peregrine.pem|$tmp/peregrine.pem|; s|/etc/peregrine/tls/ca.pem|$tmp/client-ca.crt|;
        s|\"https://:9765/k8s-audit\"|\"https://127.0.0.1:0/k8s-audit\"|; s|listen_port: 8765|listen_port: 0|;
        s|listen_address: 0.0.0.0|listen_address: 127.0.0.1|" k8s.yaml
grep -q "$tmp/client-ca.crt" k8s.yaml && grep -q '127.0.0.1:0' k8s.yaml || fail "ConfigMap configuration: keys not where expected"
cat > rules.yaml <<'YAML'
- rule: Seen
  desc: every event, with its cluster
  condition: ka.verb exists
  output: seen cluster=%ka.cluster.name user=%ka.user.name
  priority: NOTICE
  source: k8s_audit
YAML

# start peregrine; sets $wh and $adm to the ports it bound
start() {
    serve --admin "$2" "$bin" -c "$1" -r rules.yaml -o json_output=false ||
        { fail "$1: peregrine did not start: $(serve_why)"; return 1; }
    pids+=("$PID") wh=$PORT adm=$ADMIN
}
post() {    # post NAME URL-PATH CURL-ARGS... -> prints the HTTP status
    curl -s -o "$1.body" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @event.json \
        --resolve "10.96.0.97:$wh:127.0.0.1" --resolve "peregrine.peregrine.svc:$wh:127.0.0.1" "${@:3}" "$2"
}
printf '%s\n' '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"tls-1","stage":"ResponseComplete","verb":"get","user":{"username":"tls-test"},"stageTimestamp":"2024-01-01T00:00:00Z"}' > event.json

if start k8s.yaml k8s; then
    code=$(post ok "https://10.96.0.97:$wh/k8s-audit/prod-eu" --cacert server-ca.crt --cert audit-client.crt --key audit-client.key)
    [ "$code" = 200 ] || fail "client certificate: HTTP $code, want 200 ($(cat ok.body))"
    code=$(post dns "https://peregrine.peregrine.svc:$wh/k8s-audit" --cacert server-ca.crt --cert audit-client.crt --key audit-client.key)
    [ "$code" = 200 ] || fail "Service DNS name: HTTP $code, want 200 (server certificate names?)"
    code=$(post nocert "https://10.96.0.97:$wh/k8s-audit/prod-eu" --cacert server-ca.crt)
    [ "$code" = 401 ] || fail "no client certificate: HTTP $code, want 401"
    code=$(post othercert "https://10.96.0.97:$wh/k8s-audit/prod-eu" --cacert server-ca.crt --cert server.crt --key server.key)
    [ "$code" = 401 ] || fail "certificate from another CA: HTTP $code, want 401"
    # the Dockerfile's HEALTHCHECK command, against this admin server
    hc=$(/usr/bin/python3 - "$repo/Dockerfile" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
m = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.M)
cmd = json.loads(m.group(1)) if m else []
print(cmd[2] if cmd[:2] == ["bash", "-c"] and len(cmd) == 3 else "")
PY
)
    [ -n "$hc" ] || fail "Dockerfile: HEALTHCHECK is not CMD [\"bash\", \"-c\", ...]"
    [ -n "$hc" ] && { bash -c "${hc//8765/$adm}" || fail "the Dockerfile HEALTHCHECK command fails against /healthz"; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$adm/readyz")" = 200 ] || fail "/readyz is not 200"
    kill -TERM "${pids[-1]}"; wait "${pids[-1]}"
    grep -qx '.*Notice seen cluster=prod-eu user=tls-test' k8s.out || fail "no alert naming cluster prod-eu: $(grep seen k8s.out)"
    [ "$(grep -c 'seen cluster=' k8s.out)" = 2 ] || fail "want 2 alerts (the 2 accepted requests), got $(grep -c 'seen cluster=' k8s.out)"
fi

# the default configuration: plain HTTP on the webhook port
sed 's|"http://:9765/k8s-audit"|"http://127.0.0.1:0/k8s-audit"|; s|listen_port: 8765|listen_port: 0|' \
    "$repo/deploy/peregrine.yaml" > default.yaml
if start default.yaml default; then
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @event.json \
        "http://127.0.0.1:$wh/k8s-audit/staging")
    [ "$code" = 200 ] || fail "default configuration: HTTP $code, want 200"
    kill -TERM "${pids[-1]}"; wait "${pids[-1]}" || fail "default configuration: exit status $?"
fi

[ $fails -eq 0 ] || exit 1
echo "deploy/tls: the guide's certificates work: client cert 200 (cluster prod-eu), none or foreign 401; health check ok"
