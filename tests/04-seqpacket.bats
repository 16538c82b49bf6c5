#!/usr/bin/env bats
# Lab 04: a Unix-domain seqpacket socket: a connection, as in lab 01, that
# keeps message boundaries, as datagrams do in lab 03.
#
# Each step's tests look first at the step's own effect (the call strace
# sees, the narration right after it), so that a later step written wrong
# does not fail them; the end-to-end checks come after. Under make check,
# a "[step N]" test runs the student's program holding step N against the
# reference build of the other one.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 04-seqpacket
    SOCK=$T/s
}

teardown() {
    exec 5>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    # A server traced by strace: strace detaches when killed, so stop it too.
    [ -z "${TRACED_PID:-}" ] || kill -TERM "$TRACED_PID" 2>/dev/null || true
    lab_teardown
}

# client ARGS... < input: the client, run to its end (at most 10 s: a
# server written wrong must not hold the test), as bats' run
# --separate-stderr does: status, output, stderr, lines.
client() {
    run_split timeout -k 1 10 "$LAB/client" "$@"
}

# last_of TEXT: TEXT's last line (none: empty), into LAST.
last_of() {
    LAST=${1%$'\n'}
    LAST=${LAST##*$'\n'}
}

# traced_server CALLS ARGS...: the server under strace -e trace=CALLS, its
# trace in $T/trace, until it is ready or gone (a later step written wrong
# may stop it after the call this test is about). STRACE_PID is strace's.
# (LeakSanitizer cannot run under ptrace: off, for make SANITIZE=1 builds.)
traced_server() {
    local calls=$1
    shift
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -o "$T/trace" -e trace="$calls" "$LAB/server" "$@"
    STRACE_PID=$PID
    wait_until ready_or_dead "$STRACE_PID"
}

# first_call NAME: the first NAME(...) line of $T/trace, blanks squeezed,
# into CALL (empty when there is none).
first_call() {
    CALL=$(grep -m 1 -E "^$1\\(" "$T/trace" | tr -s ' ')
}

# open_session: a client connected and idle, its standard input a FIFO that
# this test holds open for writing on fd 5, opened after the spawn: the
# client holds no writer of its own, so `exec 5>&-` is the end of its
# input. Sets CLIENT_PID and SERVER_FD (the server's fd for this client).
# A client that exits instead fails the test at once, with its error.
open_session() {
    mkfifo "$T/client.in"
    spawn client "$LAB/client" "$@" "$SOCK"
    CLIENT_PID=$PID
    exec 5>"$T/client.in"   # meets the client's open of its stdin
    wait_until said_or_gone "$CLIENT_PID" "$T/server.err" 'accept\(\) = fd [0-9]+'
    last_match "$T/server.err" 'accept\(\) = fd ([0-9]+)' ||
        fail "no connection: the server narrated no accept(); the client said: $(tail -n 3 "$T/client.err")"
    SERVER_FD=$MATCH
}

# closes_are N: the server has narrated exactly N close(fd ...) calls. A
# function, so that wait_until runs the grep anew each time it looks.
closes_are() {
    (( $(count '^\[server\] close\(fd ' "$T/server.err") == $1 ))
}

# recvmsg_lines: the server's recvmsg() narration, one per line.
recvmsg_lines() {
    grep -E '^\[server\] recvmsg\(\)' "$T/server.err"
}

# session_over: the server has closed the client's descriptor, or is gone.
session_over() {
    said_or_gone "$SERVER_PID" "$T/server.err" 'close\(fd [0-9]+\)'
}

@test "[step 1] socket(): strace sees socket(AF_UNIX, SOCK_SEQPACKET, 0), and the descriptor it returns is the one narrated" {
    traced_server socket "$SOCK"
    expect_line "$T/server.err" '^\[server\] socket\(AF_UNIX, SOCK_SEQPACKET\) = fd [0-9]+$' "the server's narration of socket(), right after your step"
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_SEQPACKET\) = fd ([0-9]+)'
    first_call socket
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no socket() call; the server said: $(tail -n 2 "$T/server.err")"
    note "narration: $LINE"
    is "the server's first socket() call, as strace saw it" "$CALL" "socket(AF_UNIX, SOCK_SEQPACKET, 0) = $MATCH"
}

