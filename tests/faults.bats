#!/usr/bin/env bats
# Faults, lab by lab: every program of every lab in the middle of a
# transfer, when the other end is killed, when it is stopped and continued
# again and again, and when its blocking calls fail with EINTR; the stream
# labs' servers killed between reading and echoing; and every send of a
# connection lab failing with EPIPE and SIGPIPE. Each case ends with the
# program doing what the contract says: the server reports a lost client
# and serves the next; a client reports a lost server and exits 1 with one
# error line; a transfer that was only interrupted comes out intact;
# SIGPIPE kills nobody. strace -e inject makes the rarer faults happen
# on cue, at a call counted in a session before. Lab 08, which passes an
# open file rather than a transfer, has its own cases at the end: a client
# killed with its descriptor in flight, a server killed while its client
# copies the file, every call failing with EINTR. Lab 09's sniff and
# synsend too, in a network namespace each: EINTR on their blocking calls,
# sniff stopped while packets pass, synsend's SYN dropped. Lab 10's server
# listens on a TCP port and a Unix path at once: its cases reach it by one
# or the other (named in each test), so that both code paths meet faults,
# and its EINTR case interrupts its poll() and accept() on the listeners.
# Lab 11 measures: its cases check its figures (the responder killed
# mid-run is in tests/11-cost.bats): its server stopped with a round trip
# or a bulk transfer in flight, a client killed mid-run (SIGPIPE at the
# server's echo, a bulk transfer cut short), read() failing with EINTR.
# Lab 12's server serves many clients at once with poll(): stopped with
# clients connected and more queued, its poll(), accept(), read() and
# write() failing with EINTR, a peer killed with half a line sent or with
# its reply unread; each time every other client is served whole.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

setup() {
    load lib
}

teardown() {
    exec 5>&- 6>&-
    lab_teardown
}

# in_lab LAB: LAB (its directory), T, and how to reach its server: for a
# path lab the socket $T/s, for a port lab port 0 (TO is set by serve).
# Lab 10's server listens on both, port 0 and the path $T/s; its client
# reaches one of them, VIA=unix (unix:$T/s) or VIA=tcp (127.0.0.1:PORT),
# so that some faults hit its Unix code path and others its TCP one.
in_lab() {
    lab_setup "$1"
    NAME=$1
    case $1 in
        0[134]-*) SERVER_ARGS=("$T/s") ;;
        0[567]-*) SERVER_ARGS=(0) ;;
        10-*) SERVER_ARGS=(-u "$T/s" 0) ;;
        *) SERVER_ARGS=() ;;
    esac
}

# serve: start the lab's server; TO is what its client needs to reach it.
# Lab 02 has no server to reach: its server runs the client itself (see
# session). Lab 10's readiness line: "listening on 127.0.0.1:PORT and PATH".
serve() {
    start_server "${SERVER_ARGS[@]}"
    case $NAME in
        0[134]-*) TO=("$T/s") ;;
        0[567]-*) TO=(127.0.0.1 "${READY##*:}") ;;
        10-*)
            local tcp=${READY#listening on }
            tcp=${tcp%% and *}
            if [ "${VIA:-}" = unix ]; then TO=("unix:$T/s"); else TO=("127.0.0.1:${tcp##*:}"); fi ;;
    esac
}

# session: a server and a client exchanging $T/client.in (lab 02: the
# server's standard input, which its child, the client, inherits). Sets
# SERVER_PID and CLIENT_PID; the client's output goes to $T/client.out
# (lab 02: $T/server.out) and its narration to $T/client.err (lab 02:
# $T/server.err, where the server's is too).
session() {
    if [ "$NAME" = 02-socketpair ]; then
        mv "$T/client.in" "$T/server.in"
        if [ -p "$T/client.out" ]; then mv "$T/client.out" "$T/server.out"; fi
        cd "$LAB"
        spawn server ./server
        SERVER_PID=$PID
        wait_until has_line "$T/server.err" '^\[server\] fork\(\) = [0-9]+'
        last_match "$T/server.err" '^\[server\] fork\(\) = ([0-9]+)'
        CLIENT_PID=$MATCH
        echo "$CLIENT_PID" >>"$T/pids"
        CLIENT_OUT=$T/server.out CLIENT_ERR=$T/server.err
    else
        serve
        spawn client "$LAB/client" "${TO[@]}"
        CLIENT_PID=$PID
        CLIENT_OUT=$T/client.out CLIENT_ERR=$T/client.err
    fi
}

# input: the lab's sample transfer in $T/client.in. A stream lab gets
# SIZE (default 16 MiB) random bytes; a message lab N lines (default
# 2000) of 1000 random letters. Made once per file for each size (16 MiB
# from /dev/urandom costs more than many a test), then linked.
input() {
    local made
    case $NAME in
        0[346]-*)
            made=$BATS_FILE_TMPDIR/lines.${N:-2000}
            if [ ! -e "$made" ]; then
                tr -dc 'a-z' </dev/urandom | head -c "$((${N:-2000} * 1000))" |
                    fold -w 1000 >"$made.new"
                echo >>"$made.new"   # (fold ends the last line with no newline)
                mv "$made.new" "$made"
            fi ;;
        *)
            made=$BATS_FILE_TMPDIR/bytes.${SIZE:-16777216}
            if [ ! -e "$made" ]; then
                head -c "${SIZE:-16777216}" /dev/urandom >"$made.new"
                mv "$made.new" "$made"
            fi ;;
    esac
    ln -s "$made" "$T/client.in"
}

# stalled: a session whose client's standard output is a FIFO that we
# hold open (fd 6) and do not read: once the buffers are full, the
# transfer stands still in the middle. Returns when the server is
# replying (lab 07 replies once the whole request is in).
stalled() {
    BIG=1   # lab_teardown removes the 16 MiB files at once
    input
    mkfifo "$T/client.out"
    exec 6<>"$T/client.out"
    session
    local replying='^\[server\] (write|send|sendto)\(.*\) = [0-9]+ bytes'
    if [ "$NAME" = 07-tcp-close ]; then replying='^\[server\] read\(\) = 0'; fi
    wait_until has_line "$SERVER_ERR" "$replying"
}

# stopped_server CONDITION...: the lab's server, stopped (SIGSTOP), and a
# client sending it $T/client.in; returns once CONDITION holds.
stopped_server() {
    serve
    kill -STOP "$SERVER_PID"
    spawn client "$LAB/client" "${TO[@]}"
    CLIENT_PID=$PID CLIENT_ERR=$T/client.err
    wait_until "$@"
}

# queued: a message lab's server, stopped, with N=5 messages of a client
# in its queue: the client has sent them all and waits for the replies.
# (Lab 06's client sends 1 and holds the rest until a first reply shows
# that a server is there.)
queued() {
    N=5 input
    QUEUED=5
    if [ "$NAME" = 06-udp ]; then QUEUED=1; fi
    stopped_server sent_all
}

sent_all() {
    if [ "$(count '^\[client\] send(to)?\(.*\) = 1000 bytes' "$T/client.err")" -eq "$QUEUED" ]; then return 0; fi
    return 1
}

