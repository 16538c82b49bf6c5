#!/usr/bin/env bats
# Lab 08: what only Unix sockets can do: pass an open file (SCM_RIGHTS),
# know who is at the other end (SO_PEERCRED, SCM_CREDENTIALS), and an
# abstract name, which has no file and so no permissions.
#
# Steps 1 to 6 are the server's, 7 to 9 the client's. Each step's tests
# look first at the step's own effect (the call as strace sees it, the
# narration right after it), so that a later step written wrong does not
# fail them; the end-to-end checks come after. Under make check, a
# "[step N]" test runs the student's program holding step N against the
# reference build of the other one. The tests of no step play the lesson's
# points with both programs, and tests/08-fd-passing-peer.c does what the
# lab's programs will not (a TCP socket, a descriptor never received, a
# hostile client or server).

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 08-fd-passing
    SOCK=$T/s
    make_dir
}

teardown() {
    exec 6<&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    # A server under strace: strace detaches when killed; a server stopped
    # by strace's injected SIGSTOP takes no SIGTERM: SIGKILL.
    [ -z "${TRACED_PID:-}" ] || kill -KILL "$TRACED_PID" 2>/dev/null || true
    lab_teardown
}

# make_dir: DIR, the directory served (0700: root's alone), holding f, a
# small regular file.
make_dir() {
    DIR=$T/d
    mkdir -m 700 "$DIR"
    printf 'first line\nsecond line\n' >"$DIR/f"
}

# nobody_setup: for a test that runs a client as user nobody (root only,
# else it skips): the test moves to a directory of its own under /tmp that
# nobody may enter (bats' are private), with its DIR, and NOBODY_CLIENT, a
# copy of the client that nobody may run (make check's links to it lie in
# a private directory). AS_NOBODY is the setpriv prefix.
nobody_setup() {
    [ "$EUID" -eq 0 ] || skip "needs root: a client runs as user nobody (setpriv)"
    command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
    own_tmp_dir
    chmod 755 "$T"
    SOCK=$T/s
    make_dir
    cp "$LAB/client" "$T/client"
    NOBODY_CLIENT=$T/client
    AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
}

# closed_fds COMMAND...: COMMAND with descriptors 4 to 9 closed (the test's
# own; bats holds 4), so that a client's descriptors are numbered as in a
# terminal: 3 its socket, 4 the file it receives.
closed_fds() {
    "$@" 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# client ARGS...: the client, run to its end (at most 10 s), as bats' run
# --separate-stderr does: status, output, stderr, lines.
client() {
    run_split closed_fds timeout -k 1 10 "$LAB/client" "$@"
}

# traced_client CALLS ARGS...: the same, under strace -e trace=CALLS; the
# trace in $T/ctrace. (timeout(1) stops strace and the client together.)
traced_client() {
    local calls=$1
    shift
    run_split closed_fds env ASAN_OPTIONS=detect_leaks=0 timeout -k 1 10 \
        strace -o "$T/ctrace" -e trace="$calls" "$LAB/client" "$@"
}

# nobody_client ARGS...: the client as user nobody, run to its end.
nobody_client() {
    run_split closed_fds timeout -k 1 10 "${AS_NOBODY[@]}" "$NOBODY_CLIENT" "$@"
}

# traced_server OPTIONS ARGS...: the server under strace with OPTIONS (one
# word list: "-e trace=bind"), its trace in $T/trace, until it is ready or
# gone (a later step written wrong may stop it after the call this test is
# about). STRACE_PID is strace's pid; SERVER_PID and TRACED_PID the
# server's own (when it is gone already: TRACED_PID is empty, SERVER_PID
# strace's). LeakSanitizer cannot run under ptrace: off, for make
# SANITIZE=1 builds.
traced_server() {
    local opts=$1
    shift
    # shellcheck disable=SC2086 # OPTIONS is words
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -o "$T/trace" $opts "$LAB/server" "$@"
    STRACE_PID=$PID
    wait_until ready_or_dead "$STRACE_PID"
    find_traced
    SERVER_PID=${TRACED_PID:-$STRACE_PID}   # gone already: strace's, gone too
}

# find_traced: TRACED_PID, strace's child that runs the server (empty when
# there is none): the one named server, once it has exec'd (strace may
# first fork a short-lived child of its own, to probe ptrace).
find_traced() {
    local kids pid comm
    TRACED_PID=
    read -r kids 2>/dev/null <"/proc/$STRACE_PID/task/$STRACE_PID/children" || true
    for pid in $kids; do
        read -r comm 2>/dev/null <"/proc/$pid/comm" || continue
        [ "$comm" = server ] && TRACED_PID=$pid
    done
    return 0
}

# held_server CALLS STOP ARGS...: the server under strace -e trace=CALLS,
# which stops it right after its first STOP call returns (a SIGSTOP
# injected: state t), so that what ss shows then is that call's work
# alone, whatever the server would do next; until it is stopped or gone.
# TRACED_PID is the server (empty when it never ran); SERVER_PID the
# server, or strace when there is none. kill -CONT goes on.
held_server() {
    local calls=$1 stop=$2
    shift 2
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -o "$T/trace" -e trace="$calls" \
        -e inject="$stop":signal=SIGSTOP "$LAB/server" "$@"
    STRACE_PID=$PID TRACED_PID=''
    wait_until held_or_over
    SERVER_PID=${TRACED_PID:-$STRACE_PID}
}

held_or_over() {
    if [ -z "$TRACED_PID" ] || gone "$TRACED_PID"; then find_traced; fi
    # Held by the signal, which strace reports once the server is stopped:
    # the state alone (t) is also that of strace's own stop at each traced
    # call, before the STOP call has even run.
    gone "$STRACE_PID" || { [ -n "$TRACED_PID" ] && has_line "$T/trace" '^--- stopped by SIGSTOP ---'; }
}

# first_call NAME [FILE]: the first NAME(...) line of FILE ($T/trace),
# blanks squeezed, into CALL (empty when there is none).
first_call() {
    CALL=
    last_match "${2:-$T/trace}" "^$1\\(" || return 0
    local all
    mapfile -t all <"${2:-$T/trace}"
    for CALL in "${all[@]}"; do
        [[ $CALL == "$1("* ]] && break
    done
    CALL=$(tr -s ' ' <<<"$CALL")
}

# build_peer: PEER, tests/08-fd-passing-peer.c built once for this file.
build_peer() {
    PEER=$BATS_FILE_TMPDIR/peer
    [ -x "$PEER" ] ||
        cc -std=c11 -Wall -Wextra -Werror -o "$PEER" "$ROOT/tests/08-fd-passing-peer.c" ||
        fail "tests/08-fd-passing-peer.c does not build"
}

# served CLIENT_ERR: after a client has exited, with its narration in
# CLIENT_ERR: when it got connected, wait until the server has closed a
# descriptor (or is gone), so that what it narrated of the session is
# written; when it did not, the server has nothing to say: no wait.
served() {
    has_line "$1" '^\[client\] connect\(.*\) = 0$' || return 0
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0$'
}

# closes_of FD N: the server has narrated close(fd FD) N times (or is gone).
closes_of() {
    (($(count "^\\[server\\] close\\(fd $1\\) = 0\$" "$T/server.err") >= $2)) || gone "$SERVER_PID"
}

# fdinfo PID FD: the fields of /proc/PID/fdinfo/FD into POS and FLAGS
# (octal, as the kernel writes them); fails when there is no such file.
fdinfo() {
    local key value
    POS='' FLAGS=''
    while read -r key value; do
        case $key in pos:) POS=$value ;; flags:) FLAGS=$value ;; esac
    done 2>/dev/null <"/proc/$1/fdinfo/$2" || return 1
    [ -n "$POS" ] || return 1
}

