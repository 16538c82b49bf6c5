#!/usr/bin/env bats
# Lab 03: a Unix-domain datagram socket: no connection, boundaries kept,
# truncation, a reliable datagram (the sender waits, nothing is lost), and a
# server that checks where its replies go, and waits for no client.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 03-unix-dgram
    SOCK=$T/s
}

teardown() {
    exec 5>&- 6>&- 7>&-   # the FIFOs of session() and peer(), if any
    lab_teardown
}

# hope COMMAND...: wait until COMMAND succeeds, as wait_until does, but stop
# early when it cannot succeed any more: the server is gone, or it narrated
# a failed or refused sendto() (a reply that will never come), or a process listed in
# WATCH is gone. Then COMMAND decides. (An unfinished step fails its tests
# quickly instead of waiting WAIT_LIMIT seconds for each.)
hope() {
    wait_until hope_over "$@" 2>/dev/null || true
    "$@"
}
hope_over() {
    local pid
    "$@" || gone "$SERVER_PID" || has_line "$T/server.err" 'sendto\(.*\) (= -1|refused)' && return 0
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

# peer NAME FD COMMAND...: tests/03-unix-dgram-peer.c (COMMAND runs it,
# as $PEER or through setpriv), a sender that binds the path it is told
# (-b) and never reads its replies; its standard input is a FIFO held open
# on FD: each line written there makes it send (-c COUNT times). Waits for
# it to be bound. Sets PID.
peer() {
    local name=$1 fd=$2
    shift 2
    mkfifo "$T/$name.in"
    eval "exec $fd<>\"\$T/\$name.in\""
    spawn "$name" "$@"
    wait_until said_or_gone "$PID" "$T/$name.out" '^bound$'
    has_line "$T/$name.out" '^bound$' || { cat "$T/$name.err" >&2; return 1; }
}

# build_peer DIR: PEER is DIR/peer, built from tests/03-unix-dgram-peer.c
# unless it is there already.
build_peer() {
    PEER=$1/peer
    [ -x "$PEER" ] || cc -std=c11 -o "$PEER" "$ROOT/tests/03-unix-dgram-peer.c"
}

# at_least N REGEX FILE: FILE has N lines or more that match REGEX.
at_least() {
    [ "$(count "$2" "$3")" -ge "$1" ]
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

@test "a sender cannot make the server send to itself: its socket file made a symbolic or a hard link to the server's" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    peer sym 5 "$PEER" -b "$T/sym" "$SOCK"
    peer hard 6 "$PEER" -b "$T/hard" "$SOCK"
    # Each sender keeps its socket and its name; the file at the name
    # becomes the server's socket, as a link of either kind.
    ln -sf "$SOCK" "$T/sym"
    ln -f "$SOCK" "$T/hard"
    note "inode, mode, name, in $T:"
    note_lines "  " < <(cd "$T" && stat -c '%i %A %N' s sym hard)
    echo loop >&5
    echo loop >&6
    wait_until has_line "$T/server.err" "^\[server\] sendto\(\"$T/sym\"\)"
    wait_until has_line "$T/server.err" "^\[server\] sendto\(\"$T/hard\"\)"
    talk 'next\n'    # the server has answered it: it was not busy with itself
    note_lines "  " < <(grep -m 6 -E 'recvmsg|sendto' "$T/server.err")
    note "the server's narration: $(wc -l <"$T/server.err") lines; a client after the two: status $STATUS, $(<"$T/talk.out")"
    not has_line "$T/server.err" "recvmsg\(\) = .* from \"$SOCK\""   # from itself
    has_line "$T/server.err" "^\[server\] sendto\(\"$T/sym\"\) refused: a symbolic link, not a socket\$"
    has_line "$T/server.err" "^\[server\] sendto\(\"$T/hard\"\) refused: this server's own socket\$"
    [ "$(count '^\[server\] recvmsg\(\)' "$T/server.err")" -eq 3 ]
    [ "$(<"$T/talk.out")" = "NEXT" ]
}

@test "a sender bound at a path that fills sun_path (108 bytes, no NUL) gets its reply" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    printf -v name '%*s' $((108 - ${#T} - 1)) ''
    long=$T/${name// /x}
    peer long 5 "$PEER" -b "$long" "$SOCK"
    echo hi >&5
    wait_until has_line "$T/server.err" '^\[server\] sendto\('
    note "a sender bound at a path of ${#long} bytes:"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    has_line "$T/server.err" '^\[server\] sendto\("/proc/self/fd/[0-9]+"\) = 2 bytes$'
}

@test "a sender cannot have the server deliver where it may not send itself (a confused deputy): user nobody, a root-only socket, server -m 0777" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, to send as user nobody"
    command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
    nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    own_tmp_dir      # under /tmp: bats' own directories are private
    SOCK=$T/s
    chmod 755 "$T"
    install -d -o 65534 -g 65534 "$T/n"   # nobody's own directory
    build_peer "$T"
    "${nobody[@]}" test -x "$PEER" || skip "user nobody cannot run $PEER"
    spawn root "$LAB/server" "$T/r"       # srwx------: root's only
    wait_until has_line "$T/root.out" "^receiving on $T/r\$"
    start_server -m 0777 "$SOCK"
    run "${nobody[@]}" "$PEER" "$T/r" </dev/null
    note "$(ls -l "$T/r" | cut -d' ' -f1,3) $T/r: user nobody sends there: ${lines[-1]}"
    [[ ${lines[-1]} == "peer: connect: Permission denied" ]]
    # Two senders of user nobody, each bound in nobody's directory.
    "${nobody[@]}" mkdir "$T/n/d"
    peer link 5 "${nobody[@]}" "$PEER" -b "$T/n/link" "$SOCK"
    peer dir 6 "${nobody[@]}" "$PEER" -b "$T/n/d/r" "$SOCK"
    echo mine >&5    # its own socket: answered
    wait_until has_line "$T/server.err" '^\[server\] sendto\('
    # Now each name leads to the root-only socket: the file itself made a
    # symbolic link, or the directory above it.
    "${nobody[@]}" ln -sf "$T/r" "$T/n/link"
    "${nobody[@]}" mv "$T/n/d" "$T/n/d.old"
    "${nobody[@]}" ln -s "$T" "$T/n/d"
    echo yours >&5
    echo yours >&6
    wait_until at_least 3 '^\[server\] sendto\(' "$T/server.err"
    SOCK=$T/r talk 'ping\n'   # the root-only server has read all before this
    note_lines "  " < <(grep -m 6 -E 'recvmsg|sendto' "$T/server.err")
    note "the root-only server received: $(grep -m 3 'recvmsg' "$T/root.err" | tr '\n' ' ')"
    not has_line "$T/root.err" "recvmsg\(\) = .* from \"$SOCK\""   # nothing through the server
    has_line "$T/server.err" '^\[server\] sendto\("/proc/self/fd/[0-9]+"\) = 4 bytes$'
    has_line "$T/server.err" "^\[server\] sendto\(\"$T/n/link\"\) refused: a symbolic link, not a socket\$"
    has_line "$T/server.err" "^\[server\] sendto\(\"$T/n/d/r\"\) refused: a socket of uid 0, not the sender's \(uid 65534\)\$"
    [ "$(count 'recvmsg' "$T/root.err")" -eq 1 ]   # the ping only
    [ "$(<"$T/talk.out")" = "PING" ]
}

@test "[step 4] a client that never reads its replies holds half the server's send buffer at most: the next client is served at once" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    # Enough 1-byte datagrams to fill the server's send buffer (SO_SNDBUF,
    # by default net.core.wmem_default) with replies: each takes 768 bytes.
    n=$(($(</proc/sys/net/core/wmem_default) / 256))
    peer hog 5 "$PEER" -c "$n" "$SOCK"
    echo x >&5
    wait_until has_line "$T/hog.out" "^sent $n\$"
    hog=$(sed -nE 's/^\[server\] recvmsg\(\) = 1 bytes from ("@[^"]*")$/\1/p' "$T/server.err" | head -n 1)
    note "the hog, $hog, sent $n datagrams and read no reply; the server:"
    note "  $(grep -m 1 'SO_SNDBUF' "$T/server.err")"
    note "  $(count "sendto\\($hog\\) = 1 bytes" "$T/server.err") replies sent to it, then $(count "sendto\\($hog\\) refused" "$T/server.err") times:"
    note "  $(grep -m 1 'refused' "$T/server.err")"
    note "  ss -xa src PATH, Send-Q: our replies unread: $(ss -xaH src "$SOCK" | awk '{ print $4 }')"
    start=${EPOCHREALTIME/[.,]/}
    talk 'next\n'
    note "then a client: status $STATUS, $(<"$T/talk.out"), in $(( (${EPOCHREALTIME/[.,]/} - start) / 1000 )) ms"
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/talk.out")" = "NEXT" ]
    has_line "$T/server.err" "^\[server\] sendto\($hog\) refused: it may hold [0-9]+ bytes of our replies unread"
}

@test "[step 4] with its send buffer full, the server drops a reply rather than wait for room (MSG_DONTWAIT), and serves on" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    n=$(($(</proc/sys/net/core/wmem_default) / 256))   # as above
    peer hog1 5 "$PEER" -c "$n" "$SOCK"
    HOG1=$PID
    peer hog2 6 "$PEER" -c "$n" "$SOCK"
    HOG2=$PID
    peer third 7 "$PEER" "$SOCK"
    echo x >&5
    wait_until has_line "$T/hog1.out" "^sent $n\$"
    echo x >&6
    wait_until has_line "$T/hog2.out" "^sent $n\$"
    note "two hogs: ss -xa src PATH, Send-Q: $(ss -xaH src "$SOCK" | awk '{ print $4 }') bytes of replies unread"
    echo third >&7     # its reply finds no room
    wait_until has_line "$T/server.err" '^\[server\] sendto\(.*\) = -1'
    echo 'is anybody there' >&7   # and the server did not wait for room
    wait_until has_line "$T/server.err" '^\[server\] recvmsg\(\) = 16 bytes'
    note "then a third client sends two datagrams:"
    note_lines "  " < <(grep -E 'recvmsg\(\) = (5|16) bytes|= -1' "$T/server.err")
    has_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = -1: Resource temporarily unavailable: reply dropped$'
    exec 5>&- 6>&-     # the hogs go, and their replies with them
    wait_gone "$HOG1"
    wait_gone "$HOG2"
    talk 'next\n'
    note "the hogs gone, a client: status $STATUS, $(<"$T/talk.out")"
    [ "$(<"$T/talk.out")" = "NEXT" ]
}
