# Sourced by the tests/hostile scripts: their working directory, the rule
# most of them use, and one line a check with a count at the end.
#
#   . "$(dirname "$0")/../lib/hostile.sh"
#   hostile_workdir NAME "${1:-build}"  # sets build, bin (BUILD/peregrine, absolute) and
#                                       # dir (BUILD/hostile/NAME, emptied), and cds there
#   every_event_rule [OUTPUT] > rules.yaml   # one NOTICE rule firing on every event
#   ok WHAT                             # "  ok   WHAT"
#   bad WHAT WHY                        # "  FAIL WHAT: WHY"
#   tally NAME                          # "NAME: P passed, F failed" (the script's last
#                                       # line); its status is 0 when nothing failed
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1: $2"; }
tally() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

hostile_workdir() {
    build=$2
    bin=$(realpath "$build/peregrine")
    dir=$(realpath -m "$build/hostile/$1")
    rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || exit 1
}

every_event_rule() {
    cat <<YAML
- rule: any
  desc: one alert per event
  condition: ka.auditid exists
  output: ${1:-id=%ka.auditid}
  priority: NOTICE
  source: k8s_audit
YAML
}
