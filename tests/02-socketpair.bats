#!/usr/bin/env bats
# Lab 02: socketpair(), a connected pair with no name, shared across fork
# and exec. ./server makes the pair, forks, and the child runs ./client FD.
#
# Steps 1 to 5 are in server.c, step 6 in client.c. Under make check, a
# "[step N]" test runs the student's program that holds step N with the
# reference build of the other (tests/lib.bash, reference_peer): LAB is
# then a directory where ./server and ./client are those two, and the
# server, run from there, execs that ./client. Each step has a test that
# looks at the step's own effect as soon as it shows (the narration reads
# back what the call made, before the next step runs), so that a mistake
# in a later step leaves it passing.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 02-socketpair
}

teardown() {
    exec 5>&-   # the session's input: the client sees EOF
    # 16 MiB of bytes is no message: lab_teardown shows the narration only.
    if [ -n "${BIG:-}" ]; then rm -f "$T/server.out"; fi
    lab_teardown
}

# run_server [ARGS...]: start ./server ARGS from its directory (it runs
# ./client from there), its input $T/server.in when that exists, else
# /dev/null. SERVER_PID is its pid. spawn gives it a process group of its
# own: teardown stops it with its child, whatever became of that child.
run_server() {
    cd "$LAB" || return 1
    spawn server ./server "$@"
    SERVER_PID=$PID
}

# said REGEX: wait until the narration has a line matching REGEX, or the
# server is gone, or a program failed ("prog: ..."): never longer than
# what the programs do allows.
said() {
    wait_until said_or_over "$1" || true
}
said_or_over() {
    has_line "$T/server.err" "$1" || gone "$SERVER_PID" || has_line "$T/server.err" '^(server|child|client): '
}

# the_ends: SFD and CFD, the two descriptors of the pair, from the
# server's narration of socketpair().
the_ends() {
    last_match "$T/server.err" '^\[server\] socketpair\(.*\) = fds ([0-9]+), ([0-9]+)$' ||
        fail "no '[server] socketpair(...) = fds N, M' line; the narration ends: $(tail -n 3 "$T/server.err")" || return 1
    SFD=${BASH_REMATCH[1]} CFD=${BASH_REMATCH[2]}
}

# open_session [ARGS...]: run ./server ARGS, its standard input (inherited
# by the client) a FIFO that this shell holds open on fd 5, and wait until
# the client runs and the server is about to serve. fd 5 opens after the
# spawn, so neither program inherits it: closing it is the end of the
# client's input. Sets SERVER_PID, CLIENT_PID (checked: the server's
# child), SFD (the server's end) and CFD (the child's end).
open_session() {
    WATCHES=
    case " $* " in *" -w "*) WATCHES=1 ;; esac   # extra 2: a pidfd on the child
    mkfifo "$T/server.in"
    run_server "$@" || return 1
    exec 5>"$T/server.in"
    wait_until session_up_or_dead || return 1
    session_up || fail "the session did not start (server.err below)" || return 1
    the_ends || return 1
    last_match "$T/server.err" '^\[server\] fork\(\) = ([0-9]+)'
    CLIENT_PID=$MATCH
    is_child "$CLIENT_PID" ||
        fail "the server said fork() = $CLIENT_PID, which is not a child of the server (pid $SERVER_PID)"
}

# is_child PID: PID (more than 1) is alive and its parent is the server.
is_child() {
    local ppid
    [ "${1:-0}" -gt 1 ] 2>/dev/null || return 1
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$1/status" 2>/dev/null)
    test "$ppid" = "$SERVER_PID"
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
    CHILD=
    wait_until server_gone_or_stuck || return 1
    if alive "$SERVER_PID"; then
        fail "$STUCK: no EOF can come"
        return 1
    fi
    wait_exit "$SERVER_PID"
}

