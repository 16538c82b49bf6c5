#!/usr/bin/env bats
# Lab 07: TCP close and shutdown, the 4-way teardown. Each scenario steps
# the programs one call at a time (-s: a line on a control FIFO is Enter),
# waits after each call until ss shows the transition, and prints the
# timeline: the ss state of the client's end and of the server's end
# ("-": no such socket), and the call as its program narrated it (state=
# there is the program's own TCP_INFO, read right after the call). Three
# scenarios run in a private network namespace, where they may change the
# queue of the loopback interface (tc), add a link, or narrow the range of
# ephemeral ports: as root only.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 07-tcp-close
}

teardown() {
    exec 5>&- 6>&- 2>/dev/null || true
    lab_teardown
}

# NSX: the prefix that runs a command in this test's network namespace;
# empty (the machine's own loopback) except in the whole-diagram scenario.
NSX=()

# stepped_server ARGS...: the server in step mode on port 0, its control
# FIFO held open on fd 6 (in the namespace NSX, when set: `ip netns exec`
# execs it, so the pid spawn records, and teardown stops, is the server's
# own). Sets P, the port it bound.
stepped_server() {
    mkfifo "$T/server.ctl"
    exec 6<>"$T/server.ctl"
    spawn server "${NSX[@]}" "$LAB/server" -s "$T/server.ctl" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    [ -s "$T/server.out" ] || { cat "$T/server.err" >&2; return 1; }
    read -r READY <"$T/server.out"
    P=${READY##*:}
}

# plain_server ARGS...: the server, no steps, on port 0. Sets P.
plain_server() {
    start_server "$@" 0 || return 1
    P=${READY##*:}
}

# stepped_client ARGS...: the client in step mode (control FIFO on fd 5),
# request from $T/client.in, connected to port P. Sets C, its own port.
stepped_client() {
    mkfifo "$T/client.ctl"
    exec 5<>"$T/client.ctl"
    spawn client "${NSX[@]}" "$LAB/client" -s "$T/client.ctl" "$@" 127.0.0.1 "$P"
    # The whole line, up to its state: a look may catch a line still being
    # written (a reader of a regular file can see half of a write).
    wait_until last_match "$T/server.err" 'accept\(\) = fd [0-9]+ from .*:([0-9]+)  state=[A-Z_0-9]+$' || return 1
    C=$MATCH
    last_match "$T/client.err" 'connect\(.*\) = 0'   # sets LINE
}

# press WHO REGEX: Enter for WHO (client or server), then wait for its next
# narration line matching REGEX: the result of the call it was held before.
# LINE is that line.
press() {
    local said
    mapfile -t said <"$T/$1.err"
    if [ "$1" = client ]; then echo >&5; else echo >&6; fi
    wait_until last_match "$T/$1.err" "$2" "${#said[@]}"   # a line after those
}

# states: CS and SS, the states ss shows for the client's end (local port
# C) and the server's end (local port P) of this one connection; "-" when
# that end has no socket left (gone, or closed by a reset).
states() {
    local rows state _ local_address
    rows=$("${NSX[@]}" ss -tanH "( sport = :$P and dport = :$C ) or ( sport = :$C and dport = :$P )")
    CS=-
    SS=-
    while read -r state _ _ local_address _; do
        case $local_address in
        *:"$C") CS=$state ;;
        *:"$P") SS=$state ;;
        esac
    done <<<"$rows"
}
is_states() { states; [ "$CS" = "$1" ] && [ "$SS" = "$2" ]; }

# row CLIENT SERVER: wait until ss shows these two states, then print the
# row of the timeline: what ss showed, and LINE. Fails with what ss showed.
ROWS=0
row() {
    if ! wait_until is_states "$1" "$2" 2>/dev/null; then
        echo "expected client $1, server $2; ss shows client $CS, server $SS after: $LINE" >&2
        return 1
    fi
    local text
    ROWS=$((ROWS + 1))
    printf -v text '%2d  %-11s %-11s %s' "$ROWS" "$CS" "$SS" "$LINE"
    note "$text"
    SEEN="$SEEN $CS $SS"
}
header() {
    local text
    printf -v text '%2s  %-11s %-11s %s' '' client server 'the call, as narrated (state=: its TCP_INFO right after)'
    note "$text"
}

