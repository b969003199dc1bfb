#!/bin/sh
# The layer order of src/ (README, "Architecture"), lowest first.  A file
# in folder X may include headers of X and of folders below it, never of a
# folder above: data flows one way.  Fails listing every upward include.
#
#   scripts/check-layers.sh [SRC_DIR]
LAYERS="util json yaml envelope event fields rules correlate output engine source ops harness app"
SRC=${1:-src}

rank() {
    i=0
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

status=0
for f in $(find "$SRC" -name '*.[ch]' | sort); do
    rel=${f#"$SRC"/}
    dir=${rel%%/*}
    [ "$dir" = "$rel" ] && continue
    own=$(rank "$dir")
    if [ "$own" -lt 0 ]; then
        echo "$f: folder '$dir' is not in the layer order (scripts/check-layers.sh, README)"
        status=1
        continue
    fi
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"/]*\)\/[^"]*".*/\1/p' "$f" | sort -u); do
        r=$(rank "$inc")
        if [ "$r" -gt "$own" ]; then
            echo "$f: includes $inc/ (layer $r) from $dir/ (layer $own): upward"
            status=1
        fi
    done
done
[ $status = 0 ] && echo "layers: no upward include in $SRC"
exit $status