server_gone_or_stuck() {
    gone "$SERVER_PID" && return 0
    if [ -z "$CHILD" ]; then
        last_match "$T/server.err" '^\[server\] fork\(\) = ([0-9]+)' || return 1
        CHILD=$MATCH
    fi
    [ "$CHILD" -gt 1 ] || return 1   # (a fork() result misread: no pid to look at)
    if alive "$CHILD"; then
        # Stuck only once it runs ./client: a child whose exec failed holds
        # both ends too, for the moment until it exits (longer under ASan).
        STUCK="the client holds both ends (the server's end leaked through exec)"
        [ "/proc/$CHILD/exe" -ef "$LAB/client" ] && nsockets "$CHILD" && [ "$NSOCK" -ge 2 ]
    else
        # With -w the server waits on the child's pidfd: a dead child is
        # what ends it, in a moment; it is no verdict (a server that misses
        # it fails at WAIT_LIMIT).
        [ -z "${WATCHES:-}" ] || return 1
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
    test "${#ROWS[@]}" -eq "$n"
}

# client_row FD: the ss -xp row of the client's descriptor FD, into ROW.
client_row() {
    ROW=$(pair_rows "$CLIENT_PID" | grep -F "pid=$CLIENT_PID,fd=$1)")
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
    test -n "$a" && test -n "$b" && test "$a" != "$b" &&
        test "$a_peer" = "$b" && test "$b_peer" = "$a"
}

# before_in_log FIRST SECOND: the narration's first line matching FIRST
# comes before its first line matching SECOND (both there).
before_in_log() {
    local a b
    a=$(grep -nE -m 1 -- "$1" "$T/server.err" | cut -d: -f1)
    b=$(grep -nE -m 1 -- "$2" "$T/server.err" | cut -d: -f1)
    test -n "$a" && test -n "$b" && test "$a" -lt "$b"
}

@test "[step 1] socketpair() makes a pair of Unix stream sockets, both close-on-exec: the server reads them back and says so" {
    run_server
    said '^\[server\] socketpair\('
    the_ends
    note "$LINE"
    [[ $LINE =~ ^\[server\]\ socketpair\(AF_UNIX,\ SOCK_STREAM\ \|\ SOCK_CLOEXEC\)\ =\ fds ]] ||
        fail "expected the kernel to report 'AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC' for the ends, saw: $LINE"
    [ "$SFD" != "$CFD" ] || fail "the two ends have the same number: $LINE"
}

@test "[step 1] ss shows the two ends ESTAB, each the other's peer, with no name (*) and no file" {
    before=$(ls -A "$LAB")
    open_session
    wait_rows 2 "$SERVER_PID" "$CLIENT_PID" ||
        fail "ss -xp shows ${#ROWS[@]} socket(s) of the server and the client, not 2: ${ROWS[*]}"
    note "ss -xp, the rows of the server (pid $SERVER_PID) and the client (pid $CLIENT_PID):"
    note_lines "  " < <(printf '%s\n' "${ROWS[@]}")
    for row in "${ROWS[@]}"; do
        [[ $row == u_str\ ESTAB\ *\ \*\ [0-9]*\ \*\ [0-9]*\ users:* ]] ||
            fail "not a connected Unix stream socket with no name (u_str ESTAB ... * INODE * PEER): $row"
    done
    rows_are_peers "${ROWS[0]}" "${ROWS[1]}" || fail "the two rows are not each other's peer"
    note "local inode of each row = peer inode of the other; both addresses are *"
    after=$(ls -A "$LAB")
    is "the files in $LAB during the session" "${after//$'\n'/ }" "${before//$'\n'/ }"
    note "ls -A $LAB during the session: ${after//$'\n'/ } (unchanged)"
}

@test "[step 1] the pair is bidirectional: client -> server and server -> client" {
    open_session
    printf 'hello, pair\n' >&5
    said '^\[client\] read\(\) = 12 bytes'
    said '^\[server\] write\(\) = 12 bytes'    # narrated after the write: the client can read first
    note_lines "  " < <(grep -E '(read|write)\(\) = 12 bytes' "$T/server.err")
    expect_line "$T/server.err" '^\[client\] write\(\) = 12 bytes' "the client's write() into its end"
    expect_line "$T/server.err" '^\[server\] read\(\) = 12 bytes' "the server's read() from its end"
    expect_line "$T/server.err" '^\[server\] write\(\) = 12 bytes' "the server's reply"
    expect_line "$T/server.err" '^\[client\] read\(\) = 12 bytes' "the client's read() of the reply"
    expect_line "$T/server.out" '^HELLO, PAIR$' "the client's standard output"
    note "client's stdout: $(<"$T/server.out")"
}

