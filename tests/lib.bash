# tests/lib.bash - the harness shared by every tests/NN-*.bats file and by
# tests/tour.sh. Load it from a .bats file with `load lib`.
#
# Conventions (see README.md, "Conventions"):
#   TREE=solutions (default) or TREE=labs picks which copy of a lab runs.
#   Every test gets a short private directory $T (sun_path holds 108
#   bytes): bats' own $BATS_TEST_TMPDIR when its path is short, which bats
#   removes itself; else a new directory under /tmp.
#   Background programs start through `spawn`: fds 3-9 closed (bats waits
#   for a child that holds fd 3), output in $T/NAME.out and $T/NAME.err,
#   each in a process group of its own, stopped whole in teardown even
#   when the test failed.
#   Nothing waits a fixed time: `wait_until` polls a condition, bounded by
#   $WAIT_LIMIT seconds.
#   `note` prints an observation as a "# " line on fd 3, so a run reads as
#   a lesson.

# bats runs each test under `set -T` with a DEBUG trap that records the
# line of every command: about 100 us a command, inherited by every
# function a test calls, and the polls and parsers below run thousands of
# commands (22 s of the suite's 55 s of CPU went to the trap). Without
# functrace the helpers run untraced and a failure still names the test's
# own line ("in test file NN-topic.bats, line N"), only not the line
# inside the helper. (bash(1), "set -T"; bats' lib/bats-core/tracing.bash.)
set +T

ROOT=${BASH_SOURCE[0]%/*}/..
[[ $ROOT == /* ]] || ROOT=$PWD/$ROOT
ROOT=${ROOT%/tests/..}   # no subshell, no dirname: this runs for every test
TREE=${TREE:-solutions}
WAIT_LIMIT=${WAIT_LIMIT:-10}   # seconds any single wait may last
POLL_INTERVAL=0.01             # seconds between the first two looks at a condition

# lab_name WANT: the name (NN-topic) of the lab in labs/ that WANT names:
# 3, 03 or 03-unix-dgram. Prints nothing when there is none.
lab_name() {
    local want=$1 d
    [ -n "$want" ] || return 0
    case $want in [0-9]) want=0$want ;; esac
    for d in "$ROOT"/labs/[0-9][0-9]-*/; do
        d=${d%/}
        d=${d##*/}
        case $d in "$want" | "$want"-*) echo "$d" ;; esac
    done
}

# lab_programs DIR: PROGRAMS, the programs of the lab in DIR: the targets
# of its Makefile's `all:` line ("server client" in labs 01-08). A program
# PROG is built from PROG.c (which holds its steps) and the lab's lab.c.
# Fails when there is no such line. No fork: lab_setup runs it each test.
lab_programs() {
    local text nl=$'\n'
    PROGRAMS=()
    text=$(<"$1/Makefile") || return 1
    [[ $nl$text =~ $nl"all:"([^$nl]*) ]] && read -r -a PROGRAMS <<<"${BASH_REMATCH[1]}"
    [ "${#PROGRAMS[@]}" -gt 0 ] || { echo "$1/Makefile: no 'all:' line naming the lab's programs" >&2; return 1; }
}

# program_sources DIR PROG: SOURCES, the files of PROG's own steps: the .c
# files its Makefile rule names ("client: client.c measure.c lab.c
# lab.h"), lab.c left out (the lab's helpers, no step). Lab 11's client
# has its steps 3-6 in measure.c.
program_sources() {
    local text nl=$'\n' f
    SOURCES=()
    text=$(<"$1/Makefile") || return 1
    [[ $nl$text =~ $nl"$2:"([^$nl]*) ]] || return 0
    for f in ${BASH_REMATCH[1]}; do
        case $f in lab.c) ;; *.c) SOURCES+=("$f") ;; esac
    done
}

# peer_lab NN-topic: PEER, the directory of another lab's programs that a
# lab's tests run as peers (lab 09 captures what lab 05's, 06's and 07's
# programs send): the reference binaries tests/ref/NN-topic in a handout
# (tests/handout.sh ships them, finding the calls with peer_labs), else
# solutions/NN-topic, built here. Call it in setup_file, one call per
# lab, its name written out (peer_labs greps for it), and export what it
# gives: `peer_lab 05-tcp && export L05=$PEER`. Fails, saying why, when
# neither exists or the solution does not build.
peer_lab() {
    PEER=$ROOT/tests/ref/$1
    [ -d "$PEER" ] && return 0
    PEER=$ROOT/solutions/$1
    [ -d "$PEER" ] || { echo "peer_lab: no tests/ref/$1 and no solutions/$1 for the peers of these tests" >&2; return 1; }
    make --no-print-directory -s -C "$PEER" >/dev/null || { echo "peer_lab: solutions/$1 does not build" >&2; return 1; }
}

