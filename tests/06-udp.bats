#!/usr/bin/env bats
# Lab 06: UDP: no connection, boundaries kept, truncation, connected UDP
# and ICMP errors, and loss: a full receive queue drops datagrams, and
# asks for more than net.core.rmem_max in vain. And no source is trusted:
# the client takes replies from the server only, the server answers from
# the address it was asked (IP_PKTINFO) and never its own port (loops).

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 06-udp
}

teardown() {
    exec 5>&- 2>/dev/null || true
    lab_teardown
}

# serve [OPTIONS...]: start the server on a free port (PORT 0); PORT is
# the port its readiness line names.
serve() {
    start_server "$@" 0 || return 1
    PORT=${READY##*:}
}

# talk INPUT CLIENT_ARGS...: run the client on INPUT (printf format);
# output in $T/out, narration in $T/client.err, exit status in STATUS.
# `timeout` only guards against a client that would never end. WRAP, if
# set, is a command prefix (an array) to run the client under.
talk() {
    printf "$1" >"$T/in"
    shift
    STATUS=0
    "${WRAP[@]}" timeout "$WAIT_LIMIT" "$LAB/client" "$@" <"$T/in" >"$T/out" 2>"$T/client.err" 3>&- 4>&- || STATUS=$?
}

# udp_row PORT [SS_FLAGS]: the `ss -uan` row(s) of the socket bound to PORT
# (with -m, the skmem line follows).
udp_row() {
    ss -uanH${2:-} "sport = :$1"
}

# drained PORT: the socket bound to PORT has nothing queued (Recv-Q 0).
drained() {
    local field
    read -ra field < <(udp_row "$1")
    [ "${field[1]}" = 0 ]   # State Recv-Q ...
}

# free_port: sets FREE to a UDP port nobody serves: one a server just had.
free_port() {
    spawn probe "$LAB/server" 0
    wait_until has_line "$T/probe.out" 'receiving on' || return 1
    read -r FREE <"$T/probe.out"
    FREE=${FREE##*:}
    kill -TERM "$PID"
    wait_gone "$PID"
}

# have_ipv6_loopback: ::1 exists on lo (IPv6 is not disabled).
have_ipv6_loopback() {
    grep -qs '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# low_port: sets LOW to a UDP port below 1024 that no socket has (ss -uan).
low_port() {
    local used p
    used=" $(ss -uanH | awk '{ n = split($4, a, ":"); print a[n] }' | tr '\n' ' ') "
    for ((p = 1023; p >= 512; p--)); do
        [[ $used == *" $p "* ]] || { LOW=$p; return 0; }
    done
    return 1
}

# loop_or_refusal: the server (A, stopped earlier) narrated its refusal,
# or it has answered more than 3 datagrams: a loop.
loop_or_refusal() {
    has_line "$T/server.err" 'not answered' || [ "$(count '^\[server\] recvmsg' "$T/server.err")" -gt 3 ]
}

@test "[step 2] no listen, no accept, no connection: ss shows the socket UNCONN; strace shows socket, bind, recvmsg, sendto" {
    command -v strace >/dev/null || skip "needs strace"
    spawn server strace -qq -o "$T/trace" -e trace=%network "$LAB/server" 0
    TRACER=$PID
    wait_until ready_or_dead "$TRACER"
    read -r READY <"$T/server.out"
    PORT=${READY##*:}
    SERVER_PID=$(pgrep -P "$TRACER")
    echo "$SERVER_PID" >>"$T/pids"    # teardown stops the server too
    row=$(udp_row "$PORT")
    note "ss -uan 'sport = :$PORT':"
    note "  $row"
    [[ $row == UNCONN*"127.0.0.1:$PORT "* ]]
    talk 'no handshake\n' 127.0.0.1 "$PORT"
    [ "$(<"$T/out")" = "NO HANDSHAKE" ]
    kill -TERM "$SERVER_PID"
    wait_exit "$TRACER"
    calls=$(sed -nE 's/^([a-z0-9_]+)\(.*/\1/p' "$T/trace" | uniq | tr '\n' ' ')
    note "the server's network calls (strace): $calls"
    run ! grep -qE '^(listen|accept|accept4|connect)\(' "$T/trace"
    has_line "$T/trace" '^bind\('
    has_line "$T/trace" '^recvmsg\('
    has_line "$T/trace" '^sendto\('
}

@test "[step 3] boundaries are kept: 3 lines are 3 datagrams, and 3 recvmsg() of their sizes" {
    serve
    talk 'a\nbb bb\nccc ccc ccc\n' 127.0.0.1 "$PORT"
    [ "$STATUS" -eq 0 ]
    note_lines "  " < <(grep 'recvmsg()' "$T/server.err")
    mapfile -t sizes < <(sed -nE 's/^\[server\] recvmsg\(\) = ([0-9]+) bytes.*/\1/p' "$T/server.err")
    [ "${sizes[*]}" = "1 5 11" ]
    [ "$(<"$T/out")" = $'A\nBB BB\nCCC CCC CCC' ]
}

@test "[step 4] an empty line is an empty datagram, answered: not an end of file" {
    serve
    talk 'a\n\nb\n' 127.0.0.1 "$PORT"
    [ "$STATUS" -eq 0 ]
    printf 'A\n\nB\n' | cmp - "$T/out"
    note_lines "  " < <(grep -h '= 0 bytes' "$T/server.err" "$T/client.err")
    has_line "$T/server.err" '^\[server\] recvmsg\(\) = 0 bytes from 127\.0\.0\.1:'
    has_line "$T/client.err" '^\[client\] recvfrom\(\) = 0 bytes from'
    note "output, bytes: $(od -An -c "$T/out" | tr -s ' ')"
}

@test "[step 6] a 65507-byte datagram, the IPv4 maximum, round-trips intact; 65508 bytes: Message too long" {
    serve
    head -c 65507 /dev/urandom | tr '\n' '.' >"$T/line"   # one line, no newline inside
    timeout "$WAIT_LIMIT" "$LAB/client" 127.0.0.1 "$PORT" <"$T/line" >"$T/out" 2>"$T/client.err"
    { upcase <"$T/line"; echo; } | cmp - "$T/out"
    note_lines "  " < <(grep -h '65507' "$T/server.err" "$T/client.err")
    has_line "$T/server.err" 'recvmsg\(\) = 65507 bytes from'
    printf x >>"$T/line"
    run "$LAB/client" 127.0.0.1 "$PORT" <"$T/line"
    note "65508 bytes: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "client: sendto line 1 (65508 bytes): Message too long" ]
}

@test "[step 3] a receive buffer shorter than the datagram truncates it; recvmsg() flags MSG_TRUNC" {
    serve -s 4
    talk 'truncated\n' 127.0.0.1 "$PORT"
    note_lines "  " < <(grep 'recvmsg()' "$T/server.err")
    has_line "$T/server.err" 'recvmsg\(\) = 9 bytes from 127\.0\.0\.1:[0-9]*, buffer holds 4: truncated \(MSG_TRUNC\)'
    note "the reply: $(<"$T/out")"
    [ "$(<"$T/out")" = "TRUN" ]
}

@test "[step 5] connected UDP: ICMP port unreachable comes back as ECONNREFUSED; unconnected, only a timeout" {
    free_port
    talk 'anyone?\n' -c 127.0.0.1 "$FREE"
    note "client -c, no server at port $FREE: exit $STATUS"
    note_lines "  " <"$T/client.err"
    [ "$STATUS" -eq 1 ]
    has_line "$T/client.err" "^\[client\] connect\(127\.0\.0\.1:$FREE\) = 0"
    has_line "$T/client.err" '^\[client\] recvfrom\(\) = -1: Connection refused'
    mapfile -t err <"$T/client.err"
    [ "${err[-1]}" = "client: recvfrom 127.0.0.1:$FREE: Connection refused" ]

    talk 'anyone?\n' -t 200 127.0.0.1 "$FREE"
    note "client (unconnected) -t 200: exit $STATUS"
    note_lines "  " <"$T/client.err"
    [ "$STATUS" -eq 1 ]
    not has_line "$T/client.err" 'refused'
    has_line "$T/client.err" '^\[client\] poll\(\) = 0: no reply in 200 ms'
    mapfile -t err <"$T/client.err"
    [ "${err[-1]}" = "client: 1 of 1 replies missing after 200 ms: lost, or no server at 127.0.0.1:$FREE" ]
}

@test "[step 5] connect() on a UDP socket sends nothing: ss shows the client ESTAB with a peer, the server got no packet" {
    serve
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"    # the client's stdin: open, no line yet
    spawn client "$LAB/client" -c 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until has_line "$T/client.err" '^\[client\] connect\('
    last_match "$T/client.err" 'connect\('
    note "$LINE"
    note "ss -uan '( sport = :$PORT or dport = :$PORT )':"
    ss -uanH "( sport = :$PORT or dport = :$PORT )" | note_lines "  "
    [[ $(udp_row "$PORT") == UNCONN* ]]
    [[ $(ss -uanH "dport = :$PORT") == ESTAB*" 127.0.0.1:$PORT"* ]]
    note "recvmsg() in the server's narration so far: $(grep -c 'recvmsg' "$T/server.err") times"
    not has_line "$T/server.err" 'recvmsg'
    echo "now" >&5
    exec 5>&-
    wait_exit "$CLIENT_PID"
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/client.out")" = "NOW" ]
}

@test "[step 6] UDP loses: 1000 datagrams at a stopped server with a small SO_RCVBUF; ss -uam counts the drops" {
    serve -r 4096
    note_lines "  " < <(grep 'SO_RCVBUF' "$T/server.err")
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    seq 1000 >"$T/burst"
    timeout "$WAIT_LIMIT" "$LAB/client" -n 127.0.0.1 "$PORT" <"$T/burst" 2>"$T/client.err"
    sent=$(grep -c '^\[client\] sendto(127.0.0.1:[0-9]*) = [0-9]* bytes' "$T/client.err")
    mem=$(udp_row "$PORT" m)
    note "the client sent $sent datagrams without waiting; the server is stopped. ss -uanm:"
    note_lines "  " <<<"$mem"
    [[ $mem =~ skmem:\(.*,d([0-9]+)\) ]] && drops=${BASH_REMATCH[1]}
    kill -CONT "$SERVER_PID"
    wait_until drained "$PORT"                # the server has read its queue
    talk 'last\n' -t 5000 127.0.0.1 "$PORT"   # answered after all the others
    [ "$(<"$T/out")" = "LAST" ]
    received=$(($(grep -c '^\[server\] recvmsg()' "$T/server.err") - 1))
    note "sent $sent, received by the server $received, dropped by the kernel (d) $drops"
    [ "$sent" -eq 1000 ]
    [ "$drops" -gt 0 ]
    [ "$received" -lt "$sent" ]
    [ $((received + drops)) -eq "$sent" ]
}

@test "bad input: PORT abc, -1, 70000 and '' exit 2; -h exits 0; the client needs HOST and PORT" {
    for port in abc -1 70000 ""; do
        run "$LAB/server" -- "$port"   # --: a PORT of -1 is not an option
        [ "$status" -eq 2 ]
        [[ ${lines[0]} == "server: bad PORT '$port'"* ]]
        server_says=${lines[0]}
        run "$LAB/client" -- 127.0.0.1 "$port"
        [ "$status" -eq 2 ]
        [[ ${lines[0]} == "client: bad PORT '$port'"* ]]
        note "PORT '$port': exit 2:  $server_says  |  ${lines[0]}"
    done
    run "$LAB/client" 127.0.0.1 0
    [ "$status" -eq 2 ]
    for args in "" "127.0.0.1"; do
        run "$LAB/client" $args
        note "client $args: exit $status: ${lines[0]}"
        [ "$status" -eq 2 ]
    done
    run "$LAB/server" -b nonsense 0
    note "server -b nonsense: exit $status: ${lines[0]}"
    [ "$status" -eq 2 ]
    for args in "-b nonsense" "-p 0" "-p 70000"; do
        run "$LAB/client" $args 127.0.0.1 1
        note "client $args: exit $status: ${lines[0]}"
        [ "$status" -eq 2 ]
    done
    usage_contract server 5006
    usage_contract client "HOST PORT"
}

@test "[step 2] a port in use: the second server exits 1 with the reason; the first keeps serving" {
    serve
    run "$LAB/server" "$PORT"
    note "second server on port $PORT: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "server: bind 127.0.0.1:$PORT: Address already in use" ]
    talk 'still here\n' 127.0.0.1 "$PORT"
    [ "$(<"$T/out")" = "STILL HERE" ]
}

@test "[step 1] IPv6: server -b ::1 0 receives on [::1]:PORT; client ::1 PORT gets its reply" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    serve -b ::1
    note "readiness line: $READY"
    [[ $READY =~ ^receiving\ on\ \[::1\]:[0-9]+$ ]]
    note "ss -uan: $(udp_row "$PORT")"
    talk 'six\n' ::1 "$PORT"
    [ "$(<"$T/out")" = "SIX" ]
    note_lines "  " < <(grep -E 'socket|recvmsg' "$T/server.err")
    has_line "$T/server.err" '^\[server\] socket\(AF_INET6, SOCK_DGRAM\) = fd'
    has_line "$T/server.err" '^\[server\] recvmsg\(\) = 3 bytes from \[::1\]:'
}

@test "[step 6] client localhost PORT works" {
    serve
    talk 'local\n' localhost "$PORT"
    note "localhost is: $(getent ahosts localhost | awk '$2 == "DGRAM" {print $1}' | tr '\n' ' ')"
    note_lines "  " <"$T/client.err"
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/out")" = "LOCAL" ]
}

@test "[step 5] a name with two addresses, ::1 then 127.0.0.1: each is tried until one answers" {
    [ "$(id -u)" -eq 0 ] || skip "needs root: a private /etc/hosts (unshare -m) where localhost is ::1, then 127.0.0.1"
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    printf '::1 localhost\n127.0.0.1 localhost\n' >"$T/hosts"
    # The client runs in a mount namespace of its own, where $T/hosts is
    # /etc/hosts. Nothing outside sees it.
    WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts")
    "${WRAP[@]}" true 2>/dev/null || skip "unshare -m and mount --bind are not allowed here"
    serve    # on 127.0.0.1 only
    talk 'connected\n' -c localhost "$PORT"
    note "client -c localhost $PORT: exit $STATUS"
    note_lines "  " <"$T/client.err"
    [ "$(<"$T/out")" = "CONNECTED" ]
    has_line "$T/client.err" "connect\(\[::1\]:$PORT\) = 0"
    has_line "$T/client.err" 'recvfrom\(\) = -1: Connection refused'
    has_line "$T/client.err" "connect\(127\.0\.0\.1:$PORT\) = 0"

    talk 'unconnected\n' -t 400 localhost "$PORT"
    note "client -t 400 localhost $PORT: exit $STATUS"
    note_lines "  " <"$T/client.err"
    [ "$(<"$T/out")" = "UNCONNECTED" ]
    has_line "$T/client.err" "sendto\(\[::1\]:$PORT\) = 11 bytes"
    has_line "$T/client.err" 'poll\(\) = 0: no reply in 400 ms'
    has_line "$T/client.err" "sendto\(127\.0\.0\.1:$PORT\) = 11 bytes"
}

@test "with no PORT the server takes the documented default, 127.0.0.1:5006 (in a network namespace of its own)" {
    default_port_server
    note "server with no arguments: $READY"
    [ "$READY" = "receiving on 127.0.0.1:5006" ]
    run "$LAB/server" --help
    [[ $output == *"5006"* ]]
}

@test "a datagram from anyone but the server is no reply: the client ignores a third party's, and prints only the server's" {
    serve
    kill -STOP "$SERVER_PID"     # the real reply waits until the third party has spoken
    wait_until stopped "$SERVER_PID"
    echo "pay 100 to bob" >"$T/client.in"
    spawn client "$LAB/client" -t 5000 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] getsockname\(\) = '
    last_match "$T/client.err" '^\[client\] getsockname\(\) = .*:([0-9]+)$'
    note "$LINE"
    # bash's /dev/udp: a socket of its own, connected to the client's port.
    printf 'TRANSFER 100 TO MALLORY' >"/dev/udp/127.0.0.1/$MATCH"
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] recvfrom\(\)'
    kill -CONT "$SERVER_PID"
    wait_exit "$CLIENT_PID"
    note_lines "  " < <(grep 'recvfrom' "$T/client.err")
    note "the client printed: $(<"$T/client.out"); exit $STATUS"
    has_line "$T/client.err" '^\[client\] recvfrom\(\) = 23 bytes from 127\.0\.0\.1:[0-9]+: not the server, ignored$'
    [ "$STATUS" -eq 0 ]
    [ "$(<"$T/client.out")" = "PAY 100 TO BOB" ]
}

