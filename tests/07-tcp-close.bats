#!/usr/bin/env bats
# Lab 07: TCP close and shutdown, the 4-way teardown. Each scenario steps
# the programs one call at a time (-s: a line on a control FIFO is Enter),
# waits after each call until ss shows the transition, and prints the
# timeline: the ss state of the client's end and of the server's end
# ("-": no such socket), and the call as its program narrated it (state=
# there is the program's own TCP_INFO, read right after the call). Four
# tests run in a private network namespace, where they may change the
# queue of the loopback interface (tc), add a link, narrow the range of
# ephemeral ports or count the RSTs sent: as root only.
#
# The steps: 1 and 2 are the server's (SO_REUSEADDR; reading the request
# until read() returns 0), 3, 4 and 5 the client's (shutdown(SHUT_WR);
# SO_LINGER {1, 0}; close()). Under make check a "[step N]" test runs the
# student's program holding step N against the reference other one
# (tests/lib.bash, reference_peer), so each test looks first at what that
# program's call changed (the peer's narration, ss, strace) and does not
# hang on a later step's result: a client's close() is step 5's, and only
# step 5's tests (and tests of no step) require it to succeed.

bats_require_minimum_version 1.5.0
# A step written wrong can hang a program; the test then fails, never hangs.
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup() {
    load lib
    lab_setup 07-tcp-close
}

teardown() {
    exec 5>&- 6>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    lab_teardown
}

# NSX: the prefix that runs a command in this test's network namespace;
# empty (the machine's own loopback) except where netns_setup made one.
NSX=()