# peer_labs FILE: the labs a tests file (NN-topic.bats) runs as peers,
# one a line: its `peer_lab NN-topic` calls. For handout.sh (it ships
# their reference binaries), reference.sh (it builds them before make
# check's groups run side by side) and mutants.sh (it copies them).
peer_labs() {
    grep -ohE '(^|[^a-z_])peer_lab [0-9]{2}-[a-z0-9-]+' "$1" 2>/dev/null | sed -E 's/.*peer_lab //' | sort -u
}

# todo_steps DIR: the numbers of the TODO steps marked in DIR/*.c (a lab
# of solutions/), one a line, in order.
todo_steps() {
    grep -hoE '/\* TODO [0-9]+:' "$1"/*.c | grep -oE '[0-9]+' | sort -un
}

# lab_setup NN-topic: sets LAB (the lab's directory) and T (the temp dir).
#
# Reference peers: with REF=DIR (make check and make grade set it), the
# test of a step runs the student's build of the program that holds the
# step against the reference build of the other one, from DIR/NN-topic/
# (the solution's binaries; a handout ships them as binaries only). A
# mistake in the client then fails client tests only. DIR/NN-topic/sides
# says where each step lives (lines "step 6 client", "extra 1 server"). A
# test is about step N when its name begins "[step N]" or "[extra N]";
# any other test runs the student's two programs together.
lab_setup() {
    local prog
    case $TREE in /*) LAB="$TREE/$1" ;; *) LAB="$ROOT/$TREE/$1" ;; esac
    lab_programs "$LAB" || return 1
    for prog in "${PROGRAMS[@]}"; do
        if [ ! -x "$LAB/$prog" ]; then
            echo "$LAB is not built: run 'make -C $LAB'" >&2
            return 1
        fi
    done
    if [ -n "${REF:-}" ]; then reference_peer "$1" || return 1; fi
    # bats' own directory for the test costs no mktemp and no rm -rf (each
    # fork of the test's shell costs more than most of what a test does).
    # Not when its path is long (TMPDIR), outside bats (tests/tour.sh), or
    # for a second lab_setup in one test.
    if [ -n "${BATS_TEST_TMPDIR:-}" ] && [ "${#BATS_TEST_TMPDIR}" -le 40 ] &&
        [ ! -e "$BATS_TEST_TMPDIR/pids" ]; then
        T=$BATS_TEST_TMPDIR
    else
        T=$(mktemp -d /tmp/sk.XXXXXX)
    fi
    : >"$T/pids"
}

# reference_peer NN-topic: for a "[step N]" or "[extra N]" test under REF,
# point LAB at REF/NN-topic/mix-SIDE, where SIDE, the program holding the
# step, is the student's and the other program is the reference's
# (tests/reference.sh makes these directories). Sets UNDER_TEST to server
# or client (empty when both programs are the student's).
reference_peer() {
    local ref=$REF/$1 kind n line side=""
    UNDER_TEST=
    [[ ${BATS_TEST_DESCRIPTION:-} =~ ^\[(step|extra)\ ([0-9]+)\] ]] || return 0
    kind=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]}
    [ -r "$ref/sides" ] || { echo "REF=$REF: no $ref/sides" >&2; return 1; }
    while read -r line; do
        [ "${line% *}" = "$kind $n" ] && side=${line##* }
    done <"$ref/sides"
    [ -d "$ref/mix-$side" ] || { echo "$ref/sides does not say where $kind $n is" >&2; return 1; }
    LAB=$ref/mix-$side UNDER_TEST=$side
}

# own_tmp_dir: move the test to a new directory of its own under /tmp, as
# T, for a test that lets another user into it: bats' directories are
# private to their owner. Call it before anything runs in $T.
own_tmp_dir() {
    T=$(mktemp -d /tmp/sk.XXXXXX)
    : >"$T/pids"
}

lab_teardown() {
    [ -n "${T:-}" ] && [ -d "$T" ] || return 0
    local pid pids
    mapfile -t pids <"$T/pids"
    if [ "${#pids[@]}" -gt 0 ]; then
        # Each spawned program leads a process group of its own (setsid, in
        # spawn): the group takes along what it started (lab 02's child,
        # strace's tracee). Other pids recorded are signalled alone.
        kill -CONT -- "${pids[@]}" "${pids[@]/#/-}" 2>/dev/null
        kill -TERM -- "${pids[@]}" "${pids[@]/#/-}" 2>/dev/null
        WAIT_LIMIT=2 wait_until all_gone "${pids[@]}" 2>/dev/null
        kill -KILL -- "${pids[@]}" "${pids[@]/#/-}" 2>/dev/null
        # Reaped here, quietly: else bash reports a killed job on the
        # test's output ("line 136: 2777 Killed  setsid ..."). Only once
        # all are gone (zombies at most), so this wait cannot hang.
        if WAIT_LIMIT=1 wait_until all_gone "${pids[@]}" 2>/dev/null; then
            wait "${pids[@]}" 2>/dev/null || true
        fi
    fi
    # A failed test shows what the programs said.
    if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
        local f
        for f in "$T"/*.out "$T"/*.err; do
            [ -s "$f" ] || continue
            echo "--- ${f##*/} (last 20 lines)"
            tail -n 20 "$f"
        done >&2
    fi
    # A network namespace of the test's own (netns_setup), after its
    # programs: it goes with its links and its queues.
    if [ -n "${NS:-}" ]; then ip netns delete "$NS" 2>/dev/null || true; fi
    # bats removes its own directory only when the whole run ends: a test
    # that made big files (BIG=1) has them removed now, not 200 MB later.
    if [ "$T" != "${BATS_TEST_TMPDIR:-}" ] || [ -n "${BIG:-}" ]; then
        rm -rf "$T"
    fi
}

