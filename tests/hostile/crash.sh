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
. "$(dirname "$0")/../lib/hostile.sh"
here=$(cd "$(dirname "$0")" && pwd)
hostile_workdir crash "${1:-build}"
every_event_rule > rules.yaml
python3 "$here/crash.py" "$bin" "$dir/rules.yaml" "$dir" "${ROUNDS:-20}" "${CRASH_INIT_CONFIG:-}"
