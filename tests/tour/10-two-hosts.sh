# tests/tour/10-two-hosts.sh - `make tour LAB=10`: two hosts on one
# machine. `hosts up` makes host a (10.0.0.1) and host b (10.0.0.2), two
# network namespaces joined by a veth pair; one server on host a listens on
# TCP and on a Unix path; clients on host b reach it over the wire and
# through the filesystem, and fail where the kernel draws the line (b's own
# loopback, an abstract name of a's network namespace). Sourced by
# tests/tour.sh with lib.bash loaded, LAB and T set. Everything happens in
# a mount namespace of the tour's own with a tmpfs on /run, so the names a
# and b are the tour's alone (as a normal user, in unshare -r -n -m too).

hosts_world tour || return 1
H=$LAB/hosts

echo "1. hosts up: two network namespaces, a veth pair between them."
"${HW[@]}" "$H" up | indent || return 1
echo "   \$ ip -n a -br addr; ip -n b -br addr"
{ "${HW[@]}" ip -n a -br addr; "${HW[@]}" ip -n b -br addr; } | indent

echo
echo "2. One server on host a: TCP on 10.0.0.1 and a Unix socket file, one process."
spawn server "${HW[@]}" "$H" exec a "$LAB/server" -b 10.0.0.1 -u "$T/tour.sock" 0
SERVER_PID=$PID
wait_until ready_or_dead "$SERVER_PID" server
read -r READY <"$T/server.out" || { echo "the server did not start: $(cat "$T/server.err")" >&2; return 1; }
echo "   it says: $READY"
P=${READY#listening on 10.0.0.1:}
P=${P%% *}
echo "   \$ hosts exec a ss -tlxp   (both listeners, one pid)"
"${HW[@]}" "$H" exec a ss -Htlxp | grep -F '"server"' | indent

echo
echo "3. From host b, over the wire to 10.0.0.1:$P, then to 127.0.0.1:$P:"
echo "   127.0.0.1 on host b is host b's own loopback, where nobody listens."
echo hello | "${HW[@]}" "$H" exec b "$LAB/client" "10.0.0.1:$P" 2>&1 | indent
echo hello | "${HW[@]}" "$H" exec b "$LAB/client" "127.0.0.1:$P" 2>&1 | indent

echo
echo "4. From host b, through the socket file: another network, the same filesystem."
echo hello | "${HW[@]}" "$H" exec b "$LAB/client" "unix:$T/tour.sock" 2>&1 | indent
echo "   the server's side of both:"
grep -E '^\[server\] (poll|accept)' "$T/server.err" | indent
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1

echo
echo "5. An abstract name (@tour) belongs to a network namespace, not to the"
echo "   filesystem: host b cannot reach host a's, and may bind its own."
spawn server2 "${HW[@]}" "$H" exec a "$LAB/server" -u @tour 0
SERVER_PID=$PID
wait_until ready_or_dead "$SERVER_PID" server2
[ -s "$T/server2.out" ] || { echo "the server did not start: $(cat "$T/server2.err")" >&2; return 1; }
echo hello | "${HW[@]}" "$H" exec b "$LAB/client" @tour 2>&1 | indent
echo hello | "${HW[@]}" "$H" exec a "$LAB/client" @tour 2>/dev/null | sed 's/^/from host a: /' | indent
spawn server3 "${HW[@]}" "$H" exec b "$LAB/server" -u @tour 0
wait_until ready_or_dead "$PID" server3
echo "   a second server, on host b: $(cat "$T/server3.out")"
for h in a b; do
    echo "   \$ hosts exec $h ss -xl   (on host $h)"
    "${HW[@]}" "$H" exec "$h" ss -Hxl | indent
done
kill -TERM "$SERVER_PID" "$PID"
wait_exit "$SERVER_PID" || return 1
wait_exit "$PID" || return 1

echo
echo "6. hosts down: everything up made, removed."
"${HW[@]}" "$H" down | indent
