#!/usr/bin/env bats
# Lab 01: a Unix-domain stream socket, named by a path in the filesystem.

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

# open_session: a client connected and idle, its stdin a FIFO we hold open
# on fd 5. Sets CLIENT_PID and SERVER_FD (the server's fd for this client).
open_session() {
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"
    spawn client "$LAB/client" "$SOCK"
    CLIENT_PID=$PID
    wait_until has_line "$T/server.err" 'accept\(\) = fd [0-9]+'
    last_match "$T/server.err" 'accept\(\) = fd ([0-9]+)'
    SERVER_FD=$MATCH
}

@test "[step 2] bind() creates a socket file (type s, mode srwx------); it is removed on exit" {
    [ ! -e "$SOCK" ]
    start_server "$SOCK"
    [ "$READY" = "listening on $SOCK" ]              # the readiness line ends with the path
    mapfile -t out <"$T/server.out"
    [ "${#out[@]}" -eq 1 ]                            # and is the only line on stdout
    [ -S "$SOCK" ]
    listing=$(ls -l "$SOCK")
    note "while the server runs:  $listing"
    [[ $listing == srwx------* ]]
    [ ! -s "$SOCK" ]   # size 0, an inode with no data: the name only finds the socket
    has_line "$T/server.err" "bind\(\"$SOCK\"\) = 0"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    [ "$STATUS" -eq 0 ]
    [ ! -e "$SOCK" ]
    mapfile -t err <"$T/server.err"
    files=("$T"/*)
    note "after SIGTERM: exit status $STATUS, ${err[-1]}; ls: ${files[*]##*/}"
    rm "$T/server.out"
    start_server "$SOCK"
    kill -INT "$SERVER_PID"          # Ctrl-C does the same
    wait_exit "$SERVER_PID"
    [ "$STATUS" -eq 0 ]
    [ ! -e "$SOCK" ]
    note "after SIGINT: exit status $STATUS, the file is gone too"
}

@test "[step 3] ss -xl shows the socket LISTEN" {
    start_server "$SOCK"
    row=$(ss -xlH src "$SOCK")
    note "ss -xl src $SOCK:"
    note "  $row"
    [[ $row == u_str*LISTEN* ]]
    has_line "$T/server.err" 'listen\(backlog=16\) = 0'
}

@test "[step 4] during a session ss -x shows the ESTAB pair, each end naming the other as peer" {
    start_server "$SOCK"
    open_session
    link=$(readlink "/proc/$SERVER_PID/fd/$SERVER_FD")   # socket:[INODE]
    server_ino=${link//[!0-9]/}
    server_row=$(unix_row "$server_ino")
    read -ra field <<<"$server_row"
    peer_ino=${field[7]}                                  # ss's 8th column: the peer's inode
    client_row=$(unix_row "$peer_ino")
    note "ss -xp, the two ends of one connection:"
    note "  $server_row"
    note "  $client_row"
    [[ $server_row == u_str*ESTAB*"$SOCK"* ]]
    [[ $client_row == u_str*ESTAB* ]]
    read -ra field <<<"$client_row"
    [ "${field[7]}" = "$server_ino" ]
    [[ $client_row == *"\"client\",pid=$CLIENT_PID,"* ]]
}

@test "[step 1] a socket is a file descriptor: /proc/PID/fd/N is socket:[inode], the inode ss -xp shows" {
    start_server "$SOCK"
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_STREAM\) = fd ([0-9]+)'
    lfd=$MATCH
    link=$(readlink "/proc/$SERVER_PID/fd/$lfd")
    note "/proc/$SERVER_PID/fd/$lfd -> $link"
    [[ $link =~ ^socket:\[([0-9]+)\]$ ]]
    ino=${BASH_REMATCH[1]}
    row=$(ss -xlpH src "$SOCK")
    note "ss -xlp: $row"
    read -ra field <<<"$row"
    [ "${field[5]}" = "$ino" ]                           # ss's 6th column: the local inode
    [[ $row == *"pid=$SERVER_PID,fd=$lfd)"* ]]
}

