# tests/tour/08-fd-passing.sh - `make tour LAB=08`: one session of lab 08.
# Sourced by tests/tour.sh with lib.bash loaded, LAB and T set.
SOCK=$T/lab08.sock
DIR=$T/files
SHARED_LOG=$T/narration    # both programs' narration, in the order it happened
mkdir "$DIR"
echo 'this line came through a descriptor' >"$DIR/hello"

# since: the narration not shown yet (after its first $seen lines),
# indented; seen moves to its end, for the next part.
seen=0
since() {
    tail -n +"$((seen + 1))" "$SHARED_LOG" | indent
    seen=$(wc -l <"$SHARED_LOG")
}

# fetch ARGS...: the client, run to its end (STATUS), its output in
# $T/client.out; the server has narrated its close() of the connection.
# The client starts with descriptors 0, 1 and 2 alone, as from a
# terminal (this shell holds others, which spawn does not close: its
# pause's, make's), so that its list of open descriptors is its own.
fetch() {
    local closes
    closes=$(count '^\[server\] close\(fd [0-9]+\) = 0$' "$SHARED_LOG")
    # shellcheck disable=SC2016 # the inner shell expands them
    spawn client bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; if ((f > 2)) && [ -e "/proc/$$/fd/$f" ]; then eval "exec $f>&-"; fi; done; exec "$0" "$@"' \
        "$LAB/client" "$@"
    wait_exit "$PID" || return 1
    wait_until has_n_closes "$((closes + 1))"
}
has_n_closes() {
    [ "$(count '^\[server\] close\(fd [0-9]+\) = 0$' "$SHARED_LOG")" -ge "$1" ] || gone "$SERVER_PID"
}

echo "A server that hands out open files, not their bytes. It serves the files of"
echo "$DIR, on $SOCK:"
start_server "$SOCK" "$DIR" || return 1
echo "  ss -xl: a seqpacket socket (u_seq), listening:"
ss -xl src "$SOCK" | indent

fetch "$SOCK" hello || return 1
echo
echo "The client asks for 'hello'. The server checks who asks (SO_PEERCRED), opens"
echo "the file, and sends 2 bytes, OK, with its descriptor attached (SCM_RIGHTS);"
echo "the client receives a descriptor of its own (another number, the same open"
echo "file) and reads the file from it. Exit status $STATUS; the client printed:"
indent <"$T/client.out"
echo "  the narration of both, in order, from the server's start:"
since

fetch "$SOCK" ../../etc/passwd || return 1
echo
echo "A name that climbs out of the directory is refused before anything is opened:"
echo "ERR and a reason, no descriptor; the server serves on. The client exits $STATUS:"
since

fetch -c 16 "$SOCK" hello || return 1
echo
echo "client -c 16: a control buffer of 16 bytes holds a cmsghdr and no descriptor"
echo "(one needs CMSG_LEN(sizeof(int)) = 20; CMSG_SPACE, 24, is the default). The"
echo "kernel sets MSG_CTRUNC and closes the descriptor it could not deliver: the"
echo "client holds its standard streams and its socket, nothing else (exit $STATUS):"
since

kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
since >/dev/null
NAME=@lab08-${T##*/}
echo
echo "The same server on an abstract name, $NAME: no file, no mode, no lock."
: >"$T/server.out"
start_server "$NAME" "$DIR" || return 1
echo "  ss -xl shows it with its leading @:"
ss -xl src "$NAME" | indent
echo "  ls $T: $(cd "$T" && ls -d lab08* 2>/dev/null || echo nothing named lab08*)"
fetch "$NAME" hello || return 1
echo "  a client fetches 'hello' through it (exit $STATUS): $(cat "$T/client.out")"
since | grep -E 'bind|SO_PEERCRED|SCM_RIGHTS'
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo "  SIGTERM: $(tail -n 1 "$SHARED_LOG"), exit status $STATUS: no file to remove"
