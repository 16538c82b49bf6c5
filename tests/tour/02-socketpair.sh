# tests/tour/02-socketpair.sh - `make tour LAB=02`: one session of lab 02.
# Sourced by tests/tour.sh with lib.bash loaded, LAB and T set.
session_up() {
    has_line "$T/server.err" '^\[client\] getpeername' &&
        has_line "$T/server.err" '^\[server\] (close\(fd [0-9]+\) = 0|-k: )'
}
up_or_dead() { session_up || gone "$SERVER_PID"; }
# rows PID...: the header and the ss -xp rows of these processes' sockets.
rows() { ss -xp | awk -v re="pid=($(IFS='|'; echo "$*"))," 'NR == 1 || $0 ~ re'; }

cd "$LAB" || return 1
mkfifo "$T/server.in"
exec 5<>"$T/server.in"     # held open here: the client's input lasts until we close fd 5
spawn server ./server      # its stdin (the client's, too) is the FIFO
SERVER_PID=$PID
wait_until up_or_dead && session_up || return 1
CLIENT_PID=$(sed -nE 's/^\[server\] fork\(\) = ([0-9]+).*/\1/p' "$T/server.err")

echo "./server makes a connected pair, forks, and the child becomes ./client FD."
echo "There is no path and no readiness line (stdout is the client's); the"
echo "narration so far, server, child and client sharing one stderr:"
indent <"$T/server.err"
seen=$(wc -l <"$T/server.err")

echo
echo "ss -xp: the two ends, each naming the other's inode as its peer; no name (*):"
rows "$SERVER_PID" "$CLIENT_PID" | indent
echo "The client's socket descriptors, from /proc/$CLIENT_PID/fd (the server's end"
echo "had FD_CLOEXEC, so exec closed it in the child):"
for f in /proc/"$CLIENT_PID"/fd/*; do
    link=$(readlink "$f") && [[ $link == socket:* ]] && echo "    fd ${f##*/} -> $link"
done

echo
echo "Two lines go in, then the input ends: the client shuts down its sending side."
printf 'hello, pair\nno name, no file\n' >&5
exec 5>&-
wait_exit "$SERVER_PID" || return 1
echo "  the client printed:"
indent <"$T/server.out"
echo "  the rest of the narration; the server's exit status is $STATUS:"
tail -n +$((seen + 1)) "$T/server.err" | indent

echo
echo "The bug, ./server -k: the server keeps the child's end open too. kill -KILL the client:"
rm "$T/server.err"
exec 5<>"$T/server.in"
spawn server ./server -k
SERVER_PID=$PID
wait_until up_or_dead && session_up || return 1
CLIENT_PID=$(sed -nE 's/^\[server\] fork\(\) = ([0-9]+).*/\1/p' "$T/server.err")
kill -KILL "$CLIENT_PID"
wait_gone "$CLIENT_PID" || return 1
echo "  the client is dead, yet ss -xp shows both ends open, in the server:"
rows "$SERVER_PID" | indent
echo "  so the server, still alive (state $(awk '{print $3}' "/proc/$SERVER_PID/stat")), waits in read() for an EOF that"
echo "  cannot come: it holds the other end itself. Its narration said:"
grep -E '^\[server\] (-k|fork)' "$T/server.err" | indent
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo "  kill -TERM stops it: $(tail -n 1 "$T/server.err") (status $STATUS)"
exec 5>&-
