#!/usr/bin/env bats
# Lab 04: a Unix-domain seqpacket socket: a connection, as in lab 01, that
# keeps message boundaries, as datagrams do in lab 03.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 04-seqpacket
    SOCK=$T/s
}

teardown() {
    exec 5>&- 2>/dev/null || true
    # A server traced by strace: strace detaches when killed, so stop it too.
    [ -z "${TRACED_PID:-}" ] || kill -TERM "$TRACED_PID" 2>/dev/null || true
    lab_teardown
}

# open_session: a client connected and idle, its standard input a FIFO that
# this test holds open for writing on fd 5, opened after the spawn: the
# client holds no writer of its own, so `exec 5>&-` is the end of its
# input. Sets CLIENT_PID and SERVER_FD (the server's fd for this client).
open_session() {
    mkfifo "$T/client.in"
    spawn client "$LAB/client" "$SOCK"
    CLIENT_PID=$PID
    exec 5>"$T/client.in"   # meets the client's open of its stdin
    wait_until has_line "$T/server.err" 'accept\(\) = fd [0-9]+'
    last_match "$T/server.err" 'accept\(\) = fd ([0-9]+)'
    SERVER_FD=$MATCH
}

# closes_are N: the server has narrated exactly N close(fd ...) calls. A
# function, so that wait_until runs the grep anew each time it looks.
closes_are() {
    [ "$(grep -c '^\[server\] close(fd ' "$T/server.err")" -eq "$1" ]
}

# recvmsg_lines: the server's recvmsg() narration, one per line.
recvmsg_lines() {
    grep -E '^\[server\] recvmsg\(\)' "$T/server.err"
}

@test "[step 1] socket(AF_UNIX, SOCK_SEQPACKET): a descriptor whose socket ss calls u_seq" {
    start_server "$SOCK"
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_SEQPACKET\) = fd ([0-9]+)'
    lfd=$MATCH
    [ -n "$lfd" ]
    link=$(readlink "/proc/$SERVER_PID/fd/$lfd")
    note "/proc/$SERVER_PID/fd/$lfd -> $link"
    [[ $link =~ ^socket:\[([0-9]+)\]$ ]]
    row=$(unix_row "${BASH_REMATCH[1]}")
    note "ss -xap, that inode: $row"
    [ "${row%% *}" = u_seq ]   # its first column, Netid
}

@test "[step 2] bind() creates a socket file (srwx------); it is removed on exit" {
    start_server "$SOCK"
    listing=$(ls -l "$SOCK")
    note "while the server runs:  $listing"
    [[ $listing == srwx------* ]]
    has_line "$T/server.err" "bind\(\"$SOCK\"\) = 0"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    [ "$STATUS" -eq 0 ]
    [ ! -e "$SOCK" ]
    mapfile -t err <"$T/server.err"
    note "after SIGTERM: exit status $STATUS, ${err[-1]}"
}

@test "[step 2] a stale socket file is replaced" {
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"        # dies without removing its file
    wait_exit "$SERVER_PID"
    [ -S "$SOCK" ]
    note "after SIGKILL the file stays: $(ls -l "$SOCK" | cut -d' ' -f1)"
    rm "$T/server.out"
    : >"$T/server.err"
    start_server "$SOCK"
    note_lines "  " < <(grep -E 'bind|connect|unlink' "$T/server.err")
    has_line "$T/server.err" 'Connection refused: stale socket file'
    row=$(ss -xlH src "$SOCK")
    note "ss -xl: $row"
    read -ra field <<<"$row"
    [ "${field[0]} ${field[1]}" = "u_seq LISTEN" ]
}

