#!/usr/bin/env bats
# Lab 03: a Unix-domain datagram socket: no connection, boundaries kept,
# truncation, a reliable datagram (the sender waits, nothing is lost), and a
# server that checks where its replies go, and waits for no client.
#
# Steps 1 to 4 are the server's, 5 and 6 the client's. Under make check, a
# "[step N]" test runs the student's program that holds step N against the
# reference build of the other one; and each step's tests look first at
# that step's own effect, as its program narrates it (socket() and bind()
# before any datagram; recvmsg() before any reply; the client's names
# before its connect()), so that a mistake in a later step leaves an
# earlier step's tests standing.

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
# WATCH is gone. It never fails: the assertion after it says what was seen.
# (An unfinished step fails its tests quickly instead of waiting WAIT_LIMIT
# seconds for each.)
hope() {
    wait_until hope_over "$@" 2>/dev/null || true
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
# comes, and timeout(1) stops it (STATUS 124). With no input ('') the
# client only connects, and exits.
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
    has_line "$T/$name.out" '^bound$' || fail "the test's peer did not bind: $(cat "$T/$name.err")"
}

# build_peer DIR: PEER is DIR/peer, built from tests/03-unix-dgram-peer.c
# unless it is there already.
build_peer() {
    PEER=$1/peer
    [ -x "$PEER" ] || cc -std=c11 -o "$PEER" "$ROOT/tests/03-unix-dgram-peer.c"
}

# server_or_count N REGEX: the server narrated N lines matching REGEX, or
# is gone.
server_or_count() {
    at_least "$1" "$2" "$T/server.err" || gone "$SERVER_PID"
}

# at_least N REGEX FILE: FILE has N lines or more that match REGEX.
at_least() {
    (($(count "$2" "$3") >= $1))
}

# last_line FILE: FILE's last line (nothing when it is empty or missing).
last_line() {
    tail -n 1 "$1" 2>/dev/null
}

# sizes CALL ROLE FILE: the byte counts of ROLE's successful CALL lines in
# FILE ("[server] recvmsg() = 3 bytes ..."), on one line.
sizes() {
    sed -nE "s/^\\[$2\\] $1\\((\"[^\"]*\")?\\) = ([0-9]+) bytes.*/\\2/p" "$3" | paste -sd ' '
}

# server_says REGEX: wait until the server narrates a line matching REGEX,
# or is gone. (Unlike hope, a failed reply does not end the wait: for the
# tests of the steps before the reply.)
server_says() {
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" "$1" || true
}

# name_of FILE: the client's own name, from its getsockname() narration in
# FILE (quoted, as narrated: "@1a2b3"), in NAME; fails when there is none.
name_of() {
    last_match "$1" '^\[client\] getsockname\(\) = (".*"|unnamed)$' ||
        fail "${1##*/}: the client narrated no getsockname(): $(tail -n 3 "$1" 2>/dev/null)"
    NAME=$MATCH
}

@test "[step 1] socket() makes a Unix datagram socket: the server narrates it as the kernel sees it (SO_DOMAIN, SO_TYPE)" {
    spawn server "$LAB/server" "$SOCK"
    SERVER_PID=$PID
    # Only what comes before bind() is about this step.
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] setsockopt\(' || true
    note_lines "  " < <(head -n 2 "$T/server.err")
    expect_line "$T/server.err" '^\[server\] socket\(AF_UNIX, SOCK_DGRAM\) = fd [0-9]+$' \
        "socket(), narrated with the domain and type the kernel reports"
    expect_line "$T/server.err" '^\[server\] setsockopt\(SO_PASSCRED\) = 0$' "setsockopt(SO_PASSCRED) on the new socket"
}

@test "[step 1] the server's socket is a datagram socket: ss shows u_dgr at PATH; no listen(), no accept()" {
    start_server "$SOCK"
    note "readiness line: $READY"
    is "the readiness line" "$READY" "receiving on $SOCK"
    row=$(ss -xaH src "$SOCK")
    note "ss -xa src $SOCK:"
    note "  $row"
    [[ $row == u_dgr*"$SOCK"* ]] ||
        fail "ss -xa src $SOCK should show a u_dgr (datagram) socket there; it shows '${row:-nothing}'"
    note_lines "  " <"$T/server.err"
    expect_line "$T/server.err" '^\[server\] socket\(AF_UNIX, SOCK_DGRAM\) = fd [0-9]+$' "the server's socket()"
    not has_line "$T/server.err" 'listen|accept' ||
        fail "a datagram server neither listens nor accepts; it says: $(grep -E 'listen|accept' "$T/server.err")"
}