# a_client_dies LAB: SIGKILL the client in the middle of a transfer. The
# server says what it saw and serves the next client (lab 02's server,
# whose only client it was, reports it and exits 1). In a message lab the
# server is stopped with the client's messages in its queue, and sees what
# happened when it replies (UDP: it cannot, and serves on).
a_client_dies() {
    in_lab "$1"
    SERVER_ERR=$T/server.err
    case $NAME in 0[36]-*) queued ;; *) stalled ;; esac
    kill -KILL "$CLIENT_PID"
    if [ "$NAME" = 02-socketpair ]; then
        wait_exit "$SERVER_PID"
        note "$NAME: the server saw $(grep -m 1 -E '^\[server\] .*(= -1: |= 0: )' "$T/server.err")"
        note "  exit $STATUS: $(grep '^server: ' "$T/server.err")"
        [ "$STATUS" -eq 1 ] || fail "$NAME: the server should exit 1 when its client is killed; exit $STATUS: $(grep '^server: ' "$T/server.err")"
        has_line "$T/server.err" '^server: the client was killed by signal 9'
        return
    fi
    wait_gone "$CLIENT_PID"
    kill -CONT "$SERVER_PID"
    if [ "$NAME" = 06-udp ]; then
        wait_until has_line "$T/server.err" '^\[server\] sendto\('
        note "$NAME: the server replied to a closed port and saw no error (UDP has no connection to lose)"
    else
        wait_until has_line "$T/server.err" '^\[server\] .*(= -1: |= 0: peer closed)'
        note "$NAME: the server saw $(grep -m 1 -E '^\[server\] .*(= -1: |= 0: peer closed)' "$T/server.err")"
    fi
    alive "$SERVER_PID"
    run --separate-stderr "$LAB/client" "${TO[@]}" <<<"next"
    [ "$status" -eq 0 ] || fail "$NAME: the next client: exit $status, not 0; stdout: $output; stderr: $stderr"
    is "$NAME: the next client's last line of output" "${lines[*]: -1}" NEXT
}

# a_server_dies LAB: SIGKILL the server in the middle of a transfer. The
# client reports the reset, the early end, or the missing replies, in one
# error line, and exits 1, killed by no signal (SIGPIPE). In a message
# lab the server is stopped with the client's messages in its queue: the
# client has sent all and waits for replies that will never come. In lab
# 07 it is stopped with the client's request unread: killed, it resets the
# connection (a FIN in the middle of the reply would look like its end:
# there the reply is whatever comes before the FIN).
a_server_dies() {
    in_lab "$1"
    SERVER_ERR=$T/server.err
    case $NAME in
        0[36]-*) queued ;;
        07-*)
            input
            stopped_server has_line "$T/client.err" '^\[client\] write\(\) = '
            ;;
        *) stalled ;;
    esac
    kill -KILL "$SERVER_PID"
    if [ -p "$T/client.out" ]; then ln -s "$T/client.out" "$T/drain.in"; spawn drain cat; fi
    if [ -p "$T/server.out" ]; then ln -s "$T/server.out" "$T/drain.in"; spawn drain cat; fi
    wait_gone "$CLIENT_PID"
    last_match "$CLIENT_ERR" '^client: '
    note "$NAME: server killed; the client: $LINE"
    [ "$(count '^client: ' "$CLIENT_ERR")" -eq 1 ] ||   # one error line
        fail "$NAME: the client should print one error line; it printed $(count '^client: ' "$CLIENT_ERR"): $(grep '^client: ' "$CLIENT_ERR")"
    if [ "$NAME" != 02-socketpair ]; then   # (lab 02's client is not our child)
        wait_exit "$CLIENT_PID"
        note "  exit $STATUS"
        [ "$STATUS" -eq 1 ] || fail "$NAME: the client should exit 1 when the server is killed; exit $STATUS: $LINE"
    fi
}

# stop_and_go LAB: while a transfer runs, SIGSTOP and SIGCONT the server
# and the client again and again, each time the input has moved on; the
# output is whole and right, the client exits 0.
stop_and_go() {
    in_lab "$1"
    local round pid stops=0 size=1048576
    SIZE=$((8 * size)) N=100 input
    case $NAME in 0[346]-*) size=$(( $(wc -c <"$T/client.in") / 8 + 1 )) ;; esac
    mv "$T/client.in" "$T/all"
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"
    session
    for ((round = 0; round < 8; round++)); do
        # The next part of the input, through the FIFO (fd 5): it blocks
        # until the client has taken in all but a pipe's worth.
        tail -c "+$((round * size + 1))" "$T/all" | head -c "$size" >&5
        for pid in "$CLIENT_PID" "$SERVER_PID"; do
            kill -STOP "$pid"
            WAIT_LIMIT=2 wait_until stopped "$pid" && stops=$((stops + 1))
            kill -CONT "$pid"
        done
    done
    exec 5>&-
    if [ "$NAME" = 02-socketpair ]; then   # its exit status is its child's
        wait_exit "$SERVER_PID"
    else
        wait_exit "$CLIENT_PID"
    fi
    [ "$STATUS" -eq 0 ] || fail "$NAME: exit $STATUS, not 0, after stops and continues; the narration ends: $(tail -n 3 "$CLIENT_ERR")"
    [ "$stops" -eq 16 ] || fail "$NAME: only $stops of the 16 SIGSTOPs were seen to take effect (within 2 s each)"
    upcase <"$T/all" | cmp - "$CLIENT_OUT"
    note "$NAME: $stops stops and continues during the transfer; output intact"
}

# interrupted LAB: the blocking calls of the data path fail with EINTR,
# every other call from the 10th on, in both programs: what a signal whose
# handler was installed without SA_RESTART does to them (strace -e inject
# makes the call fail without running it). Each program calls again; the
# transfer comes out intact and the client exits 0.
interrupted() {
    command -v strace >/dev/null || skip "needs strace"
    in_lab "$1"
    SIZE=1048576 N=50 input   # (50: no UDP datagram lost, slow as strace is)
    local calls=read,write,poll,recvfrom,sendto,recvmsg,sendmsg,accept,accept4
    local opts="-e trace=$calls -e inject=$calls:error=EINTR:when=10+2" sopts
    sopts=$opts
    # Lab 10's server calls poll() and accept() once a client, not 10
    # times: there they fail from their first call on (1st, 3rd, 5th...).
    # Its 10th write() is its readiness line (9 lines of narration before
    # it; stdio does not write again after EINTR): its read() and write()
    # fail from the 14th on, a margin for a few more lines of narration.
    if [ "$NAME" = 10-two-hosts ]; then
        sopts="-e trace=$calls -e inject=read,write:error=EINTR:when=14+2 -e inject=poll,accept,accept4:error=EINTR:when=1+2"
    fi
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    export ASAN_OPTIONS=detect_leaks=0
    if [ "$NAME" = 02-socketpair ]; then
        cd "$LAB"
        # -f: the child, and the client it becomes, are traced too.
        strace -f -qq -o "$T/server.trace" $opts ./server <"$T/client.in" >"$T/client.out" 2>"$T/client.err"
    else
        TRACE_DIR=$T STRACE_OPTS=$sopts serve
        strace -f -qq -o "$T/client.trace" $opts "$LAB/client" "${TO[@]}" <"$T/client.in" >"$T/client.out" 2>"$T/client.err"
    fi
    upcase <"$T/client.in" | cmp - "$T/client.out"
    if [ "$NAME" = 10-two-hosts ]; then   # the waits on the listeners, interrupted too
        local call n
        for call in poll accept; do
            n=$(count "^([0-9]+ +)?$call[0-9]*\\(.*INJECTED" "$T/server.trace")
            note "$NAME: the server's $call() on the listeners failed with EINTR $n times, and was made again"
            [ "$n" -ge 1 ] || fail "$NAME: no EINTR was injected in the server's $call(): $(grep -E "$call" "$T/server.trace" | head -n 3)"
        done
        if last_match "$T/server.err" '^\[server\] accept\(\) = -1'; then note "  $LINE"; fi
    fi
    local server=$(count INJECTED "$T/server.trace") client=$(count INJECTED "$T/client.trace")
    if [ "$NAME" = 02-socketpair ]; then   # one trace for both
        note "$NAME: EINTR $server times in the server and its child, the client; exit 0, output intact"
    else
        note "$NAME: EINTR $server times in the server, $client in the client; exit 0, output intact"
        [ "$client" -ge 1 ] || fail "$NAME: no EINTR was injected in the client: $client INJECTED lines in $T/client.trace"
    fi
    [ "$server" -ge 1 ] || fail "$NAME: no EINTR was injected in the server: $server INJECTED lines in $T/server.trace"
}