@test "[step 2] an occupied path is refused: a regular file stays untouched, a live server keeps its socket" {
    echo "precious data" >"$T/file"
    run "$LAB/server" "$T/file"
    note "a regular file: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == *"not a socket"* ]]
    [ "$(<"$T/file")" = "precious data" ]

    start_server "$SOCK"
    read -ra field < <(ss -xlH src "$SOCK")
    before="${field[0]} ${field[1]} ${field[4]} ${field[5]}"
    run "$LAB/server" "$SOCK"
    note "a live server's path: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == "server: bind $SOCK: Address already in use"* ]]
    read -ra field < <(ss -xlH src "$SOCK")
    after="${field[0]} ${field[1]} ${field[4]} ${field[5]}"
    note "ss -xl (Netid, State, path, inode) before: $before; after: $after"
    [ "$after" = "$before" ]   # the same listener, still reached by the path
    [ -n "$after" ]
}

@test "[step 3] ss -xl shows the listener: Netid u_seq, State LISTEN" {
    start_server "$SOCK"
    row=$(ss -xlH src "$SOCK")
    note "ss -xl src $SOCK:"
    note "  $row"
    read -ra field <<<"$row"
    [ "${field[0]} ${field[1]}" = "u_seq LISTEN" ]
    has_line "$T/server.err" 'listen\(backlog=16\) = 0'
}