@test "[step 4] the byte stream keeps no boundaries: 1 MiB of writes arrives in reads of other sizes" {
    start_server "$SOCK"
    head -c 1048576 /dev/zero | tr '\0' 'x' >"$T/in"
    "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err"
    [ "$(wc -c <"$T/out")" -eq 1048576 ]
    mapfile -t writes < <(sed -nE 's/^\[client\] write\(\) = ([0-9]+) bytes.*/\1/p' "$T/client.err")
    mapfile -t reads < <(sed -nE 's/^\[server\] read\(\) = ([0-9]+) bytes/\1/p' "$T/server.err")
    note "client write() sizes: ${writes[*]}"
    note "server read() sizes:  ${reads[*]}"
    [ "${#reads[@]}" -gt 1 ]
    [ "${writes[*]}" != "${reads[*]}" ]
    total=0
    for n in "${reads[@]}"; do total=$((total + n)); done
    [ "$total" -eq 1048576 ]
}

@test "[step 5] 16 MiB of random bytes round-trip intact, upper-cased" {
    start_server "$SOCK"
    BIG=1   # lab_teardown removes the 16 MiB files at once
    head -c 16777216 /dev/urandom >"$T/in"
    "$LAB/client" "$SOCK" <"$T/in" >"$T/out" 2>"$T/client.err"
    upcase <"$T/in" | cmp - "$T/out"
    note "16 MiB: $(grep -c 'read() = [0-9]* bytes' "$T/server.err") server reads, output identical to tr a-z A-Z"
}

@test "[step 6] shutdown(SHUT_WR): the server reads EOF, still replies, and the client reads to the end" {
    start_server "$SOCK"
    printf 'half-close\n' | "$LAB/client" "$SOCK" >"$T/out" 2>"$T/client.err"
    [ "$(<"$T/out")" = "HALF-CLOSE" ]
    has_line "$T/client.err" '^\[client\] shutdown\(SHUT_WR\) = 0'
    has_line "$T/server.err" '^\[server\] read\(\) = 0: peer closed'
    has_line "$T/client.err" '^\[client\] read\(\) = 0: server closed'
    note_lines "  " < <(grep -hE 'shutdown|read\(\) = 0|close' "$T/client.err" "$T/server.err")
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
    run as_nobody "$LAB/client" "$SOCK" </dev/null
    note "$(ls -l "$SOCK" | cut -d' ' -f1)  user nobody: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ $output == *"connect $SOCK: Permission denied"* ]]

    spawn wide "$LAB/server" -m 0777 "$T/wide"
    wait_until has_line "$T/wide.out" "$T/wide\$"
    run --separate-stderr as_nobody "$LAB/client" "$T/wide" <<<"let me in"
    note "$(ls -l "$T/wide" | cut -d' ' -f1)  (server -m 0777)  user nobody gets: ${lines[-1]}"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "LET ME IN" ]
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
    has_line "$T/server.err" 'Connection refused: stale socket file'
    run --separate-stderr "$LAB/client" "$SOCK" <<<"fresh"
    [ "$output" = "FRESH" ]
}

@test "[step 2] a live server's path is refused, and that server keeps serving" {
    start_server "$SOCK"
    run "$LAB/server" "$SOCK"
    note "second server: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == "server: bind $SOCK: Address already in use"* ]]
    [ -S "$SOCK" ]
    run --separate-stderr "$LAB/client" "$SOCK" <<<"still here"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "STILL HERE" ]
}

@test "[step 2] a regular file at PATH is left untouched" {
    echo "precious data" >"$SOCK"
    run "$LAB/server" "$SOCK"
    note "exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [[ ${lines[-1]} == *"not a socket"* ]]
    [ "$(<"$SOCK")" = "precious data" ]
}