@test "[step 1] the listening socket's descriptor leads to a socket that ss calls u_seq" {
    start_server "$SOCK"
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_SEQPACKET\) = fd ([0-9]+)' ||
        fail "the server did not narrate its socket(): $(head -n 3 "$T/server.err")"
    lfd=$MATCH
    link=$(readlink "/proc/$SERVER_PID/fd/$lfd")
    note "/proc/$SERVER_PID/fd/$lfd -> $link"
    [[ $link =~ ^socket:\[([0-9]+)\]$ ]] || fail "fd $lfd of the server is not a socket: it leads to '$link'"
    row=$(unix_row "${BASH_REMATCH[1]}")
    note "ss -xap, that inode: $row"
    is "ss's Netid (first column) for the server's socket" "${row%% *}" u_seq
}

@test "[step 2] bind(): strace sees the whole path, the length of a whole sockaddr_un (110), and the result 0" {
    traced_server bind "$SOCK"
    first_call bind
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no bind() call; the server said: $(tail -n 2 "$T/server.err")"
    is "the server's bind() call, as strace saw it (fd shown as FD)" "$(sed -E 's/^bind\([0-9]+,/bind(FD,/' <<<"$CALL")" \
        "bind(FD, {sa_family=AF_UNIX, sun_path=\"$SOCK\"}, 110) = 0"
    expect_line "$T/server.err" "^\\[server\\] bind\\(\"$SOCK\"\\) = 0\$" "the server's narration of bind(), right after your step"
}

@test "[step 2] bind() creates a socket file (srwx------); it is removed on exit" {
    start_server "$SOCK"
    listing=$(ls -l "$SOCK")
    note "while the server runs:  $listing"
    [[ $listing == srwx------* ]] || fail "the socket file should be srwx------; ls -l says: $listing"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    last_of "$(<"$T/server.err")"
    note "after SIGTERM: exit status $STATUS, $LAST"
    is "the server's exit status after SIGTERM" "$STATUS" 0
    [ ! -e "$SOCK" ] || fail "the server left its socket file behind: $(ls -l "$SOCK")"
}

@test "[step 2] a stale socket file is replaced" {
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"        # dies without removing its file
    wait_exit "$SERVER_PID"
    [ -S "$SOCK" ] || fail "after SIGKILL the socket file should stay; ls says: $(ls -l "$T")"
    note "after SIGKILL the file stays: $(ls -l "$SOCK" | cut -d' ' -f1)"
    rm "$T/server.out"
    : >"$T/server.err"
    start_server "$SOCK"
    note_lines "  " < <(grep -E 'bind|connect|unlink' "$T/server.err")
    expect_line "$T/server.err" 'Connection refused: stale socket file' "the probe of the stale file"
    row=$(ss -xlH src "$SOCK")
    note "ss -xl: $row"
    read -ra field <<<"$row"
    is "ss -xl's Netid and State at $SOCK" "${field[0]:-} ${field[1]:-}" "u_seq LISTEN"
}

@test "[step 2] an occupied path is refused: a regular file stays untouched, a live server keeps its socket" {
    echo "precious data" >"$T/file"
    run_split timeout 10 "$LAB/server" "$T/file"
    last_of "$stderr"
    note "a regular file: exit $status: $LAST"
    is "exit status of a server on a regular file" "$status" 1
    [[ $LAST == *"not a socket"* ]] || fail "the error should say the file is not a socket; it says: $LAST"
    is "the regular file's content" "$(<"$T/file")" "precious data"

    start_server "$SOCK"
    read -ra field < <(ss -xlH src "$SOCK")
    before="${field[0]:-} ${field[1]:-} ${field[4]:-} ${field[5]:-}"
    run_split timeout 10 "$LAB/server" "$SOCK"
    last_of "$stderr"
    note "a live server's path: exit $status: $LAST"
    is "exit status of a second server on a live server's path" "$status" 1
    [[ $LAST == "server: bind $SOCK: Address already in use"* ]] ||
        fail "the error should begin 'server: bind $SOCK: Address already in use'; it is: $LAST"
    read -ra field < <(ss -xlH src "$SOCK")
    after="${field[0]:-} ${field[1]:-} ${field[4]:-} ${field[5]:-}"
    note "ss -xl (Netid, State, path, inode) before: $before; after: $after"
    # The same listener, still reached by the path.
    is "the listener at $SOCK after the second server (Netid, State, path, inode)" "$after" "$before"
    [ -n "${after// /}" ] || fail "ss -xl shows no listener at $SOCK"
}