# stepped_server ARGS...: the server in step mode on port 0, its control
# FIFO held open on fd 6 (in the namespace NSX, when set: `ip netns exec`
# execs it, so the pid spawn records, and teardown stops, is the server's
# own). Sets SERVER_PID, and P, the port it bound.
stepped_server() {
    mkfifo "$T/server.ctl"
    exec 6<>"$T/server.ctl"
    spawn server "${NSX[@]}" "$LAB/server" -s "$T/server.ctl" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    [ -s "$T/server.out" ] || fail "the server exited before it was ready: $(cat "$T/server.err")"
    read -r READY <"$T/server.out"
    P=${READY##*:}
}

# plain_server ARGS...: the server, no steps, on port 0. Sets P.
plain_server() {
    start_server "$@" 0 || return 1
    P=${READY##*:}
}

# stepped_client ARGS...: the client in step mode (control FIFO on fd 5),
# request from $T/client.in, connected to port P. Sets CLIENT_PID, and C,
# its own port.
stepped_client() {
    mkfifo "$T/client.ctl"
    exec 5<>"$T/client.ctl"
    spawn client "${NSX[@]}" "$LAB/client" -s "$T/client.ctl" "$@" 127.0.0.1 "$P"
    CLIENT_PID=$PID
    # The whole line, up to its state: a look may catch a line still being
    # written (a reader of a regular file can see half of a write).
    wait_until last_match "$T/server.err" 'accept\(\) = fd [0-9]+ from .*:([0-9]+)  state=[A-Z_0-9]+$' ||
        fail "the server accepted no connection from the client: $(tail -n 3 "$T/client.err")"
    C=$MATCH
    last_match "$T/client.err" 'connect\(.*\) = 0' || LINE="(the client has not said connect() yet)"
}

# pid_of WHO: the pid of the client or the server.
pid_of() {
    if [ "$1" = client ]; then echo "${CLIENT_PID:-0}"; else echo "${SERVER_PID:-0}"; fi
}

# said_after_or_gone PID FILE REGEX SKIP: a line of FILE after its first
# SKIP lines matches REGEX, or PID is gone.
said_after_or_gone() {
    last_match "$2" "$3" "$4" || gone "$1"
}

# await WHO REGEX [WHAT]: wait until WHO (client or server) has said a line
# matching REGEX, or has exited; fails, showing its last lines, when it has
# not said it. LINE is the line.
await() {
    local what="the $1's narration"
    wait_until said_after_or_gone "$(pid_of "$1")" "$T/$1.err" "$2" 0 2>/dev/null
    last_match "$T/$1.err" "$2" && return 0
    expect_line "$T/$1.err" "$2" "${3:-$what}"
}

# press WHO REGEX: Enter for WHO (client or server), then wait for its next
# narration line matching REGEX: the result of the call it was held before.
# LINE is that line. Fails at once when WHO exits without saying it.
press() {
    local said
    mapfile -t said <"$T/$1.err"
    if [ "$1" = client ]; then echo >&5; else echo >&6; fi
    wait_until said_after_or_gone "$(pid_of "$1")" "$T/$1.err" "$2" "${#said[@]}" 2>/dev/null
    last_match "$T/$1.err" "$2" "${#said[@]}" && return 0
    {
        echo "after an Enter, the $1 said no line matching /$2/; its last lines:"
        tail -n 6 "$T/$1.err" | sed 's/^/    /'
    } >&2
    return 1
}

# shut_client: Enter for the client held before its shutdown(); its
# narration must then show its FIN sent (FIN_WAIT1, or later): a client
# still ESTABLISHED sent none, and "?" means it has no socket left.
shut_client() {
    press client 'shutdown\(SHUT_WR\) =' || return 1
    [[ $LINE =~ state=(FIN_WAIT1|FIN_WAIT2|CLOSING|CLOSE)$ ]] ||
        fail "after its shutdown() the client should have sent its FIN (state FIN_WAIT1 or FIN_WAIT2) and kept its socket: $LINE"
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

# settled CLIENT SERVER: ss shows these two states (true), or shows no
# socket at an end that should have one: a socket gone (closed, reset)
# never comes back, so there is no use waiting on (true as well).
settled() {
    is_states "$1" "$2" && return 0
    { [ "$CS" = - ] && [ "$1" != - ]; } || { [ "$SS" = - ] && [ "$2" != - ]; }
}

# row CLIENT SERVER: wait until ss shows these two states, then print the
# row of the timeline: what ss showed, and LINE. Fails with what ss showed.
ROWS=0
row() {
    wait_until settled "$1" "$2" 2>/dev/null
    local gone=
    [[ $1 != - && $CS == - || $2 != - && $SS == - ]] && gone=" (-: that end has no socket left: closed, or reset by an RST)"
    is_states "$1" "$2" ||
        fail "expected ss to show the client's end in $1 and the server's in $2; it shows client $CS, server $SS$gone, after: $LINE"
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
    [ -z "$tw" ] || fail "a TIME-WAIT socket is left after what should have been an abort (RST): $tw"
}

# listen_row: the first row of a timeline, the server's listener as ss
# shows it (there is no client yet).
listen_row() {
    local rows text nl=$'\n'
    CS=-
    SS=
    rows=$("${NSX[@]}" ss -tanH "( sport = :$P )")
    [[ $nl$rows == *"${nl}LISTEN "* ]] && SS=LISTEN   # a row whose state is LISTEN
    last_match "$T/server.err" 'listen\(' || LINE="(the server said no listen())"
    ROWS=$((ROWS + 1))
    printf -v text '%2d  %-11s %-11s %s' "$ROWS" - "$SS" "$LINE"
    note "$text"
    SEEN="$SEEN $SS"
}

# same_reply: the client printed its request upper-cased, else fails
# saying how the reply differs.
same_reply() {
    cmp -s <(upcase <"$T/client.in") "$T/client.out" && return 0
    fail "the client's output is not its request upper-cased: $(wc -c <"$T/client.in") bytes sent, $(wc -c <"$T/client.out") printed; first difference at $(cmp <(upcase <"$T/client.in") "$T/client.out" 2>&1 | grep -oE 'byte [0-9]+|EOF.*' | head -n 1)"
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
    await client 'step: about to shutdown'
    row ESTAB ESTAB
    shut_client                                # FIN queued behind 64 KiB the server has not read
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
    [[ $LINE == *"state=CLOSE" ]] || fail "TCP_INFO after the client's last read() should say CLOSE (ss: TIME-WAIT): $LINE"
    same_reply
    press client 'close\('
    row TIME-WAIT -
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
        [[ " $SEEN " == *" $s "* ]] || fail "never observed: $s"
    done
}

# feed BYTES COMMAND...: run COMMAND (a client) with BYTES zero bytes on
# its standard input, as bats' run --separate-stderr does.
feed() {
    local bytes=$1
    shift
    run --separate-stderr bash -c 'n=$1; shift; head -c "$n" /dev/zero | "$@"' _ "$bytes" "$@"
}

# strace_client FILE ARGS...: run the client under strace, ARGS its own
# arguments, its socket options, shutdown and close calls written to FILE;
# status and output as bats' run sets them. Skips without strace.
strace_client() {
    local file=$1
    shift
    command -v strace >/dev/null || skip "needs strace (package strace)"
    run --separate-stderr strace -qq -e signal=none -e trace=setsockopt,shutdown,close -o "$file" "$LAB/client" "$@"
}

# --- Step 1: SO_REUSEADDR (server) --------------------------------------

@test "[step 1] TIME-WAIT stays with the side that closed first; restarting the server on its port needs SO_REUSEADDR" {
    printf 'hello\n' >"$T/client.in"
    plain_server -a                            # the server sends the first FIN
    header
    stepped_client
    await client 'step: about to shutdown'
    last_match "$T/server.err" 'shutdown\(' || LINE="(the server sent its FIN)"
    row CLOSE-WAIT FIN-WAIT-2
    press client 'shutdown\(SHUT_WR\) ='
    row - TIME-WAIT
    press client 'read\(\) = 0'
    row - TIME-WAIT
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    tw=$(ss -tanH state time-wait "( sport = :$P and dport = :$C )")
    note "server stopped; ss -tan state time-wait '( sport = :$P and dport = :$C )': $tw"
    [ -n "$tw" ] || fail "no TIME-WAIT left on port $P after the server closed first"
    run "$LAB/server" -n "$P"
    note "restart with -n (no SO_REUSEADDR): exit $status: ${lines[*]: -1}"
    is "exit status of the restart with -n (no SO_REUSEADDR), while TIME-WAIT holds port $P" "$status" 1
    is "its last line" "${lines[*]: -1}" "server: bind 127.0.0.1:$P: Address already in use"
    spawn again "$LAB/server" "$P"
    wait_until ready_or_dead "$PID" again
    note "restart with SO_REUSEADDR: $(cat "$T/again.out" "$T/again.err" | grep -E 'listening|setsockopt|bind')"
    expect_line "$T/again.err" '^\[server\] setsockopt\(SO_REUSEADDR, 1\) = 0$' "the restarted server's setsockopt()"
    is "the restarted server's readiness line (bind() must succeed while TIME-WAIT holds the port: SO_REUSEADDR, level SOL_SOCKET, before bind())" \
        "$(<"$T/again.out")" "listening on 127.0.0.1:$P"
}

@test "[step 1] SO_REUSEADDR never lets two servers listen on one port: a second server fails with EADDRINUSE, the first keeps listening" {
    plain_server
    expect_line "$T/server.err" '^\[server\] setsockopt\(SO_REUSEADDR, 1\) = 0$' "the server's setsockopt()"
    spawn second "$LAB/server" "$P"
    second=$PID
    wait_until ready_or_dead "$second" second
    if [ -s "$T/second.out" ]; then
        fail "a second server listens on port $P beside the first ($(<"$T/second.out")): SO_REUSEADDR never allows that, SO_REUSEPORT does: which option did you set?"
    fi
    wait_exit "$second"
    note "a second server on port $P: exit $STATUS: $(tail -n 1 "$T/second.err")"
    is "the second server's exit status" "$STATUS" 1
    is "its last line" "$(tail -n 1 "$T/second.err")" "server: bind 127.0.0.1:$P: Address already in use"
    alive "$SERVER_PID" || fail "the first server is gone: $(tail -n 3 "$T/server.err")"
    listening=$(ss -tlnH "( sport = :$P )")
    [ -n "$listening" ] || fail "nothing listens on port $P any more"
}

# --- Step 2: read the request until read() returns 0 (server) -----------

@test "[step 2] half-close: the server reads until read() returns 0, then still sends its whole reply" {
    printf 'a request\nends where the\nclient shuts down\n' >"$T/client.in"
    stepped_server
    header
    stepped_client
    await client 'step: about to shutdown'
    row ESTAB ESTAB
    press client 'shutdown\(SHUT_WR\) ='       # nothing queued: the FIN goes, the ACK comes
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'read\(\) = 0' ||
        fail "the server's read() never returned 0, though the client's FIN is in: it must read until read() returns 0"
    row FIN-WAIT-2 CLOSE-WAIT
    expect_line "$T/server.err" "read\(\) = $(wc -c <"$T/client.in") bytes" "the server's read() of the $(wc -c <"$T/client.in")-byte request"
    press server 'write\(\) ='                 # the half-closed connection still carries the reply
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'shutdown\(SHUT_WR\) ='
    row TIME-WAIT -
    press client 'read\(\) = 0'
    row TIME-WAIT -
    same_reply
    note "the client printed: $(tr '\n' '|' <"$T/client.out")"
    # And for a large request, without steps: all of the reply arrives.
    head -c 1048576 /dev/urandom >"$T/big"
    spawn plain "$LAB/server" 0
    wait_until ready_or_dead "$PID" plain
    read -r ready <"$T/plain.out" || fail "the second server did not start: $(cat "$T/plain.err")"
    "$LAB/client" 127.0.0.1 "${ready##*:}" <"$T/big" >"$T/big.out" 2>"$T/big.err" ||
        fail "the client of a 1 MiB request failed: $(tail -n 2 "$T/big.err")"
    upcase <"$T/big" | cmp -s - "$T/big.out" ||
        fail "the reply to a 1 MiB request is not the request upper-cased ($(wc -c <"$T/big.out") bytes back; first difference at $(upcase <"$T/big" | cmp - "$T/big.out" 2>&1 | grep -oE 'byte [0-9]+|EOF.*' | head -n 1)): each read() must add to what is already in req, after its len bytes"
    note "1 MiB request, no steps: reply identical to tr a-z A-Z; $(count 'read\(\) = [0-9]+ bytes' "$T/plain.err") server reads until read() returned 0"
}

@test "[step 2] a request over 16 MiB: the server says it is over the limit and resets (the client sees it); the usages name the limit" {
    run "$LAB/server" --help
    [[ $output == *"16 MiB"* ]] || fail "the server's usage does not name the 16 MiB limit: $output"
    run "$LAB/client" --help
    [[ $output == *"16 MiB"* ]] || fail "the client's usage does not name the 16 MiB limit: $output"
    plain_server
    feed 16777217 "$LAB/client" 127.0.0.1 "$P"
    note "16 MiB + 1 byte: client exit $status: ${stderr_lines[*]: -1}"
    await server 'close\(fd|limit'
    last_match "$T/server.err" 'limit' ||
        fail "the server never said the request exceeds its limit (it must read all the room req has, 16 MiB + 1 bytes, to know): $(grep -vE 'read\(\) = [0-9]+ bytes' "$T/server.err" | tail -n 4)"
    note "$LINE"
    [[ $LINE == "[server] the request exceeds 16 MiB (16777216 bytes), the limit: "* ]] || fail "the server's refusal: $LINE"
    is "the client's exit status (the server resets the connection)" "$status" 1
}

# --- Step 3: shutdown(SHUT_WR) (client) ---------------------------------

@test "[step 3] shutdown(SHUT_WR) sends the FIN and keeps the descriptor: the server's read() returns 0, and the client still reads the whole reply" {
    printf 'half\nclosed\n' >"$T/client.in"
    stepped_server
    header
    stepped_client
    await client 'step: about to shutdown'
    row ESTAB ESTAB
    shut_client
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'read\(\) = 0' ||
        fail "the server's read() did not return 0: the client's FIN did not come"
    row FIN-WAIT-2 CLOSE-WAIT
    press server 'write\(\) ='
    [[ $LINE != *"= -1"* ]] ||
        fail "the server could not send its reply ($LINE): the client's end takes no more data; did its shutdown() end receiving too?"
    press server 'shutdown\(SHUT_WR\) ='
    row TIME-WAIT -                             # the reply and the server's FIN are in, unread
    press client 'read\(\) = 0'
    note "the client printed: $(tr '\n' '|' <"$T/client.out")"
    is "the reply the client printed (it must still read after its shutdown: SHUT_WR ends the sending direction only)" \
        "$(<"$T/client.out")" "$(upcase <"$T/client.in")"
}

@test "[step 3] orderly close, client first: one connection through the teardown, each state held still" {
    stepped_server -r 4096
    header
    orderly_close
    seen LISTEN ESTAB FIN-WAIT-1 FIN-WAIT-2 CLOSE-WAIT LAST-ACK TIME-WAIT
}

@test "[step 3] simultaneous close: both ends in FIN-WAIT-1, each FIN held behind a zero window; the client goes through CLOSING" {
    yes 'both ends close at once' | head -c 65536 >"$T/client.in"
    # -a: the server answers the first read and sends its FIN without
    # waiting for the client's. The client's 2 KiB buffer holds the reply.
    stepped_server -a -r 16384
    header
    stepped_client -r 2048
    await client 'step: about to shutdown'
    row ESTAB ESTAB
    press server 'read\(\) = [0-9]+ bytes'
    row ESTAB ESTAB
    press server 'write\(\) ='                 # more than the client's window
    row ESTAB ESTAB
    shut_client                                # FIN behind request data the server does not read
    row FIN-WAIT-1 ESTAB
    press server 'shutdown\(SHUT_WR\) ='       # FIN behind reply data the client does not read
    row FIN-WAIT-1 FIN-WAIT-1
    press client 'read\(\) = 0'                # the server's FIN arrives before the ACK of ours
    row CLOSING FIN-WAIT-2
    [[ $LINE == *"state=CLOSING" ]] || fail "the client's TCP_INFO after its read() of the server's FIN: $LINE"
    press server 'read\(\) = 0'                # the client's data and FIN flow: its FIN is ACKed
    row TIME-WAIT TIME-WAIT
    press client 'close\('
    row TIME-WAIT TIME-WAIT
    press server 'close\('
    row TIME-WAIT TIME-WAIT
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
    [ "$LAST" = "TIME-WAIT TIME-WAIT" ] || return 1
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
    need_lo_gate
    printf 'hello\n' >"$T/client.in"
    # Connection A. The server, -a, answers the first read and sends its
    # FIN without waiting for the client's.
    stepped_server -a
    [ "/proc/$SERVER_PID/exe" -ef "$LAB/server" ] ||
        fail "the pid spawned is not the server's own: $(readlink "/proc/$SERVER_PID/exe")"
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
    CLIENT_PID=$PID
    wait_until syn_sent
    wait_until gate_holds 1
    mapfile -t said <"$T/client.err"
    LINE="[tc] lo's queue lets 100 bytes through: the SYN; ${said[*]: -1}   (connect() not back yet)"
    row SYN-SENT SYN-RECV
    note "    tc -s qdisc show dev lo: backlog $QUEUED (the SYN-ACK)"
    gate_open
    await client 'connect\(.*\) = 0'
    LINE="[tc] lo's queue open: $LINE"
    row ESTAB ESTAB
    await client 'step: about to shutdown'
    last_match "$T/client.err" 'write\(\) =' || LINE="(the client said no write())"
    row ESTAB ESTAB
    press server 'read\(\) = [0-9]+ bytes'
    row ESTAB ESTAB
    press server 'write\(\) ='                 # the reply: the client reads it later
    row ESTAB ESTAB
    gate_shut
    LINE="[tc] lo's queue shut: tbf at 8 bit/s, its 100-byte bucket spent"
    row ESTAB ESTAB
    shut_client                                # the client's FIN waits in the queue
    row FIN-WAIT-1 ESTAB
    press server 'shutdown\(SHUT_WR\) ='       # so does the server's: both FINs in flight
    row FIN-WAIT-1 FIN-WAIT-1
    wait_until gate_holds 2 || fail "lo's queue does not hold the two FINs: backlog ${QUEUED:-none}"
    note "    tc -s qdisc show dev lo: backlog $QUEUED"
    # The queue lets the two FINs through, and no more: each end's ACK of
    # the FIN it receives, and any FIN sent again, wait behind them.
    gate_pass "${QUEUED%%b *}"
    LINE="[tc] lo's queue lets ${QUEUED%%b *} bytes through: the two FINs cross; what each end answers waits"
    row CLOSING CLOSING
    press client 'read\(\) = 0'
    row CLOSING CLOSING
    [[ $LINE == *"state=CLOSING" ]] || fail "the client's TCP_INFO after its read() of the server's FIN: $LINE"
    press server 'read\(\) = 0'
    row CLOSING CLOSING
    [[ $LINE == *"state=CLOSING" ]] || fail "the server's TCP_INFO after its read() of the client's FIN: $LINE"
    gate_holds 2 || fail "lo's queue does not hold the ACKs of the FINs: backlog ${QUEUED:-none}"
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
    is "the client's output" "$(<"$T/client.out")" HELLO
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

@test "[step 3] over IPv6 (::1) the teardown is the same: TIME-WAIT at the client, which closed first" {
    ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/' || skip "no ::1 on lo: IPv6 loopback is not configured"
    start_server -b ::1 0
    P=${READY##*:}
    is "the readiness line" "$READY" "listening on [::1]:$P"
    run --separate-stderr "$LAB/client" ::1 "$P" <<<"over ipv6"
    note_lines "    " < <(grep -E 'connect\(|shutdown\(|close\(' <<<"$stderr")
    is "the client's output" "$output" "OVER IPV6"
    [[ $stderr =~ connect\(\[::1\]:[0-9]+\)\ =\ 0\ from\ \[::1\]:([0-9]+) ]] ||
        fail "no connect([::1]:$P) = 0 from [::1]:PORT in the client's narration: $stderr"
    cport=${BASH_REMATCH[1]}
    tw=$(ss -tanH state time-wait "( sport = :$cport and dport = :$P )")
    note "ss -tan state time-wait '( sport = :$cport and dport = :$P )': $tw"
    [[ $tw == *"[::1]:$P"* ]] || fail "no TIME-WAIT at the client's end [::1]:$cport, which sent the first FIN: ss shows '$tw'"
}

# --- Step 4: SO_LINGER {1, 0} (client -L) -------------------------------

@test "[step 4] the client's -L sets SO_LINGER at level SOL_SOCKET, on, 0 seconds (strace)" {
    plain_server
    strace_client "$T/trace" -L 127.0.0.1 "$P" <<<"traced"
    note_lines "    " < <(grep -E 'SO_LINGER' "$T/trace")
    expect_line "$T/trace" '^setsockopt\([0-9]+, SOL_SOCKET, SO_LINGER, \{l_onoff=[1-9][0-9]*, l_linger=0\}, 8\) = 0$' \
        "strace of the client -L: SO_LINGER, on (l_onoff not 0), l_linger 0, at level SOL_SOCKET, with the size of a struct linger"
}

@test "[step 4] abortive close: SO_LINGER {1, 0} sends RST; the server's read() fails with ECONNRESET; no TIME-WAIT" {
    printf 'never mind\n' >"$T/client.in"
    plain_server
    header
    stepped_client -L
    await client 'step: about to setsockopt'
    row ESTAB ESTAB
    press client 'setsockopt\(SO_LINGER'
    is "the client's narration" "$LINE" "[client] setsockopt(SO_LINGER {1, 0}) = 0"
    row ESTAB ESTAB
    echo >&5                                   # close(): RST instead of FIN
    await server 'read\(\) = (-1|0)' "the server's read() after the client's close()"
    LINE="[client] close(): the server says: $LINE"
    row - -
    note_lines "    " < <(grep -E 'read\(\) = (-1|0)|close\(' "$T/server.err")
    expect_line "$T/server.err" 'read\(\) = -1: Connection reset by peer' \
        "the server's read() after the client's abortive close() (a FIN would make it return 0)"
    no_time_wait
}

# --- Step 5: close() (client) -------------------------------------------

@test "[step 5] close() with data unread sends RST too: the server's read() fails with ECONNRESET; no TIME-WAIT" {
    printf 'unread\n' >"$T/client.in"
    plain_server -a                            # replies and sends FIN, then reads on
    header
    stepped_client -c                          # -c: close() with no shutdown(), no read()
    await client 'step: about to close'
    last_match "$T/server.err" 'shutdown\(' || LINE="(the server said no shutdown())"
    row CLOSE-WAIT FIN-WAIT-2                  # the reply and the FIN wait unread at the client
    press client 'close\('
    [[ $LINE == *"with 7 bytes unread"* ]] || fail "the client's close() narration should count the 7 bytes of reply it never read: $LINE"
    row - -
    await server 'read\(\) = (-1|0)' "the server's read() after the client's close()"
    note_lines "    " < <(grep -E 'read\(\) = (-1|0)|close\(' "$T/server.err")
    expect_line "$T/server.err" 'read\(\) = -1: Connection reset by peer' \
        "the server's read() after the client closed with data unread (RST)"
    no_time_wait
}

@test "[step 5] close() after the reply: the client exits 0, and its end stays in TIME-WAIT: TIME-WAIT belongs to the connection, not the descriptor" {
    printf 'closing time\n' >"$T/client.in"
    plain_server
    header
    stepped_client
    await client 'step: about to shutdown'
    press client 'step: about to read'
    press client 'step: about to close'
    last_match "$T/client.err" 'read\(\) = 0' || LINE="(the client said no read() = 0)"
    row TIME-WAIT -
    press client 'close\('
    [[ $LINE =~ ^\[client\]\ close\(fd\ [0-9]+\)\ =\ 0,\ with\ 0\ bytes\ unread$ ]] ||
        fail "the client's close() narration: $LINE"
    row TIME-WAIT -
    wait_exit "$CLIENT_PID"
    is "the client's exit status after its close()" "$STATUS" 0
    same_reply
}

# --- Tests of no single step: both programs ------------------------------

@test "the client exits 1 with the reason when nobody listens" {
    plain_server
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run "$LAB/client" 127.0.0.1 "$P" </dev/null
    note "no server: exit $status: ${lines[*]: -1}"
    is "the client's exit status" "$status" 1
    is "its last line" "${lines[*]: -1}" "client: connect 127.0.0.1:$P: Connection refused"
}

@test "usage: -h and --help exit 0; bad ports and options exit 2" {
    usage_contract server 5007
    usage_contract client "HOST PORT"
    for port in abc -1 70000 ''; do
        run "$LAB/server" -- "$port"   # --: a PORT of -1 is not an option
        is "server PORT '$port': exit status" "$status" 2
        [[ ${lines[0]} == "server: bad PORT '$port'"* ]] || fail "server PORT '$port': ${lines[0]}"
        run "$LAB/client" -- 127.0.0.1 "$port"
        is "client PORT '$port': exit status" "$status" 2
        [[ ${lines[0]} == "client: bad PORT '$port'"* ]] || fail "client PORT '$port': ${lines[0]}"
        note "PORT '$port': exit 2: ${lines[0]}"
    done
    run "$LAB/client" 127.0.0.1 0
    is "client PORT 0: exit status" "$status" 2
    run "$LAB/client" -c -L 127.0.0.1 5007
    is "client -c -L: exit status" "$status" 2
    run "$LAB/server" abc
    note "server abc: ${lines[0]}"
    is "server abc: exit status" "$status" 2
    [[ ${lines[0]} == "server: bad PORT 'abc'"* ]] || fail "server abc: ${lines[0]}"
}

@test "with no PORT the server takes the documented default, 127.0.0.1:5007 (in a network namespace of its own)" {
    default_port_server || fail "the server with no arguments did not start: $(cat "$T/server.err")"
    note "server with no arguments: $READY"
    is "the readiness line" "$READY" "listening on 127.0.0.1:5007"
    run "$LAB/server" --help
    [[ $output == *"5007"* ]] || fail "the usage does not name port 5007: $output"
}

@test "-p MS pauses before each call of the teardown: a server pausing before it reads holds CLOSE-WAIT, its client FIN-WAIT-2" {
    plain_server -p 20000     # far longer than the test: teardown ends the server
    printf 'pause\n' >"$T/client.in"
    spawn client "$LAB/client" 127.0.0.1 "$P"
    CLIENT_PID=$PID
    await server 'step: about to read\(\) until it returns 0, pausing 20000 ms'
    last_match "$T/server.err" 'accept\(\) = fd [0-9]+ from .*:([0-9]+) ' || fail "the server narrated no accept()"
    C=$MATCH
    header
    await client 'shutdown\(SHUT_WR\) = 0'
    last_match "$T/server.err" 'pausing' && pausing=$LINE
    last_match "$T/client.err" 'shutdown'
    LINE="$pausing; $LINE"
    row FIN-WAIT-2 CLOSE-WAIT   # the client's FIN is in; the server, pausing, has not read it
    not has_line "$T/server.err" 'read\(\) =' || fail "the server read while it should pause: $(grep 'read()' "$T/server.err")"

    run "$LAB/client" -p 0 127.0.0.1 "$P"
    is "client -p 0: exit status" "$status" 2
    [[ ${lines[0]} == "client: bad MS '0'"* ]] || fail "client -p 0: ${lines[0]}"
}

# server_on NAME ARGS...: a plain server, spawned as NAME on port 0 with
# ARGS (in the namespace NSX, when set). Sets PORT.
server_on() {
    local name=$1 ready
    shift
    spawn "$name" "${NSX[@]}" "$LAB/server" "$@" 0
    [ "$name" = server ] && SERVER_PID=$PID
    wait_until said_or_gone "$PID" "$T/$name.out" 'listening on'
    has_line "$T/$name.out" 'listening on' || fail "the server ($*) did not start: $(cat "$T/$name.err")"
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
    await client 'step: about to shutdown'
    WAIT_LIMIT=3 await server 'client dropped'
    note "$LINE"
    is "the server's narration" "$LINE" "[server] read() = -1: Resource temporarily unavailable (nothing for 1 s): client dropped  state=ESTABLISHED"
    await server 'close\(fd'
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"next"
    note "the next client: exit $status, '$output'"
    is "the next client's output" "$output" NEXT
    run "$LAB/server" --help
    [[ $output == *"-t SECONDS"*"default 30"* ]] || fail "the usage does not give -t SECONDS and its default 30: $output"
}

@test "a link-local address with a 15-character interface name (fe80:...%ifname, 55 characters): the readiness line shows it whole" {
    netns_setup
    long_link_local
    link=$LINK addr=$ADDR6
    server_on server -b "$addr%$link"
    read -r READY <"$T/server.out"
    note "$READY"
    is "the readiness line" "$READY" "listening on [$addr%$link]:$PORT"
    run --separate-stderr "${NSX[@]}" "$LAB/client" "$addr%$link" "$PORT" <<<"scoped"
    note_lines "" <<<"$(grep -E 'connect\(' <<<"$stderr")"
    is "the client's output" "$output" SCOPED
    [[ $stderr == *"connect([$addr%$link]:$PORT) = 0 from [$addr%$link]:"* ]] ||
        fail "the client's connect() narration does not show the scoped address whole: $stderr"
}

@test "-b any: the wildcard address, from getaddrinfo(NULL, PORT, AI_PASSIVE): every interface" {
    plain_server -b any
    note "readiness line: $READY"
    [[ $READY == "listening on 0.0.0.0:$P" || $READY == "listening on [::]:$P" ]] ||
        fail "the readiness line of -b any: $READY"
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"from anywhere"
    is "the client's output" "$output" "FROM ANYWHERE"
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
    await client 'step: about to shutdown'
    last_match "$T/server.err" 'shutdown\(' || LINE="(the server said no shutdown())"
    row CLOSE-WAIT FIN-WAIT-2
    press client 'shutdown\(SHUT_WR\) ='
    row - TIME-WAIT
    press client 'read\(\) = 0'
    press client 'close\('
    row - TIME-WAIT
    tw=$("${NSX[@]}" ss -tanoH state time-wait "( sport = :$P and dport = :$C )")
    note "the server's end: $tw"
    is "the client's port" "$C" 50000
    [ -n "$tw" ] || fail "no TIME-WAIT at the server's end, which sent the first FIN"
    run --separate-stderr "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P" <<<"second"
    note_lines "a new client: " <<<"$(grep -E 'connect\(' <<<"$stderr")"
    is "the new client's output" "$output" SECOND
    [[ $stderr == *"connect(127.0.0.1:$P) = 0 from 127.0.0.1:$C  state=ESTABLISHED"* ]] ||
        fail "the new client did not connect from port $C: $stderr"
    is "connections the server accepted from port $C" "$(count "accept\(\) = fd [0-9]+ from 127.0.0.1:$C " "$T/server.err")" 2
}

# --- Going further: the extras (bonus; never fail make check) -----------

# out_rsts: RSTS, the RSTs this test's network namespace has sent (the
# OutRsts counter of the Tcp lines of /proc/net/snmp, which are the
# reader's namespace's own).
out_rsts() {
    RSTS=$("${NSX[@]}" awk '$1 == "Tcp:" && !names { for (i = 2; i <= NF; i++) if ($i == "OutRsts") f = i; names = 1; next }
        $1 == "Tcp:" { print $f }' /proc/net/snmp)
}

@test "[extra 1] -d: a request over 16 MiB is refused with a message the client reads, then a lingering close: the rest drained, FIN, no RST" {
    # As root, in a network namespace of the test's own: the RSTs counted
    # are this test's alone.
    if [ "$(id -u)" -eq 0 ]; then
        NS=sk$$-$RANDOM
        if ip netns add "$NS" 2>/dev/null; then NSX=(ip netns exec "$NS"); "${NSX[@]}" ip link set lo up; else NS=; fi
    fi
    server_on server -d
    P=$PORT
    out_rsts
    before=$RSTS
    # 17 MiB: 1 MiB more than the limit, still coming when the server refuses.
    feed 17825792 "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P"
    note "17 MiB request to a server -d: client exit $status, printed '$output'"
    is "the client's exit status (it must see the refusal and EOF, not ECONNRESET)" "$status" 0
    is "what the client printed" "$output" "refused: the request exceeds 16 MiB"
    await server 'close\(fd'
    note_lines "    " < <(grep -E 'exceeds|refusal|shutdown|drained|close\(' "$T/server.err")
    expect_line "$T/server.err" '^\[server\] shutdown\(SHUT_WR\) = 0  state=' "the server's FIN after its refusal"
    expect_line "$T/server.err" "^\[server\] read\(\) = 0 after [0-9]+ bytes drained: the client's FIN  state=" \
        "the server's drain, until the client's FIN"
    if [ -n "${NS:-}" ]; then
        out_rsts
        note "RSTs sent in the test's network namespace: $((RSTS - before))"
        is "RSTs sent in the test's network namespace (OutRsts in /proc/net/snmp)" "$((RSTS - before))" 0
    else
        note "RSTs not counted: that needs root (a network namespace of the test's own)"
    fi
    # The drain is bounded: a client that sends for ever gets RST after
    # another 16 MiB, and the server takes the next.
    feed 50331648 "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P"
    note "48 MiB request: client exit $status: ${stderr_lines[*]: -1}"
    is "the client's exit status when the server stops draining (a reset)" "$status" 1
    await server 'the bound'
    note "$LINE"
    [[ $LINE =~ ^\[server\]\ drained\ [0-9]+\ bytes,\ the\ bound:\ giving\ up ]] || fail "the server's narration of the bound: $LINE"
    run --separate-stderr "${NSX[@]}" "$LAB/client" 127.0.0.1 "$P" <<<"next"
    is "the next client's output" "$output" NEXT
}

@test "[extra 2] -w SECONDS: a client in FIN-WAIT-2 whose server never closes gives up after SECONDS (exit 1); its end stays, an orphan the kernel ends" {
    printf 'anyone there?\n' >"$T/client.in"
    stepped_server                             # held before its read(): it never replies
    header
    start=${EPOCHREALTIME/./}
    spawn client "$LAB/client" -w 1 127.0.0.1 "$P"
    CLIENT_PID=$PID
    await server 'accept\(\) = fd [0-9]+ from .*:([0-9]+)  state=[A-Z_0-9]+$'
    C=$MATCH
    await client 'setsockopt\(SO_RCVTIMEO'
    is "the client's narration of -w 1" "$LINE" "[client] setsockopt(SO_RCVTIMEO, SO_SNDTIMEO, 1 s) = 0"
    wait_exit "$CLIENT_PID" || fail "the client -w 1 still waits after ${WAIT_LIMIT}s: $(tail -n 2 "$T/client.err")"
    took=$(( (${EPOCHREALTIME/./} - start) / 1000 ))
    note "the client gave up after $took ms: $(tail -n 1 "$T/client.err")"
    is "the client's exit status" "$STATUS" 1
    is "the client's last line" "$(tail -n 1 "$T/client.err")" \
        "client: read: nothing from the server for 1 s (-w), not even its FIN: giving up"
    expect_line "$T/client.err" '^\[client\] read\(\) = -1: Resource temporarily unavailable  state=FIN_WAIT2$' "the client's read() that waited 1 s"
    (( took >= 1000 )) || fail "the client gave up after $took ms, before its 1 s"
    LINE="[client] exited: its end is an orphan now, in FIN-WAIT-2"
    row FIN-WAIT-2 CLOSE-WAIT
    note "    $(ss -tanoH "( sport = :$C and dport = :$P )")"
    # -w bounds the writes too: a server that reads nothing takes nothing
    # once the buffers are full.
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    exec 6>&-
    mkdir "$T/first"
    mv "$T"/server.* "$T/first/"
    stepped_server -r 4096                     # held before its read(), its window soon 0
    feed 8388608 "$LAB/client" -w 1 127.0.0.1 "$P"
    note "8 MiB to a server that does not read: client exit $status: ${stderr_lines[*]: -1}"
    is "the client's exit status" "$status" 1
    is "the client's last line" "${stderr_lines[*]: -1}" "client: write: the server took nothing for 1 s (-w): giving up"
    # And a server that answers in time: -w changes nothing.
    server_on quick
    run --separate-stderr "$LAB/client" -w 5 127.0.0.1 "$PORT" <<<"in time"
    is "the client -w 5's exit status, its server answering at once" "$status" 0
    is "its output" "$output" "IN TIME"
}