@test "[step 1] SOCK_CLOEXEC: exec closed the server's end in the child; the client holds one socket" {
    open_session
    server_link=$(readlink "/proc/$SERVER_PID/fd/$SFD")
    sockets=$(socket_fds "$CLIENT_PID")
    note "server: /proc/$SERVER_PID/fd/$SFD -> $server_link"
    note "client: its socket descriptors: ${sockets//$'\n'/ }"
    [[ $server_link == socket:\[*\] ]] || fail "the server's fd $SFD is not a socket: '$server_link'"
    is "the client's socket descriptors" "${sockets//$'\n'/ }" "$CFD -> $(readlink "/proc/$CLIENT_PID/fd/$CFD")"
    [[ $sockets != *"$server_link"* ]] || fail "the server's end, $server_link, leaked into the client"
}

@test "[step 2] fork(): the server's fork() returns the child's pid; the child's parent is the server" {
    run_server
    said '^\[child\] fork\(\)'
    said '^\[server\] fork\(\)'
    note_lines "  " < <(grep -E '^\[(server|child)\] fork' "$T/server.err")
    last_match "$T/server.err" '^\[server\] fork\(\) = (-?[0-9]+)' ||
        fail "no '[server] fork() = PID' line; the narration ends: $(tail -n 3 "$T/server.err")"
    returned=$MATCH
    last_match "$T/server.err" '^\[child\] fork\(\) = 0: this is the child, pid ([0-9]+), parent ([0-9]+)$' ||
        fail "no '[child] fork() = 0' line: no child took the branch for 0; the narration ends: $(tail -n 3 "$T/server.err")"
    child=${BASH_REMATCH[1]} parent=${BASH_REMATCH[2]}
    is "what fork() returned in the server (the child's pid)" "$returned" "$child"
    is "the child's parent (its getppid(): the server)" "$parent" "$SERVER_PID"
}

@test "[step 2] the client runs as the server's child: PPid in /proc is the server" {
    open_session
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$CLIENT_PID/status")
    note "client, pid $CLIENT_PID: PPid $ppid (the server is $SERVER_PID)"
    is "the client's PPid" "$ppid" "$SERVER_PID"
}

@test "[step 3] the child clears FD_CLOEXEC on its own end only: its end survives exec, the server's does not" {
    run_server
    said '^\[child\] fcntl\(\)'
    the_ends
    note_lines "  " < <(grep -E '^(\[child\] fcntl|child: )' "$T/server.err")
    expect_line "$T/server.err" "^\[child\] fcntl\(\) = 0: fd $CFD survives exec, fd $SFD is closed by exec\$" \
        "the child's end (fd $CFD) without FD_CLOEXEC, the server's (fd $SFD) with it, as read back"
}

@test "[step 3] FD_CLOEXEC cleared on the child's end: it survives exec, /proc/CLIENT/fd/N is that socket" {
    open_session
    note_lines "  " < <(grep -E '^\[(child|client)\] (fcntl|execl|getsockopt)' "$T/server.err")
    link=$(readlink "/proc/$CLIENT_PID/fd/$CFD")
    note "client: /proc/$CLIENT_PID/fd/$CFD -> $link"
    [[ $link == socket:\[*\] ]] || fail "the client's fd $CFD is not a socket: '$link'"
    wait_until client_row "$CFD" || fail "ss -xp shows no socket of the client at fd $CFD"
    note "ss -xp: $ROW"
    read -ra field <<<"$ROW"
    is "the local inode of the client's fd $CFD in ss (6th column)" "${field[5]:-}" "${link//[!0-9]/}"
    expect_line "$T/server.err" "^\[client\] getsockopt\(fd $CFD, SO_TYPE\) = SOCK_STREAM" "the client's look at its inherited fd"
}

@test "[step 4] execl(): the child becomes ./client FD, which finds its inherited end at FD" {
    run_server
    said '^\[client\] getsockopt\('
    the_ends
    note_lines "  " < <(grep -E '^(\[child\] execl|\[client\] getsockopt|child: |client: )' "$T/server.err")
    expect_line "$T/server.err" "^\[client\] getsockopt\(fd $CFD, SO_TYPE\) = SOCK_STREAM: inherited\$" \
        "./client, run with the child's end's number (fd $CFD)"
}

