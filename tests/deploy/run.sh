#!/usr/bin/env bash
# The deploy kit: Kubernetes manifests, audit policy and webhook kubeconfig
# (tests/deploy/check.py, with Debian's python3-yaml), the configurations
# they embed load in peregrine with the bundled and local rules, the systemd
# unit keeps its hardening, the Dockerfile its promises, and the guide's
# TLS setup works (tests/deploy/tls.sh).  kubectl, when present, must also
# build the kustomization.
set -u
bin=${1:-build/peregrine}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "deploy: FAIL: $*"; fails=$((fails + 1)); }

/usr/bin/python3 tests/deploy/check.py . "$tmp" || fails=$((fails + 1))

# the configurations load, with the rules they name (bundled + local tuning)
for conf in deploy/peregrine.yaml "$tmp/k8s.yaml"; do
    [ -s "$conf" ] || continue
    "$bin" -c "$conf" -r rules -r "$tmp/rules.d" -L >/dev/null 2>"$tmp/err" ||
        fail "$conf does not load: $(head -3 "$tmp/err")"
done

# systemd unit: hardening present; systemd-analyze (when there) finds no error
unit=deploy/systemd/peregrine.service
for key in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
           CapabilityBoundingSet= RestrictAddressFamilies= SystemCallFilter=@system-service \
           'ExecReload=/bin/kill -HUP $MAINPID' 'ExecStart=/usr/local/bin/peregrine -c /etc/peregrine/peregrine.yaml'; do
    grep -qxF -e "$key" "$unit" || grep -q "^$key" "$unit" || fail "$unit: no $key"
done
if command -v systemd-analyze >/dev/null; then
    sed "s|/usr/local/bin/peregrine|$(realpath "$bin")|; /^Documentation=/d" "$unit" > "$tmp/peregrine.service"
    out=$(systemd-analyze verify "$tmp/peregrine.service" 2>&1) || fail "systemd-analyze verify: $out"
fi

# Dockerfile: Debian 12 slim, multi-stage, non-root, ports, health check
df=Dockerfile
[ "$(grep -c '^FROM debian:12-slim' $df)" -ge 2 ] || fail "$df: not a multi-stage Debian 12 slim build"
grep -qE '^USER [1-9][0-9]*:[1-9][0-9]*$' $df || fail "$df: no numeric non-root USER"
grep -qE '^EXPOSE .*\b9765\b' $df || fail "$df: does not expose 9765"
grep -qE '^HEALTHCHECK .*' $df && grep -q '/healthz' $df || fail "$df: no HEALTHCHECK on /healthz"
for f in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' $df); do
    [ -e "$f" ] || fail "$df: COPY $f: no such file"
done

if command -v kubectl >/dev/null; then
    kubectl kustomize deploy/kubernetes >/dev/null 2>"$tmp/err" || fail "kubectl kustomize: $(cat "$tmp/err")"
fi

# the guide's TLS walkthrough against a running peregrine
tests/deploy/tls.sh "$bin" || fails=$((fails + 1))

[ $fails -eq 0 ] || exit 1
echo "deploy: $(ls deploy/kubernetes/*.yaml | wc -l) manifests, default config, systemd unit and Dockerfile ok"
