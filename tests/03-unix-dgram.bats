#!/usr/bin/env bats
# Lab 03: a Unix-domain datagram socket: no connection, boundaries kept,
# truncation, and a reliable datagram (the sender waits, nothing is lost).

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 03-unix-dgram
    SOCK=$T/s
}

teardown() {
    exec 5>&- 6>&-   # the FIFOs of session(), if any
    lab_teardown
}

# hope COMMAND...: wait until COMMAND succeeds, as wait_until does, but stop
# early when it cannot succeed any more: the server is gone, or it narrated
# a failed sendto() (a reply that will never come), or a process listed in
# WATCH is gone. Then COMMAND decides. (An unfinished step fails its tests
# quickly instead of waiting WAIT_LIMIT seconds for each.)
hope() {
    wait_until hope_over "$@" 2>/dev/null || true
    "$@"
}
hope_over() {
    local pid
    "$@" || gone "$SERVER_PID" || has_line "$T/server.err" 'sendto\(.*\) = -1' && return 0
    for pid in ${WATCH:-}; do
        gone "$pid" && return 0
    done
    return 1
}

# talk INPUT [CLIENT_OPTIONS...]: run the client on INPUT (a printf format;
# - when $T/talk.in is ready): output in $T/talk.out, narration in
# $T/talk.err, exit status in STATUS. The client takes milliseconds; one
# still waiting after CLIENT_LIMIT seconds waits for a reply that never
# comes, and timeout(1) stops it (STATUS 124).
CLIENT_LIMIT=3
talk() {
    # shellcheck disable=SC2059 # INPUT is the format, on purpose
    [ "$1" = - ] || printf "$1" >"$T/talk.in"
    shift
    STATUS=0
    timeout "$CLIENT_LIMIT" "$LAB/client" "$@" "$SOCK" <"$T/talk.in" >"$T/talk.out" 2>"$T/talk.err" \
        3>&- 4>&- || STATUS=$?
}

# session NAME FD [CLIENT_OPTIONS...]: a client whose stdin is a FIFO held open
# on FD (5 for the first client, 6 for a second). Sets PID and WATCH.
session() {
    local name=$1 fd=$2
    shift 2
    mkfifo "$T/$name.in"
    eval "exec $fd<>\"\$T/\$name.in\""
    spawn "$name" "$LAB/client" "$@" "$SOCK"
    WATCH="${WATCH:-} $PID"
}

@test "[step 1] the server's socket is a datagram socket: ss shows u_dgr at PATH; no listen(), no accept()" {
    start_server "$SOCK"
    note "readiness line: $READY"
    [ "$READY" = "receiving on $SOCK" ]
    row=$(ss -xaH src "$SOCK")
    note "ss -xa src $SOCK:"
    note "  $row"
    [[ $row == u_dgr*"$SOCK"* ]]
    note_lines "  " <"$T/server.err"
    has_line "$T/server.err" '^\[server\] socket\(AF_UNIX, SOCK_DGRAM\) = fd [0-9]*$'
    not has_line "$T/server.err" 'listen|accept'
}

@test "[step 2] bind() creates the socket file (srwx------, -m widens it); SIGTERM removes it" {
    start_server "$SOCK"
    listing=$(ls -l "$SOCK")
    note "ls -l: $listing"
    [[ $listing == srwx------* ]]
    has_line "$T/server.err" "^\[server\] bind\(\"$SOCK\"\) = 0$"
    spawn wide "$LAB/server" -m 0666 "$T/wide"
    wait_until has_line "$T/wide.out" "^receiving on $T/wide\$"
    listing=$(ls -l "$T/wide")
    note "server -m 0666, ls -l: $listing"
    [[ $listing == srw-rw-rw-* ]]
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    mapfile -t err <"$T/server.err"
    note "after SIGTERM: exit status $STATUS, ${err[-1]}"
    [ "$STATUS" -eq 0 ]
    [ ! -e "$SOCK" ]
}

