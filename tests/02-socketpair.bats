#!/usr/bin/env bats
# Lab 02: socketpair(), a connected pair with no name, shared across fork
# and exec. ./server makes the pair, forks, and the child runs ./client FD.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 02-socketpair
}

teardown() {
    exec 5>&-   # the session's input: the client sees EOF
    lab_teardown
}

# open_session [-k]: run ./server from its directory, its standard input
# (inherited by the client) a FIFO that this shell holds open on fd 5, and
# wait until the client runs and the server is about to serve. fd 5 opens
# after the spawn, so neither program inherits it: closing it is the end of
# the client's input. Sets SERVER_PID, CLIENT_PID, SFD (the server's end)
# and CFD (the child's end), read from the narration.
open_session() {
    mkfifo "$T/server.in"
    cd "$LAB" || return 1
    spawn server ./server "$@"
    SERVER_PID=$PID
    exec 5>"$T/server.in"
    wait_until session_up_or_dead || return 1
    if ! session_up; then
        echo "the session did not start (server.err below)" >&2
        return 1
    fi
    last_match "$T/server.err" '^\[server\] socketpair\(.*\) = fds ([0-9]+), ([0-9]+)$'
    SFD=${BASH_REMATCH[1]}
    CFD=${BASH_REMATCH[2]}
    last_match "$T/server.err" '^\[server\] fork\(\) = ([0-9]+)'
    CLIENT_PID=$MATCH
    echo "$CLIENT_PID" >>"$T/pids"   # teardown stops it too
}

# The client runs and the server is past the close (or -k): up. A program
# that died or failed (an error line, "child: ..."): no session will come.
session_up() {
    has_line "$T/server.err" '^\[client\] getpeername' &&
        has_line "$T/server.err" '^\[server\] (close\(fd [0-9]+\) = |-k: )'
}
session_up_or_dead() {
    session_up || gone "$SERVER_PID" || has_line "$T/server.err" '^(server|child|client): '
}

# wait_server_exit: wait for the server to exit; STATUS is its exit status.
# Gives up at once, saying why, when one side waits for an EOF that cannot
# come: it holds the other end of the pair itself.
wait_server_exit() {
    wait_until server_gone_or_stuck || return 1
    if alive "$SERVER_PID"; then
        echo "$STUCK: no EOF can come" >&2
        return 1
    fi
    wait_exit "$SERVER_PID"
}

server_gone_or_stuck() {
    gone "$SERVER_PID" && return 0
    if [ -z "${CHILD:-}" ]; then
        last_match "$T/server.err" '^\[server\] fork\(\) = ([0-9]+)' || return 1
        CHILD=$MATCH
        echo "$CHILD" >>"$T/pids"   # teardown stops it too
    fi
    if alive "$CHILD"; then
        # Stuck only once it runs ./client: a child whose exec failed holds
        # both ends too, for the moment until it exits (longer under ASan).
        STUCK="the client holds both ends (the server's end leaked through exec)"
        [ "/proc/$CHILD/exe" -ef "$LAB/client" ] && nsockets "$CHILD" && [ "$NSOCK" -ge 2 ]
    else
        STUCK="the child is dead, yet the server holds both ends (-k, or no step 5)"
        has_line "$T/server.err" '^\[server\] (close\(fd [0-9]+\) = |-k: )' &&
            nsockets "$SERVER_PID" && [ "$NSOCK" -ge 2 ]
    fi
}

# nsockets PID: NSOCK, how many socket descriptors PID has. No fork (the
# poll above runs it again and again, beside a transfer): stat() through
# /proc/PID/fd/N finds the socket itself, so test -S says "a socket".
nsockets() {
    local fd
    NSOCK=0
    for fd in "/proc/$1/fd/"*; do
        [ -S "$fd" ] && NSOCK=$((NSOCK + 1))
    done
    return 0
}

# pair_rows PID...: the ss -xp rows (no header) of the Unix sockets these
# processes hold: "u_str ESTAB 0 0 * LOCAL_INODE * PEER_INODE users:((...))".
pair_rows() {
    local pids
    printf -v pids '%s|' "$@"
    ss -xpH | grep -E "pid=(${pids%|}),"
}

# wait_rows N PID...: wait until pair_rows shows N rows; they are in ROWS.
# (One ss dump can miss a socket while other sockets come and go: the
# kernel walks its table in chunks. Asking again is enough.)
wait_rows() {
    local n=$1
    shift
    wait_until rows_are "$n" "$@"
}
rows_are() {
    local n=$1
    shift
    mapfile -t ROWS < <(pair_rows "$@")
    [ "${#ROWS[@]}" -eq "$n" ]
}

# client_row: the ss -xp row of the client's end, fd CFD, into ROW.
client_row() {
    ROW=$(pair_rows "$CLIENT_PID" | grep -F "pid=$CLIENT_PID,fd=$CFD)")
}