@test "01 unix stream: a client killed mid-transfer; the server reports it and serves the next" { a_client_dies 01-unix-stream; }
@test "02 socketpair: a client killed mid-transfer; the server reports it and exits 1" { a_client_dies 02-socketpair; }
@test "03 unix datagram: a client killed mid-transfer; the server reports it and serves the next" { a_client_dies 03-unix-dgram; }
@test "04 seqpacket: a client killed mid-transfer; the server reports it and serves the next" { a_client_dies 04-seqpacket; }
@test "05 tcp: a client killed mid-transfer; the server reports it and serves the next" { a_client_dies 05-tcp; }
@test "06 udp: a client killed mid-transfer; the server serves the next" { a_client_dies 06-udp; }
@test "07 tcp close: a client killed mid-transfer; the server reports it and serves the next" { a_client_dies 07-tcp-close; }
@test "10 two hosts (TCP): a client killed mid-transfer; the server reports it and serves the next" { VIA=tcp a_client_dies 10-two-hosts; }

@test "01 unix stream: a server killed mid-transfer; the client says why and exits 1" { a_server_dies 01-unix-stream; }
@test "02 socketpair: a server killed mid-transfer; the client says why" { a_server_dies 02-socketpair; }
@test "03 unix datagram: a server killed with the client's messages unanswered; the client says why and exits 1" { a_server_dies 03-unix-dgram; }
@test "04 seqpacket: a server killed mid-transfer; the client says why and exits 1" { a_server_dies 04-seqpacket; }
@test "05 tcp: a server killed mid-transfer; the client says why and exits 1" { a_server_dies 05-tcp; }
@test "06 udp: a server killed with the client's datagrams unanswered; the client says why and exits 1" { a_server_dies 06-udp; }
@test "07 tcp close: a server killed mid-transfer; the client says why and exits 1" { a_server_dies 07-tcp-close; }
@test "10 two hosts (Unix path): a server killed mid-transfer; the client says why and exits 1" { VIA=unix a_server_dies 10-two-hosts; }

@test "01 unix stream: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 01-unix-stream; }
@test "02 socketpair: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 02-socketpair; }
@test "03 unix datagram: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 03-unix-dgram; }
@test "04 seqpacket: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 04-seqpacket; }
@test "05 tcp: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 05-tcp; }
@test "06 udp: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 06-udp; }
@test "07 tcp close: SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { stop_and_go 07-tcp-close; }
@test "10 two hosts (TCP): SIGSTOP and SIGCONT, again and again during a transfer, break nothing" { VIA=tcp stop_and_go 10-two-hosts; }

@test "01 unix stream: calls failing with EINTR are made again; the transfer is intact" { interrupted 01-unix-stream; }
@test "02 socketpair: calls failing with EINTR are made again; the transfer is intact" { interrupted 02-socketpair; }
@test "03 unix datagram: calls failing with EINTR are made again; the transfer is intact" { interrupted 03-unix-dgram; }
@test "04 seqpacket: calls failing with EINTR are made again; the transfer is intact" { interrupted 04-seqpacket; }
@test "05 tcp: calls failing with EINTR are made again; the transfer is intact" { interrupted 05-tcp; }
@test "06 udp: calls failing with EINTR are made again; the transfer is intact" { interrupted 06-udp; }
@test "07 tcp close: calls failing with EINTR are made again; the transfer is intact" { interrupted 07-tcp-close; }
@test "10 two hosts (Unix path): calls failing with EINTR, the server's poll() and accept() on its listeners too, are made again; the transfer is intact" { VIA=unix interrupted 10-two-hosts; }

# kth FILE CALL FD [PID]: K, the number of CALL calls in the strace output
# FILE (of PID, with strace -f) up to and with the first on descriptor FD:
# for strace's inject=CALL:...:when=K, which counts each process's calls
# of CALL.
kth() {
    local line k=0 re="^([0-9]+ +)?$2\\(([0-9]+), "
    if [ -n "${4:-}" ]; then re="^($4 +)$2\\(([0-9]+), "; fi
    K=
    while IFS= read -r line; do
        [[ $line =~ $re ]] || continue
        k=$((k + 1))
        if [ "${BASH_REMATCH[2]}" = "$3" ]; then K=$k; return; fi
    done <"$1"
    echo "no $2() on fd $3${4:+ by pid $4} in $1" >&2
    return 1
}

# counted CALL: one session of $T/client.in, the server traced
# (strace -e trace=CALL) into $T/count.trace, and the client into
# $T/count.client; lab 02's server with -f, its child the client with it.
# Sets SFD and CFD, the descriptors of the two ends, and in lab 02 SPID
# and CPID, the pids of the server and of its child.
counted() {
    if [ "$NAME" = 02-socketpair ]; then
        cd "$LAB"
        strace -f -qq -o "$T/count.trace" -e trace="$1" ./server <"$T/client.in" >/dev/null 2>"$T/count.err"
        last_match "$T/count.err" '^\[server\] socketpair\(.*\) = fds ([0-9]+), ([0-9]+)'
        SFD=${BASH_REMATCH[1]} CFD=${BASH_REMATCH[2]}
        last_match "$T/count.err" '^\[server\] fork\(\) = ([0-9]+)'
        CPID=$MATCH
        read -r SPID _ <"$T/count.trace"   # the first line: the server's
        cp "$T/count.trace" "$T/count.client"
    else
        TRACE_DIR=$T STRACE_OPTS="-e trace=$1" serve
        strace -qq -o "$T/count.client" -e trace="$1" "$LAB/client" "${TO[@]}" <"$T/client.in" >/dev/null 2>"$T/count.err"
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID"
        mv "$T/server.trace" "$T/count.trace"
        last_match "$T/server.err" '^\[server\] accept\(\) = fd ([0-9]+)'
        SFD=$MATCH
        last_match "$T/count.err" '^\[client\] socket\(.*\) = fd ([0-9]+)'
        CFD=$MATCH
        rm "$T"/server.*
    fi
}

