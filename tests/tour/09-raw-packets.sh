# tests/tour/09-raw-packets.sh - `make tour LAB=09`: the segments behind
# TCP's states. sniff captures one connection of lab 07's programs (the
# handshake and a 4-way teardown), tests/seqdiag.sh draws it (Mermaid and
# its ASCII twin), then synsend sends a SYN by hand to a listener and to a
# closed port. Sourced by tests/tour.sh with lib.bash loaded, LAB and T
# set. Everything runs in a network namespace of the tour's own, where lo
# carries nothing else and any port is ours: `ip netns` as root, else
# `unshare -r -n` (root there, with CAP_NET_RAW for its lo).

L07=$ROOT/solutions/07-tcp-close
make -s -C "$L07" >/dev/null || { echo "solutions/07-tcp-close does not build" >&2; return 1; }

if [ "$(id -u)" -eq 0 ]; then
    NS=tour09-$$
    ip netns add "$NS" || return 1
    trap 'ip netns delete "$NS" 2>/dev/null' EXIT   # this subshell's end
    NSX=(ip netns exec "$NS")
    "${NSX[@]}" ip link set lo up || return 1
else
    spawn netns unshare -r -n sh -c 'ip link set lo up && echo ready && exec sleep infinity'
    wait_until ready_or_dead "$PID" netns
    [ -s "$T/netns.out" ] || { echo "unshare -r -n does not work here: $(cat "$T/netns.err")" >&2; return 1; }
    NSX=(nsenter -t "$PID" -U -n --preserve-credentials)
fi

# sniffing NAME ARGS...: sniff ARGS in the namespace, spawned as NAME,
# until its readiness line.
sniffing() {
    local name=$1
    shift
    spawn "$name" "${NSX[@]}" "$LAB/sniff" "$@"
    SNIFF_PID=$PID
    wait_until ready_or_dead "$SNIFF_PID" "$name"
    [ -s "$T/$name.out" ] || { echo "sniff did not start: $(cat "$T/$name.err")" >&2; return 1; }
}

echo "1. One connection of lab 07's programs, captured by sniff on lo. The client has"
echo "   nothing to send; the server is held (-s CTL) until its kernel has acknowledged"
echo "   the client's FIN alone, so the teardown takes four segments, the same every run."
mkfifo "$T/ctl"
exec 6<>"$T/ctl"
spawn server "${NSX[@]}" "$L07/server" -s "$T/ctl" 0
SERVER_PID=$PID
wait_until ready_or_dead "$SERVER_PID"
read -r READY <"$T/server.out" || { echo "lab 07's server did not start: $(cat "$T/server.err")" >&2; return 1; }
P=${READY##*:}
sniffing sniff -p "$P" -n 7 || return 1
echo "   \$ sniff -p $P -n 7"
spawn client "${NSX[@]}" "$L07/client" 127.0.0.1 "$P"   # standard input: /dev/null
CLIENT_PID=$PID
wait_until has_line "$T/sniff.out" ":$P > [0-9.:]+ TCP \\[ACK\\] seq=1 ack=2 " || return 1
echo "   the server, held:   $(grep -m 1 'step: about to' "$T/server.err")"
printf '\n\n\n\n' >&6   # Enter for read() = 0, write(), shutdown(), close()
wait_exit "$SNIFF_PID" || return 1
wait_exit "$CLIENT_PID" || return 1
indent <"$T/sniff.out"
echo "   ss -tan then: the client's end, which sent the first FIN, in TIME-WAIT:"
"${NSX[@]}" ss -tanH | indent

echo
echo "2. The same capture drawn by tests/seqdiag.sh: the client is the sender of the"
echo "   first SYN; each arrow says flags, seq, ack and len; -s adds the state each"
echo "   end enters, as the segments imply (RFC 9293). Mermaid, for a web viewer:"
"$ROOT/tests/seqdiag.sh" -m -s <"$T/sniff.out" | indent || return 1
echo "   and its ASCII twin, for the terminal:"
"$ROOT/tests/seqdiag.sh" -a -s <"$T/sniff.out" | indent || return 1

echo
echo "3. synsend: one SYN made by hand on a raw socket, to the listener. Its kernel"
echo "   answers SYN,ACK; ours, which never asked for that connection, answers RST:"
sniffing synack -p "$P" -n 3 || return 1
"${NSX[@]}" "$LAB/synsend" 127.0.0.1 "$P" >"$T/synsend.out" 2>"$T/synsend.err" ||
    { echo "synsend failed: $(cat "$T/synsend.err")" >&2; return 1; }
wait_exit "$SNIFF_PID" || return 1
echo "   synsend printed:  $(cat "$T/synsend.out")"
tail -n +2 "$T/synack.out" | indent
echo "   ss -tan: the listener, no connection (a SYN scan leaves nothing behind):"
"${NSX[@]}" ss -tanH "sport = :$P" | indent

exec 6>&-
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID" || return 1
echo
echo "4. The server stopped, port $P is closed: the kernel answers the SYN at once"
echo "   with RST,ACK, which acknowledges it (what connect() reports as ECONNREFUSED):"
sniffing rst -p "$P" -n 2 || return 1
"${NSX[@]}" "$LAB/synsend" 127.0.0.1 "$P" >"$T/synsend.out" 2>"$T/synsend.err" ||
    { echo "synsend failed: $(cat "$T/synsend.err")" >&2; return 1; }
wait_exit "$SNIFF_PID" || return 1
echo "   synsend printed:  $(cat "$T/synsend.out")"
tail -n +2 "$T/rst.out" | indent
