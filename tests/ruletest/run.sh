#!/usr/bin/env bash
# The rule test harness (`--test`) on cases that pass and on every way a
# case can fail: output and exit status.
#   tests/ruletest/run.sh build/peregrine
set -uo pipefail
BIN=$(realpath "${1:-build/peregrine}")
cd "$(dirname "$0")"
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; echo "--- got:"; echo "$2"; echo "--- expected:"; echo "$3"; fi; }

out=$("$BIN" -r rules.yaml --test cases/pass.yaml -v 2>&1); rc=$?
check "passing cases: exit 0" "$rc" 0
check "passing cases: output" "$out" "ok   cases/pass.yaml:2 bash exec fires
ok   cases/pass.yaml:16 the same event from a JSONL file
ok   cases/pass.yaml:19 extra_rules switch on a disabled rule
3 passed, 0 failed"

# log lines carry a timestamp: drop it
out=$("$BIN" -r rules.yaml --test cases/fail.yaml 2>&1 | sed -E 's/^(     event [0-9]+ was not evaluated: )[0-9/: ]+ /\1/'); rc=${PIPESTATUS[0]}
check "failing cases: exit 1" "$("$BIN" -r rules.yaml --test cases/fail.yaml >/dev/null 2>&1; echo $?)" 1
check "failing cases: output" "$out" "$(cat expected_fail.txt)"

out=$("$BIN" -r rules.yaml --test cases 2>&1 | tail -1)
check "a directory: every top-level case file" "$out" "3 passed, 6 failed"

out=$("$BIN" -r nowhere.yaml --test cases/pass.yaml 2>&1); rc=$?
check "rules that do not load: exit 1" "$rc" 1

echo "ruletest: $pass passed, $fail failed"
[ $fail -eq 0 ]
