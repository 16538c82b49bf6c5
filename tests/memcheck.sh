#!/usr/bin/env bash
# tests/memcheck.sh [DIR] - valgrind memcheck on every lab program.
# MEMCHECK_LABS="NN-topic ..." limits the run to those labs.
#
# Runs each lab's server and client (in lab 02 the server
# forks and execs ./client FD, so one run under --trace-children=yes covers
# both), and lab 09's sniff and synsend, for one short session under
#   valgrind --leak-check=full --errors-for-leak-kinds=all --track-fds=yes
# and prints one line per program: `memcheck 05-tcp/server: ok`, or FAIL
# with the reasons and the valgrind lines that show them. Exit status 0 only
# if every program is clean: no memory error, no heap block left at exit
# (lost or still reachable), no descriptor open at exit beyond 0, 1 and 2,
# exit status 0, and the expected echo.
#
# DIR is a tree of labs, NN-topic/ each (default: the repo's solutions/);
# each lab is built there with make first. Binaries built with SANITIZE=1
# cannot run under valgrind: `make clean` them first.
#
# A server stops on SIGTERM in its signal handler, with _exit()
# (async-signal-safe), blocked in accept() or recv(); the handler closes
# its listening (or bound) socket first, so that nothing but 0, 1 and 2 is
# open at exit here either.
#
# Lab 09's programs need CAP_NET_RAW: they run in a network namespace of
# their own, made with `ip netns` as root and `unshare -r -n` otherwise
# (skipped, with the reason, where neither works): sniff -n 1 captures one
# datagram sent to 127.0.0.1:9, and synsend's SYN to that closed port
# gets its RST,ACK.
#
# Lab 10's server listens on a TCP port and a Unix socket at once: one
# server on port 0 and a path serves a TCP client, then a Unix one; a
# second on an abstract name serves a client of that name. Five reports,
# the server's and client's lines marked (tcp+unix), (tcp), (unix),
# (abstract).
#
# Lab 11's measurer and responder: a server on a path and one on port 0,
# each measured by a client of each mode (rtt, bulk, conn; a few round
# trips, 1 MB, a few connections), then pipe and socketpair, where the
# client forks and execs ./server itself (one run, two reports, as lab
# 02). Twelve reports, marked (unix, rtt), (tcp, bulk), (pipe)...
#
# Lab 12's server serves many clients at once with poll(): one server,
# -c 2, on port 0 and a path, serves a TCP client and a Unix one, then
# (bash's /dev/tcp) a connection held open, a line over 4096 bytes (ERR
# line too long), a second held open, a third told BUSY; SIGTERM tells the
# two held BYE shutdown. Three reports, marked (-c 2, tcp+unix), (tcp),
# (unix); a reply that is not what the server must say fails the server.
#
# valgrind 3.19 cannot read clang 14's DWARF 5 ("unhandled dwarf2 abbrev
# form", then it gives up): a lab built with clang (make CC=clang) is
# refused, as a SANITIZE=1 build is; build it with gcc (make clean; make).
#
# valgrind writes its report to the program's standard error (--log-fd=2),
# so it holds no descriptor of its own that the program could see; its
# lines, prefixed ==PID==, are told apart from the narration by that prefix.
# No suppression file: nothing in libc needs one here (valgrind runs
# __libc_freeres() at exit, _exit() too, so stdio buffers are not reported).

set -u
shopt -s nullglob

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.bash"   # wait_until, wait_gone, gone: the suite's bounded polls
LABS_DIR=${1:-$HERE/../solutions}
LABS_DIR=$(cd "$LABS_DIR" 2>/dev/null && pwd) || { echo "memcheck: no directory ${1:-}" >&2; exit 2; }
LIMIT=${MEMCHECK_LIMIT:-60}   # seconds any one wait may last (valgrind is slow)
WAIT_LIMIT=$LIMIT
LABS=(01-unix-stream 02-socketpair 03-unix-dgram 04-seqpacket 05-tcp 06-udp 07-tcp-close 08-fd-passing 09-raw-packets 10-two-hosts 11-cost 12-many-clients)
# MEMCHECK_LABS="09-raw-packets ...": only these labs (default: all).
[ -n "${MEMCHECK_LABS:-}" ] && read -ra LABS <<<"$MEMCHECK_LABS"

