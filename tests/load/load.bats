#!/usr/bin/env bats
# Load: each connection server (lab 08: each file server) serves 1000 clients one after another, then
# 50 that arrive at once (lab 12's, which serves them all at once with
# poll(): 200, all connected before any sends); its descriptors and
# resident memory stay as they were. Each datagram server answers 10,000 datagrams of random sizes and
# random bytes, and still answers correctly afterwards. Not part of `make
# test` (about a minute); CI runs it: bats tests/load/.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

setup() {
    load ../lib
}

teardown() {
    lab_teardown
}

# rss PID: the process's resident memory in kB (/proc/PID/status, VmRSS).
rss() {
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

# at_once N COMMAND...: start N clients at the same moment, each with the
# input line "at once I", and wait for all; their outputs go to $T/once.I.
at_once() {
    local n=$1 i pids=()
    shift
    for ((i = 1; i <= n; i++)); do
        "$@" <<<"at once $i" >"$T/once.$i" 2>/dev/null 3>&- &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
}

# serve_load LAB unix|inet: 1000 clients in a row, then 50 at once, against
# the lab's server on a path in $T or on port 0; every reply checked,
# descriptors and memory compared.
serve_load() {
    local lab=$1 i bad=0 to wrong=
    lab_setup "$lab"
    if [ "$2" = unix ]; then
        start_server "$T/s"
        to=("$T/s")
    else
        start_server 0
        to=(127.0.0.1 "${READY##*:}")
    fi
    clients_in_a_row 20 "$T/out" "$LAB/client" "${to[@]}"   # warm up: stdio, first accept
    local fds=$(fd_count "$SERVER_PID") mem=$(rss "$SERVER_PID")
    LOOP_LIMIT=120 clients_in_a_row 1000 "$T/out" "$LAB/client" "${to[@]}"
    is "$lab: the reply to the 1000th client in a row" "$(cat "$T/out")" "CLIENT 1000"
    at_once 50 "$LAB/client" "${to[@]}"
    for ((i = 1; i <= 50; i++)); do
        [ "$(cat "$T/once.$i")" = "AT ONCE $i" ] || { bad=$((bad + 1)) wrong=${wrong:-"client $i got '$(cat "$T/once.$i")'"}; }
    done
    note "$lab: 1000 in a row, then 50 at once ($bad wrong replies); descriptors $fds -> $(fd_count "$SERVER_PID"), VmRSS ${mem} kB -> $(rss "$SERVER_PID") kB"
    [ "$bad" -eq 0 ] || fail "$lab: $bad of the 50 clients at once got a wrong reply; the first: $wrong"
    [ "$(fd_count "$SERVER_PID")" -eq "$fds" ] ||
        fail "$lab: the server has $(fd_count "$SERVER_PID") descriptors open after the load, $fds before: $(ls -l "/proc/$SERVER_PID/fd")"
    [ "$(rss "$SERVER_PID")" -le "$mem" ] || fail "$lab: the server's VmRSS grew from $mem kB to $(rss "$SERVER_PID") kB"
    [ "$(grep -c 'accept() = fd' "$T/server.err")" -eq 1070 ] ||
        fail "$lab: the server narrated $(grep -c 'accept() = fd' "$T/server.err") accept()s, not 1070 (20 + 1000 + 50 clients)"
}

@test "01 unix stream: 1000 clients in a row, then 50 at once; descriptors and memory unchanged" {
    serve_load 01-unix-stream unix
}

@test "04 seqpacket: 1000 clients in a row, then 50 at once; descriptors and memory unchanged" {
    serve_load 04-seqpacket unix
}

@test "05 tcp: 1000 clients in a row, then 50 at once; descriptors and memory unchanged" {
    serve_load 05-tcp inet
}

@test "07 tcp close: 1000 clients in a row, then 50 at once; descriptors and memory unchanged" {
    serve_load 07-tcp-close inet
}

# datagrams MAX: 10,000 lines of random bytes (no newline), of random
# sizes from 0 to MAX, log-uniform so that short and long ones both come
# up, the longest MAX, in $T/in.
datagrams() {
    perl -e '
        my $max = shift;
        srand(4242);
        for my $i (1 .. 10000) {
            my $n = $i == 1 ? $max : $i == 2 ? 0 : int(exp(rand(log($max + 1)))) - 1;
            my $s = pack("C*", map { my $c = int(rand(255)); $c >= 10 ? $c + 1 : $c } 1 .. $n);
            print $s, "\n";
        }' "$1" >"$T/in"
}

@test "03 unix datagram: 10,000 datagrams of random bytes, 0 to 65536 long, each answered; then a correct answer" {
    lab_setup 03-unix-dgram
    start_server "$T/s"
    datagrams 65536
    "$LAB/client" "$T/s" <"$T/in" >"$T/out" 2>"$T/client.err"
    upcase <"$T/in" | cmp - "$T/out"
    note "03: $(wc -l <"$T/in") datagrams, $(wc -c <"$T/in") bytes, every reply identical to tr a-z A-Z; $(count 'recvmsg\(\) = ' "$T/server.err") received by the server"
    run --separate-stderr "$LAB/client" "$T/s" <<<"still here"
    [ "$output" = "STILL HERE" ] || fail "03: after the load, the reply to 'still here' is '$output', not 'STILL HERE'; exit $status: $stderr"
}

@test "06 udp: 10,000 datagrams of random bytes, 0 to 65507 long: each one the server receives is answered, each one it does not is counted as dropped; then a correct answer" {
    lab_setup 06-udp
    start_server 0
    P=${READY##*:}
    datagrams 65507
    # UDP has no flow control: a burst overflows the server's queue, the
    # kernel drops what does not fit (ss -uam counts it: skmem d), and the
    # client reports replies missing (exit 1). The server answers every
    # datagram it gets.
    "$LAB/client" -t 2000 127.0.0.1 "$P" <"$T/in" >"$T/out" 2>"$T/client.err" || true
    received=$(count 'recvmsg\(\) = ' "$T/server.err")
    answered=$(count 'sendto\(.*\) = [0-9]+ bytes' "$T/server.err")
    drops=$(ss -uamH "sport = :$P" | sed -nE 's/.*skmem:\(.*,d([0-9]+)\).*/\1/p')
    note "06: $(wc -l <"$T/in") datagrams sent; the server received $received, answered $answered; the kernel dropped ${drops:-?} at its socket; $(wc -l <"$T/out") replies printed"
    [ "$received" -eq "$answered" ] || fail "06: the server received $received datagrams and answered $answered"
    [ $((received + drops)) -eq 10000 ] ||
        fail "06: the server received $received, the kernel dropped ${drops:-?}: $((received + drops)) in all, not the 10000 sent"
    run --separate-stderr "$LAB/client" 127.0.0.1 "$P" <<<"still here"
    [ "$output" = "STILL HERE" ] || fail "06: after the load, the reply to 'still here' is '$output', not 'STILL HERE'; exit $status: $stderr"
}

@test "08 fd passing: 1000 clients in a row, then 50 at once, each receiving the file as a descriptor; descriptors and memory unchanged" {
    local lab=08-fd-passing i bad=0 wrong=
    lab_setup "$lab"
    mkdir "$T/files"
    echo "passed, not copied" >"$T/files/f"
    start_server "$T/s" "$T/files"
    clients_in_a_row 20 "$T/out" "$LAB/client" "$T/s" f   # warm up
    local fds=$(fd_count "$SERVER_PID") mem=$(rss "$SERVER_PID")
    LOOP_LIMIT=120 clients_in_a_row 1000 "$T/out" "$LAB/client" "$T/s" f
    is "$lab: what the 1000th client in a row read from its descriptor" "$(cat "$T/out")" "passed, not copied"
    at_once 50 "$LAB/client" "$T/s" f
    for ((i = 1; i <= 50; i++)); do
        [ "$(cat "$T/once.$i")" = "passed, not copied" ] || { bad=$((bad + 1)) wrong=${wrong:-"client $i got '$(cat "$T/once.$i")'"}; }
    done
    note "$lab: 1000 in a row, then 50 at once ($bad wrong); descriptors $fds -> $(fd_count "$SERVER_PID"), VmRSS ${mem} kB -> $(rss "$SERVER_PID") kB"
    [ "$bad" -eq 0 ] || fail "$lab: $bad of the 50 clients at once read something else; the first: $wrong"
    is "$lab: the server's descriptor count after the load" "$(fd_count "$SERVER_PID")" "$fds"
    [ "$(rss "$SERVER_PID")" -le "$mem" ] || fail "$lab: the server's VmRSS grew from $mem kB to $(rss "$SERVER_PID") kB"
    is "$lab: the server's sendmsg(SCM_RIGHTS) narrations" "$(grep -c 'sendmsg() = 2 bytes + SCM_RIGHTS' "$T/server.err")" 1070
}

# together12 N PORT TAG: N of lab 12's clients, all connected to the
# server on PORT at once before any sends: each one's input, "TAG I",
# waits for a line of $T/go (a FIFO we hold open, fd 9), which we write
# once the server has narrated N clients at once ("(N of 250 clients)",
# the ROUND-th time: ROUND is counted here). Their outputs go to
# $T/TAG.I; returns when all have ended.
ROUND=0
together12() {
    local n=$1 i pids=()
    [ -p "$T/go" ] || mkfifo "$T/go"
    exec 9<>"$T/go"
    for ((i = 1; i <= n; i++)); do
        { read -r _ <"$T/go"; echo "$3 $i"; } 3>&- 9>&- | "$LAB/client" 127.0.0.1 "$2" >"$T/$3.$i" 2>/dev/null 3>&- 9>&- &
        pids+=($!)
        echo "$!" >>"$T/pids"   # (teardown stops them, should the test fail first)
    done
    ROUND=$((ROUND + 1))
    all_in() { [ "$(count "^\\[server\\] accept\\(\\) = fd [0-9]+ from .* \\($n of 250 clients\\)$" "$T/server.err")" -ge "$ROUND" ]; }
    wait_until all_in || fail "the server never had the $n clients at once: $(grep -c 'accept() = fd' "$T/server.err") accept()s; $(tail -n 2 "$T/server.err")"
    for ((i = 1; i <= n; i++)); do echo; done >&9
    for i in "${pids[@]}"; do wait "$i" || true; done
    exec 9>&-
}

@test "12 many clients: 1000 clients in a row, then 200 connected at once, sending once all are in: every one served; descriptors the same, VmRSS within 64 kB" {
    local lab=12-many-clients i bad=0 wrong= fds mem P
    lab_setup "$lab"
    start_server -c 250 0
    P=${READY##*:}
    # A warm-up: 20 in a row, and 200 at once: the table's slots that 200
    # clients use are touched (calloc'd pages come in as first written)
    # before the measure.
    clients_in_a_row 20 "$T/out" "$LAB/client" 127.0.0.1 "$P"
    together12 200 "$P" warm
    fds=$(fd_count "$SERVER_PID") mem=$(rss "$SERVER_PID")
    LOOP_LIMIT=120 clients_in_a_row 1000 "$T/out" "$LAB/client" 127.0.0.1 "$P"
    is "$lab: the reply to the 1000th client in a row" "$(cat "$T/out")" "CLIENT 1000"
    together12 200 "$P" once
    for ((i = 1; i <= 200; i++)); do
        [ "$(cat "$T/once.$i")" = "ONCE $i" ] || { bad=$((bad + 1)) wrong=${wrong:-"client $i got '$(cat "$T/once.$i")'"}; }
    done
    note "$lab: 1000 in a row, then 200 at once ($bad wrong replies); descriptors $fds -> $(fd_count "$SERVER_PID"), VmRSS ${mem} kB -> $(rss "$SERVER_PID") kB"
    last_match "$T/server.err" 'accept\(\) = fd [0-9]+ from .* \(200 of 250 clients\)$'
    note "  $LINE"
    [ "$bad" -eq 0 ] || fail "$lab: $bad of the 200 clients at once got a wrong reply; the first: $wrong"
    [ "$(fd_count "$SERVER_PID")" -eq "$fds" ] ||
        fail "$lab: the server has $(fd_count "$SERVER_PID") descriptors open after the load, $fds before: $(ls -l "/proc/$SERVER_PID/fd")"
    # 64 kB: 16 pages of slack for what the C library may keep (stdio,
    # malloc's arenas); a slot of the table is 70 kB, a leak per client
    # 1200 times over would be far more.
    [ "$(rss "$SERVER_PID")" -le $((mem + 64)) ] || fail "$lab: the server's VmRSS grew from $mem kB to $(rss "$SERVER_PID") kB"
    is "$lab: the accept()s the server narrated (20 + 200 + 1000 + 200 clients)" "$(count 'accept\(\) = fd [0-9]+ from .* of 250 clients\)$' "$T/server.err")" 1420
    is "$lab: the clients told BUSY" "$(count 'BUSY' "$T/server.err")" 0
}
