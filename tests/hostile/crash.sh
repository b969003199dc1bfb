#!/usr/bin/env bash
# A crash must lose no acknowledged event's alerts: the webhook answers 200
# once a request's events are evaluated and their alerts written to stdout
# (webhookAck: written, the default).  kill -9 at ROUNDS (default 20)
# random points under load; every acknowledged event's alert must be on
# stdout.  (CRASH_INIT_CONFIG='{"webhookAck":"queued"}' shows the other
# mode losing them.)
#
#   tests/hostile/crash.sh [BUILD]      (uses BUILD/peregrine)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
bin=$(realpath "$build/peregrine")
dir=$(realpath -m "$build/hostile/crash")
rm -rf "$dir" && mkdir -p "$dir" || exit 1
cat > "$dir/rules.yaml" <<'YAML'
- rule: any
  desc: one alert per event
  condition: ka.auditid exists
  output: id=%ka.auditid
  priority: NOTICE
  source: k8s_audit
YAML
python3 "$here/crash.py" "$bin" "$dir/rules.yaml" "$dir" "${ROUNDS:-20}" "${CRASH_INIT_CONFIG:-}"