@test "[step 5] the client autobinds an abstract name: narrated, shown by ss, and no file is made" {
    start_server "$SOCK"
    cd "$T"       # were the client to make a file, relative or not, it would show
    session client 5
    CLIENT_PID=$PID
    echo "hello" >&5
    hope has_line "$T/client.err" 'recv\(\) = 5 bytes'
    last_match "$T/client.err" '^\[client\] getsockname\(\) = "(@[^"]*)"$'
    name=$MATCH
    note_lines "  " < <(grep -E 'bind|getsockname' "$T/client.err")
    [ -n "$name" ]
    # The client's socket, found by its inode, as ss sees it: its local
    # address is the @name; its peer is the server's socket.
    last_match "$T/client.err" '^\[client\] socket\(AF_UNIX, SOCK_DGRAM\) = fd ([0-9]+)$'
    fd=$MATCH
    link=$(readlink "/proc/$CLIENT_PID/fd/$fd")   # socket:[INODE]
    ino=${link//[!0-9]/}
    client_row=$(unix_row "$ino")
    server_row=$(ss -xaH src "$SOCK")
    note "ss: the server's row (ss -xa src PATH), the client's (ss -xap, found by its inode):"
    note "  $server_row"
    note "  $client_row"
    [[ $client_row == u_dgr*" $name $ino "* ]]
    read -ra client_field <<<"$client_row"
    read -ra server_field <<<"$server_row"
    [ "${client_field[7]}" = "${server_field[5]}" ]   # the client's peer inode is the server's inode
    has_line "$T/server.err" "^\[server\] recvmsg\(\) = 5 bytes from \"$name\"$"
    exec 5>&-
    wait_exit "$CLIENT_PID"
    [ "$STATUS" -eq 0 ]
    sockets=$(find "$T" -type s)
    note "after the client, the sockets in $T: $sockets"
    [ "$sockets" = "$SOCK" ]
}

@test "[step 3] without bind (client -n) the server has no address to reply to" {
    start_server "$SOCK"
    session client 5 -n
    CLIENT_PID=$PID
    echo "hello?" >&5
    hope has_line "$T/server.err" 'cannot reply'
    note_lines "  " < <(grep -E 'bind|getsockname|send' "$T/client.err")
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    has_line "$T/client.err" '^\[client\] getsockname\(\) = unnamed$'
    has_line "$T/server.err" '^\[server\] recvmsg\(\) = 6 bytes from an unnamed socket: cannot reply$'
    not has_line "$T/server.err" 'sendto'
    alive "$CLIENT_PID"
    [ ! -s "$T/client.out" ]
    note "the client is still waiting for its reply, which cannot come; the test kills it"
    kill -TERM "$CLIENT_PID"
}

@test "[step 3] message boundaries are kept: 3 sends, 3 receives of the same sizes (0 bytes too), 3 replies" {
    start_server "$SOCK"
    talk 'one\n\nthree three three\n'
    [ "$STATUS" -eq 0 ]
    note_lines "  " < <(grep -E 'send\(\)|recv\(\)' "$T/talk.err")
    note_lines "  " < <(grep -E 'recvmsg\(\)|sendto' "$T/server.err")
    [ "$(count '^\[server\] recvmsg\(\) = ' "$T/server.err")" -eq 3 ]
    mapfile -t sizes < <(sed -nE 's/^\[server\] recvmsg\(\) = ([0-9]+) bytes.*/\1/p' "$T/server.err")
    [ "${sizes[*]}" = "3 0 17" ]
    has_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = 0 bytes$'
    [ "$(count '^\[client\] recv\(\) = ' "$T/talk.err")" -eq 3 ]
    has_line "$T/talk.err" '^\[client\] recv\(\) = 0 bytes$'
    note "the client printed, newlines shown as |: $(tr '\n' '|' <"$T/talk.out")"
    upcase <"$T/talk.in" | cmp - "$T/talk.out"
}

@test "[step 3] binary-safe: NUL and bytes above 127 come back unchanged; only a-z change" {
    start_server "$SOCK"
    talk 'a\0b\377c\351z\n'
    [ "$STATUS" -eq 0 ]
    note "sent, od -c: $(od -An -c "$T/talk.in" | tr -s ' ')"
    note "got,  od -c: $(od -An -c "$T/talk.out" | tr -s ' ')"
    cmp <(printf 'A\0B\377C\351Z\n') "$T/talk.out"
}

@test "[step 4] sendto() replies to each sender's own address: two clients, one server socket" {
    start_server "$SOCK"
    session a 5
    A=$PID
    echo "from a" >&5
    hope has_line "$T/a.out" '^FROM A$'
    talk 'from b\n'              # client b comes and goes while a is still there
    [ "$STATUS" -eq 0 ]
    echo "again a" >&5
    exec 5>&-
    wait_exit "$A"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    last_match "$T/a.err" '^\[client\] getsockname\(\) = (".*")$'
    name_a=$MATCH
    last_match "$T/talk.err" '^\[client\] getsockname\(\) = (".*")$'
    name_b=$MATCH
    note "client a is $name_a, it printed: $(tr '\n' '|' <"$T/a.out")"
    note "client b is $name_b, it printed: $(tr '\n' '|' <"$T/talk.out")"
    [ "$name_a" != "$name_b" ]
    [ "$(count "sendto\\($name_a\\) = " "$T/server.err")" -eq 2 ]
    [ "$(count "sendto\\($name_b\\) = " "$T/server.err")" -eq 1 ]
    [ "$(<"$T/a.out")" = $'FROM A\nAGAIN A' ]
    [ "$(<"$T/talk.out")" = "FROM B" ]
}

@test "[step 3] a datagram longer than the receiver's buffer is truncated (MSG_TRUNC)" {
    start_server -s 16 "$SOCK"
    talk 'abcdefghijklmnopqrstuvwxyz0123456789abcd\n'
    [ "$STATUS" -eq 0 ]
    note "server -s 16, client sends 40 bytes:"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    note "the client prints: $(<"$T/talk.out")"
    has_line "$T/server.err" '^\[server\] recvmsg\(\) = 40 bytes from "@[^"]*", buffer holds 16: truncated \(MSG_TRUNC\)$'
    has_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = 16 bytes$'
    [ "$(<"$T/talk.out")" = "ABCDEFGHIJKLMNOP" ]
}

@test "[step 6] a stopped server's full queue holds the sender back: 1000 datagrams, none lost, in order" {
    start_server "$SOCK"
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    seq -f 'datagram %04g' 1000 >"$T/client.in"
    spawn client "$LAB/client" "$SOCK"
    CLIENT_PID=$PID
    WATCH=$PID
    hope has_line "$T/client.err" "server's queue is full: waiting"
    before=$(sed -n "/queue is full/q; /^\[client\] send() = /p" "$T/client.err" | wc -l)
    note "net.unix.max_dgram_qlen = $(</proc/sys/net/unix/max_dgram_qlen); server stopped"
    note "the client sent $before datagrams, then: $(grep -m 1 'queue is full' "$T/client.err")"
    note "ss -xa src $SOCK (for a datagram socket Recv-Q is the size of the first datagram queued):"
    note "  $(ss -xaH src "$SOCK")"
    [ "$before" -ge 1 ]
    [ "$before" -lt 1000 ]
    alive "$CLIENT_PID"
    kill -CONT "$SERVER_PID"
    hope gone "$CLIENT_PID"
    wait_exit "$CLIENT_PID"
    [ "$STATUS" -eq 0 ]
    waits=$(count 'queue is full' "$T/client.err")
    received=$(count '^\[server\] recvmsg\(\) = ' "$T/server.err")
    replies=$(count '^\[client\] recv\(\) = ' "$T/client.err")
    note "after SIGCONT: the client waited $waits times in all; server recvmsg: $received; client recv: $replies"
    [ "$received" -eq 1000 ]
    [ "$replies" -eq 1000 ]
    upcase <"$T/client.in" | cmp - "$T/client.out"
    mapfile -t out <"$T/client.out"
    note "the client's output is the 1000 lines upper-cased, in order: ${out[0]} ... ${out[-1]}"
}

@test "[step 4] a sender that is gone costs its reply only" {
    start_server "$SOCK"
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    session client 5
    CLIENT_PID=$PID
    echo "never mind" >&5
    hope has_line "$T/client.err" 'send\(\) = 10 bytes'
    kill -KILL "$CLIENT_PID"
    wait_gone "$CLIENT_PID"
    kill -CONT "$SERVER_PID"
    hope has_line "$T/server.err" 'sendto\(.*\) = -1'
    note "client killed before the server ran; the server then says:"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    has_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = -1: Connection refused$'
    alive "$SERVER_PID"
    talk 'next\n'
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/talk.out")" = "NEXT" ]
}