@test "[step 4] execl(): the child becomes ./client FD: /proc shows its program and its arguments" {
    open_session
    note_lines "  " < <(grep -E '^\[(child|client)\] (execl|getsockopt)' "$T/server.err")
    exe=$(readlink "/proc/$CLIENT_PID/exe")
    cmdline=$(tr '\0' ' ' <"/proc/$CLIENT_PID/cmdline")
    note "pid $CLIENT_PID: exe $exe, cmdline: $cmdline"
    [ "/proc/$CLIENT_PID/exe" -ef "$LAB/client" ] || fail "the child runs $exe, not $LAB/client"
    is "the client's command line (argv)" "$cmdline" "./client $CFD "
    expect_line "$T/server.err" "^\[client\] getsockopt\(fd $CFD, SO_TYPE\) = SOCK_STREAM: inherited\$" "the client, on the fd it was given"
}

@test "[step 5] the parent closes the child's end: it holds one socket; the client killed, the server reads EOF and exits 1" {
    open_session
    sockets=$(socket_fds "$SERVER_PID")
    note "the server's socket descriptors: ${sockets//$'\n'/ }"
    expect_line "$T/server.err" "^\[server\] close\(fd $CFD\) = 0  \(the child's end\)\$" "the server's close() of the child's end"
    is "the server's socket descriptors" "${sockets//$'\n'/ }" "$SFD -> $(readlink "/proc/$SERVER_PID/fd/$SFD")"
    kill -KILL "$CLIENT_PID"
    # Dead before the server is judged: alive a moment longer, the client
    # could still hold a leaked end, which wait_server_exit calls stuck.
    wait_gone "$CLIENT_PID"
    wait_server_exit
    note "after kill -KILL $CLIENT_PID, the server says:"
    note_lines "  " < <(grep -A5 -E '^\[server\] read\(\) = 0' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] read\(\) = 0: peer closed$' "the server's EOF"
    expect_line "$T/server.err" "^\[server\] waitpid\($CLIENT_PID\) = $CLIENT_PID: killed by signal 9 " "the server's waitpid()"
    is "the server's exit status" "$STATUS" 1
}

@test "[step 6] end of input: shutdown(SHUT_WR) gives the server EOF first; the replies still arrive; exit 0" {
    printf 'one\ntwo\n' >"$T/server.in"
    run_server
    wait_server_exit
    note_lines "  " < <(grep -E 'shutdown|read\(\) = 0|waitpid|^(client|server): ' "$T/server.err")
    expect_line "$T/server.err" '^\[client\] shutdown\(SHUT_WR\) = 0$' "the client's shutdown()"
    expect_line "$T/server.err" '^\[server\] read\(\) = 0: peer closed$' "the server's EOF"
    expect_line "$T/server.err" '^\[client\] read\(\) = 0: server closed$' "the client's EOF"
    # The server's EOF comes from the shutdown(), while the client still
    # runs; the client's comes after, when the server closes its end.
    before_in_log '^\[server\] read\(\) = 0' '^\[client\] read\(\) = 0' ||
        fail "the client read EOF before the server did: its shutdown() did not end the server's input"
    is "the client's output" "$(<"$T/server.out")" $'ONE\nTWO'
    expect_line "$T/server.err" '^\[server\] waitpid\([0-9]+\) = [0-9]+: exited with status 0$' "the client's exit status, as the server's waitpid() saw it"
    is "the server's exit status" "$STATUS" 0
}

@test "[step 6] half-close: a reply that arrives after the client's shutdown() is still read" {
    open_session
    kill -STOP "$SERVER_PID"   # it replies only once the client has shut down
    wait_until stopped "$SERVER_PID" || fail "the server did not stop"
    printf 'hello\n' >&5
    exec 5>&-                  # the end of the client's input
    said '^\[client\] shutdown\('
    note_lines "  " < <(grep -E '^\[client\]|^client: ' "$T/server.err" | tail -n 4)
    kill -CONT "$SERVER_PID"
    wait_server_exit
    note_lines "  " < <(grep -E '^\[client\] read|^(client|server): ' "$T/server.err")
    before_in_log '^\[client\] shutdown\(' '^\[client\] read\(\) = 6 bytes' ||
        fail "the client did not read the 6-byte reply after its shutdown(): it closed its reading side too"
    is "the client's output" "$(<"$T/server.out")" HELLO
    is "the server's exit status (the client's)" "$STATUS" 0
}

