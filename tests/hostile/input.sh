#!/usr/bin/env bash
# Malformed input, one class per file, generated on the fly into
# BUILD/hostile/input (never committed).  Every file holds a valid event,
# the bad line(s), and another valid event.  For each class: the run exits
# 0, both valid events alert, stderr has one error line naming the file
# and line of the bad payload, and the run summary counts it.  Then the
# big one: valid events around invalid UTF-8, 100k-deep nesting and a
# 200 MB line — exit 0, every valid event alerts, peak RSS <= 64 MB.
# (The text-sized classes — truncated lines, whitespace-only lines, CRLF,
# duplicate keys, 1e400, wrong types — are also tests/cases/input_*.case.)
#
#   tests/hostile/input.sh [BUILD]      (uses BUILD/peregrine)
set -u
build=${1:-build}
bin=$build/peregrine
dir=$build/hostile/input
rm -rf "$dir" && mkdir -p "$dir"
RSS_LIMIT_KB=${RSS_LIMIT_KB:-65536}
BIG_MB=${BIG_MB:-200}

cat > "$dir/rules.yaml" <<'YAML'
- rule: every event
  desc: fires on each event so every valid one shows up
  condition: ka.auditid exists
  output: id=%ka.auditid verb=%ka.verb user=%ka.user.name
  priority: NOTICE
  source: k8s_audit
YAML

ev() { printf '{"kind":"Event","auditID":"%s","verb":"get","user":{"username":"u"},"stageTimestamp":"2024-01-01T00:00:0%sZ"}' "$1" "$2"; }

pass=0 fail=0
# run NAME WANT_STDERR WANT_STATS  (file $dir/NAME.jsonl already written)
run() {
    local name=$1 want_err=$2 want_stats=$3 f="$dir/$1.jsonl" why=""
    TZ=UTC FALCO_HOSTNAME=test "$bin" -r "$dir/rules.yaml" -e "$f" > "$dir/$name.out" 2> "$dir/$name.err"
    local code=$?
    [ "$code" -eq 0 ] || why="exit status $code"
    local alerts
    alerts=$(grep -c '^00:00:0.\.000000000: Notice id=' "$dir/$name.out")
    [ "$alerts" -eq 2 ] || why="${why:+$why; }$alerts alerts, want 2"
    grep -q "id=first verb=get" "$dir/$name.out" && grep -q "id=last verb=get" "$dir/$name.out" ||
        why="${why:+$why; }a valid event did not alert"
    grep -qF -- "$want_err" "$dir/$name.err" || why="${why:+$why; }stderr lacks: $want_err"
    grep -qF -- "$f:2" "$dir/$name.err" || why="${why:+$why; }stderr does not name $f:2"
    [ "$(grep -c -- "$f:" "$dir/$name.err")" -eq 1 ] || why="${why:+$why; }want exactly one error line"
    grep -qF -- "$want_stats" "$dir/$name.out" || why="${why:+$why; }summary lacks: $want_stats"
    if [ -z "$why" ]; then
        pass=$((pass + 1)); printf '  ok   %s\n' "$name"
    else
        fail=$((fail + 1)); printf '  FAIL %s: %s\n' "$name" "$why"; head -c 600 "$dir/$name.err"
    fi
}
# mk NAME: first event, stdin as line 2 (written verbatim), last event
mk() { { ev first 1; printf '\n'; cat; printf '\n'; ev last 2; printf '\n'; } > "$dir/$1.jsonl"; }

printf '{"kind":"Event","auditID":"x","verb":"get","stageTi' | mk truncated
run truncated "cannot parse JSON: unterminated string" "1 malformed"
printf 'Oct 10 12:00:00 host kube-apiserver: not json at all' | mk non_json
run non_json "cannot parse JSON: unexpected character at offset 0" "1 malformed"
printf ' \t ' | mk whitespace
run whitespace "cannot parse JSON: expected a value" "1 malformed"
printf '{"kind":"Event","auditID":"x","verb":"g\xc3\x28t","stageTimestamp":"2024-01-01T00:00:01Z"}' | mk invalid_utf8
run invalid_utf8 "cannot parse JSON: invalid UTF-8" "1 malformed"
printf '{"kind":"Event","auditID":"x","verb":"g\x00t","stageTimestamp":"2024-01-01T00:00:01Z"}' | mk nul_in_string
run nul_in_string "cannot parse JSON: control character in string" "1 malformed"
printf '{"kind":"Event"}\x00\x00' | mk nul_after_value
run nul_after_value "cannot parse JSON: unexpected data after the JSON value" "1 malformed"
python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000)' | mk nesting_100k
run nesting_100k "cannot parse JSON: nesting too deep" "1 malformed"
python3 -c 'import sys; sys.stdout.write("{\"a\":" * 100000 + "1" + "}" * 100000)' | mk nesting_100k_objects
run nesting_100k_objects "cannot parse JSON: nesting too deep" "1 malformed"
# a 4 MB string: valid JSON, but the event is over maxEventSize (256 KiB)
python3 -c 'import sys; sys.stdout.write("{\"kind\":\"Event\",\"auditID\":\"x\",\"stageTimestamp\":\"2024-01-01T00:00:01Z\",\"requestObject\":{\"data\":\"" + "A" * (4 << 20) + "\"}}")' | mk string_4mb
run string_4mb "event larger than maxEventSize: size=4194" "1 events dropped (1 over maxEventSize)"
printf '{"kind":5,"items":"x"}' | mk wrong_type_kind
run wrong_type_kind "data not recognized as a k8s audit event" "1 not audit events"
printf '{"kind":"Event","auditID":"x","stageTimestamp":1704067201}' | mk wrong_type_time
run wrong_type_time "parsing time" "1 events dropped"
# a 16 MB line: over the 12 MiB payload limit (webhookMaxBatchSize)
python3 -c 'import sys; sys.stdout.write("{\"kind\":\"Event\",\"x\":\"" + "B" * (16 << 20) + "\"}")' | mk line_16mb
run line_16mb "exceeds the 12582912-byte payload limit; skipped" "1 lines over the payload limit"