command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed" >&2; exit 2; }

VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all
    --errors-for-leak-kinds=all --track-fds=yes --error-exitcode=99
    --child-silent-after-fork=no --log-fd=2)

T=$(mktemp -d /tmp/mc.XXXXXX) || exit 2
PIDS=()   # the background processes started here and not yet reaped

NS=""     # lab 09's network namespace, as root (ip netns)

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
    done
    [ -n "$NS" ] && ip netns delete "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME DIR STDIN CMD...: run CMD in DIR in the background, standard
# output in $T/NAME.out, standard error (narration and valgrind's report)
# in $T/NAME.err, every inherited descriptor above 2 closed. Sets PID.
start() {
    local name=$1 dir=$2 in=$3
    shift 3
    (
        for f in "/proc/$BASHPID/fd/"*; do
            n=${f##*/}
            [ "$n" -gt 2 ] && eval "exec $n>&-"
        done
        cd "$dir" && exec "$@"
    ) <"$in" >"$T/$name.out" 2>"$T/$name.err" &
    PID=$!
    PIDS+=("$PID")
}

# finish PID: wait for PID (bounded; killed if it hangs); sets STATUS, and
# HUNG (else empty) if it had to be killed.
finish() {
    HUNG=""
    if ! wait_gone "$1"; then
        HUNG="still running after ${LIMIT}s: killed"
        kill -TERM "$1" 2>/dev/null   # valgrind still reports on a fatal signal
        wait_gone "$1" 5 || kill -KILL "$1" 2>/dev/null
    fi
    wait "$1" 2>/dev/null   # quiet: no "Killed" notice from bash
    STATUS=$?
    local i
    for i in "${!PIDS[@]}"; do   # reaped: its number may be reused, forget it
        [ "${PIDS[i]}" = "$1" ] && unset 'PIDS[i]'
    done
}

FAILED=0

# vg_blocks PID < ERRFILE: valgrind's report for PID in blocks (a line at
# the margin and the indented lines under it); the blocks that say nothing
# wrong are dropped, the others printed.
vg_blocks() {
    sed -nE "s/^==$1== ?//p" | awk '
        function flush(   fd) {
            if (blk == "") return
            if (blk ~ /^(Memcheck, a memory error detector|Copyright \(C\)|Using Valgrind|Command: |Parent PID: |All heap blocks were freed|For lists of detected|For counts of detected|ERROR SUMMARY: 0 errors)/)
                ;
            else if (blk ~ /^HEAP SUMMARY:/ && blk ~ /in use at exit: 0 bytes in 0 blocks/)
                ;
            else if (blk ~ /^FILE DESCRIPTORS: /)
                fdsum = 1
            else if (match(blk, /^Open (AF_[A-Z0-9]+ socket|pf-[0-9]+ socket|file descriptor) [0-9]+/)) {
                fd = substr(blk, 1, RLENGTH); sub(/.* /, "", fd)
                if (fd + 0 > 2)
                    print blk
            } else
                print blk
            blk = ""
        }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ { if (blk != "") blk = blk "\n" $0; next }
        { flush(); blk = $0 }
        END {
            flush()
            if (!fdsum) print "(no FILE DESCRIPTORS summary: valgrind did not finish)"
        }'
}

# report LAB ROLE ERRFILE STATUS WANT OUTFILE [NOTE]: judge one program by
# valgrind's report in ERRFILE, its exit status, and (WANT not empty) its
# standard output in OUTFILE; print its line, and the evidence if it fails.
report() {
    local lab=$1 role=$2 err=$3 status=$4 want=$5 out=$6 note=${7:-}
    local pid evidence="" problems=()
    pid=$(sed -nE "s/^==([0-9]+)== Command: \.\/$role( .*)?$/\1/p" "$err" | head -n 1)
    if [ -z "$pid" ]; then
        problems+=("no valgrind report")
    else
        evidence=$(vg_blocks "$pid" <"$err")
        grep -q "^==$pid== ERROR SUMMARY: " "$err" || problems+=("valgrind did not finish")
    fi
    grep -qE '^ERROR SUMMARY: [1-9]' <<<"$evidence" && problems+=("memory errors")
    grep -qE '^[0-9,]+ bytes in [0-9,]+ blocks are' <<<"$evidence" && problems+=("heap blocks left at exit")
    grep -qE '^Open ' <<<"$evidence" && problems+=("descriptors open at exit")
    if [ -n "$evidence" ] && [ ${#problems[@]} -eq 0 ]; then
        problems+=("unexpected valgrind output")
    fi
    case $status in
        0) ;;
        99) problems+=("exit status 99 (valgrind found errors)") ;;
        *) problems+=("exit status $status") ;;
    esac
    if [ -n "$want" ] && ! cmp -s "$out" <(printf '%b' "$want"); then
        problems+=("wrong reply '$(head -c 60 "$out" | tr '\n' '|')'")
    fi
    [ -n "$note" ] && problems+=("$note")
    if [ ${#problems[@]} -eq 0 ]; then
        echo "memcheck $lab/$role${VIA:+ ($VIA)}: ok"
        return 0
    fi
    FAILED=1
    local joined
    joined=$(printf '%s; ' "${problems[@]}")
    echo "memcheck $lab/$role${VIA:+ ($VIA)}: FAIL: ${joined%; }"
    [ -n "$evidence" ] && head -n 60 <<<"$evidence" | sed 's/^/    /'
    if [ -z "$pid" ] || [ -n "$note" ] || [ -z "$evidence" ]; then
        echo "    its standard error ended with:"
        grep -v '^==[0-9]*==' "$err" | tail -n 8 | sed 's/^/    | /'
    fi
    return 1
}

# ready FILE: the readiness line is in FILE: a server's, sniff's
# ("capturing on"), or lab 09's namespace holder's ("ready").
ready() { grep -sqE '^(listening|receiving|capturing) on |^ready$' "$1"; }   # (-s: not yet made)
up_or_gone() { ready "$1" || gone "$2"; }

# server_up LAB SPID NAME: the server SPID, started as NAME, has written
# its readiness line; else it is stopped and reported (its client, not
# run, too: VIA says which) and server_up returns 1.
server_up() {
    local lab=$1 spid=$2 name=$3
    wait_until up_or_gone "$T/$name.out" "$spid"
    ready "$T/$name.out" && return 0
    kill -TERM "$spid" 2>/dev/null
    finish "$spid"
    report "$lab" server "$T/$name.err" "$STATUS" "" "" "no readiness line"
    echo "memcheck $lab/client${VIA:+ ($VIA)}: FAIL: not run (the server did not start)"
    return 1
}

printf 'hello\n\nworld\n' >"$T/in"   # the second line empty: an empty message
WANT='HELLO\n\nWORLD\n'
# Lab 08 serves files: a directory holding one, whose bytes are WANT; its
# client receives the file as a descriptor and copies it to stdout.
mkdir "$T/files" && printf "$WANT" >"$T/files/greeting"

# session LAB: a server in the background, one client, SIGTERM.
session() {
    local lab=$1 dir=$LABS_DIR/$1 sock="$T/${1%%-*}.sock" addr port spid cstatus chung
    case $lab in
        08-*) start "$lab.server" "$dir" /dev/null "${VG[@]}" ./server "$sock" "$T/files" ;;
        0[1-4]-*) start "$lab.server" "$dir" /dev/null "${VG[@]}" ./server "$sock" ;;
        *) start "$lab.server" "$dir" /dev/null "${VG[@]}" ./server 0 ;;
    esac
    spid=$PID
    server_up "$lab" "$spid" "$lab.server" || return
    addr=$(sed -nE 's/^(listening|receiving) on //p' "$T/$lab.server.out" | head -n 1)
    port=${addr##*:}
    case $lab in
        08-*) start "$lab.client" "$dir" /dev/null "${VG[@]}" ./client "$sock" greeting ;;
        0[1-4]-*) start "$lab.client" "$dir" "$T/in" "${VG[@]}" ./client "$sock" ;;
        *) start "$lab.client" "$dir" "$T/in" "${VG[@]}" ./client 127.0.0.1 "$port" ;;
    esac
    finish "$PID"
    cstatus=$STATUS chung=$HUNG
    kill -TERM "$spid" 2>/dev/null
    finish "$spid"
    report "$lab" server "$T/$lab.server.err" "$STATUS" "" "" "$HUNG"
    report "$lab" client "$T/$lab.client.err" "$cstatus" "$WANT" "$T/$lab.client.out" "$chung"
}