@test "-k (the bug): the server keeps the child's end; the client dies, EOF never comes" {
    open_session -k
    kill -KILL "$CLIENT_PID"
    wait_gone "$CLIENT_PID"   # dead (a zombie: the server, stuck in read, does not reap it)
    wait_rows 2 "$SERVER_PID" "$CLIENT_PID" ||
        fail "ss -xp shows ${#ROWS[@]} socket(s) of the server, not its 2 ends: ${ROWS[*]}"
    note "client killed; ss -xp now shows both ends in the server:"
    note_lines "  " < <(printf '%s\n' "${ROWS[@]}")
    [[ ${ROWS[0]} == *"pid=$SERVER_PID,"* && ${ROWS[1]} == *"pid=$SERVER_PID,"* ]] ||
        fail "not both in the server (pid $SERVER_PID)"
    rows_are_peers "${ROWS[0]}" "${ROWS[1]}" || fail "the two rows are not each other's peer"
    sockets=$(socket_fds "$SERVER_PID")
    note "the server's socket descriptors: ${sockets//$'\n'/ }"
    mapfile -t each <<<"$sockets"
    is "how many socket descriptors the server holds" "${#each[@]}" 2
    alive "$SERVER_PID" || fail "the server exited"
    read_state "$SERVER_PID"
    read -r wchan 2>/dev/null <"/proc/$SERVER_PID/wchan" || true   # (no newline at its end)
    last_match "$T/server.err" '^\[server\] -k'
    note "server alive, state $STATE, waiting in $wchan; it said: $LINE"
    not has_line "$T/server.err" '^\[server\] read\(\) = 0' || fail "the server read EOF"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    last_match "$T/server.err" '.'
    note "kill -TERM: exit status $STATUS, $LINE"
    is "the server's exit status after SIGTERM" "$STATUS" 0
}

@test "run elsewhere, exec fails: the child says why and exits 1; the server reads EOF and exits 1" {
    cd "$T"
    spawn server "$LAB/server"
    SERVER_PID=$PID
    wait_server_exit
    note_lines "  " < <(grep -E 'execl|waitpid|^server:' "$T/server.err")
    expect_line "$T/server.err" '^child: execl \./client: No such file or directory$' "the child's error"
    expect_line "$T/server.err" '^\[server\] waitpid\([0-9]+\) = [0-9]+: exited with status 1$' "the server's waitpid()"
    is "the server's exit status" "$STATUS" 1
}

@test "16 MiB of random bytes round-trip intact, upper-cased" {
    BIG=1   # lab_teardown removes the 16 MiB files at once
    head -c 16777216 /dev/urandom >"$T/server.in"
    run_server
    wait_server_exit
    is "the server's exit status (the client's)" "$STATUS" 0
    upcase <"$T/server.in" | cmp - "$T/server.out" || fail "the output is not the input upper-cased"
    note "16 MiB: $(count '^\[server\] read\(\) = [0-9]+ bytes' "$T/server.err") server reads, output identical to tr a-z A-Z"
}

@test "usage: client needs FD, an open socket (else exit 2); -h and --help exit 0" {
    run "$LAB/client"
    note "client:           exit $status: ${lines[0]:-}"
    is "client's exit status" "$status" 2
    [[ ${lines[1]:-} == "usage: client FD"* ]] || fail "no usage after the error: $output"
    run "$LAB/client" four
    note "client four:      exit $status: ${lines[0]:-}"
    is "client four's exit status" "$status" 2
    run "$LAB/client" 9 9<&-
    note "client 9 (closed): exit $status: ${lines[0]:-}"
    is "client 9's exit status" "$status" 2
    [[ ${lines[0]:-} == "client: fd 9 is not open"* ]] || fail "client 9: $output"
    run "$LAB/client" 0 </dev/null
    note "client 0 (/dev/null): exit $status: ${lines[0]:-}"
    is "client 0's exit status" "$status" 2
    [[ ${lines[0]:-} == "client: fd 0 is not a socket"* ]] || fail "client 0: $output"
    for prog in server client; do
        run "$LAB/$prog" --help
        is "$prog --help's exit status" "$status" 0
        [[ ${lines[0]:-} == "usage: $prog"* ]] || fail "$prog --help: $output"
        run "$LAB/$prog" -h
        is "$prog -h's exit status" "$status" 0
    done
    run "$LAB/server" -x
    is "server -x's exit status" "$status" 2
    run "$LAB/server" /tmp/lab02.sock
    note "server PATH:      exit $status: ${lines[0]:-}"
    is "server PATH's exit status" "$status" 2
}