# no_time_wait: ss shows no TIME-WAIT socket for this connection (ports P
# and C), either side. (Port P alone could match an earlier run's TIME-WAIT:
# port 0 may give a server a port used a minute ago.)
no_time_wait() {
    local tw f="( sport = :$P and dport = :$C ) or ( sport = :$C and dport = :$P )"
    tw=$(ss -tanH state time-wait "$f")
    note "ss -tan state time-wait '$f': ${tw:-(none)}"
    [ -z "$tw" ]
}

# listen_row: the first row of a timeline, the server's listener as ss
# shows it (there is no client yet).
listen_row() {
    local rows text nl=$'\n'
    CS=-
    SS=
    rows=$("${NSX[@]}" ss -tanH "( sport = :$P )")
    [[ $nl$rows == *"${nl}LISTEN "* ]] && SS=LISTEN   # a row whose state is LISTEN
    last_match "$T/server.err" 'listen\('             # sets LINE
    ROWS=$((ROWS + 1))
    printf -v text '%2d  %-11s %-11s %s' "$ROWS" - "$SS" "$LINE"
    note "$text"
    SEEN="$SEEN $SS"
}

# orderly_close: a server (stepped_server -r 4096) and its client, the
# client closing first, through every state of that path, held still.
# Small receive buffers (-r): while a program is held at a step it does not
# read, its buffer fills, the window drops to zero, and the other side's FIN
# waits behind data.
orderly_close() {
    yes 'a request, line after line' | head -c 65536 >"$T/client.in"
    listen_row
    stepped_client -r 4096
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    row ESTAB ESTAB
    press client 'shutdown\(SHUT_WR\) ='       # FIN queued behind 64 KiB the server has not read
    row FIN-WAIT-1 ESTAB
    press server 'read\(\) = 0'                # data and FIN in, ACK out
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'write\(\) ='                 # 64 KiB reply: the client does not read
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'shutdown\(SHUT_WR\) ='       # the server's FIN waits behind the reply
    row FIN-WAIT-2 LAST-ACK
    press server 'close\('                     # the kernel keeps the connection going
    row FIN-WAIT-2 LAST-ACK
    press client 'read\(\) = 0'                # reply and FIN in, the last ACK out
    row TIME-WAIT -
    [[ $LINE == *"state=CLOSE" ]]              # TCP_INFO: CLOSE, ss: TIME-WAIT
    press client 'close\('
    row TIME-WAIT -
    cmp <(upcase <"$T/client.in") "$T/client.out"
}

# seen STATE...: each STATE is among those the timeline printed (SEEN);
# then prints them, in the order first seen.
seen() {
    local s order=
    for s in $SEEN; do                     # each state once, "-" (no socket) aside
        [[ $s == - || " $order " == *" $s "* ]] || order+="$s "
    done
    note "states observed:$order"
    for s in "$@"; do
        [[ " $SEEN " == *" $s "* ]] || { echo "never observed: $s" >&2; return 1; }
    done
}

@test "[step 3] orderly close, client first: one connection through the teardown, each state held still" {
    stepped_server -r 4096
    header
    orderly_close
    seen LISTEN ESTAB FIN-WAIT-1 FIN-WAIT-2 CLOSE-WAIT LAST-ACK TIME-WAIT
}