# pos_is PID FD N: /proc/PID/fdinfo/FD says pos: N.
pos_is() {
    fdinfo "$1" "$2" && [ "$POS" = "$3" ]
}

# held_or_gone PID FD N: the client PID holds fd FD at offset N, or is gone.
held_or_gone() {
    pos_is "$1" "$2" "$3" || gone "$1"
}

# stopped_or_gone PID: PID is stopped, or gone (no wait for what cannot come).
stopped_or_gone() {
    stopped "$1" || gone "$1"
}

# low_fds LINE: the descriptors an "open descriptors:" narration lists,
# below 10 (the ones above were open in the test's shell already, and
# inherited), into FDS.
low_fds() {
    local n
    FDS=
    for n in ${1#*open descriptors:}; do
        ((n < 10)) && FDS+="${FDS:+ }$n"
    done
    return 0
}

# the_file PID FD FILE: /proc/PID/fd/FD leads to FILE (same device and inode).
the_file() {
    [ "/proc/$1/fd/$2" -ef "$3" ] || return 1
}

@test "[step 1] socket(): strace sees socket(AF_UNIX, SOCK_SEQPACKET, 0), and the descriptor it returns is the one narrated" {
    traced_server "-e trace=socket" "$SOCK" "$DIR"
    first_call socket
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no socket() call; the server said: $(tail -n 2 "$T/server.err")"
    [[ $CALL =~ ^socket\(AF_UNIX,\ SOCK_SEQPACKET,\ 0\)\ =\ ([0-9]+)$ ]] ||
        fail "the server's first socket() call should be socket(AF_UNIX, SOCK_SEQPACKET, 0) = FD; strace saw: $CALL"
    fd=${BASH_REMATCH[1]}
    last_match "$T/server.err" '^\[server\] socket\(' || LINE="no socket() narrated"
    note "narration: $LINE"
    expect_line "$T/server.err" "^\\[server\\] socket\\(AF_UNIX, SOCK_SEQPACKET\\) = fd $fd\$" "the server's narration of socket(), right after your step"
}

@test "[step 2] bind() on a path: strace sees the whole path, the length of a whole sockaddr_un (110), and the result 0" {
    traced_server "-e trace=bind" "$SOCK" "$DIR"
    first_call bind
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no bind() call; the server said: $(tail -n 2 "$T/server.err")"
    is "the server's bind() call, as strace saw it (fd shown as FD)" "$(sed -E 's/^bind\([0-9]+,/bind(FD,/' <<<"$CALL")" \
        "bind(FD, {sa_family=AF_UNIX, sun_path=\"$SOCK\"}, 110) = 0"
    expect_line "$T/server.err" "^\\[server\\] bind\\(\"$SOCK\"\\) = 0\$" "the server's narration of bind(), right after your step"
}

@test "[step 2] bind() on an abstract name (@NAME): strace sees @\"NAME\" and its length, no file appears, ss -xl shows @NAME" {
    name=$T/a                     # unique to this test: its directory's path
    held_server bind,listen listen "@$name" "$DIR"
    first_call bind
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no bind() call; the server said: $(tail -n 2 "$T/server.err")"
    # sun_family (2 bytes), the NUL that makes the name abstract, the name:
    # no more (a whole sockaddr_un would make the NULs after it part of it).
    is "the server's bind() call, as strace saw it (fd shown as FD)" "$(sed -E 's/^bind\([0-9]+,/bind(FD,/' <<<"$CALL")" \
        "bind(FD, {sa_family=AF_UNIX, sun_path=@\"$name\"}, $((2 + 1 + ${#name}))) = 0"
    files=("$T"/*)
    note "files in \$T: ${files[*]##*/}"
    [ ! -e "$name" ] || fail "an abstract name made a file: $(ls -l "$name")"
    row=$(ss -xlH | grep -F " @$name" || true)   # @NAME, or @NAME@@@... (trailing NULs)
    note "ss -xl: $(tr -s ' ' <<<"$row")"
    read -ra field <<<"$row"
    is "ss -xl's Netid, State and Local Address for the abstract name" "${field[0]:-} ${field[1]:-} ${field[4]:-}" "u_seq LISTEN @$name"
}

@test "[step 2] the socket file: born srwx------, -m 0777 gives srwxrwxrwx, a stale one is replaced, SIGTERM removes it" {
    start_server "$SOCK" "$DIR"
    listing=$(ls -l "$SOCK" 2>&1 || true)
    note "while the server runs:  ${listing%% *}"
    [[ $listing == srwx------* ]] || fail "the socket file should be srwx------; ls -l says: $listing"
    kill -KILL "$SERVER_PID"        # dies without removing its file
    wait_exit "$SERVER_PID"
    [ -S "$SOCK" ] || fail "after SIGKILL the socket file should stay; ls says: $(ls -l "$T")"
    rm "$T/server.out"
    : >"$T/server.err"
    start_server -m 0777 "$SOCK" "$DIR"
    note_lines "  " < <(grep -E 'bind|connect|unlink' "$T/server.err")
    expect_line "$T/server.err" 'Connection refused: stale socket file' "the probe of the stale file"
    listing=$(ls -l "$SOCK" 2>&1 || true)
    note "server -m 0777, after the stale file: ${listing%% *}"
    [[ $listing == srwxrwxrwx* ]] || fail "with -m 0777 the socket file should be srwxrwxrwx; ls -l says: $listing"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    note "after SIGTERM: exit status $STATUS, $(tail -n 1 "$T/server.err")"
    is "the server's exit status after SIGTERM" "$STATUS" 0
    [ ! -e "$SOCK" ] || fail "the server left its socket file behind: $(ls -l "$SOCK")"
}

@test "[step 3] listen(): strace sees listen() on the bound socket with a backlog of 16; ss -xl shows u_seq LISTEN, Send-Q 16; then the readiness line" {
    held_server bind,listen listen "$SOCK" "$DIR"
    first_call listen
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no listen() call; the server said: $(tail -n 2 "$T/server.err")"
    first_call bind
    bound_fd=${CALL#bind(}
    bound_fd=${bound_fd%%,*}
    first_call listen
    is "the server's listen() call, as strace saw it" "$CALL" "listen($bound_fd, 16) = 0"
    # The server, stopped right after listen(): the listener is that call's.
    row=$(ss -xlH src "$SOCK")
    note "ss -xl, the server stopped after listen(): $(tr -s ' ' <<<"$row")"
    read -ra field <<<"$row"
    is "ss -xl's Netid, State and Send-Q (the backlog) at $SOCK" "${field[0]:-} ${field[1]:-} ${field[3]:-}" "u_seq LISTEN 16"
    kill -CONT "$TRACED_PID"
    wait_until ready_or_dead "$STRACE_PID"
    expect_line "$T/server.err" '^\[server\] listen\(backlog=16\) = 0$' "the server's narration of listen(), right after your step"
    expect_line "$T/server.out" "^listening on $SOCK\$" "the server's readiness line"
}

@test "[step 4] accept(): a new descriptor for each client, closed after it; the server's descriptor count is back where it was" {
    # The clients ask for a file that is not there: the server answers ERR,
    # and sends no descriptor (step 6 plays no part).
    start_server "$SOCK" "$DIR"
    before=$(fd_count "$SERVER_PID")
    last_match "$T/server.err" 'socket\(AF_UNIX, SOCK_SEQPACKET\) = fd ([0-9]+)' ||
        fail "the server narrated no socket(): $(head -n 3 "$T/server.err")"
    lfd=$MATCH
    client "$SOCK" nope
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd [0-9]+$' "the server's narration of accept(), right after your step"
    last_match "$T/server.err" '^\[server\] accept\(\) = fd ([0-9]+)$'
    cfd=$MATCH
    note "listening socket fd $lfd; $LINE"
    [ "$cfd" != "$lfd" ] || fail "accept() returned fd $cfd, the listening socket's own number"
    client "$SOCK" nope
    wait_until closes_of "$cfd" 2
    after=$(fd_count "$SERVER_PID")
    note "two clients: $(count '^\[server\] accept\(\) = fd' "$T/server.err") accept(), $(count "^\\[server\\] close\\(fd $cfd\\)" "$T/server.err") close(fd $cfd); descriptors: $before before, $after after"
    is "accept() calls narrated for two clients" "$(count "^\\[server\\] accept\\(\\) = fd $cfd\$" "$T/server.err")" 2
    is "the server's descriptor count after two clients" "$after" "$before"
}

@test "[step 5] getsockopt(SO_PEERCRED): the pid, uid and gid the kernel recorded for the client: its real pid" {
    start_server "$SOCK" "$DIR"
    spawn client "$LAB/client" "$SOCK" f
    CLIENT=$PID
    wait_exit "$CLIENT"
    served "$T/client.err"
    last_match "$T/server.err" 'SO_PEERCRED' || LINE="no SO_PEERCRED narrated"
    note "the client's pid: $CLIENT (spawned by the test); $LINE"
    while read -r key _ value _; do   # Gid: real, effective, saved, fs
        [ "$key" = Gid: ] && gid=$value
    done <"/proc/$BASHPID/status"
    expect_line "$T/server.err" "^\\[server\\] getsockopt\\(SO_PEERCRED\\) = pid $CLIENT uid $EUID gid $gid\$" "the server's narration of SO_PEERCRED, right after your step"
}

@test "[step 5] the kernel vouches for the peer: user nobody's client is pid, uid and gid 65534; -a 0 refuses it, nothing opened; -a 0,65534 serves it" {
    nobody_setup
    traced_server "-e trace=openat" -a 0 -m 0777 "$SOCK" "$DIR"
    spawn nobody "${AS_NOBODY[@]}" "$NOBODY_CLIENT" "$SOCK" f
    NOBODY=$PID
    wait_exit "$NOBODY"
    served "$T/nobody.err"
    last_match "$T/server.err" 'SO_PEERCRED' || fail "the server narrated no getsockopt(SO_PEERCRED): $(tail -n 3 "$T/server.err")"
    note "user nobody's client, pid $NOBODY: $LINE"
    expect_line "$T/server.err" "^\\[server\\] getsockopt\\(SO_PEERCRED\\) = pid $NOBODY uid 65534 gid 65534\$" "the credentials of nobody's client"
    last_of=$(tail -n 1 "$T/nobody.err")
    note "server -a 0: nobody's client: exit $STATUS: $last_of"
    expect_line "$T/server.err" '^\[server\] send\("ERR not allowed: uid 65534"\) = [0-9]+ bytes$' "the server's refusal"
    is "nobody's client's exit status under -a 0" "$STATUS" 1
    is "nobody's client's error" "$last_of" "client: f: not allowed: uid 65534"
    is "nobody's client's output under -a 0" "$(<"$T/nobody.out")" ""
    opens=$(grep -vE '^openat\(AT_FDCWD, ' "$T/trace" || true)
    note "strace -e trace=openat of the server, besides its startup (AT_FDCWD): ${opens:-nothing}"
    [ -z "$opens" ] || fail "the server opened something for a client it refused: $opens"

    spawn s2 "$LAB/server" -a 0,65534 -m 0777 "$T/s2" "$DIR"
    wait_until ready_or_dead "$PID" s2
    nobody_client "$T/s2" f
    note "server -a 0,65534: nobody's client: exit $status; $(grep -E 'SO_PEERCRED|openat\("f"' "$T/s2.err" | tr '\n' ' ')"
    expect_line "$T/s2.err" '^\[server\] openat\("f", O_RDONLY\|O_NOFOLLOW\|O_NONBLOCK\|O_NOCTTY\|O_CLOEXEC\) = fd [0-9]+$' "server -a 0,65534: the open of f for user nobody"
}

@test "[step 6] sendmsg(): strace sees \"OK\" and one SCM_RIGHTS control message (cmsg_len 20) carrying the descriptor the server opened" {
    traced_server "-e trace=sendmsg" "$SOCK" "$DIR"
    client "$SOCK" f
    served "$T/run.err"
    first_call sendmsg
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no sendmsg() call; the server said: $(tail -n 3 "$T/server.err")"
    last_match "$T/server.err" '^\[server\] openat\("f", .*\) = fd ([0-9]+)$' ||
        fail "the server narrated no openat() of f: $(tail -n 3 "$T/server.err")"
    fd=$MATCH
    is "the server's sendmsg() call, as strace saw it (its socket, control length and flags shown as CFD, N, FLAGS)" \
        "$(sed -E 's/^sendmsg\([0-9]+,/sendmsg(CFD,/; s/msg_controllen=[0-9]+/msg_controllen=N/; s/\}, [A-Z_|0-9]+\) = /}, FLAGS) = /' <<<"$CALL")" \
        "sendmsg(CFD, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"OK\", iov_len=2}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[$fd]}], msg_controllen=N, msg_flags=0}, FLAGS) = 2"
    expect_line "$T/server.err" "^\\[server\\] sendmsg\\(\\) = 2 bytes \\+ SCM_RIGHTS fd $fd\$" "the server's narration of sendmsg(), right after your step"
    note "the client: exit $status; $(grep -E 'SCM_RIGHTS|readlink' <<<"$stderr" | tr '\n' ' ')"
    is "the client's exit status (${stderr##*$'\n'})" "$status" 0
    is "the client's output" "$output" "$(<"$DIR/f")"
}

@test "[step 6] the same open file, not a copy: server -o 7 lseeks before passing it, and the client's first read starts at byte 7" {
    start_server -o 7 "$SOCK" "$DIR"
    client "$SOCK" f
    served "$T/run.err"
    last_match "$T/server.err" 'lseek' || LINE="the server narrated no lseek()"
    note "$LINE"
    expect_line "$T/server.err" '^\[server\] sendmsg\(\) = 2 bytes \+ SCM_RIGHTS fd [0-9]+$' "the server's narration of sendmsg(), right after your step"
    last_match "$T/run.err" '^\[client\] lseek\(' || LINE="no lseek() narrated: ${stderr##*$'\n'}"
    note "$LINE"
    is "the client's offset in the file it received" "$LINE" "[client] lseek(fd 4, 0, SEEK_CUR) = 7"
    file=$(<"$DIR/f")
    note "the file begins \"${file:0:10}...\"; the client's output begins \"${output:0:3}...\""
    is "the client's output: the file from byte 7 on" "$output" "$(tail -c +8 "$DIR/f")"
}

@test "[step 7] socket() and connect(): strace sees a seqpacket socket connected to the path (110 bytes) and to an abstract name (its own length)" {
    start_server "$SOCK" "$DIR"
    spawn abstract "$LAB/server" "@$T/a" "$DIR"
    wait_until ready_or_dead "$PID" abstract
    traced_client socket,connect "$SOCK" f
    first_call socket "$T/ctrace"
    note "strace: $CALL"
    [[ $CALL =~ ^socket\(AF_UNIX,\ SOCK_SEQPACKET,\ 0\)\ =\ ([0-9]+)$ ]] ||
        fail "the client's socket() call should be socket(AF_UNIX, SOCK_SEQPACKET, 0) = FD; strace saw: ${CALL:-none}"
    fd=${BASH_REMATCH[1]}
    first_call connect "$T/ctrace"
    note "strace: $CALL"
    is "the client's connect() to a path, as strace saw it" "$CALL" "connect($fd, {sa_family=AF_UNIX, sun_path=\"$SOCK\"}, 110) = 0"
    expect_line "$T/run.err" "^\\[client\\] connect\\(\"$SOCK\"\\) = 0\$" "the client's narration of connect(), right after your step"
    traced_client connect "@$T/a" f
    first_call connect "$T/ctrace"
    note "strace: $CALL"
    is "the client's connect() to an abstract name, as strace saw it" "$CALL" \
        "connect($fd, {sa_family=AF_UNIX, sun_path=@\"$T/a\"}, $((2 + 1 + ${#T} + 2))) = 0"
    expect_line "$T/run.err" "^\\[client\\] connect\\(\"@$T/a\"\\) = 0\$" "the client's narration of connect() to the abstract name"
    client "$T/none" f
    one_error
    note "no server: exit $status: $ERROR"
    is "the client's exit status with no server" "$status" 1
    is "the client's error with no server" "$ERROR" "client: connect $T/none: No such file or directory"
}

@test "[step 8] recvmsg(): strace sees MSG_CMSG_CLOEXEC asked, \"OK\" received and one SCM_RIGHTS descriptor in the control data" {
    start_server "$SOCK" "$DIR"
    traced_client recvmsg "$SOCK" f
    first_call recvmsg "$T/ctrace"
    note "strace: $CALL"
    [ -n "$CALL" ] || fail "strace saw no recvmsg() call in the client; it said: ${stderr##*$'\n'}"
    [[ $CALL =~ \},\ ([^{}]*)\)\ =\ (-?[0-9]+) ]] || fail "strace's recvmsg() line has no flags and result: $CALL"
    flags=${BASH_REMATCH[1]} result=${BASH_REMATCH[2]}
    [[ "|$flags|" == *"|MSG_CMSG_CLOEXEC|"* ]] ||
        fail "recvmsg() should ask MSG_CMSG_CLOEXEC, so the descriptor received is close-on-exec; its flags: $flags"
    is "what recvmsg() returned" "$result" 2
    [[ $CALL =~ msg_control=\[\{cmsg_len=20,\ cmsg_level=SOL_SOCKET,\ cmsg_type=SCM_RIGHTS,\ cmsg_data=\[[0-9]+\]\}\] ]] ||
        fail "the control data received should be one SCM_RIGHTS message with one descriptor: $CALL"
    size=${CALL#*msg_controllen=}
    note "the control buffer, CMSG_SPACE(sizeof(int)): msg_controllen=${size%%,*} after the call"
}

@test "[step 8] the control buffer's size (-c): 16 and 0 bytes truncate (MSG_CTRUNC), the descriptor is closed, not leaked; 20, CMSG_LEN(sizeof(int)), is enough" {
    start_server "$SOCK" "$DIR"
    for size in 16 0; do
        traced_client recvmsg -c "$size" "$SOCK" f
        first_call recvmsg "$T/ctrace"
        note "-c $size: strace: ${CALL#*msg_iovlen=1, }"
        [[ $CALL == *"msg_flags=MSG_CTRUNC"* && $CALL == *") = 2" ]] ||
            fail "with -c $size, recvmsg() should return 2 with MSG_CTRUNC in msg_flags; strace saw: ${CALL:-no recvmsg()}"
        last_match "$T/run.err" 'MSG_CTRUNC' || LINE="no MSG_CTRUNC narrated"
        note "-c $size: $LINE"
        last_match "$T/run.err" 'open descriptors:' || fail "with -c $size the client did not list its descriptors: ${stderr##*$'\n'}"
        low_fds "$LINE"
        note "-c $size: $LINE; exit $status"
        is "the client's descriptors below 10 after MSG_CTRUNC with -c $size (no descriptor received, none leaked)" "$FDS" "0 1 2 3"
        is "the client's exit status with -c $size" "$status" 1
    done
    traced_client recvmsg -c 20 "$SOCK" f
    first_call recvmsg "$T/ctrace"
    note "-c 20: strace: ${CALL#*msg_iovlen=1, }"
    [[ $CALL == *"cmsg_type=SCM_RIGHTS, cmsg_data=[4]}], msg_controllen=20,"* && $CALL != *MSG_CTRUNC* ]] ||
        fail "with -c 20 the descriptor should fit, without MSG_CTRUNC; strace saw: ${CALL:-no recvmsg()}"
}

@test "[step 8] the descriptor received is close-on-exec: /proc/PID/fdinfo of the client's fd 4 shows O_CLOEXEC (02000000)" {
    seq 1 40000 >"$DIR/big"     # more than the pipe's 64 KiB and one 64 KiB read
    start_server "$SOCK" "$DIR"
    mkfifo "$T/hold.out"        # read by nobody until the end: the client blocks in write()
    spawn hold "$LAB/client" "$SOCK" big
    HOLD=$PID
    exec 6<"$T/hold.out"
    wait_until held_or_gone "$HOLD" 4 131072
    fdinfo "$HOLD" 4 || fail "the client holds no fd 4; it said: $(tail -n 2 "$T/hold.err")"
    note "/proc/$HOLD/fdinfo/4: pos $POS, flags $FLAGS"
    (((8#$FLAGS & 8#2000000) != 0)) || fail "fd 4 of the client is not close-on-exec: flags $FLAGS lack 02000000 (O_CLOEXEC)"
    timeout 10 cat <&6 >"$T/got"
    exec 6<&-
    wait_exit "$HOLD"
    is "the client's exit status ($(tail -n 1 "$T/hold.err"))" "$STATUS" 0
    cmp -s "$T/got" "$DIR/big" || fail "the client's output is not the file ($(wc -c <"$T/got") bytes of $(wc -c <"$DIR/big"))"
}

@test "[step 9] the descriptor kept is the one received: strace's cmsg_data, the narration, /proc/self/fd, and the file's bytes agree" {
    start_server "$SOCK" "$DIR"
    traced_client recvmsg "$SOCK" f
    first_call recvmsg "$T/ctrace"
    [[ $CALL =~ cmsg_data=\[([0-9]+)\] ]] || fail "strace saw no descriptor received: ${CALL:-no recvmsg()}"
    fd=${BASH_REMATCH[1]}
    note "strace: ... cmsg_data=[$fd] ..."
    last_match "$T/run.err" 'SCM_RIGHTS' || LINE="no descriptor narrated: ${stderr##*$'\n'}"
    note "$LINE"
    is "the client's narration of the descriptor it kept, right after your step" "$LINE" "[client] recvmsg() = 2 bytes + SCM_RIGHTS fd $fd"
    expect_line "$T/run.err" "^\\[client\\] readlink\\(\"/proc/self/fd/$fd\"\\) = \"$DIR/f\"\$" "what the client's fd $fd leads to"
    is "the client's exit status (${stderr##*$'\n'})" "$status" 0
    is "the client's output" "$output" "$(<"$DIR/f")"
}

@test "[step 9] a server that sends two descriptors: the client keeps the first, and closes the other" {
    # Two descriptors fill the client's control buffer, CMSG_SPACE(sizeof(int))
    # = 24 bytes, exactly: CMSG_LEN(2 * sizeof(int)) = 24.
    build_peer
    spawn hostile "$PEER" serve-fds 2 "$SOCK" "$DIR/f"
    wait_until ready_or_dead "$PID" hostile
    traced_client recvmsg,close "$SOCK" f
    last_match "$T/hostile.out" 'sendmsg' || LINE="nothing sent: $(cat "$T/hostile.err")"
    note "the test's server: $LINE"
    first_call recvmsg "$T/ctrace"
    [[ $CALL =~ cmsg_data=\[([0-9]+),\ ([0-9]+)\] ]] || fail "strace saw no two descriptors received: ${CALL:-no recvmsg()}"
    first=${BASH_REMATCH[1]} second=${BASH_REMATCH[2]}
    note "strace: ... cmsg_data=[$first, $second] ...; then: $(sed -n '/^recvmsg(/,$p' "$T/ctrace" | grep -E '^close\(' | tr -s ' ' | tr '\n' ' ')"
    last_match "$T/run.err" 'SCM_RIGHTS' || LINE="no descriptor narrated: ${stderr##*$'\n'}"
    is "the client's narration of the descriptor it kept, right after your step" "$LINE" "[client] recvmsg() = 2 bytes + SCM_RIGHTS fd $first"
    is "the close() calls strace saw after the client's recvmsg(), before it closes its socket ($second, then $first, then 3)" \
        "$(sed -n '/^recvmsg(/,$p' "$T/ctrace" | grep -oE '^close\([0-9]+\)' | tr '\n' ' ')" "close($second) close($first) close(3) "
    is "the client's exit status (${stderr##*$'\n'})" "$status" 0
    is "the client's output" "$output" "$(<"$DIR/f")"
}

@test "a descriptor crosses processes, not a name: user nobody cannot open the file, yet reads it; both /proc/PID/fd lead to it, at one shared offset" {
    nobody_setup
    seq 1 40000 >"$DIR/big"
    run_split "${AS_NOBODY[@]}" head -c 16 "$DIR/big"
    note "$(ls -ld "$DIR" | cut -d' ' -f1,3) $DIR; as nobody: head: exit $status: ${stderr##*: }"
    is "user nobody's own open() of $DIR/big (head's error)" "${stderr##*: }" "Permission denied"
    # strace stops the server right after its sendmsg() (SIGSTOP injected):
    # its copy of the descriptor is still open. The client's standard
    # output is a FIFO nobody reads: it blocks in write(), holding its own.
    traced_server "-e trace=sendmsg -e inject=sendmsg:signal=SIGSTOP" -m 0777 "$SOCK" "$DIR"
    mkfifo "$T/nobody.out"
    spawn nobody "${AS_NOBODY[@]}" "$NOBODY_CLIENT" "$SOCK" big
    NOBODY=$PID
    exec 6<"$T/nobody.out"
    wait_until said_or_gone "$NOBODY" "$T/trace" '^sendmsg\('
    first_call sendmsg
    [[ $CALL =~ cmsg_type=SCM_RIGHTS,\ cmsg_data=\[([0-9]+)\]\}\].*\ =\ 2$ ]] ||
        fail "the server should have sent one descriptor; its sendmsg(), as strace saw it: ${CALL:-none}"
    sfd=${BASH_REMATCH[1]}
    wait_until held_or_gone "$NOBODY" 4 131072
    wait_until stopped_or_gone "$SERVER_PID"
    fdinfo "$SERVER_PID" "$sfd" || fail "the stopped server holds no fd $sfd"
    spos=$POS
    fdinfo "$NOBODY" 4 || fail "nobody's client holds no fd 4; it said: $(tail -n 2 "$T/nobody.err")"
    cpos=$POS
    read_state "$SERVER_PID"
    note "server, pid $SERVER_PID (uid 0, state $STATE): /proc/$SERVER_PID/fd/$sfd -> $(readlink "/proc/$SERVER_PID/fd/$sfd"), pos $spos"
    note "client, pid $NOBODY (uid $(awk '/^Uid:/ { print $2 }' "/proc/$NOBODY/status")): /proc/$NOBODY/fd/4 -> $(readlink "/proc/$NOBODY/fd/4"), pos $cpos"
    the_file "$SERVER_PID" "$sfd" "$DIR/big" || fail "the server's fd $sfd does not lead to $DIR/big: $(readlink "/proc/$SERVER_PID/fd/$sfd")"
    the_file "$NOBODY" 4 "$DIR/big" || fail "the client's fd 4 does not lead to $DIR/big: $(readlink "/proc/$NOBODY/fd/4")"
    [ "$sfd" != 4 ] || fail "the server's descriptor and the client's have one number, 4: this shows nothing"
    is "the offset of the client's fd 4, one open file with the server's fd $sfd" "$cpos" "$spos"
    timeout 10 cat <&6 >"$T/got"
    exec 6<&-
    wait_exit "$NOBODY"
    note "nobody's client: exit $STATUS, $(wc -c <"$T/got") bytes; $(tail -n 1 "$T/nobody.err")"
    is "nobody's client's exit status" "$STATUS" 0
    cmp -s "$T/got" "$DIR/big" || fail "nobody's client did not print the file"
}

@test "over TCP, SO_PEERCRED gives no credentials (pid 0, uid and gid -1); over a Unix socket, the real ones" {
    build_peer
    run_split "$PEER" peercred
    note_lines "" <<<"$output"
    is "the test's peer's exit status ($stderr)" "$status" 0
    last_match "$T/run.out" '^self: (.*)$' || fail "the test's peer printed no ids of its own"
    self=$MATCH
    last_match "$T/run.out" '^tcp .*: (pid .*)$' || MATCH=
    is "SO_PEERCRED on a TCP connection's accepted end" "$MATCH" "pid 0 uid 4294967295 gid 4294967295"
    last_match "$T/run.out" '^unix .*: (pid .*)$' || MATCH=
    is "SO_PEERCRED on a Unix socketpair (the creator's own ids)" "$MATCH" "$self"
}

@test "abstract names have no permissions: user nobody reaches @NAME and gets the file; the same server on a srwx------ path refuses its connect()" {
    nobody_setup
    start_server "@$T/a" "$DIR"
    files=("$T"/*)
    note "server on @$T/a; files in its directory: ${files[*]##*/}; ss -xl: $(ss -xlH | grep -F " @$T/a" | tr -s ' ')"
    nobody_client "@$T/a" f
    note "user nobody, @$T/a: exit $status; $(grep -E 'connect|SCM_RIGHTS' "$T/run.err" | tr '\n' ' ')"
    is "nobody's client's exit status on the abstract name (${stderr##*$'\n'})" "$status" 0
    is "nobody's client's output" "$output" "$(<"$DIR/f")"
    expect_line "$T/server.err" '^\[server\] getsockopt\(SO_PEERCRED\) = pid [0-9]+ uid 65534 gid 65534$' "the server's SO_PEERCRED for nobody's client"

    spawn path "$LAB/server" "$SOCK" "$DIR"
    wait_until ready_or_dead "$PID" path
    nobody_client "$SOCK" f
    one_error
    note "$(ls -l "$SOCK" | cut -d' ' -f1,3) $SOCK: user nobody: exit $status: $ERROR"
    is "nobody's client's exit status on a srwx------ path" "$status" 1
    is "nobody's client's error on a srwx------ path" "$ERROR" "client: connect $SOCK: Permission denied"
}

@test "bad names: traversal, a symlink, a directory, a FIFO, a missing file, 256 bytes, . and ..: each an ERR with its reason, nothing opened outside DIR, and the server goes on" {
    echo secret >"$T/outside"
    ln -s "$T/outside" "$DIR/link"
    mkdir "$DIR/sub"
    mkfifo "$DIR/fifo"
    printf -v long '%256s' ''
    long=${long// /x}
    spawn server env ASAN_OPTIONS=detect_leaks=0 strace -f -o "$T/trace" -e trace=open,openat "$LAB/server" "$SOCK" "$DIR"
    STRACE_PID=$PID
    wait_until ready_or_dead "$STRACE_PID"
    find_traced
    SERVER_PID=${TRACED_PID:-$STRACE_PID}
    [ -s "$T/server.out" ] || fail "the server exited before it was ready: $(tail -n 2 "$T/server.err")"
    names=("../../etc/shadow" link sub fifo nope "$long" . ..)
    reasons=("bad name: it holds '/' (only files directly in DIR are served)" "a symbolic link: refused (O_NOFOLLOW)"
        "not a regular file" "not a regular file" "No such file or directory" "name too long (at most 255 bytes)"
        "bad name: . and .. are not files in DIR" "bad name: . and .. are not files in DIR")
    for i in "${!names[@]}"; do
        client "$SOCK" "${names[i]}"
        one_error
        shown=${names[i]}
        ((${#shown} < 20)) || shown="${#shown} x's"
        note "$shown: exit $status: ${ERROR//$long/<256 x>}"
        is "the client's exit status for '$shown'" "$status" 1
        is "the client's error for '$shown'" "$ERROR" "client: ${names[i]}: ${reasons[i]}"
    done
    client "$SOCK" f
    note "then f: exit $status, $(wc -l <<<"$output") lines"
    is "the client's output for f, after the bad names" "$output" "$(<"$DIR/f")"
    # Every open the server made: its startup's, by absolute path, and the
    # requests', relative to DIR's descriptor.
    last_match "$T/trace" "openat\\(AT_FDCWD, \"$DIR\", .*\\) = ([0-9]+)$" || fail "strace saw no open of DIR: $(head -n 5 "$T/trace")"
    dfd=$MATCH
    mapfile -t opens < <(sed -E 's/^[0-9]+ +//' "$T/trace" | grep -E '^open(at)?\(')
    for call in "${opens[@]}"; do
        case $call in
        "openat($dfd, \""*)
            name=${call#*\"}
            name=${name%%\"*}
            [[ $name != */* && $name != . && $name != .. ]] || fail "the server opened a name that leaves DIR: $call"
            note "strace: $call"
            ;;
        "openat(AT_FDCWD, \"$DIR\","* | "openat(AT_FDCWD, \"$SOCK.lock\","*) ;;
        *"\"$T"* | *shadow* | *"\"."*) fail "the server opened by path, not by a name in DIR's descriptor: $call" ;;
        "openat(AT_FDCWD, \"/"* | "open(\"/"*) ;;   # the startup's: the C library, locales
        *) fail "an open the test does not expect: $call" ;;
        esac
    done
    expect_line "$T/trace" "^[0-9]+ +openat\\($dfd, \"link\", [A-Z_|]*O_NOFOLLOW[A-Z_|]*\\) = -1 ELOOP" "strace: the open of the symbolic link, refused by O_NOFOLLOW"
    expect_line "$T/trace" "^[0-9]+ +openat\\($dfd, \"fifo\", [A-Z_|]*O_NONBLOCK[A-Z_|]*\\) = [0-9]+$" "strace: the open of the FIFO, which O_NONBLOCK keeps from waiting for a writer"
}

@test "a descriptor in flight: never received, the kernel closes it (a pipe's reader sees EOF); received after its sender exited, it still works" {
    build_peer
    run_split "$PEER" inflight
    note_lines "" <<<"$output"
    is "the test's peer's exit status ($stderr)" "$status" 0
    last_match "$T/run.out" '^in flight: (.*)$' || MATCH=
    is "poll() on the pipe's read end while its write end is in flight" "$MATCH" "poll(read end, timeout 0) = 0, revents=0"
    last_match "$T/run.out" '^after: (.*)$' || MATCH=
    is "poll() on the read end once the message is gone with its socket" "$MATCH" "poll(read end, timeout 0) = 1, revents=POLLHUP, read() = 0"

    # The lab's programs: the server stopped, the client connects and asks
    # (the kernel queues both); the client stopped, the server answers and
    # exits; then the client reads the reply from its queue.
    start_server "$SOCK" "$DIR"
    kill -STOP "$SERVER_PID"
    wait_until stopped_or_gone "$SERVER_PID"
    spawn client "$LAB/client" "$SOCK" f
    CLIENT=$PID
    wait_until said_or_gone "$CLIENT" "$T/client.err" '^\[client\] send\(\) = 1 bytes$'
    kill -STOP "$CLIENT"
    wait_until stopped_or_gone "$CLIENT"
    kill -CONT "$SERVER_PID"
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] close\(fd [0-9]+\) = 0$'
    last_match "$T/server.err" '^\[server\] sendmsg' || LINE="no sendmsg() narrated"
    note "$LINE"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    fds=
    for fd in "/proc/$CLIENT/fd/"*; do
        fd=${fd##*/}
        ((fd < 10)) && fds+=" $fd"   # the others were the test shell's, inherited
    done
    note "the server exited ($STATUS); the client, stopped, holds fds$fds (below 10): the descriptor is in no process, in flight"
    expect_line "$T/server.err" '^\[server\] sendmsg\(\) = 2 bytes \+ SCM_RIGHTS fd [0-9]+$' "the server's sendmsg() while the client was stopped"
    kill -CONT "$CLIENT"
    wait_exit "$CLIENT"
    note "the client, continued: exit $STATUS; $(grep -E 'SCM_RIGHTS' "$T/client.err")"
    is "the client's exit status" "$STATUS" 0
    is "the client's output" "$(<"$T/client.out")" "$(<"$DIR/f")"
}

@test "a client that sends descriptors to the server: they are closed (3 of them; 200, more than fit), and the server's descriptor count does not change" {
    build_peer
    start_server "$SOCK" "$DIR"
    before=$(fd_count "$SERVER_PID")
    for n in 3 200; do
        run_split closed_fds "$PEER" send-fds "$n" "$SOCK" f
        note "$n descriptors: $(tr '\n' ' ' <<<"$output")"
        is "the test's client's exit status with $n descriptors ($stderr)" "$status" 0
        [[ $output == *'reply: "OK" + SCM_RIGHTS fd '* ]] || fail "the server did not serve a client that sent $n descriptors: $output"
        last_match "$T/server.err" '^\[server\] accept\(\) = fd ([0-9]+)$' || fail "the server narrated no accept()"
        wait_until closes_of "$MATCH" "$((n == 3 ? 1 : 2))"
        closed[n]=$(count '^\[server\] SCM_RIGHTS fd [0-9]+ from the client: not wanted, close\(fd [0-9]+\) = 0$' "$T/server.err")
    done
    grep -m 2 -E 'SCM_RIGHTS fd .* from the client' "$T/server.err" | note_lines "  "
    last_match "$T/server.err" 'recvmsg\(\) = 1 bytes.*MSG_CTRUNC' || LINE="no MSG_CTRUNC narrated"
    note "200 descriptors: $LINE"
    after=$(fd_count "$SERVER_PID")
    note "descriptors the server was sent and closed: ${closed[3]} of 3, $((closed[200] - closed[3])) of 200 (the kernel closed the others); its descriptors: $before before, $after after"
    is "the server's descriptor count after clients that sent 3, then 200 descriptors" "$after" "$before"
    is "descriptors the server narrated closing, of the 3 sent" "${closed[3]}" 3
    ((closed[200] > closed[3])) || fail "the server narrated closing none of the 200 descriptors sent"
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 1 bytes: "f" \(MSG_CTRUNC: control data dropped\)$' "the server's narration of a request with more descriptors than its buffer holds"
}

@test "[extra 1] server -p: SO_PASSCRED; each request comes with SCM_CREDENTIALS, the sender's pid, uid and gid" {
    start_server -p "$SOCK" "$DIR"
    spawn client "$LAB/client" "$SOCK" f
    CLIENT=$PID
    wait_exit "$CLIENT"
    served "$T/client.err"
    grep -E 'PASSCRED|SO_PEERCRED|SCM_CREDENTIALS' "$T/server.err" | note_lines "  "
    expect_line "$T/server.err" "^\\[server\\] SCM_CREDENTIALS = pid $CLIENT uid $EUID gid [0-9]+\$" "the credentials that came with the request"
    is "the client's exit status" "$STATUS" 0
}

@test "[extra 2] client -u UID: root may claim uid 65534 (SCM_CREDENTIALS says 65534, SO_PEERCRED still 0); user nobody claiming 0 gets EPERM" {
    nobody_setup
    start_server -p -m 0777 "$SOCK" "$DIR"
    client -u 65534 "$SOCK" f
    grep -E 'SO_PEERCRED|SCM_CREDENTIALS' "$T/server.err" | note_lines "  "
    last_match "$T/run.err" 'SCM_CREDENTIALS' || LINE=
    note "${LINE:-the client narrated no SCM_CREDENTIALS}; exit $status"
    is "root's client -u 65534: exit status (${stderr##*$'\n'})" "$status" 0
    expect_line "$T/server.err" '^\[server\] SCM_CREDENTIALS = pid [0-9]+ uid 65534 gid 0$' "the credentials root's client claimed"
    expect_line "$T/server.err" '^\[server\] getsockopt\(SO_PEERCRED\) = pid [0-9]+ uid 0 gid 0$' "SO_PEERCRED for root's client"
    nobody_client -u 0 "$SOCK" f
    one_error
    note "user nobody, client -u 0: exit $status: $ERROR"
    is "nobody's client -u 0: exit status" "$status" 1
    is "nobody's client -u 0: its error" "$ERROR" "client: sendmsg SCM_CREDENTIALS uid 0: Operation not permitted"
}
