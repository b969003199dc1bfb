#!/bin/sh
# Size limits of src/ (README, "Architecture"): no source file over 800
# lines, no function over 120 lines.  A function is counted from the line
# after its opening brace in column 0 to its closing brace in column 0.
# Exempt: src/json/json_parse.c, whose body is the parser's scanners written
# out once per instruction set (portable, AVX2, AVX-512VL) on purpose.
#
#   scripts/check-sizes.sh [SRC_DIR]
SRC=${1:-src}
MAX_FILE=800
MAX_FUNC=120
EXEMPT_FILES="json/json_parse.c"

status=0
for f in $(find "$SRC" -name '*.[ch]' | sort); do
    rel=${f#"$SRC"/}
    case " $EXEMPT_FILES " in *" $rel "*) continue ;; esac
    n=$(wc -l < "$f")
    if [ "$n" -gt $MAX_FILE ]; then
        echo "$f: $n lines (limit $MAX_FILE)"
        status=1
    fi
    awk -v f="$f" -v max=$MAX_FUNC '
        /^[A-Za-z_].*\(/ { sig = $0 }
        /^\{/ && sig != "" { start = NR; name = sig; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]; next }
        /^\}/ && start { len = NR - start - 1; if (len > max) { printf "%s:%d: %s is %d lines (limit %d)\n", f, start, name, len, max; bad = 1 } start = 0; sig = "" }
        END { exit bad }' "$f" || status=1
done
[ $status = 0 ] && echo "sizes: every file within $MAX_FILE lines, every function within $MAX_FUNC"
exit $status
