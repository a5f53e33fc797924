#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Behaviour test of ks-testd on the host's loopback (any free port): every /health mode, the
# one-shot and repeated actions, signals, per-port overrides. Usage: test-ks-testd.sh KS_TESTD
set -euo pipefail
testd=$1
tmp=$(mktemp -d)
pids=()
cleanup() {
        local p
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$tmp/log" ] && sed 's/^/  log: /' "$tmp/log" >&2; exit 1; }

# start [ARGS...]: runs ks-testd on a free port, sets $port and $pid.
start() {
        rm -f "$tmp/port"
        "$testd" --port 0 --port-file "$tmp/port" --control "$tmp/cmd" "$@" 2>>"$tmp/log" &
        pid=$!
        pids+=("$pid")
        for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
        [ -s "$tmp/port" ] || fail "ks-testd did not start"
        port=$(cat "$tmp/port")
}

# get PATH [TIMEOUT]: prints the status line's code, or "timeout"/"closed"/"garbage".
get() {
        local out rc=0
        out=$(timeout "${2:-3}" bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"' || exit 9
                printf "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" "$0" >&3
                cat <&3' "$1" | tr -d '\0' | head -c 200) || rc=$?
        [ "$rc" -eq 124 ] && { echo timeout; return; }
        [ -z "$out" ] && { echo closed; return; }
        case $out in
        "HTTP/1.1 "*) echo "$out" | head -1 | cut -d' ' -f2 ;;
        *) echo garbage ;;
        esac
}
body() {
        timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'
                printf "GET %s HTTP/1.0\r\n\r\n" "$0" >&3; cat <&3' "$1" | sed '1,/^\r$/d'
}
expect() { local got; got=$(get "$1" "${3:-3}"); [ "$got" = "$2" ] || fail "GET $1: expected $2, got $got"; }
setcmd() { printf '%s\n' "$@" >"$tmp/cmd.new"; mv "$tmp/cmd.new" "$tmp/cmd"; }

: >"$tmp/cmd"
start
expect /health 200
expect /ping 200
expect /nosuch 404
setcmd fail;            expect /health 500
setcmd "status 503";    expect /health 503
setcmd garbage;         expect /health garbage
setcmd close;           expect /health closed
setcmd hang;            expect /health timeout 1
setcmd "slow 300 204"
t0=$(date +%s%N); expect /health 204; t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 290 ] || fail "slow answered after $(( (t1 - t0) / 1000000 )) ms"
setcmd ok "body hello there"
[ "$(body /health)" = "hello there" ] || fail "body: $(body /health)"
expect /ping 200        # a hung connection from above does not block others
setcmd "sequence 500 200 503"; expect /health 500; expect /health 200; expect /health 503; expect /health 503
setcmd "sequence 204 500"; expect /health 204; expect /health 500   # a new file starts it over
setcmd fail "port $port ok"; expect /health 200
setcmd "this is not a command"; expect /health 200   # parse errors keep the old behaviour
[ "$(body /count)" -ge 15 ] || fail "count $(body /count)"

# Pipelined keep-alive requests on one connection.
n=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$port"'
        printf "GET /health HTTP/1.1\r\n\r\nGET /ping HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\nConnection: close\r\n\r\n" >&3
        cat <&3' | grep -c '^HTTP/1.1 200')
[ "$n" = 3 ] || fail "keep-alive: $n answers"

# Signals.
setcmd ok
kill -USR1 "$pid"; sleep 0.2; expect /health 500
kill -USR2 "$pid"; sleep 0.2; expect /health 200

# One-shot exit: the process exits with the code and the line is gone from the file.
setcmd ok "exit 7"
rc=0; timeout 5 tail --pid="$pid" -f /dev/null || fail "exit 7 did not exit"
wait "$pid" || rc=$?
[ "$rc" = 7 ] || fail "exit code $rc"
grep -q exit "$tmp/cmd" && fail "one-shot action still in the file"

# Repeated crash: every start dies of SIGSEGV, and the line stays.
setcmd "repeat crash"
for _ in 1 2; do
        rc=0; "$testd" --port 0 --control "$tmp/cmd" 2>>"$tmp/log" || rc=$?
        [ "$rc" = $((128 + 11)) ] || fail "crash: exit status $rc"
done
setcmd abort
rc=0; "$testd" --port 0 --control "$tmp/cmd" 2>>"$tmp/log" || rc=$?
[ "$rc" = $((128 + 6)) ] || fail "abort: exit status $rc"

# Port ranges in one process.
base=$(( 40000 + RANDOM % 20000 ))
if "$testd" --port "$base-$((base + 49))" --control "$tmp/cmd" 2>>"$tmp/log" & pids+=($!); then
        # Listening on the last port of the range, or exited (a port was taken): up to 5 s on
        # a loaded machine, where a fixed pause was once too short.
        port=$((base + 49))
        for _ in $(seq 50); do
                kill -0 "${pids[-1]}" 2>/dev/null || break
                [ "$(get /ping 1)" = 200 ] && break
                sleep 0.1
        done
        if kill -0 "${pids[-1]}" 2>/dev/null; then
                expect /health 200
                kill -TERM "${pids[-1]}"
                wait "${pids[-1]}" || fail "SIGTERM: non-zero exit"
        else
                echo "note: range $base-$((base + 49)) not free, range check skipped"
        fi
fi
# --dump: argv and environment, byte for byte.
FOO='a b' "$testd" --dump "$tmp/dump" "" "-x" $'new\nline' "--port" 2>>"$tmp/log" || fail "--dump failed"
printf '%s\0' "$testd" --dump "$tmp/dump" "" "-x" $'new\nline' "--port" >"$tmp/dump.want"
cmp -s "$tmp/dump" "$tmp/dump.want" || fail "--dump argv differs"
tr '\0' '\n' <"$tmp/dump.env" | grep -qx 'FOO=a b' || fail "--dump environment lacks FOO"

echo "ks-testd: all behaviours as expected"
