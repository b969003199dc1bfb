#!/usr/bin/env bash
# Acceptance: a realistic 20k-event audit log (bench/gen_corpus.c) with 5 %
# malformed lines mixed in gives exactly the alerts of the valid lines
# alone (real Falco skips malformed lines).  Rules: upstream's
# k8s_audit_rules 0.18.0.  Data is generated into BUILD/hostile/mix.
#
# Malformed classes inserted (5 % of the lines): truncated event lines,
# non-JSON text, empty and whitespace-only lines, NUL bytes, 100k-deep
# nesting, multi-megabyte strings (over maxEventSize), wrong types
# (kind, items, stageTimestamp), duplicate keys (a first `kind` that is
# not an audit kind), 1e400 as a payload.  Valid lines are also altered in
# ways that must not change their alerts: CRLF endings, duplicate keys
# appended after the real ones (the first wins), 1e400 members.
#
#   tests/hostile/malformed_mix.sh [BUILD] [EVENTS] [SEED]
set -u
build=${1:-build}
events=${2:-20000}
seed=${3:-7}
bin=$build/peregrine
dir=$build/hostile/mix
. "$(dirname "$0")/../lib/shared.sh"
need_shared "malformed mix (upstream's k8s_audit rules)"
rules=$DATA/rules/k8s_audit_rules-0.18.0.yaml
mkdir -p "$dir"
${CC:-cc} -O2 -o "$dir/gen_corpus" bench/gen_corpus.c || exit 1
"$dir/gen_corpus" "$events" "$seed" > "$dir/clean.jsonl" 2> /dev/null || exit 1

python3 - "$dir" "$seed" <<'PY'
import json, random, sys
d, seed = sys.argv[1], int(sys.argv[2])
rnd = random.Random(seed)
clean = open(f"{d}/clean.jsonl", "rb").read().split(b"\n")
clean = [l for l in clean if l]
def truncated():
    l = rnd.choice(clean)
    return l[:rnd.randrange(1, len(l) - 1)]
def with_nul():
    l = bytearray(rnd.choice(clean))
    l[rnd.randrange(1, len(l) - 1)] = 0
    return bytes(l)
big = lambda: (b'{"kind":"Event","auditID":"big","stageTimestamp":"2024-01-01T00:00:00Z","requestObject":'
               b'{"data":"' + b"A" * (3 << 20) + b'"}}')
weighted = [  # (class, weight); the big ones only a few times
    ("truncated", truncated, 30), ("non-json", lambda: rnd.choice([
        b"E1123 10:00:00.000000 1 audit.go:42] error writing audit event", b"<html>502</html>",
        b"Event", b"{'kind': 'Event'}", b"{kind:Event}", b"}{", b"[1,2", b'{"kind":"Event",}']), 20),
    ("empty", lambda: b"", 10), ("whitespace", lambda: rnd.choice([b" ", b"\t", b"  \t  ", b"\r"]), 10),
    ("nul", with_nul, 10), ("nul-only", lambda: b"\x00" * rnd.randrange(1, 50), 5),
    ("wrong-types", lambda: rnd.choice([b'{"kind":5}', b'{"kind":"EventList","items":"x"}',
        b'{"kind":"EventList","items":{}}', b'{"kind":["Event"],"stageTimestamp":"2024-01-01T00:00:00Z"}',
        b'{"kind":"Event","auditID":"w","stageTimestamp":1704067200}',
        b'{"kind":"Event","auditID":"w","stageTimestamp":null}']), 15),
    ("dup-kind", lambda: b'{"kind":"Nope","kind":"Event","auditID":"d","verb":"create",'
                         b'"stageTimestamp":"2024-01-01T00:00:00Z"}', 5),
    ("1e400", lambda: rnd.choice([b"1e400", b"-1E+400", b"[1e400]"]), 5),
]
rare = [("nesting-100k", lambda: rnd.choice([b"[" * 100000 + b"]" * 100000,
                                             b'{"a":' * 100000 + b"1" + b"}" * 100000])),
        ("string-3mb", big)]
n_bad = round(len(clean) * 0.05 / 0.95)
bad = [f() for name, f in rare for _ in range(3)]
names, fns, weights = zip(*[(n, f, w) for n, f, w in weighted])
while len(bad) < n_bad:
    bad.append(rnd.choices(fns, weights)[0]())
dups = [("kind", b'"Nope"'), ("verb", b'"deletecollection"'), ("user", b'{"username":"system:anonymous"}'),
        ("objectRef", b'{"resource":"secrets","namespace":"kube-system"}'), ("stageTimestamp", b'"x"'),
        ("requestObject", b'{"spec":{"hostNetwork":true}}'), ("responseStatus", b'{"code":403}')]
def alter(l):
    r = rnd.random()
    if r < 0.05:
        return l + b"\r"
    if r < 0.10:  # duplicates of keys the event has, after them: the first wins
        have = json.loads(l)
        extra = b"".join(b',"%s":%s' % (k.encode(), v) for k, v in dups if k in have)
        return l[:-1] + extra + b"}"
    if r < 0.15:
        return l[:-1] + b',"x1e400":1e400,"y":[-1E-400,1e400]}'
    return l
lines = [alter(l) for l in clean]
for b in bad:
    lines.insert(rnd.randrange(0, len(lines) + 1), b)
open(f"{d}/mixed.jsonl", "wb").write(b"\n".join(lines) + b"\n")
print(f"mix: {len(clean)} valid lines + {len(bad)} malformed ({100 * len(bad) / len(lines):.1f} %)")
PY
[ $? -eq 0 ] || exit 1

TZ=UTC "$bin" -r "$rules" -e "$dir/clean.jsonl" > "$dir/clean.out" 2> "$dir/clean.err" || { echo "clean run failed"; exit 1; }
TZ=UTC "$bin" -r "$rules" -e "$dir/mixed.jsonl" > "$dir/mixed.out" 2> "$dir/mixed.err"
code=$?
sed '/^Elapsed time: /,$d' "$dir/clean.out" > "$dir/clean.alerts"
sed '/^Elapsed time: /,$d' "$dir/mixed.out" > "$dir/mixed.alerts"
why=""
[ $code -eq 0 ] || why="exit status $code"
n=$(wc -l < "$dir/clean.alerts")
[ "$n" -gt 1000 ] || why="${why:+$why; }only $n alerts on the clean file"
diff -q "$dir/clean.alerts" "$dir/mixed.alerts" > /dev/null || why="${why:+$why; }alerts differ (diff $dir/clean.alerts $dir/mixed.alerts)"
grep "^Events detected:" "$dir/clean.out" > "$dir/clean.det"
grep -q "^Input: .* 0 malformed" "$dir/mixed.out" && why="${why:+$why; }no malformed line counted"
# every rejected payload is reported on stderr with file:line
errs=$(grep -c "$dir/mixed.jsonl:[0-9]" "$dir/mixed.err")
summary=$(grep '^Input: ' "$dir/mixed.out")
if [ -z "$why" ]; then
    echo "  ok   $n alerts, identical with and without the malformed lines; $errs error lines; $summary"
    exit 0
fi
echo "  FAIL $why"
exit 1