# session_two: lab 10, whose server offers TCP and a Unix socket at once
# (-u PATH or -u @NAME): a server on port 0 and a path, a TCP client and a
# Unix client one after the other, SIGTERM; then a server on port 0 and an
# abstract name, its client, SIGTERM. VIA says which in each line.
session_two() {
    local lab=10-two-hosts dir=$LABS_DIR/10-two-hosts sock=$T/10.sock name=@mc10-$$ spid port
    local -a cstatus chung
    VIA="tcp+unix"
    start "$lab.server" "$dir" /dev/null "${VG[@]}" ./server -u "$sock" 0
    spid=$PID
    server_up "$lab" "$spid" "$lab.server" || { VIA=""; return; }
    # "listening on 127.0.0.1:PORT and PATH"
    port=$(sed -nE 's/^listening on [^ ]*:([0-9]+) and .*/\1/p' "$T/$lab.server.out")
    start "$lab.tcp" "$dir" "$T/in" "${VG[@]}" ./client "127.0.0.1:$port"
    finish "$PID"
    cstatus[0]=$STATUS chung[0]=$HUNG
    start "$lab.unix" "$dir" "$T/in" "${VG[@]}" ./client "unix:$sock"
    finish "$PID"
    cstatus[1]=$STATUS chung[1]=$HUNG
    kill -TERM "$spid" 2>/dev/null
    finish "$spid"
    report "$lab" server "$T/$lab.server.err" "$STATUS" "" "" "$HUNG"
    VIA=tcp report "$lab" client "$T/$lab.tcp.err" "${cstatus[0]}" "$WANT" "$T/$lab.tcp.out" "${chung[0]}"
    VIA=unix report "$lab" client "$T/$lab.unix.err" "${cstatus[1]}" "$WANT" "$T/$lab.unix.out" "${chung[1]}"
    VIA=abstract
    start "$lab.aserver" "$dir" /dev/null "${VG[@]}" ./server -u "$name" 0
    spid=$PID
    if server_up "$lab" "$spid" "$lab.aserver"; then
        start "$lab.abstract" "$dir" "$T/in" "${VG[@]}" ./client "$name"
        finish "$PID"
        cstatus[2]=$STATUS chung[2]=$HUNG
        kill -TERM "$spid" 2>/dev/null
        finish "$spid"
        report "$lab" server "$T/$lab.aserver.err" "$STATUS" "" "" "$HUNG"
        report "$lab" client "$T/$lab.abstract.err" "${cstatus[2]}" "$WANT" "$T/$lab.abstract.out" "${chung[2]}"
    fi
    VIA=""
}

