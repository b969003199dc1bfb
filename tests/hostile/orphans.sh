#!/usr/bin/env bash
# Orphaned children: a program_output child with keep_alive: true must not
# outlive Peregrine.  At exit its input is closed; a program that does not
# exit then gets SIGTERM, and one that ignores SIGTERM gets SIGKILL after
# output_timeout — all of its process group (what `sh -c` started too).
# Checked for a file run and for the webhook stopped with SIGTERM.
#
#   tests/hostile/orphans.sh [BUILD]      (uses BUILD/peregrine)
set -u
build=${1:-build}
bin=$(realpath "$build/peregrine")
dir=$(realpath -m "$build/hostile/orphans")
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1: $2"; }
cleanup() { for f in "$dir"/*.pids; do [ -f "$f" ] && xargs -r kill -9 < "$f" 2>/dev/null; done; }
trap cleanup EXIT

cat > rules.yaml <<'YAML'
- rule: any
  desc: any event
  condition: ka.auditid exists
  output: id=%ka.auditid
  priority: NOTICE
  source: k8s_audit
YAML
printf '{"kind":"Event","auditID":"1","verb":"get","stageTimestamp":"2024-01-01T00:00:01Z"}\n' > ev.jsonl

# alive PIDFILE: how many of its pids still run (a zombie does not), after
# up to 5 s for the killed ones to be reaped by whoever inherited them
alive() {
    local n i p
    for ((i = 0; i < 100; i++)); do
        n=0
        for p in $(cat "$1" 2>/dev/null); do
            [ -e /proc/$p/stat ] && [ "$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)" != Z ] && n=$((n + 1))
        done
        [ $n -eq 0 ] && break
        sleep 0.05
    done
    echo $n
}
# wait_file FILE: until it has 2 pids (the shell and its child; 10 s at most)
wait_pids() { for ((i = 0; i < 200; i++)); do [ "$(wc -w < "$1" 2>/dev/null || echo 0)" -ge 2 ] && return 0; sleep 0.05; done; return 1; }

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
"$bin" -r rules.yaml -o 'plugins[0].open_params=http://127.0.0.1:0/k8s-audit' -o webserver.enabled=false \
    -o program_output.enabled=true -o program_output.keep_alive=true -o "program_output.program=$prog" \
    -o output_timeout=500 > hook.out 2> hook.err &
pid=$!
for ((i = 0; i < 200; i++)); do
    port=$(sed -n 's/.*webhook: listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' hook.err | head -1)
    [ -n "$port" ] && break
    sleep 0.05
done
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @ev.jsonl "http://127.0.0.1:$port/k8s-audit"
wait_pids hook.pids
kill -TERM $pid
wait $pid
code=$?
n=$(alive hook.pids)
[ "$code" -eq 0 ] && [ -s hook.pids ] && [ "$n" -eq 0 ] && ok "webhook stopped by SIGTERM: nothing left running" ||
    bad "webhook SIGTERM" "exit $code, $n of $(cat hook.pids 2>/dev/null) still running"
echo "orphans: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
