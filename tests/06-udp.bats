#!/usr/bin/env bats
# Lab 06: UDP: no connection, boundaries kept, truncation, connected UDP
# and ICMP errors, and loss: a full receive queue drops datagrams, and
# asks for more than net.core.rmem_max in vain. And no source is trusted:
# the client takes replies from the server only, the server answers from
# the address it was asked (IP_PKTINFO) and never its own port (loops).
#
# Steps 1 to 4 are the server's, 5 and 6 the client's. Under make check a
# step's test runs the student's program holding it against the reference
# other one, so each test looks at the step's own program first: what
# strace saw it call, what it narrated, what the reference peer received.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 06-udp
}

teardown() {
    exec 5>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    lab_teardown
}

# serve [OPTIONS...]: start the server on a free port (PORT 0); PORT is
# the port its readiness line names.
serve() {
    start_server "$@" 0 || return 1
    PORT=${READY##*:}
}

# traced CALLS [OPTIONS...]: the server on PORT 0 under strace -e
# trace=CALLS, its calls in $T/trace, until it is ready or gone. TRACER is
# strace's pid, SERVER_PID the server's (empty once it is gone); READY and
# PORT as serve's, empty when it never got ready. stop_traced ends both.
traced() {
    local calls=$1
    shift
    command -v strace >/dev/null || skip "needs strace (package strace)"
    spawn server strace -qq -o "$T/trace" -e trace="$calls" "$LAB/server" "$@" 0
    TRACER=$PID
    wait_until ready_or_dead "$TRACER"
    SERVER_PID=$(pgrep -P "$TRACER") || SERVER_PID=
    [ -z "$SERVER_PID" ] || echo "$SERVER_PID" >>"$T/pids"    # teardown stops it too
    READY= PORT=
    if [ -s "$T/server.out" ]; then
        read -r READY <"$T/server.out"
        PORT=${READY##*:}
    fi
}

stop_traced() {
    if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; fi
    wait_exit "$TRACER"    # strace has written the whole trace
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

# client_port: CPORT, the port the client sent from, as its narration of
# getsockname() after the first send says.
client_port() {
    last_match "$T/client.err" '^\[client\] getsockname\(\) = .*:([0-9]+)$' ||
        fail "the client never narrated getsockname() after a send; it said: $(tail -n 5 "$T/client.err")"
    CPORT=$MATCH
}

# received N: the server has narrated N recvmsg() calls, or is gone.
received() {
    [ "$(count '^\[server\] recvmsg\(\)' "$T/server.err")" -ge "$1" ] || gone "$SERVER_PID"
}

# replied N: the server has narrated N replies (sent, or refused by -l),
# or is gone. The client can have its last reply, and end, before the
# server narrates that sendto(): wait for the line before judging it.
replied() {
    [ "$(count '^\[server\] (sendto\(|sendmsg\(|rate limit: )' "$T/server.err")" -ge "$1" ] || gone "$SERVER_PID"
}

# copies_sent N: the client has narrated N sendto() calls, or is gone.
copies_sent() {
    [ "$(count '^\[client\] sendto' "$T/client.err")" -ge "$1" ] || gone "$CLIENT_PID"
}

# last_line FILE: the last line of FILE, in LAST ('' when none).
last_line() {
    LAST=
    local line
    while IFS= read -r line; do LAST=$line; done <"$1"
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
    [ "${field[1]:-}" = 0 ] || return 1   # State Recv-Q ...
}

# free_port: sets FREE to a UDP port nobody serves: one a server just had.
free_port() {
    spawn probe "$LAB/server" 0
    wait_until has_line "$T/probe.out" 'receiving on' || fail "a server on port 0 never got ready: $(cat "$T/probe.err")"
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
    has_line "$T/server.err" 'not answered' || [ "$(count '^\[server\] recvmsg' "$T/server.err")" -gt 3 ] || return 1
}

# ---- Step 1: the server's socket ------------------------------------------

@test "[step 1] the server's socket is the kind getaddrinfo describes: for 127.0.0.1, strace shows socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)" {
    traced socket -b 127.0.0.1
    stop_traced
    has_line "$T/trace" '^socket\(' || fail "strace saw no socket() call; the server said: $(tail -n 2 "$T/server.err")"
    note "strace: $(grep '^socket' "$T/trace")"
    note "narration: $(grep -m 1 'socket' "$T/server.err")"
    expect_line "$T/trace" '^socket\(AF_INET, SOCK_DGRAM, (IPPROTO_UDP|IPPROTO_IP|0)\) = [0-9]+$' \
        "strace of the server's socket() call (family, type and protocol as getaddrinfo gave them)"
    expect_line "$T/server.err" '^\[server\] socket\(AF_INET, SOCK_DGRAM\) = fd [0-9]+$' \
        "the server's narration after socket() (it comes once the descriptor in sfd is checked)"
}

@test "[step 1] IPv6: for -b ::1, strace shows socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP): the family comes from getaddrinfo, not from the code" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    traced socket -b ::1
    stop_traced
    has_line "$T/trace" '^socket\(' || fail "strace saw no socket() call; the server said: $(tail -n 2 "$T/server.err")"
    note "strace: $(grep '^socket' "$T/trace")"
    expect_line "$T/trace" '^socket\(AF_INET6, SOCK_DGRAM, (IPPROTO_UDP|IPPROTO_IP|0)\) = [0-9]+$' \
        "strace of the server's socket() call with -b ::1"
    expect_line "$T/server.err" '^\[server\] socket\(AF_INET6, SOCK_DGRAM\) = fd [0-9]+$' \
        "the server's narration after socket()"
}

# ---- Step 2: bind ---------------------------------------------------------

@test "[step 2] bound, never connected: the readiness line names 127.0.0.1:PORT, ss shows the socket UNCONN there; strace shows bind() and no listen, accept or connect" {
    traced %network
    [ -n "$READY" ] || fail "the server exited before its readiness line; it said: $(tail -n 3 "$T/server.err")"
    [[ $READY =~ ^receiving\ on\ 127\.0\.0\.1:[0-9]+$ ]] || fail "readiness line: expected 'receiving on 127.0.0.1:PORT', saw '$READY'"
    row=$(udp_row "$PORT")
    note "ss -uan 'sport = :$PORT':"
    note "  $row"
    [[ $row == UNCONN*"127.0.0.1:$PORT "* ]] || fail "ss -uan shows no UNCONN socket on 127.0.0.1:$PORT: '$row'"
    stop_traced
    calls=$(sed -nE 's/^([a-z0-9_]+)\(.*/\1/p' "$T/trace" | uniq | tr '\n' ' ')
    note "the server's network calls (strace): $calls"
    expect_line "$T/trace" '^bind\([0-9]+, \{sa_family=AF_INET, sin_port=htons\(0\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, 16\) = 0$' \
        "strace of bind(): the address and length getaddrinfo gave"
    not has_line "$T/trace" '^(listen|accept|accept4|connect)\(' ||
        fail "a UDP server needs no listen, accept or connect; strace saw: $calls"
}

@test "[step 2] IPv6: server -b ::1 binds [::1]:PORT: its readiness line and ss say so" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    serve -b ::1
    note "readiness line: $READY"
    [[ $READY =~ ^receiving\ on\ \[::1\]:[0-9]+$ ]] || fail "readiness line: expected 'receiving on [::1]:PORT', saw '$READY'"
    row=$(udp_row "$PORT")
    note "ss -uan: $row"
    [[ $row == UNCONN*"[::1]:$PORT "* ]] || fail "ss -uan shows no UNCONN socket on [::1]:$PORT: '$row'"
}

@test "[step 2] a port in use: a second server's bind() fails, exit 1 with the reason; the first keeps its port and goes on receiving" {
    serve
    run_split "$LAB/server" "$PORT"
    note "second server on port $PORT: exit $status: ${stderr##*$'\n'}"
    is "the second server's exit status" "$status" 1
    is "the second server's last line" "${stderr##*$'\n'}" "server: bind 127.0.0.1:$PORT: Address already in use"
    alive "$SERVER_PID" || fail "the first server died when the second one tried its port: $(tail -n 3 "$T/server.err")"
    printf 'still here' >"/dev/udp/127.0.0.1/$PORT"    # bash: one datagram, from a socket of its own
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" '^\[server\] recvmsg\(\) = 10 bytes'
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 10 bytes' "the first server, receiving after the second one failed"
}

# ---- Step 3: recvmsg ------------------------------------------------------

@test "[step 3] boundaries are kept: 4 lines are 4 datagrams, received by 4 recvmsg() of their sizes (0 for the empty one), each from the client's address" {
    serve
    talk 'a\nbb bb\n\nccc ccc ccc\n' -n 127.0.0.1 "$PORT"    # -n: send, expect no reply
    is "the exit status of client -n" "$STATUS" 0
    client_port
    wait_until received 4 || true    # what came is judged below
    note_lines "  " < <(grep 'recvmsg()' "$T/server.err")
    want=$(printf "[server] recvmsg() = %s bytes from 127.0.0.1:$CPORT\n" 1 5 0 11)
    is "the server's recvmsg() narration (sizes, and the sender: the client's port $CPORT)" \
        "$(grep '^\[server\] recvmsg' "$T/server.err")" "$want"
    alive "$SERVER_PID" || fail "the server is gone after an empty datagram: it is data, not an end"
}

@test "[step 3] a datagram longer than the buffer: recvmsg() returns its real length (MSG_TRUNC passed) and flags it truncated (MSG_TRUNC returned)" {
    serve -s 4
    talk 'truncated\n' -n 127.0.0.1 "$PORT"
    wait_until received 1 || true    # what came is judged below
    note_lines "  " < <(grep 'recvmsg()' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 9 bytes from 127\.0\.0\.1:[0-9]+, buffer holds 4: truncated \(MSG_TRUNC\)$' \
        "server -s 4, sent 'truncated' (9 bytes)"
}

@test "[step 3] IPv6: the sender's address comes whole: recvmsg() from [::1]:PORT, the client's port" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    serve -b ::1
    talk 'six\n' -n ::1 "$PORT"
    client_port
    wait_until received 1 || true    # what came is judged below
    note_lines "  " < <(grep 'recvmsg()' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 3 bytes from \[::1\]:$CPORT$" \
        "the server's recvmsg() of the client's datagram (from [::1]:$CPORT: room for the whole address)"
}

# ---- Step 4: sendto -------------------------------------------------------

@test "[step 4] each datagram is answered to its sender: strace shows recvmsg(), then sendto() to the client's address; the client prints the replies" {
    traced recvmsg,sendto
    [ -n "$PORT" ] || fail "the server exited before its readiness line; it said: $(tail -n 3 "$T/server.err")"
    talk 'a\nbb bb\nccc ccc ccc\n' 127.0.0.1 "$PORT"
    client_port
    wait_until replied 3 || true    # what came is judged below
    stop_traced
    note_lines "  " < <(grep -E 'sendto' "$T/server.err")
    want=$(printf "[server] sendto(127.0.0.1:$CPORT) = %s bytes\n" 1 5 11)
    is "the server's sendto() narration" "$(grep '^\[server\] sendto' "$T/server.err")" "$want"
    expect_line "$T/trace" '^recvmsg\(' "strace of the server"
    expect_line "$T/trace" "^sendto\([0-9]+, \"A\", 1, 0, \{sa_family=AF_INET, sin_port=htons\($CPORT\), sin_addr=inet_addr\(\"127\.0\.0\.1\"\)\}, 16\) = 1$" \
        "strace of the first reply: 1 byte, to the client's address and port"
    is "what the client printed" "$(<"$T/out")" $'A\nBB BB\nCCC CCC CCC'
    is "the client's exit status" "$STATUS" 0
}

@test "[step 4] an empty datagram gets an empty reply: sendto() = 0 bytes, and the client prints an empty line" {
    serve
    talk 'a\n\nb\n' 127.0.0.1 "$PORT"
    note_lines "  " < <(grep -h '= 0 bytes' "$T/server.err" "$T/client.err")
    expect_line "$T/server.err" '^\[server\] sendto\(127\.0\.0\.1:[0-9]+\) = 0 bytes$' "the server's reply to the empty datagram"
    note "output, bytes: $(od -An -c "$T/out" | tr -s ' ')"
    printf 'A\n\nB\n' | cmp -s - "$T/out" || fail "the client printed $(od -An -c "$T/out" | tr -s ' '), not A, an empty line, B"
    is "the client's exit status" "$STATUS" 0
}

@test "[step 4] a truncated datagram is answered with the bytes received, len, not n: server -s 4 answers 'truncated' with TRUN" {
    serve -s 4
    talk 'truncated\n' 127.0.0.1 "$PORT"
    wait_until replied 1 || true    # what came is judged below
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] sendto\(127\.0\.0\.1:[0-9]+\) = 4 bytes$' "the server's reply: the 4 bytes its buffer holds"
    is "the reply the client printed" "$(<"$T/out")" TRUN
}

@test "[step 4] IPv6: the reply goes back to [::1]:PORT, whole address and its length: client ::1 PORT gets SIX" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    serve -b ::1
    talk 'six\n' ::1 "$PORT"
    client_port
    wait_until replied 1 || true    # what came is judged below
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] sendto\(\[::1\]:$CPORT\) = 3 bytes$" "the server's reply to [::1]:$CPORT"
    is "the reply the client printed" "$(<"$T/out")" SIX
}

