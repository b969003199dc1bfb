#!/usr/bin/env bash
# Follow mode end to end: peregrine follows a growing audit log
# (-e file:///…/audit.log) while this script appends events, rotates the log
# by rename + create (with a late write to the renamed file) and by
# copy + truncate, removes and recreates it, and writes a burst across a
# rotation; then SIGTERM.  Every event appended after peregrine started must
# be alerted exactly once, none written before it, and the exit status is 0.
set -u
. "$(dirname "$0")/../lib/serve.sh"
bin=${1:-build/peregrine}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
log=$tmp/audit.log
out=$tmp/out
fail() { echo "follow: FAIL: $*"; echo "--- stderr"; tail -20 "$tmp/err"; exit 1; }

cat > "$tmp/rules.yaml" <<'YAML'
- rule: Every event
  desc: one alert per event, naming it
  condition: ka.verb exists
  output: seen id=%ka.auditid
  priority: NOTICE
  source: k8s_audit
YAML

ev() { printf '{"kind":"Event","auditID":"%s","verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}\n' "$1"; }
events() { local p=$1 n=$2 i; for ((i = 1; i <= n; i++)); do ev "$p-$i"; done; }
# wait until the alert for id $1 shows up (60 s at most: a loaded machine)
wait_for() { wait_until 60 grep -qs "seen id=$1\$" "$out" || fail "no alert for $1 after 60 s"; }

events old 20 > "$log"
printf '{"kind":"Event","auditID":"old-partial"' >> "$log"   # a line being written as we start
TZ=UTC FALCO_HOSTNAME=test "$bin" -U -r "$tmp/rules.yaml" -e "file://$log" \
    -o webserver.listen_address=127.0.0.1 -o webserver.listen_port=0 \
    -o 'plugins[0].init_config={"maxEventBytes":4096}' > "$out" 2> "$tmp/err" &
pid=$!

# the end of the old line: not ours.  Then probe until peregrine is following.
printf ',"verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}\n' >> "$log"
p=0
probe() { p=$((p + 1)); ev "probe-$p" >> "$log"; grep -qs 'seen id=probe-' "$out"; }
wait_until 60 probe
grep -q 'seen id=probe-' "$out" || fail "peregrine never alerted (not following?)"
first_probe=$(grep -m1 -o 'seen id=probe-[0-9]*' "$out" | sed 's/.*-//')
expected=()
for ((i = first_probe; i <= p; i++)); do expected+=("probe-$i"); done

# 1. plain appends, and a line over the payload limit among them
events a 50 >> "$log"
head -c 5000 /dev/zero | tr '\0' x >> "$log"; echo >> "$log"
events a2 50 >> "$log"; wait_for a2-50
# 2. rename + create, the writer writing to the old file before it reopens
mv "$log" "$log.1"
events b 50 >> "$log.1"
sleep 0.3
events c 50 >> "$log"; wait_for c-50
# 3. copy + truncate (what is not read before the truncation is lost by
#    that rotation method itself: wait for it, as logrotate users do)
cp "$log" "$log.2"; : > "$log"
events d 100 >> "$log"; wait_for d-100
# 4. removed, then created again
rm "$log"; sleep 0.3
events e 50 >> "$log"; wait_for e-50
# 5. a burst across a rotation, lumberjack style (rename, then a new file)
events f 1000 >> "$log"
mv "$log" "$log.3"
events g 1000 >> "$log"
# the admin server runs in follow mode too: health, and metrics from the file source
adm=$(sed -n 's|.*admin: listening on http://[^:]*:\([0-9]*\) .*|\1|p' "$tmp/err")
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$adm/healthz")" = 200 ] || fail "follow: /healthz is not 200"
curl -s "http://127.0.0.1:$adm/metrics" | grep -q '^peregrine_events_evaluated_total{source="file"} ' ||
    fail "follow: /metrics has no file-source counters"

# 6. SIGTERM right away: what was written before it is still evaluated
kill -TERM "$pid"
wait "$pid"; code=$?
pid=
[ $code -eq 0 ] || fail "exit status $code, want 0"

for p in a:50 a2:50 b:50 c:50 d:100 e:50 f:1000 g:1000; do
    for ((i = 1; i <= ${p#*:}; i++)); do expected+=("${p%:*}-$i"); done
done
grep -o 'seen id=.*' "$out" | sed 's/seen id=//' | sort > "$tmp/got"
printf '%s\n' "${expected[@]}" | sort > "$tmp/want"
if ! cmp -s "$tmp/got" "$tmp/want"; then
    diff "$tmp/want" "$tmp/got" | head -20
    fail "alerts differ from the appended events (< missing, > unexpected or repeated)"
fi
grep -q 'Events detected: '"${#expected[@]}" "$out" || fail "statistics block does not count ${#expected[@]} alerts"
grep -q ': line of 5000 bytes exceeds the 4096-byte payload limit; skipped' "$tmp/err" ||
    fail "no message for the over-long line"
grep -q ', 1 lines over the payload limit$' "$out" || fail "statistics block does not count the over-long line"
echo "follow: ${#expected[@]} events appended across 3 rotations and a truncation, each alerted once"
