#!/bin/sh
# Run a command that needs the external conformance kit (../shared, or
# PEREGRINE_SHARED=DIR), or say "skipped: NAME: ..." when it is absent (a
# clone of the repository alone).  With PEREGRINE_REQUIRE_SHARED=1 (CI) a
# missing kit fails instead.
#
#   scripts/with-shared.sh NAME COMMAND [ARGS...]
name=$1
shift
shared=${PEREGRINE_SHARED:-../shared}
if [ -d "$shared/conformance/data" ]; then
    exec "$@"
fi
if [ "${PEREGRINE_REQUIRE_SHARED:-0}" = 1 ]; then
    echo "$name: no conformance kit at $shared (PEREGRINE_REQUIRE_SHARED=1)" >&2
    exit 1
fi
echo "skipped: $name: no conformance kit at $shared (a clone without it; PEREGRINE_SHARED=DIR)"