# Lab 02: ./server makes the pair, forks, and the child execs ./client FD
# with the same standard input and output; one run, two reports.
session_pair() {
    local lab=02-socketpair cstatus
    start "$lab" "$LABS_DIR/$lab" "$T/in" "${VG[@]}" --trace-children=yes ./server
    finish "$PID"
    report "$lab" server "$T/$lab.err" "$STATUS" "" "" "$HUNG"
    # The client's exit status: the server narrates what waitpid() said.
    cstatus=$(sed -nE 's/^\[server\] waitpid\(.*exited with status ([0-9]+).*/\1/p' "$T/$lab.err")
    report "$lab" client "$T/$lab.err" "${cstatus:-unknown}" "$WANT" "$T/$lab.out" "$HUNG"
}

# session_cost: lab 11, the measurer and its responder. A server on a
# path (unix) and one on port 0 (tcp), each measured by three clients in
# turn, rtt, bulk and conn (counts kept small: valgrind is slow), then
# SIGTERM; VIA names the transport and the mode. Then pipe and
# socketpair: the client forks and execs ./server on the descriptors it
# inherits (lab 02's way), so one run under --trace-children=yes covers
# both; the server's exit status is what the client's waitpid() narrates.
# Each client must print one line of figures of its mode and transport.
session_cost() {
    local lab=11-cost dir=$LABS_DIR/11-cost tp mode spid addr note sstatus
    local -a args
    local -A cstatus chung
    for tp in unix tcp; do
        VIA=$tp
        if [ "$tp" = unix ]; then
            start "$lab.$tp.server" "$dir" /dev/null "${VG[@]}" ./server -t 5 unix "$T/11.sock"
        else
            start "$lab.$tp.server" "$dir" /dev/null "${VG[@]}" ./server -t 5 tcp 0
        fi
        spid=$PID
        server_up "$lab" "$spid" "$lab.$tp.server" || { VIA=""; continue; }
        addr=$(sed -nE 's/^listening on //p' "$T/$lab.$tp.server.out" | head -n 1)
        [ "$tp" = unix ] || addr=${addr##*:}
        for mode in rtt bulk conn; do
            case $mode in
                rtt) args=(-n 20 -w 2) ;;
                bulk) args=(-m bulk -b 1000000 -w 2) ;;
                conn) args=(-m conn -n 5 -w 1) ;;
            esac
            start "$lab.$tp.$mode" "$dir" /dev/null "${VG[@]}" ./client "${args[@]}" "$tp" "$addr"
            finish "$PID"
            cstatus[$mode]=$STATUS chung[$mode]=$HUNG
        done
        kill -TERM "$spid" 2>/dev/null
        finish "$spid"
        report "$lab" server "$T/$lab.$tp.server.err" "$STATUS" "" "" "$HUNG"
        for mode in rtt bulk conn; do
            note=${chung[$mode]}
            grep -qE "^$mode $tp " "$T/$lab.$tp.$mode.out" ||
                note="${note:+$note; }no line of $mode figures in '$(tr '\n' '|' <"$T/$lab.$tp.$mode.out")'"
            VIA="$tp, $mode" report "$lab" client "$T/$lab.$tp.$mode.err" "${cstatus[$mode]}" "" "" "$note"
        done
    done
    for tp in pipe socketpair; do
        VIA=$tp
        start "$lab.$tp" "$dir" /dev/null "${VG[@]}" --trace-children=yes ./client -n 20 -w 2 "$tp"
        finish "$PID"
        note=$HUNG
        grep -qE "^rtt $tp " "$T/$lab.$tp.out" ||
            note="${note:+$note; }no line of rtt figures in '$(tr '\n' '|' <"$T/$lab.$tp.out")'"
        sstatus=$(sed -nE 's/^\[client\] waitpid\(.*exited with status ([0-9]+).*/\1/p' "$T/$lab.$tp.err")
        report "$lab" client "$T/$lab.$tp.err" "$STATUS" "" "" "$note"
        report "$lab" server "$T/$lab.$tp.err" "${sstatus:-unknown}" "" "" "$HUNG"
    done
    VIA=""
}