@test "bound to the wildcard (-b 0.0.0.0, -b ::), the server replies from the address each request came to (IP_PKTINFO): client -c 127.0.0.2 gets its reply" {
    serve -b 0.0.0.0
    talk 'two\n' -c -t 1000 127.0.0.2 "$PORT"
    note "server -b 0.0.0.0, client -c 127.0.0.2 $PORT: exit $STATUS, printed: $(<"$T/out")"
    note_lines "  " < <(grep -E 'getaddrinfo|PKTINFO|recvmsg|sendmsg' "$T/server.err")
    [ "$(<"$T/out")" = "TWO" ]
    has_line "$T/server.err" '^\[server\] recvmsg\(\) = 3 bytes from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.2$'
    has_line "$T/server.err" '^\[server\] sendmsg\(127\.0\.0\.1:[0-9]+, from 127\.0\.0\.2\) = 3 bytes$'
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled): -b :: not tried"
    kill -TERM "$SERVER_PID"
    wait_gone "$SERVER_PID"
    rm "$T/server.out" "$T/server.err"
    serve -b ::      # IPv6, and IPv4 too: 127.0.0.2 comes as ::ffff:127.0.0.2
    talk 'three\n' -c -t 1000 127.0.0.2 "$PORT"
    note "server -b ::, client -c 127.0.0.2 $PORT: exit $STATUS, printed: $(<"$T/out")"
    note_lines "  " < <(grep -E 'recvmsg|sendmsg' "$T/server.err")
    [ "$(<"$T/out")" = "THREE" ]
    has_line "$T/server.err" '^\[server\] sendmsg\(\[::ffff:127\.0\.0\.1\]:[0-9]+, from ::ffff:127\.0\.0\.2\) = 5 bytes$'
}