# multi-megabyte strings are fine when the limits allow them
python3 -c 'import sys; sys.stdout.write("{\"kind\":\"Event\",\"auditID\":\"big\",\"verb\":\"" + "V" * (3 << 20) + "\",\"stageTimestamp\":\"2024-01-01T00:00:01Z\"}\n")' > "$dir/string_3mb_allowed.jsonl"
TZ=UTC "$bin" -r "$dir/rules.yaml" -e "$dir/string_3mb_allowed.jsonl" \
    -o 'plugins[0].init_config={"maxEventSize":8388608}' > "$dir/string_3mb_allowed.out" 2>&1
if [ $? -eq 0 ] && [ "$(grep -c "^00:00:01.000000000: Notice id=big verb=VVVV" "$dir/string_3mb_allowed.out")" -eq 1 ] &&
   [ "$(head -1 "$dir/string_3mb_allowed.out" | wc -c)" -gt $((3 << 20)) ]; then
    pass=$((pass + 1)); echo "  ok   string_3mb_allowed (maxEventSize raised: alert carries the 3 MB value)"
else
    fail=$((fail + 1)); echo "  FAIL string_3mb_allowed"; tail -c 600 "$dir/string_3mb_allowed.out"
fi

# The acceptance file: valid events around invalid UTF-8, 100k-deep nesting
# and a BIG_MB line; exit 0, every valid event alerts, peak RSS bounded.
big="$dir/big_mix.jsonl"
{
    ev v1 1; printf '\n'
    printf '{"kind":"Event","auditID":"bad\xff","stageTimestamp":"2024-01-01T00:00:01Z"}\n'
    ev v2 2; printf '\n'
    python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000 + "\n")'
    ev v3 3; printf '\n'
    printf '{"kind":"Event","auditID":"huge","stageTimestamp":"2024-01-01T00:00:04Z","x":"'
    head -c $((BIG_MB << 20)) /dev/zero | tr '\0' 'Z'
    printf '"}\n'
    ev v4 4; printf '\n'
    printf '\xc0\xaf\xed\xa0\x80 not utf-8\n'
    ev v5 5; printf '\n'
} > "$big"
/usr/bin/time -v -o "$dir/big_mix.time" env TZ=UTC "$bin" -r "$dir/rules.yaml" -e "$big" > "$dir/big_mix.out" 2> "$dir/big_mix.err"
code=$?
rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$dir/big_mix.time")
secs=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/big_mix.time")
alerts=$(grep -c ': Notice id=v[1-5] ' "$dir/big_mix.out")
why=""
[ "$code" -eq 0 ] || why="exit status $code"
[ "$alerts" -eq 5 ] || why="${why:+$why; }$alerts of 5 valid events alerted"
[ "${rss:-999999}" -le "$RSS_LIMIT_KB" ] || why="${why:+$why; }peak RSS ${rss} KB > $RSS_LIMIT_KB KB"
grep -qF "$big:6: line of $(((BIG_MB << 20) + 80)) bytes exceeds" "$dir/big_mix.err" || why="${why:+$why; }no file:line error for the big line"
[ "$(grep -c "$big:" "$dir/big_mix.err")" -eq 4 ] || why="${why:+$why; }want 4 error lines naming $big"
grep -qF "Input: 8 payloads, 3 malformed, 0 not audit events, 0 events dropped (0 over maxEventSize), 1 lines over the payload limit" "$dir/big_mix.out" || why="${why:+$why; }summary counts differ"
if [ -z "$why" ]; then
    pass=$((pass + 1)); echo "  ok   big_mix: ${BIG_MB} MB line + invalid UTF-8 + 100k nesting: 5/5 valid events alerted, exit 0, peak RSS ${rss} KB, ${secs}"
else
    fail=$((fail + 1)); echo "  FAIL big_mix: $why"; cat "$dir/big_mix.err" | cut -c1-200
fi
rm -f "$big" # 200 MB: do not keep it around
echo "hostile input: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
