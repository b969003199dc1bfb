#!/usr/bin/env bash
# Differential test of rule evaluation (issue 18): the default evaluation
# (shared checks, prefilter, reordered checks) must raise exactly the alerts
# of `-o rule_evaluation=reference` (every candidate rule's checks run in the
# order written), byte for byte, with every rule's verdict visible
# (`-o json_output=true -o rule_matching=all`) and with the defaults (text,
# first match).  Inputs:
#   (a) rule sets written by bench/gen_rules (SCALE_TEST_RULES rules, default
#       2000: one set per seed of SCALE_TEST_SEEDS, default "1 2", and one in
#       its wide mode per seed of SCALE_TEST_WIDE_SEEDS, default 3: the
#       operators and forms the benchmark mix leaves out), and one set of
#       SCALE_TEST_BIG rules (default 10000; 0 = none) over the first 1000
#       events, over a corpus written by bench/gen_corpus (SCALE_TEST_EVENTS
#       events, default 5000);
#   (b) every set of rules files a conformance suite loads (legacy, current,
#       oracle: ../shared/conformance/data), each over every event of the
#       kit: the traces, the 3000-event corpus sample and the fields suite's
#       input lines (skipped without the kit, tests/lib/shared.sh).
# The statistics block is compared too, without its "Elapsed time" line.
# The generated sets run on 3 threads (workers' own state, whatever the
# machine's cores), the many small conformance runs on one (a third less
# CPU than several, under ASan too).
# A run must exit 0 and the generated sets must raise alerts, so that a
# broken setup cannot pass by giving nothing twice.  On a difference the
# first differing lines are printed.
#
#   tests/scale/run.sh BUILD       (BUILD/peregrine; BUILD/scale/gen_rules and
#                                   gen_corpus, compiled here if missing)
# Prints "scale: N passed, M failed".
set -u
build=${1:-build}
bin=$build/peregrine
root=$(cd "$(dirname "$0")/../.." && pwd)
rules_n=${SCALE_TEST_RULES:-2000}
events_n=${SCALE_TEST_EVENTS:-5000}
seeds=${SCALE_TEST_SEEDS:-1 2}
wide_seeds=${SCALE_TEST_WIDE_SEEDS:-3}
big=${SCALE_TEST_BIG:-10000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC FALCO_HOSTNAME=scale-test
pass=0 fail=0

gen=$build/scale
for g in gen_rules gen_corpus; do
    if [ ! -x "$gen/$g" ]; then
        mkdir -p "$gen"
        ${CC:-cc} -O2 -o "$gen/$g" "$root/bench/$g.c" || exit 1
    fi
done

# Outputs without what varies run to run: the "Elapsed time" line of the
# statistics block, the time stamps of log lines.
strip() { grep -v '^Elapsed time: ' "$1"; }
strip_err() { sed -E 's|^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} ||' "$1"; }

# compare NAME MIN_ALERTS ARGS...: one run with the reference evaluation, one
# with the default; alerts counted as the stdout lines before the stats block.
compare() {
    local name=$1 min=$2
    shift 2
    "$bin" "$@" -o rule_evaluation=reference > "$tmp/ref.out" 2> "$tmp/ref.err"
    local rc_ref=$?
    "$bin" "$@" > "$tmp/def.out" 2> "$tmp/def.err"
    local rc_def=$?
    local alerts
    alerts=$(awk '/^Elapsed time: /{exit} {n++} END{print n+0}' "$tmp/def.out")
    local why=""
    if [ $rc_ref != 0 ] || [ $rc_def != 0 ]; then
        why="exit status: reference $rc_ref, default $rc_def; stderr: $(tail -c 300 "$tmp/def.err")"
    elif ! cmp -s <(strip "$tmp/ref.out") <(strip "$tmp/def.out"); then
        why="outputs differ (< reference, > default):"$'\n'"$(diff <(strip "$tmp/ref.out") <(strip "$tmp/def.out") | head -20 | cut -c1-400)"
    elif ! cmp -s <(strip_err "$tmp/ref.err") <(strip_err "$tmp/def.err"); then
        why="stderr differs:"$'\n'"$(diff <(strip_err "$tmp/ref.err") <(strip_err "$tmp/def.err") | head -10)"
    elif [ "$alerts" -lt "$min" ]; then
        why="$alerts alerts, expected at least $min"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        echo "ok   $name: $alerts alert lines"
    else
        fail=$((fail + 1))
        echo "FAIL $name: $why"
    fi
}

both() {  # NAME MIN_ALERTS ARGS...: all matches as JSON, then first match as text
    local name=$1 min=$2
    shift 2
    compare "$name, all matches, JSON" "$min" "$@" -o json_output=true -o rule_matching=all \
        -o json_include_output_property=true -o json_include_tags_property=true
    compare "$name, first match, text" "$min" "$@"
}

# (a) generated rule sets
"$gen/gen_corpus" "$events_n" 11 > "$tmp/corpus.jsonl" 2> /dev/null || exit 1
for seed in $seeds; do
    "$gen/gen_rules" "$rules_n" "$seed" > "$tmp/rules-$seed.yaml" 2> /dev/null || exit 1
    both "gen_rules $rules_n $seed over gen_corpus $events_n 11" 1 -r "$tmp/rules-$seed.yaml" -e "$tmp/corpus.jsonl" --threads 3
done
for seed in $wide_seeds; do
    "$gen/gen_rules" "$rules_n" "$seed" wide > "$tmp/wide-$seed.yaml" 2> /dev/null || exit 1
    both "gen_rules $rules_n $seed wide over gen_corpus $events_n 11" 1 -r "$tmp/wide-$seed.yaml" -e "$tmp/corpus.jsonl" --threads 3
done
if [ "$big" -gt 0 ]; then
    head -n 1000 "$tmp/corpus.jsonl" > "$tmp/corpus-1000.jsonl"
    "$gen/gen_rules" "$big" 4 > "$tmp/big.yaml" 2> /dev/null || exit 1
    both "gen_rules $big 4 over gen_corpus 1000 11" 1 -r "$tmp/big.yaml" -e "$tmp/corpus-1000.jsonl" --threads 3
fi

# (b) the conformance kit: every suite's rules files over all its events
conformance() {
    local DATA=$1
    awk 1 "$DATA"/traces/*.json "$DATA/corpus_sample.jsonl" > "$tmp/kit.jsonl"  # a newline after each file's last line
    python3 - "$DATA" "$tmp/kit.jsonl" "$tmp/sets" <<'PY' || return 1
import json, os, sys
data, events, sets = sys.argv[1:4]
with open(os.path.join(data, "fields.json")) as f, open(events, "a") as out:
    for c in json.load(f)["cases"]:
        out.write(c["input_line"].rstrip("\n") + "\n")
tests = json.load(open(os.path.join(data, "detection_tests.json")))
oracle = os.path.join(data, "oracle_tests.json")
if os.path.exists(oracle):
    tests += json.load(open(oracle))
seen = []
for t in tests:
    if t["rules"] not in seen:
        seen.append(t["rules"])
with open(sets, "w") as f:
    for rules in seen:
        f.write(" ".join(os.path.join(data, r) for r in rules) + "\n")
PY
    local files args
    while read -r files; do
        args=()
        for f in $files; do args+=(-r "$f"); done
        both "conformance rules ${files//$DATA\/rules\//}" 0 "${args[@]}" -e "$tmp/kit.jsonl" --threads 1
    done < "$tmp/sets"
}
if (. "$root/tests/lib/shared.sh" && need_shared "scale: conformance rules and events" > "$tmp/skip"); then
    if [ -s "$tmp/skip" ]; then
        cat "$tmp/skip"
    else
        conformance "$(cd "${PEREGRINE_SHARED:-$root/../shared}" && pwd)/conformance/data" || fail=$((fail + 1))
    fi
else
    fail=$((fail + 1))  # PEREGRINE_REQUIRE_SHARED=1 and no kit
fi

echo "scale: $pass passed, $fail failed"
[ $fail = 0 ]
