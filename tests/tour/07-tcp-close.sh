# tests/tour/07-tcp-close.sh - `make tour LAB=07`: one connection taken
# through TCP's teardown one call at a time, each state held still and read
# from ss; then an abort. Sourced by tests/tour.sh with lib.bash loaded, LAB
# and T set.

more_lines() { [ "$(grep -cE -- "$2" "$1" || true)" -gt "$3" ]; }
# press WHO REGEX: Enter for WHO, wait for its narration line matching REGEX.
press() {
    local before
    before=$(grep -cE -- "$2" "$T/$1.err" || true)
    if [ "$1" = client ]; then echo >&5; else echo >&6; fi
    wait_until more_lines "$T/$1.err" "$2" "$before" || return 1
    LINE=$(grep -E -- "$2" "$T/$1.err" | tail -n 1)
}
# states: CS, SS: ss's state of the client's end (port C) and the server's
# end (port P) of the connection; "-" for none.
states() {
    local rows
    rows=$(ss -tanH "( sport = :$P and dport = :$C ) or ( sport = :$C and dport = :$P )")
    CS=$(awk -v a=":$C" '{ if (substr($4, length($4) - length(a) + 1) == a) print $1 }' <<<"$rows")
    SS=$(awk -v a=":$P" '{ if (substr($4, length($4) - length(a) + 1) == a) print $1 }' <<<"$rows")
    CS=${CS:--}
    SS=${SS:--}
}
is_states() { states; [ "$CS" = "$1" ] && [ "$SS" = "$2" ]; }
# row CLIENT SERVER: wait for ss to show these states, print what it shows.
row() {
    wait_until is_states "$1" "$2" 2>/dev/null
    printf '    %-11s %-11s %s\n' "$CS" "$SS" "$LINE"
}

echo "Both programs stop before each call of the teardown (-s CTL) until they"
echo "read a line; a small receive buffer that nobody reads (-r 4096) fills up,"
echo "the window drops to zero, and a FIN queued behind data waits. So every"
echo "state stays long enough for ss to see it. The request is 64 KiB of text."
yes 'a request, line after line' | head -c 65536 >"$T/client.in"
mkfifo "$T/server.ctl" "$T/client.ctl"
exec 6<>"$T/server.ctl" 5<>"$T/client.ctl"
start_server -s "$T/server.ctl" -r 4096 0 || return 1
P=${READY##*:}
spawn client "$LAB/client" -s "$T/client.ctl" -r 4096 127.0.0.1 "$P"
wait_until has_line "$T/client.err" 'step: about to shutdown' || return 1
C=$(sed -nE 's/.*accept\(\) = fd [0-9]+ from .*:([0-9]+) .*/\1/p' "$T/server.err")
LINE=$(grep -E 'connect\(.*\) = 0' "$T/client.err")
echo
echo "ss -tan for the two ends after each call (state= is the program's TCP_INFO):"
printf '    %-11s %-11s %s\n' client server 'the call, as narrated'
row ESTAB ESTAB
press client 'shutdown\(SHUT_WR\) =' && row FIN-WAIT-1 ESTAB
press server 'read\(\) = 0' && row FIN-WAIT-2 CLOSE-WAIT
press server 'write\(\) =' && row FIN-WAIT-2 CLOSE-WAIT
press server 'shutdown\(SHUT_WR\) =' && row FIN-WAIT-2 LAST-ACK
press server 'close\(' && row FIN-WAIT-2 LAST-ACK
press client 'read\(\) = 0' && row TIME-WAIT -
press client 'close\(' && row TIME-WAIT -
echo "  The client sent the first FIN, so TIME-WAIT is on its side: 60 s on Linux,"
echo "  seen by ss only (TCP_INFO on the open descriptor already said CLOSE)."

exec 6>&-   # end of the server's step input: it stops pausing
echo
echo "An abort: client -L sets SO_LINGER {1, 0}; close() sends RST, not FIN:"
"$LAB/client" -L 127.0.0.1 "$P" <<<"never mind" >/dev/null 2>"$T/abort.err"
wait_until has_line "$T/server.err" 'read\(\) = -1' || return 1
grep -E 'SO_LINGER|close\(' "$T/abort.err" | sed 's/^/    /'
grep -E 'read\(\) = -1' "$T/server.err" | sed 's/^/    /'
C=$(sed -nE 's/.*connect\(.*\) = 0 from .*:([0-9]+) .*/\1/p' "$T/abort.err")
states
echo "  ss for that connection: client ${CS}, server ${SS}: no TIME-WAIT anywhere."

exec 5>&-
kill -TERM "$SERVER_PID"
wait_exit "$SERVER_PID"