# dies_before_echo LAB: the server reads the client's line and is killed
# as it is about to echo it (strace -e inject=write:signal=SIGKILL). With
# nothing unread, its end closes as in an orderly close: the client reads
# an end of file, as after a whole reply. Only counting tells: the client
# sent more bytes than came back, says so, and exits 1.
dies_before_echo() {
    command -v strace >/dev/null || skip "needs strace"
    in_lab "$1"
    printf 'hello\n' >"$T/client.in"
    export ASAN_OPTIONS=detect_leaks=0   # (LeakSanitizer cannot run under ptrace)
    SPID=
    counted write
    kth "$T/count.trace" write "$SFD" "$SPID"
    local kill="-e trace=write -e inject=write:signal=SIGKILL:when=$K"
    if [ "$NAME" = 02-socketpair ]; then
        # Its client is its child: the error line is in the shared narration.
        status=0
        strace -qq -o "$T/server.trace" $kill ./server <"$T/client.in" >"$T/client.out" 2>"$T/client.err" || status=$?
        note "$NAME: the server killed at its write() number $K: exit $status"
        [ "$status" -eq 137 ] || fail "$NAME: the server killed at its write() number $K should exit 137 (SIGKILL); exit $status: $(tail -n 3 "$T/client.err")"
        wait_until has_line "$T/client.err" '^client: '
    else
        TRACE_DIR=$T STRACE_OPTS=$kill serve
        run -1 --separate-stderr "$LAB/client" "${TO[@]}" <"$T/client.in"
        printf '%s\n' "$stderr" >"$T/client.err"
    fi
    last_match "$T/client.err" '^client: '
    note "$NAME: the client, after: $(grep -E '^\[client\] read\(\) = 0' "$T/client.err")"
    note "  $LINE"
    is "$NAME: the client's error line" "$LINE" "client: the server closed the connection early: 6 bytes sent, 0 echoed"
}

@test "01 unix stream: a server killed before it echoes what it read; the client counts, says so and exits 1" { dies_before_echo 01-unix-stream; }
@test "02 socketpair: a server killed before it echoes what it read; the client counts and says so" { dies_before_echo 02-socketpair; }
@test "05 tcp: a server killed before it echoes what it read; the client counts, says so and exits 1" { dies_before_echo 05-tcp; }
@test "10 two hosts (Unix path): a server killed before it echoes what it read; the client counts, says so and exits 1" { VIA=unix dies_before_echo 10-two-hosts; }

# sigpipe LAB ROLE: ROLE's first send on its socket fails with EPIPE and
# raises SIGPIPE, as when the peer is gone: strace -e inject=CALL:
# error=EPIPE:signal=SIGPIPE, at that call (counted in a session before).
# SIGPIPE's default action is to end the process, silently, status 141:
# every program ignores it and takes the error instead. The server reports
# the failure and serves the next client (lab 02's ends); the client exits
# 1 with the reason, or (lab 04) sends again.
sigpipe() {
    command -v strace >/dev/null || skip "needs strace"
    in_lab "$1"
    local role=$2 call=write opts
    if [ "$NAME" = 04-seqpacket ]; then call=sendto; fi   # (send() is sendto() to the kernel)
    printf 'hello\n' >"$T/client.in"
    export ASAN_OPTIONS=detect_leaks=0   # (LeakSanitizer cannot run under ptrace)
    SPID= CPID=
    counted "$call"
    if [ "$role" = server ]; then
        kth "$T/count.trace" "$call" "$SFD" "$SPID"
    else
        kth "$T/count.client" "$call" "$CFD" "$CPID"
    fi
    opts="-e trace=$call -e inject=$call:error=EPIPE:signal=SIGPIPE:when=$K"
    if [ "$NAME" = 02-socketpair ]; then
        local f=
        if [ "$role" = client ]; then f=-f; fi   # (the client is the server's child)
        status=0
        strace $f -qq -o "$T/trace" $opts ./server <"$T/client.in" >"$T/out" 2>"$T/err" || status=$?
        last_match "$T/err" 'Broken pipe'
        note "$NAME $role: EPIPE and SIGPIPE at its $call() number $K: $LINE; the server's exit status $status"
        [ "$status" -lt 128 ] || fail "$NAME $role: the server was killed by signal $((status - 128)) (exit $status); its last lines: $(tail -n 3 "$T/err")"
        not has_line "$T/err" 'killed by signal'
    elif [ "$role" = server ]; then
        TRACE_DIR=$T STRACE_OPTS=$opts serve
        run --separate-stderr "$LAB/client" "${TO[@]}" <"$T/client.in"   # (no reply: exit 1)
        wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'Broken pipe'
        alive "$SERVER_PID"
        last_match "$T/server.err" 'Broken pipe'
        note "$NAME server: EPIPE and SIGPIPE at its $call() number $K: $LINE"
        run --separate-stderr "$LAB/client" "${TO[@]}" <<<"next"
        [ "$status" -eq 0 ] || fail "$NAME: the next client: exit $status, not 0; stdout: $output; stderr: $stderr"
        is "$NAME: the next client's last line of output" "${lines[*]: -1}" NEXT
    else
        serve
        run --separate-stderr strace -qq -o "$T/trace" $opts "$LAB/client" "${TO[@]}" <"$T/client.in"
        note "$NAME client: EPIPE and SIGPIPE at its $call() number $K: exit $status, ${stderr_lines[-1]}, output '$output'"
        [ "$status" -lt 128 ] || fail "$NAME client: killed by signal $((status - 128)) (exit $status); stderr: $stderr"
        [ "$status" -eq 0 ] && [ "$output" = HELLO ] || [[ $stderr == *"Broken pipe"* ]] ||
            fail "$NAME client: neither exit 0 with the output HELLO nor 'Broken pipe' on stderr: exit $status, output '$output', stderr: $stderr"
    fi
}

@test "01 unix stream: SIGPIPE at the server's write() kills nothing: it reports EPIPE and serves the next" { sigpipe 01-unix-stream server; }
@test "01 unix stream: SIGPIPE at the client's write() kills nothing: it exits 1 with the reason" { sigpipe 01-unix-stream client; }
@test "02 socketpair: SIGPIPE at the server's write() kills nothing: it reports EPIPE" { sigpipe 02-socketpair server; }
@test "02 socketpair: SIGPIPE at the client's write() kills nothing: it reports EPIPE" { sigpipe 02-socketpair client; }
@test "04 seqpacket: SIGPIPE at the server's send() kills nothing: it reports EPIPE and serves the next" { sigpipe 04-seqpacket server; }
@test "04 seqpacket: SIGPIPE at the client's send() kills nothing: it sends again" { sigpipe 04-seqpacket client; }
@test "05 tcp: SIGPIPE at the server's write() kills nothing: it reports EPIPE and serves the next" { sigpipe 05-tcp server; }
@test "05 tcp: SIGPIPE at the client's write() kills nothing: it exits 1 with the reason" { sigpipe 05-tcp client; }
@test "07 tcp close: SIGPIPE at the server's write() kills nothing: it reports EPIPE and serves the next" { sigpipe 07-tcp-close server; }
@test "07 tcp close: SIGPIPE at the client's write() kills nothing: it exits 1 with the reason" { sigpipe 07-tcp-close client; }
@test "10 two hosts (Unix path): SIGPIPE at the server's write() kills nothing: it reports EPIPE and serves the next" { VIA=unix sigpipe 10-two-hosts server; }
@test "10 two hosts (TCP): SIGPIPE at the client's write() kills nothing: it exits 1 with the reason" { VIA=tcp sigpipe 10-two-hosts client; }