# session_many: lab 12 (see the top): the server's clients one after
# another, each under valgrind, then what poll() serves at once: two held
# open, a line too long, BUSY, and BYE shutdown to those held at SIGTERM.
session_many() {
    local lab=12-many-clients dir=$LABS_DIR/12-many-clients sock=$T/12.sock spid port note="" line
    local -a cstatus chung
    local -A got
    VIA="-c 2, tcp+unix"
    start "$lab.server" "$dir" /dev/null "${VG[@]}" ./server -c 2 -u "$sock" 0
    spid=$PID
    server_up "$lab" "$spid" "$lab.server" || { VIA=""; return; }
    port=$(sed -nE 's/^listening on [^ ]*:([0-9]+) and .*/\1/p' "$T/$lab.server.out")
    start "$lab.tcp" "$dir" "$T/in" "${VG[@]}" ./client 127.0.0.1 "$port"
    finish "$PID"
    cstatus[0]=$STATUS chung[0]=$HUNG
    start "$lab.unix" "$dir" "$T/in" "${VG[@]}" ./client "$sock"
    finish "$PID"
    cstatus[1]=$STATUS chung[1]=$HUNG
    # accepted N: the server has narrated N accept()s that made it
    # "(2 of 2 clients)" or, N=1, the first "(1 of 2 clients)".
    # (A BUSY line, "from ADDR: BUSY (2 of 2 clients)", is no accept.)
    accepted() { [ "$(grep -cE "^\[server\] accept\(\) = fd [0-9]+ from [^ ]+ \($2 of 2 clients\)$" "$T/$lab.server.err")" -ge "$1" ]; }
    # the long line's connection closed: the first close that leaves 1
    long_closed() { grep -qE '^\[server\] close\(fd [0-9]+\) = 0 \(1 of 2 clients\)$' "$T/$lab.server.err"; }
    exec 7<>"/dev/tcp/127.0.0.1/$port"   # held open
    wait_until accepted 1 1
    exec 8<>"/dev/tcp/127.0.0.1/$port"   # 4097 bytes, no newline: all read, then the error
    printf '%4097s' '' >&8
    read -r -t "$LIMIT" -u 8 line || true
    got[long]=$line
    exec 8>&-   # our FIN: the server, draining since its error, closes
    wait_until long_closed
    exec 8<>"/dev/tcp/127.0.0.1/$port"   # held open: the second of -c 2
    wait_until accepted 2 2
    exec 9<>"/dev/tcp/127.0.0.1/$port"   # the third: BUSY
    read -r -t "$LIMIT" -u 9 line || true
    got[busy]=$line
    kill -TERM "$spid" 2>/dev/null
    read -r -t "$LIMIT" -u 7 line || true
    got[held1]=$line
    read -r -t "$LIMIT" -u 8 line || true
    got[held2]=$line
    exec 7>&- 8>&- 9>&-
    finish "$spid"
    [ "${got[long]}" = "ERR line too long" ] || note="a line of 4097 bytes got '${got[long]}', not 'ERR line too long'"
    [ "${got[busy]}" = BUSY ] || note="${note:+$note; }the third of -c 2 got '${got[busy]}', not 'BUSY'"
    [ "${got[held1]}${got[held2]}" = "BYE shutdownBYE shutdown" ] ||
        note="${note:+$note; }the two held at SIGTERM got '${got[held1]}' and '${got[held2]}', not 'BYE shutdown'"
    [ -n "$HUNG" ] && note="$HUNG${note:+; $note}"
    report "$lab" server "$T/$lab.server.err" "$STATUS" "" "" "$note"
    VIA=tcp report "$lab" client "$T/$lab.tcp.err" "${cstatus[0]}" "$WANT" "$T/$lab.tcp.out" "${chung[0]}"
    VIA=unix report "$lab" client "$T/$lab.unix.err" "${cstatus[1]}" "$WANT" "$T/$lab.unix.out" "${chung[1]}"
    VIA=""
}