@test "the lab's maximum: a 65536-byte datagram goes through whole; a longer line is refused" {
    start_server "$SOCK"
    { head -c 65536 /dev/zero | tr '\0' 'x'; echo; } >"$T/talk.in"
    talk -
    [ "$STATUS" -eq 0 ]
    upcase <"$T/talk.in" | cmp - "$T/talk.out"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    { head -c 65537 /dev/zero | tr '\0' 'x'; echo; } >"$T/talk.in"
    talk -
    mapfile -t err <"$T/talk.err"
    note "a 65537-byte line: exit $STATUS: ${err[-1]}"
    [ "$STATUS" -eq 1 ]
    [ "${err[-1]}" = "client: line 1 is longer than 65536 bytes, the largest datagram of this lab" ]
}

@test "[step 2] a stale socket file is replaced" {
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"        # dies without removing its file
    wait_exit "$SERVER_PID"
    [ -S "$SOCK" ]
    note "after SIGKILL the file stays: $(ls -l "$SOCK" | cut -d' ' -f1)"
    rm "$T/server.out"
    start_server "$SOCK"
    note_lines "  " < <(grep -E 'bind|connect|unlink' "$T/server.err")
    has_line "$T/server.err" "connect\(\"$SOCK\"\) = -1: Connection refused: stale socket file"
    talk 'fresh\n'
    [ "$(<"$T/talk.out")" = "FRESH" ]
}

