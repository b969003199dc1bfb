#!/usr/bin/env bash
# Log amplification: a 12 MB webhook body {"kind":"EventList","items":[0,0,…]}
# used to be answered 200 after one "can't read stageTimestamp" line per
# item — ~600 MB of RSS and ~300 MB of stderr for one request.  Now: peak
# RSS <= 64 MB and stderr <= 1 MB for that body (it is refused: more than
# one JSON value per 4 bytes), also with four such bodies at once; a body of
# the densest shape still parsed ([1000,1000,…]) costs a handful of lines
# (the first drops, then one count); and a file of 20,000 malformed lines
# writes at most a burst of 5000 lines plus the rate, the rest counted.
#
#   tests/hostile/amplify.sh [BUILD]      (uses BUILD/peregrine; needs curl)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
hostile_workdir amplify "${1:-build}"
RSS_LIMIT_KB=${RSS_LIMIT_KB:-65536}
trap serve_cleanup EXIT

every_event_rule > rules.yaml
# body ITEM: a 12 MB EventList of ITEM, ITEM, ...
body() { python3 -c '
import sys
item = sys.argv[1]
n = (12 * 1024 * 1024 - 40) // (len(item) + 1)
sys.stdout.write("{\"kind\":\"EventList\",\"items\":[" + ",".join([item] * n) + "]}")' "$1"; }
body 0 > zeros.json
body 1000 > thousands.json

start() { # NAME: the webhook on a free port, sets PID and PORT
    serve "$1" "$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o webserver.enabled=false ||
        { echo "webhook did not start: $(serve_why)"; exit 1; }
}
post() { HTTP_BODY=$2 post_json "$1" "http://127.0.0.1:$PORT/k8s-audit"; }

# --- one 12 MB body of zeros
start one
code=$(post zeros.json one.body)
rss=$(peak_rss_kb)
serve_stop
errb=$(wc -c < one.err)
[ "$rss" -le "$RSS_LIMIT_KB" ] && [ "$errb" -le 1048576 ] &&
    ok "12 MB [0,0,…] body: answered $code, peak RSS $rss KB, stderr $errb bytes" ||
    bad "12 MB [0,0,…] body" "answered $code, peak RSS $rss KB (limit $RSS_LIMIT_KB), stderr $errb bytes (limit 1 MiB)"

# --- four at once
start four
for k in 1 2 3 4; do post zeros.json four.$k.body > four.$k.code & done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null
rss=$(peak_rss_kb)
serve_stop
errb=$(wc -c < four.err)
[ "$rss" -le $((2 * RSS_LIMIT_KB)) ] && [ "$errb" -le 1048576 ] &&
    ok "four such bodies at once: peak RSS $rss KB, stderr $errb bytes" ||
    bad "four bodies at once" "peak RSS $rss KB (limit $((2 * RSS_LIMIT_KB))), stderr $errb bytes"

# --- the densest accepted shape: parsed, each item dropped, a few lines said
start dense
code=$(post thousands.json dense.body)
rss=$(peak_rss_kb)
serve_stop
lines=$(grep -c "k8saudit" dense.err)
if [ "$code" = 200 ] && grep -q '"dropped":2516574' dense.body && [ "$lines" -le 5 ] &&
    grep -q "and 2516571 more events dropped (2516574 in this body" dense.err; then
    ok "12 MB [1000,1000,…] body: 200, 2516574 dropped, $lines log lines, peak RSS $rss KB"
else
    bad "12 MB [1000,…] body" "answered $code $(head -c 100 dense.body), $lines log lines, peak RSS $rss KB"
fi

# --- a file of 20000 malformed lines: bursts of 5000 lines, then 100/s, the rest counted
python3 -c 'import sys; sys.stdout.write("not json\n" * 20000)' > bad.jsonl
start_ns=$(date +%s%N)
"$bin" -r rules.yaml -e bad.jsonl > file.out 2> file.err
secs=$(( ($(date +%s%N) - start_ns) / 1000000000 + 1 ))
n=$(grep -c "cannot parse JSON" file.err)
held=$(sed -n 's/^Log: \([0-9]*\) lines held back by the log rate limit$/\1/p' file.out)
if [ "$n" -le $((5000 + 100 * secs)) ] && [ "$n" -ge 5000 ] && [ "$((n + ${held:-0}))" -ge 20000 ]; then
    ok "20000 malformed lines: $n written, ${held:-0} held back and counted"
else
    bad "log rate limit" "$n lines written in ~${secs}s, held back: '${held:-}'"
fi
tally amplify