# ---- Step 5: connect (the client, with -c) --------------------------------

@test "[step 5] connect() on a UDP socket sends nothing: ss shows the client ESTAB, its peer the server; the server got no packet" {
    serve
    mkfifo "$T/client.in"
    exec 5<>"$T/client.in"    # the client's stdin: open, no line yet
    spawn client "$LAB/client" -c 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] connect\('
    expect_line "$T/client.err" "^\[client\] connect\(127\.0\.0\.1:$PORT\) = 0$" "the client's connect() (-c)"
    note "$(grep 'connect(' "$T/client.err")"
    note "ss -uan '( sport = :$PORT or dport = :$PORT )':"
    ss -uanH "( sport = :$PORT or dport = :$PORT )" | note_lines "  "
    row=$(ss -uanH "dport = :$PORT")
    [[ $row == ESTAB*" 127.0.0.1:$PORT"* ]] || fail "ss -uan 'dport = :$PORT': no ESTAB socket with the server as its peer: '$row'"
    note "recvmsg() in the server's narration so far: $(count 'recvmsg' "$T/server.err") times"
    not has_line "$T/server.err" 'recvmsg' || fail "the server received a datagram, and no line was given: connect() sent nothing"
    exec 5>&-                 # end of input, no line: the client is done
    wait_exit "$CLIENT_PID"
    is "the client's exit status (no input)" "$STATUS" 0
}

