# tests/tour/03-unix-dgram.sh - `make tour LAB=03`: one session of lab 03.
# Sourced by tests/tour.sh with lib.bash loaded, LAB and T set.
SOCK=$T/lab03.sock
SHARED_LOG=$T/narration    # both programs' narration, in the order it happened

echo "A Unix datagram socket is named by a path too. Start the server on $SOCK:"
start_server "$SOCK" || return 1
echo "  its readiness line:  $READY"
echo "  ls -l shows the socket file:"
ls -l "$SOCK" | indent
echo "  ss -xa shows a u_dgr socket; nothing listens: a datagram socket has no listen():"
ss -xa src "$SOCK" | indent

mkfifo "$T/client.in"
exec 5<>"$T/client.in"     # the client's stdin stays open until we close fd 5
spawn client "$LAB/client" "$SOCK"
CLIENT_PID=$PID
printf 'hello\n\ndatagrams keep their boundaries\n' >&5
wait_until has_line "$T/client.out" BOUNDARIES || return 1
fd=$(sed -nE 's/^\[client\] socket\(AF_UNIX, SOCK_DGRAM\) = fd ([0-9]+)$/\1/p' "$SHARED_LOG")
echo
echo "A client bound an abstract name (autobind, no file), connected, and sent 3 lines,"
echo "one of them empty. ss -xap, the server's socket and the client's (its peer is"
echo "the server's inode):"
{ ss -xapH src "$SOCK"; unix_row "$(readlink "/proc/$CLIENT_PID/fd/$fd" | tr -dc 0-9)"; } | indent
exec 5>&-
wait_exit "$CLIENT_PID" || return 1
echo "  the client printed (exit status $STATUS), one line per reply:"
indent <"$T/client.out"
echo
echo "Both programs' narration (stderr), as written (each program speaks after its call"
echo "returns, so the server may speak first). Each send() is one recvmsg(), even the empty one:"
indent <"$SHARED_LOG"

seen=$(wc -l <"$SHARED_LOG")
echo "anyone there?" >"$T/nobind.in"
spawn nobind "$LAB/client" -n "$SOCK"
wait_until has_line "$SHARED_LOG" 'cannot reply' || return 1
echo
echo "client -n skips bind(): its datagram arrives, but carries no return address:"
tail -n +"$((seen + 1))" "$SHARED_LOG" | indent
echo "  the client waits for a reply that cannot come; we kill it."
kill -TERM "$PID"
wait_exit "$PID"

kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo
echo "SIGTERM: $(tail -n 1 "$SHARED_LOG")"
echo "  after exit (status $STATUS), the socket file is gone: ls $T shows: $(cd "$T" && ls -d lab03* 2>/dev/null || echo nothing named lab03*)"