@test "[step 2] bind() creates the socket file (srwx------, -m widens it); SIGTERM removes it" {
    start_server "$SOCK"
    listing=$(ls -l "$SOCK" 2>&1) || fail "no socket file at $SOCK after bind(): $listing"
    note "ls -l: $listing"
    [[ $listing == srwx------* ]] || fail "the socket file should be born srwx------ (umask 077); ls -l says: $listing"
    expect_line "$T/server.err" "^\[server\] bind\(\"$SOCK\"\) = 0$" "the server's bind(), narrated with the name the socket got"
    spawn wide "$LAB/server" -m 0666 "$T/wide"
    wait_until ready_or_dead "$PID" wide
    listing=$(ls -l "$T/wide" 2>&1) || fail "server -m 0666: no socket file at $T/wide: $listing; it said: $(tail -n 3 "$T/wide.err")"
    note "server -m 0666, ls -l: $listing"
    [[ $listing == srw-rw-rw-* ]] || fail "server -m 0666: the file should be srw-rw-rw-; ls -l says: $listing"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" || fail "the server did not exit after SIGTERM"
    note "after SIGTERM: exit status $STATUS, $(last_line "$T/server.err")"
    is "the server's exit status after SIGTERM" "$STATUS" 0
    [ ! -e "$SOCK" ] || fail "the server exited but left its file: $(ls -l "$SOCK")"
}

@test "[step 2] a stale socket file is replaced" {
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"        # dies without removing its file
    wait_exit "$SERVER_PID"
    [ -S "$SOCK" ] || fail "a server killed with SIGKILL leaves its file, but $SOCK is gone"
    note "after SIGKILL the file stays: $(ls -l "$SOCK" | cut -d' ' -f1)"
    rm "$T/server.out"
    start_server "$SOCK"
    note_lines "  " < <(grep -E 'bind|connect|unlink' "$T/server.err")
    expect_line "$T/server.err" "connect\(\"$SOCK\"\) = -1: Connection refused: stale socket file" "the probe of the old file"
    expect_line "$T/server.err" "^\[server\] bind\(\"$SOCK\"\) = 0$" "the new server's bind()"
    # Someone is bound at the path again: a client's connect() finds it,
    # and its datagram arrives.
    talk 'fresh\n'
    note "a client: $(grep -E 'connect' "$T/talk.err")"
    expect_line "$T/talk.err" "^\[client\] connect\(\"$SOCK\"\) = 0$" "a client's connect() to the new server"
    server_says '^\[server\] recvmsg\(\) = 5 bytes'
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 5 bytes' "the new server's receipt of the client's datagram"
}

@test "[step 2] a path in use is refused: a live server's (it keeps serving), a regular file (left untouched)" {
    start_server "$SOCK"
    run timeout 5 "$LAB/server" "$SOCK"
    last=${lines[*]: -1}
    note "second server: exit $status: $last"
    is "the second server's exit status" "$status" 1
    [[ $last == "server: bind $SOCK: Address already in use"* ]] ||
        fail "the second server should say 'server: bind $SOCK: Address already in use...'; it said: $last"
    [ -S "$SOCK" ] || fail "the first server's file is gone: the second server took it"
    alive "$SERVER_PID" || fail "the first server died"
    talk 'still here\n'
    expect_line "$T/talk.err" "^\[client\] connect\(\"$SOCK\"\) = 0$" "a client's connect() to the first server"
    server_says '^\[server\] recvmsg\(\) = 10 bytes'
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 10 bytes' "the first server, still receiving"

    echo "precious data" >"$T/file"
    run timeout 5 "$LAB/server" "$T/file"
    last=${lines[*]: -1}
    note "server on a regular file: exit $status: $last"
    is "the exit status of a server on a regular file" "$status" 1
    [[ $last == *"not a socket"* ]] || fail "a server on a regular file should say it is not a socket; it said: $last"
    is "the regular file's content" "$(<"$T/file")" "precious data"
}