@test "[step 5] IPv6: client -c ::1 PORT connects to [::1]:PORT (the address and length getaddrinfo gave)" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    serve -b ::1
    talk '' -c ::1 "$PORT"    # no line: connect, and done
    note_lines "  " <"$T/client.err"
    expect_line "$T/client.err" "^\[client\] connect\(\[::1\]:$PORT\) = 0$" "the client's connect() to [::1]:$PORT"
    is "the client's exit status (no input)" "$STATUS" 0
}

@test "[step 5] connected UDP: an ICMP port unreachable comes back as ECONNREFUSED; the client exits 1 saying so" {
    free_port
    talk 'anyone?\n' -c 127.0.0.1 "$FREE"
    note "client -c, no server at port $FREE: exit $STATUS"
    note_lines "  " <"$T/client.err"
    expect_line "$T/client.err" "^\[client\] connect\(127\.0\.0\.1:$FREE\) = 0$" "the client's connect() (it succeeds: nothing is sent)"
    expect_line "$T/client.err" '^\[client\] recvfrom\(\) = -1: Connection refused$' "the ICMP error, on the connected socket"
    is "the client's exit status" "$STATUS" 1
    last_line "$T/client.err"
    is "the client's last line" "$LAST" "client: recvfrom 127.0.0.1:$FREE: Connection refused"
}

