#!/usr/bin/env bats
# Lab 05: TCP. getaddrinfo, SO_REUSEADDR, socket/bind/listen/accept/connect,
# IPv4 and IPv6, and the handshake's states as ss shows them. Every server
# binds port 0 (any free port) and ss is filtered by that port, so the
# tests can run in parallel. Two scenarios run in a private network
# namespace (a link of their own, a tc queue on its loopback): as root only.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 05-tcp
}

teardown() {
    exec 5>&- 2>/dev/null || true
    lab_teardown
}

# NSX: the prefix that runs a command in this test's network namespace
# (netns_setup); empty: the machine's own network.
NSX=()

# ns_server ARGS...: the server in the namespace on port 0 (`ip netns exec`
# execs it: the pid spawn records is the server's own). Sets P and READY.
ns_server() {
    spawn server "${NSX[@]}" "$LAB/server" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    [ -s "$T/server.out" ] || { cat "$T/server.err" >&2; return 1; }
    read -r READY <"$T/server.out"
    P=${READY##*:}
}

# need_ipv6: skip the test when this machine has no IPv6 loopback ::1.
need_ipv6() {
    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null ||
        skip "no IPv6 loopback address ::1 on this machine (/proc/net/if_inet6)"
}

# server ARGS...: start the server on port 0 with ARGS; P is its port.
server() {
    start_server "$@" 0 || return 1
    P=${READY##*:}
}

# rows PORT: ss's rows (no header) of every TCP socket on PORT, either end.
rows() {
    ss -tanH "( sport = :$1 or dport = :$1 )"
}

# has_state STATE LOCAL|PEER PORT: some row is in STATE (ss's name) with
# PORT as its local (or peer) port. ROW is the first such row.
has_state() {
    local all row field col=3
    [ "$2" = PEER ] && col=4
    all=$(ss -tanH "( sport = :$3 or dport = :$3 )")   # rows "$3", with one fork
    ROW=
    while IFS= read -r row; do
        read -ra field <<<"$row"     # State Recv-Q Send-Q Local Peer...
        if [ "${field[0]}" = "$1" ] && [[ ${field[col]} == *":$3" ]]; then
            ROW=$row
            break
        fi
    done <<<"$all"
    [ -n "$ROW" ]
}

# queued PORT N: the listener on PORT has N connections waiting to be
# accepted (its Recv-Q). LISTENER is its ss row.
queued() {
    local field
    LISTENER=$(ss -tlnH "sport = :$1")
    read -ra field <<<"$LISTENER"
    [ "${field[1]}" = "$2" ]
}

# syn_retried PORT: a SYN-SENT socket to PORT has retransmitted its SYN at
# least once, as ss -o shows: timer:(on,TIME,RETRIES). TIMER_ROW is its row.
syn_retried() {
    TIMER_ROW=$(ss -tanoH state syn-sent "( dport = :$1 )")
    [[ $TIMER_ROW =~ timer:\(on,[^,]+,[1-9][0-9]*\) ]]
}

# session NAME: spawn a client NAME connected to port P, its stdin a FIFO
# held open on fd 5 (nothing sent yet, no EOF). Sets CLIENT_PID.
session() {
    mkfifo "$T/$1.in"
    exec 5<>"$T/$1.in"
    spawn "$1" "$LAB/client" 127.0.0.1 "$P"
    CLIENT_PID=$PID
}

@test "[step 4] listen(): ss -tln shows the socket LISTEN on its port, the backlog as Send-Q" {
    server
    [[ $READY == "listening on 127.0.0.1:"[0-9]* ]]
    row=$(ss -tlnH "sport = :$P")
    note "readiness line: $READY"
    note "ss -tln sport = :$P:  $row"
    read -ra field <<<"$row"   # State Recv-Q Send-Q Local...
    [ "${field[0]} ${field[2]} ${field[3]}" = "LISTEN 16 127.0.0.1:$P" ]
    last_match "$T/server.err" 'listen\('
    note "narration: $LINE"
    has_line "$T/server.err" '^\[server\] listen\(backlog=16\) = 0  state=LISTEN$'
}

@test "[step 5] during a session both ends are ESTAB, and TCP_INFO says ESTABLISHED" {
    server
    session client
    wait_until has_line "$T/server.err" 'accept\(\) = fd'
    has_state ESTAB LOCAL "$P"
    note "server end: $ROW"
    has_state ESTAB PEER "$P"
    note "client end: $ROW"
    note_lines "" < <(grep -hE 'connect\(|accept\(' "$T/client.err" "$T/server.err")
    has_line "$T/client.err" '^\[client\] connect\(127\.0\.0\.1:[0-9]+\) = 0  state=ESTABLISHED$'
    has_line "$T/server.err" '^\[server\] accept\(\) = fd [0-9]+ from 127\.0\.0\.1:[0-9]+  state=ESTABLISHED$'
    echo "goodbye" >&5
    exec 5>&-
    wait_exit "$CLIENT_PID"
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/client.out")" = "GOODBYE" ]
}

@test "[step 4] backlog 0, one connection not accepted: the queue is full, a second client stays in SYN-SENT" {
    server -q 0 -A
    session first
    wait_until has_line "$T/first.err" 'connect\(.*\) = 0'
    wait_until has_state ESTAB PEER "$P"
    note "first client:  $ROW"
    last_match "$T/first.err" 'connect\('
    note "  it said: $LINE"
    # Its handshake is complete once the listener has queued it.
    wait_until queued "$P" 1
    note "listener:      $LISTENER   (Recv-Q 1 queued, Send-Q backlog 0)"
    read -ra field <<<"$LISTENER"
    [ "${field[2]}" = 0 ]   # Send-Q
    # The queue is full: the kernel drops this client's SYN and the client
    # retransmits it a second later, and again, up to tcp_syn_retries
    # times (tcp(7)); meanwhile its connect() stays blocked.
    spawn second "$LAB/client" 127.0.0.1 "$P"
    wait_until has_state SYN-SENT PEER "$P"
    note "second client: $ROW"
    wait_until has_line "$T/second.err" 'socket\('
    seen=$ROW
    mapfile -t said <"$T/second.err"
    note "  it said: ${said[-1]}   (no connect() line: still in progress)"
    not has_line "$T/second.err" 'connect\('
    # Not a passing glimpse (on loopback an accepted SYN is answered in
    # microseconds): a second look finds the same socket still waiting.
    has_state SYN-SENT PEER "$P"
    [ "$ROW" = "$seen" ]
    queued "$P" 1
    # Dropped and retried: the retransmission timer (ss -o) counts the SYNs
    # sent again; the first goes after the initial RTO of 1 s (RFC 6298).
    wait_until syn_retried "$P"
    note "  ss -tano, a moment later: SYN-SENT ${TIMER_ROW##* }   (timer: on, time left, retries)"
}

@test "[step 5] TCP_DEFER_ACCEPT: the server end stays SYN-RECV while the client is ESTABLISHED, until data" {
    server -d 30
    session client
    wait_until has_line "$T/client.err" 'connect\(.*\) = 0'
    last_match "$T/client.err" 'connect\('
    line=$LINE
    note "client: $line"
    [[ $line == *") = 0  state=ESTABLISHED" ]]
    wait_until has_state SYN-RECV LOCAL "$P"
    note "server end: $ROW"
    has_state ESTAB PEER "$P"
    note "client end: $ROW"
    not has_line "$T/server.err" 'accept\(\)'
    echo "deferred" >&5
    wait_until has_line "$T/server.err" 'write\(\) = '
    note_lines "after the first data: " < <(grep -E 'accept|read|write' "$T/server.err")
    has_state ESTAB LOCAL "$P"
    note "server end: $ROW"
    exec 5>&-
    wait_exit "$CLIENT_PID"
    [ "$(<"$T/client.out")" = "DEFERRED" ]
}

@test "[step 7] a byte stream: 16 MiB of random bytes round-trip intact; reads do not match writes" {
    server
    BIG=1   # lab_teardown removes the 16 MiB files at once
    head -c 16777216 /dev/urandom >"$T/in"
    "$LAB/client" 127.0.0.1 "$P" <"$T/in" >"$T/out" 2>"$T/client.err"
    upcase <"$T/in" | cmp - "$T/out"
    mapfile -t writes < <(sed -nE 's/^\[client\] write\(\) = ([0-9]+) bytes.*/\1/p' "$T/client.err")
    mapfile -t reads < <(sed -nE 's/^\[server\] read\(\) = ([0-9]+) bytes.*/\1/p' "$T/server.err")
    note "client: ${#writes[@]} write() calls: ${writes[*]:0:8}..."
    note "server: ${#reads[@]} read() calls:  ${reads[*]:0:8}..."
    note "output identical to tr a-z A-Z of the input"
    # TCP keeps no boundaries: the reads split the writes at other places,
    # and a read that is neither a whole write nor a whole 64 KiB buffer
    # shows it (the last read aside, it could be a remainder).
    odd=0
    for n in "${reads[@]:0:${#reads[@]}-1}"; do    # the last one aside
        case " ${writes[*]} " in *" $n "*) continue ;; esac
        [ "$n" -ne 65536 ] && odd=$((odd + 1))
    done
    note "$odd server reads match no write's size and fill no whole buffer"
    [ "$odd" -gt 0 ]
    total=0
    for n in "${reads[@]}"; do total=$((total + n)); done
    [ "$total" -eq 16777216 ]
}