# socket_fds PID: "fd -> socket:[inode]" for each socket descriptor of PID.
socket_fds() {
    find "/proc/$1/fd" -lname 'socket:*' -printf '%f -> %l\n' 2>/dev/null | sort -n
}

# rows_are_peers ROW1 ROW2: each row's local inode is the other's peer.
rows_are_peers() {
    local a a_peer b b_peer
    read -r _ _ _ _ _ a _ a_peer _ <<<"$1"
    read -r _ _ _ _ _ b _ b_peer _ <<<"$2"
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] &&
        [ "$a_peer" = "$b" ] && [ "$b_peer" = "$a" ]
}

@test "[step 1] socketpair(): ss shows two ends, each the other's peer, with no name (*) and no file" {
    before=$(ls -A "$LAB")
    open_session
    wait_rows 2 "$SERVER_PID" "$CLIENT_PID"
    note "ss -xp, the rows of the server (pid $SERVER_PID) and the client (pid $CLIENT_PID):"
    note_lines "  " < <(printf '%s\n' "${ROWS[@]}")
    [[ ${ROWS[0]} == u_str\ ESTAB\ *\ \*\ [0-9]*\ \*\ [0-9]*\ users:* ]]
    [[ ${ROWS[1]} == u_str\ ESTAB\ *\ \*\ [0-9]*\ \*\ [0-9]*\ users:* ]]
    rows_are_peers "${ROWS[0]}" "${ROWS[1]}"
    note "local inode of each row = peer inode of the other; both addresses are *"
    after=$(ls -A "$LAB")
    [ "$before" = "$after" ]
    note "ls -A $LAB during the session: ${after//$'\n'/ } (unchanged)"
}

@test "[step 1] the pair is bidirectional: client -> server and server -> client" {
    open_session
    printf 'hello, pair\n' >&5
    wait_until has_line "$T/server.out" '^HELLO, PAIR$'
    wait_until has_line "$T/server.err" '^\[client\] read\(\) = 12 bytes'
    note_lines "  " < <(grep -E '(read|write)\(\) = 12 bytes' "$T/server.err")
    has_line "$T/server.err" '^\[client\] write\(\) = 12 bytes'
    has_line "$T/server.err" '^\[server\] read\(\) = 12 bytes'
    has_line "$T/server.err" '^\[server\] write\(\) = 12 bytes'
    note "client's stdout: $(<"$T/server.out")"
}

@test "[step 2] fork(): the client is the server's child, running ./client FD" {
    open_session
    note_lines "  " < <(grep -E '^\[(server|child)\] fork' "$T/server.err")
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$CLIENT_PID/status")
    exe=$(readlink "/proc/$CLIENT_PID/exe")
    cmdline=$(tr '\0' ' ' <"/proc/$CLIENT_PID/cmdline")
    note "pid $CLIENT_PID: PPid $ppid, exe $exe, cmdline: $cmdline"
    [ "$ppid" = "$SERVER_PID" ]
    [ "$exe" = "$LAB/client" ]
    [ "$cmdline" = "./client $CFD " ]
}

@test "[step 3] FD_CLOEXEC cleared on the child's end: it survives exec, /proc/CLIENT/fd/N is that socket" {
    open_session
    note_lines "  " < <(grep -E '^\[(child|client)\] (fcntl|execl|getsockopt)' "$T/server.err")
    link=$(readlink "/proc/$CLIENT_PID/fd/$CFD")
    note "client: /proc/$CLIENT_PID/fd/$CFD -> $link"
    [[ $link == socket:\[*\] ]]
    wait_until client_row
    note "ss -xp: $ROW"
    read -ra field <<<"$ROW"
    [ "${field[5]}" = "${link//[!0-9]/}" ]   # ss's 6th column, the local inode: the link's
    has_line "$T/server.err" "^\[client\] getsockopt\(fd $CFD, SO_TYPE\) = SOCK_STREAM"
}

@test "[step 1] SOCK_CLOEXEC: exec closed the server's end in the child; the client holds one socket" {
    open_session
    server_link=$(readlink "/proc/$SERVER_PID/fd/$SFD")
    sockets=$(socket_fds "$CLIENT_PID")
    note "server: /proc/$SERVER_PID/fd/$SFD -> $server_link"
    note "client: its socket descriptors: ${sockets//$'\n'/ }"
    [[ $server_link == socket:\[*\] ]]
    [ "$sockets" = "$CFD -> $(readlink "/proc/$CLIENT_PID/fd/$CFD")" ]
    [[ $sockets != *"$server_link"* ]]
}

@test "[step 4] execl(): run elsewhere, exec fails: the child says why, exits 1; the server reads EOF, exits 1" {
    cd "$T"
    spawn server "$LAB/server"
    SERVER_PID=$PID
    wait_server_exit
    note_lines "  " < <(grep -E 'execl|waitpid|^server:' "$T/server.err")
    [ "$STATUS" -eq 1 ]
    has_line "$T/server.err" '^child: execl \./client: No such file or directory$'
    has_line "$T/server.err" '^\[server\] waitpid\([0-9]+\) = [0-9]+: exited with status 1$'
}

