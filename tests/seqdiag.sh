#!/usr/bin/env bash
# tests/seqdiag.sh -m|-a [-s] - a sequence diagram of one TCP connection
# from lab 09's sniff output: Mermaid (-m, a `sequenceDiagram` for web
# viewers) or its ASCII twin (-a, for the terminal).
#
#   ./sniff -p 5007 -n 7 | tee /tmp/lab09.cap
#   tests/seqdiag.sh -m </tmp/lab09.cap
#
# Reads sniff's lines on standard input; lines that are not TCP segments
# (the readiness line, UDP, ICMP, narration) are skipped. The connection
# drawn is that of the first SYN (without ACK): its sender is "client",
# the other end "server"; segments of other connections are skipped.
# Each arrow is labelled with the segment's flags, seq, ack (only when the
# ACK flag is set: without it the field means nothing) and len when it is
# not 0; never the window, the time, the ports or the options, which
# change from run to run, so that two runs of the same exchange draw the
# same diagram (with sniff's relative sequence numbers, its default).
# -s adds the state each end enters, as RFC 9293's state machine derives
# it from the segments alone, for two ordinary sockets (ss's spelling:
# ESTAB, FIN-WAIT-1...): a Note in Mermaid, a column on each side in
# ASCII. It is not what ss showed, and it is wrong for an end that has
# no socket (synsend's). Exit 0; 1 when there is no SYN; 2 on a usage
# error.
set -uo pipefail

usage() {
    echo "usage: tests/seqdiag.sh -m|-a [-s] < sniff-output"
    echo "  -m  Mermaid sequenceDiagram    -a  ASCII twin    -s  states (RFC 9293)"
}
format= states=0
while getopts ':mash' opt; do
    case $opt in
    m | a) format=$opt ;;
    s) states=1 ;;
    h) usage; exit 0 ;;
    *) { echo "seqdiag.sh: unknown option -$OPTARG"; usage; } >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ "$#" -ne 0 ] || [ -z "$format" ]; then
    usage >&2
    exit 2
fi

awk -v format="$format" -v states="$states" '
# A segment: TIME SRC > DST TCP [FLAGS] seq=N ack=N win=N len=N [<options>]
$2 != "" && $3 == ">" && $5 == "TCP" && $6 ~ /^\[[A-Z,]+\]$/ && $7 ~ /^seq=/ && $8 ~ /^ack=/ && $10 ~ /^len=/ {
    flags = substr($6, 2, length($6) - 2)
    if (client == "" && flags == "SYN") { client = $2; server = $4 }
    if (client == "") next
    if ($2 == client && $4 == server) from = "client"
    else if ($2 == server && $4 == client) from = "server"
    else next
    seq = substr($7, 5); ack = substr($8, 5); len = substr($10, 5)
    label = flags " seq=" seq
    if (("," flags ",") ~ /,ACK,/) label = label " ack=" ack
    if (len != "0") label = label " len=" len
    n++
    dir[n] = from; lab[n] = label
    if (length(label) > widest) widest = length(label)
    step(from, flags, seq + 0, ack + 0, len + 0)
    next
}
function other(e) { return e == "client" ? "server" : "client" }
function enter(e, s) { if (st[e] != s) { st[e] = s; note[n, e] = s } }
# step: the states after segment n, sent by e: first what sending it
# does to e, then what receiving it does to the other end.
function step(e, flags, seq, ack, len,   o, f) {
    o = other(e)
    f = "," flags ","
    if (f ~ /,RST,/) {
        if (e in st) enter(e, "CLOSED")
        if (st[o] == "SYN-RECV") enter(o, "LISTEN")
        else if (o in st) enter(o, "CLOSED")
        return
    }
    if (f ~ /,SYN,/ && f !~ /,ACK,/) enter(e, "SYN-SENT")
    else if (f ~ /,SYN,/) enter(e, "SYN-RECV")
    if (f ~ /,FIN,/) {
        fin[e] = seq + len   # the FIN takes the number after the data
        if (st[e] == "ESTAB") enter(e, "FIN-WAIT-1")
        else if (st[e] == "CLOSE-WAIT") enter(e, "LAST-ACK")
    }
    if (f ~ /,ACK,/) {
        if (st[o] == "SYN-SENT" && f ~ /,SYN,/) enter(o, "ESTAB")
        else if (st[o] == "SYN-RECV" && f !~ /,SYN,/) enter(o, "ESTAB")
        else if ((o in fin) && ack > fin[o]) {
            if (st[o] == "FIN-WAIT-1") enter(o, "FIN-WAIT-2")
            else if (st[o] == "CLOSING") enter(o, "TIME-WAIT")
            else if (st[o] == "LAST-ACK") enter(o, "CLOSED")
        }
    }
    if (f ~ /,FIN,/) {
        if (st[o] == "ESTAB") enter(o, "CLOSE-WAIT")
        else if (st[o] == "FIN-WAIT-1") enter(o, "CLOSING")
        else if (st[o] == "FIN-WAIT-2") enter(o, "TIME-WAIT")
    }
}
function dashes(k,   s) { s = ""; while (k-- > 0) s = s "-"; return s }
function mermaid(   i) {
    print "sequenceDiagram"
    print "    participant client"
    print "    participant server"
    for (i = 1; i <= n; i++) {
        print "    " dir[i] "->>" other(dir[i]) ": " lab[i]
        if (states && ((i, "client") in note)) print "    Note left of client: " note[i, "client"]
        if (states && ((i, "server") in note)) print "    Note right of server: " note[i, "server"]
    }
}
# ASCII: the two lifelines W columns apart, one line per segment, its
# label left-aligned on the arrow; with -s, the states beside them.
function ascii(   w, m, i, pad, line, l, r) {
    w = widest + 8
    if (w < 36) w = 36
    m = states ? 12 : 0
    pad = sprintf("%" m "s", "")
    printf "%s%-" (w + 2) "s%s\n", pad, "client", "server"
    printf "%s  |%" w "s|\n", pad, ""
    for (i = 1; i <= n; i++) {
        if (dir[i] == "client") line = "--- " lab[i] " " dashes(w - length(lab[i]) - 6) ">"
        else line = "<-- " lab[i] " " dashes(w - length(lab[i]) - 5)
        l = ((i, "client") in note) ? note[i, "client"] : ""
        r = ((i, "server") in note) ? note[i, "server"] : ""
        if (states) line = sprintf("%-" m "s|%s|  %s", l, line, r)
        else line = "|" line "|"
        sub(/ +$/, "", line)
        print "  " line
    }
    printf "%s  |%" w "s|\n", pad, ""
}
END {
    if (client == "") { print "seqdiag.sh: no SYN in the input: the client is the end that sends the first SYN" > "/dev/stderr"; exit 1 }
    if (format == "m") mermaid(); else ascii()
}'