@test "[step 3] listen(): strace sees listen() on the bound socket with a backlog of 16, and the result 0; then the readiness line" {
    traced_server bind,listen "$SOCK"
    first_call listen
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no listen() call; the server said: $(tail -n 2 "$T/server.err")"
    bound_fd=$(grep -m 1 -oE '^bind\([0-9]+' "$T/trace")
    is "the server's listen() call, as strace saw it" "$CALL" "listen(${bound_fd#bind\(}, 16) = 0"
    expect_line "$T/server.err" '^\[server\] listen\(backlog=16\) = 0$' "the server's narration of listen(), right after your step"
    expect_line "$T/server.out" "^listening on $SOCK\$" "the server's readiness line"
}

@test "[step 3] ss -xl shows the listener: Netid u_seq, State LISTEN, Send-Q 16 (the backlog)" {
    start_server "$SOCK"
    row=$(ss -xlH src "$SOCK")
    note "ss -xl src $SOCK:"
    note "  $row"
    read -ra field <<<"$row"
    is "ss -xl's Netid and State at $SOCK" "${field[0]:-} ${field[1]:-}" "u_seq LISTEN"
    is "ss -xl's Send-Q at $SOCK, which for a listener is its backlog" "${field[3]:-}" 16
    expect_line "$T/server.err" 'listen\(backlog=16\) = 0' "the server's narration of listen()"
}

# build_peer: tests/04-seqpacket-peer.c, lab 04's client N times over in
# one process, built once for this file, as PEER.
build_peer() {
    PEER=$BATS_FILE_TMPDIR/peer
    [ -x "$PEER" ] ||
        cc -std=c11 -Wall -Wextra -Werror -o "$PEER" "$ROOT/tests/04-seqpacket-peer.c" ||
        fail "tests/04-seqpacket-peer.c does not build"
}

@test "[step 4] accept(): a new descriptor for each client, closed after it; 200 clients in a row leave the count unchanged" {
    build_peer
    start_server "$SOCK"
    before=$(fd_count "$SERVER_PID")
    client "$SOCK" <<<"first"
    note "one client: exit $status, got '$output'"
    is "the first client's reply (exit $status: ${stderr##*$'\n'})" "$output" FIRST
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_SEQPACKET\) = fd ([0-9]+)'
    lfd=$MATCH
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd [0-9]+$' "the server's narration of accept()"
    last_match "$T/server.err" '^\[server\] accept\(\) = fd ([0-9]+)$'
    [ "$MATCH" != "$lfd" ] || fail "accept() returned fd $MATCH, the listening socket's own number"
    wait_until session_over
    # 199 more from one process, each as the client makes it: one
    # message, its one reply checked, close()
    run_split "$PEER" "$SOCK" 199
    is "the peer's exit status, 199 connections in a row (stderr: $stderr)" "$status" 0
    is "the 199th connection's reply" "$output" "CLIENT 199"
    wait_until closes_are 200
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after 200 clients"
    is "the server's descriptor count after 200 clients" "$after" "$before"
    is "accept() calls narrated" "$(count 'accept\(\) = fd' "$T/server.err")" 200
}

@test "[step 4] a silent client holds the server -t seconds at most; then the next client is served" {
    start_server -t 1 "$SOCK"
    open_session                       # connected, and sends nothing
    t0=${EPOCHREALTIME/./}
    client "$SOCK" <<<"next"
    took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    note "the next client got $output after $took ms"
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = -1: Resource temporarily unavailable \(nothing for 1 s\): client dropped$' "the silent client dropped after -t 1"
    is "the next client's exit status" "$status" 0
    is "the next client's reply" "$output" NEXT
}