@test "[step 5] the parent closes the child's end: the client is killed, the server reads EOF and exits" {
    open_session
    sockets=$(socket_fds "$SERVER_PID")
    note "the server's socket descriptors: ${sockets//$'\n'/ }"
    [ "$sockets" = "$SFD -> $(readlink "/proc/$SERVER_PID/fd/$SFD")" ]
    kill -KILL "$CLIENT_PID"
    wait_server_exit
    note "after kill -KILL $CLIENT_PID, the server says:"
    note_lines "  " < <(grep -A5 -E '^\[server\] read\(\) = 0' "$T/server.err")
    [ "$STATUS" -eq 1 ]
    has_line "$T/server.err" '^\[server\] read\(\) = 0: peer closed$'
    has_line "$T/server.err" "^\[server\] waitpid\($CLIENT_PID\) = $CLIENT_PID: killed by signal 9 "
}

@test "[step 5] with -k (the bug) the server keeps the child's end: the client dies, EOF never comes" {
    open_session -k
    kill -KILL "$CLIENT_PID"
    wait_gone "$CLIENT_PID"   # dead (a zombie: the server, stuck in read, does not reap it)
    wait_rows 2 "$SERVER_PID" "$CLIENT_PID"
    note "client killed; ss -xp now shows both ends in the server:"
    note_lines "  " < <(printf '%s\n' "${ROWS[@]}")
    [[ ${ROWS[0]} == *"pid=$SERVER_PID,"* && ${ROWS[1]} == *"pid=$SERVER_PID,"* ]]
    rows_are_peers "${ROWS[0]}" "${ROWS[1]}"
    sockets=$(socket_fds "$SERVER_PID")
    note "the server's socket descriptors: ${sockets//$'\n'/ }"
    mapfile -t each <<<"$sockets"
    [ "${#each[@]}" -eq 2 ]
    alive "$SERVER_PID"
    read_state "$SERVER_PID"
    read -r wchan 2>/dev/null <"/proc/$SERVER_PID/wchan" || true   # (no newline at its end)
    last_match "$T/server.err" '^\[server\] -k'
    note "server alive, state $STATE, waiting in $wchan; it said: $LINE"
    run ! has_line "$T/server.err" '^\[server\] read\(\) = 0'
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    mapfile -t err <"$T/server.err"
    note "kill -TERM: exit status $STATUS, ${err[-1]}"
    [ "$STATUS" -eq 0 ]
}

@test "[step 6] end of input: shutdown(SHUT_WR) gives the server EOF; the replies still arrive; exit 0" {
    printf 'one\ntwo\n' >"$T/server.in"
    cd "$LAB"
    spawn server ./server
    SERVER_PID=$PID
    wait_server_exit
    note_lines "  " < <(grep -E 'shutdown|read\(\) = 0|waitpid' "$T/server.err")
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/server.out")" = $'ONE\nTWO' ]
    has_line "$T/server.err" '^\[client\] shutdown\(SHUT_WR\) = 0$'
    has_line "$T/server.err" '^\[server\] read\(\) = 0: peer closed$'
    has_line "$T/server.err" '^\[client\] read\(\) = 0: server closed$'
    has_line "$T/server.err" '^\[server\] waitpid\([0-9]+\) = [0-9]+: exited with status 0$'
}

@test "16 MiB of random bytes round-trip intact, upper-cased" {
    BIG=1   # lab_teardown removes the 16 MiB files at once
    head -c 16777216 /dev/urandom >"$T/server.in"
    cd "$LAB"
    spawn server ./server
    SERVER_PID=$PID
    wait_server_exit
    [ "$STATUS" -eq 0 ]
    upcase <"$T/server.in" | cmp - "$T/server.out"
    note "16 MiB: $(grep -c '^\[server\] read() = [0-9]* bytes' "$T/server.err") server reads, output identical to tr a-z A-Z"
}

@test "usage: client needs FD, an open socket (else exit 2); -h and --help exit 0" {
    run "$LAB/client"
    note "client:           exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    [[ ${lines[1]} == "usage: client FD"* ]]
    run "$LAB/client" four
    note "client four:      exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    run "$LAB/client" 9 9<&-
    note "client 9 (closed): exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    [[ ${lines[0]} == "client: fd 9 is not open"* ]]
    run "$LAB/client" 0 </dev/null
    note "client 0 (/dev/null): exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    [[ ${lines[0]} == "client: fd 0 is not a socket"* ]]
    for prog in server client; do
        run "$LAB/$prog" --help
        [ "$status" -eq 0 ]
        [[ ${lines[0]} == "usage: $prog"* ]]
        run "$LAB/$prog" -h
        [ "$status" -eq 0 ]
    done
    run "$LAB/server" -x
    [ "$status" -eq 2 ]
    run "$LAB/server" /tmp/lab02.sock
    note "server PATH:      exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
}