@test "[step 5] a name with two addresses, ::1 then 127.0.0.1, connected: ::1 refuses, 127.0.0.1 answers" {
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
    expect_line "$T/client.err" "connect\(\[::1\]:$PORT\) = 0" "the connect() to the first address"
    expect_line "$T/client.err" 'recvfrom\(\) = -1: Connection refused' "the refusal from ::1"
    expect_line "$T/client.err" "connect\(127\.0\.0\.1:$PORT\) = 0" "the connect() to the second address"
    is "what the client printed" "$(<"$T/out")" CONNECTED
}

# ---- Step 6: send, sendto (the client) ------------------------------------

@test "[step 6] each line is one datagram of its length, without its newline: the server receives 1, 5, 0 and 11 bytes; the client prints the replies" {
    serve
    talk 'a\nbb bb\n\nccc ccc ccc\n' 127.0.0.1 "$PORT"
    note_lines "  " < <(grep -h -E 'sendto|recvmsg' "$T/client.err" "$T/server.err")
    sizes=$(sed -nE 's/^\[server\] recvmsg\(\) = ([0-9]+) bytes.*/\1/p' "$T/server.err" | tr '\n' ' ')
    is "the sizes of the datagrams the server received" "$sizes" "1 5 0 11 "
    is "what the client printed" "$(<"$T/out")" $'A\nBB BB\n\nCCC CCC CCC'
    is "the client's exit status" "$STATUS" 0
}

@test "[step 6] a 65507-byte line, the IPv4 maximum, is one datagram and comes back intact; 65508 bytes: Message too long" {
    serve
    head -c 65507 /dev/urandom | tr '\n' '.' >"$T/line"   # one line, no newline inside
    timeout "$WAIT_LIMIT" "$LAB/client" 127.0.0.1 "$PORT" <"$T/line" >"$T/out" 2>"$T/client.err" || true
    note_lines "  " < <(grep -h '65507' "$T/server.err" "$T/client.err")
    expect_line "$T/server.err" 'recvmsg\(\) = 65507 bytes from' "the server, receiving the 65507-byte line"
    { upcase <"$T/line"; echo; } | cmp -s - "$T/out" ||
        fail "the reply printed is not the line upper-cased: $({ upcase <"$T/line"; echo; } | cmp - "$T/out" 2>&1)"
    printf x >>"$T/line"
    run_split "$LAB/client" 127.0.0.1 "$PORT" <"$T/line"
    note "65508 bytes: exit $status: ${stderr##*$'\n'}"
    is "the client's exit status for 65508 bytes" "$status" 1
    is "the client's last line" "${stderr##*$'\n'}" "client: sendto line 1 (65508 bytes): Message too long"
}

@test "[step 6] unconnected, nobody at the port: sendto() succeeds and no error comes back, only a timeout: exit 1 after -t MS" {
    free_port
    talk 'anyone?\n' -t 200 127.0.0.1 "$FREE"
    note "client (unconnected) -t 200: exit $STATUS"
    note_lines "  " <"$T/client.err"
    expect_line "$T/client.err" "^\[client\] sendto\(127\.0\.0\.1:$FREE\) = 7 bytes$" "the client's sendto() of 'anyone?'"
    not has_line "$T/client.err" 'refused' || fail "an unconnected socket is told of no ICMP error, yet the client says 'refused'"
    expect_line "$T/client.err" '^\[client\] poll\(\) = 0: no reply in 200 ms$' "the client's wait for the reply"
    is "the client's exit status" "$STATUS" 1
    last_line "$T/client.err"
    is "the client's last line" "$LAST" "client: 1 of 1 replies missing after 200 ms: lost, or no server at 127.0.0.1:$FREE"
}