@test "[step 5] connect() and accept(): during a session ss -x shows the ESTAB pair, both u_seq" {
    start_server "$SOCK"
    open_session
    # The server's accept() may be narrated before the client, back from
    # connect(), has written its line: wait for it.
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" 'connect\(.*\) = 0$'
    last_match "$T/client.err" 'connect'
    note "$LINE  /  $(grep -E 'accept' "$T/server.err")"
    expect_line "$T/client.err" "^\\[client\\] connect\\(\"$SOCK\"\\) = 0\$" "the client's narration of connect()"
    link=$(readlink "/proc/$SERVER_PID/fd/$SERVER_FD")   # socket:[INODE]
    server_ino=${link//[!0-9]/}
    server_row=$(unix_row "$server_ino")
    read -ra field <<<"$server_row"
    client_row=$(unix_row "${field[7]:-none}")            # ss's 8th column: the peer's inode
    note "ss -xap, the two ends of one connection:"
    note "  $server_row"
    note "  $client_row"
    is "the server's end (Netid, State, path)" "${field[0]:-} ${field[1]:-} ${field[4]:-}" "u_seq ESTAB $SOCK"
    read -ra field <<<"$client_row"
    is "the client's end (Netid, State)" "${field[0]:-} ${field[1]:-}" "u_seq ESTAB"
    is "the client's end's peer inode" "${field[7]:-}" "$server_ino"
    [[ $client_row == *"\"client\",pid=$CLIENT_PID,"* ]] ||
        fail "the client's end should belong to the client, pid $CLIENT_PID: $client_row"
}

@test "[step 5] the client exits 1 with the reason: no server (no file, refused), or a server that goes away" {
    client "$SOCK" </dev/null
    one_error
    note "no file:         exit $status: $ERROR"
    is "exit status with no socket file" "$status" 1
    is "the error with no socket file" "$ERROR" "client: connect $SOCK: No such file or directory"
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    client "$SOCK" </dev/null
    one_error
    note "stale file:      exit $status: $ERROR"
    is "exit status with a stale socket file" "$status" 1
    is "the error with a stale socket file" "$ERROR" "client: connect $SOCK: Connection refused"

    rm "$T/server.out"
    start_server "$SOCK"
    open_session
    kill -TERM "$SERVER_PID"
    wait_exit "$CLIENT_PID"
    last_of "$(<"$T/client.err")"
    note "server SIGTERM: exit $STATUS: $LAST"
    is "the client's exit status when the server goes away" "$STATUS" 1
    expect_line "$T/client.err" '^client: the server closed the connection early' "the client's error when the server goes away"
}

@test "[step 6] message boundaries are kept: 3 lines are 3 messages, 3 replies on 3 lines" {
    start_server "$SOCK"
    printf 'hello\nseqpacket world\nx\n' >"$T/in"
    client "$SOCK" <"$T/in"
    note_lines "client stdout: " <<<"$output"
    wait_until session_over
    mapfile -t sizes < <(sed -nE 's/^\[server\] recvmsg\(\) = ([0-9]+) bytes$/\1/p' "$T/server.err")
    mapfile -t sent < <(sed -nE 's/^\[client\] send\(\) = ([0-9]+) bytes$/\1/p' <<<"$stderr")
    note "client send() sizes:    ${sent[*]}"
    note "server recvmsg() sizes: ${sizes[*]}"
    is "the sizes the server's recvmsg() returned" "${sizes[*]}" "5 15 1"
    is "the client's exit status (${stderr##*$'\n'})" "$status" 0
    is "the client's output" "$output" "$(upcase <"$T/in")"
}

@test "[step 6] binary-safe: NUL and bytes above 127 come back unchanged; only a-z change" {
    start_server "$SOCK"
    printf 'a\0b\377c\351z\nsecond\n' >"$T/in"
    timeout 10 "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err" ||
        fail "the client failed: $(tail -n 2 "$T/client.err")"
    note "sent, od -c: $(od -An -c "$T/in" | tr -s ' ')"
    note "got,  od -c: $(od -An -c "$T/out" | tr -s ' ')"
    cmp <(printf 'A\0B\377C\351Z\nSECOND\n') "$T/out" || fail "the replies differ from the lines upper-cased (od -c above)"
}

@test "[step 6] truncation: server -s 16 and a 40-byte line: MSG_TRUNC, the first 16 bytes come back, the rest is gone" {
    start_server -s 16 "$SOCK"
    line='the quick brown fox jumps over a lazy do'   # 40 bytes
    printf '%s\nnext\n' "$line" >"$T/in"
    client "$SOCK" <"$T/in"
    note_lines "  " < <(recvmsg_lines | head -n 2)
    note_lines "client stdout: " <<<"$output"
    expect_line "$T/server.err" '\[server\] recvmsg\(\) = 40 bytes, buffer holds 16: truncated \(MSG_TRUNC\)' "the server's narration of the 40-byte message"
    first16=${line:0:16}
    # The reply is the first 16 bytes, upper-cased (the line is ASCII);
    # the 24 other bytes were discarded, not delivered as the next message.
    is "the client's output" "$output" "${first16^^}"$'\n'NEXT
    is "the client's exit status" "$status" 0
}

@test "[step 6] many messages in flight: 2000 lines round-trip in order; a line of 65536 bytes, the largest, too" {
    start_server "$SOCK"
    seq 2000 | sed 's/.*/line & of many, with some words to make it longer/' >"$T/in"
    timeout 20 "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err" ||
        fail "the client failed (status $?): $(tail -n 2 "$T/client.err")"
    upcase <"$T/in" | cmp - "$T/out" || fail "the 2000 replies are not the 2000 lines upper-cased, in order"
    note "2000 lines: $(count 'send\(\) = ' "$T/client.err") sends, $(count 'recv\(\) = ' "$T/client.err") replies, output identical to tr a-z A-Z"

    head -c 65536 /dev/zero | tr '\0' 'z' >"$T/in"
    echo >>"$T/in"
    client "$SOCK" <"$T/in"
    last_match "$T/server.err" 'recvmsg\(\) = [0-9]+ bytes$'
    note "a 65536-byte line: exit $status; $LINE"
    is "the client's exit status for a 65536-byte line" "$status" 0
    is "the reply's length" "${#output}" 65536
}

@test "[step 7] an empty message gets an empty reply and is not mistaken for the end (strace: both are recvmsg() = 0)" {
    # The server runs under strace, to show the wart: the empty message and
    # the end look the same to recvmsg(); only poll(POLLRDHUP) differs.
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -o "$T/trace" -e trace=recvmsg,recvfrom,poll "$LAB/server" "$SOCK"
    STRACE_PID=$PID
    wait_until ready_or_dead "$STRACE_PID"
    [ -s "$T/server.out" ] || fail "the server exited before it was ready: $(tail -n 3 "$T/server.err")"
    TRACED_PID=$(<"/proc/$STRACE_PID/task/$STRACE_PID/children")
    TRACED_PID=${TRACED_PID%% *}
    SERVER_PID=$TRACED_PID
    printf 'a\n\nb\n' >"$T/in"
    timeout 10 "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err"
    note "client stdout, od -c: $(od -An -c "$T/out" | tr -s ' ')"
    wait_until session_over
    note_lines "  " < <(recvmsg_lines)
    is "the server's recvmsg() narration" "$(recvmsg_lines)" "$(printf '%s\n' '[server] recvmsg() = 1 bytes' \
        '[server] recvmsg() = 0 bytes: an empty message' '[server] recvmsg() = 1 bytes' \
        '[server] recvmsg() = 0: peer closed')"
    cmp <(printf 'A\n\nB\n') "$T/out" || fail "the client's output is not A, an empty line, B (od -c above)"
    kill -TERM "$TRACED_PID"
    wait_exit "$STRACE_PID"
    note "strace, the two receives that returned 0 and the polls after them:"
    grep -E '^(recvmsg|recvfrom|poll)\(.*\) += (0|1)' "$T/trace" | grep -vE ' = 1$' |
        sed -E 's/msg_name=NULL, msg_namelen=0, //; s/, msg_controllen=0//' | note_lines "  "
    is "receives that returned 0 (the empty message, then the end)" \
        "$(count '^recv(msg|from)\(.* = 0$' "$T/trace")" 2
    expect_line "$T/trace" '^poll\(.*POLLRDHUP.* = 0 ' "strace: poll() after the empty message, finding nothing"
    expect_line "$T/trace" '^poll\(.*revents=[A-Z|]*POLLRDHUP' "strace: poll() after the end, finding POLLRDHUP"
}

@test "[step 7] the end of a connection: none while the client is connected; when it exits, recvmsg() = 0: peer closed" {
    start_server "$SOCK"
    open_session
    echo "still open" >&5
    wait_until said_or_gone "$CLIENT_PID" "$T/client.out" '^STILL OPEN$'
    expect_line "$T/client.out" '^STILL OPEN$' "the client's reply while the session is open"
    not has_line "$T/server.err" 'peer closed' || fail "the server saw an end while the client was connected"
    note "session open, a reply received; the server has not seen an end"
    exec 5>&-   # the client's end of input: it closes once the reply is in
    wait_exit "$CLIENT_PID"
    last_of "$(<"$T/client.err")"
    note "client: $LAST, exit $STATUS"
    is "the client's exit status" "$STATUS" 0
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'close\(fd [0-9]+\)'
    tail -n 2 "$T/server.err" | note_lines "  "
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 0: peer closed$' "the server's narration of the end"
    alive "$SERVER_PID" || fail "the server exited after the client"
}

@test "[step 7] a message is answered even when its sender shut down its sending side right after it: only a 0 asks the question" {
    # A peer of our own (the lab's client never shuts down): it sends its
    # messages, calls shutdown(SHUT_WR) at once, says so, then reads one
    # reply each.
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -o "$T/peer" -x c - <<'EOF'
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
int main(int argc, char **argv)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    struct timeval tv = { .tv_sec = 5 };
    static char buf[65536];
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    if (fd == -1 || connect(fd, (struct sockaddr *)&a, sizeof a) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1)
        return perror("peer: connect"), 1;
    for (int i = 2; i < argc; i++)
        if (send(fd, argv[i], strlen(argv[i]), 0) == -1)
            return perror("peer: send"), 1;
    if (shutdown(fd, SHUT_WR) == -1)
        return perror("peer: shutdown"), 1;
    fprintf(stderr, "peer: %d sent, then shutdown(SHUT_WR)\n", argc - 2);
    for (int i = 2; i < argc; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return fprintf(stderr, "peer: reply %d: %s\n", i - 1, n == 0 ? "none, the end" : "recv failed"), 1;
        printf("%.*s\n", (int)n, buf);
    }
    return 0;
}
EOF
    # The server is held (SIGSTOP) until both messages and the shutdown
    # are in its queue (a connection is queued before accept(), and so is
    # what its client sends): it reads the first message with the peer's
    # end already shut, every time, whatever the machine's pace.
    start_server "$SOCK"
    kill -STOP "$SERVER_PID"
    spawn peer "$T/peer" "$SOCK" "last words" "and more"
    PEER_PID=$PID
    wait_until said_or_gone "$PEER_PID" "$T/peer.err" 'then shutdown'
    kill -CONT "$SERVER_PID"
    wait_exit "$PEER_PID"
    output=$(<"$T/peer.out")
    note "peer: send 'last words', 'and more', shutdown(SHUT_WR), the server stopped meanwhile; got: ${output//$'\n'/ / } (exit $STATUS; $(tr '\n' ' ' <"$T/peer.err"))"
    wait_until session_over
    recvmsg_lines | note_lines "  "
    is "the server's recvmsg() narration" "$(recvmsg_lines)" "$(printf '%s\n' '[server] recvmsg() = 10 bytes' \
        '[server] recvmsg() = 8 bytes' '[server] recvmsg() = 0: peer closed')"
    is "the replies the peer read" "$output" "LAST WORDS"$'\n'"AND MORE"
}