# Lab 08 passes an open file, not its bytes: the faults that matter are
# around the descriptor. in_lab08: the lab, its directory of files
# ($T/files: "big", 4 MiB of random bytes), the server on $T/s.
in_lab08() {
    in_lab 08-fd-passing
    BIG=1
    mkdir "$T/files"
    head -c 4194304 /dev/urandom >"$T/files/big"
}

@test "08 fd passing: a client killed while its descriptor is in flight; the server's sendmsg() fails, it closes its copy and serves the next" {
    in_lab08
    start_server "$T/s" "$T/files"
    local before
    before=$(fd_count "$SERVER_PID")
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    spawn client "$LAB/client" "$T/s" big
    CLIENT_PID=$PID
    wait_until has_line "$T/client.err" '^\[client\] send\(\) = 3 bytes'
    kill -KILL "$CLIENT_PID"
    wait_gone "$CLIENT_PID"
    kill -CONT "$SERVER_PID"
    wait_until has_line "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0$'
    note_lines "  " < <(grep -E 'accept|PEERCRED|recvmsg|openat|sendmsg|close' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] sendmsg\(\) = -1: (Broken pipe|Connection reset by peer)$' \
        "the server's sendmsg() to a client that is gone"
    is "the server's descriptor count (ls /proc/PID/fd) after the lost client" "$(fd_count "$SERVER_PID")" "$before"
    "$LAB/client" "$T/s" big >"$T/next" 2>"$T/next.err" ||
        fail "the next client failed: $(tail -n 2 "$T/next.err")"
    cmp "$T/files/big" "$T/next" || fail "the next client's copy differs: $(cmp "$T/files/big" "$T/next" 2>&1)"
}

@test "08 fd passing: the server killed while the client copies; the open file is the client's, the copy completes" {
    in_lab08
    start_server "$T/s" "$T/files"
    mkfifo "$T/client.out"
    exec 6<>"$T/client.out"   # held, not read: the client stops in write()
    spawn client "$LAB/client" "$T/s" big
    CLIENT_PID=$PID
    wait_until has_line "$T/client.err" '^\[client\] lseek\(fd [0-9]+'
    wait_until has_line "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0$'
    kill -KILL "$SERVER_PID"
    wait_gone "$SERVER_PID"
    note "server killed while the client was at: $(tail -n 1 "$T/client.err")"
    head -c 4194304 <&6 >"$T/copy"
    exec 6>&-
    wait_exit "$CLIENT_PID"
    last_match "$T/client.err" '^\[client\] read'
    note "the client: exit $STATUS, $LINE"
    is "the client's exit status, its server gone" "$STATUS" 0
    cmp "$T/files/big" "$T/copy" || fail "the copy differs from the file: $(cmp "$T/files/big" "$T/copy" 2>&1)"
}

@test "08 fd passing: accept(), recvmsg(), sendmsg(), send(), read() and write() failing with EINTR are made again; the file arrives whole" {
    command -v strace >/dev/null || skip "needs strace"
    in_lab08
    export ASAN_OPTIONS=detect_leaks=0   # (no LeakSanitizer under ptrace)
    # The server's calls on sockets; the client's too, and its read() and
    # write() of the file (read() from the 10th: the dynamic loader's
    # reads come first). Not the server's write(): its readiness line goes
    # through stdio, which reports EINTR rather than try again.
    local calls=recvmsg,sendmsg,sendto,accept,accept4
    local opts="-e trace=$calls -e inject=$calls:error=EINTR:when=1+2"
    local copts="-e trace=read,write,$calls -e inject=read:error=EINTR:when=10+2 -e inject=write,$calls:error=EINTR:when=1+2"
    spawn server strace -f -qq -o "$T/server.trace" $opts "$LAB/server" "$T/s" "$T/files"
    wait_until ready_or_dead "$PID"
    strace -f -qq -o "$T/client.trace" $copts "$LAB/client" "$T/s" big >"$T/copy" 2>"$T/client.err" ||
        fail "the client failed under EINTR: $(tail -n 3 "$T/client.err")"
    cmp "$T/files/big" "$T/copy" || fail "the copy differs from the file: $(cmp "$T/files/big" "$T/copy" 2>&1)"
    local server client
    wait_until has_line "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0$'
    server=$(grep -c INJECTED "$T/server.trace") client=$(grep -c INJECTED "$T/client.trace")
    note "EINTR $server times in the server ($(grep INJECTED "$T/server.trace" | sed -E 's/^[0-9]+ +//; s/\(.*//' | sort | uniq -c | xargs)), $client in the client; exit 0, file intact"
    [ "$server" -ge 3 ] && [ "$client" -ge 3 ] || fail "too few EINTRs injected: server $server, client $client"
}

# ---- Lab 09: sniff and synsend, each in a network namespace of its own
# (as root netns_setup; as a normal user `unshare -r -n`, where they have
# CAP_NET_RAW). Their blocking calls: sniff's recvmsg(); synsend's
# sendto(), poll() and recvfrom().

# in_lab09: the lab, and this test's namespace (NSX runs a command in it).
in_lab09() {
    in_lab 09-raw-packets
    own_netns
}

# datagrams N: N datagrams "hello" to 127.0.0.1:9 in the namespace, from
# one bash (its /dev/udp: no program to start per datagram).
datagrams() {
    "${NSX[@]}" bash -c 'for ((i = 0; i < $0; i++)); do echo hello >/dev/udp/127.0.0.1/9; done' "$1" ||
        fail "could not send $1 datagrams in the namespace"
}

# sniffing ARGS...: sniff ARGS spawned in the namespace (SNIFF_PID, output
# in $T/sniff.out), until its readiness line.
sniffing() {
    spawn sniff "${NSX[@]}" "$@"
    SNIFF_PID=$PID
    wait_until ready_or_dead "$SNIFF_PID" sniff
    expect_line "$T/sniff.out" '^capturing on lo$' "sniff's readiness line"
}

@test "09 raw packets: sniff's recvmsg() and synsend's sendto(), poll() and recvfrom() failing with EINTR are made again; the results are right" {
    command -v strace >/dev/null || skip "needs strace"
    in_lab09
    export ASAN_OPTIONS=detect_leaks=0   # (no LeakSanitizer under ptrace)
    sniffing strace -qq -o "$T/sniff.trace" -e trace=recvmsg -e inject=recvmsg:error=EINTR:when=1 "$LAB/sniff" -n 1
    datagrams 1
    wait_exit "$SNIFF_PID"
    note "sniff: exit $STATUS, $(tail -n 1 "$T/sniff.out"); strace: $(grep -m 1 INJECTED "$T/sniff.trace" | tr -s ' ')"
    is "sniff's exit status" "$STATUS" 0
    expect_line "$T/sniff.out" '^[0-9]+\.[0-9]{6} 127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:9 UDP len=6$' "sniff's line for the datagram, after a recvmsg() that failed with EINTR"
    local calls=sendto,poll,recvfrom
    run_split "${NSX[@]}" strace -qq -o "$T/synsend.trace" -e trace=$calls -e inject=$calls:error=EINTR:when=1 "$LAB/synsend" 127.0.0.1 9
    note "synsend to a closed port: exit $status, $output; EINTR $(count INJECTED "$T/synsend.trace") times: $(grep INJECTED "$T/synsend.trace" | sed -E 's/\(.*//' | xargs)"
    is "synsend's exit status" "$status" 0
    [[ $output =~ ^127\.0\.0\.1:9\ \>\ 127\.0\.0\.1:[0-9]+\ TCP\ \[RST,ACK\]\ seq=0\ .*\(ours\ \+\ 1\)$ ]] ||
        fail "synsend should print the closed port's RST,ACK; it printed: $output; $stderr"
    is "EINTRs injected in synsend (sendto, poll, recvfrom: once each)" "$(count INJECTED "$T/synsend.trace")" 3
}

