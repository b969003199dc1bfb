#!/usr/bin/env bash
# Hostile rules files (issue: hostile input): recursive macros, 10k rules,
# 100k-item lists, 1 MB conditions, 10k-deep parentheses, exponential
# macro expansion, deep YAML.  Each file must either load or fail with a
# clear load error naming file:line:col, within a time bound — never a
# crash, a hang or a stack overflow.  The files are generated into
# BUILD/hostile/rules (never committed).
#
#   tests/hostile/rules.sh [BUILD]      (default build; uses BUILD/peregrine)
set -u
build=${1:-build}
bin=$build/peregrine
dir=$build/hostile/rules
mkdir -p "$dir"
LIMIT=${HOSTILE_RULES_SECONDS:-10}

python3 - "$dir" <<'PY'
import os, sys
d = sys.argv[1]
def rule(name, cond, output="x %ka.verb"):
    return (f"- rule: {name}\n  desc: d\n  condition: {cond}\n  output: \"{output}\"\n"
            f"  priority: NOTICE\n  source: k8s_audit\n")
def write(name, text):
    with open(os.path.join(d, name + ".yaml"), "w") as f:
        f.write(text)

write("self_macro", "- macro: a\n  condition: a and ka.verb=get\n" + rule("R", "a"))
# a real cycle needs a redefinition: b uses a, then a is redefined to use b
write("mutual_macros", "- macro: a\n  condition: ka.verb=get\n- macro: b\n  condition: a\n"
      "- macro: a\n  condition: b or ka.verb=list\n" + rule("R", "a"))
write("forward_macro", "- macro: a\n  condition: b\n- macro: b\n  condition: a\n" + rule("R", "a"))
write("rules_10k", "".join(rule(f"R{i}", f"ka.verb=v{i} and ka.target.resource=r{i % 97}") for i in range(10000)))
items = ",".join(f"item{i}" for i in range(100000))
write("list_100k", f"- list: big\n  items: [{items}]\n" + rule("R", "ka.verb in (big) or ka.user.name in (big)"))
write("cond_1mb", rule("R", " or ".join(f"ka.user.name=user{i}" for i in range(50000))))
write("cond_1mb_fields", rule("R", " or ".join(f"json.value[/a{i}] exists" for i in range(45000))))
write("cond_1mb_verbs", rule("R", " or ".join(f"ka.verb=v{i}" for i in range(80000))))
write("output_1mb", rule("R", "ka.verb=get", " ".join(f"%json.value[/o{i}]" for i in range(50000))))
write("parens_10k", rule("R", "(" * 10000 + "ka.verb=get" + ")" * 10000))
write("not_parens_10k", rule("R", "not (" * 10000 + "ka.verb=get" + ")" * 10000))
# each macro uses the previous one twice: 2^40 nodes once expanded
bomb = "- macro: m0\n  condition: ka.verb=get\n"
bomb += "".join(f"- macro: m{i}\n  condition: (m{i-1} or m{i-1})\n" for i in range(1, 41))
write("macro_bomb", bomb + rule("R", "m40"))
# a 100k-item list substituted into 100 rules: 20M set items
write("list_bomb", f"- list: big\n  items: [{items}]\n" +
      "".join(rule(f"R{i}", "ka.verb in (big) and ka.user.name in (big)") for i in range(100)))
# 40 macros each nested 240 levels deep and using the next: ~10k levels
def nest(levels, inner):
    s = inner
    for i in range(levels):
        s = f"ka.user.name!=u{i} and ({s})" if i % 2 else f"ka.user.name=u{i} or ({s})"
    return s
deep = "".join(f"- macro: m{i}\n  condition: {nest(240, f'm{i+1}' if i < 39 else 'ka.verb=get')}\n"
               for i in reversed(range(40)))
write("macro_deep", deep + rule("R", "m0"))
write("yaml_deep", rule("R", "ka.verb=get") + "  tags: " + "[" * 10000 + "]" * 10000 + "\n")
alias = "- list: l0\n  items: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
alias += "".join(f"- list: l{i}\n  items: &a{i} [{', '.join([f'*a{i-1}'] * 10)}]\n" for i in range(1, 9))
write("yaml_alias_bomb", alias + rule("R", "ka.verb in (l8)"))
# lists naming earlier lists: l8 holds 10^9 items once expanded
lb = "- list: l0\n  items: [a, b, c, d, e, f, g, h, i, j]\n"
lb += "".join(f"- list: l{i}\n  items: [{', '.join([f'l{i-1}'] * 10)}]\n" for i in range(1, 9))
write("list_names_bomb", lb + rule("R", "ka.verb in (l8)"))
write("exceptions_10k", rule("R", "ka.verb=get") + "  exceptions:\n" +
      "".join(f"  - name: e{i}\n    fields: [ka.user.name, ka.target.namespace]\n"
              f"    values: [[u{i}, ns{i}]]\n" for i in range(10000)))
PY

pass=0 fail=0
# check NAME ok|"error text"
check() {
    local name=$1 want=$2 f="$dir/$1.yaml"
    local code secs why=""
    # the bound is on CPU time (user + system): the wall clock of a loaded
    # machine says how busy the others are; a hang is cut at 12x the bound
    /usr/bin/time -f '%U %S' -o "$dir/$name.time" timeout $((LIMIT * 12)) "$bin" -V "$f" \
        > "$dir/$name.out" 2> "$dir/$name.err"
    code=$?
    secs=$(tail -1 "$dir/$name.time" | awk '{ printf "%.2f", $1 + $2 }')
    secs=${secs:-$((LIMIT * 12))}
    if [ "$code" -ge 124 ]; then
        why="exit status $code (crash or hang)"
    elif [ "$want" = ok ]; then
        [ "$code" -eq 0 ] || why="did not load: $(head -c 300 "$dir/$name.err")"
    else
        [ "$code" -eq 1 ] || why="exit status $code, want 1"
        grep -qE "^$f:[0-9]+:[0-9]+: error" "$dir/$name.err" || why="${why:+$why; }no file:line:col error: $(head -c 300 "$dir/$name.err")"
        grep -qF -- "$want" "$dir/$name.err" || why="${why:+$why; }stderr lacks: $want"
    fi
    if awk -v s="$secs" -v l="$LIMIT" 'BEGIN { exit !(s > l) }'; then
        why="${why:+$why; }took ${secs}s (limit ${LIMIT}s)"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
        printf '  ok   %-18s %6ss %s\n' "$name" "$secs" "$([ "$want" = ok ] && echo loaded || echo "error: $want")"
    else
        fail=$((fail + 1))
        printf '  FAIL %-18s %s\n' "$name" "$why"
    fi
}
check self_macro "reference loop in macro 'a'"
check mutual_macros "reference loop in macro"
check forward_macro "Undefined macro 'b' used in filter"
check rules_10k ok
check list_100k ok
check cond_1mb ok
check cond_1mb_fields ok
check cond_1mb_verbs ok
check output_1mb ok
check parens_10k "exceeded max depth limit of 1000"
check not_parens_10k "exceeded max depth limit of 1000"
check macro_bomb "conditions larger than 2000000 nodes"
check list_bomb "conditions larger than 2000000 nodes"
check macro_deep "nested more than 4000 levels deep after macro expansion"
check yaml_deep "YAML nesting too deep"
check yaml_alias_bomb "Value is not a scalar value"
check list_names_bomb "lists larger than 2000000 items in all after expansion"
check exceptions_10k ok
echo "hostile rules: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
