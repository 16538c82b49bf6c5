# tests/tour/05-tcp.sh - `make tour LAB=05`: lab 05, TCP, and the states of
# its handshake as ss shows them. Sourced by tests/tour.sh with lib.bash
# loaded, LAB and T set. Every server takes port 0: any free port.
# rows PORT: ss's rows of every TCP socket on PORT, either end, no header.
rows() { ss -tanH "( sport = :$1 or dport = :$1 )" | indent; }
has_state() { ss -tanH "( sport = :$2 or dport = :$2 )" | grep -q "^$1 "; }
# queued PORT: the listener on PORT has one connection waiting (Recv-Q 1).
queued() { [ "$(ss -tlnH "sport = :$1" | awk '{print $2}')" = 1 ]; }
# ready NAME: wait for the readiness line of the server spawned as NAME;
# P is its port.
ready() {
    wait_until has_line "$T/$1.out" 'listening on' || return 1
    P=$(sed -nE 's/.*:([0-9]+)$/\1/p' "$T/$1.out")
}

SHARED_LOG=$T/narration    # both programs' narration, in the order it happened
echo "1. A session. The server binds 127.0.0.1, port 0 (the kernel picks one):"
start_server 0 || return 1
P=${READY##*:}
echo "  its readiness line: $READY;  ss -tan for port $P:"
rows "$P"
mkfifo "$T/client.in"
exec 5<>"$T/client.in"     # the client's stdin stays open until we close fd 5
spawn client "$LAB/client" localhost "$P"
CLIENT_PID=$PID
wait_until has_line "$SHARED_LOG" 'accept\(\) = fd' || return 1
echo "  client localhost $P connected: both ends ESTAB (the client's port is random):"
rows "$P"
printf 'hello, tcp\n' >&5
exec 5>&- 6>&-
wait_exit "$CLIENT_PID" || return 1
wait_until has_state TIME-WAIT "$P" || return 1
echo "  after the client's end of input and the server's close: the side that"
echo "  closed first (the client) waits in TIME-WAIT (lab 07):"
rows "$P"
echo "  the client printed: $(cat "$T/client.out");  the narration, in order:"
indent <"$SHARED_LOG"
echo "  (the client's last state=CLOSE is its own socket, finished; the TIME-WAIT"
echo "  row above is what the kernel keeps of the connection after it)"
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo "  SIGTERM: the server said \"$(tail -n 1 "$SHARED_LOG")\", exit status $STATUS"
unset SHARED_LOG

echo
echo "2. server -q 0 -A: backlog 0, never accept. One connection fills the queue;"
echo "   the next client's SYN is dropped, and it retries in SYN-SENT:"
spawn full "$LAB/server" -q 0 -A 0
ready full || return 1
mkfifo "$T/first.in"
exec 6<>"$T/first.in"      # the first client sends nothing and stays ESTAB
spawn first "$LAB/client" 127.0.0.1 "$P"
wait_until has_line "$T/first.err" 'connect\(.*\) = 0' || return 1
wait_until queued "$P" || return 1   # its handshake is complete: queue full
spawn second "$LAB/client" 127.0.0.1 "$P"
wait_until has_state SYN-SENT "$P" || return 1
rows "$P"
echo "  (listener: Recv-Q 1 waiting, Send-Q the backlog 0; the queued connection"
echo "  is ESTAB at both ends: accept() only hands over what the kernel built)"

echo
echo "3. server -d 30 (TCP_DEFER_ACCEPT): the client's connect() returns, the"
echo "   server's end stays SYN-RECV until the first data arrives:"
spawn deferred "$LAB/server" -d 30 0
ready deferred || return 1
mkfifo "$T/late.in"
exec 5<>"$T/late.in"
spawn late "$LAB/client" 127.0.0.1 "$P"
wait_until has_state SYN-RECV "$P" || return 1
echo "  the client said: $(grep 'connect(' "$T/late.err")"
rows "$P"
printf 'at last\n' >&5
wait_until has_line "$T/deferred.err" 'write\(\)' || return 1
echo "  one line later: $(grep 'accept(' "$T/deferred.err")"
rows "$P"
exec 5>&- 6>&-
