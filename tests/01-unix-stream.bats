#!/usr/bin/env bats
# Lab 01: a Unix-domain stream socket, named by a path in the filesystem.
#
# Under `make check`, a "[step N]" test runs the student's program that
# holds step N against the reference build of the other one. Each step's
# first test watches that step's own call with strace, the earliest place
# its mistakes show, and needs no later step: a mistake in a later step
# never makes all of an earlier step's tests fail.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 01-unix-stream
    SOCK=$T/s
}

teardown() {
    exec 5>&-
    lab_teardown
}

# traced NAME CALLS COMMAND...: spawn COMMAND as NAME (see spawn) under
# strace, its CALLS (a strace -e trace= list) written to $T/NAME.trace, a
# line each as they return: a call is seen as made even when the program
# dies right after it. PID is strace's; the program is its child, in its
# process group, stopped with it in teardown.
traced() {
    local name=$1 calls=$2
    shift 2
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    spawn "$name" env ASAN_OPTIONS=detect_leaks=0 strace -qq -o "$T/$name.trace" -e trace="$calls" "$@"
}

# call_of NAME CALL: the line of $T/NAME.trace for the first CALL made on
# the socket that the first socket() returned, into LINE ("" when none),
# its blanks squeezed (strace pads the " = result" to a column).
call_of() {
    LINE=$(awk -v call="$2" '
        { gsub(/  +/, " ") }
        !fd && /^socket\(/ { fd = $NF; if (call == "socket") { print; exit } next }
        fd && (index($0, call "(" fd ",") == 1 || index($0, call "(" fd ")") == 1) { print; exit }' "$T/$1.trace")
}

# held_server ARGS...: the server under strace (its socket calls in
# $T/server.trace), held still at its first accept() by a SIGSTOP that
# strace sends there: what steps 1 to 3 built is looked at as it is,
# whatever step 4 does next. SERVER_PID is strace's pid, SERVER the
# server's own (empty when it died before accept()).
held_server() {
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -qq -o "$T/server.trace" \
        -e trace=socket,bind,listen,accept,accept4 -e inject=accept,accept4:signal=SIGSTOP:when=1 "$LAB/server" "$@"
    SERVER_PID=$PID
    wait_until said_or_gone "$PID" "$T/server.trace" 'stopped by SIGSTOP'
    SERVER=
    read -r SERVER _ <"/proc/$PID/task/$PID/children" 2>/dev/null || true
}

# open_session: a client connected and idle, its stdin a FIFO we hold open
# on fd 5. Sets CLIENT_PID and SERVER_FD (the server's fd for this client).
open_session() {
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"
    spawn client "$LAB/client" "$@" "$SOCK"
    CLIENT_PID=$PID
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'accept\(\) = fd [0-9]+'
    last_match "$T/server.err" 'accept\(\) = fd ([0-9]+)' ||
        fail "the server accepted no client; its last lines: $(tail -n 3 "$T/server.err")"
    SERVER_FD=$MATCH
}

# last line of the output of `run`, "" when there is none
last_line() {
    LAST=${lines[*]: -1}
}

@test "[step 1] socket() makes a Unix stream socket: strace shows socket(AF_UNIX, SOCK_STREAM, 0), and the server narrates the same fd" {
    traced server socket "$LAB/server" "$SOCK"
    SERVER_PID=$PID
    # Its narration of socket(), or its error exit, whatever comes after.
    wait_until said_or_gone "$PID" "$T/server.err" 'socket'
    call_of server socket
    note "strace: ${LINE:-no socket() call}"
    [[ $LINE =~ ^socket\(AF_UNIX,\ SOCK_STREAM,\ 0\)\ +=\ ([0-9]+)$ ]] ||
        fail "strace shows the server's socket() call as '${LINE:-no call at all}': expected socket(AF_UNIX, SOCK_STREAM, 0) = a descriptor"
    fd=${BASH_REMATCH[1]}
    expect_line "$T/server.err" "^\[server\] socket\(AF_UNIX, SOCK_STREAM\) = fd $fd\$" \
        "socket() returned fd $fd, but the server did not narrate it as its socket (is that descriptor in lfd?)"
}

@test "[step 2] bind() names the socket: strace shows bind(fd, {AF_UNIX, PATH}, 110), the whole sockaddr_un, and the server narrates it" {
    traced server socket,bind "$LAB/server" "$SOCK"
    SERVER_PID=$PID
    wait_until said_or_gone "$PID" "$T/server.err" 'bind\(".*"\) = 0'
    call_of server bind
    note "strace: ${LINE:-no bind() call}"
    [[ $LINE =~ ^bind\([0-9]+,\ \{sa_family=AF_UNIX,\ sun_path=\""$SOCK"\"\},\ 110\)\ +=\ 0$ ]] ||
        fail "strace shows the server's bind() on its socket as '${LINE:-no call at all}': expected bind(fd, {sa_family=AF_UNIX, sun_path=\"$SOCK\"}, 110) = 0 (110: sizeof addr, a struct sockaddr_un)"
    expect_line "$T/server.err" "^\[server\] bind\(\"$SOCK\"\) = 0\$" \
        "bind() returned 0, but the server did not go on (is its result in bound?)"
}

@test "[step 2] bind() creates a socket file (type s, mode srwx------); it is removed on exit" {
    [ ! -e "$SOCK" ] || fail "$SOCK exists before the server starts"
    start_server "$SOCK"
    is "the readiness line" "$READY" "listening on $SOCK"
    mapfile -t out <"$T/server.out"
    is "lines on the server's standard output" "${#out[@]}" 1
    [ -S "$SOCK" ] || fail "no socket file at $SOCK after bind(): ls says $(ls -l "$T")"
    listing=$(ls -l "$SOCK")
    note "while the server runs:  $listing"
    [[ $listing == srwx------* ]] || fail "the socket file's mode: expected srwx------, saw $listing"
    # size 0, an inode with no data: the name only finds the socket
    [ ! -s "$SOCK" ] || fail "the socket file holds data: $listing"
    expect_line "$T/server.err" "bind\(\"$SOCK\"\) = 0" "the server's bind()"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" || fail "the server still runs ${WAIT_LIMIT}s after SIGTERM"
    is "the server's exit status after SIGTERM" "$STATUS" 0
    [ ! -e "$SOCK" ] || fail "the server left its socket file at exit: $(ls -l "$SOCK")"
    files=("$T"/*)
    note "after SIGTERM: exit status $STATUS, $(tail -n 1 "$T/server.err"); ls: ${files[*]##*/}"
    rm "$T/server.out"
    start_server "$SOCK"
    kill -INT "$SERVER_PID"          # Ctrl-C does the same
    wait_exit "$SERVER_PID" || fail "the server still runs ${WAIT_LIMIT}s after SIGINT"
    is "the server's exit status after SIGINT" "$STATUS" 0
    [ ! -e "$SOCK" ] || fail "the server left its socket file after SIGINT: $(ls -l "$SOCK")"
    note "after SIGINT: exit status $STATUS, the file is gone too"
}

@test "[step 2] file permissions guard the socket: another user's connect() fails with EACCES" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, to run the client as user nobody"
    command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
    as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    as_nobody test -x "$LAB/client" || skip "user nobody cannot run $LAB/client (a private parent directory)"
    own_tmp_dir      # under /tmp: bats' own directories are private
    SOCK=$T/s
    chmod 755 "$T"   # nobody may reach the socket file; its own mode decides
    start_server "$SOCK"
    run timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$LAB/client" "$SOCK" </dev/null
    last_line
    note "$(ls -l "$SOCK" | cut -d' ' -f1)  user nobody: $LAST"
    is "user nobody's client: exit status" "$status" 1
    [[ $output == *"connect $SOCK: Permission denied"* ]] ||
        fail "user nobody's connect() to a srwx------ socket: expected 'Permission denied', saw: $output"

    spawn wide "$LAB/server" -m 0777 "$T/wide"
    wait_until ready_or_dead "$PID" wide
    [ -s "$T/wide.out" ] || fail "server -m 0777 did not start: $(cat "$T/wide.err")"
    run --separate-stderr timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups "$LAB/client" "$T/wide" <<<"let me in"
    last_line
    note "$(ls -l "$T/wide" | cut -d' ' -f1)  (server -m 0777)  user nobody gets: $LAST"
    is "user nobody's client on a srwxrwxrwx socket: exit status (stderr: $stderr)" "$status" 0
    is "user nobody's reply" "$LAST" "LET ME IN"
}

@test "[step 2] the path's old occupant: a stale socket file is replaced; a regular file is left untouched" {
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"        # dies without removing its file
    wait_exit "$SERVER_PID"
    [ -S "$SOCK" ] || fail "no socket file left after SIGKILL: ls says $(ls -l "$T")"
    note "after SIGKILL the file stays: $(ls -l "$SOCK" | cut -d' ' -f1)"
    rm "$T/server.out"
    start_server "$SOCK"
    note_lines "  " < <(grep -E 'bind|connect|unlink' "$T/server.err")
    expect_line "$T/server.err" 'Connection refused: stale socket file' "the new server's probe of the old file"
    run --separate-stderr timeout 10 "$LAB/client" "$SOCK" <<<"fresh"
    is "the reply from the new server" "$output" "FRESH"

    echo "precious data" >"$T/file"
    run timeout 10 "$LAB/server" "$T/file"
    last_line
    note "a regular file at PATH: exit $status: $LAST"
    is "the server's exit status on a regular file" "$status" 1
    [[ $LAST == *"not a socket"* ]] || fail "the server's last line on a regular file: expected '... not a socket ...', saw '$LAST'"
    is "the regular file's content" "$(<"$T/file")" "precious data"
}

@test "[step 2] a live server's path is refused, and that server keeps serving" {
    start_server "$SOCK"
    run timeout 10 "$LAB/server" "$SOCK"
    last_line
    note "second server: exit $status: $LAST"
    is "the second server's exit status" "$status" 1
    [[ $LAST == "server: bind $SOCK: Address already in use"* ]] ||
        fail "the second server's last line: expected 'server: bind $SOCK: Address already in use...', saw '$LAST'"
    [ -S "$SOCK" ] || fail "the first server's socket file is gone: ls says $(ls -l "$T")"
    run --separate-stderr timeout 10 "$LAB/client" "$SOCK" <<<"still here"
    last_line
    is "the client's exit status (stderr: $stderr)" "$status" 0
    is "the first server's reply" "$LAST" "STILL HERE"
}

@test "[step 3] listen(): strace shows listen(fd, 16) on the socket, then the readiness line; ss -xl shows it LISTEN, backlog 16" {
    held_server "$SOCK"
    call_of server listen
    note "strace: ${LINE:-no listen() call}"
    [[ $LINE =~ ^listen\([0-9]+,\ 16\)\ +=\ 0$ ]] ||
        fail "strace shows the server's listen() on its socket as '${LINE:-no call at all}': expected listen(fd, 16) = 0"
    read -r READY <"$T/server.out" ||
        fail "listen() returned 0, but no readiness line came (is its result in listening?); the server said: $(tail -n 2 "$T/server.err")"
    is "the readiness line" "$READY" "listening on $SOCK"
    row=$(ss -xlH src "$SOCK")
    note "ss -xl src $SOCK:"
    note "  $row"
    read -ra field <<<"$row"
    is "the socket's state in ss -xl" "${field[1]:-no row}" LISTEN
    is "its Send-Q in ss -xl, the backlog" "${field[3]:-}" 16
    expect_line "$T/server.err" 'listen\(backlog=16\) = 0' "the server's listen()"
}

@test "[step 3] a socket is a file descriptor: /proc/PID/fd/N is socket:[inode], the inode ss -xlp shows" {
    held_server "$SOCK"
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_STREAM\) = fd ([0-9]+)' ||
        fail "the server did not narrate its socket(): $(head -n 3 "$T/server.err")"
    lfd=$MATCH
    link=$(readlink "/proc/$SERVER/fd/$lfd")
    note "/proc/$SERVER/fd/$lfd -> $link"
    [[ $link =~ ^socket:\[([0-9]+)\]$ ]] || fail "/proc/$SERVER/fd/$lfd: expected socket:[inode], saw '$link'"
    ino=${BASH_REMATCH[1]}
    row=$(ss -xlpH src "$SOCK")
    note "ss -xlp: $row"
    read -ra field <<<"$row"
    is "ss's 6th column, the local inode" "${field[5]:-no row}" "$ino"
    [[ $row == *"pid=$SERVER,fd=$lfd)"* ]] || fail "ss -xlp does not name pid=$SERVER,fd=$lfd: $row"
}

@test "[step 4] during a session ss -x shows the ESTAB pair, each end naming the other as peer" {
    start_server "$SOCK"
    open_session
    link=$(readlink "/proc/$SERVER_PID/fd/$SERVER_FD")   # socket:[INODE]
    [[ $link == socket:* ]] || fail "the server's fd $SERVER_FD from accept(): expected a socket, saw '$link'"
    server_ino=${link//[!0-9]/}
    server_row=$(unix_row "$server_ino")
    read -ra field <<<"$server_row"
    peer_ino=${field[7]:-}                                 # ss's 8th column: the peer's inode
    client_row=$(unix_row "$peer_ino")
    note "ss -xp, the two ends of one connection:"
    note "  $server_row"
    note "  $client_row"
    [[ $server_row == u_str*ESTAB*"$SOCK"* ]] || fail "the server's end in ss -xp: expected u_str ESTAB on $SOCK, saw '$server_row'"
    [[ $client_row == u_str*ESTAB* ]] || fail "the client's end in ss -xp: expected u_str ESTAB, saw '$client_row'"
    read -ra field <<<"$client_row"
    is "the client's end's peer, in ss -xp" "${field[7]:-}" "$server_ino"
    [[ $client_row == *"\"client\",pid=$CLIENT_PID,"* ]] || fail "the client's end is not the client's (pid $CLIENT_PID): $client_row"
}

@test "[step 4] the byte stream keeps no boundaries: 1 MiB of writes arrives in reads of other sizes" {
    start_server "$SOCK"
    head -c 1048576 /dev/zero | tr '\0' 'x' >"$T/in"
    timeout 20 "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err" ||
        fail "the client failed (exit $?): $(tail -n 2 "$T/client.err")"
    is "bytes echoed" "$(wc -c <"$T/out")" 1048576
    mapfile -t writes < <(sed -nE 's/^\[client\] write\(\) = ([0-9]+) bytes.*/\1/p' "$T/client.err")
    mapfile -t reads < <(sed -nE 's/^\[server\] read\(\) = ([0-9]+) bytes/\1/p' "$T/server.err")
    note "client write() sizes: ${writes[*]}"
    note "server read() sizes:  ${reads[*]}"
    [ "${#reads[@]}" -gt 1 ] || fail "the server read 1 MiB in ${#reads[@]} read() calls: expected several"
    [ "${writes[*]}" != "${reads[*]}" ] || fail "the reads' sizes are the writes' sizes: ${reads[*]}"
    total=0
    for n in "${reads[@]}"; do total=$((total + n)); done
    is "bytes the server's reads add up to" "$total" 1048576
}

@test "[step 4] SIGPIPE kills nobody: a reply to a client that is gone fails with EPIPE, and the server serves on" {
    start_server "$SOCK"
    kill -STOP "$SERVER_PID"          # the line waits in the server's queue
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"
    spawn client "$LAB/client" "$SOCK"
    echo "hello" >&5
    wait_until has_line "$T/client.err" 'write\(\) = 6 bytes'
    kill -KILL "$PID"
    wait_gone "$PID"
    kill -CONT "$SERVER_PID"          # it reads the line, then writes to nobody
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'close\(fd [0-9]+\)'
    alive "$SERVER_PID" || fail "the server died writing to a client that was gone: $(tail -n 2 "$T/server.err")"
    mapfile -t seen < <(grep -E 'read\(\) = [0-9]+ bytes|write\(\)' "$T/server.err")
    note "the server, resumed after the client died: ${seen[*]}"
    expect_line "$T/server.err" 'write\(\) = -1: Broken pipe' "the server's write() to a client that is gone"
    run --separate-stderr timeout 10 "$LAB/client" "$SOCK" <<<"next"
    last_line
    is "the next client's exit status (stderr: $stderr)" "$status" 0
    is "the next client's reply" "$LAST" "NEXT"
}

@test "[step 4] one client at a time: while a slow client holds the server, the next waits in the accept queue" {
    start_server "$SOCK"
    open_session                       # the first client, connected, sends nothing yet
    printf 'second\n' >"$T/second.in"
    spawn second "$LAB/client" "$SOCK"
    SECOND_PID=$PID
    wait_until has_line "$T/second.err" 'connect\(.*\) = 0'   # connect() returns: the kernel queued it
    wait_until queued_on "$SOCK" 1
    note "the second client: $(grep 'connect(' "$T/second.err"), and no reply"
    note "ss -xl src $SOCK: $LISTENER   (Recv-Q 1: one connection waits for accept())"
    [ ! -s "$T/second.out" ] || fail "the second client got a reply while the first held the server: $(<"$T/second.out")"
    is "accept() calls so far" "$(count 'accept\(\) = fd' "$T/server.err")" 1
    exec 5>&-                          # the first client's input ends; the server moves on
    wait_exit "$SECOND_PID" || fail "the second client still waits ${WAIT_LIMIT}s after the first one ended"
    is "the second client's exit status" "$STATUS" 0
    is "the second client's reply" "$(<"$T/second.out")" SECOND
    note "the first client done, the server accepts the second: it prints $(<"$T/second.out")"
}

@test "[step 4] a silent client, and one that never reads its replies, hold the server -t seconds at most; then the next client is served" {
    start_server -t 1 "$SOCK"
    open_session                       # connected, and sends nothing
    t0=${EPOCHREALTIME/./}
    printf 'second\n' >"$T/second.in"
    spawn second "$LAB/client" "$SOCK"
    wait_exit "$PID" || fail "the next client still waits after ${WAIT_LIMIT}s behind a silent one"
    took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    last_match "$T/server.err" 'client dropped' || fail "the server dropped nobody: $(tail -n 3 "$T/server.err")"
    note "$LINE"
    note "the next client got $(<"$T/second.out") after $took ms"
    is "the server's line on the silent client" "$LINE" "[server] read() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped"
    is "the next client's exit status" "$STATUS" 0
    is "the next client's reply" "$(<"$T/second.out")" SECOND
    # One that sends 8 MiB and stops reading the echo: its standard output,
    # a FIFO nobody reads, fills, and the client stops, in its write() to
    # it, both reading and sending. The server then waits 1 s, no more, in
    # whichever call it was: a write() (the client's queue full of echo) or
    # a read() (all the client sent already echoed). Which one depends on
    # how far each got before the client stopped: both were seen, the read
    # under the sanitizers (1 run in 6).
    mkfifo "$T/stuck.out.fifo"
    exec 5<>"$T/stuck.out.fifo"
    head -c 8388608 /dev/zero | tr '\0' a >"$T/stuck.in"
    "$LAB/client" "$SOCK" <"$T/stuck.in" >"$T/stuck.out.fifo" 2>/dev/null 3>&- &
    echo "$!" >>"$T/pids"
    stuck_dropped() { [ "$(count 'client dropped$' "$T/server.err")" -ge 2 ]; }
    wait_until stuck_dropped || fail "the server did not drop the client that stopped reading: $(tail -n 3 "$T/server.err")"
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    [[ $LINE =~ ^\[server\]\ (write|read)\(\)\ =\ -1:\ Resource\ temporarily\ unavailable\ \((not\ read|nothing)\ for\ 1\ s\):\ client\ dropped$ ]] ||
        fail "the server's line on the client that stopped reading: '$LINE'"
    run_split timeout 10 "$LAB/client" "$SOCK" <<<"third"
    is "the third client's exit status (stderr: $stderr)" "$status" 0
    is "the third client's reply" "$output" THIRD
}

# queued_on PATH N: the listener at PATH has N connections waiting for
# accept() (its Recv-Q in ss -xl). LISTENER is its row.
queued_on() {
    local field
    LISTENER=$(ss -xlH src "$1")
    read -ra field <<<"$LISTENER"
    [ "${field[2]:-}" = "$2" ] || return 1
}

# build_peer: tests/01-unix-stream-peer.c, lab 01's client N times over in
# one process, built once for this file, as PEER.
build_peer() {
    PEER=$BATS_FILE_TMPDIR/peer
    [ -x "$PEER" ] ||
        cc -std=c11 -Wall -Wextra -Werror -o "$PEER" "$ROOT/tests/01-unix-stream-peer.c" ||
        fail "tests/01-unix-stream-peer.c does not build"
}

@test "[step 4] 200 clients in a row leave the server's descriptor count unchanged" {
    build_peer
    start_server "$SOCK"
    before=$(fd_count "$SERVER_PID")
    # 200 connections from one process, each as the client makes it: a
    # line, shutdown(SHUT_WR), the reply up to the server's close, checked
    run_split "$PEER" "$SOCK" 200
    is "the peer's exit status, 200 connections in a row (stderr: $stderr)" "$status" 0
    is "the 200th connection's reply" "$output" "CLIENT 200"
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after 200 clients"
    is "the server's open descriptors after 200 clients (before: $before)" "$after" "$before"
    is "accept() calls" "$(count 'accept\(\) = fd' "$T/server.err")" 200
}

@test "[step 5] the client's socket() and connect(): strace shows both on one stream socket, with the whole sockaddr_un, and the server accepts it" {
    start_server "$SOCK"
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"             # its input stays open: only the connection is looked at
    traced client socket,connect "$LAB/client" "$SOCK"
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/server.err" 'accept\(\) = fd'
    # the server can accept, and narrate it, before the client narrates its connect()
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^(\[client\] connect\(|client: )' || true
    call_of client socket
    note "strace: ${LINE:-no socket() call}"
    [[ $LINE =~ ^socket\(AF_UNIX,\ SOCK_STREAM,\ 0\)\ +=\ ([0-9]+)$ ]] ||
        fail "strace shows the client's socket() call as '${LINE:-no call at all}': expected socket(AF_UNIX, SOCK_STREAM, 0) = a descriptor"
    fd=${BASH_REMATCH[1]}
    expect_line "$T/client.err" "^\[client\] socket\(AF_UNIX, SOCK_STREAM\) = fd $fd\$" \
        "the client's narration of its socket(), fd $fd (narrate it as the server does)"
    call_of client connect
    note "strace: ${LINE:-no connect() call}"
    [[ $LINE =~ ^connect\($fd,\ \{sa_family=AF_UNIX,\ sun_path=\""$SOCK"\"\},\ 110\)\ +=\ 0$ ]] ||
        fail "strace shows the client's connect() on fd $fd as '${LINE:-no call at all}': expected connect($fd, {sa_family=AF_UNIX, sun_path=\"$SOCK\"}, 110) = 0"
    expect_line "$T/client.err" "^\[client\] connect\(\"$SOCK\"\) = 0\$" \
        "connect() returned 0, but the client did not go on (is its result in connected?)"
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd [0-9]+$' "the server's accept() of the client"
}

@test "[step 5] connect() reaches a listening server; on a stale socket file or none, the client exits 1 with connect's reason" {
    start_server "$SOCK"
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"
    spawn client "$LAB/client" "$SOCK"
    wait_until said_or_gone "$PID" "$T/server.err" 'accept\(\) = fd'
    wait_until said_or_gone "$PID" "$T/client.err" '^(\[client\] connect\(|client: )' || true    # it can come after the accept
    expect_line "$T/client.err" "^\[client\] connect\(\"$SOCK\"\) = 0\$" "the client's connect() to a listening server"
    note "a server:    $(grep -h 'connect(\|accept(' "$T/client.err" "$T/server.err" | paste -sd ' ')"
    kill -KILL "$SERVER_PID"           # its file stays: stale
    wait_exit "$SERVER_PID"
    run --separate-stderr timeout 10 "$LAB/client" "$SOCK" </dev/null
    one_error || fail "the client on a stale socket file: exit $status, stderr: $stderr"
    note "stale file:  exit $status: $ERROR"
    is "the client's exit status on a socket file nobody listens on" "$status" 1
    is "its error line" "$ERROR" "client: connect $SOCK: Connection refused"
    rm "$SOCK"
    run --separate-stderr timeout 10 "$LAB/client" "$SOCK" </dev/null
    one_error || fail "the client with no socket file: exit $status, stderr: $stderr"
    note "no file:     exit $status: $ERROR"
    is "the client's exit status with no socket file" "$status" 1
    is "its error line" "$ERROR" "client: connect $SOCK: No such file or directory"
}

@test "[step 6] shutdown(SHUT_WR) at the end of input: the server reads EOF and still replies; the client reads to the end" {
    start_server "$SOCK"
    printf 'half-close\n' >"$T/client.in"
    traced client socket,shutdown,close "$LAB/client" "$SOCK"
    CLIENT_PID=$PID
    # The earliest sign: the server reads the end of the stream.
    if ! wait_until said_or_gone "$CLIENT_PID" "$T/server.err" 'read\(\) = 0: peer closed' 2>/dev/null; then
        call_of client shutdown
        fail "${WAIT_LIMIT}s after the client's input ended, the server has read no end of file; strace shows the client's shutdown() as '${LINE:-no call at all}'; the client said: $(tail -n 2 "$T/client.err")"
    fi
    wait_exit "$CLIENT_PID" || fail "the client still runs ${WAIT_LIMIT}s after the server read its end of file: $(tail -n 2 "$T/client.err")"
    call_of client shutdown
    shut=$LINE
    call_of client close
    note "strace: ${shut:-no shutdown() call}; later ${LINE:-no close()}"
    [[ $shut =~ ^shutdown\([0-9]+,\ SHUT_WR\)\ +=\ 0$ ]] ||
        fail "strace shows the client's shutdown() on its socket as '${shut:-no call at all}' (and its close() as '${LINE:-none}'): expected shutdown(fd, SHUT_WR) = 0, the sending direction only"
    is "the client's exit status ($(tail -n 1 "$T/client.err"))" "$STATUS" 0
    is "the client's output" "$(<"$T/client.out")" "HALF-CLOSE"
    expect_line "$T/client.err" '^\[client\] shutdown\(SHUT_WR\) = 0' "the client's narration of its shutdown()"
    expect_line "$T/client.err" '^\[client\] read\(\) = 0: server closed' "the client's last read()"
    note_lines "  " < <(grep -hE 'shutdown|read\(\) = 0|close' "$T/client.err" "$T/server.err")
}

@test "[step 6] 16 MiB of random bytes round-trip intact, upper-cased" {
    start_server "$SOCK"
    BIG=1   # lab_teardown removes the 16 MiB files at once
    head -c 16777216 /dev/urandom >"$T/in"
    # Not spawn: its NAME.out is printed when a test fails, and this one
    # is 16 MiB of binary.
    "$LAB/client" "$SOCK" <"$T/in" >"$T/echo.bin" 2>"$T/client.err" 3>&- 5>&- &
    PID=$!
    echo "$PID" >>"$T/pids"
    wait_until said_or_gone "$PID" "$T/server.err" 'read\(\) = 0: peer closed' 2>/dev/null ||
        fail "${WAIT_LIMIT}s on, the server has not read the end of the 16 MiB; the client said: $(tail -n 2 "$T/client.err")"
    wait_exit "$PID" || fail "the client still runs ${WAIT_LIMIT}s after the server read its end of file"
    is "the client's exit status ($(tail -n 1 "$T/client.err"))" "$STATUS" 0
    upcase <"$T/in" | cmp - "$T/echo.bin" || fail "the output is not the input upper-cased (cmp above)"
    note "16 MiB: $(count 'read\(\) = [0-9]* bytes' "$T/server.err") server reads, output identical to tr a-z A-Z"
}

@test "a path longer than sun_path holds is a usage error, refused before any socket call" {
    long=$T/$(printf 'x%.0s' {1..120})
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=socket -o "$T/trace" "$LAB/server" "$long"
    is "the server's exit status on a ${#long}-byte path" "$status" 2
    [[ $output == *"sun_path holds at most 107"* ]] || fail "the server's message on a ${#long}-byte path: $output"
    not has_line "$T/trace" 'socket\(' || fail "the server made a socket before refusing the path: $(cat "$T/trace")"
    note "server <${#long}-byte path>: exit 2: ${lines[0]}"
    ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=socket -o "$T/trace" "$LAB/client" "$long"
    is "the client's exit status on a ${#long}-byte path" "$status" 2
    not has_line "$T/trace" 'socket\(' || fail "the client made a socket before refusing the path: $(cat "$T/trace")"
    # The edge: sun_path is 108 bytes with the final NUL, so 107 is the most.
    printf -v p107 '%*s' $((107 - ${#T} - 1)) ''
    p107=$T/${p107// /y}
    p108=${p107}y
    run timeout 10 "$LAB/server" "$p108"
    is "the server's exit status on a 108-byte path" "$status" 2
    start_server "$p107"
    note "a 107-byte path works: $READY"
    is "the readiness line on a 107-byte path" "$READY" "listening on $p107"
}

@test "usage: -h and --help exit 0; unknown options and extra arguments exit 2" {
    usage_contract server /tmp/lab01.sock
    usage_contract client /tmp/lab01.sock
    run "$LAB/server" -m 999 "$SOCK"
    is "server -m 999: exit status" "$status" 2
    [ ! -e "$SOCK" ] || fail "server -m 999 made $SOCK"
}

# --- Going further: the lesson's extras --------------------------------

@test "[extra 1] server -c 2: a second client is served while the first sits idle; then the first is served too" {
    start_server -c 2 "$SOCK"
    open_session                       # the first client: connected, sends nothing yet
    printf 'second\n' >"$T/second.in"
    spawn second "$LAB/client" "$SOCK"
    wait_exit "$PID" ||
        fail "the second client got no reply in ${WAIT_LIMIT}s while the first was idle; the server said: $(tail -n 3 "$T/server.err")"
    is "the second client's exit status" "$STATUS" 0
    is "the second client's reply, the first one still connected" "$(<"$T/second.out")" SECOND
    alive "$CLIENT_PID" || fail "the first client is gone: $(tail -n 2 "$T/client.err")"
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd [0-9]+ \(2 of 2 clients\)$' "the server's second accept(), with the first client connected"
    note_lines "  " < <(grep -E 'accept|fd [0-9]+\)' "$T/server.err")
    echo "first" >&5
    exec 5>&-
    wait_exit "$CLIENT_PID" || fail "the first client got no reply in ${WAIT_LIMIT}s: $(tail -n 2 "$T/client.err")"
    is "the first client's exit status" "$STATUS" 0
    is "the first client's reply" "$(<"$T/client.out")" FIRST
}

@test "[extra 1] server -c 3 -t 2: a client that stops reading stalls nobody; it and a silent one are dropped after 2 s" {
    start_server -c 3 -t 2 "$SOCK"
    open_session                       # silent: connected, sends nothing
    # One that sends 8 MiB and stops reading the echo (its standard output
    # is a FIFO nobody reads): the server's writes to it would block.
    mkfifo "$T/stuck.out.fifo"
    exec 6<>"$T/stuck.out.fifo"
    head -c 8388608 /dev/zero | tr '\0' a >"$T/stuck.in"
    "$LAB/client" "$SOCK" <"$T/stuck.in" >"$T/stuck.out.fifo" 2>/dev/null 3>&- 5>&- 6>&- &
    echo "$!" >>"$T/pids"
    wait_until has_line "$T/server.err" 'accept\(\) = fd [0-9]+ \(2 of 3 clients\)'
    printf 'other\n' >"$T/other.in"
    spawn other "$LAB/client" "$SOCK"
    wait_exit "$PID" || fail "a third client got no reply in ${WAIT_LIMIT}s; the server said: $(tail -n 3 "$T/server.err")"
    dropped=$(count 'client dropped$' "$T/server.err")
    is "the third client's reply" "$(<"$T/other.out")" OTHER
    is "clients dropped before the third was served (it must not wait for them)" "$dropped" 0
    both_dropped() { [ "$(count 'client dropped$' "$T/server.err")" -ge 2 ]; }
    wait_until both_dropped || fail "${WAIT_LIMIT}s on, the server has not dropped both: $(grep -c . "$T/server.err") lines, the last: $(tail -n 3 "$T/server.err")"
    note_lines "  " < <(grep -E 'accept|dropped' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] fd $SERVER_FD: nothing read or written for 2 s: client dropped\$" "the server's line on the silent client (fd $SERVER_FD)"
    exec 6>&-
}

@test "[extra 1] server -c 1: a client beyond MAX waits in the accept queue until one leaves" {
    start_server -c 1 "$SOCK"
    open_session
    printf 'second\n' >"$T/second.in"
    spawn second "$LAB/client" "$SOCK"
    SECOND_PID=$PID
    wait_until has_line "$T/second.err" 'connect\(.*\) = 0'
    wait_until queued_on "$SOCK" 1 || fail "the second client is not in the listener's queue: $LISTENER"
    note "ss -xl src $SOCK: $LISTENER"
    [ ! -s "$T/second.out" ] || fail "a second client was served with -c 1: $(<"$T/second.out")"
    is "accept() calls with -c 1 and one client" "$(count 'accept\(\) = fd' "$T/server.err")" 1
    exec 5>&-
    wait_exit "$SECOND_PID" || fail "the second client still waits ${WAIT_LIMIT}s after the first left"
    is "the second client's reply" "$(<"$T/second.out")" SECOND
}

@test "[extra 2] client -t 1 gives up on a server that owes it a reply (exit 1, one error line), not on an idle session" {
    start_server "$SOCK"
    open_session -t 1                  # served, idle: it owes nothing, is owed nothing
    printf 'second\n' >"$T/second.in"
    t0=${EPOCHREALTIME/./}
    spawn second "$LAB/client" -t 1 "$SOCK"   # queued behind the first: no reply comes
    wait_exit "$PID" || fail "client -t 1 still waits ${WAIT_LIMIT}s for a server that never replies: $(tail -n 2 "$T/second.err")"
    took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    note "client -t 1, no reply: exit $STATUS after $took ms: $(tail -n 2 "$T/second.err" | paste -sd'|')"
    is "the exit status of client -t 1 left without a reply" "$STATUS" 1
    stderr=$(<"$T/second.err")
    one_error || fail "client -t 1: expected one error line, saw: $stderr"
    [[ $ERROR == client:\ * ]] || fail "its error line: expected 'client: ...', saw '$ERROR'"
    [ "$took" -ge 1000 ] || fail "client -t 1 gave up after $took ms, before its second was up"
    [ ! -s "$T/second.out" ] || fail "client -t 1 printed a reply: $(<"$T/second.out")"
    alive "$CLIENT_PID" || fail "client -t 1 on an idle session, owed nothing, gave up: $(tail -n 2 "$T/client.err")"
    echo "first" >&5
    exec 5>&-
    wait_exit "$CLIENT_PID" || fail "the first client got no reply in ${WAIT_LIMIT}s"
    is "the idle client's exit status, once it spoke" "$STATUS" 0
    is "the idle client's reply" "$(<"$T/client.out")" FIRST
    run_split "$LAB/client" -t x "$SOCK"
    is "client -t x: exit status" "$status" 2
}