@test "[step 6] getaddrinfo: client localhost PORT connects to whatever localhost resolves to" {
    server
    run --separate-stderr "$LAB/client" localhost "$P" <<<"by name"
    note_lines "" <<<"$(grep -E 'getaddrinfo|connect' <<<"$stderr")"
    [ "$status" -eq 0 ]
    [ "$output" = "BY NAME" ]
    [[ $stderr == *'getaddrinfo("localhost", "'$P'") = '* ]]
}

@test "[step 7] localhost as ::1 then 127.0.0.1: the client narrates ::1 refused, then connects to 127.0.0.1" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, for a private /etc/hosts (unshare -m)"
    unshare -m true 2>/dev/null || skip "unshare -m does not work here"
    need_ipv6
    printf '::1 localhost\n127.0.0.1 localhost\n' >"$T/hosts"
    server   # 127.0.0.1 only
    run --separate-stderr unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" localhost "$3"' \
        sh "$T/hosts" "$LAB/client" "$P" <<<"second try"
    note "with an /etc/hosts listing ::1 first:"
    note_lines "  " <<<"$(grep -E 'getaddrinfo|socket\(|connect\(|close\(fd' <<<"$stderr")"
    [ "$status" -eq 0 ]
    [ "$output" = "SECOND TRY" ]
    [[ $stderr == *"connect([::1]:$P) = -1: Connection refused"* ]]
    [[ $stderr == *"connect(127.0.0.1:$P) = 0  state=ESTABLISHED"* ]]
}

