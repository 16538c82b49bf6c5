# tests/tour/12-many-clients.sh - `make tour LAB=12`: many clients at once.
# Lab 05's iterative server stalls behind a silent client; this lab's
# server, one process with poll(), serves the next one at once; twenty
# clients held by one process, in ss, then told BYE shutdown; a line in
# three writes; BYE idle after -t; a client that never reads, dropped;
# out of descriptors (prlimit): EMFILE narrated, no CPU used while the
# listeners rest, the waiting client served once one leaves; strace's
# view of the loop. Sourced by tests/tour.sh with lib.bash loaded, LAB and
# T set. Every server on port 0; every wait on a narration line, a file or
# a process, never a fixed time (the idle timer is the server's own -t 1).

peer_lab 05-tcp || return 1
L05=$PEER
# up NAME PROGRAM ARGS...: a server spawned as NAME, until its readiness
# line; SERVER_PID, READY, and P its port.
up() {
    local name=$1
    shift
    spawn "$name" "$@"
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID" "$name"
    read -r READY <"$T/$name.out" || { echo "the server did not start: $(cat "$T/$name.err")" >&2; return 1; }
    P=${READY##*:}
}
# silent NAME FD CLIENT: a client spawned as NAME that connects and sends
# nothing: its input, the FIFO $T/NAME.in, is held open here on FD (a
# number, 5 to 7); closing FD is its end of input.
silent() {
    mkfifo "$T/$1.in"
    eval "exec $2<>\"\$T/$1.in\""
    spawn "$1" "$3" 127.0.0.1 "$P"
}
# serv NAME REGEX: wait until the server spawned as NAME narrates REGEX.
serv() { wait_until said_or_gone "$SERVER_PID" "$T/$1.err" "$2"; }

echo "1. Lab 05's server, iterative: a client that connects and sends nothing,"
echo "   then a client with a line:"
up l05 "$L05/server" 0 || return 1
silent quiet05 5 "$L05/client"
serv l05 'accept\(\) = fd' || return 1
printf 'hello\n' >"$T/second05.in"
spawn second05 "$L05/client" 127.0.0.1 "$P"
SECOND=$PID
wait_until said_or_gone "$SECOND" "$T/second05.err" 'shutdown\(SHUT_WR\)' || return 1
echo "   the second has sent its line; ss -tn: its bytes (and its FIN) wait unread"
echo "   in the server's receive queue, for nobody calls accept():"
ss -tnH "( sport = :$P )" | indent
grep -E '^\[server\] accept' "$T/l05.err" | indent
exec 5>&-
wait_exit "$SECOND" || return 1
echo "   once the silent client ended (its input closed), the second was accepted,"
echo "   and got: $(cat "$T/second05.out")"
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1

echo
echo "2. This lab's server, one process with poll(): the same two clients."
up server "$LAB/server" 0 || return 1
echo "   it says: $READY"
silent quiet 5 "$LAB/client"
serv server 'accept\(\) = fd 6' || return 1
echo "   a client with a line, while the first stays silent: it gets"
echo hello | timeout -k 2 "$WAIT_LIMIT" "$LAB/client" 127.0.0.1 "$P" 2>/dev/null 3>&- | indent
echo "   at once. The server's turns: one poll() on the pipe, the listener and"
echo "   each client, then only what is ready:"
grep -E '^\[server\] (poll|accept|read|write|close)' "$T/server.err" | indent

echo
echo "3. Twenty more clients, each sending a line, then holding on (-i 60):"
pids=()
for i in $(seq 20); do
    printf 'hello\nbye\n' >"$T/m$i.in"
    spawn "m$i" "$LAB/client" -i 60 127.0.0.1 "$P"
    pids+=("$PID")
done
serv server '\(21 of 64 clients\)' || return 1
echo "   \$ ss -tnp state established sport = :$P   (3 of its rows, and how many)"
ss -Htnp state established "( sport = :$P )" >"$T/rows"
echo "   $(wc -l <"$T/rows") connections (the twenty and the silent one), held by $(grep -o 'pid=[0-9]*' "$T/rows" | sort -u | wc -l) process"
head -n 3 "$T/rows" | indent
echo "   the first client's input ends; then SIGTERM to the server:"
exec 5>&-
serv server 'close\(fd 6\)' || return 1
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
wait_until all_gone "${pids[@]}" || return 1
grep -E '^\[server\] (signal|exit)' "$T/server.err" | indent
echo "   each client printed: $(cat "$T"/m*.out | sort | uniq -c | tr -s ' ' | paste -sd ',')"

echo
echo "4. A line in pieces: bash's /dev/tcp as the client, three writes, hel, lo\\nwor"
echo "   and ld\\n; the server (-t 1) answers each line once it is whole:"
up framing "$LAB/server" -t 1 0 || return 1
exec 7<>"/dev/tcp/127.0.0.1/$P"
env printf 'hel' >&7
serv framing 'read\(fd 6\) = 3 bytes' || return 1
env printf 'lo\nwor' >&7
serv framing 'write\(fd 6\) = 6 bytes' || return 1
env printf 'ld\n' >&7
read -r -t "$WAIT_LIMIT" one <&7 && read -r -t "$WAIT_LIMIT" two <&7
echo "   replies: $one, $two"
grep -E '^\[server\] (read|write)' "$T/framing.err" | indent
echo "   then nothing, for a second (-t 1):"
read -r -t "$WAIT_LIMIT" bye <&7
echo "   the client reads: $bye"
grep -E '^\[server\] fd 6' "$T/framing.err" | indent
exec 7<&-

echo
echo "5. A client that sends 20 MB of lines and never reads a reply:"
exec 7<>"/dev/tcp/127.0.0.1/$P"
yes 'nobody reads this' | head -c 20000000 >&7 2>/dev/null
exec 7<&-
serv framing 'ERR too slow$' || return 1
echo "   $(count 'read\(fd 6\)' "$T/framing.err") reads and $(count 'partial' "$T/framing.err") partial write(s) narrated, then:"
grep -E '^\[server\] (fd 6: .*ERR too slow|close)' "$T/framing.err" | tail -n 3 | indent
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1

echo
echo "6. Out of descriptors: prlimit --nofile=7, room for one client (0-2, the"
echo "   listener, the self-pipe); a second one waits in the queue:"
up limited prlimit --nofile=7 "$LAB/server" 0 || return 1
echo "   \$ grep 'open files' /proc/$SERVER_PID/limits"
grep 'open files' "/proc/$SERVER_PID/limits" | indent
silent quiet7 5 "$LAB/client"
serv limited 'accept\(\) = fd 6' || return 1
printf 'hello\n' >"$T/waiting.in"
spawn waiting "$LAB/client" 127.0.0.1 "$P"
WAITING=$PID
wait_until said_or_gone "$WAITING" "$T/waiting.err" 'shutdown\(SHUT_WR\)' || return 1
cpu_ticks "$SERVER_PID"
before=$TICKS rests=$(count 'poll\(4 fds, [0-9]+ ms\) = 0' "$T/limited.err")
# One rest ends (its poll() times out) while the client waits: a second.
rested() { [ "$(count 'poll\(4 fds, [0-9]+ ms\) = 0' "$T/limited.err")" -gt "$rests" ]; }
wait_until rested || return 1
cpu_ticks "$SERVER_PID"
echo "   the server, resting, over a rest of a second: $((TICKS - before)) ticks of CPU"
echo "   (a server that went back to poll() at once would burn 100 a second)"
echo "   the silent client leaves: a descriptor is free, and the listeners are polled:"
exec 5>&-
wait_exit "$WAITING" || return 1
grep -E '^\[server\] (accept|a client left|1 s passed)' "$T/limited.err" | indent
echo "   the client that waited got: $(cat "$T/waiting.out")"
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1

if [ -z "${TRACE_DIR:-}" ]; then
    echo
    echo "7. strace -e trace=poll: the loop, one poll() a turn, two clients one after"
    echo "   the other:"
    up traced strace -o "$T/loop.trace" -e trace=poll "$LAB/server" 0 || return 1
    for i in 1 2; do
        echo hello | timeout -k 2 "$WAIT_LIMIT" "$LAB/client" 127.0.0.1 "$P" >/dev/null 2>&1 3>&-
    done
    wait_until strace_child "$SERVER_PID" || return 1
    kill -TERM "$TRACED"
    wait_exit "$SERVER_PID" || return 1
    grep '^poll' "$T/loop.trace" | head -n 4 | indent
    echo "   (the pipe fd 4, the listener fd 3, no Unix listener: -1; then each client)"
fi