# netns_setup: a network namespace for this test alone (NS, with NSX the
# prefix that runs a command in it), its loopback up; lab_teardown deletes
# it, with its links and queues. Skips, saying why, where that does not
# work. Linux-specific: ip-netns(8).
netns_setup() {
    local err
    [ "$(id -u)" -eq 0 ] || skip "needs root: it makes a network namespace (ip netns)"
    NS=sk$$-$RANDOM   # this test's own: its shell's pid, and a random number
    if ! err=$(ip netns add "$NS" 2>&1); then
        NS=
        skip "ip netns add does not work here: $err"
    fi
    NSX=(ip netns exec "$NS")
    err=$("${NSX[@]}" ip link set lo up 2>&1) || skip "ip netns exec does not work here: $err"
}

# own_netns: a network namespace of this test's own, lo up; NSX runs a
# command in it. As root, netns_setup's. As a normal user, a user and
# network namespace (unshare -r -n), held by a sleeping process of the
# test that nsenter joins: root in it has CAP_NET_RAW and CAP_NET_ADMIN
# there, for its lo alone (lab 09's raw sockets, tc).
own_netns() {
    if [ "$EUID" -eq 0 ]; then
        netns_setup
        return
    fi
    unshare -r -n true 2>/dev/null || skip "as a normal user these tests need unshare -r -n, which does not work here"
    spawn netns unshare -r -n sh -c 'ip link set lo up && echo ready && exec sleep infinity'
    wait_until ready_or_dead "$PID" netns
    [ -s "$T/netns.out" ] || fail "unshare -r -n did not make a namespace: $(cat "$T/netns.err")"
    NSX=(nsenter -t "$PID" -U -n --preserve-credentials)
}