@test "[step 6] connected (-c), a line goes with send(): the server receives it; NOW comes back" {
    serve
    talk 'now\n' -c 127.0.0.1 "$PORT"
    note_lines "  " < <(grep -h -E 'send|recv' "$T/client.err" "$T/server.err")
    expect_line "$T/client.err" '^\[client\] send\(\) = 3 bytes$' "the connected client's send()"
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 3 bytes from 127\.0\.0\.1:[0-9]+$' "the server, receiving 'now'"
    is "what the client printed" "$(<"$T/out")" NOW
    is "the client's exit status" "$STATUS" 0
}

@test "[step 6] IPv6, unconnected: client ::1 PORT sends to [::1]:PORT (the address and length getaddrinfo gave) and gets SIX" {
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    serve -b ::1
    talk 'six\n' ::1 "$PORT"
    note_lines "  " < <(grep -h -E 'send|recv' "$T/client.err" "$T/server.err")
    expect_line "$T/client.err" "^\[client\] sendto\(\[::1\]:$PORT\) = 3 bytes$" "the client's sendto() to [::1]:$PORT"
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 3 bytes from \[::1\]:' "the server, receiving 'six'"
    is "what the client printed" "$(<"$T/out")" SIX
}

@test "[step 6] client localhost PORT works" {
    serve
    talk 'local\n' localhost "$PORT"
    note "localhost is: $(getent ahosts localhost | awk '$2 == "DGRAM" {print $1}' | tr '\n' ' ')"
    note_lines "  " <"$T/client.err"
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 5 bytes from' "the server, receiving 'local'"
    is "what the client printed" "$(<"$T/out")" LOCAL
    is "the client's exit status" "$STATUS" 0
}

@test "[step 6] a name with two addresses, ::1 then 127.0.0.1, unconnected: ::1 gives no reply in time, 127.0.0.1 answers" {
    [ "$(id -u)" -eq 0 ] || skip "needs root: a private /etc/hosts (unshare -m) where localhost is ::1, then 127.0.0.1"
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled)"
    printf '::1 localhost\n127.0.0.1 localhost\n' >"$T/hosts"
    WRAP=(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts")
    "${WRAP[@]}" true 2>/dev/null || skip "unshare -m and mount --bind are not allowed here"
    serve    # on 127.0.0.1 only
    talk 'unconnected\n' -t 400 localhost "$PORT"
    note "client -t 400 localhost $PORT: exit $STATUS"
    note_lines "  " <"$T/client.err"
    expect_line "$T/client.err" "sendto\(\[::1\]:$PORT\) = 11 bytes" "the line, sent to the first address"
    expect_line "$T/client.err" 'poll\(\) = 0: no reply in 400 ms' "the wait for a reply from ::1"
    expect_line "$T/client.err" "sendto\(127\.0\.0\.1:$PORT\) = 11 bytes" "the same line, sent to the second address"
    is "what the client printed" "$(<"$T/out")" UNCONNECTED
}

@test "[step 6] UDP loses: 1000 datagrams at a stopped server with a small SO_RCVBUF; ss -uam counts the drops" {
    serve -r 4096
    note_lines "  " < <(grep 'SO_RCVBUF' "$T/server.err")
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    seq 1000 >"$T/burst"
    timeout "$WAIT_LIMIT" "$LAB/client" -n 127.0.0.1 "$PORT" <"$T/burst" 2>"$T/client.err" || true
    sent=$(count '^\[client\] sendto\(127.0.0.1:[0-9]*\) = [0-9]* bytes' "$T/client.err")
    mem=$(udp_row "$PORT" m)
    note "the client sent $sent datagrams without waiting; the server is stopped. ss -uanm:"
    note_lines "  " <<<"$mem"
    [[ $mem =~ skmem:\(.*,d([0-9]+)\) ]] || fail "ss -uanm shows no drop count (d): '$mem'"
    drops=${BASH_REMATCH[1]}
    kill -CONT "$SERVER_PID"
    wait_until drained "$PORT"                # the server has read its queue
    talk 'last\n' -t 5000 127.0.0.1 "$PORT"   # answered after all the others
    is "the reply to 'last'" "$(<"$T/out")" LAST
    received=$(($(count '^\[server\] recvmsg()' "$T/server.err") - 1))
    note "sent $sent, received by the server $received, dropped by the kernel (d) $drops"
    is "datagrams the client sent" "$sent" 1000
    ((drops > 0)) || fail "the kernel dropped nothing (d0): a 4096-byte queue should not hold 1000 datagrams"
    ((received < sent)) || fail "the server received all $sent: nothing was lost"
    is "received + dropped" "$((received + drops))" "$sent"
}

# ---- Not a step: the contract, and trusting no source ---------------------