@test "[extra 1] -f N: the client gets its end as descriptor N, and holds no other socket" {
    local i n ns=(7)   # a new number, then the server's end's and the child's own
    for ((i = 0; i < ${#ns[@]}; i++)); do
        n=${ns[i]}
        rm -f "$T/server.in" "$T/server.err" "$T/server.out"
        open_session -f "$n"
        [ "$i" -gt 0 ] || ns+=("$SFD" "$CFD")
        note_lines "  -f $n: " < <(grep -E '^\[(child|client)\] (dup2|execl|getsockopt)' "$T/server.err")
        sockets=$(socket_fds "$CLIENT_PID")
        note "  -f $n: the client's sockets: ${sockets//$'\n'/ }"
        is "-f $n: the client's socket descriptors" "$(cut -d' ' -f1 <<<"$sockets" | paste -sd' ')" "$n"
        is "-f $n: the client's command line" "$(tr '\0' ' ' <"/proc/$CLIENT_PID/cmdline")" "./client $n "
        wait_rows 2 "$SERVER_PID" "$CLIENT_PID" || fail "-f $n: ss -xp shows ${#ROWS[@]} sockets, not the pair's 2"
        rows_are_peers "${ROWS[0]}" "${ROWS[1]}" || fail "-f $n: the client's fd $n is not the server's peer: ${ROWS[*]}"
        printf 'fd %s\n' "$n" >&5
        exec 5>&-
        wait_server_exit
        is "-f $n: the client's output" "$(<"$T/server.out")" "FD $n"
        is "-f $n: the server's exit status" "$STATUS" 0
    done
}

@test "[extra 1] -f N: N below 3 or not a number is a usage error (exit 2); one the child cannot have fails it (exit 1)" {
    local bad
    for bad in 2 0 x -1; do
        run "$LAB/server" -f "$bad"
        note "server -f $bad: exit $status: ${lines[0]:-}"
        is "server -f $bad's exit status" "$status" 2
    done
    run "$LAB/server" -f
    is "server -f (no N)'s exit status" "$status" 2
    run_server -f 99999
    wait_server_exit
    note_lines "  " < <(grep -E '^(child|server): ' "$T/server.err")
    expect_line "$T/server.err" '^child: dup2 fd [0-9]+ to fd 99999: Bad file descriptor$' "the child's dup2() error"
    is "the server's exit status" "$STATUS" 1
}

@test "[extra 2] -w with -k: the client is killed; the server sees its pidfd, ends the session and exits 1" {
    open_session -w -k
    expect_line "$T/server.err" "^\[server\] pidfd_open\($CLIENT_PID\) = fd [0-9]+\$" "the server's pidfd_open()"
    kill -KILL "$CLIENT_PID"
    # Dead before the server is judged: alive a moment longer, the client
    # could still hold a leaked end, which wait_server_exit calls stuck.
    wait_gone "$CLIENT_PID"
    wait_server_exit
    note_lines "  " < <(grep -E '^\[server\] (pidfd|poll|waitpid)|^server: ' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] poll\(\) = 1: pidfd [0-9]+: the child has exited' "the server's poll() on the pidfd"
    expect_line "$T/server.err" "^\[server\] waitpid\($CLIENT_PID\) = $CLIENT_PID: killed by signal 9 " "the server's waitpid()"
    is "the server's exit status" "$STATUS" 1
}

@test "[extra 2] -w: a session that ends normally still ends on EOF, exit 0; the pidfd is not the client's" {
    open_session -w
    leaked=$(find "/proc/$CLIENT_PID/fd" -lname 'anon_inode:*pidfd*' -printf '%f -> %l ' 2>/dev/null)
    [ -z "$leaked" ] || fail "the pidfd leaked into the client: $leaked"
    printf 'watched\n' >&5
    exec 5>&-
    wait_server_exit
    not has_line "$T/server.err" '^\[server\] poll\(\) = 1: pidfd' || fail "the server took the end of input for the child's death"
    is "the client's output" "$(<"$T/server.out")" WATCHED
    is "the server's exit status" "$STATUS" 0
}