@test "[extra 1] server -u UID: SO_PEERCRED names each client; user UID's are served, others' closed unserved" {
    [ "$(id -u)" -eq 0 ] || skip "needs root: a client runs as user nobody (setpriv)"
    command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
    own_tmp_dir      # under /tmp: bats' own directories are private
    SOCK=$T/s
    chmod 755 "$T"   # nobody may reach the socket file; its own mode decides
    start_server -m 0777 -u 65534 "$SOCK"
    echo "i am nobody" >"$T/nobody.in"
    # The client's own path: make check's links to it lie in a private directory.
    spawn nobody setpriv --reuid=65534 --regid=65534 --clear-groups "$(readlink -f "$LAB/client")" "$SOCK"
    NOBODY=$PID
    wait_exit "$NOBODY"
    last_match "$T/server.err" 'SO_PEERCRED' || fail "the server narrated no getsockopt(SO_PEERCRED): $(tail -n 3 "$T/server.err")"
    note "user nobody's client, pid $NOBODY: exit $STATUS, got '$(<"$T/nobody.out")'; $LINE"
    expect_line "$T/server.err" "^\\[server\\] getsockopt\\(SO_PEERCRED\\) = pid $NOBODY, uid 65534, gid 65534\$" "the credentials of nobody's client"
    is "nobody's client's exit status" "$STATUS" 0
    is "nobody's client's reply" "$(<"$T/nobody.out")" "I AM NOBODY"

    client "$SOCK" <<<"i am root"
    last_of "$stderr"
    last_match "$T/server.err" 'refused'
    note "root's client: exit $status: $LAST; $LINE"
    expect_line "$T/server.err" '^\[server\] getsockopt\(SO_PEERCRED\) = pid [0-9]+, uid 0, gid 0$' "the credentials of root's client"
    expect_line "$T/server.err" '^\[server\] refused: not user 65534$' "the refusal of root's client"
    is "root's client's exit status" "$status" 1
    # Closed with a message unread, a seqpacket connection is reset (Linux):
    # the client's recv() may fail with ECONNRESET rather than return 0.
    [[ $LAST == "client: the server closed the connection early"* || $LAST == "client: recv: Connection reset by peer" ]] ||
        fail "root's client should say the server closed early, or reset the connection; it says: $LAST"
    not has_line "$T/server.err" 'recvmsg\(\) = 9 bytes' || fail "the server read root's message"
    alive "$SERVER_PID" || fail "the server exited after refusing a client"
}