# lines_at_least FILE N: FILE has N lines or more (no fork: it is polled).
lines_at_least() {
    local all
    mapfile -t all <"$1"
    ((${#all[@]} >= $2))
}

# need_ipv6: skip the test when this machine has no IPv6 loopback ::1.
need_ipv6() {
    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
        skip "no IPv6 loopback address ::1 on this machine (/proc/net/if_inet6)"
}

# end_sniff NAME [-t]: wait for lab 09's sniff, spawned as NAME with its
# pid in SNIFF_PID (its -n COUNT reached) or, with -t, stop it with SIGTERM
# first; it exits 0. PACKETS: its packet lines.
end_sniff() {
    local name=$1
    [ "${2:-}" != -t ] || kill -TERM "$SNIFF_PID"
    wait_exit "$SNIFF_PID" || fail "sniff did not end; it printed: $(cat "$T/$name.out")"
    is "sniff's exit status" "$STATUS" 0
    mapfile -t -s 1 PACKETS <"$T/$name.out"
    note_lines "  sniff: " < <(tail -n +2 "$T/$name.out")
}

# hosts_world NAME: a world for lab 10's `hosts` script: a mount namespace
# of the test's own with a tmpfs on /run, where `ip netns add` keeps its
# names (so hosts a and b are this test's alone), held by a sleeping
# process spawned as NAME: teardown stops it, and every namespace made in
# it goes with it. As a normal user, in a user and network namespace too
# (unshare -r -n -m; hosts then mounts a /run of its own again). HW runs a
# command there: "${HW[@]}" "$LAB/hosts" up.
hosts_world() {
    local userns=() enter=(-m)
    if [ "$EUID" -ne 0 ]; then
        unshare -r -n -m true 2>/dev/null ||
            skip "as a normal user lab 10 needs unshare -r -n -m, which does not work here"
        userns=(-r -n)
        enter=(-U -n -m --preserve-credentials)
    fi
    spawn "$1" unshare "${userns[@]}" -m --propagation private \
        sh -c 'mount -t tmpfs -o mode=755 run /run && echo ready && exec sleep infinity'
    wait_until ready_or_dead "$PID" "$1"
    [ -s "$T/$1.out" ] || fail "no private /run: $(cat "$T/$1.err")" || return 1
    HW=(nsenter -t "$PID" "${enter[@]}")
}

# A gate on the loopback of a test's own namespace (NSX: netns_setup, or
# lab 09's unshare): tc's token bucket holds the segments queued there,
# and labs 07 and 09 look at the states they leave behind meanwhile.

# need_lo_gate: skips, saying why, where tc cannot give the namespace's
# loopback a queue, or bash cannot send the datagrams that make it look.
need_lo_gate() {
    local err
    err=$("${NSX[@]}" tc qdisc add dev lo root tbf rate 8bit burst 100 limit 10000 2>&1 &&
        "${NSX[@]}" tc qdisc delete dev lo root 2>&1) || skip "tc cannot give lo a tbf queue: $err"
    err=$("${NSX[@]}" bash -c 'printf x >/dev/udp/127.0.0.1/9' 2>&1) ||
        skip "bash cannot send a datagram with /dev/udp: $err"
}

# gate_shut: every packet on the namespace's loopback now waits in its
# queue. A token bucket filter (tc-tbf(8)) of 100 bytes, refilled at 8 bits
# a second, starts full: one 92-byte datagram (to the discard port, where
# nobody listens) spends it, and a 66-byte segment then waits a minute.
gate_shut() {
    "${NSX[@]}" tc qdisc replace dev lo root tbf rate 8bit burst 100 limit 10000 &&
        "${NSX[@]}" bash -c 'printf "%50s" x >/dev/udp/127.0.0.1/9'
}

# gate_open: the queue goes out, in order. tbf looks at its queue again
# when a packet comes (or when its timer fires, a minute away): after the
# new rate, one more datagram.
gate_open() {
    "${NSX[@]}" bash -c 'tc qdisc change dev lo root tbf rate 10gbit burst 100000 limit 100000 &&
        printf x >/dev/udp/127.0.0.1/9'
}

# gate_pass BYTES: the queue lets BYTES more through, then holds again: a
# new bucket of BYTES + 8 at 8 bits a second (tbf starts it full), and a
# 43-byte datagram behind the queue to make tbf look. The packets queued,
# BYTES in all, go; the datagram (8 bytes left for its 43) and whatever
# comes after it wait.
gate_pass() {
    "${NSX[@]}" bash -c 'tc qdisc change dev lo root tbf rate 8bit burst $(($1 + 8)) limit 10000 &&
        printf x >/dev/udp/127.0.0.1/9' _ "$1"
}

# gate_holds N: QUEUED, the backlog of the namespace's loopback queue as
# `tc -s qdisc` shows it ("132b 2p"); true when it holds N packets or more.
gate_holds() {
    local qdisc
    qdisc=$("${NSX[@]}" tc -s qdisc show dev lo)
    [[ $qdisc =~ backlog\ ([0-9]+b\ ([0-9]+)p) ]] || return 1
    QUEUED=${BASH_REMATCH[1]}
    [ "${BASH_REMATCH[2]}" -ge "$1" ] || return 1
}

# long_link_local: in the test's namespace (netns_setup), an interface
# with the longest name Linux allows (15 characters, IF_NAMESIZE - 1: one
# end of a veth pair) and a link-local IPv6 address on it, usable at once
# (nodad). Sets LINK and ADDR6; ADDR6%LINK is a 55-character scoped
# address. Skips, saying why, where ip cannot make the pair.
long_link_local() {
    local err
    LINK=abcdefghijklmno
    ADDR6=fe80:1111:2222:3333:4444:5555:6666:7777   # fe80::/10, nothing to shorten
    err=$("${NSX[@]}" ip link add "$LINK" type veth peer name peer0 2>&1) ||
        skip "ip link cannot make a veth pair here: $err"
    "${NSX[@]}" ip link set "$LINK" up
    "${NSX[@]}" ip link set peer0 up
    "${NSX[@]}" ip addr add "$ADDR6/64" dev "$LINK" nodad
}

# all_gone PID...: none of them is alive.
all_gone() {
    local pid
    for pid; do
        gone "$pid" || return 1
    done
}

# note TEXT...: one observation, printed with the test's output. Quiet
# under make check (QUIET_NOTES), which lists each failing test with what
# bats printed after it: there, another test's notes would read as its.
note() {
    [ -n "${QUIET_NOTES:-}" ] && return 0
    printf '# %s\n' "$*" >&3
}

# note_lines PREFIX < lines: each line of input as an observation.
note_lines() {
    local line
    while IFS= read -r line; do
        note "$1$line"
    done
}

# pause SECONDS: a short pause between two looks at a condition, without
# forking sleep(1): read times out on a FIFO that never gets data. The
# suite polls thousands of times, and each fork costs more than the look.
# Under bats one FIFO serves every test of the run (opened read-write, it
# never blocks the open and never reads EOF); elsewhere a pipe does.
pause() {
    if [ -z "${PAUSE_FD:-}" ]; then
        if [ -n "${BATS_SUITE_TMPDIR:-}" ]; then
            [ -p "$BATS_SUITE_TMPDIR/pause" ] || mkfifo "$BATS_SUITE_TMPDIR/pause" 2>/dev/null
            exec {PAUSE_FD}<>"$BATS_SUITE_TMPDIR/pause"
        else
            exec {PAUSE_FD}<> <(:)
        fi
    fi
    read -r -t "$1" -u "$PAUSE_FD" || true
}

# wait_until COMMAND...: run COMMAND until it succeeds, at most WAIT_LIMIT s.
# The pause between two looks starts at POLL_INTERVAL and doubles up to
# 0.1 s: a condition met at once is seen at once, and a long wait (a
# timeout of a second or more) costs a few looks, not hundreds. Each look
# costs CPU, the more under bats, whose DEBUG trap runs before each
# command of a test; the suite's time is CPU-bound on two cores.
wait_until() {
    local deadline=$((SECONDS + WAIT_LIMIT)) step=$POLL_INTERVAL
    until "$@"; do
        if [ "$SECONDS" -gt "$deadline" ]; then
            echo "gave up after ${WAIT_LIMIT}s waiting for: $*" >&2
            return 1
        fi
        pause "$step"
        case $step in 0.01) step=0.02 ;; 0.02) step=0.04 ;; 0.04) step=0.08 ;; *) step=0.1 ;; esac
    done
}

