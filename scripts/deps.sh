#!/bin/sh
# Install what the build and the tests need on Debian 12, only when missing
# (idempotent; needs root for apt-get).  pkg-config decides what is present.
#   --build   only what `make` needs (the Docker build stage uses this)
#   --bench   also what the benchmarks need
set -e
need=""
pkg-config --exists yaml-0.1 2>/dev/null || need="$need libyaml-dev"
pkg-config --exists libpcre2-8 2>/dev/null || need="$need libpcre2-dev"
pkg-config --exists zlib 2>/dev/null || need="$need zlib1g-dev"             # gzip bodies and files
pkg-config --exists hiredis 2>/dev/null || need="$need libhiredis-dev"      # correlations.store: redis://
pkg-config --exists libhs 2>/dev/null || need="$need libvectorscan-dev"     # the rules' prefilter (multi-pattern)
pkg-config --exists libmicrohttpd 2>/dev/null || need="$need libmicrohttpd-dev"
pkg-config --exists gnutls 2>/dev/null || need="$need libgnutls28-dev"
pkg-config --exists libcurl 2>/dev/null || need="$need libcurl4-openssl-dev"   # http_output
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
command -v pkg-config >/dev/null 2>&1 || need="pkg-config $need"
if [ "${1:-}" != "--build" ]; then
    pkg-config --exists libcjson 2>/dev/null || need="$need libcjson-dev"   # tests only
    command -v clang >/dev/null 2>&1 || need="$need clang"
    command -v python3 >/dev/null 2>&1 || need="$need python3"               # conformance runner
    command -v curl >/dev/null 2>&1 || need="$need curl"                     # webhook tests
    command -v openssl >/dev/null 2>&1 || need="$need openssl"               # webhook TLS tests
    command -v redis-server >/dev/null 2>&1 || need="$need redis-server"     # tests/redis, the Redis store's unit test
    # tests/cloud: a real log shipper (syslog-ng's http() destination)
    ls /usr/lib/syslog-ng/*/libhttp.so >/dev/null 2>&1 || need="$need syslog-ng-core syslog-ng-mod-http"
    # tests/deploy: Debian's python3 with PyYAML parses the manifests
    /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need="$need python3-yaml"
    # fuzzing (libFuzzer and the sanitizer runtimes), valgrind, peak-RSS checks
    [ -e "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || need="$need libclang-rt-14-dev"
    command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
    [ -x /usr/bin/time ] || need="$need time"
fi
if [ "${1:-}" = "--bench" ]; then
    pkg-config --exists simdjson 2>/dev/null || need="$need libsimdjson-dev g++"
    command -v valgrind >/dev/null 2>&1 || need="$need valgrind"          # make -C bench callgrind
fi
if [ -n "$need" ]; then
    echo "deps: installing$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $need >/dev/null
fi
