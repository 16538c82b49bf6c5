#!/usr/bin/env bats
# Lab 10: two hosts on one machine. `hosts up` makes host a (10.0.0.1)
# and host b (10.0.0.2), two network namespaces joined by a veth pair; one
# server on host a listens on TCP and on a Unix socket at once, and the
# tests show where each kind of socket reaches from host b: TCP over the
# wire, a Unix path through the shared filesystem (not with -m, where b
# has a /tmp of its own), an abstract name not at all (it belongs to a's
# network namespace); then what changes off loopback (the MSS, ICMP's rate
# limit), the bind address, and the hosts script itself.
#
# Each topology lives in a mount namespace of the test's own with a tmpfs
# on /run (lib.bash, hosts_world), so the names a and b are the test's
# alone and go with it; as a normal user, in a user namespace too
# (unshare -r -n -m). The "[step N]" tests need no topology (steps 1 to 4
# are the server's, 5 and 6 the client's): each looks at its step's own
# call, with strace where the call is the point, on 127.0.0.1 and an
# abstract name of the test's own. Lab 09's sniff is the packet printer
# (lib.bash, peer_lab).

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup_file() {
    load lib
    peer_lab 09-raw-packets && export L09=$PEER || return 1
}

setup() {
    load lib
    lab_setup 10-two-hosts
    # hosts is a script, not one of the programs of the Makefile's all:
    # line: under make check (REF), LAB holds the two programs only, so
    # the script is the tree's own.
    case $TREE in /*) HOSTS=$TREE/10-two-hosts/hosts ;; *) HOSTS=$ROOT/$TREE/10-two-hosts/hosts ;; esac
    CLEAN=
}

teardown() {
    exec 5>&- 6>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    lab_teardown
    if [ -n "$CLEAN" ]; then rm -rf "$CLEAN"; fi
}

# ---- helpers --------------------------------------------------------------

# topology [-m]: hosts a and b (`hosts [-m] up`, at most WAIT_LIMIT
# seconds) in a world of the test's own (hosts_world: HW runs a command
# there). What hosts said is in $T/up.out.
topology() {
    local status=0
    hosts_world world || return 1
    timeout -k 1 "$WAIT_LIMIT" "${HW[@]}" "$HOSTS" "$@" up >"$T/up.out" 2>&1 || status=$?
    [ "$status" -eq 0 ] || fail "hosts $* up failed (exit $status$( ((status == 124)) && echo ": it hung")): $(cat "$T/up.out")"
}

# on HOST COMMAND...: COMMAND on host a or b (`hosts exec`).
on() {
    local host=$1
    shift
    "${HW[@]}" "$HOSTS" exec "$host" "$@"
}

# serve NAME HOST ARGS...: the lab's server with ARGS and port 0 on HOST,
# spawned as NAME, until its readiness line; fails, with what it said,
# when it exits instead. nsenter, hosts and ip netns exec each exec the
# next: PID (and SERVER_PID) is the server's own. READY: the line; PORT:
# its TCP port.
serve() {
    local name=$1 host=$2
    shift 2
    spawn "$name" "${HW[@]}" "$HOSTS" exec "$host" "$LAB/server" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$PID" "$name"
    read -r READY <"$T/$name.out" || fail "the server on host $host did not start: $(cat "$T/$name.err")"
    [[ $READY =~ ^listening\ on\ [^\ ]+:([0-9]+)( and |$) ]] || fail "the server's readiness line: '$READY'"
    PORT=${BASH_REMATCH[1]}
}

# client NAME HOST ARGS... [<input]: the lab's client (CLIENT, default
# $LAB/client) with ARGS on HOST (a, b; "here": this machine's network,
# for the steps' tests), to its end, at most WAIT_LIMIT seconds
# (a client that hangs ends with status 124); its output in $T/NAME.out
# and $T/NAME.err. STATUS, OUT (its standard output), ERROR (its last line
# that is not narration; empty when none).
client() {
    local name=$1 host=$2 line on=()
    shift 2
    [ "$host" = here ] || on=("${HW[@]}" "$HOSTS" exec "$host")
    STATUS=0
    timeout -k 2 "$WAIT_LIMIT" "${on[@]}" "${CLIENT:-$LAB/client}" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" 3>&- || STATUS=$?
    OUT=$(<"$T/$name.out")
    ERROR=
    while IFS= read -r line; do
        [[ $line == \[* ]] || ERROR=$line
    done <"$T/$name.err"
}

# said NAME REGEX: the last line of $T/NAME.err matching REGEX, as a note
# (the line itself, observed); fails, naming what NAME said, when none.
said() {
    last_match "$T/$1.err" "$2" || fail "$1 said no line matching /$2/; its last lines: $(tail -n 5 "$T/$1.err")"
    note "$1: $LINE"
}

# addrs: `ip -n a -br addr` and `ip -n b -br addr`, as notes.
addrs() {
    local h
    for h in a b; do
        note_lines "ip -n $h -br addr: " < <("${HW[@]}" ip -n "$h" -br addr)
    done
}

# here_server ARGS...: the server on this machine's network, port 0, for
# the steps' tests (no topology: one fork, not four). PORT.
here_server() {
    start_server "$@" 0 || fail "the server did not start"
    [[ $READY =~ ^listening\ on\ [^\ ]+:([0-9]+)( and |$) ]] || fail "the server's readiness line: '$READY'"
    PORT=${BASH_REMATCH[1]}
}


# traced NAME CALLS COMMAND...: COMMAND under strace, spawned as NAME, its
# CALLS (a strace -e trace= list) in $T/NAME.trace. PID is strace's.
traced() {
    local name=$1 calls=$2
    shift 2
    # (LeakSanitizer cannot run under ptrace: off here, for make SANITIZE=1)
    spawn "$name" env ASAN_OPTIONS=detect_leaks=0 strace -qq -o "$T/$name.trace" -e trace="$calls" "$@"
}

# strace_line NAME REGEX: the first line of $T/NAME.trace that matches
# REGEX, blanks squeezed, in CALL (empty when none).
strace_line() {
    local all line
    CALL=
    mapfile -t all <"$T/$1.trace"
    for line in "${all[@]}"; do
        while [[ $line == *"  "* ]]; do line=${line//  / }; done   # (no fork)
        [[ $line =~ $2 ]] && { CALL=$line; return 0; }
    done
    return 0
}

# abstract: NAME, an abstract name of this test's own ("lab10." and the
# test's number and shell pid): the steps' servers share the machine's
# network namespace with every other test.
abstract() {
    NAME=lab10.${BATS_TEST_NUMBER:-0}.$$
}

# ---- scope: what reaches host a from host b -------------------------------

@test "TCP from host b to 10.0.0.1:PORT on host a is served, accept() names 10.0.0.2; 127.0.0.1:PORT on host b is b's own loopback: refused" {
    topology
    addrs
    serve server a -b 10.0.0.1
    note "server on a: $READY"
    note_lines "ss -N a -tlnp: " < <("${HW[@]}" ss -N a -tlnpH)
    client b b "10.0.0.1:$PORT" <<<"hello from b"
    is "the client on b's exit status ($ERROR)" "$STATUS" 0
    is "the client on b's output" "$OUT" "HELLO FROM B"
    said b 'connect\('
    said server 'accept\('
    [[ $LINE =~ accept\(\)\ =\ fd\ [0-9]+\ from\ 10\.0\.0\.2:[0-9]+\ \ state= ]] ||
        fail "the server's accept() should name the client on host b, 10.0.0.2:PORT: $LINE"
    client lo b "127.0.0.1:$PORT" <<<"hello"
    note "client on b to 127.0.0.1:$PORT: exit $STATUS: $ERROR"
    is "the client on b to 127.0.0.1's exit status" "$STATUS" 1
    is "its error" "$ERROR" "client: connect 127.0.0.1:$PORT: Connection refused"
    alive "$SERVER_PID" || fail "the server on host a is gone: $(tail -n 3 "$T/server.err")"
}

@test "a Unix socket file on host a is reachable from host b: another network namespace, the same filesystem; ss -x in b does not list it; ss in a shows both listeners owned by the one server" {
    topology
    serve server a -b 10.0.0.1 -u "$T/x.sock"
    note "server on a: $READY"
    is "the readiness line" "$READY" "listening on 10.0.0.1:$PORT and $T/x.sock"
    local tcp unix
    tcp=$("${HW[@]}" ss -N a -tlpH "sport = :$PORT")
    unix=$("${HW[@]}" ss -N a -xlpH src "$T/x.sock")
    note "ss -N a -tlp: $(tr -s ' ' <<<"$tcp")"
    note "ss -N a -xlp: $(tr -s ' ' <<<"$unix")"
    [[ $tcp == *'users:(("server",pid='"$SERVER_PID"',fd=3))'* ]] ||
        fail "ss does not show the TCP listener as the server's (pid $SERVER_PID) fd 3: '$tcp'"
    [[ $unix == *'users:(("server",pid='"$SERVER_PID"',fd=4))'* ]] ||
        fail "ss does not show the Unix listener as the server's (pid $SERVER_PID) fd 4: '$unix'"
    rows=$("${HW[@]}" ss -N b -xlH src "$T/x.sock")
    note "ss -N b -xl src $T/x.sock: ${rows:-(no row)}"
    is "host b's listening Unix sockets named $T/x.sock" "$rows" ""
    client b b "unix:$T/x.sock" <<<"through the file"
    is "the client on b's exit status ($ERROR)" "$STATUS" 0
    is "the client on b's output" "$OUT" "THROUGH THE FILE"
    said b 'connect\('
    said server 'poll\(\)'
    expect_line "$T/server.err" '^\[server\] poll\(\) = 1: a connection waits on fd 4 \(unix\)$' "the server's poll(): the Unix listener ready"
    said server 'accept\('
    is "the server's accept()" "$LINE" "[server] accept() = fd 6 on $T/x.sock"
}

@test "hosts -m: host b has a /tmp of its own: a socket file under /tmp on host a is not there for b (ENOENT), a client on a is served" {
    topology -m
    dir=$(mktemp -d /tmp/lab10.XXXXXX)
    CLEAN=$dir
    serve server a -u "$dir/x.sock"
    note "server on a: $READY"
    [ -S "$dir/x.sock" ] || fail "no socket file at $dir/x.sock on this machine"
    seen=$(on b ls -A /tmp)
    note "ls -A /tmp on host b: ${seen:-(empty)}"
    is "host b's /tmp (a tmpfs of its own)" "$seen" ""
    # b sees none of this machine's /tmp, where the lab's programs may be
    # (tests/steps.sh builds skeletons there): b runs the client from a
    # descriptor opened here (/proc/self/fd, the file itself).
    exec 6<"$LAB/client"
    CLIENT=/proc/self/fd/6 client b b "unix:$dir/x.sock" <<<"hello"
    note "client on b: exit $STATUS: $ERROR"
    is "the client on b's exit status" "$STATUS" 1
    is "the client on b's error" "$ERROR" "client: connect $dir/x.sock: No such file or directory"
    exec 6<&-
    client a a "unix:$dir/x.sock" <<<"hello"
    is "the client on a's exit status ($ERROR)" "$STATUS" 0
    is "the client on a's output" "$OUT" "HELLO"
    said server 'accept\('
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    said server 'signal: '
    [ ! -e "$dir/x.sock" ] || fail "the server left its socket file $dir/x.sock"
}

@test "an abstract name is per network namespace: @name on host a is refused from host b, served on a; a second server on b binds the same @name at once" {
    topology
    serve server a -u @lab10
    note "server on a: $READY"
    client b b @lab10 <<<"hello"
    note "client on b to @lab10: exit $STATUS: $ERROR"
    is "the client on b's exit status" "$STATUS" 1
    is "the client on b's error" "$ERROR" "client: connect @lab10: Connection refused"
    client a a @lab10 <<<"hello"
    is "the client on a's exit status ($ERROR)" "$STATUS" 0
    is "the client on a's output" "$OUT" "HELLO"
    serve server2 b -u @lab10
    note "server on b: $READY"
    said server2 'bind\(@'
    for h in a b; do
        rows=$("${HW[@]}" ss -N "$h" -xlpH src @lab10)
        note "ss -N $h -xlp src @lab10: ${rows:-(no row)}"
        [[ $rows == *@lab10*'"server"'* ]] || fail "host $h should list a server's listener on @lab10: ${rows:-(no row)}"
    done
    client b2 b @lab10 <<<"on b"
    is "a client on b's output, from b's own @lab10" "$OUT" "ON B"
    said server2 'accept\('
}

# ---- what changes off loopback --------------------------------------------

# established_row: the `ss -N a -tinO` row (its TCP_INFO on the same
# line) of the server's established connection on host a (local port
# PORT), in ROW; fails while there is none. MSS and ADVMSS: its mss: (the
# segment size it sends, TCP_INFO's tcpi_snd_mss) and advmss: (what it
# announced, less the options every segment carries).
established_row() {
    ROW=$("${HW[@]}" ss -N a -tinOH state established "sport = :$PORT")
    [[ $ROW =~ [[:space:]]mss:([0-9]+) ]] || return 1
    MSS=${BASH_REMATCH[1]}
    [[ $ROW =~ [[:space:]]advmss:([0-9]+) ]] || return 1
    ADVMSS=${BASH_REMATCH[1]}
    SND_WND=?
    if [[ $ROW =~ [[:space:]]snd_wnd:([0-9]+) ]]; then SND_WND=${BASH_REMATCH[1]}; fi
}

@test "off loopback: a SYN over the veth announces MSS 1460 (MTU 1500), over lo 65495, and ss -ti shows the connection's mss (1448 on the veth: 1460 less the timestamps); sniff on veth-a prints each segment once, on lo it sees each twice" {
    topology
    serve server a -b 0.0.0.0
    note "server on a: $READY"
    for iface in veth-a lo; do
        spawn "sniff-$iface" "${HW[@]}" "$HOSTS" exec a "$L09/sniff" -i "$iface" -p "$PORT" -n 3
        SNIFF=$PID
        wait_until ready_or_dead "$SNIFF" "sniff-$iface"
        expect_line "$T/sniff-$iface.out" "^capturing on $iface\$" "sniff's readiness line"
        if [ "$iface" = lo ]; then
            host=a from=127.0.0.1 to=127.0.0.1 mss=65495
        else
            host=b from=10.0.0.2 to=10.0.0.1 mss=1460
        fi
        # The client's input held open: the connection stays up for ss.
        mkfifo "$T/c-$iface.in"
        exec 5<>"$T/c-$iface.in"
        spawn "c-$iface" "${HW[@]}" "$HOSTS" exec "$host" "$LAB/client" "$to:$PORT"
        CLIENT_PID=$PID
        wait_exit "$SNIFF" || fail "sniff -n 3 on $iface did not end; it printed: $(cat "$T/sniff-$iface.out")"
        mapfile -t -s 1 PACKETS <"$T/sniff-$iface.out"
        note_lines "sniff -i $iface: " < <(printf '%s\n' "${PACKETS[@]}")
        wait_until established_row || fail "ss -N a -ti shows no established connection on port $PORT with its mss: ${ROW:-(no row)}"
        # The MSS options as sniff printed them (checked below); both SYNs
        # with the timestamp option (TS): every segment carries its 12
        # bytes (RFC 7323), out of the MSS.
        re='<mss ([0-9]+)'   # (in a variable: < is plain there)
        [[ ${PACKETS[0]:-} =~ $re ]] && cmss=${BASH_REMATCH[1]} || fail "on $iface, no mss option in the client's SYN: ${PACKETS[0]:-(no line)}"
        [[ ${PACKETS[1]:-} =~ $re ]] && smss=${BASH_REMATCH[1]} || fail "on $iface, no mss option in the server's SYN,ACK: ${PACKETS[1]:-(no line)}"
        ts=0
        [[ ${PACKETS[0]:-} == *[\<,]TS[,\>]* && ${PACKETS[1]:-} == *[\<,]TS[,\>]* ]] && ts=12
        note "ss -N a -ti on $iface, the server's end: mss:$MSS advmss:$ADVMSS; the SYN announced mss $cmss, the SYN,ACK mss $smss$( ((ts)) && echo ", both with timestamps (12 bytes a segment)")"
        is "on $iface, the MSS the server announced in its SYN,ACK, less the options each segment carries (ss -ti advmss:)" "$ADVMSS" $((smss - ts))
        if [ "$iface" = lo ]; then
            # Linux sends no segment over half the largest window the peer
            # announced (tcp_bound_to_half_wnd): on lo that, not the MSS.
            if [ "$SND_WND" != "?" ] && ((MSS == SND_WND / 2)); then
                note "on lo, mss:$MSS is half snd_wnd:$SND_WND, the window the client announced"
            fi
            ((MSS <= ADVMSS)) || fail "on lo, the connection's mss ($MSS) should not exceed its advmss ($ADVMSS)"
        else
            is "on $iface, the size of the segments the server sends (ss -ti mss:): the smaller MSS less the options" "$MSS" $(((cmss < smss ? cmss : smss) - ts))
        fi
        echo hi >&5
        exec 5>&-
        wait_exit "$CLIENT_PID" || fail "the client on host $host did not end: $(tail -n 3 "$T/c-$iface.err")"
        is "the client's exit status ($(tail -n 1 "$T/c-$iface.err"))" "$STATUS" 0
        is "the client's output" "$(<"$T/c-$iface.out")" "HI"
        f=${from//./\\.} t=${to//./\\.}   # (regular expressions in variables: < and > are plain there)
        re="^[0-9.]+ $f:[0-9]+ > $t:$PORT TCP \\[SYN\\] .*<mss ${mss}[,>]"
        [[ ${PACKETS[0]:-} =~ $re ]] ||
            fail "on $iface, the client's SYN should announce mss $mss: ${PACKETS[0]:-(no line)}"
        re="^[0-9.]+ $t:$PORT > $f:[0-9]+ TCP \\[SYN,ACK\\] .*<mss ${mss}[,>]"
        [[ ${PACKETS[1]:-} =~ $re ]] ||
            fail "on $iface, the server's SYN,ACK should announce mss $mss: ${PACKETS[1]:-(no line)}"
        last_match "$T/sniff-$iface.err" '^\[sniff\] ([0-9]+) packets printed, .* ([0-9]+) seen twice' ||
            fail "sniff printed no summary: $(tail -n 2 "$T/sniff-$iface.err")"
        note "sniff -i $iface: $LINE"
        twice[${#twice[@]}]=${BASH_REMATCH[2]}
    done
    is "segments sniff saw twice on veth-a (each passes once: in, or out)" "${twice[0]}" 0
    is "segments sniff saw twice on lo (out, then in again), before its 3 lines" "${twice[1]}" 3
}

# snmp PID: the ICMP and UDP counters of PID's network namespace
# (/proc/PID/net/snmp, no fork): DEST (Icmp OutDestUnreachs), LIMITED
# (OutRateLimitHost + OutRateLimitGlobal, errors held back; RATELIMITS
# is 1 where the kernel counts them (newer kernels), else LIMITED
# stays 0) and NOPORTS (Udp NoPorts: datagrams to a closed port).
snmp() {
    local names vals icmp=() udp=() i
    DEST="" LIMITED=0 NOPORTS="" RATELIMITS=0
    while read -r -a names && read -r -a vals; do
        case ${names[0]} in Icmp:) icmp=("${names[@]}" / "${vals[@]}") ;; Udp:) udp=("${names[@]}" / "${vals[@]}") ;; esac
    done <"/proc/$1/net/snmp"
    for ((i = 1; i < ${#icmp[@]} / 2; i++)); do
        case ${icmp[i]} in
        OutDestUnreachs) DEST=${icmp[i + ${#icmp[@]} / 2 + 1]} ;;
        OutRateLimitHost | OutRateLimitGlobal) LIMITED=$((LIMITED + icmp[i + ${#icmp[@]} / 2 + 1])) RATELIMITS=1 ;;
        esac
    done
    for ((i = 1; i < ${#udp[@]} / 2; i++)); do
        [ "${udp[i]}" = NoPorts ] && NOPORTS=${udp[i + ${#udp[@]} / 2 + 1]}
    done
    test -n "$DEST" && test -n "$NOPORTS"
}


# burst_done N: host a's kernel has taken N more datagrams to its closed
# port than at the start (NOPORTS0), and decided on each one's ICMP error:
# sent or held back by the rate limit (where it counts those: else the
# datagrams only).
burst_done() {
    snmp "$SNIFF" || return 1
    ((NOPORTS - NOPORTS0 >= $1 && (!RATELIMITS || DEST - DEST0 + LIMITED - LIMITED0 >= $1)))
}

# lo_done N: N more datagrams to the closed port, and N more errors sent.
lo_done() {
    snmp "$SNIFF" || return 1
    ((NOPORTS - NOPORTS0 >= $1 && DEST - DEST0 >= $1))
}

# sniffed_all N: sniff has printed N datagrams and each ICMP error that
# host a's counters say went out (VETH of them).
sniffed_all() {
    snmp "$SNIFF" || return 1
    VETH=$((DEST - DEST0))
    lines_at_least "$T/sniff.out" $((1 + $1 + VETH))
}

@test "ICMP errors are rate-limited off loopback: 20 datagrams from host b to a closed port on a bring back fewer than 20 port unreachables; on lo, 20" {
    topology
    # Port 9 (discard) on host a: a network namespace of the test's own,
    # where nobody listens. bash's /dev/udp sends each datagram with no fork.
    spawn sniff "${HW[@]}" "$HOSTS" exec a "$L09/sniff" -i veth-a -p 9
    SNIFF=$PID
    wait_until ready_or_dead "$SNIFF" sniff
    expect_line "$T/sniff.out" '^capturing on veth-a$' "sniff's readiness line"
    snmp "$SNIFF" || fail "no Icmp OutDestUnreachs or Udp NoPorts in /proc/$SNIFF/net/snmp"
    NOPORTS0=$NOPORTS DEST0=$DEST LIMITED0=$LIMITED
    on b bash -c 'for ((i = 0; i < 20; i++)); do printf x >/dev/udp/10.0.0.1/9; done' ||
        fail "bash on host b could not send to /dev/udp/10.0.0.1/9"
    wait_until burst_done 20 ||
        fail "host a's counters: Udp NoPorts +$((NOPORTS - NOPORTS0)), Icmp OutDestUnreachs +$((DEST - DEST0)), rate-limited +$((LIMITED - LIMITED0)), not 20"
    # sniff prints each datagram as it comes in, each error as it goes out.
    wait_until sniffed_all 20 ||
        fail "sniff printed $(count '^[0-9.]+ ' "$T/sniff.out") packet lines, not 20 datagrams and $VETH errors"
    veth=$VETH
    note_lines "sniff -i veth-a: " < <(grep -m 1 ' UDP ' "$T/sniff.out"; grep -m 1 'ICMP' "$T/sniff.out")
    errors=$(count 'ICMP port unreachable for UDP' "$T/sniff.out")
    note "veth: 20 datagrams in, $errors ICMP port unreachable out (sniff), Icmp OutDestUnreachs +$veth, rate-limited +$((LIMITED - LIMITED0))"
    is "the ICMP errors sniff saw leave veth-a, and the counter's" "$errors" "$veth"
    ((veth >= 1 && veth < 20)) || fail "off loopback, 20 datagrams should bring back some ICMP errors but fewer than 20 (icmp_ratelimit): $veth"

    # The same burst on host a's loopback, which the rate limit spares
    # (sniff, on veth-a, stays: its /proc/PID/net is host a's).
    NOPORTS0=$NOPORTS DEST0=$DEST LIMITED0=$LIMITED
    on a bash -c 'for ((i = 0; i < 20; i++)); do printf x >/dev/udp/127.0.0.1/9; done' ||
        fail "bash on host a could not send to /dev/udp/127.0.0.1/9"
    wait_until lo_done 20 ||
        fail "host a's counters: Udp NoPorts +$((NOPORTS - NOPORTS0)), Icmp OutDestUnreachs +$((DEST - DEST0)), not 20"
    note "lo: 20 datagrams, Icmp OutDestUnreachs +$((DEST - DEST0)), rate-limited +$((LIMITED - LIMITED0))"
    is "ICMP errors for 20 datagrams on lo" "$((DEST - DEST0))" 20
}

# ---- the bind address --------------------------------------------------------

@test "the bind address: a server on 127.0.0.1 on host a is refused from host b; on 10.0.0.1 and on 0.0.0.0 it is served" {
    topology
    for addr in 127.0.0.1 10.0.0.1 0.0.0.0; do
        serve "server-$addr" a -b "$addr"
        client "b-$addr" b "10.0.0.1:$PORT" <<<"to $addr"
        note "server on a: $READY; client on b to 10.0.0.1:$PORT: exit $STATUS, ${ERROR:-$OUT}"
        if [ "$addr" = 127.0.0.1 ]; then
            is "the client's exit status, the server on 127.0.0.1" "$STATUS" 1
            is "the client's error" "$ERROR" "client: connect 10.0.0.1:$PORT: Connection refused"
        else
            is "the client's exit status, the server on $addr ($ERROR)" "$STATUS" 0
            is "the client's output" "$OUT" "TO $addr"
            said "server-$addr" 'accept\('
        fi
        kill -TERM "$SERVER_PID"
        wait_exit "$SERVER_PID"
    done
}

# ---- the hosts script -----------------------------------------------------

# hosts_run ARGS...: hosts ARGS in the world, to its end: STATUS, and its
# output (both streams) in OUT.
hosts_run() {
    STATUS=0
    OUT=$("${HW[@]}" "$HOSTS" "$@" 2>&1) || STATUS=$?
}

# world_state: what is up in the world: NETNS, `ip netns list` on one
# line; RUNHOSTS, the files of /run/hosts ("" when there is none); WORLD,
# both. (Not the addresses: an IPv6 link-local one may come meanwhile.)
world_state() {
    NETNS=$("${HW[@]}" ip netns list | paste -sd ' ')
    RUNHOSTS=$("${HW[@]}" sh -c 'ls /run/hosts 2>/dev/null' | paste -sd ' ')
    WORLD="netns: $NETNS; /run/hosts: $RUNHOSTS"
}

@test "hosts: down with nothing up exits 1; up twice: the second says already up, exits 1 and changes nothing; down removes everything" {
    hosts_world world
    hosts_run down
    note "hosts down, nothing up: exit $STATUS: $OUT"
    is "hosts down with nothing up: exit status" "$STATUS" 1
    is "hosts down with nothing up: what it says" "$OUT" "hosts: nothing is up"
    hosts_run up
    is "hosts up: exit status ($OUT)" "$STATUS" 0
    note_lines "hosts up: " <<<"$OUT"
    world_state
    before=$WORLD
    note "after up: $before"
    hosts_run up
    note "hosts up again: exit $STATUS: $OUT"
    is "hosts up again: exit status" "$STATUS" 1
    is "hosts up again: what it says" "$OUT" "hosts: already up (hosts down first)"
    world_state
    is "what is up after the second up" "$WORLD" "$before"
    hosts_run down
    note_lines "hosts down: " <<<"$OUT"
    is "hosts down: exit status" "$STATUS" 0
    world_state
    note "after down: $WORLD"
    [[ " $NETNS " != *" a "* && " $NETNS " != *" b "* ]] || fail "after down, ip netns list still shows a or b: $NETNS"
    "${HW[@]}" test ! -e /run/hosts || fail "after down, /run/hosts is still there: $RUNHOSTS"
    hosts_run exec a true
    note "hosts exec a true, after down: exit $STATUS: $OUT"
    is "hosts exec after down: exit status" "$STATUS" 1
}

@test "hosts: up that fails half way (ip link add refused) removes what it made, newest first; a namespace b that was there before is refused and left alone" {
    hosts_world world
    # An ip that refuses to make the cable, after the two namespaces.
    mkdir "$T/bin"
    printf '#!/bin/sh\ncase "$*" in *"link add"*) echo "ip: link add refused (the test)" >&2; exit 2 ;; esac\nexec %s "$@"\n' \
        "$(command -v ip)" >"$T/bin/ip"
    chmod +x "$T/bin/ip"
    STATUS=0
    OUT=$("${HW[@]}" env PATH="$T/bin:$PATH" "$HOSTS" up 2>&1) || STATUS=$?
    note_lines "hosts up, ip link add refused: " <<<"$OUT"
    is "hosts up, failing half way: exit status" "$STATUS" 1
    [[ $OUT == *"hosts: ip netns add b"*"hosts: up failed half way; removing what it made"*"hosts: ip netns delete b"*"hosts: ip netns delete a"* ]] ||
        fail "hosts should make a and b, fail, then delete b and a, newest first; it said: $OUT"
    world_state
    note "after the failure: $WORLD"
    [[ " $NETNS " != *" a "* && " $NETNS " != *" b "* ]] || fail "after the failure, ip netns list still shows a or b: $NETNS"
    "${HW[@]}" test ! -e /run/hosts || fail "after the failure, /run/hosts is still there: $RUNHOSTS"
    hosts_run up
    is "hosts up after the failure: exit status ($OUT)" "$STATUS" 0
    hosts_run down
    is "hosts down: exit status ($OUT)" "$STATUS" 0

    # As root hosts shares the machine's /run/netns (here, the world's):
    # a b it did not make stops it before it makes anything. (A normal
    # user's hosts has a /run of its own: nothing there to collide with.)
    [ "$EUID" -eq 0 ] || return 0
    "${HW[@]}" ip netns add b || fail "ip netns add b failed"
    hosts_run up
    note "hosts up, a namespace b there before: exit $STATUS: $(paste -sd '|' <<<"$OUT")"
    is "hosts up with a b there before: exit status" "$STATUS" 1
    [[ $OUT == *"hosts: a network namespace 'b' exists, not made by hosts: left alone"* ]] ||
        fail "hosts should say that b exists and is left alone: $OUT"
    world_state
    note "after it: $WORLD"
    is "what is left: the b made before, nothing of hosts'" "$WORLD" "netns: b; /run/hosts: "
}

# ---- steps ------------------------------------------------------------------

@test "[step 1] the TCP listener: socket(AF_INET, SOCK_STREAM), SO_REUSEADDR, bind(127.0.0.1:PORT), listen(): ss -tln shows it LISTEN, backlog 16" {
    here_server
    note_lines "" < <(grep -E '^\[server\] (socket|setsockopt|bind|listen)|^server: ' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] socket\(AF_INET, SOCK_STREAM\) = fd 3  state=CLOSE$' "the server's socket()"
    expect_line "$T/server.err" '^\[server\] setsockopt\(SO_REUSEADDR, 1\) = 0$' "the server's setsockopt(SO_REUSEADDR)"
    expect_line "$T/server.err" "^\\[server\\] bind\\(127\\.0\\.0\\.1:$PORT\\) = 0  state=CLOSE\$" "the server's bind()"
    expect_line "$T/server.err" '^\[server\] listen\(backlog=16\) = 0  state=LISTEN$' "the server's listen()"
    row=$(ss -tlnH "sport = :$PORT")
    note "ss -tln sport = :$PORT: $row"
    read -ra field <<<"$row"
    is "ss -tln's row (state, Send-Q = backlog, address)" "${field[0]:-} ${field[2]:-} ${field[3]:-}" "LISTEN 16 127.0.0.1:$PORT"
}

@test "[step 1] -b ::1: the TCP listener takes getaddrinfo's family and length: socket(AF_INET6, SOCK_STREAM), bind([::1]:PORT)" {
    need_ipv6
    here_server -b ::1
    note_lines "" < <(grep -E '^\[server\] (socket|bind)|^server: ' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] socket\(AF_INET6, SOCK_STREAM\) = fd 3  state=CLOSE$' "the server's socket() with -b ::1 (res->ai_family)"
    expect_line "$T/server.err" "^\\[server\\] bind\\(\\[::1\\]:$PORT\\) = 0  state=CLOSE\$" "the server's bind() with -b ::1 (28 bytes: res->ai_addrlen)"
    is "the readiness line" "$READY" "listening on [::1]:$PORT"
    row=$(ss -tlnH "sport = :$PORT")
    note "ss -tln sport = :$PORT: $row"
    read -ra field <<<"$row"
    is "ss -tln's row (state, Send-Q = backlog, address)" "${field[0]:-} ${field[2]:-} ${field[3]:-}" "LISTEN 16 [::1]:$PORT"
}

@test "[step 2] an abstract name: strace sees bind(fd, {AF_UNIX, sun_path=@\"NAME\"}, 2 + 1 + its length): no file, no NUL at its end; ss -xl lists @NAME" {
    abstract
    traced server bind "$LAB/server" -u "@$NAME" 0
    wait_until ready_or_dead "$PID" server
    strace_line server '^bind\([0-9]+, \{sa_family=AF_UNIX'
    note "strace: ${CALL:-no bind() of a Unix address}"
    len=$((2 + 1 + ${#NAME}))
    [[ $CALL =~ ^bind\(4,\ \{sa_family=AF_UNIX,\ sun_path=@\"$NAME\"\},\ $len\)\ =\ 0$ ]] ||
        fail "the Unix listener's bind() should be bind(4, {sa_family=AF_UNIX, sun_path=@\"$NAME\"}, $len) = 0 (offsetof sun_path 2, the NUL, then the name's ${#NAME} bytes); strace saw: ${CALL:-no such call}"
    said server '^\[server\] bind\(@|^server: '
    is "the server's narration of bind()" "$LINE" "[server] bind(@$NAME) = 0"
    row=$(ss -xlH src "@$NAME")
    note "ss -xl src @$NAME: $row"
    [[ $row == *"@$NAME "* ]] || fail "ss -xl lists no listener @$NAME: ${row:-(no row)}"
}

@test "[step 3] poll() on both listeners: strace sees poll([{fd=3, POLLIN}, {fd=4, POLLIN}], 2, -1) return 1 with fd 4 ready when a Unix client comes" {
    # Only the client's arrival is needed, not its reply: what the server
    # does next is step 4's (a wrong accept() leaves the client waiting).
    abstract
    traced server poll,ppoll "$LAB/server" -u "@$NAME" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$PID" server
    [ -s "$T/server.out" ] || fail "the server did not start: $(cat "$T/server.err")"
    spawn c "$LAB/client" "@$NAME"
    wait_until said_or_gone "$SERVER_PID" "$T/server.trace" 'poll\(.* = '
    strace_line server 'poll\('
    note "strace: ${CALL:-no poll() call}"
    [[ $CALL =~ ^p?poll\(\[\{fd=3,\ events=POLLIN\},\ \{fd=4,\ events=POLLIN\}\],\ 2,\ (-1|NULL,\ NULL,\ 0)\)\ =\ 1\ \(\[\{fd=4,\ revents=POLLIN\}\]\)$ ]] ||
        fail "the server should poll() its two listeners, fd 3 (TCP) and fd 4 (Unix), for POLLIN with no timeout, and learn that fd 4 is ready; strace saw: ${CALL:-no such call}"
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'poll\(\)|^server: '
    said server '^\[server\] poll\(\)'
    is "the server's narration of poll()" "$LINE" "[server] poll() = 1: a connection waits on fd 4 (unix)"
}

@test "[step 4] accept() on the listener that is ready: strace sees accept(4) for a Unix client, then accept(3) for a TCP one, each served" {
    abstract
    traced server accept,accept4 "$LAB/server" -u "@$NAME" 0
    wait_until ready_or_dead "$PID" server
    read -r READY <"$T/server.out" || fail "the server did not start: $(cat "$T/server.err")"
    PORT=${READY#listening on 127.0.0.1:}
    PORT=${PORT%% *}
    # A server that accepts on the wrong listener never takes this client.
    WAIT_LIMIT=5 client unix here "@$NAME" <<<"by name"
    is "the Unix client's exit status ($ERROR)" "$STATUS" 0
    is "the Unix client's output" "$OUT" "BY NAME"
    WAIT_LIMIT=5 client tcp here "127.0.0.1:$PORT" <<<"by port"
    is "the TCP client's output ($ERROR)" "$OUT" "BY PORT"
    note_lines "strace: " < <(tr -s ' ' <"$T/server.trace")
    strace_line server '^accept4?\(4,'
    [[ $CALL =~ ^accept4?\(4,\ \{sa_family=AF_UNIX\},\ \[[0-9]+\ =\>\ 2\](,\ 0)?\)\ =\ 5$ ]] ||
        fail "the Unix client should be taken with accept(4, ...) = 5, the address of an unnamed client (2 bytes, its family) filled in; strace saw: ${CALL:-no accept() on fd 4}"
    strace_line server '^accept4?\(3,'
    [[ $CALL =~ ^accept4?\(3,\ \{sa_family=AF_INET,\ sin_port=htons\([0-9]+\),\ sin_addr=inet_addr\(\"127\.0\.0\.1\"\)\},\ \[[0-9]+\ =\>\ 16\](,\ 0)?\)\ =\ 5$ ]] ||
        fail "the TCP client should be taken with accept(3, ...) = 5, its address (16 bytes) filled in; strace saw: ${CALL:-no accept() on fd 3}"
    note_lines "" < <(grep -E '^\[server\] accept' "$T/server.err")
    expect_line "$T/server.err" "^\\[server\\] accept\\(\\) = fd 5 on @$NAME\$" "the server's accept() of the Unix client"
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd 5 from 127\.0\.0\.1:[0-9]+  state=[A-Z_0-9]+$' "the server's accept() of the TCP client"
}

@test "[step 5] the client's abstract address: strace sees connect(3, {AF_UNIX, sun_path=@\"NAME\"}, 2 + 1 + its length)" {
    # A name of 13 bytes: its address is 16 bytes long, sizeof(struct
    # sockaddr), so that a length wrong in step 6 (sizeof to.sa) shows in
    # step 6's tests, not here; and any result of connect() will do: the
    # socket is step 6's too. Its shell's pid makes it the test's own.
    printf -v NAME 'l10.%09d' "$$"
    here_server -u "@$NAME"
    STATUS=0
    ASAN_OPTIONS=detect_leaks=0 timeout -k 2 "$WAIT_LIMIT" strace -qq -o "$T/c.trace" -e trace=connect \
        "$LAB/client" "@$NAME" <<<"abstract" >"$T/c.out" 2>"$T/c.err" 3>&- || STATUS=$?
    strace_line c '^connect\('
    note "strace: ${CALL:-no connect() call}"
    len=$((2 + 1 + ${#NAME}))
    [[ $CALL =~ ^connect\([0-9]+,\ \{sa_family=AF_UNIX,\ sun_path=@\"$NAME\"\},\ $len\)\ = ]] ||
        fail "the client should connect(fd, {sa_family=AF_UNIX, sun_path=@\"$NAME\"}, $len) (offsetof sun_path 2, the NUL, then the name's ${#NAME} bytes); strace saw: ${CALL:-no such call}; it said: $(tail -n 1 "$T/c.err")"
    note "the client: exit $STATUS, $(<"$T/c.out")"
}

@test "[step 6] the client's socket() and connect(): AF_INET to 127.0.0.1:PORT (ESTABLISHED), AF_UNIX to unix:PATH; both served" {
    here_server -u "$T/x.sock"
    client tcp here "127.0.0.1:$PORT" <<<"over tcp"
    note_lines "" < <(grep -E '^\[client\] (socket|connect)|^client: ' "$T/tcp.err")
    expect_line "$T/tcp.err" '^\[client\] socket\(AF_INET, SOCK_STREAM\) = fd 3  state=CLOSE$' "the client's socket() for 127.0.0.1:PORT"
    expect_line "$T/tcp.err" "^\\[client\\] connect\\(127\\.0\\.0\\.1:$PORT\\) = 0  state=ESTABLISHED\$" "the client's connect() to 127.0.0.1:$PORT"
    is "the TCP client's output" "$OUT" "OVER TCP"
    client unix here "unix:$T/x.sock" <<<"over unix"
    note_lines "" < <(grep -E '^\[client\] (socket|connect)|^client: ' "$T/unix.err")
    expect_line "$T/unix.err" '^\[client\] socket\(AF_UNIX, SOCK_STREAM\) = fd 3$' "the client's socket() for unix:PATH"
    expect_line "$T/unix.err" "^\\[client\\] connect\\(\"${T//./\\.}/x\\.sock\"\\) = 0\$" "the client's connect() to the socket file"
    is "the Unix client's output" "$OUT" "OVER UNIX"
}

@test "[step 6] IPv6: client [::1]:PORT makes an AF_INET6 socket and connects with the whole sockaddr_in6 (28 bytes)" {
    need_ipv6
    here_server -b ::1
    client v6 here "[::1]:$PORT" <<<"over ipv6"
    note_lines "" < <(grep -E '^\[client\] (socket|connect)|^client: ' "$T/v6.err")
    expect_line "$T/v6.err" '^\[client\] socket\(AF_INET6, SOCK_STREAM\) = fd 3  state=CLOSE$' "the client's socket() for [::1]:PORT"
    expect_line "$T/v6.err" "^\\[client\\] connect\\(\\[::1\\]:$PORT\\) = 0  state=ESTABLISHED\$" "the client's connect() to [::1]:$PORT"
    is "the IPv6 client's output" "$OUT" "OVER IPV6"
}

# ---- extras -------------------------------------------------------------------

@test "[extra 1] server -c: SO_PEERCRED names a Unix client on host b by its pid on this machine (one kernel); a TCP client from b has only its address" {
    topology
    serve server a -c -b 10.0.0.1 -u "$T/x.sock"
    mkfifo "$T/peer.in"
    exec 5<>"$T/peer.in"
    spawn peer "${HW[@]}" "$HOSTS" exec b "$LAB/client" "unix:$T/x.sock"
    PEER=$PID
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'SO_PEERCRED|^server: '
    said server 'SO_PEERCRED'
    [[ $LINE =~ ^\[server\]\ getsockopt\(SO_PEERCRED\)\ =\ pid\ ([0-9]+)\ uid\ [0-9]+\ gid\ [0-9]+$ ]] ||
        fail "the server should narrate getsockopt(SO_PEERCRED) = pid N uid U gid G: $LINE"
    note "the client on host b, as this machine sees it: pid $PEER, $(tr '\0' ' ' </proc/"$PEER"/cmdline)"
    is "the pid SO_PEERCRED gives, the client's on host b" "${BASH_REMATCH[1]}" "$PEER"
    echo "who" >&5
    exec 5>&-
    wait_exit "$PEER"
    is "the Unix client's output" "$(<"$T/peer.out")" "WHO"
    client tcp b "10.0.0.1:$PORT" <<<"tcp"
    is "the TCP client's output ($ERROR)" "$OUT" "TCP"
    said server '^\[server\] -c: '
    [[ $LINE =~ ^\[server\]\ -c:\ a\ TCP\ peer\ has\ no\ credentials,\ only\ its\ address\ 10\.0\.0\.2:[0-9]+$ ]] ||
        fail "for a TCP client the server should say it has only the address 10.0.0.2:PORT: $LINE"
}

@test "[extra 2] client -b SRCADDR: on host a, -b 127.0.0.1 to 10.0.0.1:PORT, the server sees 127.0.0.1 as the source; -b 10.0.0.2 (host b's) fails: EADDRNOTAVAIL, exit 1" {
    topology
    serve server a -b 0.0.0.0
    client src a -b 127.0.0.1 "10.0.0.1:$PORT" <<<"from lo"
    is "client -b 127.0.0.1's exit status ($ERROR)" "$STATUS" 0
    is "client -b 127.0.0.1's output" "$OUT" "FROM LO"
    said src '^\[client\] bind\('
    is "the client's bind()" "$LINE" "[client] bind(127.0.0.1:0) = 0"
    said server 'accept\('
    [[ $LINE =~ accept\(\)\ =\ fd\ [0-9]+\ from\ 127\.0\.0\.1:[0-9]+\ \  ]] ||
        fail "the server's accept() should name the source the client chose, 127.0.0.1: $LINE"
    client other a -b 10.0.0.2 "10.0.0.1:$PORT" <<<"from b's address"
    note "client -b 10.0.0.2 on host a: exit $STATUS: $ERROR"
    is "client -b 10.0.0.2 on host a: exit status" "$STATUS" 1
    is "its error" "$ERROR" "client: bind 10.0.0.2: Cannot assign requested address"
}
