#!/usr/bin/env bash
# A non-atomic rules rewrite under load must never switch detection off.
# The webhook runs with watch_config_files and one rule that fires on every
# event; while events are posted, the rules file is truncated, then written
# in two steps, each staying until the watcher has acted on it.
# It used to load the empty file ("0 rules, 0 enabled") and evaluate
# events with no rules until the rewrite ended.  Now every acknowledged
# event must alert (with the old rules or the new), the empty set must be
# refused loudly, and /metrics must name the live set (generation 2).
#
#   tests/hostile/reload.sh [BUILD]      (uses BUILD/peregrine; needs curl)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$(realpath "${PEREGRINE_SHARED:-$root/../shared}")/conformance/data
hostile_workdir reload "${1:-build}"
trap 'kill $(jobs -p) 2>/dev/null; serve_cleanup' EXIT

rules_gen() { printf -- '- rule: Every Event\n  desc: fires once per event\n  condition: ka.auditid exists\n  output: gen=%s id=%%ka.auditid\n  priority: INFO\n  source: k8s_audit\n' "$1"; }
rules_gen A > live.yaml
# wait_for FILE PATTERN: up to 60 s
wait_for() { wait_until 60 grep -qs -- "$2" "$1"; }

serve --admin run "$bin" -r live.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o watch_config_files=true \
    -o webserver.listen_address=127.0.0.1 -o webserver.listen_port=0 --threads 2 ||
    { echo "webhook did not start: $(serve_why)"; exit 1; }
python3 "$root/tests/webhook/post_events.py" "http://127.0.0.1:$PORT/k8s-audit" "$data/corpus_sample.jsonl" \
    --batch 50 --clients 2 --repeat 100000 > post.json &
poster=$!
wait_for run.out ' gen=A ' || bad "start" "generation A never fired"

# the slow, non-atomic rewrite: each step stays until the watcher has acted
# on it (the worst a slow writer can do; waits for conditions, whatever the
# machine's speed) — truncated, then half written, then whole
: > live.yaml
wait_for run.err 'REFUSED\|0 rules, 0 enabled' || bad "truncated file" "the watcher never acted on it"
rules_gen B | head -3 > live.yaml.part && cat live.yaml.part > live.yaml
wait_for run.err "Item has no mapping for key 'output'" || bad "half-written file" "the watcher never acted on it"
rules_gen B > live.yaml
wait_for run.out ' gen=B ' || bad "rewrite" "generation B never fired"
kill -TERM $poster; wait $poster
metrics=$(curl -s "http://127.0.0.1:$ADMIN/metrics")
serve_stop
code=$?

acked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events_acked"])' post.json)
a=$(grep -c ' gen=A ' run.out); b=$(grep -c ' gen=B ' run.out)
[ "$code" -eq 0 ] || bad "exit status" "$code"
[ "$((a + b))" -eq "$acked" ] && [ "$acked" -gt 0 ] &&
    ok "every acknowledged event alerted: $acked acknowledged = $a (old rules) + $b (new rules)" ||
    bad "events evaluated without rules" "$acked acknowledged, $a + $b = $((a + b)) alerted; $(grep -i 'rules' run.err | tail -4)"
grep -q "rules reload (a watched file changed) REFUSED: the new rules enable no rule where 1 were enabled" run.err &&
    ok "the empty rules file is refused, loudly" || bad "refusal" "$(grep -i 'rules' run.err | head -5)"
grep -q "^peregrine_rules_generation 2$" <<< "$metrics" && grep -q '^peregrine_rules_reloads_total{result="refused"} [1-9]' <<< "$metrics" &&
    ok "/metrics: generation 2 live, refusals counted" || bad "/metrics" "$(grep rules_ <<< "$metrics")"
grep -q "rules set 2 is in use: 1 rules, 1 enabled" run.err && ok "the log says which set is live" ||
    bad "log" "$(grep -i 'rules' run.err | tail -3)"
tally reload
