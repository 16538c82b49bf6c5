# tests/tour/04-seqpacket.sh - `make tour LAB=04`: one session of lab 04.
# Sourced by tests/tour.sh with lib.bash loaded, LAB and T set.
SOCK=$T/lab04.sock
SHARED_LOG=$T/narration    # both programs' narration, in the order it happened
replies_in() { [ "$(wc -l <"$T/client.out")" -ge "$1" ]; }

echo "A seqpacket socket: a connection, as in lab 01, that keeps message"
echo "boundaries, as datagrams do in lab 03. Start the server on $SOCK"
echo "with a 16-byte receive buffer (-s 16), to see truncation:"
start_server -s 16 "$SOCK" || return 1
echo "  ss -xl shows it listening; SOCK_SEQPACKET is u_seq in the Netid column:"
ss -xl src "$SOCK" | indent

mkfifo "$T/client.in"
exec 5<>"$T/client.in"     # the client's input lasts until we close fd 5
spawn client "$LAB/client" "$SOCK"
CLIENT_PID=$PID
wait_until has_line "$SHARED_LOG" 'accept\(\) = fd' || return 1
fd=$(sed -nE 's/.*accept\(\) = fd ([0-9]+)/\1/p' "$SHARED_LOG")
ino=$(readlink "/proc/$SERVER_PID/fd/$fd" | tr -dc 0-9)
echo
echo "A client connected; ss -xp shows the connection's two ends, u_seq, ESTAB:"
{ unix_row "$ino"; unix_row "$(unix_row "$ino" | awk '{print $8}')"; } | indent

echo
echo "The client sends 4 lines, each one message: 'hello', an empty line,"
echo "a 38-byte line, 'bye'. Its replies, one per line (between | |):"
printf 'hello\n\nthis line is longer than sixteen bytes\nbye\n' >&5
wait_until replies_in 4 || return 1
sed 's/.*/    |&|/' "$T/client.out"
echo "Then its input ends; with every reply in, it closes and exits."
exec 5>&-
wait_exit "$CLIENT_PID" || return 1
client_status=$STATUS
wait_until has_line "$SHARED_LOG" 'peer closed' || return 1
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1

echo
echo "Both programs' narration (stderr), in order. One recvmsg() per message,"
echo "whatever its size; the 38-byte one was cut to 16 (MSG_TRUNC) and the rest"
echo "dropped. recvmsg() returned 0 twice: for the empty message, and at the"
echo "end; poll(POLLRDHUP) right after each told the server which was which."
indent <"$SHARED_LOG"
echo "  exit status: client $client_status, server $STATUS (SIGTERM); ls $SOCK: $(ls "$SOCK" 2>&1 | sed 's/.*: //')"