@test "[step 3] recvmsg() gives each datagram's sender: a client's abstract name, a path, or none at all (client -n: nowhere to reply)" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    session a 5
    echo hello >&5
    server_says '^\[server\] recvmsg\(\) = 5 bytes'
    name_of "$T/a.err"
    name=$NAME
    peer p 6 "$PEER" -b "$T/p" "$SOCK"
    echo hi >&6
    server_says '^\[server\] recvmsg\(\) = 2 bytes'
    session c 7 -n
    C=$PID
    echo "hello?" >&7
    server_says '^\[server\] recvmsg\(\) = 6 bytes'
    note "client a is $name; the peer bound $T/p; client c ran with -n:"
    note_lines "  " < <(grep -E 'recvmsg' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 5 bytes from $name\$" "the server's recvmsg() of client a's datagram, naming a"
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 2 bytes from \"$T/p\"\$" "the server's recvmsg() of the datagram from $T/p, naming that path whole"
    expect_line "$T/c.err" '^\[client\] getsockname\(\) = unnamed$' "client -n's getsockname()"
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 6 bytes from an unnamed socket: cannot reply$' \
        "the server's recvmsg() from client -n"
    not has_line "$T/server.err" 'sendto\(unnamed' || fail "the server tried to reply to nobody: $(grep sendto "$T/server.err")"
    alive "$C" || fail "client -n should wait for its reply, but it exited: $(last_line "$T/c.err")"
    [ ! -s "$T/c.out" ] || fail "client -n got a reply it cannot get: $(cat "$T/c.out")"
    note "client -n is still waiting for its reply, which cannot come; the test kills it"
}

@test "[step 3] message boundaries are kept: 3 datagrams sent, 3 received, of the same sizes (0 bytes too)" {
    start_server "$SOCK"
    talk 'one\n\nthree three three\n'
    name_of "$T/talk.err"
    note_lines "  " < <(grep -E 'send\(\)' "$T/talk.err")
    note_lines "  " < <(grep -E 'recvmsg\(\)' "$T/server.err")
    is "the sizes the client's send()s narrate" "$(sizes send client "$T/talk.err")" "3 0 17"
    is "the sizes the server's recvmsg()s narrate" "$(sizes recvmsg server "$T/server.err")" "3 0 17"
    is "how many recvmsg() lines name the client ($NAME)" "$(count "^\[server\] recvmsg\(\) = [0-9]+ bytes from $NAME\$" "$T/server.err")" 3
}

