#!/usr/bin/env bash
# Data-driven end-to-end cases: tests/cases/*.case.
#
# A case file is plain text in sections, each opened by a line "--- NAME":
#   (text before the first section)   what the case shows, in words
#   --- rules                         a rules file (YAML)
#   --- events                        audit events, JSONL
#   --- options                       extra command-line words, one per line
#                                     (e.g. -o rule_matching=all)
#   --- expect                        exact alert lines on stdout (the run
#                                     summary and stats block are not compared)
#   --- expect-stats                  lines that must appear in the stats block
#   --- expect-error                  text the load error on stderr must contain
#                                     (the run must exit 1)
#   --- expect-stderr                 texts stderr must contain, in this
#                                     order (run exits 0)
# Runs with TZ=UTC and FALCO_HOSTNAME=test, once with --threads 1 (read and
# evaluated in place) and once with --threads 3 (blocks pulled by worker
# threads), unless the options name --threads; both runs must pass, so the
# result does not depend on the machine's core count.
# Prints "cases: N passed, M failed".
set -u
bin=${1:-build/peregrine}
dir=${2:-tests/cases}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for case in "$dir"/*.case; do
    rm -f "$tmp"/*
    awk -v out="$tmp" '
        /^--- [a-z-]+$/ { sec = substr($0, 5); printf "" > (out "/" sec); next }
        sec != "" { print >> (out "/" sec) }
    ' "$case"
    args=()
    [ -f "$tmp/rules" ] && args+=(-r "$tmp/rules.yaml") && cp "$tmp/rules" "$tmp/rules.yaml"
    [ -f "$tmp/events" ] && args+=(-e "$tmp/events")
    if [ -f "$tmp/options" ]; then
        while IFS= read -r w; do [ -n "$w" ] && args+=("$w"); done < "$tmp/options"
    fi
    thread_runs=("--threads 1" "--threads 3")
    grep -qx -- "--threads" "$tmp/options" 2>/dev/null && thread_runs=("")
    why=""
    for tr in "${thread_runs[@]}"; do
    # shellcheck disable=SC2086 # $tr is "" or two words
    TZ=UTC FALCO_HOSTNAME=test "$bin" "${args[@]}" $tr > "$tmp/out" 2> "$tmp/err" < /dev/null
    code=$?
    [ -n "$why" ] && break
    if [ -f "$tmp/expect-error" ]; then
        [ $code -eq 1 ] || why="exit status $code, want 1"
        while IFS= read -r want; do
            [ -z "$want" ] && continue
            grep -qF -- "$want" "$tmp/err" || why="${why:+$why; }stderr lacks: $want"
        done < "$tmp/expect-error"
    else
        [ $code -eq 0 ] || why="exit status $code; stderr: $(tail -c 300 "$tmp/err")"
        # alerts = stdout before the run summary
        sed '/^Elapsed time: /,$d' "$tmp/out" > "$tmp/alerts"
        if [ -f "$tmp/expect" ] && ! diff -u "$tmp/expect" "$tmp/alerts" > "$tmp/diff"; then
            why="${why:+$why; }alerts differ:
$(cat "$tmp/diff")"
        fi
        if [ -f "$tmp/expect-stats" ]; then
            while IFS= read -r want; do
                [ -z "$want" ] && continue
                grep -qxF -- "$want" "$tmp/out" || why="${why:+$why; }stats lack: $want"
            done < "$tmp/expect-stats"
        fi
        if [ -f "$tmp/expect-stderr" ]; then
            # in this order: each text after the line where the previous was found
            from=1
            while IFS= read -r want; do
                [ -z "$want" ] && continue
                at=$(tail -n +"$from" "$tmp/err" | grep -nF -m1 -- "$want" | cut -d: -f1)
                if [ -z "$at" ]; then
                    why="${why:+$why; }stderr lacks (in order): $want"
                else
                    from=$((from + at - 1))
                fi
            done < "$tmp/expect-stderr"
        fi
    fi
    [ -n "$why" ] && why="${tr:+($tr) }$why"
    done
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $(basename "$case"): $why"
    fi
done
echo "cases: $pass passed, $fail failed"
[ $fail -eq 0 ]