@test "[step 5] connect() and accept(): during a session ss -x shows the ESTAB pair, both u_seq" {
    start_server "$SOCK"
    open_session
    last_match "$T/client.err" 'connect'
    note "$LINE  /  $(grep -E 'accept' "$T/server.err")"
    link=$(readlink "/proc/$SERVER_PID/fd/$SERVER_FD")   # socket:[INODE]
    server_ino=${link//[!0-9]/}
    server_row=$(unix_row "$server_ino")
    read -ra field <<<"$server_row"
    client_row=$(unix_row "${field[7]}")                  # ss's 8th column: the peer's inode
    note "ss -xap, the two ends of one connection:"
    note "  $server_row"
    note "  $client_row"
    [ "${field[0]} ${field[1]} ${field[4]}" = "u_seq ESTAB $SOCK" ]
    read -ra field <<<"$client_row"
    [ "${field[0]} ${field[1]}" = "u_seq ESTAB" ]
    [ "${field[7]}" = "$server_ino" ]
    [[ $client_row == *"\"client\",pid=$CLIENT_PID,"* ]]
}

@test "[step 4] 200 clients in a row leave the server's descriptor count unchanged" {
    start_server "$SOCK"
    before=$(fd_count "$SERVER_PID")
    clients_in_a_row 200 "$T/out" "$LAB/client" "$SOCK"
    [ "$(<"$T/out")" = "CLIENT 200" ]
    wait_until closes_are 200
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after 200 clients"
    [ "$before" -eq "$after" ]
    [ "$(grep -c 'accept() = fd' "$T/server.err")" -eq 200 ]
}

@test "[step 4] a silent client holds the server -t seconds at most; then the next client is served" {
    start_server -t 1 "$SOCK"
    open_session                       # connected, and sends nothing
    t0=${EPOCHREALTIME/./}
    run_split timeout 10 "$LAB/client" "$SOCK" <<<"next"
    took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    note "the next client got $output after $took ms"
    [[ $LINE == "[server] recvmsg() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped" ]]
    [ "$status" -eq 0 ] && [ "$output" = NEXT ]
}

@test "[step 5] the client exits 1 with the reason: no server (no file, refused), or a server that goes away" {
    run --separate-stderr "$LAB/client" "$SOCK" </dev/null
    one_error
    note "no file:         exit $status: $ERROR"
    [ "$status" -eq 1 ]
    [ "$ERROR" = "client: connect $SOCK: No such file or directory" ]
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run --separate-stderr "$LAB/client" "$SOCK" </dev/null
    one_error
    note "stale file:      exit $status: $ERROR"
    [ "$status" -eq 1 ]
    [ "$ERROR" = "client: connect $SOCK: Connection refused" ]

    rm "$T/server.out"
    start_server "$SOCK"
    open_session
    kill -TERM "$SERVER_PID"
    wait_exit "$CLIENT_PID"
    mapfile -t err <"$T/client.err"
    note "server SIGTERM: exit $STATUS: ${err[-1]}"
    [ "$STATUS" -eq 1 ]
    has_line "$T/client.err" '^client: the server closed the connection early'
}

@test "[step 6] message boundaries are kept: 3 lines are 3 messages, 3 replies on 3 lines" {
    start_server "$SOCK"
    printf 'hello\nseqpacket world\nx\n' >"$T/in"
    run --separate-stderr "$LAB/client" "$SOCK" <"$T/in"
    [ "$status" -eq 0 ]
    note_lines "client stdout: " <<<"$output"
    [ "$output" = "$(upcase <"$T/in")" ]
    wait_until has_line "$T/server.err" 'close\(fd [0-9]+\)'
    mapfile -t sizes < <(sed -nE 's/^\[server\] recvmsg\(\) = ([0-9]+) bytes$/\1/p' "$T/server.err")
    mapfile -t sent < <(sed -nE 's/^\[client\] send\(\) = ([0-9]+) bytes$/\1/p' <<<"$stderr")
    note "client send() sizes:    ${sent[*]}"
    note "server recvmsg() sizes: ${sizes[*]}"
    [ "${sizes[*]}" = "5 15 1" ]
}

@test "[step 6] binary-safe: NUL and bytes above 127 come back unchanged; only a-z change" {
    start_server "$SOCK"
    printf 'a\0b\377c\351z\n' >"$T/in"
    "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err"
    note "sent, od -c: $(od -An -c "$T/in" | tr -s ' ')"
    note "got,  od -c: $(od -An -c "$T/out" | tr -s ' ')"
    cmp <(printf 'A\0B\377C\351Z\n') "$T/out"
}

@test "[step 6] truncation: server -s 16 and a 40-byte line: MSG_TRUNC, the first 16 bytes come back, the rest is gone" {
    start_server -s 16 "$SOCK"
    line='the quick brown fox jumps over a lazy do'   # 40 bytes
    [ "${#line}" -eq 40 ]
    printf '%s\nnext\n' "$line" >"$T/in"
    run --separate-stderr "$LAB/client" "$SOCK" <"$T/in"
    [ "$status" -eq 0 ]
    note_lines "  " < <(recvmsg_lines | head -n 2)
    note_lines "client stdout: " <<<"$output"
    has_line "$T/server.err" '\[server\] recvmsg\(\) = 40 bytes, buffer holds 16: truncated \(MSG_TRUNC\)'
    first16=${line:0:16}
    [ "${lines[0]}" = "${first16^^}" ]   # upper-cased (the line is ASCII)
    [ "${lines[1]}" = NEXT ]   # the 24 other bytes were discarded, not delivered next
    [ "${#lines[@]}" -eq 2 ]
}

@test "[step 6] many messages in flight: 2000 lines round-trip in order; a line may hold 65536 bytes, not one more" {
    start_server "$SOCK"
    seq 2000 | sed 's/.*/line & of many, with some words to make it longer/' >"$T/in"
    "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err"
    upcase <"$T/in" | cmp - "$T/out"
    note "2000 lines: $(grep -c 'send() = ' "$T/client.err") sends, $(grep -c 'recv() = ' "$T/client.err") replies, output identical to tr a-z A-Z"

    head -c 65536 /dev/zero | tr '\0' 'z' >"$T/in"
    echo >>"$T/in"
    run --separate-stderr "$LAB/client" "$SOCK" <"$T/in"
    [ "$status" -eq 0 ]
    [ "${#output}" -eq 65536 ]
    last_match "$T/server.err" 'recvmsg\(\) = [0-9]+ bytes$'
    note "a 65536-byte line: exit $status; $LINE"
    head -c 65537 /dev/zero | tr '\0' 'z' >"$T/in"
    run --separate-stderr "$LAB/client" "$SOCK" <"$T/in"
    note "a 65537-byte line: exit $status: ${stderr##*$'\n'}"
    [ "$status" -eq 1 ]
    [[ $stderr == *"client: line 1 is longer than 65536 bytes"* ]]
}

@test "[step 7] an empty message gets an empty reply and is not mistaken for the end (strace: both are recvmsg() = 0)" {
    # The server runs under strace, to show the wart: the empty message and
    # the end look the same to recvmsg(); only poll(POLLRDHUP) differs.
    spawn server strace -o "$T/trace" -e trace=recvmsg,poll "$LAB/server" "$SOCK"
    STRACE_PID=$PID
    wait_until has_line "$T/server.out" "^listening on $SOCK\$"
    TRACED_PID=$(<"/proc/$STRACE_PID/task/$STRACE_PID/children")
    TRACED_PID=${TRACED_PID%% *}
    printf 'a\n\nb\n' >"$T/in"
    "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err"
    note "client stdout, od -c: $(od -An -c "$T/out" | tr -s ' ')"
    cmp <(printf 'A\n\nB\n') "$T/out"
    wait_until has_line "$T/server.err" 'close\(fd [0-9]+\)'
    note_lines "  " < <(recvmsg_lines)
    [ "$(recvmsg_lines)" = "$(printf '%s\n' '[server] recvmsg() = 1 bytes' \
        '[server] recvmsg() = 0 bytes: an empty message' '[server] recvmsg() = 1 bytes' \
        '[server] recvmsg() = 0: peer closed')" ]
    kill -TERM "$TRACED_PID"
    wait_exit "$STRACE_PID"
    note "strace, the two receives that returned 0 and the polls after them:"
    grep -E '(recvmsg|poll)\(.*\) += (0|1)' "$T/trace" | grep -vE ' = 1$' |
        sed -E 's/msg_name=NULL, msg_namelen=0, //; s/, msg_controllen=0//' | note_lines "  "
    [ "$(grep -cE '^recvmsg\(.*msg_flags=0\>.* = 0$' "$T/trace")" -eq 2 ]   # the same, twice
    grep -qE '^poll\(.*POLLRDHUP.* = 0 ' "$T/trace"                # after the empty message
    grep -qE '^poll\(.*revents=[A-Z|]*POLLRDHUP' "$T/trace"        # after the end
}

@test "[step 7] the end of a connection: none while the client is connected; when it exits, recvmsg() = 0: peer closed" {
    start_server "$SOCK"
    open_session
    echo "still open" >&5
    wait_until has_line "$T/client.out" '^STILL OPEN$'
    not has_line "$T/server.err" 'peer closed'
    note "session open, a reply received; the server has not seen an end"
    exec 5>&-   # the client's end of input: it closes once the reply is in
    wait_exit "$CLIENT_PID"
    [ "$STATUS" -eq 0 ]
    mapfile -t err <"$T/client.err"
    note "client: ${err[-1]}, exit $STATUS"
    wait_until has_line "$T/server.err" '^\[server\] recvmsg\(\) = 0: peer closed$'
    mapfile -t err <"$T/server.err"
    for line in "${err[@]: -2}"; do note "  $line"; done
    alive "$SERVER_PID"
}

@test "usage: -h and --help exit 0; bad options, extra arguments and a path longer than sun_path exit 2" {
    printf -v long '%120s' ''
    long=$T/${long// /x}
    # (LeakSanitizer cannot run under ptrace: off, for make SANITIZE=1 builds.)
    run env ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=socket -o "$T/trace" "$LAB/server" "$long"
    [ "$status" -eq 2 ]
    [[ $output == *"sun_path holds at most 107"* ]]
    not has_line "$T/trace" 'socket\('   # refused before any socket call
    note "server <${#long}-byte path>: exit 2: ${lines[0]}"
    run "$LAB/client" "$long"
    [ "$status" -eq 2 ]
    usage_contract server /tmp/lab04.sock
    usage_contract client /tmp/lab04.sock
    for bad in "-m 999" "-s 0" "-s 65537" "-s 12x" "-s"; do
        run "$LAB/server" $bad
        note "server $bad: exit $status: ${lines[0]}"
        [ "$status" -eq 2 ]
    done
    run "$LAB/client" -s 16 "$SOCK"
    [ "$status" -eq 2 ]
    [ ! -e "$SOCK" ]
}