@test "bad input: PORT abc, -1, 70000 and '' exit 2; -h exits 0; the client needs HOST and PORT" {
    for port in abc -1 70000 ""; do
        run "$LAB/server" -- "$port"   # --: a PORT of -1 is not an option
        is "server exit status for PORT '$port'" "$status" 2
        [[ ${lines[0]:-} == "server: bad PORT '$port'"* ]] || fail "server PORT '$port': first line '${lines[0]:-}'"
        server_says=${lines[0]}
        run "$LAB/client" -- 127.0.0.1 "$port"
        is "client exit status for PORT '$port'" "$status" 2
        [[ ${lines[0]:-} == "client: bad PORT '$port'"* ]] || fail "client PORT '$port': first line '${lines[0]:-}'"
        note "PORT '$port': exit 2:  $server_says  |  ${lines[0]}"
    done
    run "$LAB/client" 127.0.0.1 0
    is "client exit status for PORT 0" "$status" 2
    for args in "" "127.0.0.1"; do
        run "$LAB/client" $args
        note "client $args: exit $status: ${lines[0]:-}"
        is "client exit status for arguments '$args'" "$status" 2
    done
    run "$LAB/server" -b nonsense 0
    note "server -b nonsense: exit $status: ${lines[0]:-}"
    is "server -b nonsense: exit status" "$status" 2
    for args in "-b nonsense" "-p 0" "-p 70000"; do
        run "$LAB/client" $args 127.0.0.1 1
        note "client $args: exit $status: ${lines[0]:-}"
        is "client $args: exit status" "$status" 2
    done
    usage_contract server 5006
    usage_contract client "HOST PORT"
}

@test "with no PORT the server takes the documented default, 127.0.0.1:5006 (in a network namespace of its own)" {
    default_port_server || fail "the server gave no readiness line; it said: $(tail -n 3 "$T/server.err")"
    note "server with no arguments: $READY"
    is "the readiness line of a server given no PORT" "$READY" "receiving on 127.0.0.1:5006"
    run "$LAB/server" --help
    [[ $output == *"5006"* ]] || fail "server --help does not name the default port 5006: $output"
}

@test "a datagram from anyone but the server is no reply: the client ignores a third party's, and prints only the server's" {
    serve
    kill -STOP "$SERVER_PID"     # the real reply waits until the third party has spoken
    wait_until stopped "$SERVER_PID"
    echo "pay 100 to bob" >"$T/client.in"
    spawn client "$LAB/client" -t 5000 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] getsockname\(\) = '
    client_port
    note "$LINE"
    # bash's /dev/udp: a socket of its own, connected to the client's port.
    printf 'TRANSFER 100 TO MALLORY' >"/dev/udp/127.0.0.1/$CPORT"
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] recvfrom\(\)'
    kill -CONT "$SERVER_PID"
    wait_exit "$CLIENT_PID"
    note_lines "  " < <(grep 'recvfrom' "$T/client.err")
    note "the client printed: $(<"$T/client.out"); exit $STATUS"
    expect_line "$T/client.err" '^\[client\] recvfrom\(\) = 23 bytes from 127\.0\.0\.1:[0-9]+: not the server, ignored$' \
        "the client, on the third party's datagram"
    is "the client's exit status" "$STATUS" 0
    is "what the client printed" "$(<"$T/client.out")" "PAY 100 TO BOB"
}

@test "bound to the wildcard (-b 0.0.0.0, -b ::), the server replies from the address each request came to (IP_PKTINFO): client -c 127.0.0.2 gets its reply" {
    serve -b 0.0.0.0
    talk 'two\n' -c -t 1000 127.0.0.2 "$PORT"
    wait_until replied 1 || true    # what came is judged below
    note "server -b 0.0.0.0, client -c 127.0.0.2 $PORT: exit $STATUS, printed: $(<"$T/out")"
    note_lines "  " < <(grep -E 'getaddrinfo|PKTINFO|recvmsg|sendmsg' "$T/server.err")
    is "what the client printed" "$(<"$T/out")" TWO
    expect_line "$T/server.err" '^\[server\] recvmsg\(\) = 3 bytes from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.2$' "the request, and the address it came to"
    expect_line "$T/server.err" '^\[server\] sendmsg\(127\.0\.0\.1:[0-9]+, from 127\.0\.0\.2\) = 3 bytes$' "the reply, from that address"
    have_ipv6_loopback || skip "no ::1 on this machine (IPv6 is disabled): -b :: not tried"
    kill -TERM "$SERVER_PID"
    wait_gone "$SERVER_PID"
    rm "$T/server.out" "$T/server.err"
    serve -b ::      # IPv6, and IPv4 too: 127.0.0.2 comes as ::ffff:127.0.0.2
    talk 'three\n' -c -t 1000 127.0.0.2 "$PORT"
    wait_until replied 1 || true    # what came is judged below
    note "server -b ::, client -c 127.0.0.2 $PORT: exit $STATUS, printed: $(<"$T/out")"
    note_lines "  " < <(grep -E 'recvmsg|sendmsg' "$T/server.err")
    is "what the client printed" "$(<"$T/out")" THREE
    expect_line "$T/server.err" '^\[server\] sendmsg\(\[::ffff:127\.0\.0\.1\]:[0-9]+, from ::ffff:127\.0\.0\.2\) = 5 bytes$' \
        "the reply of the server on ::, from the IPv4 address asked"
}

