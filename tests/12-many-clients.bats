#!/usr/bin/env bats
# Lab 12: many clients at once. One server process, poll() over its
# listeners and every client: 50 clients served side by side (and lab
# 05's iterative server beside it, serving one of them), a line protocol
# that survives any split of the bytes, idle clients told BYE, a client
# that never reads dropped at a bound, descriptors running out (EMFILE)
# without a spin, clients that vanish or reset, BUSY past -c, BYE
# shutdown on SIGTERM; ss and strace show the one process and its loop.
#
# The clients: bash's /dev/tcp for the few held open by the test itself,
# the lab's client, and tests/12-many-clients-peer.c (built once for this
# file) for what neither can do: 50 connections in one process, each reply
# timed from its send (a fork and exec per client would cost more than
# the server's work); one-byte writes with TCP_NODELAY; a small receive
# buffer read late; a half line left by a killed client; an RST.
#
# A "[step N]" test fails when step N is missing (the skeleton's
# "Function not implemented"); under `make check` it runs against the
# reference build of the other program (tests/lib.bash, reference_peer).
# Steps 1-6 are the server's, step 7 the client's; extra 1 (-r) the
# server's, extra 2 (-v) the client's. The load (1000 clients in a row,
# 200 at once) is tests/load's; faults (SIGSTOP, EINTR) are faults.bats'.
#
# Two tests wait on the server's own timers: -t 1 (BYE idle) and the
# 1 s rest when descriptors run out; the rest take milliseconds.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup_file() {
    load lib
    peer_lab 05-tcp && export L05=$PEER || return 1
}

setup() {
    load lib
    lab_setup 12-many-clients
}

teardown() {
    exec 5>&- 6>&- 7>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    lab_teardown
}

# ---- helpers --------------------------------------------------------------

# build_peer: PEER, tests/12-many-clients-peer.c built once for this file.
build_peer() {
    PEER=$BATS_FILE_TMPDIR/peer
    [ -x "$PEER" ] ||
        cc -std=c11 -Wall -Wextra -Werror -o "$PEER" "$ROOT/tests/12-many-clients-peer.c" ||
        fail "tests/12-many-clients-peer.c does not build"
}

# serve ARGS...: the lab's server with ARGS on port 0 (start_server);
# PORT, read from its readiness line.
serve() {
    start_server "$@" 0 || fail "the server did not start" || return 1
    [[ $READY =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)( and |$) ]] || fail "the server's readiness line: '$READY'" || return 1
    PORT=${BASH_REMATCH[1]}
}

# server_says REGEX [SECONDS]: wait (at most SECONDS, default WAIT_LIMIT)
# until the server's narration has a line matching REGEX; fails, with its
# last lines, when it does not come (or the server is gone).
server_says() {
    local WAIT_LIMIT=${2:-$WAIT_LIMIT}
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" "$1" 2>/dev/null
    expect_line "$T/server.err" "$1" "the server's narration"
}

# said REGEX: the last line of the server's narration matching REGEX, as
# a note (observed); fails when there is none.
said() {
    last_match "$T/server.err" "$1" || fail "the server said no line matching /$1/; its last lines: $(tail -n 5 "$T/server.err")" || return 1
    note "server: $LINE"
}

# reply FD [SECONDS]: one line read from FD (a /dev/tcp connection) into
# GOT, at most SECONDS (default WAIT_LIMIT); fails when none comes.
reply() {
    GOT=
    IFS= read -r -t "${2:-$WAIT_LIMIT}" -u "$1" GOT || fail "no reply line on fd $1 within ${2:-$WAIT_LIMIT} s (read so far: '$GOT')"
}

# at_end FD: FD reads end of file: the server closed the connection.
at_end() {
    local rest=
    if IFS= read -r -t "$WAIT_LIMIT" -u "$1" rest || [ -n "$rest" ]; then
        fail "expected the server to close fd $1's connection, read '$rest'"
    fi
}