@test "09 raw packets: sniff stopped (SIGSTOP) while 3 datagrams pass, and continued, prints them: they waited in its receive buffer" {
    in_lab09
    sniffing "$LAB/sniff" -p 9
    kill -STOP "$SNIFF_PID"
    wait_until stopped "$SNIFF_PID"
    datagrams 3
    note "sniff stopped; 3 datagrams sent; lines printed meanwhile: $(($(wc -l <"$T/sniff.out") - 1))"
    kill -CONT "$SNIFF_PID"
    three() { [ "$(count 'UDP len=6$' "$T/sniff.out")" -ge 3 ] || gone "$SNIFF_PID"; }
    wait_until three
    kill -TERM "$SNIFF_PID"
    wait_exit "$SNIFF_PID"
    note_lines "  sniff: " < <(tail -n +2 "$T/sniff.out")
    is "sniff's exit status" "$STATUS" 0
    is "sniff's lines for the 3 datagrams" "$(count '^[0-9.]+ 127\.0\.0\.1:[0-9]+ > 127\.0\.0\.1:9 UDP len=6$' "$T/sniff.out")" 3
}

@test "09 raw packets: synsend's SYN dropped (to 10.9.9.2, routed through lo to a host that does not forward), its poll() interrupted (EINTR) at 0.8 and 1.6 s: it gives up at 2 s all the same, exit 1 and one line" {
    command -v strace >/dev/null || skip "needs strace"
    in_lab09
    export ASAN_OPTIONS=detect_leaks=0   # (no LeakSanitizer under ptrace)
    "${NSX[@]}" ip addr add 10.9.9.1/32 dev lo && "${NSX[@]}" ip route add 10.9.9.0/24 dev lo src 10.9.9.1 ||
        fail "could not route 10.9.9.0/24 through lo in the namespace"
    # Each of the first two poll() calls fails with EINTR after 0.8 s
    # (strace's delay_exit): a signal, as far as synsend can tell. A wait
    # of 2 s made again in full after each would last 3.6 s and more.
    local start=${EPOCHREALTIME/[.,]/} ms
    run_split timeout 10 "${NSX[@]}" strace -qq -o "$T/synsend.trace" -e trace=poll \
        -e inject=poll:error=EINTR:delay_exit=800000:when=1..2 "$LAB/synsend" 10.9.9.2 80
    ms=$(( (${EPOCHREALTIME/[.,]/} - start) / 1000 ))
    note "synsend: exit $status after $ms ms: $(tail -n 1 <<<"$stderr"); strace: $(grep -c INJECTED "$T/synsend.trace") poll() calls failed with EINTR"
    is "synsend's exit status, no answer" "$status" 1
    one_error || fail "synsend should say why in one line: $stderr"
    is "synsend's error line" "$ERROR" "synsend: no answer from 10.9.9.2:80 in 2 s"
    is "synsend's standard output, no answer" "$output" ""
    [ "$ms" -lt 3000 ] || fail "synsend waited $ms ms for an answer that never came, not 2 s: each poll() after an EINTR waited 2 s again (a deadline: poll() for what is left of it)"
}

