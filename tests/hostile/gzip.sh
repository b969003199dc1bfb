#!/usr/bin/env bash
# Compressed bodies (issue 20 item 8): Content-Encoding: gzip used to get a
# JSON parse error.  Now a gzip body is inflated and evaluated like the
# plain one; the inflated size counts against webhookMaxBatchSize, so a
# decompression bomb (256 MiB of zeros in 1 MB) is refused with 413 without
# the server's memory growing with it (peak RSS <= RSS_LIMIT_KB), also on
# the /ingest routes and with four at once; corrupt gzip gets 400 and other
# encodings 415.
#
#   tests/hostile/gzip.sh [BUILD]      (uses BUILD/peregrine; needs curl, gzip)
set -u
build=${1:-build}
bin=$(realpath "$build/peregrine")
data=$(realpath "$(dirname "$0")/../../../shared/conformance/data")
dir=$(realpath -m "$build/hostile/gzip")
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
RSS_LIMIT_KB=${RSS_LIMIT_KB:-65536}
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
python3 -c '
import sys
ev = [l.strip() for l in open(sys.argv[1])][:500]
sys.stdout.write("{\"kind\":\"EventList\",\"items\":[" + ",".join(ev) + "]}")' "$data/corpus_sample.jsonl" > events.json
gzip -c events.json > events.json.gz
head -c $((256 << 20)) /dev/zero | gzip -1 -c > bomb.gz       # ~1 MB on the wire, 256 MiB inflated

"$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o webserver.enabled=false \
    > server.out 2> server.err &
PID=$!
PORT=
for ((i = 0; i < 400; i++)); do
    PORT=$(sed -n 's/.*webhook: listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' server.err | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || { echo "webhook did not start: $(cat server.err)"; exit 1; }
post() { # FILE PATH [curl args]: the status code; the body in resp
    local f=$1 p=$2; shift 2
    curl -s -o resp -w '%{http_code}' -H 'Content-Type: application/json' "$@" --data-binary @"$f" \
        "http://127.0.0.1:$PORT$p"
}
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$PID/status"; }

code=$(post events.json.gz /k8s-audit -H 'Content-Encoding: gzip')
[ "$code" = 200 ] && grep -q '"events":500,' resp && ok "gzip body: 200, 500 events" ||
    bad "gzip body" "answered $code $(head -c 200 resp)"
code=$(post events.json.gz /ingest/generic -H 'Content-Encoding: gzip')
[ "$code" = 200 ] && grep -q '"events":500,' resp && ok "gzip body on /ingest/generic: 200, 500 events" ||
    bad "gzip body on /ingest/generic" "answered $code $(head -c 200 resp)"
base=$(hwm)
code=$(post bomb.gz /k8s-audit -H 'Content-Encoding: gzip')
rss=$(hwm)
[ "$code" = 413 ] && [ "$rss" -le $((base + RSS_LIMIT_KB)) ] &&
    ok "256 MiB bomb: 413, peak RSS $base -> $rss KB" || bad "256 MiB bomb" "answered $code, peak RSS $base -> $rss KB"
for k in 1 2 3 4; do
    curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Encoding: gzip' --data-binary @bomb.gz \
        "http://127.0.0.1:$PORT/ingest/generic" > four.$k &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null
rss=$(hwm)
[ "$(cat four.1 four.2 four.3 four.4 | sort -u)" = 413 ] && [ "$rss" -le $((base + 2 * RSS_LIMIT_KB)) ] &&
    ok "four bombs at once on /ingest/generic: 413, peak RSS $rss KB" ||
    bad "four bombs at once" "answered $(cat four.* | tr '\n' ' '), peak RSS $rss KB"
code=$(post events.json /k8s-audit -H 'Content-Encoding: gzip')
[ "$code" = 400 ] && ok "not gzip under Content-Encoding: gzip: 400" || bad "corrupt gzip" "answered $code"
code=$(post events.json /k8s-audit -H 'Content-Encoding: br')
[ "$code" = 415 ] && ok "Content-Encoding: br: 415" || bad "br" "answered $code"
code=$(post events.json /k8s-audit -H 'Content-Encoding: gzip, br')
[ "$code" = 415 ] && ok "stacked encodings: 415" || bad "gzip, br" "answered $code"
kill "$PID"
wait "$PID"
rc=$?
PID=
[ $rc = 0 ] && [ "$(grep -c '^[0-9].*id=' server.out)" = 1000 ] && ok "exit 0, 1000 alerts" ||
    bad "exit" "status $rc, $(grep -c 'id=' server.out) alerts"

echo "gzip: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
