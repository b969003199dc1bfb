# Sourced by the test scripts that need the external conformance kit
# (../shared next to the repository, or PEREGRINE_SHARED=DIR):
#
#   . "$(dirname "$0")/../lib/shared.sh"
#   need_shared "webhook end to end"      # sets SHARED and DATA, or skips
#
# In a clone without the kit the script says "skipped: NAME: ..." and exits
# 0; with PEREGRINE_REQUIRE_SHARED=1 (CI) a missing kit fails instead.
need_shared() {
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    SHARED=${PEREGRINE_SHARED:-$root/../shared}
    if [ -d "$SHARED/conformance/data" ]; then
        SHARED=$(cd "$SHARED" && pwd)
        DATA=$SHARED/conformance/data
        return 0
    fi
    if [ "${PEREGRINE_REQUIRE_SHARED:-0}" = 1 ]; then
        echo "$1: no conformance kit at $SHARED (PEREGRINE_REQUIRE_SHARED=1)" >&2
        exit 1
    fi
    echo "skipped: $1: no conformance kit at $SHARED (a clone without it; PEREGRINE_SHARED=DIR)"
    exit 0
}