@test "[step 2] half-close: the server reads until read() returns 0, then still sends its whole reply" {
    printf 'a request\nends where the\nclient shuts down\n' >"$T/client.in"
    stepped_server
    header
    stepped_client
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    row ESTAB ESTAB
    press client 'shutdown\(SHUT_WR\) ='       # nothing queued: the FIN goes, the ACK comes
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'read\(\) = 0'
    row FIN-WAIT-2 CLOSE-WAIT
    has_line "$T/server.err" "read\(\) = $(wc -c <"$T/client.in") bytes"
    press server 'write\(\) ='                 # the half-closed connection still carries the reply
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'shutdown\(SHUT_WR\) ='
    row TIME-WAIT -
    press client 'read\(\) = 0'
    row TIME-WAIT -
    [ "$(<"$T/client.out")" = "$(upcase <"$T/client.in")" ]
    note "the client printed: $(tr '\n' '|' <"$T/client.out")"
    # And for a large request, without steps: all of the reply arrives.
    head -c 1048576 /dev/urandom >"$T/big"
    spawn plain "$LAB/server" 0
    wait_until has_line "$T/plain.out" 'listening on'
    read -r ready <"$T/plain.out"
    "$LAB/client" 127.0.0.1 "${ready##*:}" <"$T/big" >"$T/big.out" 2>"$T/big.err"
    upcase <"$T/big" | cmp - "$T/big.out"
    note "1 MiB request, no steps: reply identical to tr a-z A-Z; $(grep -c 'read() = [0-9]* bytes' "$T/big.err") client reads after its shutdown()"
}

@test "[step 3] simultaneous close: both ends in FIN-WAIT-1, each FIN held behind a zero window; the client goes through CLOSING" {
    yes 'both ends close at once' | head -c 65536 >"$T/client.in"
    # -a: the server answers the first read and sends its FIN without
    # waiting for the client's. The client's 2 KiB buffer holds the reply.
    stepped_server -a -r 16384
    header
    stepped_client -r 2048
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    row ESTAB ESTAB
    press server 'read\(\) = [0-9]+ bytes'
    row ESTAB ESTAB
    press server 'write\(\) ='                 # more than the client's window
    row ESTAB ESTAB
    press client 'shutdown\(SHUT_WR\) ='       # FIN behind request data the server does not read
    row FIN-WAIT-1 ESTAB
    press server 'shutdown\(SHUT_WR\) ='       # FIN behind reply data the client does not read
    row FIN-WAIT-1 FIN-WAIT-1
    press client 'read\(\) = 0'                # the server's FIN arrives before the ACK of ours
    row CLOSING FIN-WAIT-2
    [[ $LINE == *"state=CLOSING" ]]
    press server 'read\(\) = 0'                # the client's data and FIN flow: its FIN is ACKed
    row TIME-WAIT TIME-WAIT
    press client 'close\('
    row TIME-WAIT TIME-WAIT
    press server 'close\('
    row TIME-WAIT TIME-WAIT
}

