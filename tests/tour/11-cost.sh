# tests/tour/11-cost.sh - `make tour LAB=11`: the cost of a socket,
# measured. A Unix and a TCP responder; the measurer's round trips on the
# server's CPU and on another one; Nagle's stall and its cures; a conn
# test's TIME-WAITs (none on the Unix path); strace -c's count of system
# calls per round trip; bench, a short run side by side. Sourced by
# tests/tour.sh with lib.bash loaded, LAB and T set. Servers on $T/s and
# port 0. Short runs (1000 round trips at most): about 2 s.
#
# Every measuring program runs on one CPU, the last one this shell may
# use (taskset, util-linux), as bench and the tests do: on two idle CPUs
# each round trip waits for the other CPU to wake. Without taskset the
# tour runs unpinned, and says so.

PIN=() CPU='' OTHER=''
if command -v taskset >/dev/null 2>&1; then
    aff=$(taskset -pc $$) && aff=${aff##*: } && CPU=${aff##*[ ,-]} && PIN=(taskset -c "$CPU")
    # another CPU this shell may use: the first of the list, if not CPU
    first=${aff%%[ ,-]*}
    [ -n "$CPU" ] && [ "$first" != "$CPU" ] && OTHER=$first
fi
# client NAME ARGS...: the measurer on CPU, to its end (WAIT_LIMIT s at
# most), fd 3 closed (tour.sh's); its line of figures on stdout, its
# narration in $T/NAME.err.
client() {
    local name=$1
    shift
    timeout -k 2 "$WAIT_LIMIT" "${PIN[@]}" "$LAB/client" "$@" 2>"$T/$name.err" 3>&-
}
# up NAME ARGS...: a server on CPU, spawned as NAME, until its readiness
# line (READY); SERVER_PID.
up() {
    local name=$1
    shift
    spawn "$name" "${PIN[@]}" "$LAB/server" "$@"
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID" "$name"
    read -r READY <"$T/$name.out" || { echo "the server did not start: $(cat "$T/$name.err")" >&2; return 1; }
}

if [ -n "$CPU" ]; then
    echo "Every program here runs on CPU $CPU (taskset -c $CPU): on one CPU a round trip"
    echo "costs the CPU's work; across two it also waits for the other CPU to wake."
else
    echo "taskset (util-linux) is not installed: every program runs where the scheduler"
    echo "puts it, and the figures below include the wake-up of an idle CPU."
fi

echo
echo "1. A Unix socket. The server on a path; the client: 1000 round trips of 1 byte,"
echo "   after 100 to warm up, then one line of figures (median, 99th percentile, min):"
up userver unix "$T/s" || return 1
echo "   the server says: $READY"
client c1 -n 1000 unix "$T/s" >"$T/c1.out" || return 1
indent <"$T/c1.err"
indent <"$T/c1.out"
echo "   the server narrates the test, not its 1100 round trips:"
tail -n 5 "$T/userver.err" | indent
if [ -n "$OTHER" ]; then
    echo "   the same client on CPU $OTHER, the server still on CPU $CPU: each message now"
    echo "   wakes the other CPU:"
    timeout -k 2 "$WAIT_LIMIT" taskset -c "$OTHER" "$LAB/client" -n 1000 unix "$T/s" 2>/dev/null 3>&- | indent
fi
echo "   (the server runs in a session of its own, the client in the tour's: with"
echo "   sched_autogroup that costs a microsecond or two a round trip; bench, below,"
echo "   runs both in one session)"

echo
echo "2. TCP on 127.0.0.1, the same round trips; then Nagle's write-write-read, each"
echo "   request in two writes (2 bytes, then 98), 3 times after 1 to warm up: with"
echo "   Nagle, with TCP_NODELAY, and (extra 1, -v) in one writev():"
up tserver tcp 0 || return 1
P=${READY##*:}
echo "   the server says: $READY"
client c2 -n 1000 tcp "$P" | indent || return 1
client c3 -m nagle -n 3 -w 1 tcp "$P" | indent || return 1
client c4 -m nagle -n 3 -w 1 tcp-nodelay "$P" | indent || return 1
if "$LAB/client" -h 2>/dev/null | grep -q -- '-v '; then
    client c5 -m nagle -n 3 -w 1 -v tcp "$P" | indent || return 1
fi
echo "   (median_us=44000 or so: the 98 bytes wait for the ACK of the first 2, which"
echo "   the server delays 40 ms, hoping to send it with a reply that needs the 98)"

echo
echo "3. Connections: 200, each set up, used once and closed by the client. Over TCP"
echo "   each leaves a TIME-WAIT on the client's side for 60 s; over the path, nothing."
tw() { ss -tanH state time-wait "( dport = :$P )" | wc -l; }
echo "   TIME-WAITs to port $P before: $(tw)"
client c6 -m conn -n 200 tcp "$P" | indent || return 1
echo "   after: $(tw)  (200, and 20 to warm up, and one for each earlier client)"
client c7 -m conn -n 200 unix "$T/s" | indent || return 1
echo "   Unix sockets on $T/s after it: $(ss -xanH | grep -cF "$T/s ")  (the listener alone)"

echo
echo "4. strace -c counts the client's system calls: 1100 round trips (1000 and the"
echo "   warm-up), one write() and one read() each, over Unix and TCP alike; the"
echo "   difference is inside those calls. (No clock_gettime(): it is in the vDSO.)"
for tr in unix tcp; do
    case $tr in unix) a=$T/s ;; *) a=$P ;; esac
    ASAN_OPTIONS=detect_leaks=0 timeout -k 2 "$WAIT_LIMIT" strace -c -U calls,name -S calls \
        -o "$T/$tr.calls" "$LAB/client" -n 1000 "$tr" "$a" >/dev/null 2>&1 3>&- || return 1
    echo "   $tr:$(grep -wE 'read|write' "$T/$tr.calls" | awk '{printf " %s %s()", $1, $2}')"
done

kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo "   SIGTERM to the TCP server: \"$(tail -n 1 "$T/tserver.err")\", exit status $STATUS"

echo
echo "5. bench: every test of three transports side by side, one short round on one"
echo "   CPU (./bench with no option: six transports, three rounds, about 10 s):"
"$LAB/bench" -r 1 -n 200 pipe unix tcp-nodelay | sed -n '1,14p' | indent || return 1
SERVER_PID=$(head -n 1 "$T/pids")   # the Unix server, spawned first
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo "   SIGTERM to the Unix server: \"$(tail -n 1 "$T/userver.err")\", exit status $STATUS"
