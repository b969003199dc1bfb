#!/bin/sh
# Alerts per 100,000 events raised by a ruleset on the benchmark corpus
# (bench/gen_corpus.c, the generator `make bench` uses), per rule, as a
# Markdown table — the Noise table of rules/README.md.
#
#   bench/rule_noise.sh [PEREGRINE [EVENTS [SEED]]] [-- EXTRA PEREGRINE ARGS...]
#
# Defaults: build/peregrine, 200000 events, seed 42, `-r rules`, every
# matching rule counted (rule_matching=all).  Extra arguments go to
# peregrine, e.g. `-- -r rules/tests/fixtures/enable_optional.yaml`.
set -eu
bin=${1:-build/peregrine}; events=${2:-200000}; seed=${3:-42}
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
[ $# -gt 0 ] && shift
here=$(dirname "$0")
mkdir -p "$here/build"
gen="$here/build/gen_corpus"
[ -x "$gen" ] && [ "$gen" -nt "$here/gen_corpus.c" ] || cc -O2 -o "$gen" "$here/gen_corpus.c"
corpus="$here/build/audit-$events-$seed.jsonl"
[ -s "$corpus" ] || "$gen" "$events" "$seed" > "$corpus" 2>/dev/null
"$bin" -r rules "$@" -e "$corpus" -o rule_matching=all 2>/dev/null |
awk -v n="$events" '
    /^Triggered rules by rule name:/ { on = 1; next }
    /^Stateful detection/ { on = 0 }
    on && /^   [^ ].*: [0-9]+$/ {
        line = substr($0, 4); i = match(line, /: [0-9]+$/)
        name = substr(line, 1, i - 1); c = substr(line, i + 2) + 0
        order[++k] = name; count[name] = c; total += c
    }
    END {
        print "| rule | alerts per 100k |"
        print "|---|---:|"
        for (j = 1; j <= k; j++) printf "| %s | %.1f |\n", order[j], count[order[j]] * 100000 / n
        printf "| **total** | **%.1f** |\n", total * 100000 / n
    }'