# need_tc: skips, saying why, where tc cannot give the namespace's loopback
# a queue, or bash cannot send the datagrams that make it look.
need_tc() {
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

# queued N: QUEUED, the backlog of the namespace's loopback queue as
# `tc -s qdisc` shows it ("132b 2p"); true when it holds N packets or more.
queued() {
    local qdisc
    qdisc=$("${NSX[@]}" tc -s qdisc show dev lo)
    [[ $qdisc =~ backlog\ ([0-9]+b\ ([0-9]+)p) ]] || return 1
    QUEUED=${BASH_REMATCH[1]}
    [ "${BASH_REMATCH[2]}" -ge "$1" ]
}

# on_the_way: true once ss shows both ends in TIME-WAIT. WAY collects each
# new pair of states (client, server) on the way, with the milliseconds
# since T0 (a time in microseconds).
on_the_way() {
    states
    if [ "$CS $SS" != "${LAST:-}" ]; then
        LAST="$CS $SS"
        WAY="$WAY${WAY:+,} $(( (${EPOCHREALTIME/./} - T0) / 1000 )) ms: $CS $SS"
    fi
    [ "$LAST" = "TIME-WAIT TIME-WAIT" ]
}

# syn_sent: ss (in the namespace) shows a client in SYN-SENT to port P; C
# is its port.
syn_sent() {
    local row local_address
    row=$("${NSX[@]}" ss -tanH state syn-sent "( dport = :$P )")
    [ -n "$row" ] || return 1
    read -r _ _ local_address _ <<<"$row"   # (one state asked: ss shows no State column)
    C=${local_address##*:}
}

# Both ends go through CLOSING only when the FINs cross: each is sent
# before its sender has received the other, so it does not acknowledge it,
# and arrives while its receiver is in FIN-WAIT-1. Loopback delivers a
# segment as it is sent, so a queue holds the two FINs: tc's token bucket
# filter on the loopback of a private namespace, its bucket spent. Then the
# bucket gets exactly the bytes of the two FINs: they cross, and each end's
# ACK of the other's FIN waits in the queue behind them, which holds both
# ends in CLOSING until the queue opens.
@test "[step 3] the whole diagram, all ten states in one table: a handshake held by tc, a simultaneous close (FIN-WAIT-1 -> CLOSING -> TIME-WAIT) held by tc, then an orderly close" {
    netns_setup
    need_tc
    printf 'hello\n' >"$T/client.in"
    # Connection A. The server, -a, answers the first read and sends its
    # FIN without waiting for the client's.
    stepped_server -a
    [ "/proc/$SERVER_PID/exe" -ef "$LAB/server" ]
    header
    listen_row
    # The handshake, held: lo's queue lets one segment through, the
    # client's SYN, and holds the next, the server's SYN-ACK (a token
    # bucket of 100 bytes, refilled at 8 bits a second; each is 74). The
    # server holds the connection half-open (SYN-RECV); the client, with
    # no answer, stays in SYN-SENT.
    "${NSX[@]}" tc qdisc add dev lo root tbf rate 8bit burst 100 limit 10000
    mkfifo "$T/client.ctl"
    exec 5<>"$T/client.ctl"
    spawn client "${NSX[@]}" "$LAB/client" -s "$T/client.ctl" 127.0.0.1 "$P"
    wait_until syn_sent
    wait_until queued 1
    mapfile -t said <"$T/client.err"
    LINE="[tc] lo's queue lets 100 bytes through: the SYN; ${said[-1]}   (connect() not back yet)"
    row SYN-SENT SYN-RECV
    note "    tc -s qdisc show dev lo: backlog $QUEUED (the SYN-ACK)"
    gate_open
    wait_until has_line "$T/client.err" 'connect\(.*\) = 0'
    last_match "$T/client.err" 'connect\('
    LINE="[tc] lo's queue open: $LINE"
    row ESTAB ESTAB
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    last_match "$T/client.err" 'write\(\) ='   # sets LINE
    row ESTAB ESTAB
    press server 'read\(\) = [0-9]+ bytes'
    row ESTAB ESTAB
    press server 'write\(\) ='                 # the reply: the client reads it later
    row ESTAB ESTAB
    gate_shut
    LINE="[tc] lo's queue shut: tbf at 8 bit/s, its 100-byte bucket spent"
    row ESTAB ESTAB
    press client 'shutdown\(SHUT_WR\) ='       # the client's FIN waits in the queue
    row FIN-WAIT-1 ESTAB
    press server 'shutdown\(SHUT_WR\) ='       # so does the server's: both FINs in flight
    row FIN-WAIT-1 FIN-WAIT-1
    queued 2
    note "    tc -s qdisc show dev lo: backlog $QUEUED"
    # The queue lets the two FINs through, and no more: each end's ACK of
    # the FIN it receives, and any FIN sent again, wait behind them.
    gate_pass "${QUEUED%%b *}"
    LINE="[tc] lo's queue lets ${QUEUED%%b *} bytes through: the two FINs cross; what each end answers waits"
    row CLOSING CLOSING
    press client 'read\(\) = 0'
    row CLOSING CLOSING
    [[ $LINE == *"state=CLOSING" ]]
    press server 'read\(\) = 0'
    row CLOSING CLOSING
    [[ $LINE == *"state=CLOSING" ]]
    queued 2
    held=$QUEUED
    # Each end leaves CLOSING when the ACK of its FIN arrives.
    gate_open
    T0=${EPOCHREALTIME/./}
    WAY=
    wait_until on_the_way
    LINE="[tc] lo's queue open: what it held ($held) goes, the ACKs of the FINs with it"
    row TIME-WAIT TIME-WAIT
    note "    ss (client server) after the queue opened:$WAY"
    press client 'close\('
    row TIME-WAIT TIME-WAIT
    press server 'close\('
    row TIME-WAIT TIME-WAIT
    [ "$(<"$T/client.out")" = HELLO ]
    # Connection B: a second server, passive this time, and the client
    # closes first. Connection A's programs and files are put aside.
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    exec 5>&- 6>&-
    mkdir "$T/A"
    mv "$T"/server.* "$T"/client.* "$T/A/"
    note "    connection B, on a new server (no -a) in the same namespace; the client closes first:"
    stepped_server -r 4096
    orderly_close
    seen LISTEN SYN-SENT SYN-RECV ESTAB FIN-WAIT-1 FIN-WAIT-2 CLOSE-WAIT CLOSING LAST-ACK TIME-WAIT
}

@test "[step 4] abortive close: SO_LINGER {1, 0} sends RST; the server's read() fails with ECONNRESET; no TIME-WAIT" {
    printf 'never mind\n' >"$T/client.in"
    plain_server
    header
    stepped_client -L
    wait_until has_line "$T/client.err" 'step: about to setsockopt'
    row ESTAB ESTAB
    press client 'setsockopt\(SO_LINGER'
    row ESTAB ESTAB
    press client 'close\('                     # RST instead of FIN
    row - -
    wait_until has_line "$T/server.err" 'read\(\) = -1'
    note_lines "    " < <(grep -E 'read\(\) = -1|close\(' "$T/server.err")
    has_line "$T/server.err" 'read\(\) = -1: Connection reset by peer'
    no_time_wait
}

@test "[step 5] close() with data unread sends RST too: the server's read() fails with ECONNRESET; no TIME-WAIT" {
    printf 'unread\n' >"$T/client.in"
    plain_server -a                            # replies and sends FIN, then reads on
    header
    stepped_client -c                          # -c: close() with no shutdown(), no read()
    wait_until has_line "$T/client.err" 'step: about to close'
    last_match "$T/server.err" 'shutdown\('   # sets LINE
    row CLOSE-WAIT FIN-WAIT-2                  # the reply and the FIN wait unread at the client
    press client 'close\('
    row - -
    [[ $LINE == *"with 7 bytes unread"* ]]
    wait_until has_line "$T/server.err" 'read\(\) = -1'
    note_lines "    " < <(grep -E 'read\(\) = -1|close\(' "$T/server.err")
    has_line "$T/server.err" 'read\(\) = -1: Connection reset by peer'
    no_time_wait
}

@test "[step 1] TIME-WAIT stays with the side that closed first; restarting the server on its port needs SO_REUSEADDR" {
    printf 'hello\n' >"$T/client.in"
    plain_server -a                            # the server sends the first FIN
    header
    stepped_client
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    last_match "$T/server.err" 'shutdown\('   # sets LINE
    row CLOSE-WAIT FIN-WAIT-2
    press client 'shutdown\(SHUT_WR\) ='
    row - TIME-WAIT
    press client 'read\(\) = 0'
    row - TIME-WAIT
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    tw=$(ss -tanH state time-wait "( sport = :$P and dport = :$C )")
    note "server stopped; ss -tan state time-wait '( sport = :$P and dport = :$C )': $tw"
    [ -n "$tw" ]
    run "$LAB/server" -n "$P"
    note "restart with -n (no SO_REUSEADDR): exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "server: bind 127.0.0.1:$P: Address already in use" ]
    spawn again "$LAB/server" "$P"
    wait_until has_line "$T/again.out" "listening on"
    note "restart with SO_REUSEADDR: $(<"$T/again.out")"
    [ "$(<"$T/again.out")" = "listening on 127.0.0.1:$P" ]
    has_line "$T/again.err" 'setsockopt\(SO_REUSEADDR, 1\) = 0'
}

@test "[step 3] over IPv6 (::1) the teardown is the same: TIME-WAIT at the client, which closed first" {
    ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' || skip "no ::1 on lo: IPv6 loopback is not configured"
    start_server -b ::1 0
    P=${READY##*:}
    [[ $READY == "listening on [::1]:$P" ]]
    run --separate-stderr "$LAB/client" ::1 "$P" <<<"over ipv6"
    [ "$status" -eq 0 ]
    [ "$output" = "OVER IPV6" ]
    note_lines "    " < <(grep -E 'connect\(|close\(' <<<"$stderr")
    [[ $stderr =~ connect\(\[::1\]:[0-9]+\)\ =\ 0\ from\ \[::1\]:([0-9]+) ]]
    cport=${BASH_REMATCH[1]}
    [ -n "$cport" ]
    tw=$(ss -tanH state time-wait "( sport = :$cport and dport = :$P )")
    note "ss -tan state time-wait '( sport = :$cport and dport = :$P )': $tw"
    [[ $tw == *"[::1]:$P"* ]]
}

@test "the client exits 1 with the reason when nobody listens" {
    plain_server
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run "$LAB/client" 127.0.0.1 "$P" </dev/null
    note "no server: exit $status: ${lines[-1]}"
    [ "$status" -eq 1 ]
    [ "${lines[-1]}" = "client: connect 127.0.0.1:$P: Connection refused" ]
}

@test "usage: -h and --help exit 0; bad ports and options exit 2" {
    usage_contract server 5007
    usage_contract client "HOST PORT"
    for port in abc -1 70000 ''; do
        run "$LAB/server" -- "$port"   # --: a PORT of -1 is not an option
        [ "$status" -eq 2 ]
        [[ ${lines[0]} == "server: bad PORT '$port'"* ]]
        run "$LAB/client" -- 127.0.0.1 "$port"
        [ "$status" -eq 2 ]
        [[ ${lines[0]} == "client: bad PORT '$port'"* ]]
        note "PORT '$port': exit 2: ${lines[0]}"
    done
    run "$LAB/client" 127.0.0.1 0
    [ "$status" -eq 2 ]
    run "$LAB/client" -c -L 127.0.0.1 5007
    [ "$status" -eq 2 ]
    run "$LAB/server" abc
    note "server abc: ${lines[0]}"
    [ "$status" -eq 2 ]
    [[ ${lines[0]} == "server: bad PORT 'abc'"* ]]
}

@test "with no PORT the server takes the documented default, 127.0.0.1:5007 (in a network namespace of its own)" {
    default_port_server
    note "server with no arguments: $READY"
    [ "$READY" = "listening on 127.0.0.1:5007" ]
    run "$LAB/server" --help
    [[ $output == *"5007"* ]]
}

@test "-p MS pauses before each call of the teardown: a server pausing before it reads holds CLOSE-WAIT, its client FIN-WAIT-2" {
    plain_server -p 20000     # far longer than the test: teardown ends the server
    printf 'pause\n' >"$T/client.in"
    spawn client "$LAB/client" 127.0.0.1 "$P"
    wait_until has_line "$T/server.err" 'step: about to read\(\) until it returns 0, pausing 20000 ms'
    last_match "$T/server.err" 'accept\(\) = fd [0-9]+ from .*:([0-9]+) '
    C=$MATCH
    header
    wait_until has_line "$T/client.err" 'shutdown\(SHUT_WR\) = 0'
    last_match "$T/server.err" 'pausing' && pausing=$LINE
    last_match "$T/client.err" 'shutdown'
    LINE="$pausing; $LINE"
    row FIN-WAIT-2 CLOSE-WAIT   # the client's FIN is in; the server, pausing, has not read it
    not has_line "$T/server.err" 'read\(\) ='

    run "$LAB/client" -p 0 127.0.0.1 "$P"
    [ "$status" -eq 2 ]
    [[ ${lines[0]} == "client: bad MS '0'"* ]]
}

# server_on NAME ARGS...: a plain server, spawned as NAME on port 0 with
# ARGS (in the namespace NSX, when set). Sets PORT.
server_on() {
    local name=$1 ready
    shift
    spawn "$name" "${NSX[@]}" "$LAB/server" "$@" 0
    wait_until said_or_gone "$PID" "$T/$name.out" 'listening on'
    has_line "$T/$name.out" 'listening on' || { cat "$T/$name.err" >&2; return 1; }
    read -r ready <"$T/$name.out"
    PORT=${ready##*:}
}

@test "-t 1: a client that never sends its FIN holds the server 1 s, then is dropped; the next client is served" {
    # The client stops before its shutdown(): the server's read() waits for
    # the end of the request. (A client that never reads the reply is
    # dropped the same way, once a write() has waited 1 s: 05's test shows
    # it; a reply that big takes two waits or more, the first write()
    # returning what it could send.)
    plain_server -t 1
    printf 'no end\n' >"$T/client.in"
    stepped_client
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    WAIT_LIMIT=3 wait_until has_line "$T/server.err" 'client dropped'
    last_match "$T/server.err" 'client dropped'
    note "$LINE"
    [ "$LINE" = "[server] read() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped  state=ESTABLISHED" ]
    wait_until has_line "$T/server.err" 'close\(fd'
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"next"
    note "the next client: exit $status, '$output'"
    [ "$output" = NEXT ]
    run "$LAB/server" --help
    [[ $output == *"-t SECONDS"*"default 30"* ]]
}

@test "a request over 16 MiB: the server says it is over the limit and closes (the client sees a reset); the usages name the limit" {
    run "$LAB/server" --help
    [[ $output == *"16 MiB"* ]]
    run "$LAB/client" --help
    [[ $output == *"16 MiB"* ]]
    plain_server
    run --separate-stderr bash -c 'head -c 16777217 /dev/zero | "$0" 127.0.0.1 "$1"' "$LAB/client" "$P"
    note "16 MiB + 1 byte: client exit $status: ${stderr_lines[-1]}"
    [ "$status" -eq 1 ]
    wait_until has_line "$T/server.err" 'close\(fd'
    last_match "$T/server.err" 'limit'
    note "$LINE"
    [[ $LINE == "[server] the request exceeds 16 MiB (16777216 bytes), the limit: "* ]]
}

@test "a link-local address with a 15-character interface name (fe80:...%ifname, 55 characters): the readiness line shows it whole" {
    netns_setup
    long_link_local
    link=$LINK addr=$ADDR6
    server_on server -b "$addr%$link"
    read -r READY <"$T/server.out"
    note "$READY"
    [ "$READY" = "listening on [$addr%$link]:$PORT" ]
    run --separate-stderr "${NSX[@]}" "$LAB/client" "$addr%$link" "$PORT" <<<"scoped"
    note_lines "" <<<"$(grep -E 'connect\(' <<<"$stderr")"
    [ "$output" = SCOPED ]
    [[ $stderr == *"connect([$addr%$link]:$PORT) = 0 from [$addr%$link]:"* ]]
}

@test "-b any: the wildcard address, from getaddrinfo(NULL, PORT, AI_PASSIVE): every interface" {
    plain_server -b any
    note "readiness line: $READY"
    [[ $READY == "listening on 0.0.0.0:$P" || $READY == "listening on [::]:$P" ]]
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"from anywhere"
    [ "$output" = "FROM ANYWHERE" ]
}

@test "TIME-WAIT at the server does not refuse the client's port: a new connection from it, its SYN newer than the old connection, takes the pair over" {
    netns_setup
    printf 'first\n' >"$T/client.in"
    server_on server -a                        # the server sends the first FIN
    P=$PORT
    # From now on, one ephemeral port in this namespace: every client
    # connects from it. (The kernel's log says it prefers a range whose
    # ends differ in parity.)
    "${NSX[@]}" bash -c 'echo "50000 50000" >/proc/sys/net/ipv4/ip_local_port_range'
    header
    stepped_client
    wait_until has_line "$T/client.err" 'step: about to shutdown'
    last_match "$T/server.err" 'shutdown\('   # sets LINE
    row CLOSE-WAIT FIN-WAIT-2
    press client 'shutdown\(SHUT_WR\) ='
    row - TIME-WAIT
    press client 'read\(\) = 0'
    press client 'close\('
    row - TIME-WAIT
    tw=$("${NSX[@]}" ss -tanoH state time-wait "( sport = :$P and dport = :$C )")
    note "the server's end: $tw"
    [ "$C" = 50000 ]
    [ -n "$tw" ]
    run --separate-stderr "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P" <<<"second"
    note_lines "a new client: " <<<"$(grep -E 'connect\(' <<<"$stderr")"
    [ "$output" = SECOND ]
    [[ $stderr == *"connect(127.0.0.1:$P) = 0 from 127.0.0.1:$C  state=ESTABLISHED"* ]]
    [ "$(grep -c "accept() = fd [0-9]* from 127.0.0.1:$C " "$T/server.err")" -eq 2 ]
}