@test "[extra 2] client -w SECONDS: a server that owes a reply and is silent for that long: exit 1, saying so" {
    start_server "$SOCK"
    client -w 1 "$SOCK" <<<"in time"
    note "client -w 1, a server that answers: exit $status, got '$output'"
    is "exit status of client -w 1 (${stderr##*$'\n'})" "$status" 0
    is "the reply" "$output" "IN TIME"
    kill -STOP "$SERVER_PID"   # it still queues connections and messages
    wait_until stopped "$SERVER_PID"
    t0=${EPOCHREALTIME/./}
    client -w 1 "$SOCK" <<<"anyone there"
    took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    last_of "$stderr"
    note "a stopped server: exit $status after $took ms: $LAST"
    is "exit status of client -w 1 with a stopped server" "$status" 1
    is "its error" "$LAST" "client: no reply for 1 s (messages sent: 1, replies received: 0)"
    (( took >= 1000 )) || fail "the client gave up after $took ms, before the 1 s it was given"
}

@test "the client refuses a line longer than 65536 bytes, the largest message" {
    start_server "$SOCK"
    head -c 65537 /dev/zero | tr '\0' 'z' >"$T/in"
    client "$SOCK" <"$T/in"
    last_of "$stderr"
    note "a 65537-byte line: exit $status: $LAST"
    is "the client's exit status" "$status" 1
    [[ $stderr == *"client: line 1 is longer than 65536 bytes"* ]] || fail "the client should say line 1 is too long; it says: $LAST"
}

