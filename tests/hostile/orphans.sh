#!/usr/bin/env bash
# Orphaned children: a program_output child with keep_alive: true must not
# outlive Peregrine.  At exit its input is closed; a program that does not
# exit then gets SIGTERM, and one that ignores SIGTERM gets SIGKILL after
# output_timeout — all of its process group (what `sh -c` started too).
# Checked for a file run and for the webhook stopped with SIGTERM.
#
#   tests/hostile/orphans.sh [BUILD]      (uses BUILD/peregrine)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
hostile_workdir orphans "${1:-build}"
cleanup() { serve_cleanup; for f in "$dir"/*.pids; do [ -f "$f" ] && xargs -r kill -9 < "$f" 2>/dev/null; done; }
trap cleanup EXIT

every_event_rule > rules.yaml
printf '{"kind":"Event","auditID":"1","verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}\n' > ev.jsonl

# running PIDFILE: how many of its pids still run (a zombie does not)
running() {
    local n=0 p
    for p in $(cat "$1" 2>/dev/null); do
        [ -e /proc/$p/stat ] && [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" != Z ] && n=$((n + 1))
    done
    echo $n
}
none_running() { [ "$(running "$1")" -eq 0 ]; }
# alive PIDFILE: how many still run after up to 5 s for the killed ones to
# be reaped by whoever inherited them
alive() { wait_until 5 none_running "$1"; running "$1"; }
# wait_pids FILE: until it has 2 pids (the shell and its child; 10 s at most)
has_pids() { [ "$(wc -w < "$1" 2>/dev/null || echo 0)" -ge 2 ]; }
wait_pids() { wait_until 10 has_pids "$1"; }

# the programs: each writes its shell's pid and a child's pid, then never
# reads its input; "stubborn" also ignores SIGTERM
prog_plain="sleep 1000 & echo \$\$ \$! > $dir/plain.pids; wait"
prog_stubborn="trap '' TERM; sleep 1000 & echo \$\$ \$! > $dir/stubborn.pids; while :; do sleep 0.1; done"

for kind in plain stubborn; do
    eval "prog=\$prog_$kind"
    start=$(date +%s%N)
    "$bin" -r rules.yaml -o program_output.enabled=true -o program_output.keep_alive=true \
        -o "program_output.program=$prog" -o output_timeout=500 -e ev.jsonl > $kind.out 2> $kind.err
    code=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    wait_pids $kind.pids
    n=$(alive $kind.pids)
    [ "$code" -eq 0 ] && [ -s $kind.pids ] && [ "$n" -eq 0 ] &&
        ok "file run, $kind program: nothing left running at exit (exit in $ms ms)" ||
        bad "file run, $kind program" "exit $code, $n of $(cat $kind.pids 2>/dev/null) still running; $(head -c 300 $kind.err)"
done

# the webhook, stopped by SIGTERM
prog="sleep 1000 & echo \$\$ \$! > $dir/hook.pids; wait"
serve hook "$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o webserver.enabled=false \
    -o program_output.enabled=true -o program_output.keep_alive=true -o "program_output.program=$prog" \
    -o output_timeout=500
post_json ev.jsonl "http://127.0.0.1:$PORT/k8s-audit" > /dev/null
wait_pids hook.pids
serve_stop
code=$?
n=$(alive hook.pids)
[ "$code" -eq 0 ] && [ -s hook.pids ] && [ "$n" -eq 0 ] && ok "webhook stopped by SIGTERM: nothing left running" ||
    bad "webhook SIGTERM" "exit $code, $n of $(cat hook.pids 2>/dev/null) still running"
tally orphans