@test "server -b '*': getaddrinfo(NULL, PORT, AI_PASSIVE) gives the wildcard (AI_PASSIVE only with no node), and a client of 127.0.0.2 gets its reply" {
    serve -b '*'
    note "server -b '*' 0: $READY"
    [[ $READY =~ ^receiving\ on\ (0\.0\.0\.0|\[::\]):[0-9]+$ ]] || fail "readiness line of server -b '*': '$READY', not the wildcard"
    expect_line "$T/server.err" '^\[server\] getaddrinfo\(NULL, 0, AI_PASSIVE\) = (0\.0\.0\.0|\[::\]):0$' "the server's getaddrinfo() for -b '*'"
    # With a node, AI_PASSIVE would be ignored: none is passed. (This server
    # stops at bind(): the port is taken.)
    run_split "$LAB/server" -b 0.0.0.0 "$PORT"
    note "server -b 0.0.0.0 $PORT: ${stderr_lines[0]:-}"
    is "the first line of server -b 0.0.0.0" "${stderr_lines[0]:-}" "[server] getaddrinfo(0.0.0.0, $PORT) = 0.0.0.0:$PORT"
    talk 'star\n' 127.0.0.2 "$PORT"
    note_lines "  " < <(grep -hE 'bind|recvfrom' "$T/server.err" "$T/client.err")
    is "what the client printed" "$(<"$T/out")" STAR
}

@test "no loop: the server never answers a datagram from its own port; two servers on one port, pointed at each other, stay quiet" {
    serve                        # A, on 127.0.0.1:PORT
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    # A datagram for A from 127.0.0.2:PORT, the address of a second server
    # to come: the client sends it from there (-b, -p) and exits (-n).
    talk 'ping\n' -n -b 127.0.0.2 -p "$PORT" 127.0.0.1 "$PORT"
    is "the exit status of client -n -b 127.0.0.2 -p $PORT" "$STATUS" 0
    spawn twin "$LAB/server" -b 127.0.0.2 "$PORT"    # B, on 127.0.0.2:PORT
    TWIN_PID=$PID
    wait_until said_or_gone "$TWIN_PID" "$T/twin.out" 'receiving on'
    expect_line "$T/twin.out" 'receiving on' "the second server's readiness line"
    kill -CONT "$SERVER_PID"     # A's reply would go to B, B's to A...
    wait_until loop_or_refusal
    # (Checked before anything reads the whole files: a loop writes
    # thousands of lines a second.)
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 4 bytes from 127\.0\.0\.2:$PORT: our own port, not answered \(a loop\)$" \
        "server A, on a datagram from its own port"
    talk 'twin\n' 127.0.0.2 "$PORT"   # B serves a real client
    note_lines "A: " <"$T/server.err"
    note_lines "B: " <"$T/twin.err"
    is "what a client of B printed" "$(<"$T/out")" TWIN
    is "recvmsg() calls of A" "$(count 'recvmsg' "$T/server.err")" 1
    is "recvmsg() calls of B (the client's, and nothing from A)" "$(count 'recvmsg' "$T/twin.err")" 1
}

@test "no loop: a datagram from a port below 1024 (a service's: echo is 7, chargen 19) is not answered" {
    low_port || skip "no free UDP port below 1024"
    [ "$(id -u)" -eq 0 ] || [ "$(</proc/sys/net/ipv4/ip_unprivileged_port_start)" -le "$LOW" ] ||
        skip "needs root to send from port $LOW"
    serve
    talk 'echo?\n' -n -b 127.0.0.2 -p "$LOW" 127.0.0.1 "$PORT"
    wait_until has_line "$T/server.err" 'recvmsg'
    note_lines "  " < <(grep -E 'recvmsg|sendto' "$T/server.err")
    expect_line "$T/server.err" "^\[server\] recvmsg\(\) = 5 bytes from 127\.0\.0\.2:$LOW: a service's port, not answered \(a loop\)$" \
        "the server, on a datagram from port $LOW"
    not has_line "$T/server.err" 'sendto' || fail "the server answered port $LOW: $(grep sendto "$T/server.err")"
}

@test "SO_RCVBUF: the server narrates what it asked and what getsockopt() returns: min(asked, net.core.rmem_max), doubled" {
    read -r max </proc/sys/net/core/rmem_max
    ask=16777216                 # the most -r takes: 16 MiB
    serve -r "$ask"
    note_lines "  " < <(grep 'SO_RCVBUF' "$T/server.err")
    last_match "$T/server.err" '^\[server\] getsockopt\(SO_RCVBUF\) = ([0-9]+) ' || fail "no getsockopt(SO_RCVBUF) narration"
    got=$MATCH
    want=$((2 * (ask < max ? ask : max)))
    note "asked $ask, net.core.rmem_max $max: got $got, 2 x $((want / 2))"
    is "SO_RCVBUF, as getsockopt() reads it back" "$got" "$want"
    expect_line "$T/server.err" "^\[server\] setsockopt\(SO_RCVBUF, $ask\) = 0$" "the server's setsockopt()"
    expect_line "$T/server.err" "getsockopt\(SO_RCVBUF\) = $got \(asked $ask, (capped at|within) net\.core\.rmem_max $max, doubled: socket\(7\)\)$" \
        "the server's explanation of what it got"
}

# ---- Going further (the lesson's extras) ----------------------------------