@test "usage: -h and --help exit 0; bad options, extra arguments and a path longer than sun_path exit 2" {
    printf -v long '%120s' ''
    long=$T/${long// /x}
    run_split env ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=socket -o "$T/trace" "$LAB/server" "$long"
    note "server <${#long}-byte path>: exit $status: ${stderr%%$'\n'*}"
    is "exit status of a server given a path longer than sun_path" "$status" 2
    [[ $stderr == *"sun_path holds at most 107"* ]] || fail "the error should say sun_path holds at most 107 bytes: ${stderr%%$'\n'*}"
    not has_line "$T/trace" 'socket\(' || fail "the server called socket() before refusing the path: $(grep 'socket(' "$T/trace")"
    run_split "$LAB/client" "$long"
    is "exit status of a client given a path longer than sun_path" "$status" 2
    usage_contract server /tmp/lab04.sock
    usage_contract client /tmp/lab04.sock
    for bad in "-m 999" "-s 0" "-s 65537" "-s 12x" "-s"; do
        run_split "$LAB/server" $bad
        note "server $bad: exit $status: ${stderr%%$'\n'*}"
        is "exit status of server $bad" "$status" 2
    done
    run_split "$LAB/client" -s 16 "$SOCK"
    is "exit status of client -s 16 (the client has no -s)" "$status" 2
    [ ! -e "$SOCK" ] || fail "a client refused at usage left $SOCK"
}