@test "a path longer than sun_path holds is a usage error, refused before any socket call" {
    long=$T/$(printf 'x%.0s' {1..120})
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=socket -o "$T/trace" "$LAB/server" "$long"
    [ "$status" -eq 2 ]
    [[ $output == *"sun_path holds at most 107"* ]]
    not has_line "$T/trace" 'socket\('
    note "server <${#long}-byte path>: exit 2: ${lines[0]}"
    ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=socket -o "$T/trace" "$LAB/client" "$long"
    [ "$status" -eq 2 ]
    not has_line "$T/trace" 'socket\('
    # The edge: sun_path is 108 bytes with the final NUL, so 107 is the most.
    printf -v p107 '%*s' $((107 - ${#T} - 1)) ''
    p107=$T/${p107// /y}
    p108=${p107}y
    run "$LAB/server" "$p108"
    [ "$status" -eq 2 ]
    start_server "$p107"
    note "a 107-byte path works: $READY"
    [ "$READY" = "listening on $p107" ]
}

@test "[step 5] a client with no server exits 1 with the reason" {
    run --separate-stderr "$LAB/client" "$SOCK" </dev/null
    one_error
    note "no file:     exit $status: $ERROR"
    [ "$status" -eq 1 ]
    [ "$ERROR" = "client: connect $SOCK: No such file or directory" ]
    start_server "$SOCK"
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run --separate-stderr "$LAB/client" "$SOCK" </dev/null
    one_error
    note "stale file:  exit $status: $ERROR"
    [ "$status" -eq 1 ]
    [ "$ERROR" = "client: connect $SOCK: Connection refused" ]
}

@test "usage: -h and --help exit 0; unknown options and extra arguments exit 2" {
    usage_contract server /tmp/lab01.sock
    usage_contract client /tmp/lab01.sock
    run "$LAB/server" -m 999 "$SOCK"
    [ "$status" -eq 2 ]
    [ ! -e "$SOCK" ]
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
    alive "$SERVER_PID"
    mapfile -t seen < <(grep -E 'read\(\) = [0-9]+ bytes|write\(\)' "$T/server.err")
    note "the server, resumed after the client died: ${seen[*]}"
    has_line "$T/server.err" 'write\(\) = -1: Broken pipe'
    alive "$SERVER_PID"
    run --separate-stderr "$LAB/client" "$SOCK" <<<"next"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "NEXT" ]
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
    [ ! -s "$T/second.out" ]
    [ "$(count 'accept\(\) = fd' "$T/server.err")" -eq 1 ]
    exec 5>&-                          # the first client's input ends; the server moves on
    wait_exit "$SECOND_PID"
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/second.out")" = SECOND ]
    note "the first client done, the server accepts the second: it prints $(<"$T/second.out")"
}

@test "[step 4] a silent client, and one that never reads its replies, hold the server -t seconds at most; then the next client is served" {
    start_server -t 1 "$SOCK"
    open_session                       # connected, and sends nothing
    t0=${EPOCHREALTIME/./}
    printf 'second\n' >"$T/second.in"
    spawn second "$LAB/client" "$SOCK"
    wait_exit "$PID"
    took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    note "the next client got $(<"$T/second.out") after $took ms"
    [[ $LINE == "[server] read() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped" ]]
    [ "$STATUS" -eq 0 ] && [ "$(<"$T/second.out")" = SECOND ]
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
    wait_until stuck_dropped
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    [[ $LINE =~ ^\[server\]\ (write|read)\(\)\ =\ -1:\ Resource\ temporarily\ unavailable\ \((not\ read|nothing)\ for\ 1\ s\):\ client\ dropped$ ]]
    run_split timeout 10 "$LAB/client" "$SOCK" <<<"third"
    [ "$status" -eq 0 ] && [ "$output" = THIRD ]
}

# queued_on PATH N: the listener at PATH has N connections waiting for
# accept() (its Recv-Q in ss -xl). LISTENER is its row.
queued_on() {
    local field
    LISTENER=$(ss -xlH src "$1")
    read -ra field <<<"$LISTENER"
    [ "${field[2]}" = "$2" ]
}

@test "[step 4] 200 clients in a row leave the server's descriptor count unchanged" {
    start_server "$SOCK"
    before=$(fd_count "$SERVER_PID")
    clients_in_a_row 200 "$T/out" "$LAB/client" "$SOCK"
    [ "$(<"$T/out")" = "CLIENT 200" ]
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after 200 clients"
    [ "$before" -eq "$after" ]
    [ "$(grep -c 'accept() = fd' "$T/server.err")" -eq 200 ]
}
