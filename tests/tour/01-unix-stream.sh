# tests/tour/01-unix-stream.sh - `make tour LAB=01`: one session of lab 01.
# Sourced by tests/tour.sh with lib.bash loaded, LAB and T set.
SOCK=$T/lab01.sock
SHARED_LOG=$T/narration    # both programs' narration, in the order it happened

echo "A Unix stream socket is named by a path. Start the server on $SOCK:"
start_server "$SOCK" || return 1
echo "  its readiness line:  $READY"
echo "  ls -l shows a file of type s, holding no data:"
ls -l "$SOCK" | indent
echo "  ss -xl shows it listening:"
ss -xl src "$SOCK" | indent

mkfifo "$T/client.in"
exec 5<>"$T/client.in"     # the client's stdin stays open until we close fd 5
spawn client "$LAB/client" "$SOCK"
CLIENT_PID=$PID
wait_until has_line "$SHARED_LOG" 'accept\(\) = fd' || return 1
fd=$(sed -nE 's/.*accept\(\) = fd ([0-9]+)/\1/p' "$SHARED_LOG")
ino=$(readlink "/proc/$SERVER_PID/fd/$fd" | tr -dc 0-9)
echo
echo "A client connected. accept() gave the server a new descriptor:"
echo "  /proc/$SERVER_PID/fd/$fd -> $(readlink "/proc/$SERVER_PID/fd/$fd")"
echo "  ss -xp shows the connection's two ends, each naming the other as peer:"
{ unix_row "$ino"; unix_row "$(unix_row "$ino" | awk '{print $8}')"; } | indent

echo
echo "The client sends two lines; at the end of its input it calls shutdown():"
printf 'hello, sockets\nbytes, not messages\n' >&5
exec 5>&-
wait_exit "$CLIENT_PID" || return 1
echo "  the client printed (exit status $STATUS):"
indent <"$T/client.out"

kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo
echo "Both programs' narration (stderr), in order; then SIGTERM stopped the server:"
indent <"$SHARED_LOG"
echo "  after exit (status $STATUS), the socket file is gone: ls $T shows: $(cd "$T" && ls -d lab01* 2>/dev/null || echo nothing named lab01*)"
