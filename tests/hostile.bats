#!/usr/bin/env bats
# Hostile peers, races and odd environments: what a program copied into
# the real world meets. The servers on a path (labs 01, 03, 04, 08) against a
# path taken over, a directory swapped for a symbolic link, a second
# server started while the first is stopped between its probe and bind(),
# a live server whose queue is full, a chmod() by name after bind(); every
# program started with its standard descriptors closed; every server that
# accept()s out of descriptors; every client that sets O_NONBLOCK; lab
# 09's sniff fed malformed packets (tests/09-raw-packets-forge.c writes
# them on lo) and synsend fed RSTs that are not its answer; lab 10's
# server, one client at a time on two listeners, against a TCP client that
# never sends (the Unix listener's next client waits -t seconds, no
# longer) or resets mid-echo, and on its Unix path the rules of lab 01
# (a file, a live server, a stale file, a path taken over, an abstract
# name in use); lab 11's responder against headers its peer chose (sizes
# and counts absurd, negative, not numbers, cut short, then silence, then a
# reset, a thousand of them), its udp replies among other senders', and
# its measurer and responder with 0, 1 and 2 closed; lab 12's server,
# which serves many at once with poll(), against a line dribbled a byte a
# write up to its bound and past it, and floods of a thousand connections
# that leave half a line (more at once than its -c) or reset. Each
# test holds the race still with the kernel's or strace's own means
# (SIGSTOP at a chosen call, a stopped server whose queue fills), never
# with a sleep. The rules: README.md, "Conventions", "Safe to copy"; also
# checked here: the helpers' one text, and each program's length.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

PATH_LABS=(01-unix-stream 03-unix-dgram 04-seqpacket 08-fd-passing)