# has_line FILE REGEX: FILE exists and a line matches the extended REGEX.
# Where REGEX cannot match across a newline, bash matches it against the
# whole file at once, with no fork (the polls look again and again, and a
# grep costs more than the look): when it has no ., no [^...], no
# [[:class:]], no \letter (\s, \w...), and ^ and $ only at its ends, where
# they become newlines (the file's text is framed by newlines). Any other
# REGEX goes to grep.
has_line() {
    local re=$2 nl=$'\n' bare text
    [ -f "$1" ] || return 1
    bare=${re#^}
    bare=${bare%\$}
    bare=${bare//\\[!A-Za-z]/}   # \( \. \\ ...: literal characters
    if [[ $bare == *[.^\$\\]* || $bare == *'[^'* || $bare == *'[[:'* ]]; then
        grep -qE -- "$re" "$1"
        return
    fi
    [[ $re == ^* ]] && re=$nl${re#^}
    [[ $re == *\$ ]] && re=${re%\$}$nl
    text=$(<"$1")
    [[ $nl$text$nl =~ $re ]]
}

# last_match FILE REGEX [SKIP]: the last line of FILE, after its first
# SKIP lines, that matches the extended REGEX (bash's =~, line by line from
# the end). LINE is that line, MATCH the text of REGEX's first group
# (BASH_REMATCH holds them all). Fails when no line matches. No fork: for a
# test's short narration files.
last_match() {
    local all i
    mapfile -t -s "${3:-0}" all 2>/dev/null <"$1" || return 1
    for ((i = ${#all[@]} - 1; i >= 0; i--)); do
        if [[ ${all[i]} =~ $2 ]]; then
            LINE=${all[i]}
            MATCH=${BASH_REMATCH[1]:-}
            return 0
        fi
    done
    return 1
}

# read_state PID: the process's state letter from /proc/PID/stat (R, S,
# T when stopped, Z when a zombie) into STATE, with no subshell (the polls
# below run it again and again); fails when there is no such process.
read_state() {
    local stat
    STATE=
    [ -n "$1" ] || return 1   # (/proc//stat would be /proc/stat)
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    STATE=${stat%% *}
}

# cpu_ticks PID: the CPU time PID has used, user and system, in clock
# ticks (utime + stime, /proc/PID/stat) into TICKS, with no subshell.
cpu_ticks() {
    local stat f
    read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    TICKS=$((f[11] + f[12]))
}

# alive PID: the process exists and is not a zombie.
alive() {
    read_state "$1" && [ "$STATE" != Z ]
}

# stopped PID: the process is stopped (SIGSTOP took effect): T, or t when
# it runs under strace (make trace), whose ptrace stop it then is.
stopped() {
    read_state "$1" && case $STATE in T | t) ;; *) return 1 ;; esac
}

gone() { ! alive "$1"; }

# wait_gone PID [SECONDS]: wait for PID to exit.
wait_gone() {
    local WAIT_LIMIT=${2:-$WAIT_LIMIT}
    wait_until gone "$1" 2>/dev/null
}

# spawn NAME COMMAND...: run COMMAND in the background, fd 3 closed, output
# in $T/NAME.out and $T/NAME.err. Sets PID. Stopped by lab_teardown.
# Standard input comes from $T/NAME.in when that file or FIFO exists.
# With SHARED_LOG set, standard error is appended there instead, so the
# narration of several programs reads in the order it happened.
# With TRACE_DIR set (`make trace`), COMMAND runs under strace, its socket
# calls written to $TRACE_DIR/NAME.trace; PID is still COMMAND's own pid.
# STRACE_OPTS, when set, replaces `-e trace=%network` (a test injects
# faults with it).
spawn() {
    local name=$1 in=/dev/null tracer
    shift
    [ -e "$T/$name.in" ] && in="$T/$name.in"
    if [ -n "${TRACE_DIR:-}" ]; then
        # shellcheck disable=SC2086 # STRACE_OPTS is words
        set -- strace -f -qq -o "$TRACE_DIR/$name.trace" ${STRACE_OPTS:--e trace=%network} -- "$@"
    fi
    # fd 3 is bats' output: a child holding it makes bats wait for it.
    # fds 4-9 are the test's own (the writing end of a FIFO, say): a child
    # holding one would never see EOF on it.
    # setsid(1): a process group (and session) of its own, which teardown
    # stops whole, whatever the program started meanwhile. The pid stays
    # the program's: setsid execs it (it forks only for a group leader).
    setsid "$@" <"$in" >"$T/$name.out" 2>>"${SHARED_LOG:-$T/$name.err}" \
        3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    PID=$!
    echo "$PID" >>"$T/pids"
    if [ -n "${TRACE_DIR:-}" ]; then
        tracer=$PID
        # The traced program is strace's child; a short one may be over
        # before we look, and then the tracer's pid stands for it.
        wait_until traced_or_gone "$tracer" || return 1
        PID=$TRACED
        echo "$PID" >>"$T/pids"
        echo "$tracer" >"$T/tracer.$PID"   # for wait_exit: strace passes on the status
    fi
}

# strace_child PID: TRACED, strace PID's traced child once it has exec'd;
# returns 1 while there is none. strace forks short-lived children of its
# own first (it tests ptrace), and its tracee is strace until its exec.
strace_child() {
    local pid comm
    for pid in $(pgrep -P "$1"); do
        read -r comm 2>/dev/null <"/proc/$pid/comm" || continue
        if [ "$comm" != strace ]; then TRACED=$pid; return 0; fi
    done
    return 1
}

# traced_or_gone PID: strace PID's tracee has exec'd (TRACED is its pid),
# or PID is gone (TRACED=PID).
traced_or_gone() {
    strace_child "$1" && return 0
    TRACED=$1
    gone "$1"
}

# start_server ARGS...: spawn "$LAB/server" ARGS and wait for its readiness
# line on stdout (SERVER_PID is set; READY holds the line). A server that
# exits instead fails the test with its error.
start_server() {
    spawn server "$LAB/server" "$@"
    SERVER_PID=$PID
    if ! wait_until ready_or_dead "$SERVER_PID"; then
        return 1
    fi
    if ! [ -s "$T/server.out" ]; then
        echo "server exited before it was ready:" >&2
        cat "${SHARED_LOG:-$T/server.err}" >&2
        return 1
    fi
    read -r READY <"$T/server.out"
}

# ready_or_dead PID [NAME]: the program spawned as NAME (default server)
# has printed its readiness line, or PID is gone.
ready_or_dead() {
    [ -s "$T/${2:-server}.out" ] || gone "$1"
}

# said_or_gone PID FILE REGEX: FILE has a line matching REGEX, or PID is
# gone: for a wait that must end at once when a program dies silently
# (killed by SIGPIPE, say) instead of saying what it did.
said_or_gone() {
    has_line "$2" "$3" || gone "$1"
}

# default_port_server LAB_NN: start the lab's server with no PORT, in a
# network namespace of its own (unshare -n; root only, else the test
# skips), so its fixed default port cannot clash with anything; READY is
# its readiness line. Linux-specific: network namespaces.
default_port_server() {
    [ "$(id -u)" -eq 0 ] || skip "needs root for a private network namespace (unshare -n)"
    unshare -n true 2>/dev/null || skip "unshare -n does not work here"
    spawn server unshare -n sh -c 'ip link set lo up && exec "$0"' "$LAB/server"
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    read -r READY <"$T/server.out" || fail "the server did not start: $(cat "$T/server.err")"
}

# wait_exit PID: wait for a spawned PID to end; sets STATUS to its exit
# status (128+N for signal N). Call it directly, not in $(...): only the
# shell that spawned a process can collect its status.
wait_exit() {
    local parent=$1
    STATUS=0
    wait_gone "$1" || return 1
    [ -f "$T/tracer.$1" ] && parent=$(cat "$T/tracer.$1")
    wait "$parent" || STATUS=$?
}

# fd_count PID: how many descriptors PID has open (/proc/PID/fd).
fd_count() {
    local fds=("/proc/$1/fd/"*)
    echo "${#fds[@]}"
}

# clients_in_a_row N OUT COMMAND...: run the client COMMAND N times, one
# after another, the i-th with the input line "client i"; OUT keeps the
# last one's output. A child bash runs the loop: bats' DEBUG trap, run
# before every command of a test, would slow it down. One bound for the
# whole loop, LOOP_LIMIT seconds (20): timeout(1) signals its process
# group, a client that hangs with the bash that started it (a timeout per
# client would double the forks of a loop that is all forks).
clients_in_a_row() {
    timeout -k 1 "${LOOP_LIMIT:-20}" bash -c 'n=$1 out=$2; shift 2
        for ((i = 1; i <= n; i++)); do "$@" <<<"client $i" >"$out" 2>/dev/null; done' _ "$@"
}

# unix_row INODE: the `ss -xap` row (no header) of the unix socket with
# that inode number.
unix_row() {
    local rows nl=$'\n' re
    rows=$(ss -xapH)
    re="$nl(([^ $nl]+ +){5}$1 [^$nl]*)"   # field 6, the local inode, is INODE
    if [[ $nl$rows =~ $re ]]; then echo "${BASH_REMATCH[1]}"; fi
}

# one_error: after `run --separate-stderr`, true when standard error holds
# exactly one line that is not narration ("[role] ..."): the one-line
# error of the contract, `prog: what failed: reason`. ERROR is that line.
one_error() {
    local line errors=()
    while IFS= read -r line; do
        [[ -z $line || $line == \[* ]] || errors+=("$line")
    done <<<"$stderr"
    ERROR=${errors[0]:-}
    [ "${#errors[@]}" -eq 1 ] || { printf 'not one error line: %s\n' "${errors[@]}" >&2; return 1; }
}

# run_split COMMAND...: what bats' `run --separate-stderr COMMAND` does,
# setting status, output, stderr, lines and stderr_lines the same way,
# with one fork instead of three (run's subshell and its mktemp): for the
# harness's loops over many cases. The streams go through $T/run.out and
# $T/run.err.
run_split() {
    status=0
    "$@" >"$T/run.out" 2>"$T/run.err" 3>&- || status=$?
    output=$(<"$T/run.out")
    read -d '' -r stderr <"$T/run.err" || true
    IFS=$'\n' read -d '' -r -a lines <<<"$output" || true
    IFS=$'\n' read -d '' -r -a stderr_lines <<<"$stderr" || true
}

# usage_contract PROG DEFAULT: $LAB/PROG prints its usage, naming the
# default DEFAULT (a path or port), on stdout for --help and -h (exit 0);
# an unknown option and an extra argument are usage errors: exit 2, one
# line saying what is wrong, then the usage, all on stderr.
usage_contract() {
    local prog=$1 default=$2
    run_split "$LAB/$prog" --help
    [ "$status" -eq 0 ] && [[ ${lines[0]} == "usage: $prog"* ]] && [ -z "$stderr" ] ||
        { echo "$prog --help: exit $status, stdout: $output, stderr: $stderr" >&2; return 1; }
    [[ $output == *"$default"* ]] || { echo "$prog --help does not name $default" >&2; return 1; }
    run_split "$LAB/$prog" -h
    [ "$status" -eq 0 ] || { echo "$prog -h: exit $status" >&2; return 1; }
    run_split "$LAB/$prog" -x
    [ "$status" -eq 2 ] && [ -z "$output" ] &&
        [ "${stderr_lines[0]}" = "$prog: unknown option '-x'" ] && [[ ${stderr_lines[1]} == "usage: $prog"* ]] ||
        { echo "$prog -x: exit $status, stdout: $output, stderr: $stderr" >&2; return 1; }
    note "$prog -x: exit 2, on stderr: ${stderr_lines[0]} / ${stderr_lines[1]}"
    run_split "$LAB/$prog" a b
    [ "$status" -eq 2 ] || { echo "$prog a b: exit $status" >&2; return 1; }
}

# count REGEX FILE: how many lines of FILE match the extended REGEX; 0 when
# none or no FILE. (A bare `n=$(grep -c ...)` aborts a bats test on 0.)
count() {
    local n
    n=$(grep -cE -- "$1" "$2" 2>/dev/null) || true
    echo "${n:-0}"
}

# matches_at_least REGEX FILE N: N lines of FILE or more match REGEX (a
# condition for wait_until: a narration line said N times).
matches_at_least() {
    (($(count "$1" "$2") >= $3))
}

# not COMMAND...: succeeds when COMMAND fails. A bare `! COMMAND` never
# fails a bats test: bash's errexit ignores negated commands.
not() {
    ! "$@"
}

# indent: the tours print programs' output indented under the explanation.
indent() {
    sed 's/^/    /'
}

# upcase: the reference protocol, for comparing a program's output.
upcase() {
    LC_ALL=C tr a-z A-Z
}

# Assertions that say what they saw. A bare `[ "$x" = 0 ]` that fails
# shows only its own source; these show the value beside the expected one,
# in words (tests/lint.sh refuses a bare [ or [[ line in a test).
#
#   [ -S "$SOCK" ] || fail "no socket file at $SOCK after bind()"
#   is "Send-Q" "${field[2]}" 0
#   expect_line "$T/server.err" 'accept\(\) = fd 5' "the server's accept()"

# fail MESSAGE...: fail the test, saying MESSAGE.
fail() {
    printf '%s\n' "$*" >&2
    return 1
}

# is WHAT SEEN EXPECTED: SEEN is EXPECTED, else the test fails with
# "WHAT: expected 'EXPECTED', saw 'SEEN'".
is() {
    [ "$2" = "$3" ] || fail "$1: expected '$3', saw '$2'"
}

# expect_line FILE REGEX WHAT: a line of FILE matches REGEX (has_line),
# else the test fails naming WHAT, the pattern and FILE's last lines.
expect_line() {
    has_line "$1" "$2" && return 0
    {
        echo "$3: no line of ${1##*/} matches /$2/; its last lines:"
        tail -n 10 "$1" 2>/dev/null | sed 's/^/    /'
    } >&2
    return 1
}

# leftovers TOKEN [VAR]: kill every live process (zombies aside) whose
# environment holds VAR=TOKEN (VAR: SOCKETS_RUN), whatever its uid: what a
# run left behind (tests/run.sh, check.sh and grade.sh give each run a
# token; mutants.sh gives each make check SOCKETS_MUTANT). Prints them,
# "PID USER ARGS" separated by "; ", and leaves their pids in LEFTOVERS
# (for a caller that does not run it in a subshell). The whole entry must
# match (grep -x): run-1-1 is not run-1-10, another file's run.
leftovers() {
    local pid state
    LEFTOVERS=()
    for pid in $(grep -lzxF "${2:-SOCKETS_RUN}=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
        read -r state 2>/dev/null <"/proc/$pid/stat" || continue
        state=${state##*) }
        [ "${state%% *}" = Z ] || LEFTOVERS+=("$pid")
    done
    [ "${#LEFTOVERS[@]}" -gt 0 ] || return 0
    ps -o pid=,user=,args= -p "$(IFS=,; echo "${LEFTOVERS[*]}")" 2>/dev/null | sed 's/^ *//' | tr -s ' ' | paste -sd ';' | sed 's/;/; /g'
    kill -KILL "${LEFTOVERS[@]}" 2>/dev/null
}