# Lab 11 measures rather than copies its input: its faults are checked on
# its figures. up11 TRANSPORT: its server on $T/s (unix) or port 0, spawned
# as "server" (-t 5: a client silent that long is dropped); ADDR is what
# the client takes after TRANSPORT. (lab_setup 11-cost first, once a test.)
up11() {
    start_server -t 5 "$1" "$([ "$1" = unix ] && echo "$T/s" || echo 0)"
    ADDR=$T/s
    [ "$1" = unix ] || ADDR=${READY##*:}
}

# sane11 FILE: FILE holds one line of figures, and they are sane: rtt's
# 0 < min <= median <= p99 (in hundredths of a us), bulk's bytes as asked
# and seconds above 0. Prints it.
sane11() {
    local line re med p99 min
    line=$(<"$1")
    note "  $line"
    re='^rtt [a-z-]+ size=[0-9]+ n=[0-9]+ median_us=([0-9]+)\.([0-9]{2}) p99_us=([0-9]+)\.([0-9]{2}) min_us=([0-9]+)\.([0-9]{2})$'
    if [[ $line =~ $re ]]; then
        med=$((10#${BASH_REMATCH[1]}${BASH_REMATCH[2]})) p99=$((10#${BASH_REMATCH[3]}${BASH_REMATCH[4]}))
        min=$((10#${BASH_REMATCH[5]}${BASH_REMATCH[6]}))
        ((min > 0 && min <= med && med <= p99)) || fail "figures out of order (0 < min <= median <= p99): $line"
        return
    fi
    re='^bulk [a-z-]+ bytes=([0-9]+) write=65536 seconds=([0-9]+\.[0-9]{6}) gib_s=[0-9]+\.[0-9]{3}$'
    [[ $line =~ $re ]] || fail "expected one line of rtt or bulk figures in $1, saw: $line"
    [ "${BASH_REMATCH[2]}" != 0.000000 ] || fail "a bulk transfer in 0 seconds: $line"
}

# waiting11 ERR: the client (CLIENT_PID, its narration in ERR) has sent
# its header and sleeps, waiting on its server.
waiting11() {
    has_line "$1" '^\[client\] write\(\) = 64 bytes: the header' && read_state "$CLIENT_PID" && [ "$STATE" = S ]
}

@test "11 cost: the server stopped (SIGSTOP) with a round trip (unix) or a bulk transfer (tcp) in flight, and continued: the client waits, then ends with exit 0 and sane figures" {
    local tr args
    lab_setup 11-cost
    for tr in unix tcp; do
        args=(-n 300)
        if [ "$tr" = tcp ]; then args=(-m bulk -b 33554432 -w 0); fi   # 32 MiB: more than the buffers hold
        up11 "$tr"
        kill -STOP "$SERVER_PID"
        wait_until stopped "$SERVER_PID"
        spawn "c-$tr" "$LAB/client" "${args[@]}" "$tr" "$ADDR"
        CLIENT_PID=$PID
        # The client connects (the listen queue takes it), sends its header
        # and its first request or what the buffers hold, then waits.
        wait_until waiting11 "$T/c-$tr.err" || fail "$tr: the client did not come to wait on the stopped server: $(tail -n 3 "$T/c-$tr.err")"
        [ ! -s "$T/c-$tr.out" ] || fail "$tr: the client printed figures with its server stopped: $(<"$T/c-$tr.out")"
        note "$tr ${args[*]}: the server stopped, the client waits (state $STATE): $(tail -n 1 "$T/c-$tr.err")"
        kill -CONT "$SERVER_PID"
        wait_exit "$CLIENT_PID"
        is "$tr: the client's exit status, once the server went on" "$STATUS" 0
        sane11 "$T/c-$tr.out"
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID"
        is "$tr: the server's exit status on SIGTERM" "$STATUS" 0
        rm -f "$T"/server.*; : >"$T/pids"
    done
}

@test "11 cost: a client killed mid-run (unix round trips: SIGPIPE at the server's echo; tcp bulk: the stream ends early): the server says so, is not killed, serves the next" {
    local tr args said
    lab_setup 11-cost
    for tr in unix tcp; do
        args=(-n 300)
        said='rtt: round 1 of 330: Broken pipe: client dropped'
        if [ "$tr" = tcp ]; then
            args=(-m bulk -b 33554432 -w 0)
            said='bulk: the stream ended early: client dropped'
        fi
        up11 "$tr"
        # Held still: the server stopped, the client waiting with its
        # request (or part of its transfer) unread; killed; the server
        # continued reads what is left, then finds the client gone.
        kill -STOP "$SERVER_PID"
        wait_until stopped "$SERVER_PID"
        spawn "c-$tr" "$LAB/client" "${args[@]}" "$tr" "$ADDR"
        CLIENT_PID=$PID
        wait_until waiting11 "$T/c-$tr.err" || fail "$tr: the client did not come to wait on the stopped server: $(tail -n 3 "$T/c-$tr.err")"
        kill -KILL "$CLIENT_PID"
        wait_gone "$CLIENT_PID"
        kill -CONT "$SERVER_PID"
        wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'client dropped' ||
            fail "$tr: the server did not narrate the lost client: $(tail -n 3 "$T/server.err")"
        alive "$SERVER_PID" || fail "$tr: the server died with its client (SIGPIPE?): $(tail -n 3 "$T/server.err")"
        last_match "$T/server.err" 'client dropped'
        note "$tr ${args[*]}: client killed; the server: $LINE"
        is "$tr: the server's narration of the lost client" "$LINE" "[server] $said"
        run_split "$LAB/client" -n 20 "$tr" "$ADDR"
        is "$tr: the next client's exit status (stderr: ${stderr_lines[-1]:-})" "$status" 0
        printf '%s\n' "$output" >"$T/next.out"
        sane11 "$T/next.out"
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID"
        is "$tr: the server's exit status on SIGTERM" "$STATUS" 0
        rm -f "$T"/server.*; : >"$T/pids"
    done
}

@test "11 cost: read() failing with EINTR in client and server (strace -e inject), accept() and recvfrom() too: pipe, unix round trips, tcp bulk and udp end with exit 0 and sane figures" {
    command -v strace >/dev/null || skip "needs strace"
    export ASAN_OPTIONS=detect_leaks=0   # (LeakSanitizer cannot run under ptrace)
    # Every other call from the 10th (the first reads are the loader's).
    local tr args server client A
    lab_setup 11-cost
    local copts="-e trace=read -e inject=read:error=EINTR:when=10+2"
    local sopts="-e trace=read,accept,accept4,recvfrom -e inject=read:error=EINTR:when=10+2 -e inject=accept,accept4,recvfrom:error=EINTR:when=1+2"
    for tr in pipe unix tcp udp; do
        args=(-n 200)
        if [ "$tr" = tcp ]; then args=(-m bulk -b 4194304 -w 4); fi
        A=()
        if [ "$tr" != pipe ]; then
            TRACE_DIR=$T STRACE_OPTS=$sopts up11 "$tr"
            A=("$ADDR")
        fi
        # (pipe: -f, the server is the client's child; its reads fail too)
        status=0
        timeout -k 2 20 strace -f -qq -o "$T/client.trace" $copts "$LAB/client" "${args[@]}" "$tr" "${A[@]}" \
            >"$T/c-$tr.out" 2>"$T/c-$tr.err" 3>&- || status=$?
        is "$tr ${args[*]}: the client's exit status, EINTR injected (stderr: $(tail -n 1 "$T/c-$tr.err"))" "$status" 0
        client=$(count INJECTED "$T/client.trace")
        if [ "$tr" != pipe ]; then
            kill -TERM "$SERVER_PID"
            wait_exit "$SERVER_PID"
            server=$(count INJECTED "$T/server.trace")
            note "$tr ${args[*]}: EINTR $client times in the client, $server in the server; exit 0"
            [ "$server" -ge 1 ] || fail "$tr: no EINTR was injected in the server: $(head -n 3 "$T/server.trace")"
            rm -f "$T"/server.*; : >"$T/pids"
        else
            note "$tr ${args[*]}: EINTR $client times in the client and its child, the server; exit 0"
        fi
        # (bulk: the client reads once a transfer, its answer; the server's drain() is what reads)
        [ "$client" -ge 1 ] || [ "$tr" = tcp ] || fail "$tr: no EINTR was injected in the client: $(head -n 3 "$T/client.trace")"
        sane11 "$T/c-$tr.out"
    done
}

# ---- Lab 12: one server, many clients at once, with poll(). A fault
# must cost the client it hits and nobody else: a stopped server loses
# none of the lines sent meanwhile, by clients connected or queued; an
# interrupted poll(), accept(), read() or write() is made again; a peer
# killed with half a line sent, or with a reply unread (its close is then
# a reset), is closed, and its descriptor comes back.

# on12 ARGS...: lab 12's server on port 0, ARGS before it (SERVER_PID),
# after lab_setup 12-many-clients; P12 is its port.
on12() {
    start_server "$@" 0
    P12=${READY##*:}
}

# lines12 NAME N: N lines, "NAME's line I of N", in $T/NAME.lines, and
# $T/NAME.in, what a client spawned as NAME reads: a link to them, or
# with FIFO=1 a FIFO, open on fd 5 (5 and 6: teardown closes them) for
# the test to write them into when it chooses.
lines12() {
    local i
    for ((i = 1; i <= $2; i++)); do echo "$1's line $i of $2"; done >"$T/$1.lines"
    if [ -z "${FIFO:-}" ]; then ln -s "$T/$1.lines" "$T/$1.in"; return; fi
    mkfifo "$T/$1.in"
    exec 5<>"$T/$1.in"
}


# shut12 NAME...: each client NAME has sent all its input (its
# shutdown(SHUT_WR)).
shut12() {
    local c
    for c in "$@"; do has_line "$T/$c.err" '^\[client\] shutdown\(SHUT_WR\) = 0' || return 1; done
}

# served12 NAME...: each client NAME exits 0 with every line of its input
# upper-cased, in order.
served12() {
    local c
    for c in "$@"; do
        wait_exit "${PIDS12[$c]}" || fail "client $c did not end: $(tail -n 2 "$T/$c.err")"
        is "client $c's exit status (its last words: $(tail -n 1 "$T/$c.err"))" "$STATUS" 0
        upcase <"$T/$c.lines" | cmp - "$T/$c.out" || fail "client $c's replies are not its lines upper-cased"
    done
}

@test "12 many clients: the server stopped (SIGSTOP) with 3 clients connected and sending, 2 more queued, continued (SIGCONT): every line of all 5 answered, in order" {
    local c read0
    local -A PIDS12
    lab_setup 12-many-clients
    on12
    for c in a b c; do
        lines12 "$c" 20
        spawn "$c" "$LAB/client" -i 0.005 127.0.0.1 "$P12"   # a line each 5 ms
        PIDS12[$c]=$PID
    done
    wait_until matches_at_least '^\[server\] accept\(\) = fd [0-9]+ from ' "$T/server.err" 3 || fail "the server did not accept the 3 clients: $(tail -n 3 "$T/server.err")"
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    read0=$(count '^\[server\] read\(fd [0-9]+\) = [0-9]+ bytes' "$T/server.err")
    # Two more, into its accept queue; all five send all they have.
    for c in d e; do
        lines12 "$c" 20
        spawn "$c" "$LAB/client" 127.0.0.1 "$P12"
        PIDS12[$c]=$PID
    done
    wait_until shut12 a b c d e || fail "the clients did not all send their lines: $(tail -qn 1 "$T"/[a-e].err)"
    stopped "$SERVER_PID" || fail "the server is not stopped (state $STATE)"
    note "server stopped after $read0 reads; meanwhile all 5 clients sent their last line and their FIN"
    kill -CONT "$SERVER_PID"
    served12 a b c d e
    alive "$SERVER_PID" || fail "the server exited: $(tail -n 2 "$T/server.err")"
    note "continued: 5 clients, 100 lines, every reply in order; the server's last words: $(tail -n 1 "$T/server.err")"
}

@test "12 many clients: poll(), accept(), read() and write() failing with EINTR (strace -e inject) in server and clients are made again; 2 clients at once get every line" {
    command -v strace >/dev/null || skip "needs strace"
    export ASAN_OPTIONS=detect_leaks=0   # (LeakSanitizer cannot run under ptrace)
    local c call n server client
    local -A PIDS12
    # The server: every other poll() and accept() from the 1st; read()
    # from the 40th (the first are the loader's, 1 a library, and in a
    # SANITIZE=1 build 6 and then ASan's own 24 of /proc: a loader's read()
    # that fails ends the program); write() from the 5th (the 4th is its
    # readiness line, which stdio does not write again).
    local sopts="-e trace=poll,accept,accept4,read,write -e inject=poll,accept,accept4:error=EINTR:when=1+2"
    sopts+=" -e inject=read:error=EINTR:when=40+2 -e inject=write:error=EINTR:when=5+2"
    local copts="-e trace=poll,read,write -e inject=poll,write:error=EINTR:when=1+2 -e inject=read:error=EINTR:when=40+2"
    lab_setup 12-many-clients
    TRACE_DIR=$T STRACE_OPTS=$sopts on12
    # Both connected before either sends (their input: FIFOs on fds 5, 6);
    # a line a millisecond (-i 0.001): the server reads them in some 140
    # read()s (measured), well past the 40th, where the failures start.
    FIFO=1 lines12 a 100
    TRACE_DIR=$T STRACE_OPTS=$copts spawn a "$LAB/client" -i 0.001 127.0.0.1 "$P12"
    PIDS12[a]=$PID
    exec 6<&5
    FIFO=1 lines12 b 100
    TRACE_DIR=$T STRACE_OPTS=$copts spawn b "$LAB/client" -i 0.001 127.0.0.1 "$P12"
    PIDS12[b]=$PID
    both() { matches_at_least '^\[server\] accept\(\) = fd [0-9]+ from .*\(2 of 64 clients\)$' "$T/server.err" 1 || gone "$SERVER_PID"; }
    wait_until both && alive "$SERVER_PID" ||
        fail "the server did not accept both clients: $(tail -n 3 "$T/server.err")"
    cat "$T/a.lines" >&6
    cat "$T/b.lines" >&5
    exec 5>&- 6>&-
    served12 a b
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    is "the server's exit status on SIGTERM" "$STATUS" 0
    for call in poll accept read write; do
        n=$(count "^([0-9]+ +)?$call\\(.*INJECTED" "$T/server.trace")
        note "the server's $call() failed with EINTR $n times, and was made again"
        [ "$n" -ge 1 ] || fail "no EINTR was injected in the server's $call(): $(grep -m 3 -E "^([0-9]+ +)?$call" "$T/server.trace")"
    done
    for c in a b; do
        client=$(count INJECTED "$T/$c.trace")
        note "client $c: EINTR $client times (poll, read, write); exit 0, 100 lines, every reply"
        [ "$client" -ge 1 ] || fail "no EINTR was injected in client $c: $(head -n 3 "$T/$c.trace")"
    done
}

@test "12 many clients: a peer killed with half a line sent (its FIN), another with a reply unread (its RST): each closed, the server goes on, a client connected meanwhile is served, the descriptor count is back" {
    local fds after A HALF
    lab_setup 12-many-clients
    on12
    # A client whose lines we give it one at a time (fd 5, a FIFO).
    mkfifo "$T/a.in"
    exec 5<>"$T/a.in"
    spawn a "$LAB/client" 127.0.0.1 "$P12"
    A=$PID
    echo "before" >&5
    wait_until has_line "$T/a.out" '^BEFORE$'
    fds=$(fd_count "$SERVER_PID")
    # Two peers: bash holding a connection (fd 7, kept by the sleep it
    # becomes); one sends half a line, the other a line and half of one,
    # whose reply it leaves unread.
    spawn half bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$0" && printf "half a li" >&7 && exec sleep infinity' "$P12"
    HALF=$PID
    wait_until matches_at_least '^\[server\] read\(fd [0-9]+\) = 9 bytes$' "$T/server.err" 1
    spawn unread bash -c 'exec 7<>"/dev/tcp/127.0.0.1/$0" && printf "reply unread\nhalf" >&7 && exec sleep infinity' "$P12"
    wait_until matches_at_least '^\[server\] write\(fd [0-9]+\) = 13 bytes$' "$T/server.err" 1
    note "3 clients: $(grep -E '^\[server\] (read|write)\(fd [0-9]+\) = (9|13|17) bytes' "$T/server.err" | paste -sd ';' | sed 's/;/; /g')"
    kill -KILL "$HALF" "$PID"
    wait_gone "$PID" && wait "$HALF" "$PID" 2>/dev/null || true   # (reaped, quietly)
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0 \(1 of 64 clients\)$'
    alive "$SERVER_PID" && has_line "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0 \(1 of 64 clients\)$' ||
        fail "the server did not close the two killed peers: $(tail -n 4 "$T/server.err")"
    last_match "$T/server.err" 'end of input'
    note "killed with half a line: $LINE"
    last_match "$T/server.err" 'read\(fd [0-9]+\) = -1'
    note "killed with a reply unread: $LINE"
    expect_line "$T/server.err" '^\[server\] read\(fd [0-9]+\) = 0: end of input; a last line without its newline is not answered$' "the half line's FIN"
    expect_line "$T/server.err" '^\[server\] read\(fd [0-9]+\) = -1: Connection reset by peer$' "the reset"
    after=$(fd_count "$SERVER_PID")
    is "the server's descriptors, before the two peers and after" "$after" "$fds"
    echo "after" >&5
    exec 5>&-
    wait_exit "$A"
    is "the client connected meanwhile: its exit status" "$STATUS" 0
    is "the client connected meanwhile: its replies" "$(paste -sd ' ' "$T/a.out")" "BEFORE AFTER"
    note "the client connected meanwhile: exit 0, BEFORE AFTER; the server's descriptors: $fds before the peers, $after after them"
}