@test "[step 2] a path in use is refused: a live server's (it keeps serving), a regular file (left untouched)" {
    start_server "$SOCK"
    run "$LAB/server" "$SOCK"
    note "second server: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == "server: bind $SOCK: Address already in use"* ]]
    [ -S "$SOCK" ]
    talk 'still here\n'
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/talk.out")" = "STILL HERE" ]

    echo "precious data" >"$T/file"
    run "$LAB/server" "$T/file"
    note "server on a regular file: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == *"not a socket"* ]]
    [ "$(<"$T/file")" = "precious data" ]
}

@test "[step 6] a client with no server exits 1 with the reason" {
    run "$LAB/client" "$SOCK" </dev/null
    note "no file:     exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == "client: connect $SOCK: No such file or directory" ]]
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run "$LAB/client" "$SOCK" </dev/null
    note "stale file:  exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == "client: connect $SOCK: Connection refused" ]]
}

@test "usage errors exit 2 before any socket call (unknown option, bad value, path too long); -h exits 0" {
    usage_contract server /tmp/lab03.sock
    usage_contract client /tmp/lab03.sock
    run "$LAB/client" -s 16 "$SOCK"
    [ "$status" -eq 2 ]
    for bad in "-m 999" "-s 0" "-s 65537" "-s 12k"; do
        # shellcheck disable=SC2086 # $bad is an option and its value
        run "$LAB/server" $bad "$SOCK"
        note "server $bad: exit $status: ${lines[0]}"
        [ "$status" -eq 2 ]
    done
    [ ! -e "$SOCK" ]
    printf -v long '%120s' ''
    long=$T/${long// /x}
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=socket -o "$T/trace" "$LAB/server" "$long"
    note "server <${#long}-byte path>: exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    [[ ${lines[0]} == *"sun_path holds at most 107" ]]
    not has_line "$T/trace" 'socket\('

    run "$LAB/client" "$long"
    [ "$status" -eq 2 ]
}