@test "server -b '*': getaddrinfo(NULL, PORT, AI_PASSIVE) gives the wildcard (AI_PASSIVE only with no node), and a client of 127.0.0.2 gets its reply" {
    serve -b '*'
    note "server -b '*' 0: $READY"
    [[ $READY =~ ^receiving\ on\ (0\.0\.0\.0|\[::\]):[0-9]+$ ]]
    has_line "$T/server.err" '^\[server\] getaddrinfo\(NULL, 0, AI_PASSIVE\) = (0\.0\.0\.0|\[::\]):0$'
    # With a node, AI_PASSIVE would be ignored: none is passed. (This server
    # stops at bind(): the port is taken.)
    run_split "$LAB/server" -b 0.0.0.0 "$PORT"
    note "server -b 0.0.0.0 $PORT: ${stderr_lines[0]}"
    [ "${stderr_lines[0]}" = "[server] getaddrinfo(0.0.0.0, $PORT) = 0.0.0.0:$PORT" ]
    talk 'star\n' 127.0.0.2 "$PORT"
    note_lines "  " < <(grep -hE 'bind|recvfrom' "$T/server.err" "$T/client.err")
    [ "$(<"$T/out")" = "STAR" ]
}

@test "no loop: the server never answers a datagram from its own port; two servers on one port, pointed at each other, stay quiet" {
    serve                        # A, on 127.0.0.1:PORT
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    # A datagram for A from 127.0.0.2:PORT, the address of a second server
    # to come: the client sends it from there (-b, -p) and exits (-n).
    talk 'ping\n' -n -b 127.0.0.2 -p "$PORT" 127.0.0.1 "$PORT"
    [ "$STATUS" -eq 0 ]
    spawn twin "$LAB/server" -b 127.0.0.2 "$PORT"    # B, on 127.0.0.2:PORT
    TWIN_PID=$PID
    wait_until said_or_gone "$TWIN_PID" "$T/twin.out" 'receiving on'
    has_line "$T/twin.out" 'receiving on'
    kill -CONT "$SERVER_PID"     # A's reply would go to B, B's to A...
    wait_until loop_or_refusal
    # (Checked before anything reads the whole files: a loop writes
    # thousands of lines a second.)
    has_line "$T/server.err" "^\[server\] recvmsg\(\) = 4 bytes from 127\.0\.0\.2:$PORT: our own port, not answered \(a loop\)$"
    talk 'twin\n' 127.0.0.2 "$PORT"   # B serves a real client
    note_lines "A: " <"$T/server.err"
    note_lines "B: " <"$T/twin.err"
    [ "$(<"$T/out")" = "TWIN" ]
    [ "$(count 'recvmsg' "$T/server.err")" -eq 1 ]
    [ "$(count 'recvmsg' "$T/twin.err")" -eq 1 ]    # the client's, and nothing from A
}