# in_netns: NSX, the command prefix that runs in a network namespace of
# our own with lo up; fails, saying why in WHY, where none can be made.
in_netns() {
    local holder
    NSX=()
    if [ "$(id -u)" -eq 0 ]; then
        NS=mc$$
        WHY=$(ip netns add "$NS" 2>&1 && ip netns exec "$NS" ip link set lo up 2>&1) || { NS=""; return 1; }
        NSX=(ip netns exec "$NS")
        return 0
    fi
    WHY=$(unshare -r -n true 2>&1) || { WHY="not root, and unshare -r -n fails: $WHY"; return 1; }
    unshare -r -n sh -c 'ip link set lo up && echo ready && exec sleep infinity' >"$T/netns.out" 2>&1 &
    holder=$!
    PIDS+=("$holder")
    wait_until up_or_gone "$T/netns.out" "$holder"
    grep -q ready "$T/netns.out" || { WHY="unshare -r -n: $(cat "$T/netns.out")"; return 1; }
    NSX=(nsenter -t "$holder" -U -n --preserve-credentials)
}

# session_raw: lab 09, in its namespace: sniff -n 1 until one datagram;
# synsend to a closed port.
session_raw() {
    local lab=09-raw-packets dir=$LABS_DIR/09-raw-packets spid note=""
    if ! in_netns; then
        for role in sniff synsend; do echo "memcheck $lab/$role: skipped: needs CAP_NET_RAW in a network namespace: $WHY"; done
        return
    fi
    start "$lab.sniff" "$dir" /dev/null "${NSX[@]}" "${VG[@]}" ./sniff -n 1
    spid=$PID
    wait_until up_or_gone "$T/$lab.sniff.out" "$spid"
    "${NSX[@]}" bash -c 'echo hello >/dev/udp/127.0.0.1/9' || note="could not send the datagram"
    finish "$spid"
    grep -qE ' > 127\.0\.0\.1:9 UDP len=6$' "$T/$lab.sniff.out" ||
        note="${note:-no line for the datagram} in '$(tr '\n' '|' <"$T/$lab.sniff.out")'"
    [ -n "$HUNG" ] && note="$HUNG${note:+; $note}"
    report "$lab" sniff "$T/$lab.sniff.err" "$STATUS" "" "" "$note"
    start "$lab.synsend" "$dir" /dev/null "${NSX[@]}" "${VG[@]}" ./synsend 127.0.0.1 9
    finish "$PID"
    note=""
    grep -qE '^127\.0\.0\.1:9 > .* TCP \[RST,ACK\] ' "$T/$lab.synsend.out" ||
        note="no RST,ACK in '$(tr '\n' '|' <"$T/$lab.synsend.out")'"
    [ -n "$HUNG" ] && note="$HUNG${note:+; $note}"
    report "$lab" synsend "$T/$lab.synsend.err" "$STATUS" "" "" "$note"
}