setup() {
    load lib
    lab_setup 01-unix-stream   # for T and the harness; each case names its lab
    TOP=${LAB%/*}              # solutions/ or labs/ (TREE), where the labs are
    # Many cases run a program under strace, where LeakSanitizer cannot
    # (make SANITIZE=1): it would end the program with a failure of its own.
    export ASAN_OPTIONS=detect_leaks=0
    # Lab 08's server serves a directory (its last argument: DIR_ARG),
    # and its client asks for a file in it, by name (NAME_ARG).
    mkdir "$T/files"
    echo "STILL HERE" >"$T/files/greeting"
}

# args_for LAB: DIR_ARG, what LAB's server takes after its PATH, and
# NAME_ARG, what its client takes after PATH (lab 08 only; else nothing);
# PATH_OPT, what its server takes before PATH (lab 10: -u PATH, and its
# TCP port after it, 0).
args_for() {
    DIR_ARG=() NAME_ARG=() PATH_OPT=()
    case $1 in
    08-*) DIR_ARG=("$T/files") NAME_ARG=(greeting) ;;
    10-*) PATH_OPT=(-u) DIR_ARG=(0) ;;
    esac
}

teardown() {
    exec 7>&- 8>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    lab_teardown
}

# on LAB NAME ARGS...: LAB's server as NAME (output in $T/NAME.out and
# .err), waited for until ready (its one line on stdout) or dead. Sets
# PID and SERVER_PID.
on() {
    local lab=$1 name=$2
    shift 2
    args_for "$lab"
    spawn "$name" "$TOP/$lab/server" "${PATH_OPT[@]}" "$@" "${DIR_ARG[@]}"
    SERVER_PID=$PID
    wait_until ready_or_dead "$PID" "$name"
}

# echoes LAB PATH: LAB's client reaches the server at PATH: "still here"
# comes back upper-cased (lab 08: the file that holds it). Lab 10's client
# takes an ADDRESS: a PATH starting with / becomes unix:PATH.
echoes() {
    local to=$2
    args_for "$1"
    case $1/$to in 10-*//*) to=unix:$to ;; esac
    run_split timeout 10 "$TOP/$1/client" "$to" "${NAME_ARG[@]}" <<<"still here"
    [ "$status" -eq 0 ] && [ "${lines[-1]}" = "STILL HERE" ] ||
        { echo "$1 client on $2: exit $status, output '$output', $stderr" >&2; return 1; }
}

# tracee_of PID: the pid of strace PID's traced child (TRACEE), once it
# has exec'd (lib.bash, strace_child), recorded so that teardown stops it
# too.
tracee_of() {
    strace_child "$1" || return 1
    TRACEE=$TRACED
    echo "$TRACEE" >>"$T/pids"
}

@test "every lab carries the one text of the shared helpers (tests/canonical.c, .h): narration, closed standard descriptors, the socket file, accept(), timeouts" {
    run "$ROOT/tests/canonical.sh"
    note_lines "  " < <(printf '%s\n' "${lines[@]}" | grep -E '^solutions/.*lab\.c:|differs|no section|not in')
    [ "$status" -eq 0 ] || fail "tests/canonical.sh: exit $status, not 0: $output"
}

@test "every program reads as one lesson: at most 150 lines of code (200 with its comments) as the student sees it, 190 (250) with its extras; the rest lives in lab.c" {
    local base=$T/base counts line long=()
    # As the student sees it: every step solved, no extra (tests/mklabs.sh).
    OUT=$base "$ROOT/tests/mklabs.sh" 99
    # Each program's own file, PROG.c, for each program of each lab (its
    # Makefile's all: line), as the student sees it and in solutions/.
    local d p files=()
    for d in "$base"/[0-9][0-9]-*/ "$ROOT"/solutions/[0-9][0-9]-*/; do
        lab_programs "$d"
        for p in "${PROGRAMS[@]}"; do files+=("$d$p.c"); done
    done
    # One awk for every file: the lines in all, and those with code left
    # once the comments (/* */, which may span lines) are taken out.
    counts=$(awk '
        FNR == 1 { if (f != "") print f, code, total; f = FILENAME; code = total = 0; incomment = 0 }
        {
            total++; rest = $0; kept = ""
            while (rest != "") {
                if (incomment) {
                    i = index(rest, "*/")
                    if (i) { rest = substr(rest, i + 2); incomment = 0 } else rest = ""
                } else {
                    i = index(rest, "/*")
                    if (i) { kept = kept substr(rest, 1, i - 1); rest = substr(rest, i + 2); incomment = 1 }
                    else { kept = kept rest; rest = "" }
                }
            }
            if (kept ~ /[^ \t]/) code++
        }
        END { if (f != "") print f, code, total }' "${files[@]}")
    while read -r f code total; do
        case $f in
        "$base"/*)
            f=${f#"$base"/}
            [ "$code" -le 150 ] && [ "$total" -le 200 ] || long+=("$f, as the student sees it: $code lines of code, $total in all")
            note "$f: $code lines of code, $total in all"
            ;;
        *)
            f=${f#"$ROOT"/solutions/}
            [ "$code" -le 190 ] && [ "$total" -le 250 ] || long+=("$f, with its extras: $code lines of code, $total in all")
            note "$f with its extras: $code lines of code, $total in all"
            ;;
        esac
    done <<<"$counts"
    [ "${#long[@]}" -eq 0 ] || fail "too long: $(printf '%s; ' "${long[@]}")"
}

@test "a server removes its socket file at exit only while it is still its own: a path taken over by a new server stays (labs 01, 03, 04, 08)" {
    local lab d
    for lab in "${PATH_LABS[@]}"; do
        d=$T/${lab%%-*}
        mkdir "$d"
        on "$lab" "a$lab" "$d/s"
        A=$SERVER_PID
        # Somebody removes the first server's files; a second server takes
        # the path while the first still runs.
        rm "$d/s" "$d/s.lock"
        on "$lab" "b$lab" "$d/s"
        kill -TERM "$A"
        wait_exit "$A"
        last_match "$T/a$lab.err" 'signal:'
        note "$lab: the first server, on SIGTERM: $LINE"
        [ "$STATUS" -eq 0 ] || fail "$lab: the first server should exit 0 on SIGTERM; exit $STATUS: $(tail -n 2 "$T/a$lab.err")"
        [ -S "$d/s" ] && [ -f "$d/s.lock" ] ||
            { echo "$lab: the first server removed the second one's files: $(ls -A "$d")" >&2; false; }
        echoes "$lab" "$d/s"
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID"
        [ -z "$(ls -A "$d")" ] || { echo "$lab: the second server left $(ls -A "$d")" >&2; false; }
    done
}

@test "a directory on the path swapped for a symbolic link: at exit the server removes nothing where the link leads (labs 01, 03, 04, 08, 10)" {
    local lab d
    for lab in "${PATH_LABS[@]}" 10-two-hosts; do
        d=$T/${lab%%-*}
        mkdir "$d" "$d.victim"
        on "$lab" "s$lab" "$d/s"
        printf 'precious\n' >"$d.victim/s"
        printf 'precious\n' >"$d.victim/s.lock"
        mv "$d" "$d.moved"
        ln -s "$d.victim" "$d"
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID"
        last_match "$T/s$lab.err" 'signal:'
        note "$lab: $LINE"
        [ "$(cat "$d.victim/s" "$d.victim/s.lock")" = $'precious\nprecious' ] ||
            { echo "$lab: files behind the link: $(ls -l "$d.victim")" >&2; false; }
    done
}

@test "two servers on one stale path, the first stopped between its probe and bind(): the second stops at the lock, and only one serves (labs 01, 03, 04, 08, 10)" {
    local lab d
    for lab in "${PATH_LABS[@]}" 10-two-hosts; do
        d=$T/${lab%%-*}
        mkdir "$d"
        # A stale socket file: its server killed, nothing removed.
        on "$lab" "dead$lab" "$d/s"
        kill -KILL "$SERVER_PID"
        wait_gone "$SERVER_PID"
        # The first server probes it, and stops (SIGSTOP from strace, at the
        # return of its probe's connect()): it has found the file stale and
        # not yet removed it. Once strace has written the connect() line,
        # the server is stopped for strace or by the signal, and cannot go
        # on by itself.
        args_for "$lab"
        spawn "a$lab" strace -f -qq -o "$T/a$lab.trace" -e trace=connect \
            -e inject=connect:signal=SIGSTOP:when=1 "$TOP/$lab/server" "${PATH_OPT[@]}" "$d/s" "${DIR_ARG[@]}"
        wait_until tracee_of "$PID"
        wait_until has_line "$T/a$lab.trace" 'connect\('
        wait_until stopped "$TRACEE"
        note "$lab: first server stopped at: $(sed -E 's/^[0-9]+ +//' "$T/a$lab.trace")"
        # The second server, now. Without the lock it takes the stale file
        # too, binds, and serves; the first then removes its file, binds
        # its own, and both say they serve, one of them unreachable.
        run_split timeout 10 "$TOP/$lab/server" "${PATH_OPT[@]}" "$d/s" "${DIR_ARG[@]}"
        note "$lab: second server: exit $status: ${stderr_lines[-1]}"
        [ "$status" -eq 1 ] && [[ ${stderr_lines[-1]} == "server: bind $d/s: Address already in use (another server holds $d/s.lock)" ]] ||
            { echo "$lab: the second server took the path: exit $status, $output, $stderr" >&2; false; }
        kill -CONT "$TRACEE"
        wait_until ready_or_dead "$TRACEE" "a$lab"
        echoes "$lab" "$d/s"
    done
}

@test "a live server whose accept queue is full: a new server's probe does not hang, it says a server answers there (labs 01, 04, 08)" {
    local lab d i n
    mkfifo "$T/hold"
    exec 7<>"$T/hold"   # the clients' input: open, and never a byte
    for lab in 01-unix-stream 04-seqpacket 08-fd-passing; do
        d=$T/${lab%%-*}
        mkdir "$d"
        on "$lab" "s$lab" "$d/s"
        kill -STOP "$SERVER_PID"
        wait_until stopped "$SERVER_PID"
        # backlog 16: Linux queues 17 connections; the 18th waits in connect().
        for i in $(seq 17); do
            spawn "c$lab-$i" "$TOP/$lab/client" "$d/s" "${NAME_ARG[@]}" <"$T/hold"
        done
        queued() { n=$(ss -xlH src "$d/s"); read -r _ _ n _ <<<"$n"; [ "${n:-0}" -ge 17 ]; }
        wait_until queued
        note "$lab: ss -xl: Recv-Q $n on the stopped server's listener"
        # A server that does not use the lock file (an old one, another
        # program) looks the same: the lock file gone.
        rm "$d/s.lock"
        run_split timeout 10 "$TOP/$lab/server" "$d/s" "${DIR_ARG[@]}"
        note "$lab: new server: exit $status: ${stderr_lines[-1]}"
        [ "$status" -eq 1 ] || { echo "$lab: exit $status (124: it hung in the probe): $stderr" >&2; false; }
        is "$lab: the new server's last line on stderr" "${stderr_lines[-1]}" "server: bind $d/s: Address already in use (a server answers there)"
        [ -S "$d/s" ] || fail "$lab: no socket file at $d/s after the new server gave up: ls shows $(ls -A "$d")"
        kill -CONT "$SERVER_PID"
    done
}

@test "-m MODE gives the socket file its mode at birth: no chmod() by name afterwards, which a symbolic link swapped in at the path would redirect (labs 01, 03, 04, 08)" {
    local lab d
    for lab in "${PATH_LABS[@]}"; do
        d=$T/${lab%%-*}
        mkdir "$d"
        args_for "$lab"
        spawn "s$lab" strace -f -qq -o "$T/$lab.trace" -e trace=umask,bind,chmod,fchmodat "$TOP/$lab/server" -m 0666 "$d/s" "${DIR_ARG[@]}"
        wait_until tracee_of "$PID"
        wait_until ready_or_dead "$TRACEE" "s$lab"
        sed -E 's/^[0-9]+ +//' "$T/$lab.trace" | note_lines "$lab: "
        not grep -qE 'chmod' "$T/$lab.trace" || { echo "$lab changes the mode by name after bind()" >&2; false; }
        is "$lab: the mode of $d/s (stat -c %a)" "$(stat -c %a "$d/s")" 666
    done
}

@test "every program started with descriptors 0, 1 and 2 closed gets no socket below 3; a datagram client with stdout closed sends nothing extra" {
    local lab prog args
    for lab in 01-unix-stream 02-socketpair 03-unix-dgram 04-seqpacket 05-tcp 06-udp 07-tcp-close 08-fd-passing 10-two-hosts 12-many-clients; do
        case $lab in
        0[1348]-*) on "$lab" "s$lab" "$T/s${lab%%-*}"; args=("$T/s${lab%%-*}" "${NAME_ARG[@]}") ;;
        02-*) args=() ;;
        10-*) on "$lab" "s$lab" "$T/s10"; args=("unix:$T/s10") ;;
        *) on "$lab" "s$lab" 0; args=(127.0.0.1 "$(<"$T/s$lab.out")"); args[1]=${args[1]##*:} ;;
        esac
        prog=client
        if [ "$lab" = 02-socketpair ]; then prog=server; fi   # it makes the pair, and runs the client
        {
            (cd "$TOP/$lab" && timeout 10 strace -f -qq -o "$T/$lab.$prog.trace" \
                -e trace=socket,socketpair,accept,accept4 "./$prog" "${args[@]}" <&- >&- 2>&-) || true
            fds=
            while IFS= read -r line; do
                if [[ $line =~ socketpair\(.*\[([0-9]+),\ ([0-9]+)\]\)\ +=\ 0 ]]; then
                    fds+="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} "
                elif [[ $line =~ (socket|accept4?)\(.*\)\ +=\ ([0-9]+) ]]; then
                    fds+="${BASH_REMATCH[2]} "
                fi
            done <"$T/$lab.$prog.trace"
            note "$lab $prog, 0-2 closed: socket descriptors ${fds:-none}"
            [ -n "$fds" ] || fail "$lab $prog, 0-2 closed: no socket descriptor in its trace; $T/$lab.$prog.trace ends: $(tail -n 3 "$T/$lab.$prog.trace")"
            for fd in $fds; do
                [ "$fd" -ge 3 ] || { echo "$lab $prog got socket fd $fd" >&2; false; }
            done
        }
    done
    # The servers: under strace, SIGTERM at the end, its exit status.
    for lab in 01-unix-stream 03-unix-dgram 04-seqpacket 05-tcp 06-udp 07-tcp-close 08-fd-passing 10-two-hosts 12-many-clients; do
        args_for "$lab"
        case $lab in 0[1348]-*) args=("$T/t${lab%%-*}" "${DIR_ARG[@]}") ;; 10-*) args=(-u "$T/t10" 0) ;; *) args=(0) ;; esac
        # A process group of its own (setsid), strace and server in it:
        # teardown stops the group whole, even when this test fails before
        # it knows the server's pid (a lone kill of strace would detach the
        # server and leave it running).
        setsid strace -f -qq -o "$T/$lab.server.trace" -e trace=socket "$TOP/$lab/server" "${args[@]}" <&- >&- 2>&- 3>&- &
        echo "$!" >>"$T/pids"
        wait_until tracee_of "$!"   # teardown stops the server too, not only strace
        wait_until has_line "$T/$lab.server.trace" 'socket\(.*= [0-9]+'
        last_match "$T/$lab.server.trace" 'socket\(.*= ([0-9]+)'
        note "$lab server, 0-2 closed: $LINE"
        [ "$MATCH" -ge 3 ] || fail "$lab server, 0-2 closed, got socket fd $MATCH: $LINE"
    done
    # The harm it did: lab 03's client with standard output closed wrote
    # its replies into its socket, which the server took for requests.
    printf 'one\ntwo\n' | "$TOP/03-unix-dgram/client" "$T/s03" >&-
    # A third datagram, from a second client that waits for its reply:
    # whatever the first one sent, the server had it before this one.
    is "03: a second client's reply to 'three'" "$("$TOP/03-unix-dgram/client" "$T/s03" <<<three 2>/dev/null)" THREE
    n=$(count '^\[server\] recv' "$T/s03-unix-dgram.err")
    note "03: the server received $n datagrams for the two clients' 3 lines"
    [ "$n" -eq 3 ] || fail "03: the server received $n datagrams, not 3, for the two clients' 3 lines: $(grep '^\[server\] recv' "$T/s03-unix-dgram.err")"
}

@test "a server out of descriptors neither exits nor spins: accept() fails with EMFILE, it pauses, the client waits in the queue (labs 01, 04, 05, 07, 08, 10)" {
    local lab limit ticks0 ticks1
    for lab in 01-unix-stream 04-seqpacket 05-tcp 07-tcp-close 08-fd-passing 10-two-hosts; do
        # 0-2, the listener (3) and, on a path, the lock file (4): the next
        # descriptor, accept()'s, is over the limit. Lab 08 holds its DIR
        # too; lab 10 its two listeners (3, 4) and the lock (5), and poll()
        # says "a connection waits" again at once: the pause is its own.
        args_for "$lab"
        case $lab in
        0[14]-*) limit=5; args=("$T/s${lab%%-*}") ;;
        08-*) limit=6; args=("$T/s08" "${DIR_ARG[@]}") ;;
        10-*) limit=6; args=(-u "$T/s10" 0) ;;
        *) limit=4; args=(0) ;;
        esac
        spawn "s$lab" bash -c 'ulimit -n "$0" && exec "$@"' "$limit" "$TOP/$lab/server" "${args[@]}"
        SERVER_PID=$PID
        wait_until ready_or_dead "$PID" "s$lab"
        read -r ready <"$T/s$lab.out"
        case $lab in 0[14]-*) to=("${args[@]}") ;; 08-*) to=("$T/s08" "${NAME_ARG[@]}") ;; 10-*) to=("unix:$T/s10") ;; *) to=(127.0.0.1 "${ready##*:}") ;; esac
        printf 'x\n' >"$T/c$lab.in"
        spawn "c$lab" "$TOP/$lab/client" "${to[@]}"
        wait_until said_or_gone "$SERVER_PID" "$T/s$lab.err" 'accept\(\) = -1'
        cpu_ticks "$SERVER_PID"
        ticks0=$TICKS
        second() { [ "$(count 'accept\(\) = -1' "$T/s$lab.err")" -ge 2 ] || gone "$SERVER_PID"; }
        wait_until second
        alive "$SERVER_PID" || { echo "$lab: the server exited: $(tail -n 2 "$T/s$lab.err")" >&2; false; }
        cpu_ticks "$SERVER_PID"
        ticks1=$TICKS
        last_match "$T/s$lab.err" 'accept\(\) = -1'
        note "$lab (ulimit -n $limit): $LINE; CPU over a pause: $(( (ticks1 - ticks0) * 10 )) ms"
        [ $((ticks1 - ticks0)) -le 5 ] || { echo "$lab spins: $((ticks1 - ticks0)) ticks" >&2; false; }
    done
}

@test "a client sets O_NONBLOCK by adding it to the status flags it reads (F_GETFL), not by overwriting them (labs 01-06, 10, 12)" {
    local lab to
    for lab in 01-unix-stream 02-socketpair 03-unix-dgram 04-seqpacket 05-tcp 06-udp 10-two-hosts 12-many-clients; do
        case $lab in
        10-*) on10 "s$lab" -u "$T/s10"; to=("127.0.0.1:$PORT10") ;;   # (on10: below)
        0[134]-*) on "$lab" "s$lab" "$T/s${lab%%-*}"; to=("$T/s${lab%%-*}") ;;
        0[56]-* | 12-*) on "$lab" "s$lab" 0; to=(127.0.0.1 "$(<"$T/s$lab.out")"); to[1]=${to[1]##*:} ;;
        esac
        if [ "$lab" = 02-socketpair ]; then
            (cd "$TOP/$lab" && strace -f -qq -o "$T/$lab.trace" -e trace=fcntl ./server <<<"x" >/dev/null 2>&1)
        else
            strace -f -qq -o "$T/$lab.trace" -e trace=fcntl "$TOP/$lab/client" "${to[@]}" <<<"x" >/dev/null 2>&1
        fi
        grep -E 'F_GETFL|F_SETFL' "$T/$lab.trace" | sed -E 's/^[0-9]+ +//' | note_lines "$lab: "
        last_match "$T/$lab.trace" 'F_SETFL, (.*)\) = 0'
        [[ $MATCH == *O_RDWR*O_NONBLOCK* ]] || { echo "$lab: F_SETFL with $MATCH: the other flags are lost" >&2; false; }
        grep -qE 'fcntl\([0-9]+, F_GETFL\)' "$T/$lab.trace"
    done
}

# ---- Lab 09: sniff parses what anybody puts on the wire; synsend takes
# an answer from a raw socket that gets every TCP packet of the host.
# Each case runs in a network namespace of its own: as root netns_setup,
# as a normal user `unshare -r -n` (where the programs have CAP_NET_RAW).

# ns: lab 09's programs (LAB9), and this test's network namespace, lo up
# (lib.bash, own_netns); NSX runs a command in it.
ns() {
    LAB9=$TOP/09-raw-packets
    [ -x "$LAB9/sniff" ] && [ -x "$LAB9/synsend" ] || fail "$LAB9 is not built: run 'make -C $LAB9'"
    own_netns
}

# forge PACKET...: tests/09-raw-packets-forge.c (built once for this file)
# sends each PACKET (4:HEX, 4c:HEX with the IPv4 header checksum filled
# in, 6:HEX) as one frame on the namespace's lo, through an AF_PACKET
# socket: the kernel changes nothing in it.
forge() {
    local peer=$BATS_FILE_TMPDIR/forge
    [ -x "$peer" ] || cc -std=c11 -Wall -Wextra -Wpedantic -Werror -o "$peer" "$ROOT/tests/09-raw-packets-forge.c" ||
        fail "tests/09-raw-packets-forge.c does not build"
    "${NSX[@]}" "$peer" lo "$@" >"$T/forge.out" 2>"$T/forge.err" ||
        fail "the forger failed: $(cat "$T/forge.err")"
}

# start_sniff NAME ARGS...: sniff ARGS in the namespace, as NAME, until
# its readiness line (SNIFF_PID). end_sniff NAME [-t] (lib.bash): wait for its end
# (with -t, SIGTERM first), exit 0; PACKETS: its packet lines, noted.
start_sniff() {
    local name=$1
    shift
    spawn "$name" "${NSX[@]}" "$LAB9/sniff" "$@"
    SNIFF_PID=$PID
    wait_until ready_or_dead "$SNIFF_PID" "$name"
    expect_line "$T/$name.out" '^capturing on lo$' "sniff's readiness line"
}

# v4 PROTO L4 [TOTAL [BYTE0 [FRAG]]]: onto PKT, an IPv4 packet from
# 127.0.0.1 to 127.0.0.1, protocol PROTO (hex), transport bytes L4 (hex),
# total length TOTAL (default: what it holds), version and header length
# BYTE0 (45), flags and fragment offset FRAG (4000: don't fragment). Its
# header checksum is 0, wrong: the kernel drops it unanswered; sniff,
# before the kernel, sees it all the same.
v4() {
    local l4=${2// /}
    PKT+=("4:${4:-45}00 ${3:-$(printf %04x $((20 + ${#l4} / 2)))} 0000 ${5:-4000} 40$1 0000 7f000001 7f000001 $2")
}

@test "09 sniff: malformed IPv4, IPv6, TCP, UDP and ICMP headers are not printed, nor read past; no loop; the packets after them are printed right" {
    ns
    local syn='0457 08ae 00000000 00000000' udp='0457 08ae 000c 0000 61626364' line want=() got=()
    PKT=()
    # -- not to be printed: each is counted among "not printed" --
    v4 11 "$udp" "" 44                          # IPv4 header length 16 (< 20)
    v4 11 "$udp" "" 4f                          # header length 60, in 32 bytes
    v4 11 "$udp" 00c8                           # total length 200, 32 bytes captured
    v4 11 "$udp" 0010                           # total length 16, shorter than its header
    v4 11 "$udp" "" 65                          # version 6 in an IPv4 frame
    PKT+=("6:4500 0020 0000 4000 4011 0000 7f000001 7f000001 $udp")   # IPv4 in an IPv6 frame
    PKT+=("6:60000000 0008 113f $(printf '%032x' 1)")   # IPv6 header cut at 24 bytes
    v4 06 "$syn 5002 ffff 0000 0000" "" "" 2001 # a later fragment (offset 8): no TCP header in it
    v4 06 "0457 08ae 00000000 0000"             # TCP header of 10 bytes
    v4 06 "$syn f002 ffff 0000 0000"            # data offset 60, in a 20-byte segment
    v4 06 "$syn 2002 ffff 0000 0000"            # data offset 8 (< 20)
    v4 06 "$syn 6002 ffff 0000 0000 0200 0000"  # an option of length 0 (mss)
    v4 06 "$syn 6002 ffff 0000 0000 0301 0000"  # an option of length 1 (wscale)
    v4 06 "$syn 6002 ffff 0000 0000 0101 0204" 002c   # mss running past the header...
    PKT[-1]+=" abcd"                            # ...into 2 bytes of the frame past the packet
    v4 11 "0457 08ae 00"                        # UDP header of 5 bytes
    v4 11 "0457 08ae 0004 0000 61626364"        # UDP length 4 (< 8)
    v4 11 "0457 08ae 0064 0000 61626364"        # UDP length 100, 12 bytes there
    v4 3a "0304 0000 00000000"                  # ICMPv6's number (58) in IPv4
    v4 01 "03"                                  # ICMP of 1 byte
    PKT+=("6:60000000 0064 113f $(printf '%032x%032x' 1 1) $udp")   # IPv6 payload length 100, 12 there
    local bad=${#PKT[@]}
    # -- printed, as what they are --
    # ICMP port unreachable quoting: a UDP header cut at 4 bytes; an IPv4
    # header of length 0 (8 bytes quoted; the frame goes on past the
    # packet with what would be a protocol 17 and addresses); TCP.
    v4 01 "0303 0000 00000000 45000020 00004000 40110000 7f000001 7f000001 0457 08ae"
    v4 01 "0303 0000 00000000 4000001c 00000000" 0024
    PKT[-1]+=" 4011 0000 0a000001 0a000002"
    v4 01 "0303 0000 00000000 4500001c 00004000 40060000 7f000001 7f000001 0457 08ae 00000000"
    want+=("127.0.0.1 > 127.0.0.1 ICMP type 3 code 3" "127.0.0.1 > 127.0.0.1 ICMP type 3 code 3" "127.0.0.1 > 127.0.0.1 ICMP type 3 code 3")
    # A SYN with every kind of option: mss, wscale, sackOK, SACK, TS, NOP,
    # MPTCP (30), experimental (254), end of options, padding.
    v4 06 "$syn f002 ffff 0000 0000 020405b4 030307 0402 050a0000000100000002 080a0000000100000000 01 1e040000 fe040000 0000"
    want+=("127.0.0.1:1111 > 127.0.0.1:2222 TCP [SYN] seq=0 ack=0 win=65535 len=0 <mss 1460,wscale 7,sackOK,opt 5,TS,opt 30,opt 254>")
    v4 11 "$udp"                                # the last: a good datagram
    want+=("127.0.0.1:1111 > 127.0.0.1:2222 UDP len=4")
    start_sniff sniff
    forge "${PKT[@]}"
    note "forged: $(grep -c sent "$T/forge.out") frames on lo, $bad of them malformed"
    wait_until said_or_gone "$SNIFF_PID" "$T/sniff.out" 'UDP len=4$' ||
        fail "sniff did not print the last, good datagram (a loop? CPU $(cpu_ticks "$SNIFF_PID"; echo "$TICKS") ticks): $(tail -n +2 "$T/sniff.out")"
    end_sniff sniff -t
    for line in "${PACKETS[@]}"; do got+=("${line#* }"); done
    is "sniff's packet lines, after their times" "$(printf '%s\n' "${got[@]}")" "$(printf '%s\n' "${want[@]}")"
    last_match "$T/sniff.err" 'packets printed'
    note "sniff: $LINE"
    [[ $LINE == "[sniff] ${#want[@]} packets printed, $bad not "* ]] ||
        fail "sniff should count ${#want[@]} printed and the $bad malformed ones not: $LINE"
}

# nowhere: in the namespace, our addresses 10.9.9.1 and .4 on lo, and a
# route to 10.9.9.0/24 through lo: a SYN to 10.9.9.2 goes out and comes
# back in to a host that does not forward, and is dropped unanswered.
nowhere() {
    "${NSX[@]}" ip addr add 10.9.9.1/32 dev lo &&
        "${NSX[@]}" ip addr add 10.9.9.4/32 dev lo &&
        "${NSX[@]}" ip route add 10.9.9.0/24 dev lo src 10.9.9.1 ||
        fail "could not route 10.9.9.0/24 through lo in the namespace"
}

# rst FROM SPORT TO FLAGS ACK: onto PKT, a TCP segment from FROM:SPORT to
# TO:4242 (addresses in hex), with FLAGS and ACK (hex), and its number in
# PKT (from 1) for sequence number: a line printed tells which it was.
# IPv4 header checksum right: the kernel delivers it (to raw sockets too).
rst() {
    PKT+=("4c:45000028 00004000 40060000 $1 $3 $2 1092 $(printf %08x $((${#PKT[@]} + 1))) $5 50$4 0000 0000 0000")
}

@test "09 synsend: RSTs that are not the answer to its SYN (another address, another port, to another address, no ACK, a wrong ACK) are not printed; the right one is" {
    ns
    nowhere
    local isn ack me=0a090901 host=0a090902
    spawn synsend "${NSX[@]}" "$LAB9/synsend" -p 4242 10.9.9.2 80
    wait_until said_or_gone "$PID" "$T/synsend.err" 'TCP \[SYN\] seq=[0-9]+$'
    last_match "$T/synsend.err" 'TCP \[SYN\] seq=([0-9]+)$' || fail "synsend sent no SYN: $(cat "$T/synsend.err")"
    note "synsend: $LINE"
    isn=$MATCH
    ack=$(printf %08x $(((isn + 1) % 4294967296)))
    PKT=()
    rst 0a090903 0050 $me 14 "$ack"                                 # from another address
    rst $host 0051 $me 14 "$ack"                                    # from another port
    rst $host 0050 0a090904 14 "$ack"                               # to another address of ours
    rst $host 0050 $me 04 00000000                                  # RST without ACK: blind
    rst $host 0050 $me 14 "$(printf %08x $(((isn + 2) % 4294967296)))"   # ACK of what we never sent
    rst $host 0050 $me 14 "$ack"                                    # the answer
    forge "${PKT[@]}"
    wait_exit "$PID"
    note "synsend: exit $STATUS, $(cat "$T/synsend.out")"
    is "synsend's exit status" "$STATUS" 0
    is "synsend's answer line, after 5 forged RSTs and the one for it" "$(cat "$T/synsend.out")" \
        "10.9.9.2:80 > 10.9.9.1:4242 TCP [RST,ACK] seq=6 ack=$((isn + 1)) (ours + 1)"
}

@test "09 sniff and synsend started with descriptors 0, 1 and 2 closed get no socket below 3, and do their work" {
    ns
    local prog fds
    # synsend: a SYN to a closed port of the namespace, answered at once.
    timeout 10 "${NSX[@]}" strace -f -qq -o "$T/synsend.trace" -e trace=socket "$LAB9/synsend" 127.0.0.1 9 <&- >&- 2>&- 3>&- ||
        fail "synsend, 0-2 closed: exit $?; its trace: $(cat "$T/synsend.trace")"
    # sniff -n 1: once its packet socket is bound to lo, one datagram ends
    # it. (Not before: a packet that comes while bind() moves the socket
    # from every interface to lo alone can be lost.)
    setsid "${NSX[@]}" strace -f -qq -o "$T/sniff.trace" -e trace=socket,bind "$LAB9/sniff" -n 1 <&- >&- 2>&- 3>&- &
    PID=$!
    echo "$PID" >>"$T/pids"
    wait_until said_or_gone "$PID" "$T/sniff.trace" 'bind\(.*= 0$'
    forge "4:4500 0020 0000 4000 4011 0000 7f000001 7f000001 0457 08ae 000c 0000 61626364"
    wait_exit "$PID"
    is "sniff -n 1, 0-2 closed, after one datagram: exit status" "$STATUS" 0
    for prog in synsend sniff; do
        fds=$(grep -oE '^[0-9]+ +socket\(.*= [0-9]+' "$T/$prog.trace" | sed -E 's/^[0-9]+ +//; s/ +/ /g')
        note_lines "$prog, 0-2 closed: " <<<"${fds:-no socket}"
        [ -n "$fds" ] || fail "$prog, 0-2 closed: no socket in its trace: $(cat "$T/$prog.trace")"
        not grep -qE '= [0-2]$' <<<"$fds" || fail "$prog, 0-2 closed, got a socket below 3: $fds"
    done
}

# ---- Lab 10: one server, two listeners (a TCP port and a Unix socket),
# one client at a time: what one client does must not shut out the other
# listener's clients, and its Unix path keeps lab 01's rules.

# on10 NAME ARGS...: lab 10's server as NAME, ARGS before its port 0;
# PORT10 is the TCP port of its readiness line
# ("listening on 127.0.0.1:PORT and PATH").
on10() {
    local name=$1 ready
    shift
    spawn "$name" "$TOP/10-two-hosts/server" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$PID" "$name"
    read -r ready <"$T/$name.out" || fail "lab 10's server $name did not start: $(tail -n 2 "$T/$name.err")"
    ready=${ready#listening on }
    ready=${ready%% and *}
    PORT10=${ready##*:}
}

@test "10 two hosts: a TCP client that connects and never sends holds the server -t seconds, no longer: the next client, on the Unix listener, is served after the bound; a TCP client's reset mid-echo costs that client only" {
    local lab=10-two-hosts t0 t1 dropped served
    on10 s10 -t 1 -u "$T/s10"
    # A silent TCP client (bash's /dev/tcp, on fd 7): connected, and never
    # a byte. The server has accepted it and waits in read().
    exec 7<>"/dev/tcp/127.0.0.1/$PORT10"
    wait_until has_line "$T/s10.err" '^\[server\] accept\(\) = fd [0-9]+ from 127'
    # A Unix client meanwhile: poll() cannot see its listener while the
    # server is in read(); -t 1 (SO_RCVTIMEO) ends that read within 1 s.
    t0=$EPOCHREALTIME
    echoes "$lab" "unix:$T/s10"
    t1=$EPOCHREALTIME
    dropped=$(grep -n -m 1 'client dropped' "$T/s10.err") || fail "the silent client was never dropped: $(tail -n 3 "$T/s10.err")"
    served=$(grep -n -m 1 "accept() = fd [0-9]* on $T/s10" "$T/s10.err") || fail "the Unix client was never accepted: $(tail -n 3 "$T/s10.err")"
    note "the silent TCP client: ${dropped#*:}"
    note "then the Unix client: ${served#*:}, the client done $(( (${t1/[.,]/} - ${t0/[.,]/}) / 1000 )) ms after it started"
    [ "${dropped%%:*}" -lt "${served%%:*}" ] || fail "the Unix client was accepted (line ${served%%:*}) before the silent one was dropped (line ${dropped%%:*})"
    exec 7>&-
    # A TCP client that sends, and closes with the echo unread: its close
    # sends an RST (tcp(7): unread data at close), which the server's next
    # read() meets. It serves the next client all the same.
    exec 7<>"/dev/tcp/127.0.0.1/$PORT10"
    printf 'reset me\n' >&7
    wait_until has_line "$T/s10.err" '^\[server\] write\(\) = 9 bytes'
    exec 7>&-
    wait_until has_line "$T/s10.err" '^\[server\] read\(\) = -1: Connection reset by peer'
    last_match "$T/s10.err" 'Connection reset by peer'
    note "a TCP client reset mid-echo: $LINE"
    alive "$SERVER_PID" || fail "the server exited after the reset: $(tail -n 2 "$T/s10.err")"
    echoes "$lab" "unix:$T/s10"
    echoes "$lab" "127.0.0.1:$PORT10"
}

@test "10 two hosts: its Unix path next to its TCP port keeps lab 01's rules: a file that is no socket is left alone, a live server's path refused (it keeps serving both), a stale one replaced, a path taken over not removed; an abstract name in use is refused, never replaced" {
    local lab=10-two-hosts d=$T/d name=@hostile10-$$-$RANDOM B
    mkdir "$d"
    printf 'precious\n' >"$d/f"
    run_split "$TOP/$lab/server" -u "$d/f" 0
    note "a regular file at the path: exit $status: ${stderr_lines[-1]}"
    is "a regular file at the path: exit status" "$status" 1
    is "the file at the path, after" "$(<"$d/f")" precious
    # A live server; a second on its path stops at the lock, a third that
    # finds no lock file (an older program) at the probe.
    on10 a10 -u "$d/s"
    run_split "$TOP/$lab/server" -u "$d/s" 0
    note "a live server's path, its lock held: exit $status: ${stderr_lines[-1]}"
    is "a second server on a live path: its last line" "${stderr_lines[-1]}" "server: bind $d/s: Address already in use (another server holds $d/s.lock)"
    rm "$d/s.lock"
    run_split "$TOP/$lab/server" -u "$d/s" 0
    note "a live server's path, no lock file: exit $status: ${stderr_lines[-1]}"
    is "a third server on a live path: its last line" "${stderr_lines[-1]}" "server: bind $d/s: Address already in use (a server answers there)"
    echoes "$lab" "unix:$d/s"
    echoes "$lab" "127.0.0.1:$PORT10"
    # Killed, it leaves a stale file: the next server replaces it.
    kill -KILL "$SERVER_PID"
    wait_gone "$SERVER_PID"
    [ -S "$d/s" ] || fail "no stale socket file at $d/s after SIGKILL: $(ls -A "$d")"
    on10 b10 -u "$d/s"
    B=$SERVER_PID
    expect_line "$T/b10.err" 'Connection refused: stale socket file' "the new server's probe of the stale file"
    last_match "$T/b10.err" 'stale socket file'
    note "a stale file: $LINE"
    echoes "$lab" "unix:$d/s"
    # Its files removed by somebody, a new server on the path: the first,
    # at exit, leaves the new one's file alone.
    rm "$d/s" "$d/s.lock"
    on10 c10 -u "$d/s"
    kill -TERM "$B"
    wait_exit "$B"
    last_match "$T/b10.err" 'signal:'
    note "the first server, its path taken over, on SIGTERM: $LINE"
    [ -S "$d/s" ] && [ -f "$d/s.lock" ] || fail "the first server removed the second one's files: $(ls -A "$d")"
    echoes "$lab" "unix:$d/s"
    # An abstract name has no file: in use, it has a live socket; a second
    # server is refused, and the first keeps it.
    on10 n10 -u "$name"
    run_split "$TOP/$lab/server" -u "$name" 0
    note "an abstract name in use: exit $status: ${stderr_lines[-1]}"
    is "a second server on $name: its last line" "${stderr_lines[-1]}" "server: bind $name: Address already in use"
    echoes "$lab" "$name"
}

@test "10 two hosts: both listeners ready at once take turns: TCP clients queued one after another do not keep a waiting Unix client out" {
    local lab=10-two-hosts second
    on10 s10 -u "$T/s10"
    # The first TCP client, connected and silent: the server is in its
    # read(), held there (fd 7) for as long as we like.
    exec 7<>"/dev/tcp/127.0.0.1/$PORT10"
    wait_until has_line "$T/s10.err" '^\[server\] accept\(\) = fd [0-9]+ from 127'
    # Queued meanwhile: a second TCP client (fd 8, silent too), then a
    # Unix one, which has sent its line and waits for the echo.
    exec 8<>"/dev/tcp/127.0.0.1/$PORT10"
    printf 'turn\n' >"$T/u10.in"
    spawn u10 "$TOP/$lab/client" "unix:$T/s10"
    wait_until has_line "$T/u10.err" '^\[client\] write\(\) = 5 bytes'
    # The first goes: both listeners have a connection waiting. The one
    # not served last, the Unix listener, must go first.
    exec 7>&-
    accepted_two() { [ "$(count '^\[server\] accept\(\) = fd' "$T/s10.err")" -ge 2 ]; }
    wait_until accepted_two
    mapfile -t -s 2 second < <(grep -E '^\[server\] (poll|accept)\(\)' "$T/s10.err")
    note_lines "after the first client: " < <(printf '%s\n' "${second[@]:0:2}")
    exec 8>&-
    [[ ${second[1]} == *" on $T/s10" ]] || fail "the second TCP client went before the waiting Unix one: ${second[1]}"
    wait_exit "$PID"
    is "the Unix client's exit status" "$STATUS" 0
    is "the Unix client's echo" "$(<"$T/u10.out")" TURN
}

# Lab 11's responder reads a header of 64 bytes that its peer chose:
# "MODE SIZE COUNT NODELAY [BUFFER]", padded with spaces, ending in a
# newline. on11 TRANSPORT: its server on port 0 (-t 1: a client silent for
# 1 s is dropped), as "s11"; PORT11 is its port.
on11() {
    spawn s11 "$TOP/11-cost/server" -t 1 "$1" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$PID" s11
    read -r READY <"$T/s11.out" || fail "the lab 11 server did not start: $(cat "$T/s11.err")"
    PORT11=${READY##*:}
}

# measured11 ARGS...: lab 11's client runs ARGS against the server
# (TRANSPORT and port last) and prints its figures: exit 0, one line.
measured11() {
    run_split timeout 10 "$TOP/11-cost/client" "$@"
    [ "$status" -eq 0 ] && [[ $output == "rtt "* ]] ||
        fail "the next client, $*: exit $status, output '$output', ${stderr_lines[-1]:-}"
}

# dropped11 N: the server has narrated N clients dropped.
dropped11() { matches_at_least 'client dropped' "$T/s11.err" "$1"; }

@test "11 cost: headers a peer chose (sizes of 2^40, counts of 2^62, bulk beyond 2^40 bytes, negative, no number, no newline, no mode), refused at once; a bulk of 2^40 bytes or half a header, then silence: dropped after -t; a reset mid-bulk; 1000 half headers: the server serves the next each time, in bounded memory" {
    local h n=0 t0 ms hwm
    on11 tcp
    # Refused when read: the client is dropped, nothing allocated for it.
    for h in "rtt 1099511627776 10 0" "rtt 1 4611686018427387904 0" "bulk 1 4611686018427387904 0" \
        "bulk 1 1099511627777 0" "bulk 1 99999999999999999999 0" \
        "rtt -1 10 0" "bulk 1 -1 0" "rtt x 10 0" "rtt 0 10 0" "rtt 1 10" "ping 1 10 0" "rtt 1 10 0x"; do
        exec 7<>"/dev/tcp/127.0.0.1/$PORT11"
        printf '%-63s\n' "$h" >&7
        n=$((n + 1))
        wait_until dropped11 "$n" || fail "'$h': the server did not drop the client: $(tail -n 2 "$T/s11.err")"
        exec 7>&-
        last_match "$T/s11.err" 'client dropped'
        note "'$h': $LINE"
        is "'$h': the server's narration" "$LINE" "[server] read() = 64: no test header: client dropped"
    done
    # 64 bytes with no newline at the end: no header of this lab either.
    exec 7<>"/dev/tcp/127.0.0.1/$PORT11"
    printf '%-64s' "rtt 1 10 0" >&7
    n=$((n + 1))
    wait_until dropped11 "$n" || fail "no newline: the server did not drop the client: $(tail -n 2 "$T/s11.err")"
    exec 7>&-
    last_match "$T/s11.err" 'client dropped'
    note "64 bytes without the newline: $LINE"
    alive "$SERVER_PID" || fail "the server died: $(tail -n 2 "$T/s11.err")"
    measured11 -n 5 tcp "$PORT11"
    # The largest the header may ask (1 MiB messages, 2,000,000 rounds),
    # then the connection closed: 1 MiB at most, and the end seen.
    exec 7<>"/dev/tcp/127.0.0.1/$PORT11"
    printf '%-63s\n' "rtt 1048576 2000000 0" >&7
    exec 7>&-
    n=$((n + 1))
    wait_until dropped11 "$n"
    last_match "$T/s11.err" 'client dropped'
    note "the largest messages, then the end: $LINE"
    # The largest bulk transfer (2^40 bytes, as the client's -b) announced,
    # then silence; then half a header and silence: each holds the server
    # -t (1 s), no longer; the client queued behind them is served after.
    exec 7<>"/dev/tcp/127.0.0.1/$PORT11"
    printf '%-63s\n' "bulk 1 1099511627776 0" >&7
    exec 8<>"/dev/tcp/127.0.0.1/$PORT11"
    printf '%-32s' "rtt 1 10" >&8
    t0=${EPOCHREALTIME/[.,]/}
    measured11 -n 5 tcp "$PORT11"
    ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
    exec 7>&- 8>&-
    note "a bulk of 2^40 bytes announced, then silence: $(grep -m 1 'bulk: .*client dropped' "$T/s11.err")"
    note "half a header, then silence: $(grep -m 1 'read() = -1: .*no test header' "$T/s11.err")"
    note "the client queued behind them served $ms ms after it started (-t 1, twice)"
    has_line "$T/s11.err" '^\[server\] bulk: Resource temporarily unavailable: client dropped$' ||
        fail "the silent bulk client was not dropped on -t: $(grep 'bulk' "$T/s11.err")"
    has_line "$T/s11.err" '^\[server\] read\(\) = -1: Resource temporarily unavailable: no test header: client dropped$' ||
        fail "the half header was not dropped on -t: $(tail -n 5 "$T/s11.err")"
    n=$(count 'client dropped' "$T/s11.err")
    # A bulk transfer reset in its middle: a conn test's answer left unread
    # makes the close a reset (tcp(7)); the server's read() meets it.
    exec 7<>"/dev/tcp/127.0.0.1/$PORT11"
    printf '%-63s\n' "conn 1 1 0" "bulk 1 1000000 0" >&7
    printf '%2000s' '' >&7
    wait_until has_line "$T/s11.err" '^\[server\] read\(\) = 64 bytes: bulk .*1000000' ||
        fail "the server did not narrate the bulk header: $(tail -n 3 "$T/s11.err")"
    exec 7>&-
    n=$((n + 1))
    wait_until dropped11 "$n"
    last_match "$T/s11.err" 'client dropped'
    note "a reset in the middle of a bulk transfer: $LINE"
    is "the server's narration of the reset" "$LINE" "[server] bulk: Connection reset by peer: client dropped"
    # 1000 connections, each half a header then closed (a child bash: no
    # bats trace on each): each refused at once. In tens, each ten once
    # the server has dropped the ten before: faster, they would overflow
    # its accept queue (listen(16)), and the kernel would drop SYNs, sent
    # again 1 s later (what such a flood costs the next client: the
    # queue's bound, not the server's).
    timeout 20 bash -c 'for ((i = 1; i <= 1000; i++)); do
        exec 7<>"/dev/tcp/127.0.0.1/$1" && printf "%-32s" "rtt 1 10" >&7; exec 7>&-
        if ((i % 10 == 0)); then until [ "$(grep -c "client dropped" "$2")" -ge $(($3 + i)) ]; do :; done; fi
        done' flood "$PORT11" "$T/s11.err" "$n" 3>&- ||
        fail "the 1000 connections did not go through: exit $?"
    n=$((n + 1000))
    wait_until dropped11 "$n" || fail "1000 half headers: $(count 'client dropped' "$T/s11.err") clients dropped in all, not $n"
    last_match "$T/s11.err" 'client dropped'
    note "1000 half headers, each: $LINE"
    measured11 -n 5 tcp "$PORT11"
    # Its peak of address space (VmPeak: what it ever mapped, touched or
    # not): the 1 MiB the largest messages take, and no more.
    # (A build with make SANITIZE=1 maps terabytes of shadow memory at
    # start: its peak says nothing there; the plain build's run checks it.)
    hwm=$(sed -nE 's/^VmPeak:[[:space:]]+([0-9]+) kB/\1/p' "/proc/$SERVER_PID/status")
    note "the server's peak address space: $hwm kB"
    if grep -qa __asan_init "$TOP/11-cost/server"; then
        note "(an AddressSanitizer build: its peak is its shadow memory's, not checked)"
    else
        [ "$hwm" -lt 65536 ] || fail "the server's peak address space is $hwm kB: a header made it allocate what its peer asked"
    fi
}

@test "11 cost: udp: each datagram's reply goes back to its sender only, whatever other ports send meanwhile; the measurer, among them, gets its own bytes" {
    local a b
    on11 udp
    exec 7<>"/dev/udp/127.0.0.1/$PORT11" 8<>"/dev/udp/127.0.0.1/$PORT11"
    # a1 from port A, b1 from port B, a2 from A: served in that order, so
    # b1's reply sent to A as well would reach A before a2's.
    printf 'a1' >&7
    printf 'b1' >&8
    printf 'a2' >&7
    a=$(timeout 5 dd bs=100 count=1 status=none <&7)$(timeout 5 dd bs=100 count=1 status=none <&7)
    b=$(timeout 5 dd bs=100 count=1 status=none <&8)
    note "port A sent a1, a2 and got back '$a'; port B sent b1 and got back '$b'"
    is "the replies port A got" "$a" "a1a2"
    is "the reply port B got" "$b" "b1"
    # The measurer, while port A keeps sending: every reply it reads is
    # its own request's bytes (it checks each), from the server's port.
    spawn c11 "$TOP/11-cost/client" -n 300 udp "$PORT11"
    CLIENT_PID=$PID
    while alive "$CLIENT_PID"; do printf 'noise' >&7; timeout 5 dd bs=100 count=1 status=none <&7 >/dev/null; done
    wait_exit "$CLIENT_PID"
    is "the measurer's exit status among another port's datagrams (stderr: $(tail -n 1 "$T/c11.err"))" "$STATUS" 0
    note "$(<"$T/c11.out")"
    note_lines "  " < <(grep 'a new client' "$T/s11.err")
    exec 7>&- 8>&-
}

@test "11 cost: client and server started with descriptors 0, 1 and 2 closed get no pipe or socket below 3 (pipe, socketpair: the responder the client forks too; unix, tcp)" {
    local tr fds fd line args
    on11 tcp
    for tr in pipe socketpair unix tcp; do
        case $tr in
        unix) spawn su11 "$TOP/11-cost/server" unix "$T/s11"
            wait_until ready_or_dead "$PID" su11
            args=(unix "$T/s11") ;;
        tcp) args=(tcp "$PORT11") ;;
        *) args=("$tr") ;;
        esac
        (cd "$TOP/11-cost" && timeout 10 strace -f -qq -o "$T/$tr.trace" \
            -e trace=socket,socketpair,pipe,pipe2,accept,accept4 ./client -n 5 "${args[@]}" <&- >&- 2>&-) || true
        fds=
        while IFS= read -r line; do
            if [[ $line =~ (socketpair|pipe2?)\(.*\[([0-9]+),\ ([0-9]+)\] ]]; then
                fds+="${BASH_REMATCH[2]} ${BASH_REMATCH[3]} "
            elif [[ $line =~ (socket|accept4?)\(.*\)\ +=\ ([0-9]+) ]]; then
                fds+="${BASH_REMATCH[2]} "
            fi
        done <"$T/$tr.trace"
        note "$tr client, 0-2 closed: pipe or socket descriptors ${fds:-none}"
        [ -n "$fds" ] || fail "$tr client, 0-2 closed: no descriptor in its trace: $(tail -n 3 "$T/$tr.trace")"
        for fd in $fds; do
            [ "$fd" -ge 3 ] || fail "$tr client, 0-2 closed, got descriptor $fd: $(grep -E "= $fd|\\[$fd," "$T/$tr.trace")"
        done
    done
    # The server: under strace, in a process group of its own (teardown).
    setsid strace -f -qq -o "$T/server.trace" -e trace=socket "$TOP/11-cost/server" tcp 0 <&- >&- 2>&- 3>&- &
    echo "$!" >>"$T/pids"
    wait_until tracee_of "$!"
    wait_until has_line "$T/server.trace" 'socket\(.*= [0-9]+'
    last_match "$T/server.trace" 'socket\(.*= ([0-9]+)'
    note "tcp server, 0-2 closed: $LINE"
    [ "$MATCH" -ge 3 ] || fail "the server, 0-2 closed, got socket fd $MATCH: $LINE"
}

# ---- Lab 12: one server, many clients at once, with poll(). Its peers
# frame lines as they please and come and go in floods: a line dribbled a
# byte a write, one byte over the bound, a thousand connections that
# leave half a line, a thousand that reset. Each costs its own connection
# only, and every descriptor comes back.

# on12 NAME ARGS...: lab 12's server as NAME, ARGS before its port 0;
# P12 is its port.
on12() {
    local name=$1
    shift
    spawn "$name" "$TOP/12-many-clients/server" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$PID" "$name"
    read -r READY <"$T/$name.out" || fail "lab 12's server $name did not start: $(tail -n 2 "$T/$name.err")"
    P12=${READY##*:}
}

# dribble12 N: a connection (fd 7) gets N bytes of "a", a write(2) each
# (bash's printf writes once a call), then a newline when N <= 4096.
# REPLY is the first line that comes back, "" if none within 10 s.
dribble12() {
    local i
    exec 7<>"/dev/tcp/127.0.0.1/$P12"
    for ((i = 0; i < $1; i++)); do printf a >&7; done
    if [ "$1" -le 4096 ]; then printf '\n' >&7; fi
    REPLY=
    read -r -t 10 -u 7 || true
}


@test "12 many clients: a line of 4096 bytes and one of 4097, sent a byte a write: the first comes back whole, upper-cased; the second gets ERR line too long, then the server's FIN, and the close" {
    on12 s12
    dribble12 4096
    is "the reply to 4096 a's: its length, and what it holds besides A's" "${#REPLY} bytes, '${REPLY//A/}'" "4096 bytes, ''"
    note "4096 bytes and a newline, a byte a write: $(count '^\[server\] read\(fd [0-9]+\) = [0-9]+ bytes' "$T/s12.err") reads at the server, the line back whole"
    exec 7>&-
    dribble12 4097
    is "the reply to 4097 bytes with no newline" "$REPLY" "ERR line too long"
    read -r -t 10 -u 7 && fail "the server sent more after the error: '$REPLY'"
    exec 7>&-
    last_match "$T/s12.err" 'ERR line too long'
    note "4097 bytes, a byte a write: $LINE"
    # the second close of a client (the first: the 4096-byte line's),
    # after the server's FIN and our end of input
    WAIT_LIMIT=3 wait_until matches_at_least '^\[server\] close\(fd [0-9]+\) = 0 \([0-9]+ of 64 clients\)$' "$T/s12.err" 2 ||
        fail "the server did not close the connection after the error: $(tail -n 3 "$T/s12.err")"
    expect_line "$T/s12.err" '^\[server\] shutdown\(fd [0-9]+, SHUT_WR\) = 0' "the server's FIN after the error"
    alive "$SERVER_PID" || fail "the server exited: $(tail -n 2 "$T/s12.err")"
}

# flood12 ROUNDS N HOW: ROUNDS times, N connections held open at once,
# each accepted (or told BUSY), then, HOW: "half", each sends half a line
# and hangs up; "reset", each sends a line, leaves its reply unread, and
# closes (a reset: tcp(7)). Each round waits until the server has closed
# them all. In a subshell (no bats trace there either), SIGPIPE ignored:
# a write to a connection the server closed (BUSY) fails, and kills
# nothing.
flood12() {
    (
        trap '' PIPE
        local r i fds=() n=0 re closes base
        re='^\[server\] (read\(fd [0-9]+\) = 9 bytes$|accept\(\) = fd [0-9]+ from .*: BUSY)'   # half
        if [ "$3" = reset ]; then re='^\[server\] write\(fd [0-9]+\) = 9 bytes$'; fi
        base=$(count "$re" "$T/s12.err") closes=$(count '^\[server\] close\(fd' "$T/s12.err")
        for ((r = 0; r < $1; r++)); do
            for ((i = 0; i < $2; i++)); do
                exec {fds[i]}<>"/dev/tcp/127.0.0.1/$P12" || exit 1
                if [ "$3" = half ]; then printf 'half a li' >&"${fds[i]}"; else printf 'reset me\n' >&"${fds[i]}"; fi
            done 2>/dev/null
            n=$((n + $2))
            wait_until matches_at_least "$re" "$T/s12.err" $((base + n)) || exit 2
            for ((i = 0; i < $2; i++)); do exec {fds[i]}>&-; done
            wait_until matches_at_least '^\[server\] close\(fd' "$T/s12.err" $((closes + n)) || exit 3
        done
    )
}

@test "12 many clients: 1000 connections that send half a line and hang up (125 at once against -c 100: 25 told BUSY each time), then 1000 that reset with a reply unread: each closed, the server serves the next, its descriptors back" {
    local fds status=0
    on12 s12 -c 100
    # A first client: the server's descriptors once it has served one.
    run_split "$TOP/12-many-clients/client" 127.0.0.1 "$P12" <<<"first"
    is "the first client's reply (exit $status)" "$output" FIRST
    fds=$(fd_count "$SERVER_PID")
    flood12 8 125 half || status=$?
    [ "$status" -eq 0 ] || fail "the half lines did not go through (flood12 exit $status: 1 connect, 2 not read, 3 not closed): $(tail -n 3 "$T/s12.err")"
    note "1000 half lines, 125 at a time: $(count 'a last line without its newline is not answered' "$T/s12.err") read and closed, $(count ': BUSY \(' "$T/s12.err") told BUSY"
    last_match "$T/s12.err" ': BUSY \('
    note "  $LINE"
    is "the connections told BUSY (125 at a time, 8 times, against -c 100)" "$(count ': BUSY \(' "$T/s12.err")" 200
    is "the server's descriptors, after the half lines" "$(fd_count "$SERVER_PID")" "$fds"
    flood12 10 100 reset || status=$?
    [ "$status" -eq 0 ] || fail "the resets did not go through (flood12 exit $status: 1 connect, 2 not answered, 3 not closed): $(tail -n 3 "$T/s12.err")"
    is "the resets the server met" "$(count '^\[server\] read\(fd [0-9]+\) = -1: Connection reset by peer$' "$T/s12.err")" 1000
    last_match "$T/s12.err" 'Connection reset by peer'
    note "1000 resets, 100 at a time: $LINE"
    is "the server's descriptors, after the resets" "$(fd_count "$SERVER_PID")" "$fds"
    alive "$SERVER_PID" || fail "the server exited: $(tail -n 2 "$T/s12.err")"
    run_split "$TOP/12-many-clients/client" 127.0.0.1 "$P12" <<<"next"
    is "the next client's reply (exit $status)" "$output" NEXT
    note "the server's descriptors: $fds before, $(fd_count "$SERVER_PID") after; the next client served"
}