@test "no loop: a datagram from a port below 1024 (a service's: echo is 7, chargen 19) is not answered" {
    low_port || skip "no free UDP port below 1024"
    [ "$(id -u)" -eq 0 ] || [ "$(</proc/sys/net/ipv4/ip_unprivileged_port_start)" -le "$LOW" ] ||
        skip "needs root to send from port $LOW"
    serve
    talk 'echo?\n' -n -b 127.0.0.2 -p "$LOW" 127.0.0.1 "$PORT"
    wait_until has_line "$T/server.err" 'recvmsg'
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    has_line "$T/server.err" "^\[server\] recvmsg\(\) = 5 bytes from 127\.0\.0\.2:$LOW: a service's port, not answered \(a loop\)$"
    not has_line "$T/server.err" 'sendto'
}

@test "SO_RCVBUF: the server narrates what it asked and what getsockopt() returns: min(asked, net.core.rmem_max), doubled" {
    read -r max </proc/sys/net/core/rmem_max
    ask=16777216                 # the most -r takes: 16 MiB
    serve -r "$ask"
    note_lines "  " < <(grep 'SO_RCVBUF' "$T/server.err")
    last_match "$T/server.err" '^\[server\] getsockopt\(SO_RCVBUF\) = ([0-9]+) '
    got=$MATCH
    want=$((2 * (ask < max ? ask : max)))
    note "asked $ask, net.core.rmem_max $max: got $got, 2 x $((want / 2))"
    [ "$got" -eq "$want" ]
    has_line "$T/server.err" "^\[server\] setsockopt\(SO_RCVBUF, $ask\) = 0$"
    has_line "$T/server.err" "getsockopt\(SO_RCVBUF\) = $got \(asked $ask, (capped at|within) net\.core\.rmem_max $max, doubled: socket\(7\)\)$"
}
