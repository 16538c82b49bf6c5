# tests/tour/06-udp.sh - `make tour LAB=06`: one session of lab 06 (UDP).
# Sourced by tests/tour.sh with lib.bash loaded, LAB and T set.
drained() { [ "$(ss -uanH "sport = :$1" | awk '{print $2}')" = 0 ]; }   # Recv-Q 0

echo "A UDP socket is named by an address and a port. Start the server on"
echo "127.0.0.1, port 0 (the kernel picks a free one):"
SHARED_LOG=$T/narration    # both programs' narration, in the order it happened
start_server 0 || return 1
PORT=${READY##*:}
echo "  its readiness line:  $READY"

mkfifo "$T/client.in"
exec 5<>"$T/client.in"     # the client's stdin stays open until we close fd 5
spawn client "$LAB/client" -c 127.0.0.1 "$PORT"
CLIENT_PID=$PID
wait_until has_line "$SHARED_LOG" '^\[client\] connect\(' || return 1
echo
echo "A client with -c called connect(), and has sent nothing yet. ss -uan for"
echo "port $PORT: the server UNCONN (no listen, no accept); the client ESTAB,"
echo "which for UDP only means it has a default peer: no packet was exchanged."
ss -uan "( sport = :$PORT or dport = :$PORT )" | indent

echo
echo "It sends three lines, the second one empty: three datagrams, three replies."
printf 'hello, udp\n\nno connection\n' >&5
exec 5>&-
wait_exit "$CLIENT_PID" || return 1
echo "  the client printed (exit status $STATUS):"
indent <"$T/client.out"
echo "  both programs' narration, in order (recvmsg = 0 bytes is an empty datagram):"
indent <"$SHARED_LOG"
unset SHARED_LOG

kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo
echo "The server is gone. A connected client gets the ICMP port unreachable"
echo "back as ECONNREFUSED; an unconnected one hears nothing, and times out:"
"$LAB/client" -c 127.0.0.1 "$PORT" <<<"anyone?" 2>&1 >/dev/null 3>&- 4>&- | indent
"$LAB/client" -t 200 127.0.0.1 "$PORT" <<<"anyone?" 2>&1 >/dev/null 3>&- 4>&- | indent

echo
echo "Loss. A server with a small receive queue (-r 4096), stopped (SIGSTOP);"
echo "the client sends 1000 datagrams without waiting for replies (-n):"
rm -f "$T/server.out"
start_server -r 4096 0 || return 1
PORT=${READY##*:}
grep SO_RCVBUF "$T/server.err" | indent
kill -STOP "$SERVER_PID"
wait_until stopped "$SERVER_PID" || return 1
seq 1000 | "$LAB/client" -n 127.0.0.1 "$PORT" 2>"$T/burst.err"
status=$?
echo "  the client made $(grep -c '^\[client\] sendto(.*) = [0-9]* bytes' "$T/burst.err") sendto() calls, all of them accepted, and exited (status $status)."
echo "  ss -uanm while the server is stopped: r = bytes queued, d = datagrams dropped:"
ss -uanm "sport = :$PORT" | indent
kill -CONT "$SERVER_PID"
wait_until drained "$PORT" || return 1
"$LAB/client" 127.0.0.1 "$PORT" <<<"last" >/dev/null 2>&1   # answered after the others
echo "  resumed (SIGCONT), the server received $(($(grep -c 'recvmsg()' "$T/server.err") - 1)) of the 1000. UDP has no flow"
echo "  control: a full queue drops. (Lab 03's Unix datagrams made the sender wait.)"
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID"
