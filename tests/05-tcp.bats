#!/usr/bin/env bats
# Lab 05: TCP. getaddrinfo, SO_REUSEADDR, socket/bind/listen/accept/connect,
# IPv4 and IPv6, and the handshake's states as ss shows them. Every server
# binds port 0 (any free port) and ss is filtered by that port, so the
# tests can run in parallel. Some scenarios run in a private network
# namespace (a link of their own, a tc queue on its loopback): as root only.
#
# A "[step N]" test looks at step N's earliest effect, so that a mistake in
# a later step does not fail it: a server step's tests read the server's
# narration up to that step (a server whose bind() fails has still said
# what its getaddrinfo() and socket() gave), a client step's, the client's.
# Under `make check` each runs against the reference build of the other
# program (tests/lib.bash, reference_peer).

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 05-tcp
}

teardown() {
    exec 5>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
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
    [ -s "$T/server.out" ] || fail "the server exited before it was ready: $(cat "$T/server.err")"
    read -r READY <"$T/server.out"
    P=${READY##*:}
}


# server ARGS...: start the server on port 0 with ARGS; P is its port.
server() {
    start_server "$@" 0 || return 1
    P=${READY##*:}
}

# up NAME ARGS...: spawn the server as NAME, with ARGS and port 0, and wait
# until it is ready or has exited (a wrong step ends it): for the tests
# that read what it said of its first calls. PID is its pid.
up() {
    local name=$1
    shift
    spawn "$name" "$LAB/server" "$@" 0
    wait_until ready_or_dead "$PID" "$name"
}

# run_client NAME ARGS... [< input]: run the client to its end, at most
# WAIT_LIMIT seconds (a wrong one that hangs is stopped: status 124), its
# output in $T/NAME.out and $T/NAME.err. Sets STATUS, OUT (its standard
# output) and LAST (the last line of its standard error).
run_client() {
    local name=$1
    shift
    STATUS=0
    timeout -k 2 "$WAIT_LIMIT" "$LAB/client" "$@" >"$T/$name.out" 2>"$T/$name.err" 3>&- || STATUS=$?
    OUT=$(<"$T/$name.out")
    LAST=$(tail -n 1 "$T/$name.err")
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
        if [ "${field[0]}" = "$1" ] && [[ ${field[col]:-} == *":$3" ]]; then
            ROW=$row
            break
        fi
    done <<<"$all"
    test -n "$ROW"
}

# queued PORT N: the listener on PORT has N connections waiting to be
# accepted (its Recv-Q). LISTENER is its ss row.
queued() {
    local field
    LISTENER=$(ss -tlnH "sport = :$1")
    read -ra field <<<"$LISTENER"
    test "${field[1]:-}" = "$2"
}

# syn_retried PORT: a SYN-SENT socket to PORT has retransmitted its SYN at
# least once, as ss -o shows: timer:(on,TIME,RETRIES). TIMER_ROW is its row.
syn_retried() {
    TIMER_ROW=$(ss -tanoH state syn-sent "( dport = :$1 )")
    [[ $TIMER_ROW =~ timer:\(on,[^,]+,[1-9][0-9]*\) ]] || return 1
}

# session NAME: spawn a client NAME connected to port P, its stdin a FIFO
# held open on fd 5 (nothing sent yet, no EOF). Sets CLIENT_PID.
session() {
    mkfifo "$T/$1.in"
    exec 5<>"$T/$1.in"
    spawn "$1" "$LAB/client" 127.0.0.1 "$P"
    CLIENT_PID=$PID
}

# accepted: wait until the server has accepted a connection, or exited.
accepted() {
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'accept\(\) = fd'
    expect_line "$T/server.err" 'accept\(\) = fd' "the server's accept()"
}

# --- Step 1: the server's getaddrinfo() -----------------------------------

@test "[step 1] getaddrinfo: the server asks for its address as a number and gets that one address: 127.0.0.1 by default, 0.0.0.0 with -b 0.0.0.0; -b localhost is a usage error" {
    up default
    expect_line "$T/default.err" '^\[server\] getaddrinfo\("127\.0\.0\.1", "0"\) = 127\.0\.0\.1:0$' \
        "the server's getaddrinfo() for its default address (one address, one line)"
    last_match "$T/default.err" 'getaddrinfo\(' && note "$LINE"
    # A number, even a wildcard one, is taken as it is: no AI_PASSIVE.
    up wildcard -b 0.0.0.0
    expect_line "$T/wildcard.err" '^\[server\] getaddrinfo\("0\.0\.0\.0", "0"\) = 0\.0\.0\.0:0$' \
        "getaddrinfo() with -b 0.0.0.0"
    last_match "$T/wildcard.err" 'getaddrinfo\(' && note "$LINE"
    # AI_NUMERICHOST: a name is refused before any lookup, and any socket.
    up byname -b localhost
    NAMED=$PID
    if alive "$NAMED"; then
        fail "server -b localhost runs ($(head -n 1 "$T/byname.out")): a name must be refused (AI_NUMERICHOST, in hints)"
    fi
    wait_exit "$NAMED"
    last_match "$T/byname.err" '^server: ' || LINE="(no error line)"
    note "server -b localhost: exit $STATUS: $LINE"
    is "server -b localhost's exit status" "$STATUS" 2
    is "server -b localhost's error" "$LINE" "server: bad ADDR 'localhost' (numeric: 127.0.0.1, ::1, 0.0.0.0, ::; or any)"
}

@test "[step 1] getaddrinfo with -b ::1: one IPv6 address, [::1]:0" {
    need_ipv6
    up v6 -b ::1
    last_match "$T/v6.err" 'getaddrinfo\(|^server: ' && note "$LINE"
    expect_line "$T/v6.err" '^\[server\] getaddrinfo\("::1", "0"\) = \[::1\]:0$' "getaddrinfo() with -b ::1"
}

@test "[step 1] -b any: getaddrinfo(NULL, PORT, AI_PASSIVE) gives each family's wildcard address, IPv4 first" {
    up any -b any
    last_match "$T/any.err" 'getaddrinfo\(' && note "$LINE"
    expect_line "$T/any.err" '^\[server\] getaddrinfo\(NULL, "0", AI_PASSIVE\) = 0\.0\.0\.0:0( \[::\]:0)?$' \
        "getaddrinfo() with -b any (the host given is node, NULL here, not a.host)"
}

# --- Step 2: socket() and SO_REUSEADDR ----------------------------------

@test "[step 2] socket() and SO_REUSEADDR: the server narrates socket(AF_INET, SOCK_STREAM) = fd 3  state=CLOSE, then setsockopt(SO_REUSEADDR, 1) = 0" {
    up s
    note_lines "" < <(grep -E 'socket\(|setsockopt\(' "$T/s.err")
    expect_line "$T/s.err" '^\[server\] socket\(AF_INET, SOCK_STREAM\) = fd 3  state=CLOSE$' \
        "the server's socket() (a TCP socket's state before bind() is CLOSE; fd 3, the first free one)"
    expect_line "$T/s.err" '^\[server\] setsockopt\(SO_REUSEADDR, 1\) = 0$' "the server's setsockopt(SO_REUSEADDR)"
}

@test "[step 2] -b ::1: the socket takes its family from getaddrinfo, AF_INET6, the family bind() then needs" {
    need_ipv6
    up v6 -b ::1
    note_lines "" < <(grep -E 'socket\(|setsockopt\(|^server: ' "$T/v6.err")
    expect_line "$T/v6.err" '^\[server\] socket\(AF_INET6, SOCK_STREAM\) = fd 3  state=CLOSE$' "the server's socket() with -b ::1"
    expect_line "$T/v6.err" '^\[server\] setsockopt\(SO_REUSEADDR, 1\) = 0$' "the server's setsockopt(SO_REUSEADDR)"
    # A socket of another family than the address: bind() refuses it so.
    if has_line "$T/v6.err" 'Address family not supported'; then
        fail "bind() refused [::1] for the socket's family: $(grep -E '^server: ' "$T/v6.err") (socket()'s family must be the address's: res->ai_family)"
    fi
}

@test "[step 2] SO_REUSEADDR: with the server's old connection in TIME-WAIT, a restarted server binds its port at once" {
    server
    session client
    accepted
    # The server closes first (killed mid-session): its end of the
    # connection, on port P, will wait in TIME-WAIT.
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    wait_until has_state TIME-WAIT LOCAL "$P"
    note "server stopped; its old connection: $ROW"
    rm "$T/server.out"
    start_server "$P" || fail "a server restarted on port $P while its old connection is in TIME-WAIT did not start (without SO_REUSEADDR, bind() fails: Address already in use)"
    note "restarted at once: $READY"
    is "the restarted server's readiness line" "$READY" "listening on 127.0.0.1:$P"
    last_match "$T/server.err" 'SO_REUSEADDR' && note "  $LINE"
    has_state TIME-WAIT LOCAL "$P" || fail "the old connection's TIME-WAIT entry on port $P is gone: ss says $(rows "$P")"
    note "while still: $ROW"
    run_client again 127.0.0.1 "$P" <<<"again"
    is "the client's output from the restarted server" "$OUT" "AGAIN"
}

# --- Step 3: bind() -------------------------------------------------------

@test "[step 3] bind(): the socket gets 127.0.0.1 and the free port the kernel chose for port 0" {
    up s
    last_match "$T/s.err" 'bind\(|^server: ' && note "$LINE"
    expect_line "$T/s.err" '^\[server\] bind\(127\.0\.0\.1:[1-9][0-9]*\) = 0  state=CLOSE$' \
        "the server's bind() (its address read back with getsockname(): port 0 there means no bind())"
}

@test "[step 3] bind() with -b ::1: an IPv6 address, 28 bytes long (res->ai_addrlen), is bound as [::1]:PORT" {
    need_ipv6
    up v6 -b ::1
    last_match "$T/v6.err" 'bind\(|^server: ' && note "$LINE"
    expect_line "$T/v6.err" '^\[server\] bind\(\[::1\]:[1-9][0-9]*\) = 0  state=CLOSE$' "the server's bind() with -b ::1"
}

@test "[step 3] a second server on the same port: exit 1, Address already in use; the first keeps serving" {
    server
    run_split timeout -k 1 "$WAIT_LIMIT" "$LAB/server" "$P"
    error=${stderr##*$'\n'}   # the last line
    note "second server on $P: exit $status: $error"
    is "the second server's exit status" "$status" 1
    is "the second server's error" "$error" "server: bind 127.0.0.1:$P: Address already in use"
    alive "$SERVER_PID" || fail "the first server is gone: $(tail -n 3 "$T/server.err")"
    run_client still 127.0.0.1 "$P" <<<"still here"
    is "the client's exit status" "$STATUS" 0
    is "the client's output from the first server" "$OUT" "STILL HERE"
}

# --- Step 4: listen() -----------------------------------------------------

@test "[step 4] listen(): ss -tln shows the socket LISTEN on its port, the backlog as Send-Q" {
    server
    note "readiness line: $READY"
    [[ $READY == "listening on 127.0.0.1:"[1-9]* ]] || fail "readiness line: expected 'listening on 127.0.0.1:PORT', saw '$READY'"
    row=$(ss -tlnH "sport = :$P")
    note "ss -tln sport = :$P:  $row"
    read -ra field <<<"$row"   # State Recv-Q Send-Q Local...
    is "ss -tln's row for port $P (state, Send-Q = backlog, address)" "${field[0]:-} ${field[2]:-} ${field[3]:-}" "LISTEN 16 127.0.0.1:$P"
    last_match "$T/server.err" 'listen\(' && note "narration: $LINE"
    expect_line "$T/server.err" '^\[server\] listen\(backlog=16\) = 0  state=LISTEN$' "the server's listen()"
}

@test "[step 4] backlog 0, one connection not accepted: the queue is full, a second client stays in SYN-SENT" {
    server -q 0 -A
    session first
    wait_until said_or_gone "$CLIENT_PID" "$T/first.err" 'connect\(.*\) = 0'
    expect_line "$T/first.err" 'connect\(.*\) = 0' "the first client's connect()"
    wait_until has_state ESTAB PEER "$P" || fail "the first client's end is not ESTAB: ss says $(rows "$P")"
    note "first client:  $ROW"
    last_match "$T/first.err" 'connect\(' && note "  it said: $LINE"
    # Its handshake is complete once the listener has queued it.
    wait_until queued "$P" 1 || fail "the listener's queue (Recv-Q) does not hold the first client: $LISTENER"
    note "listener:      $LISTENER   (Recv-Q 1 queued, Send-Q backlog 0)"
    read -ra field <<<"$LISTENER"
    is "the listener's Send-Q (the backlog given to listen(), -q 0)" "${field[2]:-}" 0
    # The queue is full: the kernel drops this client's SYN and the client
    # retransmits it a second later, and again, up to tcp_syn_retries
    # times (tcp(7)); meanwhile its connect() stays blocked.
    spawn second "$LAB/client" 127.0.0.1 "$P"
    wait_until has_state SYN-SENT PEER "$P" || fail "no client end in SYN-SENT: ss says $(rows "$P")"
    note "second client: $ROW"
    wait_until has_line "$T/second.err" 'socket\('
    seen=$ROW
    last_match "$T/second.err" '.' && note "  it said: $LINE   (no connect() line: still in progress)"
    if has_line "$T/second.err" 'connect\('; then
        fail "the second client's connect() returned, in front of a full queue: $(grep 'connect(' "$T/second.err")"
    fi
    # Not a passing glimpse (on loopback an accepted SYN is answered in
    # microseconds): a second look finds the same socket still waiting.
    has_state SYN-SENT PEER "$P" || fail "the second client left SYN-SENT: ss says $(rows "$P")"
    is "the second client's row, looked at again" "$ROW" "$seen"
    queued "$P" 1 || fail "the listener's Recv-Q changed: $LISTENER"
    # Dropped and retried: the retransmission timer (ss -o) counts the SYNs
    # sent again; the first goes after the initial RTO of 1 s (RFC 6298).
    wait_until syn_retried "$P" || fail "no SYN retransmission seen: ss -o says $TIMER_ROW"
    note "  ss -tano, a moment later: SYN-SENT ${TIMER_ROW##* }   (timer: on, time left, retries)"
}

# --- Step 5: accept() -----------------------------------------------------

@test "[step 5] during a session both ends are ESTAB; accept() names the client, and TCP_INFO says ESTABLISHED" {
    server
    session client
    accepted
    has_state ESTAB LOCAL "$P" || fail "the server's end is not ESTAB: ss says $(rows "$P")"
    note "server end: $ROW"
    has_state ESTAB PEER "$P" || fail "the client's end is not ESTAB: ss says $(rows "$P")"
    note "client end: $ROW"
    client_port=$(awk '{ print $4 }' <<<"$ROW")
    note_lines "" < <(grep -hE 'connect\(|accept\(' "$T/client.err" "$T/server.err")
    expect_line "$T/server.err" "^\\[server\\] accept\\(\\) = fd 4 from ${client_port//./\\.}  state=ESTABLISHED\$" \
        "the server's accept(): fd 4, and the client's address as ss shows it (peer, filled by accept())"
    echo "goodbye" >&5
    exec 5>&-
    wait_exit "$CLIENT_PID"
    is "the client's exit status" "$STATUS" 0
    is "the client's output" "$(<"$T/client.out")" "GOODBYE"
}

@test "[step 5] TCP_DEFER_ACCEPT: the server end stays SYN-RECV while the client is ESTABLISHED, until data" {
    server -d 30
    session client
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" 'connect\(.*\) = 0'
    last_match "$T/client.err" 'connect\(' || LINE="(no connect() line)"
    note "client: $LINE"
    [[ $LINE == *") = 0  state=ESTABLISHED" ]] || fail "the client's connect(): expected '= 0  state=ESTABLISHED', saw '$LINE'"
    wait_until has_state SYN-RECV LOCAL "$P" || fail "the server's end is not SYN-RECV: ss says $(rows "$P")"
    note "server end: $ROW"
    has_state ESTAB PEER "$P" || fail "the client's end is not ESTAB: ss says $(rows "$P")"
    note "client end: $ROW"
    if has_line "$T/server.err" 'accept\(\)'; then
        fail "accept() returned before any data: $(grep 'accept()' "$T/server.err")"
    fi
    echo "deferred" >&5
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'write\(\) = '
    note_lines "after the first data: " < <(grep -E 'accept|read|write|^server: ' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd 4 from 127\.0\.0\.1:[0-9]+  state=ESTABLISHED$' "the server's accept() once data came"
    has_state ESTAB LOCAL "$P" || fail "the server's end is not ESTAB after the data: ss says $(rows "$P")"
    note "server end: $ROW"
    exec 5>&-
    wait_exit "$CLIENT_PID"
    is "the client's output" "$(<"$T/client.out")" "DEFERRED"
}

# build_peer: tests/05-tcp-peer.c, lab 05's client N times over in one
# process, built once for this file, as PEER.
build_peer() {
    PEER=$BATS_FILE_TMPDIR/peer
    [ -x "$PEER" ] ||
        cc -std=c11 -Wall -Wextra -Werror -o "$PEER" "$ROOT/tests/05-tcp-peer.c" ||
        fail "tests/05-tcp-peer.c does not build"
}

@test "[step 5] 200 clients in a row leave the server's descriptor count unchanged" {
    build_peer
    server
    before=$(fd_count "$SERVER_PID")
    run_client first 127.0.0.1 "$P" <<<"client 0"   # one first: a wrong server fails here, at once
    is "the first client's output" "$OUT" "CLIENT 0"
    # 200 more from one process, each as the client makes it: a line,
    # shutdown(SHUT_WR), the reply up to the server's FIN, checked
    run_split "$PEER" 127.0.0.1 "$P" 200
    is "the peer's exit status, 200 connections in a row (stderr: $stderr)" "$status" 0
    is "the 200th connection's reply" "$output" "CLIENT 200"
    alive "$SERVER_PID" || fail "the server is gone: $(tail -n 3 "$T/server.err")"
    after=$(fd_count "$SERVER_PID")
    note "server descriptors: $before before, $after after 200 clients"
    is "the server's open descriptors after 200 clients (before: $before)" "$after" "$before"
    is "accept() lines in the server's narration" "$(count 'accept\(\) = fd' "$T/server.err")" 201
}

# --- Step 6: the client's getaddrinfo() -----------------------------------

@test "[step 6] getaddrinfo: the client asks for any family, stream sockets: 127.0.0.1 gives one address, localhost each of its addresses once, as getent ahosts lists them" {
    server
    run_client ip 127.0.0.1 "$P" <<<"by number"
    last_match "$T/ip.err" 'getaddrinfo\(|^client: ' && note "$LINE"
    expect_line "$T/ip.err" "^\\[client\\] getaddrinfo\\(\"127\\.0\\.0\\.1\", \"$P\"\\) = 127\\.0\\.0\\.1:$P\$" \
        "the client's getaddrinfo() for 127.0.0.1 (one address: stream sockets only)"
    # The addresses the C library has for localhost, one line per address
    # and socket type (getent(1)); the client asks for stream sockets only,
    # so each address comes once.
    run_client name localhost "$P" <<<"by name"
    last_match "$T/name.err" 'getaddrinfo\(|^client: ' && note "$LINE"
    prefix="[client] getaddrinfo(\"localhost\", \"$P\") = "
    last_match "$T/name.err" '^\[client\] getaddrinfo\(' || LINE="no getaddrinfo line; the client said: $LAST"
    [[ $LINE == "$prefix"* ]] || fail "the client's getaddrinfo() for localhost: expected '$prefix...', saw '$LINE'"
    read -ra got <<<"${LINE#"$prefix"}"
    dups=$(printf '%s\n' "${got[@]}" | sort | uniq -d | paste -sd ' ')
    is "addresses listed twice (hints.ai_socktype: SOCK_STREAM)" "$dups" ""
    for addr in $(getent ahosts localhost | awk '$2 == "STREAM" { print $1 }'); do
        [[ $addr == *:* ]] && addr="[$addr]"
        case " ${got[*]} " in *" $addr:$P "*) ;; *) fail "getent ahosts localhost lists $addr, the client's getaddrinfo() did not: $LINE" ;; esac
    done
}

@test "[step 6] getaddrinfo with ::1: AF_UNSPEC lets an IPv6 address through" {
    need_ipv6
    server -b ::1
    run_client v6 ::1 "$P" <<<"over ipv6"
    last_match "$T/v6.err" 'getaddrinfo\(|^client: ' && note "$LINE"
    expect_line "$T/v6.err" "^\\[client\\] getaddrinfo\\(\"::1\", \"$P\"\\) = \\[::1\\]:$P\$" "the client's getaddrinfo() for ::1"
}

# --- Step 7: the client's socket() and connect() --------------------------

@test "[step 7] the client connects: socket(AF_INET, SOCK_STREAM) = fd 3, connect() = 0  state=ESTABLISHED, and the reply comes back" {
    server
    run_client c localhost "$P" <<<"by name"
    note_lines "" < <(grep -E 'getaddrinfo|socket\(|connect\(|^client: ' "$T/c.err")
    expect_line "$T/c.err" '^\[client\] socket\(AF_INET, SOCK_STREAM\) = fd 3  state=CLOSE$' "the client's socket()"
    expect_line "$T/c.err" "^\\[client\\] connect\\(127\\.0\\.0\\.1:$P\\) = 0  state=ESTABLISHED\$" "the client's connect()"
    is "the client's exit status" "$STATUS" 0
    is "the client's output" "$OUT" "BY NAME"
}

@test "[step 7] a byte stream: 16 MiB of random bytes round-trip intact; reads do not match writes" {
    server
    BIG=1   # lab_teardown removes the 16 MiB files at once
    head -c 16777216 /dev/urandom >"$T/in"
    WAIT_LIMIT=20 run_client big 127.0.0.1 "$P" <"$T/in"
    is "the client's exit status" "$STATUS" 0
    upcase <"$T/in" | cmp - "$T/big.out" || fail "the output differs from tr a-z A-Z of the input (cmp above); the client said: $LAST"
    mapfile -t writes < <(sed -nE 's/^\[client\] write\(\) = ([0-9]+) bytes.*/\1/p' "$T/big.err")
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
    [ "$odd" -gt 0 ] || fail "every server read() matched a client write() or a whole buffer: reads ${reads[*]:0:8}..., writes ${writes[*]:0:8}..."
    total=0
    for n in "${reads[@]}"; do total=$((total + n)); done
    is "bytes the server read" "$total" 16777216
}

@test "[step 7] localhost as ::1 then 127.0.0.1: the client narrates ::1 refused, then connects to 127.0.0.1" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, for a private /etc/hosts (unshare -m)"
    unshare -m true 2>/dev/null || skip "unshare -m does not work here"
    need_ipv6
    printf '::1 localhost\n127.0.0.1 localhost\n' >"$T/hosts"
    server   # 127.0.0.1 only
    STATUS=0
    timeout -k 2 "$WAIT_LIMIT" unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" localhost "$3"' \
        sh "$T/hosts" "$LAB/client" "$P" <<<"second try" >"$T/c.out" 2>"$T/c.err" 3>&- || STATUS=$?
    note "with an /etc/hosts listing ::1 first:"
    note_lines "  " < <(grep -E 'getaddrinfo|socket\(|connect\(|close\(fd|^client: ' "$T/c.err")
    expect_line "$T/c.err" "^\\[client\\] connect\\(\\[::1\\]:$P\\) = -1: Connection refused  state=CLOSE\$" \
        "the client's first connect(), to ::1, where nobody listens"
    expect_line "$T/c.err" "^\\[client\\] connect\\(127\\.0\\.0\\.1:$P\\) = 0  state=ESTABLISHED\$" \
        "the client's second connect(), to the next address (ai, not res)"
    is "the client's exit status" "$STATUS" 0
    is "the client's output" "$(<"$T/c.out")" "SECOND TRY"
}

@test "[step 7] IPv6: client ::1 PORT connects to a server on [::1], its socket AF_INET6" {
    need_ipv6
    server -b ::1
    run_client v6 ::1 "$P" <<<"over ipv6"
    note_lines "" < <(grep -E 'socket|connect|^client: ' "$T/v6.err")
    expect_line "$T/v6.err" '^\[client\] socket\(AF_INET6, SOCK_STREAM\) = fd 3  state=CLOSE$' "the client's socket() for ::1"
    expect_line "$T/v6.err" "^\\[client\\] connect\\(\\[::1\\]:$P\\) = 0  state=ESTABLISHED\$" "the client's connect() to ::1 (28 bytes: ai->ai_addrlen)"
    is "the client's exit status" "$STATUS" 0
    is "the client's output" "$OUT" "OVER IPV6"
}

@test "[step 7] connection refused: exit 1 with the reason" {
    server
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    WAIT_LIMIT=5 run_client refused 127.0.0.1 "$P" </dev/null
    note "client to a stopped server's port: exit $STATUS: $LAST"
    is "the client's exit status" "$STATUS" 1
    is "the client's error" "$LAST" "client: connect 127.0.0.1:$P: Connection refused"
}

# --- Both programs together ------------------------------------------------

@test "IPv6 end to end: server -b ::1 listens on [::1]:PORT; client ::1 PORT is served" {
    need_ipv6
    server -b ::1
    note "readiness line: $READY"
    [[ $READY == "listening on [::1]:"[1-9]* ]] || fail "readiness line: expected 'listening on [::1]:PORT', saw '$READY'"
    note "ss -tln: $(ss -tlnH "sport = :$P")"
    run_client v6 ::1 "$P" <<<"over ipv6"
    is "the client's exit status" "$STATUS" 0
    is "the client's output" "$OUT" "OVER IPV6"
    expect_line "$T/server.err" '^\[server\] accept\(\) = fd 4 from \[::1\]:[0-9]+  state=(ESTABLISHED|CLOSE_WAIT)$' "the server's accept() of the IPv6 client"
}

@test "-b any: the server binds the first wildcard address, every interface; a client reaches it on 127.0.0.1" {
    server -b any
    note "readiness line: $READY"
    [[ $READY == "listening on 0.0.0.0:$P" || $READY == "listening on [::]:$P" ]] ||
        fail "readiness line: expected 'listening on 0.0.0.0:$P' (or [::]), saw '$READY'"
    run_client any 127.0.0.1 "$P" <<<"from anywhere"
    is "the client's output" "$OUT" "FROM ANYWHERE"
}

@test "port strings abc, -1, 70000 and the empty string are usage errors (exit 2), for server and client" {
    for port in abc -1 70000 ""; do
        run_split "$LAB/server" -- "$port"
        note "server -- '$port': exit $status: ${stderr_lines[0]:-}"
        is "server -- '$port': exit status" "$status" 2
        [[ ${stderr_lines[0]:-} == "server: bad PORT '$port'"* ]] || fail "server -- '$port': expected \"server: bad PORT '$port'...\", saw '${stderr_lines[0]:-}'"
        run_split "$LAB/client" 127.0.0.1 "$port"
        note "client 127.0.0.1 '$port': exit $status: ${stderr_lines[0]:-}"
        is "client 127.0.0.1 '$port': exit status" "$status" 2
        [[ ${stderr_lines[0]:-} == "client: bad PORT '$port'"* ]] || fail "client 127.0.0.1 '$port': expected \"client: bad PORT '$port'...\", saw '${stderr_lines[0]:-}'"
    done
    run_split "$LAB/server" -1
    is "server -1: exit status" "$status" 2
    run_split "$LAB/client" 127.0.0.1 0
    is "client 127.0.0.1 0: exit status" "$status" 2
    run_split timeout -k 1 "$WAIT_LIMIT" "$LAB/server" -b localhost 0
    note "server -b localhost: exit $status: ${stderr_lines[0]:-}"
    is "server -b localhost 0: exit status" "$status" 2
}

@test "usage: -h and --help exit 0; missing arguments and unknown options exit 2" {
    usage_contract server 5005
    usage_contract client "HOST PORT"
    run_split "$LAB/client"
    note "client: exit $status: ${stderr_lines[0]:-}"
    is "client with no arguments: exit status" "$status" 2
    run_split "$LAB/client" localhost
    is "client localhost: exit status" "$status" 2
    run_split "$LAB/server" 1 2
    is "server 1 2: exit status" "$status" 2
    run_split "$LAB/server" -q
    is "server -q: exit status" "$status" 2
}

@test "with no PORT the server takes the documented default, 127.0.0.1:5005 (in a network namespace of its own)" {
    default_port_server
    note "server with no arguments: $READY"
    is "the readiness line" "$READY" "listening on 127.0.0.1:5005"
    run_split "$LAB/server" --help
    [[ $output == *"5005"* ]] || fail "server --help does not name 5005: $output"
}

# replies_wait PORT: the server's end of a connection on PORT holds more
# than 64 KiB of replies it cannot send (its Send-Q). ROW is its ss row.
replies_wait() {
    local field
    has_state ESTAB LOCAL "$1" || return 1
    read -ra field <<<"$ROW"   # State Recv-Q Send-Q Local Peer
    test "${field[2]:-0}" -gt 65536
}

@test "-t 1: a client that sends nothing is dropped after 1 s, one that never reads its replies (a zero window) once a write() has waited 1 s; the next client is served" {
    # Two servers, one for each client: the two waits run at once.
    spawn hogs "$LAB/server" -t 1 0
    wait_until said_or_gone "$PID" "$T/hogs.out" 'listening on'
    has_line "$T/hogs.out" 'listening on' || fail "the server exited before it was ready: $(cat "$T/hogs.err")"
    read -r ready <"$T/hogs.out"
    HP=${ready##*:}
    # The lab's client reads all it is sent. This one never does: bash's
    # /dev/tcp connects, cat sends zeros for ever. Its receive buffer
    # fills, its window drops to zero, the server's replies wait in its
    # send buffer (Send-Q), and then its write() waits.
    spawn hog bash -c 'exec cat /dev/zero 3<>"/dev/tcp/127.0.0.1/$0" >&3' "$HP"
    wait_until replies_wait "$HP" || fail "the server's replies do not pile up: ss says $(rows "$HP")"
    note "never reads, the server's end: $ROW"
    has_state ESTAB PEER "$HP" || fail "the client's end is not ESTAB: ss says $(rows "$HP")"
    note "never reads, the client's end: $ROW"

    server -t 1
    session idle                      # connected; sends nothing, never closes
    IDLE=$CLIENT_PID
    accepted
    t0=${EPOCHREALTIME/./}
    echo "next" >"$T/next.in"
    spawn next "$LAB/client" 127.0.0.1 "$P"
    NEXT=$PID
    # Its handshake is the kernel's, so it connects at once; its reply waits
    # for the server, which waits for the first client.
    wait_until said_or_gone "$NEXT" "$T/next.err" 'connect\(.*\) = 0'
    expect_line "$T/next.err" 'connect\(.*\) = 0' "the next client's connect()"
    if has_line "$T/next.err" 'read\(\) = [0-9]+ bytes'; then
        fail "the next client got its reply while the server still served the first"
    fi
    WAIT_LIMIT=2 wait_exit "$NEXT" || fail "the next client was not served within about 2 s"
    ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    note_lines "sends nothing: " < <(grep -E 'accept|read\(\) = -1|close' "$T/server.err")
    note "the next client: exit $STATUS, '$(<"$T/next.out")', $ms ms after it started"
    is "the next client's exit status" "$STATUS" 0
    is "the next client's output" "$(<"$T/next.out")" NEXT
    expect_line "$T/server.err" '^\[server\] read\(\) = -1: Resource temporarily unavailable \(nothing for 1 s\): client dropped  state=ESTABLISHED$' \
        "the server dropping the silent client"
    wait_exit "$IDLE"
    last_match "$T/idle.err" '^client: ' || LINE="(no error line)"
    note "the client that sent nothing: exit $STATUS: $LINE"
    is "the silent client's exit status" "$STATUS" 1

    # Each write() that made some progress before its second was up
    # returns that much: it can take two or three waits.
    WAIT_LIMIT=5 wait_until has_line "$T/hogs.err" 'client dropped'
    last_match "$T/hogs.err" 'client dropped' || LINE="(none)"
    note "never reads: $LINE"
    is "the server dropping the client that never reads" "$LINE" \
        "[server] write() = -1: Resource temporarily unavailable (not read for 1 s): client dropped  state=ESTABLISHED"
    run_client next2 127.0.0.1 "$HP" <<<"next"
    note "its server, the next client: exit $STATUS, '$OUT'"
    is "the next client's output" "$OUT" NEXT
    run_split "$LAB/server" --help
    [[ $output == *"-t SECONDS"*"default 30"* ]] || fail "server --help does not say -t SECONDS ... default 30: $output"
}

# vanish: a client connected to the namespace's server, which has echoed
# a line, then the network goes (lo's queue holds everything) and so does
# the client: its kernel's FIN waits in the queue, the server hears nothing.
vanish() {
    mkfifo "$T/gone.in"
    exec 5<>"$T/gone.in"
    spawn gone "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P"
    GONE=$PID
    echo "before" >&5
    wait_until said_or_gone "$GONE" "$T/gone.err" 'read\(\) = 7 bytes'   # the connection works
    expect_line "$T/gone.err" 'read\(\) = 7 bytes' "the client's first reply"
    gate_shut
    kill -KILL "$GONE"
    wait_gone "$GONE"
    wait_until gate_holds 1 || fail "lo's queue holds nothing: $("${NSX[@]}" tc -s qdisc show dev lo)"
    note "client killed; tc -s qdisc show dev lo: backlog $QUEUED (its FIN, held)"
}

@test "a client that vanishes (its packets held by tc, then killed: no FIN or RST arrives) costs the server -t seconds, then it takes the next" {
    netns_setup
    need_lo_gate
    ns_server -t 1
    vanish
    WAIT_LIMIT=3 wait_until has_line "$T/server.err" 'client dropped'
    last_match "$T/server.err" 'client dropped' || LINE="(none)"
    note "$LINE"
    is "the server dropping the vanished client" "$LINE" \
        "[server] read() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped  state=ESTABLISHED"
    wait_until has_line "$T/server.err" 'close\(fd'
    # The queue goes, and what it held with it: the FIN is lost for good.
    "${NSX[@]}" tc qdisc delete dev lo root
    STATUS=0
    timeout -k 2 "$WAIT_LIMIT" "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P" <<<"next" >"$T/next.out" 2>"$T/next.err" 3>&- || STATUS=$?
    note "the next client: exit $STATUS, '$(<"$T/next.out")'"
    is "the next client's output" "$(<"$T/next.out")" NEXT
    is "accept() lines in the server's narration" "$(count 'accept\(\) = fd' "$T/server.err")" 2
}

@test "a link-local address with a 15-character interface name (fe80:...%ifname, 55 characters): the readiness line shows it whole" {
    netns_setup
    long_link_local
    link=$LINK addr=$ADDR6
    ns_server -b "$addr%$link"
    note "$READY"
    is "the readiness line" "$READY" "listening on [$addr%$link]:$P"
    STATUS=0
    timeout -k 2 "$WAIT_LIMIT" "${NSX[@]}" "$LAB/client" "$addr%$link" "$P" <<<"scoped" >"$T/c.out" 2>"$T/c.err" 3>&- || STATUS=$?
    note_lines "" < <(grep -E 'connect\(' "$T/c.err")
    is "the client's output" "$(<"$T/c.out")" SCOPED
    expect_line "$T/c.err" "^\\[client\\] connect\\(\\[$addr%$link\\]:$P\\) = 0  state=ESTABLISHED\$" "the client's connect() to the scoped address"
}

# --- Going further ---------------------------------------------------------

@test "[extra 1] client -T 1 in front of a full accept queue: the SYN gets no answer, and connect() gives up after 1 s: exit 1, Connection timed out" {
    server -q 0 -A
    session first   # fills the queue: backlog 0 holds one connection
    wait_until queued "$P" 1 || fail "the listener's queue does not hold the first client: $LISTENER"
    t0=${EPOCHREALTIME/./}
    run_client late -T 1 127.0.0.1 "$P" </dev/null
    ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    note_lines "" < <(grep -vE 'getaddrinfo' "$T/late.err")
    note "exit $STATUS after $ms ms"
    is "client -T 1's exit status (124: still waiting after ${WAIT_LIMIT} s)" "$STATUS" 1
    is "client -T 1's error" "$LAST" "client: connect 127.0.0.1:$P: Connection timed out"
    expect_line "$T/late.err" "^\\[client\\] connect\\(127\\.0\\.0\\.1:$P\\) = -1: Operation now in progress  state=SYN_SENT\$" \
        "the non-blocking connect(): it returns at once, the SYN sent"
    expect_line "$T/late.err" '^\[client\] poll\(POLLOUT, 1 s\) = 0: no answer  state=SYN_SENT$' "the poll() that waits for the handshake"
    [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] || fail "client -T 1 gave up after $ms ms, not about 1 s"
}

@test "[extra 1] client -T 5: a server that answers is reached as before, a closed port is refused at once (SO_ERROR); -T 0 and -T alone are usage errors" {
    server
    run_client ok -T 5 127.0.0.1 "$P" <<<"in time"
    note_lines "" < <(grep -E 'connect\(|poll\(|SO_ERROR' "$T/ok.err")
    is "client -T 5's exit status" "$STATUS" 0
    is "client -T 5's output" "$OUT" "IN TIME"
    expect_line "$T/ok.err" '^\[client\] getsockopt\(SO_ERROR\) = 0  error=0$' "getsockopt(SO_ERROR) after poll(): 0, connected"
    expect_line "$T/ok.err" "^\\[client\\] connect\\(127\\.0\\.0\\.1:$P\\) = 0  state=ESTABLISHED\$" "the connection, done"
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run_client refused -T 5 127.0.0.1 "$P" </dev/null
    note_lines "" < <(grep -E 'SO_ERROR|^client: ' "$T/refused.err")
    is "client -T 5's exit status, nobody listening" "$STATUS" 1
    is "client -T 5's error, nobody listening" "$LAST" "client: connect 127.0.0.1:$P: Connection refused"
    run_split timeout -k 1 "$WAIT_LIMIT" "$LAB/client" -T 0 127.0.0.1 "$P"
    is "client -T 0: exit status" "$status" 2
    run_split "$LAB/client" -T
    is "client -T: exit status" "$status" 2
    note "client -T: ${stderr_lines[0]:-}"
}

# keepalive_timer PORT: the server's end of a connection on PORT has its
# keepalive timer running (ss -o: timer:(keepalive,TIME,PROBES)); KA_ROW
# is its row.
keepalive_timer() {
    KA_ROW=$(ss -tanoH state established "( sport = :$1 )")
    [[ $KA_ROW == *"timer:(keepalive,"* ]] || return 1
}

@test "[extra 2] server -k 2: each accepted connection gets keepalive (SO_KEEPALIVE, TCP_KEEPIDLE...): the narration says so, ss -o shows its timer" {
    server -k 2
    session client
    accepted
    wait_until keepalive_timer "$P" || fail "no keepalive timer on the server's end: ss -tano says $(ss -tanoH "( sport = :$P )")"
    note "server end: $KA_ROW"
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] setsockopt\(SO_KEEPALIVE' || true    # narrated after the call
    last_match "$T/server.err" 'KEEP' && note "$LINE"
    expect_line "$T/server.err" '^\[server\] setsockopt\(SO_KEEPALIVE, 1; TCP_KEEPIDLE, TCP_KEEPINTVL, 2; TCP_KEEPCNT, 3\) = 0$' \
        "the server's keepalive setsockopt() narration"
    echo "alive" >&5
    exec 5>&-
    wait_exit "$CLIENT_PID"
    is "the client's output" "$(<"$T/client.out")" "ALIVE"
    run_split timeout -k 1 "$WAIT_LIMIT" "$LAB/server" -k 0
    is "server -k 0: exit status" "$status" 2
}

@test "[extra 2] server -t 0 -k 1: a client that vanishes (packets held by tc) is found by keepalive: read() = -1: Connection timed out, and the next is served" {
    netns_setup
    need_lo_gate
    ns_server -t 0 -k 1
    vanish
    t0=${EPOCHREALTIME/./}
    # 1 s of silence, then 3 probes 1 s apart, none answered: about 4 s.
    WAIT_LIMIT=8 wait_until has_line "$T/server.err" 'read\(\) = -1'
    ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    last_match "$T/server.err" 'read\(\) = -1' || LINE="(none)"
    note "$LINE   ($ms ms after the client vanished)"
    is "the server's read() on the vanished client" "$LINE" "[server] read() = -1: Connection timed out  state=CLOSE"
    "${NSX[@]}" tc qdisc delete dev lo root
    STATUS=0
    timeout -k 2 "$WAIT_LIMIT" "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P" <<<"next" >"$T/next.out" 2>"$T/next.err" 3>&- || STATUS=$?
    is "the next client's output" "$(<"$T/next.out")" NEXT
}