for lab in "${LABS[@]}"; do
    dir=$LABS_DIR/$lab
    roles=(server client)
    case $lab in 09-*) roles=(sniff synsend) ;; esac
    if ! make -s -C "$dir" >"$T/make.log" 2>&1; then
        for role in "${roles[@]}"; do echo "memcheck $lab/$role: FAIL: make -C $dir failed"; done
        sed 's/^/    /' "$T/make.log" | tail -n 10
        FAILED=1
        continue
    fi
    if grep -qa __asan_init "${roles[@]/#/$dir/}"; then
        for role in "${roles[@]}"; do
            echo "memcheck $lab/$role: FAIL: built with SANITIZE=1; run make -C $dir clean first"
        done
        FAILED=1
        continue
    fi
    if grep -qa 'clang version' "${roles[@]/#/$dir/}"; then
        for role in "${roles[@]}"; do
            echo "memcheck $lab/$role: FAIL: built with clang, whose DWARF 5 valgrind 3.19 cannot read; run make -C $dir clean, then make"
        done
        FAILED=1
        continue
    fi
    case $lab in
        02-*) session_pair ;;
        09-*) session_raw ;;
        10-*) session_two ;;
        11-*) session_cost ;;
        12-*) session_many ;;
        *) session "$lab" ;;
    esac
done
exit "$FAILED"
