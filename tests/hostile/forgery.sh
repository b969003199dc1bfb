#!/usr/bin/env bash
# Alert forgery through control characters: a User-Agent (and a URI
# parameter) carrying "\n<time>: Critical ...", CR, ESC, NEL and U+2028 must
# stay inside one alert line in every text channel — stdout, file, program,
# syslog (to a local unix socket) and http (text/plain).  Each sink must
# hold exactly one line per alert, each line a whole alert, with no raw
# control byte; JSON alerts keep the value exactly (the JSON writer
# escapes it).  Backslashes are not escaped (upstream's text).
#
#   tests/hostile/forgery.sh [BUILD]      (uses BUILD/peregrine)
set -u
. "$(dirname "$0")/../lib/serve.sh"
. "$(dirname "$0")/../lib/hostile.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
hostile_workdir forgery "${1:-build}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }     # FILE N: FILE has N lines

cat > rules.yaml <<'YAML'
- rule: any request
  desc: fires on each event
  condition: ka.auditid exists
  output: id=%ka.auditid ua=%ka.useragent q=%ka.uri.param[q] images=%ka.req.pod.containers.image
  priority: NOTICE
  source: k8s_audit
YAML
# JSON escapes: \n \r ESC, NEL (U+0085), LINE SEPARATOR (U+2028), DEL
forged='x\n12:00:00.000000000: Critical forged alert id=evil\r\u001b[2K\u0085y\u2028z\u007f\t'
cat > events.jsonl <<EOF
{"kind":"Event","auditID":"a1","verb":"get","userAgent":"$forged","requestURI":"/api?q=%0A12:00:00.000000000:%20Critical%20in%20uri%0D%1B","objectRef":{"resource":"pods"},"requestObject":{"spec":{"containers":[{"image":"nginx\\n12:00:00.000000000: Critical in a list"}]}},"stageTimestamp":"2024-01-01T00:00:01Z"}
{"kind":"Event","auditID":"a2","verb":"get","userAgent":"plain","requestURI":"/api?q=ok","stageTimestamp":"2024-01-01T00:00:02Z"}
EOF

python3 "$root/tests/outputs/receiver.py" "$dir/http.out" &
pids+=($!)
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(1 << 16) + b"\n")
' "$dir/log.sock" "$dir/syslog.out" &
pids+=($!)
receivers_ready() { [ -s http.out.port ] && [ -e log.sock.ready ]; }
wait_until 10 receivers_ready

cat > cfg.yaml <<EOF
stdout_output:
  enabled: true
priority: debug
file_output:
  enabled: true
  keep_alive: true
  filename: $dir/file.out
program_output:
  enabled: true
  keep_alive: true
  program: cat >> $dir/prog.out
syslog_output:
  enabled: true
  socket: $dir/log.sock
http_output:
  enabled: true
  url: http://127.0.0.1:$(cat http.out.port)/
EOF
TZ=UTC "$bin" -c cfg.yaml -r rules.yaml -e events.jsonl > run.out 2> run.err
code=$?
[ "$code" -eq 0 ] && ok "exit status 0" || bad "exit status" "$code: $(head -c 400 run.err)"
sed '/^Elapsed time: /,$d' run.out > stdout.out   # the alerts, without the statistics
wait_until 10 has_lines syslog.out 2
for sink in stdout file prog syslog http; do
    verdict=$(python3 - "$sink.out" "$sink" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
lines = data.split(b"\n")[:-1]
alert = re.compile(rb"^(<\d+>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \S+: )?00:00:0[12]\.000000000: Notice id=a[12] ")
bad = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")
if len(lines) != 2:
    print("%d lines, want 2: %r" % (len(lines), data[:400]))
elif not all(alert.match(l) for l in lines):
    print("a line is not a whole alert: %r" % lines)
elif any(bad.search(l) for l in lines):
    print("raw control byte in %r" % lines)
elif b"ua=x\\n12:00:00.000000000: Critical forged alert id=evil\\r\\x1b[2K\\u0085y\\u2028z\\x7f\\t q=\\n12:00:00" not in lines[0] \
        or b"images=(nginx\\n12:00:00.000000000: Critical in a list)" not in lines[0]:
    print("escaped value not as expected: %r" % lines[0])
else:
    print("ok")
EOF
)
    [ "$verdict" = ok ] && ok "$sink: one line per alert, control characters escaped" || bad "$sink" "$verdict"
done

# JSON alerts: the value is kept exactly (JSON escapes it)
TZ=UTC "$bin" -r rules.yaml -o json_output=true -e events.jsonl > json.out 2> json.err
verdict=$(python3 - json.out <<'EOF'
import json, sys
al = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
want = "x\n12:00:00.000000000: Critical forged alert id=evil\r\x1b[2K\x85y\u2028z\x7f\t"
if len(al) != 2 or al[0]["output_fields"]["ka.useragent"] != want or ("ua=" + want + " q=") not in al[0]["output"]:
    print("JSON alerts differ: %r" % al[:1])
else:
    print("ok")
EOF
)
[ "$verdict" = ok ] && ok "json: values kept exactly" || bad "json" "$verdict"
tally forgery