@test "[step 1] IPv6: server -b ::1 listens on [::1]:PORT; client ::1 PORT connects" {
    need_ipv6
    start_server -b ::1 0
    P=${READY##*:}
    note "readiness line: $READY"
    [[ $READY == "listening on [::1]:"[0-9]* ]]
    note "ss -tln: $(ss -tlnH "sport = :$P")"
    run --separate-stderr "$LAB/client" ::1 "$P" <<<"over ipv6"
    note_lines "" <<<"$(grep -E 'socket|connect' <<<"$stderr")"
    [ "$status" -eq 0 ]
    [ "$output" = "OVER IPV6" ]
    has_line "$T/server.err" 'socket\(AF_INET6, SOCK_STREAM\) = fd'
}

@test "[step 2] SO_REUSEADDR: with the server's old connection in TIME-WAIT, a restarted server binds its port at once" {
    server
    session client
    wait_until has_line "$T/server.err" 'accept\(\) = fd'
    # The server closes first (killed mid-session): its end of the
    # connection, on port P, will wait in TIME-WAIT.
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    wait_until has_state TIME-WAIT LOCAL "$P"
    note "server stopped; its old connection: $ROW"
    rm "$T/server.out"
    start_server "$P"
    note "restarted at once: $READY"
    [ "$READY" = "listening on 127.0.0.1:$P" ]
    last_match "$T/server.err" 'SO_REUSEADDR'
    note "  $LINE"
    has_state TIME-WAIT LOCAL "$P"
    note "while still: $ROW"
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"again"
    [ "$output" = "AGAIN" ]
}

@test "port strings abc, -1, 70000 and the empty string are usage errors (exit 2), for server and client" {
    for port in abc -1 70000 ""; do
        run "$LAB/server" -- "$port"
        note "server -- '$port': exit $status: ${lines[0]}"
        [ "$status" -eq 2 ]
        [[ ${lines[0]} == "server: bad PORT '$port'"* ]]
        run "$LAB/client" 127.0.0.1 "$port"
        note "client 127.0.0.1 '$port': exit $status: ${lines[0]}"
        [ "$status" -eq 2 ]
        [[ ${lines[0]} == "client: bad PORT '$port'"* ]]
    done
    run "$LAB/server" -1
    [ "$status" -eq 2 ]
    run "$LAB/client" 127.0.0.1 0
    [ "$status" -eq 2 ]
    run "$LAB/server" -b localhost 0
    note "server -b localhost: exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
}

@test "[step 3] a second server on the same port: exit 1, Address already in use; the first keeps serving" {
    server
    run "$LAB/server" "$P"
    note "second server on $P: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "server: bind 127.0.0.1:$P: Address already in use" ]
    alive "$SERVER_PID"
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"still here"
    [ "$status" -eq 0 ]
    [ "$output" = "STILL HERE" ]
}

@test "[step 7] connection refused: exit 1 with the reason" {
    server
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run "$LAB/client" 127.0.0.1 "$P" </dev/null
    note "client to a stopped server's port: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "client: connect 127.0.0.1:$P: Connection refused" ]
}

@test "usage: -h and --help exit 0; missing arguments and unknown options exit 2" {
    usage_contract server 5005
    usage_contract client "HOST PORT"
    run "$LAB/client"
    note "client: exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    run "$LAB/client" localhost
    [ "$status" -eq 2 ]
    run "$LAB/server" 1 2
    [ "$status" -eq 2 ]
    run "$LAB/server" -q
    [ "$status" -eq 2 ]
}

@test "[step 5] 200 clients in a row leave the server's descriptor count unchanged" {
    server
    before=$(fd_count "$SERVER_PID")
    clients_in_a_row 200 "$T/out" "$LAB/client" 127.0.0.1 "$P"
    [ "$(<"$T/out")" = "CLIENT 200" ]
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after 200 clients"
    [ "$before" -eq "$after" ]
    [ "$(grep -c 'accept() = fd' "$T/server.err")" -eq 200 ]
}

@test "with no PORT the server takes the documented default, 127.0.0.1:5005 (in a network namespace of its own)" {
    default_port_server
    note "server with no arguments: $READY"
    [ "$READY" = "listening on 127.0.0.1:5005" ]
    run "$LAB/server" --help
    [[ $output == *"5005"* ]]
}

# replies_wait PORT: the server's end of a connection on PORT holds more
# than 64 KiB of replies it cannot send (its Send-Q). ROW is its ss row.
replies_wait() {
    local field
    has_state ESTAB LOCAL "$1" || return 1
    read -ra field <<<"$ROW"   # State Recv-Q Send-Q Local Peer
    [ "${field[2]}" -gt 65536 ]
}

@test "-t 1: a client that sends nothing is dropped after 1 s, one that never reads its replies (a zero window) once a write() has waited 1 s; the next client is served" {
    # Two servers, one for each client: the two waits run at once.
    spawn hogs "$LAB/server" -t 1 0
    wait_until said_or_gone "$PID" "$T/hogs.out" 'listening on'
    has_line "$T/hogs.out" 'listening on' || { cat "$T/hogs.err" >&2; return 1; }
    read -r ready <"$T/hogs.out"
    HP=${ready##*:}
    # The lab's client reads all it is sent. This one never does: bash's
    # /dev/tcp connects, cat sends zeros for ever. Its receive buffer
    # fills, its window drops to zero, the server's replies wait in its
    # send buffer (Send-Q), and then its write() waits.
    spawn hog bash -c 'exec cat /dev/zero 3<>"/dev/tcp/127.0.0.1/$0" >&3' "$HP"
    wait_until replies_wait "$HP"
    note "never reads, the server's end: $ROW"
    has_state ESTAB PEER "$HP"
    note "never reads, the client's end: $ROW"

    server -t 1
    session idle                      # connected; sends nothing, never closes
    IDLE=$CLIENT_PID
    wait_until has_line "$T/server.err" 'accept\(\) = fd'
    t0=${EPOCHREALTIME/./}
    echo "next" >"$T/next.in"
    spawn next "$LAB/client" 127.0.0.1 "$P"
    NEXT=$PID
    # Its handshake is the kernel's, so it connects at once; its reply waits
    # for the server, which waits for the first client.
    wait_until has_line "$T/next.err" 'connect\(.*\) = 0'
    not has_line "$T/next.err" 'read\(\) = [0-9]+ bytes'
    WAIT_LIMIT=2 wait_exit "$NEXT"      # served within about 2 s
    ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    note_lines "sends nothing: " < <(grep -E 'accept|read\(\) = -1|close' "$T/server.err")
    note "the next client: exit $STATUS, '$(<"$T/next.out")', $ms ms after it started"
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/next.out")" = NEXT ]
    has_line "$T/server.err" '^\[server\] read\(\) = -1: Resource temporarily unavailable \(nothing for 1 s\): client dropped  state=ESTABLISHED$'
    wait_exit "$IDLE"
    last_match "$T/idle.err" '^client: '
    note "the client that sent nothing: exit $STATUS: $LINE"
    [ "$STATUS" -eq 1 ]

    # Each write() that made some progress before its second was up
    # returns that much: it can take two or three waits.
    WAIT_LIMIT=5 wait_until has_line "$T/hogs.err" 'client dropped'
    last_match "$T/hogs.err" 'client dropped'
    note "never reads: $LINE"
    [[ $LINE == "[server] write() = -1: Resource temporarily unavailable (not read for 1 s): client dropped  state=ESTABLISHED" ]]
    run --separate-stderr "$LAB/client" 127.0.0.1 "$HP" <<<"next"
    note "its server, the next client: exit $status, '$output'"
    [ "$output" = NEXT ]
    run "$LAB/server" --help
    [[ $output == *"-t SECONDS"*"default 30"* ]]
}

# lo_queue_shut: every packet on the namespace's loopback now waits in its
# queue: a token bucket filter (tc-tbf(8)) of 100 bytes, refilled at 8 bits
# a second, starts full; one 92-byte datagram (to the discard port, where
# nobody listens) spends it, and a 66-byte segment then waits a minute.
lo_queue_shut() {
    "${NSX[@]}" tc qdisc add dev lo root tbf rate 8bit burst 100 limit 10000 &&
        "${NSX[@]}" bash -c 'printf "%50s" x >/dev/udp/127.0.0.1/9'
}

# lo_queued: QUEUED, the backlog of the namespace's loopback queue as
# `tc -s qdisc` shows it ("66b 1p"); true when it holds a packet or more.
lo_queued() {
    local qdisc
    qdisc=$("${NSX[@]}" tc -s qdisc show dev lo)
    [[ $qdisc =~ backlog\ ([0-9]+b\ ([0-9]+)p) ]] || return 1
    QUEUED=${BASH_REMATCH[1]}
    [ "${BASH_REMATCH[2]}" -ge 1 ]
}

@test "a client that vanishes (its packets held by tc, then killed: no FIN or RST arrives) costs the server -t seconds, then it takes the next" {
    netns_setup
    err=$("${NSX[@]}" tc qdisc add dev lo root tbf rate 8bit burst 100 limit 10000 2>&1 &&
        "${NSX[@]}" tc qdisc delete dev lo root 2>&1) || skip "tc cannot give lo a tbf queue: $err"
    err=$("${NSX[@]}" bash -c 'printf x >/dev/udp/127.0.0.1/9' 2>&1) ||
        skip "bash cannot send a datagram with /dev/udp: $err"
    ns_server -t 1
    mkfifo "$T/gone.in"
    exec 5<>"$T/gone.in"
    spawn gone "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P"
    GONE=$PID
    echo "before" >&5
    wait_until has_line "$T/gone.err" 'read\(\) = 7 bytes'   # the connection works
    # The network goes (lo's queue holds everything), then the client: its
    # kernel's FIN waits in the queue, and the server hears nothing.
    lo_queue_shut
    kill -KILL "$GONE"
    wait_gone "$GONE"
    wait_until lo_queued
    note "client killed; tc -s qdisc show dev lo: backlog $QUEUED (its FIN, held)"
    WAIT_LIMIT=3 wait_until has_line "$T/server.err" 'client dropped'
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    [[ $LINE == "[server] read() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped  state=ESTABLISHED" ]]
    wait_until has_line "$T/server.err" 'close\(fd'
    # The queue goes, and what it held with it: the FIN is lost for good.
    "${NSX[@]}" tc qdisc delete dev lo root
    run --separate-stderr "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P" <<<"next"
    note "the next client: exit $status, '$output'"
    [ "$output" = NEXT ]
    [ "$(grep -c 'accept() = fd' "$T/server.err")" -eq 2 ]
}

@test "a link-local address with a 15-character interface name (fe80:...%ifname, 55 characters): the readiness line shows it whole" {
    netns_setup
    long_link_local
    link=$LINK addr=$ADDR6
    ns_server -b "$addr%$link"
    note "$READY"
    [ "$READY" = "listening on [$addr%$link]:$P" ]
    run --separate-stderr "${NSX[@]}" "$LAB/client" "$addr%$link" "$P" <<<"scoped"
    note_lines "" <<<"$(grep -E 'connect\(' <<<"$stderr")"
    [ "$output" = SCOPED ]
    [[ $stderr == *"connect([$addr%$link]:$P) = 0  state=ESTABLISHED"* ]]
}

@test "[step 1] -b any: getaddrinfo(NULL, PORT, AI_PASSIVE) gives the wildcard addresses; the server binds the first, every interface" {
    start_server -b any 0
    P=${READY##*:}
    note "readiness line: $READY"
    last_match "$T/server.err" 'getaddrinfo\('
    note "$LINE"
    [[ $LINE == "[server] getaddrinfo(NULL, \"0\", AI_PASSIVE) = "* ]]
    [[ $READY == "listening on 0.0.0.0:$P" || $READY == "listening on [::]:$P" ]]
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"from anywhere"
    [ "$output" = "FROM ANYWHERE" ]
    # A number, even a wildcard one, is taken as it is: no AI_PASSIVE.
    rm "$T/server.out"
    start_server -b 0.0.0.0 0
    last_match "$T/server.err" 'getaddrinfo\('
    note "$LINE"
    [[ $LINE == '[server] getaddrinfo("0.0.0.0", "0") = 0.0.0.0:0' ]]
}
