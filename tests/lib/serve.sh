# Sourced by the shell tests that run Peregrine as a server and talk to it
# over HTTP: start it with its output captured, wait for conditions (never
# for a fixed time), post, stop and reap.
#
#   . "$(dirname "$0")/../lib/serve.sh"
#   trap serve_cleanup EXIT            # or call serve_cleanup from the script's own trap
#   serve [--admin] [--ready PATTERN] PREFIX CMD ARGS...
#                                      # CMD in the background, stdout in PREFIX.out and
#                                      # stderr in PREFIX.err; waits (SERVE_START_SECONDS,
#                                      # default 60) until it says where its webhook listens
#                                      # (--admin: and its admin server; --ready: until its
#                                      # stderr has a line matching PATTERN instead).  Sets
#                                      # PID, PORT and ADMIN.  Returns 0 when up; 1 if it
#                                      # exited first (PID empty, SERVE_EXIT its status); 2 if
#                                      # never up (still running).  serve_why says what happened.
#   wait_until SECONDS CMD ARGS...     # runs CMD every 50 ms until it succeeds: 1 after SECONDS
#   http_code [curl args...]           # one request's status code (000: none); the body goes
#                                      # to $HTTP_BODY (default /dev/null)
#   post_json FILE URL [curl args...]  # POST FILE as application/json: the status code
#   peak_rss_kb [PID]                  # VmHWM of PID (default $PID) in KB
#   free_port                          # a loopback TCP port free right now
#   process_gone PID                   # PID has exited (a zombie not yet reaped counts)
#   serve_stop [PID]                   # SIGTERM, then its exit status (the reaped child's)
#   serve_kill [PID]                   # SIGKILL and reap
#
# Every process serve starts is remembered; serve_cleanup stops those still
# running (SIGTERM, SIGKILL after 10 s) and reaps them.

SERVE_PIDS=()
PID= PORT= ADMIN= SERVE_EXIT= SERVE_ERR=

# wait_until SECONDS CMD ARGS...: 0 as soon as CMD succeeds, 1 once SECONDS
# have passed without it (CMD runs at least once)
wait_until() {
    local end=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
    shift
    until "$@"; do
        [ "${EPOCHREALTIME//[!0-9]/}" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# process_gone PID: the process has exited (a zombie not yet reaped counts)
process_gone() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2> /dev/null) || return 0
    [ "${st%% *}" = Z ]
}

# _serve_listening: the webhook's (and with want_admin the admin server's)
# "listening on" lines are in SERVE_ERR; sets PORT and ADMIN
_serve_listening() {
    if [ -n "$_serve_ready" ]; then
        grep -qs -- "$_serve_ready" "$SERVE_ERR"
        return
    fi
    PORT=$(sed -n 's/.*webhook: listening on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' "$SERVE_ERR" | head -1)
    ADMIN=$(sed -n 's/.*admin: listening on https\{0,1\}:\/\/[^:]*:\([0-9]*\).*/\1/p' "$SERVE_ERR" | head -1)
    [ -n "$PORT" ] && { [ -n "$ADMIN" ] || [ "$_serve_want_admin" = 0 ]; }
}
_serve_up_or_gone() { _serve_listening || process_gone "$PID"; }

serve() {
    _serve_want_admin=0 _serve_ready=
    while :; do
        case $1 in
        --admin) _serve_want_admin=1 ;;
        --ready) _serve_ready=$2 && shift ;;
        *) break ;;
        esac
        shift
    done
    local prefix=$1
    shift
    SERVE_ERR=$prefix.err SERVE_EXIT= PORT= ADMIN=
    "$@" > "$prefix.out" 2> "$SERVE_ERR" &
    PID=$!
    SERVE_PIDS+=("$PID")
    wait_until "${SERVE_START_SECONDS:-60}" _serve_up_or_gone
    _serve_listening && return 0
    if process_gone "$PID"; then
        wait "$PID"
        SERVE_EXIT=$?
        PID=
        return 1
    fi
    return 2
}

# serve_why: why the last serve did not return 0, with the start of its stderr
serve_why() {
    if [ -n "$SERVE_EXIT" ]; then
        echo "exited with status $SERVE_EXIT: $(head -c 600 "$SERVE_ERR")"
    else
        echo "not up after ${SERVE_START_SECONDS:-60} s: $(head -c 600 "$SERVE_ERR")"
    fi
}

serve_stop() {
    local p=${1:-$PID} rc
    kill -TERM "$p" 2> /dev/null
    wait "$p"
    rc=$?
    [ "$p" = "$PID" ] && PID=
    return $rc
}

serve_kill() {
    local p=${1:-$PID}
    kill -KILL "$p" 2> /dev/null
    wait "$p" 2> /dev/null
    [ "$p" = "$PID" ] && PID=
    return 0
}

serve_cleanup() {
    local p
    for p in "${SERVE_PIDS[@]}"; do
        process_gone "$p" && continue
        kill -TERM "$p" 2> /dev/null
        wait_until 10 process_gone "$p" || kill -KILL "$p" 2> /dev/null
    done
    for p in "${SERVE_PIDS[@]}"; do wait "$p" 2> /dev/null; done
    return 0
}

http_code() { curl -s -o "${HTTP_BODY:-/dev/null}" -w '%{http_code}' "$@"; }

post_json() {
    local f=$1 u=$2
    shift 2
    http_code -H 'Content-Type: application/json' "$@" --data-binary @"$f" "$u"
}

peak_rss_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/${1:-$PID}/status"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