@test "[extra 1] client -r 3 -t 100, nobody at the port: the line goes 4 times, each wait twice the last (100, 200, 400, 800 ms), then exit 1" {
    free_port
    talk 'hello\n' -r 3 -t 100 127.0.0.1 "$FREE"
    note "client -r 3 -t 100, no server at port $FREE: exit $STATUS"
    note_lines "  " < <(grep -vE 'socket|getsockname' "$T/client.err")
    is "the client's sendto() calls of 'hello'" "$(count "^\[client\] sendto\(127\.0\.0\.1:$FREE\) = 5 bytes$" "$T/client.err")" 4
    waits=$(sed -nE 's/^\[client\] poll\(\) = 0: no reply in ([0-9]+) ms$/\1/p' "$T/client.err" | tr '\n' ' ')
    is "the client's waits, in ms" "$waits" "100 200 400 800 "
    expect_line "$T/client.err" '^\[client\] retry 1 of 3: line 1 again, then wait 200 ms$' "the first retransmission"
    expect_line "$T/client.err" '^\[client\] retry 3 of 3: line 1 again, then wait 800 ms$' "the last retransmission"
    is "the client's exit status" "$STATUS" 1
    last_line "$T/client.err"
    is "the client's last line" "$LAST" "client: 1 of 1 replies missing after 800 ms: lost, or no server at 127.0.0.1:$FREE"
}

@test "[extra 1] a lost datagram is sent again: nobody at the port at first, then a server starts there and answers the retransmission" {
    free_port
    echo hello >"$T/client.in"
    spawn client "$LAB/client" -r 5 -t 200 127.0.0.1 "$FREE"
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" '^\[client\] poll\(\) = 0'
    alive "$CLIENT_PID" || fail "client -r 5 gave up at the first loss: $(tail -n 3 "$T/client.err")"
    start_server "$FREE"      # the first datagram is lost; the next ones come here
    wait_exit "$CLIENT_PID"
    note_lines "  " < <(grep -vE 'socket|getsockname' "$T/client.err")
    expect_line "$T/client.err" '^\[client\] retry 1 of 5: line 1 again, then wait 400 ms$' "the client's first retransmission"
    is "the client's exit status" "$STATUS" 0
    is "what the client printed" "$(<"$T/client.out")" HELLO
}

@test "[extra 1] a late reply to an earlier copy is not the next line's reply: line 1 goes 3 times to a stopped server, which then answers all 3; the client prints ONE, TWO" {
    serve
    kill -STOP "$SERVER_PID"
    wait_until stopped "$SERVER_PID"
    printf 'one\ntwo\n' >"$T/client.in"
    spawn client "$LAB/client" -r 5 -t 100 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until copies_sent 3
    kill -CONT "$SERVER_PID"  # it answers each copy of 'one'
    wait_exit "$CLIENT_PID"
    note_lines "  " < <(grep -vE 'socket|getsockname' "$T/client.err")
    is "the client's exit status" "$STATUS" 0
    is "what the client printed" "$(<"$T/client.out")" $'ONE\nTWO'
    dups=$(count '^\[client\] recvfrom\(\) = 3 bytes from 127\.0\.0\.1:[0-9]+: not the echo of line 2 \(a late duplicate\?\), ignored$' "$T/client.err")
    ((dups >= 2)) || fail "the client ignored $dups late replies to line 1's copies, not 2 or more"
}

@test "[extra 2] server -l 5: 20 datagrams at once from one address get 5 replies, the others are narrated and not answered; another address is still answered" {
    serve -l 5
    kill -STOP "$SERVER_PID"     # the 20 wait in its queue: they arrive together
    wait_until stopped "$SERVER_PID"
    seq 20 >"$T/burst"
    timeout "$WAIT_LIMIT" "$LAB/client" -n 127.0.0.1 "$PORT" <"$T/burst" 2>"$T/client.err" || true
    kill -CONT "$SERVER_PID"
    wait_until replied 20 || true    # what came is judged below
    answered=$(count '^\[server\] sendto\(127\.0\.0\.1:[0-9]+\) = [0-9]+ bytes$' "$T/server.err")
    limited=$(count '^\[server\] rate limit: 127\.0\.0\.1:[0-9]+ is over 5 replies a second, not answered$' "$T/server.err")
    note "20 datagrams from 127.0.0.1 at once: $answered answered, $limited refused"
    note_lines "  " < <(grep -m 3 'rate limit' "$T/server.err")
    # 5 at once, then 5 a second: a server that takes its time to read the
    # queue (a slow, busy machine) earns one more each 200 ms it takes.
    ((answered >= 5 && answered <= 10)) || fail "server -l 5 answered $answered of 20 datagrams that came at once, not 5 (up to 10 on a slow machine)"
    is "replies plus refusals" "$((answered + limited))" 20
    talk 'other\n' -b 127.0.0.2 127.0.0.1 "$PORT"
    note "a client on 127.0.0.2 meanwhile: exit $STATUS, printed $(<"$T/out")"
    is "what a client on 127.0.0.2 printed (a bucket of its own)" "$(<"$T/out")" OTHER
}
