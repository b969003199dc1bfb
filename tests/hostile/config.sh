#!/usr/bin/env bash
# Configuration that would make the service useless is refused at start,
# naming the key and its allowed range: a 0 s webhook timeout, 0
# connections, a 0-byte in-flight budget, a 0-byte event or payload limit,
# and an in-flight budget smaller than one payload (that body would get
# 503 forever).  Each must exit 1 at once with the message; the limits
# themselves are accepted, and a file run (-e) is not held to the
# webhook-only check.
#
#   tests/hostile/config.sh [BUILD]      (uses BUILD/peregrine)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
hostile_workdir config "${1:-build}"
port=$(free_port)
hook=(-o "plugins[0].open_params=http://127.0.0.1:$port/k8s-audit" -o webserver.enabled=false)
every_event_rule > rules.yaml
printf '{"kind":"Event","auditID":"1","verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}\n' > ev.jsonl

# refused INIT_CONFIG MESSAGE: exits 1 within 10 s (a server that starts would run on)
refused() {
    timeout 10 "$bin" -r rules.yaml "${hook[@]}" -o "plugins[0].init_config=$1" > out 2> err
    local code=$?
    if [ "$code" -eq 1 ] && grep -qF -- "$2" err; then
        ok "refused: $1"
    else
        bad "refused: $1" "exit $code, stderr: $(head -c 300 err)"
    fi
}
refused '{"webhookTimeoutSeconds":0}' "webhookTimeoutSeconds is 0, allowed: 1 to 3600"
refused '{"webhookMaxConnections":0}' "webhookMaxConnections is 0, allowed: 1 to 65536"
refused '{"webhookMaxInflightBytes":0}' "webhookMaxInflightBytes is 0, allowed: 64 to"
refused '{"maxEventSize":0}' "maxEventSize is 0, allowed: 64 to 1073741824"
refused '{"webhookMaxBatchSize":0}' "webhookMaxBatchSize is 0, allowed: 64 to 1073741824"
refused '{"maxEventBytes":0}' "maxEventBytes is 0, allowed: 64 to 1073741824"
refused '{"webhookTimeoutSeconds":86400}' "webhookTimeoutSeconds is 86400, allowed: 1 to 3600"
refused '{"webhookMaxInflightBytes":1000000}' "webhookMaxInflightBytes (1000000) is below the payload limit (webhookMaxBatchSize, 12582912)"
refused '{"maxEventBytes":2000000,"webhookMaxInflightBytes":1000000}' "below the payload limit (maxEventBytes, 2000000)"

# the bounds themselves are fine; a file run ignores the webhook-only check
"$bin" -r rules.yaml -o 'plugins[0].init_config={"maxEventSize":64,"webhookMaxBatchSize":64,"webhookMaxInflightBytes":64,"webhookTimeoutSeconds":3600,"webhookMaxConnections":1}' \
    -e ev.jsonl > out 2> err
[ $? -eq 0 ] && ok "the bounds are accepted" || bad "bounds" "$(head -c 300 err)"
"$bin" -r rules.yaml "${hook[@]}" -o 'plugins[0].init_config={"webhookMaxInflightBytes":1000}' -e ev.jsonl > out 2> err
[ $? -eq 0 ] && ok "-e replaces the webhook: its budget is not checked" || bad "-e with a webhook config" "$(head -c 300 err)"
tally config