# peer_run ARGS...: the peer with ARGS, to its end (its waits are bounded
# by 10 s, WAIT_LIMIT; killed 2 s later: status 124); STATUS, OUT (its
# stdout), PEER_ERR (its stderr).
peer_run() {
    STATUS=0
    timeout -k 1 "$((WAIT_LIMIT + 2))" "$PEER" "$@" >"$T/peer.out" 2>"$T/peer.err" 3>&- || STATUS=$?
    OUT=$(<"$T/peer.out")
    PEER_ERR=$(<"$T/peer.err")
}

# crowd_figures LINE: the peer's crowd summary, "replies=R max_ms=X.Y
# median_ms=X.Y served_while_first=K of N", into REPLIES, MAX_MS (whole
# ms; MAX with its tenth), MEDIAN, SERVED.
crowd_figures() {
    [[ $1 =~ ^replies=([0-9]+)\ max_ms=([0-9]+)\.[0-9]\ median_ms=([0-9.]+)\ served_while_first=([0-9]+)\ of\ [0-9]+$ ]] ||
        fail "the peer's summary: expected 'replies=R max_ms=.. median_ms=.. served_while_first=K of N', saw '$1' (stderr: $PEER_ERR)" || return 1
    REPLIES=${BASH_REMATCH[1]} MAX_MS=${BASH_REMATCH[2]} MEDIAN=${BASH_REMATCH[3]} SERVED=${BASH_REMATCH[4]}
    MAX=${1#*max_ms=}
    MAX=${MAX%% *}   # with its tenth, for the notes
}

# ms_since START: whole milliseconds from START (an $EPOCHREALTIME) to now.
ms_since() {
    local now=$EPOCHREALTIME
    MS=$(((${now/./} - ${1/./}) / 1000))
}

# line_no REGEX: the number of the first line of the server's narration
# matching the extended REGEX, in N (0: none).
line_no() {
    local all i
    N=0
    mapfile -t all <"$T/server.err"
    for ((i = 0; i < ${#all[@]}; i++)); do
        [[ ${all[i]} =~ $1 ]] && { N=$((i + 1)); return 0; }
    done
}

# ---- the steps ------------------------------------------------------------

@test "[step 1] two clients at once: poll() watches the listener and both, each answered while the other stays connected" {
    # The replies are compared in upper case here and in steps 2 and 3:
    # what a line comes back as is step 4's.
    serve
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT"
    echo "first client" >&5
    reply 5 3
    is "the first client's reply" "${GOT^^}" "FIRST CLIENT"
    echo "second client" >&6
    reply 6 3
    is "the second client's reply" "${GOT^^}" "SECOND CLIENT"
    echo "first again" >&5
    reply 5 3
    is "the first client's second reply" "${GOT^^}" "FIRST AGAIN"
    # the poll set: self-pipe, two listener slots, one entry a client
    said '^\[server\] poll\(5 fds, -?[0-9]+ ms\) = 1 \(2 of 64 clients\)$'
}

@test "[step 2] poll() sleeps until the first client's deadline: -1 ms with none, just under 1000 ms with a client and -t 1, and returns 0 then" {
    serve -t 1
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = fd [0-9]+ from 127\.0\.0\.1:[0-9]+ \(1 of 64 clients\)$' 3
    echo "wake up" >&5   # poll() returns, and narrates the timeout it had
    reply 5 3
    is "the reply" "${GOT^^}" "WAKE UP"
    said '^\[server\] poll\(3 fds, -1 ms\)'
    last_match "$T/server.err" '^\[server\] poll\(4 fds, (-?[0-9]+) ms\) = 1' || fail "no poll() over 4 fds narrated: $(tail -n 5 "$T/server.err")"
    note "server: $LINE"
    ((MATCH >= 500 && MATCH <= 1000)) || fail "with -t 1 and a client just answered, poll()'s timeout should be the client's deadline, a little under 1000 ms, saw $MATCH ms"
    # and that deadline wakes poll(): it returns 0 (nothing ready)
    server_says '^\[server\] poll\(4 fds, [0-9]+ ms\) = 0 \(1 of 64 clients\)$' 3
    said '^\[server\] poll\(4 fds, [0-9]+ ms\) = 0 '
}

@test "[step 3] out of descriptors (prlimit --nofile=8): EMFILE narrated, the server rests, not spins; its clients are served; it accepts again when one leaves" {
    # -t 0: no idle deadline (steps 2 and 6 play no part)
    spawn server prlimit --nofile=8 "$LAB/server" -t 0 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    read -r READY <"$T/server.out" || fail "the server did not start: $(cat "$T/server.err")"
    PORT=${READY##*:}
    before=$(fd_count "$SERVER_PID")
    fds=(/proc/"$SERVER_PID"/fd/*)
    note "server descriptors at the start: $before (${fds[*]##*/}), $(grep "open files" "/proc/$SERVER_PID/limits" | tr -s " ")"
    # fds 6 and 7 are the last two under the limit of 8: the third waits
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = fd 7 from .*\(2 of 64 clients\)$' 3
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = -1: Too many open files: the listeners wait until a client leaves$' 3
    cpu_ticks "$SERVER_PID"
    t0=$EPOCHREALTIME ticks0=$TICKS
    said 'Too many open files'
    echo "still served" >&5
    reply 5 3
    is "a connected client's reply while out of descriptors" "${GOT^^}" "STILL SERVED"
    # the interval measured: until the server's own retry, a second later
    # (main's, tested below), or 3 s
    WAIT_LIMIT=3 wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] 1 s passed: the listeners are polled again$' || true
    cpu_ticks "$SERVER_PID"
    ms_since "$t0"
    hz=$(getconf CLK_TCK)
    cpu_ms=$(((TICKS - ticks0) * 1000 / hz))
    note "server CPU time while out of descriptors: $cpu_ms ms (utime+stime, /proc/PID/stat) in $MS ms"
    ((cpu_ms * 100 <= MS * 5 || TICKS - ticks0 <= 1)) ||
        fail "the server used $cpu_ms ms of CPU in $MS ms out of descriptors (more than 5%): it spins on accept()"
    alive "$SERVER_PID" || fail "the server is gone: $(tail -n 3 "$T/server.err")"
    # a client leaves: a descriptor is free, the waiting one is accepted
    exec 5>&-
    t0=$EPOCHREALTIME
    server_says '^\[server\] a client left: the listeners are polled again$' 3
    said 'a client left'
    echo "accepted at last" >&7
    reply 7 3
    ms_since "$t0"
    note "the waiting client answered $MS ms after a client left"
    ((MS < 500)) || fail "the waiting client was answered $MS ms after a client left: the listeners should be polled again at once, not after the 1 s rest"
    is "the waiting client's reply, once a client left" "${GOT^^}" "ACCEPTED AT LAST"
    exec 6>&- 7>&-
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0 \(0 of 64 clients\)$' 2>/dev/null
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before at the start, $after once its clients left"
    is "the server's descriptors once its clients left (at the start: $before)" "$after" "$before"
}

@test "out of descriptors and no client leaves: the listeners are tried again after 1 s (a descriptor freed elsewhere would do), and rest again" {
    spawn server prlimit --nofile=8 "$LAB/server" -t 0 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    read -r READY <"$T/server.out" || fail "the server did not start: $(cat "$T/server.err")"
    PORT=${READY##*:}
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = fd 7 from .*\(2 of 64 clients\)$' 3
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = -1: Too many open files' 3
    t0=$EPOCHREALTIME
    server_says '^\[server\] 1 s passed: the listeners are polled again$' 3
    ms_since "$t0"
    said '1 s passed'
    note "the listeners polled again $MS ms after accept() failed"
    ((MS >= 900)) || fail "the listeners were polled again $MS ms after EMFILE: sooner than the 1 s rest"
    # still no descriptor: accept() fails again, and they rest again
    WAIT_LIMIT=3 wait_until matches_at_least '^\[server\] accept\(\) = -1: Too many open files' "$T/server.err" 2 2>/dev/null
    is "EMFILE narrated, before and after the retry" "$(count '^\[server\] accept\(\) = -1: Too many open files' "$T/server.err")" 2
}

@test "[step 4] a line sent a byte at a time, 100 lines in one write, a 4096-byte line: each answered right; at a line's 4097th byte: ERR line too long, then closed" {
    build_peer
    serve
    peer_run bytes 127.0.0.1 "$PORT" $'one byte a write\n'
    is "the peer's exit status (stderr: $PEER_ERR)" "$STATUS" 0
    is "the reply to a line sent a byte a write" "$OUT" "ONE BYTE A WRITE"
    reads=$(count '^\[server\] read\(fd 6\) = [0-9]+ bytes$' "$T/server.err")
    note "the server read the 17 bytes in $reads reads ($(count '^\[server\] read\(fd 6\) = 1 bytes$' "$T/server.err") of one byte) and wrote one reply"
    ((reads >= 2)) || fail "expected the line to reach the server in more than one read, saw $reads"
    said '^\[server\] write\(fd 6\) = 17 bytes$'   # one reply, once the newline came
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    printf -v many 'line %d\n' {1..100}
    printf %s "$many" >&5   # one write
    IFS= read -r -d '' -N "${#many}" -t 3 -u 5 got || fail "100 replies: read ${#got} of ${#many} bytes"
    is "the replies to 100 lines in one write" "$got" "${many^^}"
    said "^\\[server\\] read\\(fd 6\\) = ${#many} bytes\$"
    printf -v long '%4096s' ''
    long=${long// /x}
    # Both in one write (cat: bash would write 4096 bytes, then the rest,
    # which Nagle holds until the server's delayed ACK, 40 ms). The long
    # line's 4097th byte is its last: the server knows then, and reads
    # all there is (a byte left unread would make its close() an RST,
    # which may overtake the ERR line).
    printf '%s\n%sy' "$long" "$long" >"$T/long"
    cat "$T/long" >&5
    IFS= read -r -N 4097 -t 3 -u 5 got || fail "the 4096-byte line's reply: read ${#got} of 4097 bytes"
    is "the reply to a 4096-byte line" "$got" "${long^^}"$'\n'
    reply 5 3
    is "the reply to a 4097-byte line" "$GOT" "ERR line too long"
    at_end 5
    said 'ERR line too long$'
}

@test "[step 5] a client that reads late: lines sent until the server narrates a partial write, then every reply read: every byte comes back, in order" {
    build_peer
    serve
    # The peer stops sending once a write() took only part of the queue:
    # the rest must go, from where it stopped, when poll() says POLLOUT.
    peer_run late 127.0.0.1 "$PORT" 4000 "$T/server.err"
    is "the peer's exit status (stderr: $PEER_ERR)" "$STATUS" 0
    [[ $OUT =~ ^replies=([0-9]+)\ bytes=([0-9]+)$ ]] || fail "the peer's summary: '$OUT'"
    note "peer: $OUT (lines of 4000 bytes, until a partial write)"
    note "server: $(count '^\[server\] write\(fd 6\) = ' "$T/server.err") writes to the client, $(count 'partial' "$T/server.err") partial"
    said '^\[server\] write\(fd 6\) = [0-9]+ bytes \(partial: [0-9]+ asked\)'
    said '^\[server\] close\(fd 6\) = 0'
}

@test "[step 6] a silent client delays nobody: 5 clients served meanwhile; after -t 1 it is told BYE idle, not before, and closed; so is a second, on its own clock" {
    build_peer
    serve -t 1
    t0=$EPOCHREALTIME
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = fd 6 from ' 3
    peer_run crowd 127.0.0.1 "$PORT" 5 10 5
    is "the crowd's exit status (stderr: $PEER_ERR)" "$STATUS" 0
    crowd_figures "$OUT"
    ms_since "$t0"
    note "5 clients x 10 lines while the silent one waits: $REPLIES replies, the slowest in $MAX ms; $MS ms since the silent one connected"
    is "replies to the 5 others" "$REPLIES" 50
    ((MAX_MS < 500)) || fail "with a silent client connected, the others' slowest reply took $MAX_MS ms (bound: 500)"
    # a second silent client, later: its own deadline, not the first one's
    t1=$EPOCHREALTIME
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    # its descriptor: the 7th accept()'s (the silent one, the 5, then it)
    WAIT_LIMIT=3 wait_until matches_at_least '^\[server\] accept\(\) = fd [0-9]+ from ' "$T/server.err" 7 2>/dev/null
    last_match "$T/server.err" '^\[server\] accept\(\) = fd ([0-9]+) from ' ||
        fail "the second silent client's accept() is not narrated: $(tail -n 3 "$T/server.err")"
    fd2=${BASH_REMATCH[1]}
    note "the second silent client: $LINE"
    reply 5 3
    ms_since "$t0"
    note "the silent client, $MS ms after it connected: '$GOT'"
    is "the silent client's line" "$GOT" "BYE idle"
    # (>= 990: the server counts whole milliseconds, this test microseconds)
    ((MS >= 990)) || fail "BYE idle came $MS ms after the connection: before -t 1"
    ((MS < 3000)) || fail "BYE idle came $MS ms after the connection: long after -t 1"
    at_end 5
    said '^\[server\] fd 6: no byte for 1 s$'
    reply 6 3
    ms_since "$t1"
    note "the second silent client, $MS ms after it connected: '$GOT'"
    is "the second silent client's line" "$GOT" "BYE idle"
    ((MS >= 990)) || fail "the second silent client's BYE idle came $MS ms after its connection: before -t 1"
    at_end 6
    said "^\\[server\\] fd $fd2: BYE idle\$"
}

@test "[step 7] client -i 0.005: each line waits 5 ms after the one before; the client ends with its input" {
    serve
    printf 'one\ntwo\nthree\nfour\nfive\n' >"$T/in"
    t0=$EPOCHREALTIME
    STATUS=0
    timeout -k 1 3 "$LAB/client" -i 0.005 127.0.0.1 "$PORT" <"$T/in" >"$T/client.out" 2>"$T/client.err" 3>&- || STATUS=$?
    ms_since "$t0"
    is "the client's exit status (124: it hung; stderr: $(tail -n 2 "$T/client.err"))" "$STATUS" 0
    is "the client's output" "$(<"$T/client.out")" $'ONE\nTWO\nTHREE\nFOUR\nFIVE'
    note "5 lines with -i 0.005: $MS ms; the server read them in $(count '^\[server\] read\(fd 6\) = [0-9]+ bytes$' "$T/server.err") reads"
    # 4 pauses of 5 ms, each counted in whole ms by the client: 16 ms at least
    ((MS >= 16)) || fail "5 lines, each of the first four followed by 5 ms, took $MS ms: no pause"
    (($(count '^\[client\] write\(\) = ' "$T/client.err") == 5)) || fail "expected 5 writes, one a line: $(grep write "$T/client.err")"
}

# ---- many clients ----------------------------------------------------------

@test "50 clients at once, a line every 5 ms each: all served, every reply within 500 ms; lab 05's iterative server, meanwhile, serves 1 of 50" {
    build_peer
    serve
    peer_run crowd 127.0.0.1 "$PORT" 50 10 5
    is "the crowd's exit status (stderr: $PEER_ERR)" "$STATUS" 0
    crowd_figures "$OUT"
    note "lab 12, 50 clients x 10 lines, stop-and-wait, 5 ms apart: $REPLIES replies, median $MEDIAN ms, slowest $MAX ms; $SERVED of 50 answered while the first was served"
    is "replies" "$REPLIES" 500
    ((MAX_MS < 500)) || fail "the slowest of 500 replies took $MAX_MS ms (bound: 500)"
    is "clients answered while the first was served" "$SERVED" 50
    said '^\[server\] accept\(\) = fd [0-9]+ from 127\.0\.0\.1:[0-9]+ \(50 of 64 clients\)$'
    # lab 05: one client at a time (-q 64: all 50 wait in its queue)
    spawn l05 "$L05/server" -q 64 0
    wait_until ready_or_dead "$PID" l05
    read -r ready <"$T/l05.out" || fail "lab 05's server did not start: $(cat "$T/l05.err")"
    peer_run crowd 127.0.0.1 "${ready##*:}" 50 10 5 first
    is "the crowd's exit status against lab 05 (stderr: $PEER_ERR)" "$STATUS" 0
    crowd_figures "$OUT"
    note "lab 05, the same 50 clients: $SERVED of 50 answered while the first was served (its 10 lines)"
    is "clients lab 05 answered while it served the first" "$SERVED" 1
}

@test "a client that never reads is dropped once 64 KiB of replies wait (ERR too slow); another client's replies stay fast meanwhile" {
    build_peer
    serve
    spawn probe "$PEER" crowd 127.0.0.1 "$PORT" 1 20 5
    probe=$PID
    server_says '^\[server\] write\(fd 6\) = ' 3
    spawn noread bash -c 'exec yes "never reads" >"/dev/tcp/127.0.0.1/$0"' "$PORT"
    server_says '^\[server\] fd 7: [0-9]+ bytes of replies not read: ERR too slow$' 5
    said 'ERR too slow$'
    note "server: $(count '^\[server\] read\(fd 7\)' "$T/server.err") reads from the client that never reads, $(count 'write\(fd 7\).*partial' "$T/server.err") partial writes to it, before the drop"
    said '^\[server\] close\(fd 7\) = 0'
    wait_exit "$probe" || fail "the probe did not end"
    is "the probe's exit status (stderr: $(cat "$T/probe.err"))" "$STATUS" 0
    PEER_ERR=$(<"$T/probe.err")
    crowd_figures "$(<"$T/probe.out")"
    note "the other client meanwhile: $REPLIES replies, median $MEDIAN ms, slowest $MAX ms"
    is "the other client's replies" "$REPLIES" 20
    ((MAX_MS < 500)) || fail "the other client's slowest reply took $MAX_MS ms (bound: 500)"
    line_no '^\[server\] fd 7: ERR too slow'
    drop=$N
    line_no '^\[server\] close\(fd 6\) = 0'
    ((drop > 0 && drop < N)) || fail "the drop (line $drop of the narration) should come while the other client is connected (its close: line $N)"
}

@test "a client killed mid-line and a client that sends RST: the server serves on, with the same descriptor count" {
    build_peer
    serve
    before=$(fd_count "$SERVER_PID")
    spawn half "$PEER" half 127.0.0.1 "$PORT" "half a li"
    half=$PID
    server_says '^\[server\] read\(fd 6\) = 9 bytes$' 3
    kill -KILL "$half"
    server_says '^\[server\] close\(fd 6\) = 0' 3
    said '^\[server\] read\(fd 6\) = .*'
    peer_run rst 127.0.0.1 "$PORT" "another half"
    is "the RST peer's exit status (stderr: $PEER_ERR)" "$STATUS" 0
    server_says '^\[server\] read\(fd 6\) = -1: Connection reset by peer$' 3
    said 'Connection reset by peer$'
    wait_until matches_at_least '^\[server\] close\(fd [0-9]+\) = 0 \(' "$T/server.err" 2 || fail "the server did not close the RST client's connection: $(tail -n 3 "$T/server.err")"
    run_split "$LAB/client" 127.0.0.1 "$PORT" <<<"served on"
    is "the next client's exit status (stderr: $stderr)" "$status" 0
    is "the next client's reply" "$output" "SERVED ON"
    alive "$SERVER_PID" || fail "the server is gone"
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after"
    is "the server's descriptors (before: $before)" "$after" "$before"
}

@test "ss shows 50 connections ESTAB, all the one server process's; strace shows its loop: poll() over 53 descriptors" {
    build_peer
    # (LeakSanitizer cannot run under ptrace: off, for make SANITIZE=1)
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -qq -s 64 -o "$T/poll.trace" -e trace=poll "$LAB/server" 0
    wait_until ready_or_dead "$PID"
    read -r READY <"$T/server.out" || fail "the server did not start: $(cat "$T/server.err")"
    PORT=${READY##*:}
    strace_child "$PID" || fail "no process under strace"
    SERVER_PID=$TRACED
    mkfifo "$T/crowd.in"
    exec 5<>"$T/crowd.in"
    spawn crowd "$PEER" crowd 127.0.0.1 "$PORT" 50 1 0 hold
    wait_until said_or_gone "$PID" "$T/crowd.out" '^held 50$'
    expect_line "$T/crowd.out" '^held 50$' "the crowd, all answered and held"
    mapfile -t rows < <(ss -tnpH state established "( sport = :$PORT )")
    note "ss -tnp, the server's side: ${#rows[@]} rows ESTAB, the first: $(tr -s ' ' <<<"${rows[0]}")"
    is "ESTAB rows on the server's port" "${#rows[@]}" 50
    for row in "${rows[@]}"; do
        [[ $row == *'users:(("server",pid='"$SERVER_PID"',fd='* ]] || fail "a connection not owned by the server (pid $SERVER_PID): $row"
    done
    last_match "$T/poll.trace" '^poll\(\[\{fd=[0-9]+, events=POLLIN\}, \{fd=[0-9]+, events=POLLIN\}, \{fd=-1\}, (.*)\], 53, ' ||
        fail "strace shows no poll() over 53 descriptors; its last: $(tail -n 1 "$T/poll.trace" | cut -c1-200)"
    note "strace: ${LINE:0:160}..."
    note "strace: ...${LINE: -120}"
    entries=${MATCH//[^\{]/}
    is "client entries in that poll() (fds, up to strace's 64)" "${#entries}" 50
    exec 5>&-
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0 \(0 of 64 clients\)$' 2>/dev/null
    note "poll() calls traced: $(count '^poll\(' "$T/poll.trace")"
}

@test "SIGTERM with clients connected, over TCP and the Unix socket (-u): each is told BYE shutdown; exit 0; the socket file is gone" {
    serve -u "$T/s"
    is "the readiness line" "$READY" "listening on 127.0.0.1:$PORT and $T/s"
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    echo "over tcp" >&5
    reply 5 3
    is "the TCP client's reply" "$GOT" "OVER TCP"
    mkfifo "$T/unix.in"
    exec 6<>"$T/unix.in"
    spawn unix "$LAB/client" "$T/s"
    unix=$PID
    echo "over a unix socket" >&6
    wait_until said_or_gone "$unix" "$T/unix.out" '^OVER A UNIX SOCKET$'
    expect_line "$T/unix.out" '^OVER A UNIX SOCKET$' "the Unix client's reply"
    said '^\[server\] accept\(\) = fd [0-9]+ from .*/s \(2 of 64 clients\)$'
    kill -TERM "$SERVER_PID"
    reply 5 3
    is "the TCP client's last line" "$GOT" "BYE shutdown"
    at_end 5
    wait_exit "$SERVER_PID"
    is "the server's exit status" "$STATUS" 0
    said '^\[server\] signal: BYE shutdown to 2 of 64 clients$'
    wait_exit "$unix"
    expect_line "$T/unix.out" '^BYE shutdown$' "the Unix client's last line"
    note "the Unix client: $(tail -n 1 "$T/unix.out"), exit $STATUS: $(grep -v '^\[' "$T/unix.err")"
    [ ! -e "$T/s" ] || fail "the socket file $T/s is still there after exit"
}

@test "-c 2: a third client is told BUSY at once and closed; the two are still served" {
    serve -c 2
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '\(2 of 2 clients\)$' 3
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    reply 7 3
    is "the third client's line" "$GOT" "BUSY"
    at_end 7
    said '^\[server\] accept\(\) = fd [0-9]+ from 127\.0\.0\.1:[0-9]+: BUSY \(2 of 2 clients\)$'
    echo "still here" >&6
    reply 6 3
    is "the second client's reply" "$GOT" "STILL HERE"
    # A client that writes before it reads: its lines lie unread when the
    # server closes; a close() then would send an RST, which may destroy
    # the BUSY. The server sends its FIN and drops those bytes first.
    for i in 1 2 3 4 5; do
        run_split timeout 5 "$LAB/client" 127.0.0.1 "$PORT" < <(printf 'hello\nworld\n')
        is "client $i of 5 that writes first: what it read" "$output" "BUSY"
        [[ $stderr != *"reset by peer"* ]] || fail "client $i of 5 that writes first got an RST: $(tail -n 1 <<<"$stderr")"
    done
    note "5 clients that wrote first: BUSY each, then the server's FIN ($(tail -n 1 <<<"$stderr"))"
}

@test "the descriptor limit lowered while the server runs (prlimit --pid): poll() says EINVAL; the last clients are told BUSY until the set fits; the others are served" {
    command -v prlimit >/dev/null || skip "needs prlimit (util-linux)"
    serve
    exec 5<>"/dev/tcp/127.0.0.1/$PORT" 6<>"/dev/tcp/127.0.0.1/$PORT" 7<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '\(3 of 64 clients\)$' 3
    # 0-2, the listener, the pipe, 3 clients: poll()'s set is 6 entries
    prlimit --pid "$SERVER_PID" --nofile=5 || fail "prlimit --pid $SERVER_PID --nofile=5 failed"
    echo "first" >&5
    server_says '^\[server\] poll\(6 fds\) = -1: Invalid argument: RLIMIT_NOFILE is now 5$' 3
    said 'Invalid argument'
    reply 5 3
    is "the first client's reply" "$GOT" "FIRST"
    reply 7 3
    is "the third client's line" "$GOT" "BUSY"
    at_end 7
    alive "$SERVER_PID" || fail "the server is gone: $(tail -n 3 "$T/server.err")"
    is "clients left" "$(last_match "$T/server.err" '\(([0-9]+) of 64 clients\)$' && echo "${BASH_REMATCH[1]}")" 2
}

# ---- going further ----------------------------------------------------------

@test "[extra 1] out of descriptors with -r: each waiting client is told BUSY and closed at once, not left in the queue" {
    spawn server prlimit --nofile=8 "$LAB/server" -r 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    read -r READY <"$T/server.out" || fail "the server did not start: $(cat "$T/server.err")"
    PORT=${READY##*:}
    # 0-2, the listener, the spare, the self-pipe: fd 7 is the last one
    exec 5<>"/dev/tcp/127.0.0.1/$PORT"
    server_says '^\[server\] accept\(\) = fd 7 from ' 3
    exec 6<>"/dev/tcp/127.0.0.1/$PORT"
    reply 6 3
    is "a waiting client's line, out of descriptors" "$GOT" "BUSY"
    at_end 6
    exec 7<>"/dev/tcp/127.0.0.1/$PORT"
    reply 7 3
    is "the next waiting client's line" "$GOT" "BUSY"
    at_end 7
    said '^\[server\] accept\(\) = -1: Too many open files: spare closed, accept\(\) = fd [0-9]+: BUSY, closed$'
    is "spare-descriptor BUSY lines" "$(count 'spare closed, accept' "$T/server.err")" 2
    echo "still served" >&5
    reply 5 3
    is "the connected client's reply" "$GOT" "STILL SERVED"
}

@test "[extra 2] client -v: stop-and-wait, each reply's round trip narrated; 10 clients at once, 5 lines, 5 ms apart: every reply within 500 ms" {
    serve
    printf -v lines 'line %d\n' {1..5}
    want=${lines^^}
    want=${want%$'\n'}
    for i in {1..10}; do
        printf %s "$lines" >"$T/v$i.in"
        spawn "v$i" "$LAB/client" -v -i 0.005 127.0.0.1 "$PORT"
        pids[i]=$PID
    done
    max=0
    for i in {1..10}; do
        wait_exit "${pids[i]}" || fail "client $i did not end"
        is "client $i's exit status ($(grep -v '^\[' "$T/v$i.err"))" "$STATUS" 0
        is "client $i's output" "$(<"$T/v$i.out")" "$want"
        mapfile -t narr < <(grep -E '^\[client\] (write\(\) = |reply )' "$T/v$i.err")
        is "client $i: writes and replies narrated" "${#narr[@]}" 10
        for ((k = 0; k < 10; k += 2)); do
            [[ ${narr[k]} == '[client] write() = '* && ${narr[k + 1]} =~ ^\[client\]\ reply\ $((k / 2 + 1))\ in\ ([0-9]+)\ ms$ ]] ||
                fail "client $i: expected write, then 'reply $((k / 2 + 1)) in N ms', saw '${narr[k]}' / '${narr[k + 1]}'"
            if ((BASH_REMATCH[1] > max)); then max=${BASH_REMATCH[1]}; fi
        done
    done
    note "10 clients -v -i 0.005, 5 lines each: the slowest of 50 round trips $max ms; client 10: ${narr[0]} / ${narr[1]}"
    ((max < 500)) || fail "the slowest reply took $max ms (bound: 500)"
}