@test "[step 3] a datagram longer than the receiver's buffer is truncated, and recvmsg() says how long it was (MSG_TRUNC)" {
    start_server -s 16 "$SOCK"
    talk 'abcdefghijklmnopqrstuvwxyz0123456789abcd\n'
    name_of "$T/talk.err"
    note "server -s 16, client $NAME sends 40 bytes:"
    note_lines "  " < <(grep -E 'recvmsg' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 40 bytes from $NAME, buffer holds 16: truncated \(MSG_TRUNC\)\$" \
        "recvmsg() of a 40-byte datagram into 16 bytes: the datagram's real length, its sender, and the truncation"
}

@test "[step 4] sendto() replies to each sender's own address: two clients, one server socket" {
    start_server "$SOCK"
    session a 5
    A=$PID
    echo "from a" >&5
    hope has_line "$T/a.out" '^FROM A$'
    expect_line "$T/a.out" '^FROM A$' "client a's reply"
    talk 'from b\n'              # client b comes and goes while a is still there
    is "client b's exit status" "$STATUS" 0
    echo "again a" >&5
    exec 5>&-
    wait_exit "$A" || fail "client a did not exit at the end of its input"
    wait_until server_or_count 3 '^\[server\] sendto\(' || true    # narrated after the reply went
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    name_of "$T/a.err"
    name_a=$NAME
    name_of "$T/talk.err"
    name_b=$NAME
    note "client a is $name_a, it printed: $(tr '\n' '|' <"$T/a.out")"
    note "client b is $name_b, it printed: $(tr '\n' '|' <"$T/talk.out")"
    [ "$name_a" != "$name_b" ] || fail "the two clients have one name, $name_a"
    is "replies sent to client a" "$(count "^\[server\] sendto\($name_a\) = [0-9]+ bytes\$" "$T/server.err")" 2
    is "replies sent to client b" "$(count "^\[server\] sendto\($name_b\) = [0-9]+ bytes\$" "$T/server.err")" 1
    is "client a's output" "$(<"$T/a.out")" $'FROM A\nAGAIN A'
    is "client b's output" "$(<"$T/talk.out")" "FROM B"
}

@test "[step 4] each reply is its datagram, upper-cased, of its size: 3, 0 and 17 bytes; NUL and bytes above 127 unchanged" {
    start_server "$SOCK"
    talk 'one\n\nthree three three\n'
    wait_until server_or_count 3 '^\[server\] sendto\(' || true    # narrated after the reply went
    note_lines "  " < <(grep -E 'sendto' "$T/server.err")
    note "the client printed, newlines shown as |: $(tr '\n' '|' <"$T/talk.out")"
    is "the sizes the server's sendto()s narrate" "$(sizes sendto server "$T/server.err")" "3 0 17"
    is "the client's exit status" "$STATUS" 0
    is "the sizes the client's recv()s narrate" "$(sizes recv client "$T/talk.err")" "3 0 17"
    upcase <"$T/talk.in" | cmp -s - "$T/talk.out" ||
        fail "the client's output should be its input upper-cased; it is: $(tr '\n' '|' <"$T/talk.out")"
    talk 'a\0b\377c\351z\n'
    note "sent, od -c: $(od -An -c "$T/talk.in" | tr -s ' ')"
    note "got,  od -c: $(od -An -c "$T/talk.out" | tr -s ' ')"
    is "the exit status of a client sending NUL and bytes above 127" "$STATUS" 0
    cmp -s <(printf 'A\0B\377C\351Z\n') "$T/talk.out" ||
        fail "a-z upper-cased, every other byte unchanged: expected 'A\\0B\\377C\\351Z', od -c shows:$(od -An -c "$T/talk.out" | tr -s ' ')"
}

@test "[step 4] after a truncation, the reply is what the buffer holds: 16 bytes, not the 40 sent" {
    start_server -s 16 "$SOCK"
    talk 'abcdefghijklmnopqrstuvwxyz0123456789abcd\n'
    server_says '^\[server\] sendto\('    # narrated after the reply went
    note "server -s 16, client sends 40 bytes:"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    note "the client prints: $(<"$T/talk.out")"
    expect_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = 16 bytes$' "the reply to a datagram cut to 16 bytes"
    is "the client's output" "$(<"$T/talk.out")" "ABCDEFGHIJKLMNOP"
}

@test "[step 4] a sender that is gone costs its reply only" {
    start_server "$SOCK"
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    session client 5
    CLIENT_PID=$PID
    echo "never mind" >&5
    hope has_line "$T/client.err" 'send\(\) = 10 bytes'
    expect_line "$T/client.err" 'send\(\) = 10 bytes' "the client's send() to the stopped server"
    kill -KILL "$CLIENT_PID"
    wait_gone "$CLIENT_PID"
    kill -CONT "$SERVER_PID"
    server_says '^\[server\] sendto\('
    note "client killed before the server ran; the server then says:"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = -1: Connection refused$' "the reply to a client that is gone"
    alive "$SERVER_PID" || fail "the server died: $(last_line "$T/server.err")"
    talk 'next\n'
    is "the next client's exit status" "$STATUS" 0
    is "the next client's output" "$(<"$T/talk.out")" "NEXT"
}

@test "[step 4] a sender bound at a path that fills sun_path (108 bytes, no NUL) gets its reply, sent to the very file found there" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    printf -v name '%*s' $((108 - ${#T} - 1)) ''
    long=$T/${name// /x}
    peer long 5 "$PEER" -b "$long" "$SOCK"
    echo hi >&5
    server_says '^\[server\] sendto\('
    note "a sender bound at a path of ${#long} bytes:"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] sendto\("/proc/self/fd/[0-9]+"\) = 2 bytes$' "the reply to the 108-byte path, through the file the server pinned"
}

@test "[step 4] a client that never reads its replies holds half the server's send buffer at most: the next client is served at once" {
    build_peer "$BATS_FILE_TMPDIR"
    start_server "$SOCK"
    # Enough 1-byte datagrams to fill the server's send buffer (SO_SNDBUF,
    # by default net.core.wmem_default) with replies: each takes 768 bytes.
    n=$(($(</proc/sys/net/core/wmem_default) / 256))
    peer hog 5 "$PEER" -c "$n" "$SOCK"
    echo x >&5
    wait_until said_or_gone "$SERVER_PID" "$T/hog.out" "^sent $n\$" ||
        fail "the hog could not send its $n datagrams: the server reads no more? it says: $(last_line "$T/server.err")"
    hog=$(sed -nE 's/^\[server\] recvmsg\(\) = 1 bytes from ("@[^"]*")$/\1/p' "$T/server.err" | head -n 1)
    note "the hog, $hog, sent $n datagrams and read no reply; the server:"
    note "  $(grep -m 1 'SO_SNDBUF' "$T/server.err")"
    note "  $(count "sendto\\($hog\\) = 1 bytes" "$T/server.err") replies sent to it, then $(count "sendto\\($hog\\) refused" "$T/server.err") times:"
    note "  $(grep -m 1 'refused' "$T/server.err")"
    note "  ss -xa src PATH, Send-Q: our replies unread: $(ss -xaH src "$SOCK" | awk '{ print $4 }')"
    start=${EPOCHREALTIME/[.,]/}
    talk 'next\n'
    note "then a client: status $STATUS, $(<"$T/talk.out"), in $(((${EPOCHREALTIME/[.,]/} - start) / 1000)) ms"
    is "the next client's exit status" "$STATUS" 0
    is "the next client's output" "$(<"$T/talk.out")" "NEXT"
    expect_line "$T/server.err" "^\[server\] sendto\($hog\) refused: it may hold [0-9]+ bytes of our replies unread" \
        "the server's refusal to fill its buffer with the hog's replies"
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
    wait_until said_or_gone "$SERVER_PID" "$T/hog1.out" "^sent $n\$" || fail "the first hog could not send its $n datagrams"
    echo x >&6
    wait_until said_or_gone "$SERVER_PID" "$T/hog2.out" "^sent $n\$" || fail "the second hog could not send its $n datagrams"
    note "two hogs: ss -xa src PATH, Send-Q: $(ss -xaH src "$SOCK" | awk '{ print $4 }') bytes of replies unread"
    echo third >&7     # its reply finds no room
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] sendto\(.*\) = -1' ||
        fail "no reply to the third sender failed at once: the server waits for room? its last line: $(last_line "$T/server.err")"
    echo 'is anybody there' >&7   # and the server did not wait for room
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] recvmsg\(\) = 16 bytes' ||
        fail "the server did not receive the third sender's next datagram: it waits? its last line: $(last_line "$T/server.err")"
    note "then a third client sends two datagrams:"
    note_lines "  " < <(grep -E 'recvmsg\(\) = (5|16) bytes|= -1' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] sendto\("@[^"]*"\) = -1: Resource temporarily unavailable: reply dropped$' \
        "a reply that found no room, dropped"
    exec 5>&- 6>&-     # the hogs go, and their replies with them
    wait_gone "$HOG1"
    wait_gone "$HOG2"
    talk 'next\n'
    note "the hogs gone, a client: status $STATUS, $(<"$T/talk.out")"
    is "the output of a client after the hogs" "$(<"$T/talk.out")" "NEXT"
}

@test "[step 5] the client autobinds: the kernel names it, @ and five hex digits, and makes no file; two clients at once get two names" {
    start_server "$SOCK"
    cd "$T"       # were the client to make a file, relative or not, it would show
    session a 5
    A=$PID
    session b 6
    B=$PID
    # Only what comes before connect() is about this step.
    wait_until said_or_gone "$A" "$T/a.err" '^\[client\] (getsockname|connect)\(' || true
    wait_until said_or_gone "$B" "$T/b.err" '^\[client\] (getsockname|connect)\(' || true
    note_lines "  a: " < <(grep -E 'bind|getsockname|^client' "$T/a.err")
    note_lines "  b: " < <(grep -E 'bind|getsockname|^client' "$T/b.err")
    expect_line "$T/a.err" '^\[client\] bind\(addrlen=2: autobind\) = 0$' "client a's bind()"
    expect_line "$T/b.err" '^\[client\] bind\(addrlen=2: autobind\) = 0$' "client b's bind(), while client a holds its name"
    name_of "$T/a.err"
    name_a=$NAME
    name_of "$T/b.err"
    name_b=$NAME
    [[ $name_a =~ ^\"@[0-9a-f]{5}\"$ ]] ||
        fail "an autobound name is @ and five hex digits (unix(7), Autobind feature); client a's getsockname() says $name_a"
    [[ $name_b =~ ^\"@[0-9a-f]{5}\"$ ]] ||
        fail "an autobound name is @ and five hex digits; client b's getsockname() says $name_b"
    [ "$name_a" != "$name_b" ] || fail "two clients at once have one name, $name_a"
    sockets=$(find "$T" -type s)
    note "the sockets in $T: $sockets"
    is "the socket files in $T (the server's only)" "$sockets" "$SOCK"
}

@test "[step 6] connect() makes the server the client's peer: ss shows it, the server receives from the client's name, the reply comes back" {
    start_server "$SOCK"
    session client 5
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] connect\(' || true
    expect_line "$T/client.err" "^\[client\] connect\(\"$SOCK\"\) = 0\$" "the client's connect(), narrated with the peer the kernel reports"
    name_of "$T/client.err"
    name=$NAME
    # The client's socket, found by its inode, as ss sees it: its local
    # address is the @name; its peer is the server's socket.
    last_match "$T/client.err" '^\[client\] socket\(AF_UNIX, SOCK_DGRAM\) = fd ([0-9]+)$' ||
        fail "the client narrated no socket()"
    link=$(readlink "/proc/$CLIENT_PID/fd/$MATCH") || fail "the client (pid $CLIENT_PID) is gone: $(last_line "$T/client.err")"
    ino=${link//[!0-9]/}
    client_row=$(unix_row "$ino")
    server_row=$(ss -xaH src "$SOCK")
    note "ss: the server's row (ss -xa src PATH), the client's (ss -xap, found by its inode):"
    note "  $server_row"
    note "  $client_row"
    read -ra client_field <<<"$client_row"
    read -ra server_field <<<"$server_row"
    [[ $client_row == u_dgr*" ${name//\"/} $ino "* ]] || fail "ss should show the client's u_dgr socket named ${name//\"/}; it shows: $client_row"
    is "the client's peer inode in ss (the server's is ${server_field[5]:-not found})" "${client_field[7]:-none}" "${server_field[5]:-}"
    echo "hello" >&5
    hope has_line "$T/client.out" '^HELLO$'
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 5 bytes from $name\$" "the server's recvmsg() of the client's datagram"
    is "the client's output" "$(<"$T/client.out")" "HELLO"
    exec 5>&-
    wait_exit "$CLIENT_PID" || fail "the client did not exit at the end of its input"
    is "the client's exit status" "$STATUS" 0
}

@test "[step 6] connect() to no server fails, and says why: ENOENT with no file, ECONNREFUSED with nobody bound; exit 1" {
    start_server "$SOCK"
    talk ''
    note "a server there: exit $STATUS: $(grep 'connect' "$T/talk.err")"
    expect_line "$T/talk.err" "^\[client\] connect\(\"$SOCK\"\) = 0$" "the client's connect() to a live server"
    is "the exit status of a client with no input" "$STATUS" 0
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    talk ''
    last=$(last_line "$T/talk.err")
    note "stale file:  exit $STATUS: $last"
    is "the exit status of a client with nobody bound at the path" "$STATUS" 1
    is "the client's error with nobody bound at the path" "$last" "client: connect $SOCK: Connection refused"
    rm "$SOCK"
    talk ''
    last=$(last_line "$T/talk.err")
    note "no file:     exit $STATUS: $last"
    is "the exit status of a client with no file at the path" "$STATUS" 1
    is "the client's error with no file at the path" "$last" "client: connect $SOCK: No such file or directory"
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
    expect_line "$T/client.err" "server's queue is full: waiting" "the client's send() to a stopped server's full queue"
    [ "$before" -ge 1 ] && [ "$before" -lt 1000 ] ||
        fail "the client should send some datagrams, then wait; it sent $before before it waited"
    alive "$CLIENT_PID" || fail "the client should wait for room, but it exited: $(last_line "$T/client.err")"
    kill -CONT "$SERVER_PID"
    hope gone "$CLIENT_PID"
    wait_exit "$CLIENT_PID" || fail "the client did not finish after the server went on: $(last_line "$T/client.err")"
    is "the client's exit status" "$STATUS" 0
    waits=$(count 'queue is full' "$T/client.err")
    received=$(count '^\[server\] recvmsg\(\) = ' "$T/server.err")
    replies=$(count '^\[client\] recv\(\) = ' "$T/client.err")
    note "after SIGCONT: the client waited $waits times in all; server recvmsg: $received; client recv: $replies"
    is "datagrams the server received" "$received" 1000
    is "replies the client received" "$replies" 1000
    upcase <"$T/client.in" | cmp -s - "$T/client.out" ||
        fail "the client's output should be its 1000 lines upper-cased, in order; its first lines: $(head -n 3 "$T/client.out" | tr '\n' '|')"
    note "the client's output is the 1000 lines upper-cased, in order: $(head -n 1 "$T/client.out") ... $(last_line "$T/client.out")"
}

@test "the lab's maximum: a 65536-byte datagram goes through whole; a longer line is refused" {
    start_server "$SOCK"
    { head -c 65536 /dev/zero | tr '\0' 'x'; echo; } >"$T/talk.in"
    talk -
    is "the client's exit status" "$STATUS" 0
    upcase <"$T/talk.in" | cmp -s - "$T/talk.out" ||
        fail "a 65536-byte line should come back whole, upper-cased; the client printed $(wc -c <"$T/talk.out") bytes"
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    { head -c 65537 /dev/zero | tr '\0' 'x'; echo; } >"$T/talk.in"
    talk -
    last=$(last_line "$T/talk.err")
    note "a 65537-byte line: exit $STATUS: $last"
    is "the exit status for a 65537-byte line" "$STATUS" 1
    is "the client's error" "$last" "client: line 1 is longer than 65536 bytes, the largest datagram of this lab"
}

@test "usage errors exit 2 before any socket call (unknown option, bad value, path too long); -h exits 0" {
    usage_contract server /tmp/lab03.sock
    usage_contract client /tmp/lab03.sock
    run "$LAB/client" -s 16 "$SOCK"
    is "client -s 16: exit status" "$status" 2
    for bad in "-m 999" "-s 0" "-s 65537" "-s 12k"; do
        # shellcheck disable=SC2086 # $bad is an option and its value
        run timeout 5 "$LAB/server" $bad "$SOCK"
        note "server $bad: exit $status: ${lines[0]:-}"
        is "server $bad: exit status" "$status" 2
    done
    [ ! -e "$SOCK" ] || fail "a usage error made the socket file $SOCK"
    printf -v long '%120s' ''
    long=$T/${long// /x}
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    ASAN_OPTIONS=detect_leaks=0 run timeout 5 strace -f -e trace=socket -o "$T/trace" "$LAB/server" "$long"
    note "server <${#long}-byte path>: exit $status: ${lines[0]:-}"
    is "server <${#long}-byte path>: exit status" "$status" 2
    [[ ${lines[0]:-} == *"sun_path holds at most 107" ]] || fail "the error should say sun_path holds at most 107 bytes; it says: ${lines[0]:-}"
    not has_line "$T/trace" 'socket\(' || fail "the server made a socket before it refused the path: $(grep 'socket(' "$T/trace")"

    run timeout 5 "$LAB/client" "$long"
    is "client <${#long}-byte path>: exit status" "$status" 2
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
    wait_until server_or_count 2 '^\[server\] sendto\(' || true   # the two replies, sent or refused
    talk 'next\n'    # the server has answered it: it was not busy with itself
    note_lines "  " < <(grep -m 6 -E 'recvmsg|sendto' "$T/server.err")
    note "the server's narration: $(wc -l <"$T/server.err") lines; a client after the two: status $STATUS, $(<"$T/talk.out")"
    not has_line "$T/server.err" "recvmsg\(\) = .* from \"$SOCK\"" ||   # from itself
        fail "the server received its own reply: $(grep -m 1 "from \"$SOCK\"" "$T/server.err")"
    expect_line "$T/server.err" "^\[server\] sendto\(\"$T/sym\"\) refused: a symbolic link, not a socket\$" "the reply to a name made a symbolic link"
    expect_line "$T/server.err" "^\[server\] sendto\(\"$T/hard\"\) refused: this server's own socket\$" "the reply to a name made a hard link"
    is "datagrams the server received" "$(count '^\[server\] recvmsg\(\)' "$T/server.err")" 3
    is "the output of a client after the two" "$(<"$T/talk.out")" "NEXT"
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
    wait_until ready_or_dead "$PID" root
    start_server -m 0777 "$SOCK"
    run "${nobody[@]}" timeout 5 "$PEER" "$T/r" </dev/null
    last=${lines[*]: -1}
    note "$(ls -l "$T/r" | cut -d' ' -f1,3) $T/r: user nobody sends there: $last"
    is "user nobody's own attempt to send to the root-only socket" "$last" "peer: connect: Permission denied"
    # Two senders of user nobody, each bound in nobody's directory.
    "${nobody[@]}" mkdir "$T/n/d"
    peer link 5 "${nobody[@]}" "$PEER" -b "$T/n/link" "$SOCK"
    peer dir 6 "${nobody[@]}" "$PEER" -b "$T/n/d/r" "$SOCK"
    echo mine >&5    # its own socket: answered
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] sendto\('
    # Now each name leads to the root-only socket: the file itself made a
    # symbolic link, or the directory above it.
    "${nobody[@]}" ln -sf "$T/r" "$T/n/link"
    "${nobody[@]}" mv "$T/n/d" "$T/n/d.old"
    "${nobody[@]}" ln -s "$T" "$T/n/d"
    echo yours >&5
    echo yours >&6
    wait_until server_or_count 3 '^\[server\] sendto\(' || true
    SOCK=$T/r talk 'ping\n'   # the root-only server has read all before this
    note_lines "  " < <(grep -m 6 -E 'recvmsg|sendto' "$T/server.err")
    note "the root-only server received: $(grep -m 3 'recvmsg' "$T/root.err" | tr '\n' ' ')"
    not has_line "$T/root.err" "recvmsg\(\) = .* from \"$SOCK\"" ||   # nothing through the server
        fail "the server delivered into the root-only socket: $(grep -m 1 "from \"$SOCK\"" "$T/root.err")"
    expect_line "$T/server.err" '^\[server\] sendto\("/proc/self/fd/[0-9]+"\) = 4 bytes$' "the reply to nobody's own socket"
    expect_line "$T/server.err" "^\[server\] sendto\(\"$T/n/link\"\) refused: a symbolic link, not a socket\$" "the reply to a name made a symbolic link"
    expect_line "$T/server.err" "^\[server\] sendto\(\"$T/n/d/r\"\) refused: a socket of uid 0, not the sender's \(uid 65534\)\$" \
        "the reply to a name whose directory became a link"
    is "datagrams the root-only server received (the ping only)" "$(count 'recvmsg' "$T/root.err")" 1
    is "the ping's reply" "$(<"$T/talk.out")" "PING"
}

@test "[extra 1] client -t SECONDS gives up when replies are due and none comes for that long: exit 1, saying how many are missing" {
    start_server "$SOCK"
    # A server that is there and does not answer: the probe cannot tell.
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    start=${EPOCHREALTIME/[.,]/}
    CLIENT_LIMIT=6 talk 'one\ntwo\n' -t 2
    ms=$(((${EPOCHREALTIME/[.,]/} - start) / 1000))
    last=$(last_line "$T/talk.err")
    note "server stopped; client -t 2, two lines: exit $STATUS after $ms ms: $last"
    is "the exit status of client -t 2 with no reply" "$STATUS" 1
    is "the error of client -t 2 with no reply" "$last" "client: no reply in 2 s: 2 of 2 replies missing"
    [ "$ms" -ge 2000 ] || fail "client -t 2 gave up after $ms ms, before its 2 seconds"
    kill -CONT "$SERVER_PID"
    # A client that did not bind gets no reply from a server that runs.
    CLIENT_LIMIT=5 talk 'hello?\n' -n -t 1
    last=$(last_line "$T/talk.err")
    note "client -n -t 1: exit $STATUS: $last"
    is "the exit status of client -n -t 1" "$STATUS" 1
    is "the error of client -n -t 1" "$last" "client: no reply in 1 s: 1 of 1 replies missing"
    # Replies that come: -t changes nothing.
    talk 'still\nhere\n' -t 1
    is "the exit status of client -t 1 with a server that answers" "$STATUS" 0
    is "the output of client -t 1" "$(<"$T/talk.out")" $'STILL\nHERE'
}

@test "[extra 2] server -c narrates each sender's credentials as the kernel gives them: the client's pid, uid and gid" {
    start_server -c "$SOCK"
    session client 5
    CLIENT_PID=$PID
    echo hello >&5
    hope has_line "$T/client.out" '^HELLO$'
    note "client pid $CLIENT_PID, uid $(id -u), gid $(id -g); the server:"
    note_lines "  " < <(grep -E 'recvmsg|credentials|sendto' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] credentials: pid $CLIENT_PID, uid $(id -u), gid $(id -g) \(SCM_CREDENTIALS\)\$" \
        "server -c's narration of the client's credentials"
    after=$(grep -A 1 -E '^\[server\] recvmsg\(\) = 5 bytes' "$T/server.err" | tail -n 1)
    [[ $after == "[server] credentials: "* ]] || fail "the credentials line should follow the recvmsg() line; after it comes: $after"
    is "the client's output" "$(<"$T/client.out")" "HELLO"
}
