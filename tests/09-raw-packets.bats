#!/usr/bin/env bats
# Lab 09: see the packets: sniff, a packet printer on an AF_PACKET socket,
# and synsend, one TCP SYN made by hand on a raw socket; with them the
# segments behind the states of labs 05 to 07.
#
# Steps 1 to 4 are sniff's, 5 to 7 synsend's. Each step's tests look first
# at the step's own effect (the call as strace sees it, the line printed
# right after it). The tests of no step print the segments sniff observed
# beside the states `ss` shows: the handshake, data, the teardowns (3 and
# 4 segments), a zero window, RST and ICMP. Every test runs in a network
# namespace of its own (as root, netns_setup), so that no other traffic
# mixes in and any port is ours.
# The peers are the programs of labs 05 (TCP echo), 06 (UDP echo) and
# 07 (TCP close): their solutions, built, or in a handout their
# reference binaries, tests/ref/NN-topic (lib.bash, peer_lab).
# As a normal user, each test makes a user and network namespace instead
# (unshare -r -n), where the programs have CAP_NET_RAW.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

setup_file() {
    load lib
    peer_lab 05-tcp && export L05=$PEER || return 1
    peer_lab 06-udp && export L06=$PEER || return 1
    peer_lab 07-tcp-close && export L07=$PEER || return 1
}

setup() {
    load lib
    lab_setup 09-raw-packets
}

teardown() {
    exec 5>&- 6>&-   # no 2>/dev/null: exec would keep it, and hide a failed test's dump
    lab_teardown
}

# start_sniff NAME ARGS...: sniff ARGS in the test's namespace, its output
# in $T/NAME.out, until its readiness line (SNIFF_PID; fails when it exits
# instead). The packet lines are $T/NAME.out after its first line. First,
# once per file, sniff_hears.
start_sniff() {
    local name=$1
    shift
    sniff_hears
    spawn "$name" "${NSX[@]}" "$LAB/sniff" "$@"
    SNIFF_PID=$PID
    wait_until ready_or_dead "$SNIFF_PID" "$name"
    expect_line "$T/$name.out" '^capturing on lo$' "sniff's readiness line"
}

# sniff_hears: whether sniff prints a datagram sent on lo, asked once per
# file (a mark in BATS_FILE_TMPDIR): a sniff that prints nothing would make
# every capture wait its whole WAIT_LIMIT, and fails them all at once.
sniff_hears() {
    local mark=$BATS_FILE_TMPDIR/sniff-deaf pid
    [ ! -e "$mark" ] || fail "$(<"$mark")"
    [ ! -e "$BATS_FILE_TMPDIR/sniff-hears" ] || return 0
    spawn hears "${NSX[@]}" "$LAB/sniff" -n 1
    pid=$PID
    wait_until ready_or_dead "$pid" hears
    "${NSX[@]}" bash -c 'printf x >/dev/udp/127.0.0.1/9' || fail "bash cannot send to /dev/udp here"
    if WAIT_LIMIT=3 wait_exit "$pid" && lines_at_least "$T/hears.out" 2; then
        touch "$BATS_FILE_TMPDIR/sniff-hears"
        return 0
    fi
    echo "sniff -n 1 printed no line for a datagram sent on lo within 3 s (stdout: $(tr '\n' '|' <"$T/hears.out"); stderr: $(tail -n 2 "$T/hears.err" | tr '\n' '|')): every capture of this file fails" >"$mark"
    fail "$(<"$mark")"
}

# packet I REGEX WHAT: packet line I (from 0) matches REGEX, after its time.
packet() {
    [[ ${PACKETS[$1]:-} =~ ^[0-9]+\.[0-9]{6}\ $2 ]] ||
        fail "$3: packet $(($1 + 1)) should match /$2/; sniff printed: $(printf '\n    %s' "${PACKETS[@]}")"
}

# peer_server NN ARGS...: lab NN's server (05 or 07: $L05, $L07) with ARGS
# on a free port in the namespace; SERVER_PID and PORT.
peer_server() {
    local dir=L$1
    shift
    spawn server "${NSX[@]}" "${!dir}/server" "$@" 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    read -r READY <"$T/server.out" || fail "lab ${dir#L}'s server did not start: $(cat "$T/server.err")"
    PORT=${READY##*:}
}

# closed_port PROGRAM: a port that was PROGRAM's (lab 05 or 06's server on
# port 0), closed again: in a namespace of our own, nobody else takes it.
closed_port() {
    spawn closed "${NSX[@]}" "$1" 0
    wait_until ready_or_dead "$PID" closed
    read -r READY <"$T/closed.out" || fail "$1 did not start: $(cat "$T/closed.err")"
    PORT=${READY##*:}
    kill -TERM "$PID"
    wait_exit "$PID"
}

# states: `ss -tan` in the namespace, as notes; SS holds the rows.
states() {
    SS=$("${NSX[@]}" ss -tanH | tr -s ' ')
    note_lines "  ss ($1): " <<<"${SS:-(no TCP socket)}"
}

# state_of LOCAL [PEER]: the state of the TCP row (of SS) whose local
# address is LOCAL (and peer address PEER); empty when there is none.
state_of() {
    local row f
    STATE=
    while read -r row; do
        read -ra f <<<"$row"
        if [ "${f[3]:-}" = "$1" ] && [ "${f[4]:-}" = "${2:-${f[4]:-}}" ]; then STATE=${f[0]}; fi
    done <<<"$SS"
    return 0
}

# traced NAME CALLS ARGS...: sniff or synsend (NAME) under strace -e
# trace=CALLS in the namespace, its trace in $T/trace; spawned as NAME.
traced() {
    local name=$1 calls=$2
    shift 2
    # (LeakSanitizer, in a SANITIZE=1 build, cannot work under ptrace.)
    spawn "$name" "${NSX[@]}" env ASAN_OPTIONS=detect_leaks=0 strace -o "$T/trace" -e trace="$calls" "$LAB/$name" "$@"
    TRACER=$PID
}

# call PREFIX: the first line of $T/trace that begins with PREFIX (a
# literal text), blanks squeezed, in CALL (empty when there is none).
call() {
    local all line
    CALL=
    mapfile -t all <"$T/trace"
    for line in "${all[@]}"; do
        [[ $line == "$1"* ]] && { CALL=$(tr -s ' ' <<<"$line"); break; }
    done
    return 0
}


# ---- helpers ------------------------------------------------------------

# build_rr: RR, the request-reply peer tests/09-raw-packets-peer.c, built
# once for this file (as tests/08-fd-passing.bats's build_peer does).
build_rr() {
    RR=$BATS_FILE_TMPDIR/rr
    [ -x "$RR" ] ||
        cc -std=c11 -Wall -Wextra -Werror -o "$RR" "$ROOT/tests/09-raw-packets-peer.c" ||
        fail "tests/09-raw-packets-peer.c does not build"
}

# held_server ARGS...: lab 07's server in step mode (-s: before each call
# of its teardown it waits for a line on its control FIFO, held open on
# fd 6) on port 0 in the test's namespace. Sets SERVER_PID and PORT.
held_server() {
    mkfifo "$T/server.ctl"
    exec 6<>"$T/server.ctl"
    peer_server 07 -s "$T/server.ctl" "$@"
}

# held_client ARGS...: lab 07's client in step mode (control FIFO on fd 5),
# its request from $T/client.in, connected to PORT; waits until it is held
# before its first step. Sets CLIENT_PID, CP (its port), and c and s, the
# two ends as regular expressions for sniff's lines.
held_client() {
    mkfifo "$T/client.ctl"
    exec 5<>"$T/client.ctl"
    spawn client "${NSX[@]}" "$L07/client" -s "$T/client.ctl" "$@" 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until said_or_gone "$CLIENT_PID" "$T/client.err" 'step: about to .*  state=[A-Z_0-9]+$'
    last_match "$T/client.err" 'connect\(.*\) = 0 from 127\.0\.0\.1:([0-9]+) ' ||
        fail "lab 07's client did not connect: $(cat "$T/client.err")"
    CP=$MATCH
    c="127\\.0\\.0\\.1:$CP" s="127\\.0\\.0\\.1:$PORT"
}

# said_after_or_gone PID FILE REGEX SKIP: a line of FILE after its first
# SKIP lines matches REGEX, or PID is gone.
said_after_or_gone() {
    last_match "$2" "$3" "$4" || gone "$1"
}

# go_on WHO REGEX: Enter for lab 07's client or server (WHO), held before a
# call; then wait for its next narration line matching REGEX, the call's
# result, in LINE. Fails at once, showing its last lines, when WHO exits
# without saying it.
go_on() {
    local said pid=$SERVER_PID
    [ "$1" = client ] && pid=$CLIENT_PID
    mapfile -t said <"$T/$1.err"
    if [ "$1" = client ]; then echo >&5; else echo >&6; fi
    wait_until said_after_or_gone "$pid" "$T/$1.err" "$2" "${#said[@]}" 2>/dev/null
    last_match "$T/$1.err" "$2" "${#said[@]}" ||
        fail "after an Enter, lab 07's $1 said no line matching /$2/; its last lines: $(tail -n 4 "$T/$1.err")"
}

# sniffed SKIP: sniff's packet lines after the first SKIP, as notes.
sniffed() {
    note_lines "  sniff: " < <(tail -n +$(($1 + 2)) "$T/sniff.out")
}

# stop_sniff: SIGTERM to sniff; it exits 0 (its lines noted already).
stop_sniff() {
    kill -TERM "$SNIFF_PID"
    wait_exit "$SNIFF_PID" || fail "sniff did not end after SIGTERM"
    is "sniff's exit status after SIGTERM" "$STATUS" 0
}

# sniff_lines: how many packet lines sniff has printed, in SEEN.
sniff_lines() {
    local all
    mapfile -t -s 1 all <"$T/sniff.out"
    SEEN=${#all[@]}
}

# both_in STATE: ss shows the client's end (CP) and the server's end of
# this connection in STATE; CS and SV are what it shows ("-": no row).
both_in() {
    states_quiet
    state_of "127.0.0.1:$CP" "127.0.0.1:$PORT"
    CS=${STATE:--}
    state_of "127.0.0.1:$PORT" "127.0.0.1:$CP"
    SV=${STATE:--}
    [ "$CS $SV" = "$1 $1" ] || return 1
}

# states_quiet: SS as `states` sets it, without the notes (for polls).
states_quiet() {
    SS=$("${NSX[@]}" ss -tanH | tr -s ' ')
}

# sniff_at I: the time of packet line I (from 0) in microseconds, in US.
sniff_at() {
    local t=${PACKETS[$1]%% *}
    US=$((10#${t%.*} * 1000000 + 10#${t#*.}))
}

# find_packet REGEX: I, the index of the first packet line (of PACKETS)
# that matches REGEX after its time; fails when none does.
find_packet() {
    for ((I = 0; I < ${#PACKETS[@]}; I++)); do
        [[ ${PACKETS[I]} =~ ^[0-9]+\.[0-9]{6}\ $1 ]] && return 0
    done
    fail "no packet line matches /$1/; sniff printed: $(printf '\n    %s' "${PACKETS[@]}")"
}

# ss_info: `ss -tinO` in the namespace (one line per socket, its TCP_INFO
# after its addresses), in INFO, for info_of.
ss_info() {
    INFO=$("${NSX[@]}" ss -tinOH)
}

# info_of LOCAL PEER: from INFO, the row of the TCP socket at LOCAL
# connected to PEER, in ROW; SND_WND, its snd_wnd (TCP_INFO's
# tcpi_snd_wnd: the window the peer announced, scaled back up), empty
# when this ss or kernel does not show it.
info_of() {
    local row f
    ROW='' SND_WND=''
    while read -r row; do
        read -ra f <<<"$row"
        if [ "${f[3]:-}" = "$1" ] && [ "${f[4]:-}" = "$2" ]; then ROW=$row; fi
    done <<<"$INFO"
    if [[ $ROW =~ \ snd_wnd:([0-9]+) ]]; then SND_WND=${BASH_REMATCH[1]}; fi
    return 0
}

# ---- helpers (extras) ----------------------------------------------------

# pcap_read FILE: a pcap file (pcap-savefile(5)) as bytes and fields.
# B: its bytes, in decimal; MAGIC: its first 4 bytes read as one number
# in this machine's byte order (od -t x4), as hex; VERSION ("2.4"),
# SNAPLEN, LINKTYPE: the global header's fields; REC: each record's
# offset (of its 16-byte header). Fields are read in the order the magic
# number shows (a file in the other order is read too, and fails on
# MAGIC). Two forks (od, twice), whatever the file's size.
pcap_read() {
    local words at
    read -ra words < <(od -A n -N 4 -t x4 "$1")
    MAGIC=${words[0]:-}
    # shellcheck disable=SC2207 # od's numbers, split on blanks: wanted
    B=($(od -A n -v -t u1 "$1"))
    ((${#B[@]} >= 24)) || fail "$1: ${#B[@]} bytes, fewer than the 24 of a pcap header"
    PCAP_LE=1
    ((B[0] == 0xa1)) && PCAP_LE=0
    pcap_u16 4 && VERSION=$V
    pcap_u16 6 && VERSION=$VERSION.$V
    pcap_u32 16 && SNAPLEN=$V
    pcap_u32 20 && LINKTYPE=$V
    REC=()
    for ((at = 24; at + 16 <= ${#B[@]}; )); do
        REC+=("$at")
        pcap_u32 $((at + 8))
        at=$((at + 16 + V))
    done
    PCAP_END=$at
}

# pcap_u16 OFFSET, pcap_u32 OFFSET: the number at OFFSET of B, in the
# file's byte order (pcap_read), in V.
pcap_u16() {
    if ((PCAP_LE)); then V=$((B[$1] | B[$1 + 1] << 8)); else V=$((B[$1] << 8 | B[$1 + 1])); fi
}
pcap_u32() {
    if ((PCAP_LE)); then
        V=$((B[$1] | B[$1 + 1] << 8 | B[$1 + 2] << 16 | B[$1 + 3] << 24))
    else
        V=$((B[$1] << 24 | B[$1 + 1] << 16 | B[$1 + 2] << 8 | B[$1 + 3]))
    fi
}

# error_said: stderr's first line that is not narration ("[prog] ..."): an
# error, or nothing; in SAID.
error_said() {
    local line
    SAID=
    for line in "${stderr_lines[@]}"; do
        [[ $line == \[* ]] || { SAID=$line; break; }
    done
    return 0
}

@test "[step 1] socket(): strace sees socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), and the descriptor it returns is the one narrated" {
    own_netns
    traced sniff socket -n 1
    wait_until ready_or_dead "$TRACER" sniff
    call 'socket(AF_PACKET'
    note "strace: $CALL"
    [[ $CALL =~ ^socket\(AF_PACKET,\ SOCK_DGRAM,\ htons\(ETH_P_ALL\)\)\ =\ ([0-9]+)$ ]] ||
        fail "sniff should call socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)) = FD; strace saw: $(grep '^socket' "$T/trace")"
    fd=${BASH_REMATCH[1]}
    last_match "$T/sniff.err" '^\[sniff\] socket' && note "narration: $LINE"
    expect_line "$T/sniff.err" "^\\[sniff\\] socket\\(AF_PACKET, SOCK_DGRAM, ETH_P_ALL\\) = fd $fd\$" "sniff's narration of socket(), right after your step"
}

@test "[step 2] bind(): strace sees a sockaddr_ll of family AF_PACKET, protocol ETH_P_ALL and the index of lo, and the result 0" {
    own_netns
    traced sniff bind -n 1
    wait_until ready_or_dead "$TRACER" sniff
    call bind
    note "strace: $CALL"
    [[ $CALL == *'{sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=if_nametoindex("lo"),'*'}, 20) = 0' ]] ||
        fail "sniff should bind to lo: bind(FD, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=if_nametoindex(\"lo\"), ...}, 20) = 0; strace saw: $CALL"
    expect_line "$T/sniff.err" '^\[sniff\] bind\(lo, ifindex 1\) = 0$' "sniff's narration of bind(), right after your step"
    expect_line "$T/sniff.out" '^capturing on lo$' "sniff's readiness line"
}

@test "[step 3] recvmsg(): a datagram sent on lo, strace sees recvmsg() take its 33 bytes twice (out, then in); sniff counts it in its summary" {
    # No -n: a line printed is step 4's work; SIGTERM ends the capture.
    own_netns
    traced sniff recvmsg
    wait_until ready_or_dead "$TRACER" sniff
    expect_line "$T/sniff.out" '^capturing on lo$' "sniff's readiness line"
    "${NSX[@]}" bash -c 'printf hello >/dev/udp/127.0.0.1/9' || fail "bash cannot send to /dev/udp here"
    wait_until said_or_gone "$TRACER" "$T/trace" 'PACKET_HOST.* = 33$'
    has_line "$T/trace" 'PACKET_HOST.* = 33$' ||
        fail "strace saw no recvmsg() take the 33-byte packet (20 IP, 8 UDP, 5 data) as it came in: $(grep -c '^recvmsg' "$T/trace") recvmsg() calls"
    note_lines "strace: " < <(grep -E '^recvmsg.* = 33$' "$T/trace" |
        sed -E 's/^(recvmsg\([0-9]+, \{msg_name=\{[^}]*\}).*(\) = [0-9-]+)$/\1, ...\2/')
    SNIFF=$(pgrep -P "$TRACER" -x sniff) || fail "no sniff process under strace"
    kill -TERM "$SNIFF"
    wait_exit "$TRACER"
    is "sniff's exit status after SIGTERM" "$STATUS" 0
    last_match "$T/sniff.err" '^\[sniff\] ([0-9]+) packets printed, ([0-9]+) not .*, ([0-9]+) seen twice' ||
        fail "sniff printed no summary after SIGTERM: $(tail -n 2 "$T/sniff.err")"
    note "summary: $LINE"
    (("${BASH_REMATCH[1]}" + "${BASH_REMATCH[2]}" >= 1 && "${BASH_REMATCH[3]}" >= 1)) ||
        fail "sniff's summary should count the datagram (printed or not) and its outgoing copy: $LINE"
}

@test "[step 4] the IPv4 and IPv6 headers: lab 06's datagrams from 127.0.0.3 to 127.0.0.2 and from ::1 to ::1 are printed with their addresses, ports, UDP and length" {
    own_netns
    start_sniff sniff -n 3
    run_split "${NSX[@]}" "$L06/client" -n -b 127.0.0.3 127.0.0.2 9 <<<"hello"
    last_match "$T/run.err" 'getsockname\(\) = 127\.0\.0\.3:([0-9]+)$' ||
        fail "lab 06's client did not say its port: $stderr"
    cport=$MATCH
    note "lab 06's client: $LINE"
    # Port 9 is closed: the datagram's ICMP error is line 2, then IPv6.
    run_split "${NSX[@]}" "$L06/client" -n -b ::1 ::1 9 <<<"hello6"
    last_match "$T/run.err" 'getsockname\(\) = \[::1\]:([0-9]+)$' ||
        fail "lab 06's client did not send from [::1] (no IPv6 on this loopback?): $stderr"
    cport6=$MATCH
    note "lab 06's client: $LINE"
    end_sniff sniff
    packet 0 "127\\.0\\.0\\.3:$cport > 127\\.0\\.0\\.2:9 UDP len=5\$" "the datagram's line: source, destination, protocol UDP, 5 bytes of data"
    packet 2 "\\[::1\\]:$cport6 > \\[::1\\]:9 UDP len=6\$" "the IPv6 datagram's line: its addresses (40-byte header: next header byte 6, addresses at 8 and 24), UDP, 6 bytes"
}

@test "[step 5] socket(): strace sees socket(AF_INET, SOCK_RAW, IPPROTO_TCP), and the descriptor it returns is the one narrated" {
    own_netns
    closed_port "$L05/server"
    traced synsend socket 127.0.0.1 "$PORT"
    wait_exit "$TRACER"
    call 'socket(AF_INET, SOCK_RAW'
    note "strace: $CALL"
    [[ $CALL =~ ^socket\(AF_INET,\ SOCK_RAW,\ IPPROTO_TCP\)\ =\ ([0-9]+)$ ]] ||
        fail "synsend should call socket(AF_INET, SOCK_RAW, IPPROTO_TCP) = FD; strace saw: $(grep '^socket' "$T/trace")"
    expect_line "$T/synsend.err" "^\\[synsend\\] socket\\(AF_INET, SOCK_RAW, IPPROTO_TCP\\) = fd ${BASH_REMATCH[1]}\$" "synsend's narration of socket(), right after your step"
}

@test "[step 6] the TCP header: sniff -S sees synsend's SYN with its ports, its sequence number, window 64240 and <mss 1460>" {
    own_netns
    closed_port "$L05/server"
    start_sniff sniff -S -p "$PORT" -n 1
    run_split "${NSX[@]}" "$LAB/synsend" 127.0.0.1 "$PORT"
    [[ $stderr =~ sendto\(\)\ =\ 24\ bytes:\ 127\.0\.0\.1:([0-9]+)\ \>\ 127\.0\.0\.1:$PORT\ TCP\ \[SYN\]\ seq=([0-9]+) ]] ||
        fail "synsend did not narrate its SYN: $stderr"
    sport=${BASH_REMATCH[1]} isn=${BASH_REMATCH[2]}
    note "synsend: $(grep sendto <<<"$stderr")"
    end_sniff sniff
    packet 0 "127\\.0\\.0\\.1:$sport > 127\\.0\\.0\\.1:$PORT TCP \\[SYN\\] seq=$isn ack=0 win=64240 len=0 <mss 1460>\$" \
        "the SYN as sniff saw it: ports, sequence number, flags, window, the MSS option"
}

@test "[step 7] the checksum: a listener answers synsend's SYN with a SYN,ACK that acknowledges it (a wrong sum gets no answer)" {
    own_netns
    peer_server 05
    run_split "${NSX[@]}" "$LAB/synsend" 127.0.0.1 "$PORT"
    note "synsend: exit $status, ${output:-$(tail -n 1 <<<"$stderr")}"
    [ "$status" -eq 0 ] ||
        fail "no answer to synsend's SYN (exit $status): a segment whose checksum is wrong is dropped without a word; synsend said: $stderr"
    [[ $output =~ ^127\.0\.0\.1:$PORT\ \>\ 127\.0\.0\.1:[0-9]+\ TCP\ \[SYN,ACK\]\ seq=[0-9]+\ ack=[0-9]+\ \(ours\ \+\ 1\)$ ]] ||
        fail "synsend should print the listener's SYN,ACK acknowledging our SYN (ours + 1); it printed: $output"
}

@test "lab 05's programs: the handshake (SYN, SYN,ACK, ACK), data and its ACK, each window field the raw 16 bits (ss -i's snd_wnd >> wscale), the 3-segment teardown (FIN, FIN+ACK, ACK: no lone ACK), beside ss's states; the client ends in TIME-WAIT" {
    # One capture for the whole connection: numbers are relative to each
    # direction's SYN, which sniff must see. The test waits for the
    # segments, then looks at ss: the states they left.
    own_netns
    peer_server 05
    mkfifo "$T/client.in"
    exec 6<>"$T/client.in"
    start_sniff sniff -p "$PORT"
    spawn client "${NSX[@]}" "$L05/client" 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until lines_at_least "$T/sniff.out" 4 || fail "no 3 segments of a handshake; sniff printed: $(cat "$T/sniff.out")"
    mapfile -t -s 1 PACKETS <"$T/sniff.out"
    note_lines "  sniff: " < <(printf '%s\n' "${PACKETS[@]:0:3}")
    cp="[0-9]+"
    [[ ${PACKETS[0]:-} =~ 127\.0\.0\.1:([0-9]+)\ \> ]] && cp=${BASH_REMATCH[1]}
    c="127\\.0\\.0\\.1:$cp" s="127\\.0\\.0\\.1:$PORT"
    packet 0 "$c > $s TCP \\[SYN\\] seq=0 ack=0 " "the client's SYN"
    packet 1 "$s > $c TCP \\[SYN,ACK\\] seq=0 ack=1 " "the server's SYN,ACK"
    packet 2 "$c > $s TCP \\[ACK\\] seq=1 ack=1 " "the client's ACK"
    states "after the handshake"
    state_of "127.0.0.1:$cp"
    is "the client's state after the handshake" "$STATE" ESTAB

    echo hello >&6
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=7 ack=7 " ||
        fail "no ACK of the server's reply from the client; sniff printed: $(cat "$T/sniff.out")"
    note_lines "  sniff: " < <(tail -n +5 "$T/sniff.out")
    mapfile -t -s 1 PACKETS <"$T/sniff.out"
    packet 3 "$c > $s TCP \\[PSH,ACK\\] seq=1 ack=1 win=[0-9]+ len=6\$" "the client's 6 bytes"
    acked=$(grep -m 1 -E "^[0-9.]+ $s > $c TCP \\[[A-Z,]*ACK\\] seq=1 ack=7 " "$T/sniff.out") ||
        fail "no segment of the server acknowledges the 6 bytes (ack=7)"
    note "the 6 bytes first acknowledged by: $acked"
    states "after the data"
    skip_lines=$(wc -l <"$T/sniff.out")
    # win= is the raw 16-bit field: the sender's receive window shifted
    # right by the scale its SYN announced (RFC 7323 2.2). The peer's
    # snd_wnd (ss -i: TCP_INFO) is that window scaled back up: the last
    # field it received << the sender's wscale.
    [[ ${PACKETS[0]} =~ \ TCP\ \[SYN\]\ .*wscale\ ([0-9]+) ]] || fail "the client's SYN shows no wscale option: ${PACKETS[0]}"
    cws=${BASH_REMATCH[1]}
    [[ ${PACKETS[1]} =~ \ TCP\ \[SYN,ACK\]\ .*wscale\ ([0-9]+) ]] || fail "the server's SYN,ACK shows no wscale option: ${PACKETS[1]}"
    sws=${BASH_REMATCH[1]}
    ss_info
    for end in "client $c $s $cws 127.0.0.1:$PORT 127.0.0.1:$cp" "server $s $c $sws 127.0.0.1:$cp 127.0.0.1:$PORT"; do
        read -r who from to ws peer me <<<"$end"
        last_match "$T/sniff.out" "^[0-9.]+ $from > $to TCP .* win=([0-9]+) " || fail "no segment from the $who"
        win=$MATCH
        info_of "$peer" "$me"
        if [ -z "$SND_WND" ]; then
            note "ss -i shows no snd_wnd for $peer here (a kernel before tcpi_snd_wnd): the $who's window field not checked"
            continue
        fi
        note "the $who's last segment: win=$win, its SYN's wscale $ws; ss -i at $peer: snd_wnd:$SND_WND"
        is "the $who's window as its peer holds it (ss -i snd_wnd), from sniff's raw field: win=$win << wscale $ws" "$((win << ws))" "$SND_WND"
    done

    exec 6>&-
    wait_exit "$CLIENT_PID"
    is "lab 05's client's exit status" "$STATUS" 0
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=8 ack=8 " ||
        fail "no last ACK from the client; sniff printed: $(cat "$T/sniff.out")"
    note_lines "  sniff: " < <(tail -n +$((skip_lines + 1)) "$T/sniff.out")
    states "after the teardown"
    state_of "127.0.0.1:$cp"
    is "the state of the client's end (the first to send FIN) after the teardown" "$STATE" TIME-WAIT
    kill -TERM "$SNIFF_PID"
    wait_exit "$SNIFF_PID"
    is "sniff's exit status after SIGTERM" "$STATUS" 0
    # The 3-segment teardown: the server's kernel delays its ACK of the
    # FIN (40 ms at least), and lab 05's server, reading 0, closes well
    # within that: its FIN carries the ACK (ack=8), no lone ACK before it.
    # (Not a law of TCP: a server that took longer than the delayed ACK
    # would show it alone first, as the 4-way teardown's test does.)
    mapfile -t -s "$skip_lines" PACKETS <"$T/sniff.out"
    packet 0 "$c > $s TCP \\[FIN,ACK\\] seq=7 ack=7 win=[0-9]+ len=0\$" "the client's FIN (its shutdown at the end of its input), the teardown's first segment"
    packet 1 "$s > $c TCP \\[FIN,ACK\\] seq=7 ack=8 win=[0-9]+ len=0\$" "the server's FIN carrying the ACK of the client's (ack=8), next: a lone ACK of the client's FIN first means the server took longer than the delayed ACK (40 ms) to close"
    packet 2 "$c > $s TCP \\[ACK\\] seq=8 ack=8 win=[0-9]+ len=0\$" "the client's ACK of the server's FIN"
    is "segments in the teardown (FIN, FIN+ACK, ACK)" "${#PACKETS[@]}" 3
    last_match "$T/sniff.err" '^\[sniff\] ([0-9]+) packets printed' || fail "sniff printed no summary: $(cat "$T/sniff.err")"
    note "sniff's summary: $LINE"
}

# The handshake, one segment at a time: lo's queue (tc's token bucket, as
# lab 07's whole diagram holds it) starts with 100 bytes, which let the
# client's SYN (74 bytes with the link header) through and hold the
# server's SYN,ACK; then it lets that one through, and the client's ACK
# waits. sniff sees a packet only once it leaves the queue, so each line
# it prints is a segment delivered, and ss shows what it did to each end.
@test "the 3-way handshake one segment at a time, lo's queue held by tc: after the SYN, client SYN-SENT and server SYN-RECV; after the SYN,ACK, client ESTAB; after the ACK, server ESTAB" {
    own_netns
    need_lo_gate
    peer_server 05
    start_sniff sniff -p "$PORT"
    "${NSX[@]}" tc qdisc add dev lo root tbf rate 8bit burst 100 limit 10000 ||
        fail "tc could not give lo a queue"
    mkfifo "$T/client.in"
    exec 6<>"$T/client.in"
    spawn client "${NSX[@]}" "$L05/client" 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until has_line "$T/sniff.out" 'TCP \[SYN\] ' || fail "sniff did not see the client's SYN: $(cat "$T/sniff.out")"
    [[ $(sed -n 2p "$T/sniff.out") =~ 127\.0\.0\.1:([0-9]+)\ \> ]] || fail "no client port in sniff's first line"
    CP=${BASH_REMATCH[1]}
    c="127\\.0\\.0\\.1:$CP" s="127\\.0\\.0\\.1:$PORT"
    wait_until gate_holds 1 || fail "lo's queue should hold the server's SYN,ACK: backlog ${QUEUED:-none}"
    sniffed 0
    states "the SYN delivered, the SYN,ACK in lo's queue ($QUEUED)"
    state_of "127.0.0.1:$CP" "127.0.0.1:$PORT"
    is "the client's state, its SYN sent and not answered" "$STATE" SYN-SENT
    state_of "127.0.0.1:$PORT" "127.0.0.1:$CP"
    is "the server's state, the SYN received and answered (the answer held)" "$STATE" SYN-RECV
    mapfile -t -s 1 PACKETS <"$T/sniff.out"
    is "sniff's lines while the SYN,ACK waits" "${#PACKETS[@]}" 1
    gate_pass "${QUEUED%%b *}"
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $s > $c TCP \\[SYN,ACK\\] seq=0 ack=1 " ||
        fail "sniff did not see the SYN,ACK go by: $(cat "$T/sniff.out")"
    # Behind the datagram that made tbf look (gate_pass), the client's ACK.
    wait_until gate_holds 2 || fail "lo's queue should hold the client's ACK: backlog ${QUEUED:-none}"
    sniffed 1
    states "the SYN,ACK delivered, the client's ACK in lo's queue ($QUEUED: it, and the datagram before it)"
    state_of "127.0.0.1:$CP" "127.0.0.1:$PORT"
    is "the client's state after the SYN,ACK (connect() returns)" "$STATE" ESTAB
    state_of "127.0.0.1:$PORT" "127.0.0.1:$CP"
    is "the server's state, the ACK held" "$STATE" SYN-RECV
    gate_open
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=1 ack=1 " ||
        fail "sniff did not see the client's ACK: $(cat "$T/sniff.out")"
    sniffed 2
    states "the ACK delivered"
    state_of "127.0.0.1:$PORT" "127.0.0.1:$CP"
    is "the server's state after the ACK (accept() can return it)" "$STATE" ESTAB
    mapfile -t -s 1 PACKETS <"$T/sniff.out"
    packet 0 "$c > $s TCP \\[SYN\\] seq=0 ack=0 " "the client's SYN"
    packet 1 "$s > $c TCP \\[SYN,ACK\\] seq=0 ack=1 " "the server's SYN,ACK"
    packet 2 "$c > $s TCP \\[ACK\\] seq=1 ack=1 " "the client's ACK"
}

@test "the 4-way teardown: lab 07's server held (-s CTL) after the client's FIN: FIN, ACK, then FIN, ACK; FIN-WAIT-2 and CLOSE-WAIT between" {
    own_netns
    held_server
    start_sniff sniff -p "$PORT"
    echo hello >"$T/client.in"
    spawn client "${NSX[@]}" "$L07/client" 127.0.0.1 "$PORT"
    CLIENT_PID=$PID
    wait_until has_line "$T/client.err" 'connect\(.*\) = 0 from 127\.0\.0\.1:[0-9]+ ' ||
        fail "lab 07's client did not connect: $(cat "$T/client.err")"
    last_match "$T/client.err" 'connect\(.*\) = 0 from 127\.0\.0\.1:([0-9]+) '
    cp=$MATCH
    c="127\\.0\\.0\\.1:$cp" s="127\\.0\\.0\\.1:$PORT"
    # The server's kernel acknowledges the FIN (a delayed ACK, alone)
    # while the server, held, has not answered.
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $s > $c TCP \\[ACK\\] seq=1 ack=8 " ||
        fail "no ACK of the client's FIN (ack=8) alone; sniff printed: $(cat "$T/sniff.out")"
    note_lines "  sniff: " < <(tail -n +2 "$T/sniff.out")
    last_match "$T/sniff.out" "$c > $s TCP \\[FIN,ACK\\] seq=7 ack=1 " || fail "no FIN from the client after its 6 bytes"
    states "the server held, the client's FIN acknowledged"
    state_of "127.0.0.1:$cp"
    is "the client's state, its FIN acknowledged" "$STATE" FIN-WAIT-2
    state_of "127.0.0.1:$PORT" "127.0.0.1:$cp"
    is "the server's state, FIN received, not closed yet" "$STATE" CLOSE-WAIT
    skip_lines=$(wc -l <"$T/sniff.out")
    printf '\n\n\n' >&6   # the server goes on: write(), shutdown(), close()
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=8 ack=8 " ||
        fail "no last ACK from the client; sniff printed: $(cat "$T/sniff.out")"
    note_lines "  sniff: " < <(tail -n +$((skip_lines + 1)) "$T/sniff.out")
    last_match "$T/sniff.out" "$s > $c TCP \\[FIN,ACK\\] seq=7 ack=8 " "$skip_lines" || fail "no FIN from the server after its reply"
    wait_exit "$CLIENT_PID"
    is "lab 07's client's exit status" "$STATUS" 0
    states "after the teardown"
    state_of "127.0.0.1:$cp"
    is "the client's end (the first to send FIN) after the teardown" "$STATE" TIME-WAIT
    kill -TERM "$SNIFF_PID"
    wait_exit "$SNIFF_PID"
    is "sniff's exit status after SIGTERM" "$STATUS" 0
}

@test "the zero-window probe: lab 07's server (-r 4096, held) reads nothing; the client's FIN waits behind its data in FIN-WAIT-1 while it probes the window" {
    own_netns
    held_server -r 4096
    start_sniff sniff -p "$PORT"
    yes 'a request, line after line' | head -c 65536 >"$T/client.in"
    spawn client "${NSX[@]}" "$L07/client" 127.0.0.1 "$PORT"
    wait_until has_line "$T/client.err" 'connect\(.*\) = 0 from 127\.0\.0\.1:[0-9]+ ' ||
        fail "lab 07's client did not connect: $(cat "$T/client.err")"
    last_match "$T/client.err" 'connect\(.*\) = 0 from 127\.0\.0\.1:([0-9]+) '
    cp=$MATCH
    c="127\\.0\\.0\\.1:$cp" s="127\\.0\\.0\\.1:$PORT"
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $s > $c TCP \\[ACK\\] seq=1 ack=[0-9]+ win=0 " ||
        fail "the server never announced a zero window; sniff printed: $(cat "$T/sniff.out")"
    last_match "$T/sniff.out" "$s > $c TCP \\[ACK\\] seq=1 ack=([0-9]+) win=0 "
    una=$MATCH
    # A probe: one byte below what was acknowledged, no data; the answer
    # announces the window again (still 0).
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=$((una - 1)) ack=1 win=[0-9]+ len=0\$" ||
        fail "no zero-window probe (seq=$((una - 1)), len=0) from the client; sniff printed: $(cat "$T/sniff.out")"
    wait_until matches_at_least "$s > $c TCP \\[ACK\\] seq=1 ack=$una win=0 " "$T/sniff.out" 2 ||
        fail "the probe got no answer; sniff printed: $(cat "$T/sniff.out")"
    note_lines "  sniff: " < <(tail -n +2 "$T/sniff.out" | cut -d'<' -f1)
    expect_line "$T/client.err" 'shutdown\(SHUT_WR\) = 0  state=FIN_WAIT1$' "the client's shutdown(), its FIN queued"
    not has_line "$T/sniff.out" 'TCP \[FIN' || fail "the client's FIN should wait behind its data; sniff printed: $(grep FIN "$T/sniff.out")"
    states "the server reading nothing"
    state_of "127.0.0.1:$cp"
    is "the client's state, its FIN behind data the window does not take" "$STATE" FIN-WAIT-1
    state_of "127.0.0.1:$PORT" "127.0.0.1:$cp"
    is "the server's state, no FIN received" "$STATE" ESTAB
}

@test "an abortive close (lab 07's client -L, SO_LINGER {1, 0}): RST,ACK instead of FIN, no TIME-WAIT; the server reads ECONNRESET" {
    own_netns
    peer_server 07
    start_sniff sniff -p "$PORT"
    run_split "${NSX[@]}" "$L07/client" -L 127.0.0.1 "$PORT" <<<"hello"
    last_match "$T/run.err" 'connect\(.*\) = 0 from 127\.0\.0\.1:([0-9]+)' || fail "lab 07's client did not connect: $stderr"
    cp=$MATCH
    note "lab 07's client -L: exit $status, $(grep -E 'SO_LINGER|close' "$T/run.err" | paste -sd ';')"
    c="127\\.0\\.0\\.1:$cp" s="127\\.0\\.0\\.1:$PORT"
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[RST,ACK\\] seq=7 " ||
        fail "no RST,ACK from the client after its 6 bytes; sniff printed: $(cat "$T/sniff.out")"
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'Connection reset by peer'
    end_sniff sniff -t
    packet 0 "$c > $s TCP \\[SYN\\] seq=0 " "the client's SYN"
    not has_line "$T/sniff.out" 'TCP \[FIN' || fail "an abortive close sends no FIN; sniff printed: $(grep FIN "$T/sniff.out")"
    states "after the RST"
    state_of "127.0.0.1:$cp"
    is "the client's end after the RST (gone, no TIME-WAIT)" "${STATE:-gone}" gone
    last_match "$T/server.err" 'Connection reset by peer' || fail "lab 07's server should read ECONNRESET: $(tail -n 3 "$T/server.err")"
    note "lab 07's server: $LINE"
}

@test "a connect to a closed port: SYN, then RST,ACK at once; lab 05's client says Connection refused" {
    own_netns
    closed_port "$L05/server"
    start_sniff sniff -p "$PORT" -n 2
    run_split "${NSX[@]}" "$L05/client" 127.0.0.1 "$PORT" </dev/null
    note "lab 05's client: exit $status, $(tail -n 1 <<<"$stderr")"
    end_sniff sniff
    packet 0 "127\\.0\\.0\\.1:[0-9]+ > 127\\.0\\.0\\.1:$PORT TCP \\[SYN\\] seq=0 ack=0 " "the client's SYN"
    packet 1 "127\\.0\\.0\\.1:$PORT > 127\\.0\\.0\\.1:[0-9]+ TCP \\[RST,ACK\\] seq=0 ack=1 win=0 len=0\$" "the closed port's answer"
    states "after the RST"
    is "lab 05's client's exit status" "$status" 1
    [[ $stderr == *"Connection refused"* ]] || fail "lab 05's client should say Connection refused: $stderr"
}

@test "UDP to a closed port, on 127.0.0.1 and ::1: the datagram, then ICMP (ICMPv6) port unreachable quoting it; lab 06's connected client gets ECONNREFUSED; sniff -p PORT leaves out the same on port 9" {
    own_netns
    closed_port "$L06/server"
    start_sniff sniff -p "$PORT"
    # First a datagram to port 9, closed too: it and its ICMP error come
    # before the others, and -p PORT must leave both out.
    "${NSX[@]}" bash -c 'printf x >/dev/udp/127.0.0.1/9' || fail "bash cannot send to /dev/udp here"
    run_split "${NSX[@]}" "$L06/client" -c 127.0.0.1 "$PORT" <<<"hello"
    note "lab 06's client -c 127.0.0.1: exit $status, $(tail -n 1 <<<"$stderr")"
    is "lab 06's client's exit status" "$status" 1
    [[ $stderr == *"Connection refused"* ]] || fail "lab 06's client -c should report ECONNREFUSED (Connection refused): $stderr"
    # IPv6 where the namespace has ::1 (sniff's /proc/PID/net: its own).
    v6=0
    has_line "/proc/$SNIFF_PID/net/if_inet6" '^00000000000000000000000000000001 ' && v6=1
    if ((v6)); then
        run_split "${NSX[@]}" "$L06/client" -c ::1 "$PORT" <<<"hello6"
        note "lab 06's client -c ::1: exit $status, $(tail -n 1 <<<"$stderr")"
    else
        note "no ::1 in the test's namespace (IPv6 off): no ICMPv6 to see"
    fi
    wait_until lines_at_least "$T/sniff.out" $((3 + 2 * v6)) ||
        fail "sniff printed fewer than $((2 + 2 * v6)) packets: $(cat "$T/sniff.out")"
    end_sniff sniff -t
    last_match "$T/sniff.err" '^\[sniff\] [0-9]+ packets printed, ([0-9]+) not ' ||
        fail "sniff's summary: $(tail -n 1 "$T/sniff.err")"
    note "sniff -p $PORT: $LINE"
    # the datagram to port 9 and its ICMP error: left out, and counted
    ((BASH_REMATCH[1] >= 2)) || fail "sniff -p $PORT should count the 2 packets of port 9 as 'not' (not -p): $LINE"
    packet 0 "127\\.0\\.0\\.1:([0-9]+) > 127\\.0\\.0\\.1:$PORT UDP len=5\$" "the datagram to PORT (the one to port 9, sent before it, left out by -p $PORT)"
    cport=${BASH_REMATCH[1]}
    packet 1 "127\\.0\\.0\\.1 > 127\\.0\\.0\\.1 ICMP port unreachable for UDP 127\\.0\\.0\\.1:$cport > 127\\.0\\.0\\.1:$PORT\$" "the ICMP error, quoting the datagram's ports"
    not has_line "$T/sniff.out" ':9( |$)' || fail "sniff -p $PORT printed packets of port 9: $(grep -E ':9( |$)' "$T/sniff.out")"
    is "packets printed: the datagram and its error, over IPv4$( ((v6)) && echo " and IPv6")" "${#PACKETS[@]}" $((2 + 2 * v6))
    ((v6)) || return 0
    packet 2 "\\[::1\\]:([0-9]+) > \\[::1\\]:$PORT UDP len=6\$" "the datagram to [::1]:PORT"
    cport6=${BASH_REMATCH[1]}
    packet 3 "::1 > ::1 ICMP port unreachable for UDP \\[::1\\]:$cport6 > \\[::1\\]:$PORT\$" "the ICMPv6 error (type 1, code 4), quoting the IPv6 datagram's ports"
    is "lab 06's client's exit status over IPv6" "$status" 1
    [[ $stderr == *"Connection refused"* ]] || fail "lab 06's client -c ::1 should report ECONNREFUSED (Connection refused): $stderr"
}

@test "synsend against a listener: SYN, SYN,ACK, then our kernel's RST (no socket asked for it); the listener keeps no connection" {
    own_netns
    peer_server 05
    start_sniff sniff -p "$PORT" -n 3
    run_split "${NSX[@]}" "$LAB/synsend" 127.0.0.1 "$PORT"
    note "synsend: exit $status, $output"
    is "synsend's exit status" "$status" 0
    end_sniff sniff
    packet 0 "127\\.0\\.0\\.1:([0-9]+) > 127\\.0\\.0\\.1:$PORT TCP \\[SYN\\] seq=0 ack=0 win=64240 len=0 <mss 1460>\$" "synsend's SYN"
    sp=${BASH_REMATCH[1]}
    packet 1 "127\\.0\\.0\\.1:$PORT > 127\\.0\\.0\\.1:$sp TCP \\[SYN,ACK\\] seq=0 ack=1 " "the listener's SYN,ACK"
    packet 2 "127\\.0\\.0\\.1:$sp > 127\\.0\\.0\\.1:$PORT TCP \\[RST\\] seq=1 " "our kernel's RST"
    states "after the RST"
    state_of "127.0.0.1:$PORT"
    is "the listener's one row after the RST" "$STATE $(grep -c . <<<"$SS")" "LISTEN 1"
}

@test "synsend against a closed port: SYN, then RST,ACK, which synsend prints" {
    own_netns
    closed_port "$L05/server"
    start_sniff sniff -p "$PORT" -n 2
    run_split "${NSX[@]}" "$LAB/synsend" 127.0.0.1 "$PORT"
    note "synsend: exit $status, $output"
    end_sniff sniff
    packet 0 "127\\.0\\.0\\.1:[0-9]+ > 127\\.0\\.0\\.1:$PORT TCP \\[SYN\\] " "synsend's SYN"
    packet 1 "127\\.0\\.0\\.1:$PORT > 127\\.0\\.0\\.1:[0-9]+ TCP \\[RST,ACK\\] seq=0 ack=1 win=0 " "the closed port's answer"
    is "synsend's exit status" "$status" 0
    [[ $output =~ ^127\.0\.0\.1:$PORT\ \>\ 127\.0\.0\.1:[0-9]+\ TCP\ \[RST,ACK\]\ .*\(ours\ \+\ 1\)$ ]] ||
        fail "synsend should print the RST,ACK; it printed: $output"
}

@test "close() with data unread sends RST, not FIN (RFC 2525 2.17): lab 07's client (-c) closes with the reply unread; RST,ACK, and the server's read() gets ECONNRESET" {
    # lab 07's server -a replies at once and sends its FIN, then reads on.
    # The client, -c (close() with no shutdown() and no read()), is held
    # before its close(): the reply and the FIN arrive, its kernel
    # acknowledges them (the test waits for that ACK), and they sit unread.
    own_netns
    peer_server 07 -a
    start_sniff sniff -p "$PORT"
    printf 'hello\n' >"$T/client.in"
    held_client -c
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=7 ack=8 " ||
        fail "the client's kernel did not acknowledge the reply and the FIN (ack=8); sniff printed: $(cat "$T/sniff.out")"
    sniffed 0
    sniff_lines
    skip_lines=$SEEN
    states "the client held before close(), the reply and the FIN unread"
    state_of "127.0.0.1:$CP"
    is "the client's state, the server's FIN received" "$STATE" CLOSE-WAIT
    state_of "127.0.0.1:$PORT" "127.0.0.1:$CP"
    is "the server's state, its FIN acknowledged" "$STATE" FIN-WAIT-2
    go_on client 'close\('
    note "lab 07's client: $LINE"
    [[ $LINE == *"with 6 bytes unread" ]] || fail "the client's close() should count the 6 bytes of reply it never read: $LINE"
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[RST,ACK\\] seq=7 ack=8 win=[0-9]+ len=0\$" ||
        fail "no RST,ACK from the client after its close(); sniff printed: $(tail -n +$((skip_lines + 2)) "$T/sniff.out")"
    sniffed "$skip_lines"
    not has_line "$T/sniff.out" "$c > $s TCP \\[FIN" ||
        fail "a close() with data unread sends no FIN; sniff printed: $(grep FIN "$T/sniff.out")"
    wait_until said_or_gone "$SERVER_PID" "$T/server.err" 'read\(\) = (-1|0)'
    last_match "$T/server.err" 'read\(\) = (-1|0).*' || LINE="(no read() narrated: $(tail -n 2 "$T/server.err"))"
    note "lab 07's server: $LINE"
    [[ $LINE == *"read() = -1: Connection reset by peer"* ]] ||
        fail "the server's read() after the client's RST should fail with ECONNRESET (a FIN would make it return 0): $LINE"
    states "after the RST"
    state_of "127.0.0.1:$CP"
    is "the client's end after the RST (gone, no TIME-WAIT)" "${STATE:-gone}" gone
    exec 5>&-
}

# Crossing FINs: each is sent before its sender has received the other, so
# its ack field does not cover the other FIN (ack=7, not 8), and each
# arrives while its receiver is in FIN-WAIT-1: both go to CLOSING, then to
# TIME-WAIT when the ACK of their own FIN comes (RFC 793 figure 14, RFC
# 9293 3.6). Loopback delivers a segment as it is sent, so lo's queue (tc,
# lab 07's gate) holds the two FINs, lets them through together, and holds
# the ACKs. sniff sees a packet only when it leaves that queue: the kernel
# hands a copy to packet sockets as it gives the packet to the device
# (dev_queue_xmit_nit(), after the qdisc), and loopback's receive side
# gives the copy sniff prints. So while the gate is shut sniff prints
# nothing, though both programs have sent their FIN (their narration says
# FIN_WAIT1, tc counts the packets): what sniff shows is what the wire
# carried, in the order it carried it.
@test "the simultaneous close: two FINs cross (neither acknowledges the other: ack=7 both), both ends in CLOSING, then both in TIME-WAIT; tc's queue on lo holds them" {
    own_netns
    need_lo_gate
    printf 'hello\n' >"$T/client.in"
    held_server -a
    start_sniff sniff -p "$PORT"
    held_client
    go_on server 'read\(\) = [0-9]+ bytes'
    go_on server 'write\(\) = [0-9]+ bytes'
    # The reply acknowledged: nothing left in flight when the gate shuts.
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $c > $s TCP \\[ACK\\] seq=7 ack=7 " ||
        fail "the client's kernel did not acknowledge the reply; sniff printed: $(cat "$T/sniff.out")"
    sniffed 0
    sniff_lines
    skip_lines=$SEEN
    gate_shut || fail "tc could not shut lo's queue"
    go_on client 'shutdown\(SHUT_WR\) ='
    note "lab 07's client: $LINE"
    go_on server 'shutdown\(SHUT_WR\) ='
    note "lab 07's server: $LINE"
    wait_until gate_holds 2 || fail "lo's queue does not hold the two FINs: backlog ${QUEUED:-none}"
    sniff_lines
    note "tc -s qdisc show dev lo: backlog $QUEUED; sniff has printed $((SEEN - skip_lines)) more lines: the FINs wait before the device"
    is "sniff's lines while both FINs wait in lo's queue" "$((SEEN - skip_lines))" 0
    states "both FINs sent, still in lo's queue"
    both_in FIN-WAIT-1 || fail "both ends should be in FIN-WAIT-1, their FIN sent and not acknowledged: client $CS, server $SV"
    gate_pass "${QUEUED%%b *}"
    wait_until both_in CLOSING || fail "both ends should go to CLOSING once the FINs have crossed: client $CS, server $SV"
    wait_until matches_at_least 'TCP \[FIN,ACK\]' "$T/sniff.out" 2 ||
        fail "sniff did not see the two FINs go by; it printed: $(cat "$T/sniff.out")"
    sniffed "$skip_lines"
    mapfile -t -s $((skip_lines + 1)) PACKETS <"$T/sniff.out"
    find_packet "$c > $s TCP \\[FIN,ACK\\] seq=7 ack=7 " || fail "the client's FIN should not acknowledge the server's (ack=7, not 8)"
    find_packet "$s > $c TCP \\[FIN,ACK\\] seq=7 ack=7 " || fail "the server's FIN should not acknowledge the client's (ack=7, not 8)"
    states "the two FINs crossed, their ACKs held in lo's queue"
    gate_holds 2 || fail "lo's queue should hold the ACKs of the two FINs: backlog ${QUEUED:-none}"
    note "tc -s qdisc show dev lo: backlog $QUEUED: the ACKs of the FINs wait, behind the datagram that made tbf look"
    sniff_lines
    skip_lines=$SEEN
    gate_open
    wait_until both_in TIME-WAIT || fail "both ends should go to TIME-WAIT once the ACKs of their FINs arrive: client $CS, server $SV"
    wait_until matches_at_least "TCP \\[ACK\\] seq=8 ack=8 " "$T/sniff.out" 2 ||
        fail "sniff did not see the two ACKs of the FINs (seq=8 ack=8); it printed: $(cat "$T/sniff.out")"
    sniffed "$skip_lines"
    stop_sniff
    states "the ACKs of the FINs delivered"
    exec 5>&-
}

# Nagle's algorithm (RFC 896; RFC 1122 4.2.3.4) holds a small segment while
# an earlier small one is unacknowledged; the receiver delays its ACK
# (RFC 1122 4.2.3.2; Linux: 40 ms at least, TCP_DELACK_MIN) hoping to send
# it with data. A client writing a request in two parts (the peer: 2
# bytes, then 100) waits for that ACK each time. The peer's server asks
# for delayed ACKs (TCP_QUICKACK 0), since Linux's own guess, which
# requests to delay, changes with its version; the median is of requests
# 3 to K, after two to warm up: of 3 with Nagle (5 requests, 0.2 s), of 7
# with TCP_NODELAY (9 requests, a millisecond: a median of more requests
# is less at the mercy of a busy machine's scheduler).
@test "Nagle's algorithm and the delayed ACK: a request written in two parts waits ~40 ms for a late ACK (median > 30 ms); with TCP_NODELAY it does not (< 5 ms)" {
    own_netns
    build_rr
    spawn rr "${NSX[@]}" "$RR" rr-server
    wait_until ready_or_dead "$PID" rr
    read -r READY <"$T/rr.out" || fail "the test's server did not start: $(cat "$T/rr.err")"
    PORT=${READY##*:}
    start_sniff sniff -p "$PORT"
    run_split "${NSX[@]}" "$RR" rr-client "$PORT" 5
    is "the Nagle client's exit status ($stderr)" "$status" 0
    note "Nagle on: $(paste -sd ';' "$T/run.out")"
    [[ ${lines[0]} =~ from\ 127\.0\.0\.1:([0-9]+)$ ]] || fail "the client did not say its port: ${lines[0]}"
    c1="127\\.0\\.0\\.1:${BASH_REMATCH[1]}"
    [[ ${lines[-1]} =~ ^median\ of\ requests\ 3-5:\ ([0-9]+)\ us$ ]] || fail "no median from the client: ${lines[-1]}"
    nagle=${BASH_REMATCH[1]}
    run_split "${NSX[@]}" "$RR" rr-client -N "$PORT" 9
    is "the TCP_NODELAY client's exit status ($stderr)" "$status" 0
    note "TCP_NODELAY: $(paste -sd ';' "$T/run.out")"
    [[ ${lines[0]} =~ from\ 127\.0\.0\.1:([0-9]+), ]] || fail "the client did not say its port: ${lines[0]}"
    c2="127\\.0\\.0\\.1:${BASH_REMATCH[1]}"
    [[ ${lines[-1]} =~ ^median\ of\ requests\ 3-9:\ ([0-9]+)\ us$ ]] || fail "no median from the client: ${lines[-1]}"
    nodelay=${BASH_REMATCH[1]}
    s="127\\.0\\.0\\.1:$PORT"
    wait_until has_line "$T/sniff.out" "^[0-9.]+ $s > $c2 TCP \\[FIN,ACK\\] " ||
        fail "sniff did not see the second connection's end; it printed: $(tail -n 5 "$T/sniff.out")"
    stop_sniff
    mapfile -t -s 1 PACKETS <"$T/sniff.out"
    # Request 3 (bytes 205 to 306) of each connection, to its reply.
    find_packet "$c1 > $s TCP \\[PSH,ACK\\] seq=205 ack=205 win=[0-9]+ len=2\$"
    note "Nagle on, request 3:"
    note_lines "  sniff: " < <(printf '%s\n' "${PACKETS[@]:I:4}")
    sniff_at "$I"
    sent=$US
    packet $((I + 1)) "$s > $c1 TCP \\[ACK\\] seq=205 ack=207 win=[0-9]+ len=0\$" "the server's lone ACK of the 2 bytes, the next segment"
    sniff_at $((I + 1))
    late=$((US - sent))
    packet $((I + 2)) "$c1 > $s TCP \\[PSH,ACK\\] seq=207 ack=205 win=[0-9]+ len=100\$" "the 100 bytes, sent only once the 2 are acknowledged"
    note "the ACK of the 2 bytes came $late us after them"
    ((late > 30000)) || fail "the server's ACK of the 2 bytes should be late (a delayed ACK, 40 ms): it came after $late us"
    find_packet "$c2 > $s TCP \\[PSH,ACK\\] seq=205 ack=205 win=[0-9]+ len=2\$"
    note "TCP_NODELAY, request 3:"
    note_lines "  sniff: " < <(printf '%s\n' "${PACKETS[@]:I:4}")
    packet $((I + 1)) "$c2 > $s TCP \\[PSH,ACK\\] seq=207 ack=205 win=[0-9]+ len=100\$" "with TCP_NODELAY, the 100 bytes right after the 2, no ACK waited for"
    states "after the two clients"
    note "median round trip: $nagle us with Nagle (requests 3-5), $nodelay us with TCP_NODELAY (requests 3-9)"
    ((nagle > 30000)) || fail "with Nagle, a request written in two parts should wait for the delayed ACK: median $nagle us, not over 30000"
    ((nodelay < 5000)) || fail "with TCP_NODELAY, no request should wait: median $nodelay us, not under 5000"
}

@test "a sequence diagram from a real capture: lab 07's handshake and 4-way teardown, drawn by tests/seqdiag.sh in Mermaid and in ASCII, states beside" {
    # A client with no data and a server held (-s CTL) until its kernel
    # has acknowledged the client's FIN alone: the same 7 segments every
    # run, numbered from each SYN.
    own_netns
    held_server
    start_sniff sniff -p "$PORT" -n 7
    spawn client "${NSX[@]}" "$L07/client" 127.0.0.1 "$PORT"   # standard input: /dev/null
    CLIENT_PID=$PID
    wait_until has_line "$T/sniff.out" ":$PORT > [0-9.:]+ TCP \\[ACK\\] seq=1 ack=2 " ||
        fail "no ACK of the client's FIN alone from the held server; sniff printed: $(cat "$T/sniff.out")"
    printf '\n\n\n\n' >&6   # the server goes on: read() = 0, write(), shutdown(), close()
    end_sniff sniff
    wait_exit "$CLIENT_PID"
    is "lab 07's client's exit status" "$STATUS" 0

    # Mermaid: the whole diagram, line by line.
    run_split "$ROOT/tests/seqdiag.sh" -m <"$T/sniff.out"
    note_lines "  -m: " <<<"$output"
    is "tests/seqdiag.sh -m's exit status" "$status" 0
    want=("sequenceDiagram" "    participant client" "    participant server"
        "    client->>server: SYN seq=0"
        "    server->>client: SYN,ACK seq=0 ack=1"
        "    client->>server: ACK seq=1 ack=1"
        "    client->>server: FIN,ACK seq=1 ack=1"
        "    server->>client: ACK seq=1 ack=2"
        "    server->>client: FIN,ACK seq=1 ack=2"
        "    client->>server: ACK seq=2 ack=2")
    for i in "${!want[@]}"; do
        is "line $((i + 1)) of the Mermaid diagram" "${lines[i]:-(none)}" "${want[i]}"
    done
    is "the Mermaid diagram's number of lines" "${#lines[@]}" "${#want[@]}"

    # ASCII with -s: the header, a lifeline, the 7 arrows (direction,
    # label) with the state each end enters, a lifeline.
    run_split "$ROOT/tests/seqdiag.sh" -a -s <"$T/sniff.out"
    note_lines "  -a -s: " <<<"$output"
    is "tests/seqdiag.sh -a -s's exit status" "$status" 0
    [[ ${lines[0]:-} =~ ^\ +client\ +server$ ]] || fail "the ASCII diagram should begin with the two roles; it begins: ${lines[0]:-(nothing)}"
    want=("SYN-SENT:--- SYN seq=0 -+>:"
        "ESTAB:<-- SYN,ACK seq=0 ack=1 -+:SYN-RECV"
        ":--- ACK seq=1 ack=1 -+>:ESTAB"
        "FIN-WAIT-1:--- FIN,ACK seq=1 ack=1 -+>:CLOSE-WAIT"
        "FIN-WAIT-2:<-- ACK seq=1 ack=2 -+:"
        "TIME-WAIT:<-- FIN,ACK seq=1 ack=2 -+:LAST-ACK"
        ":--- ACK seq=2 ack=2 -+>:CLOSED")
    for i in "${!want[@]}"; do
        IFS=: read -r left arrow right <<<"${want[i]}"
        [[ ${lines[i + 2]:-} =~ ^\ +${left}\ +\|${arrow}\|(\ +${right})?$ && ${BASH_REMATCH[1]} == "${right:+  $right}" ]] ||
            fail "ASCII line $((i + 3)) should be the arrow /$arrow/ with states '${left:-(none)}' and '${right:-(none)}'; it is: ${lines[i + 2]:-(none)}"
    done
    is "the ASCII diagram's number of lines" "${#lines[@]}" 10
}

@test "without CAP_NET_RAW (user nobody, or a normal user outside a namespace): sniff and synsend exit 1 with one line naming the way out" {
    AS=()
    if [ "$EUID" -eq 0 ]; then
        command -v setpriv >/dev/null || skip "needs setpriv (util-linux), to run the programs as user nobody"
        own_tmp_dir
        chmod 755 "$T"
        cp "$LAB/sniff" "$LAB/synsend" "$T/"
        AS=(setpriv --reuid=65534 --regid=65534 --clear-groups) DIR=$T who=nobody
    else
        DIR=$LAB who="uid $EUID"
    fi
    for prog in sniff synsend; do
        case $prog in sniff) args=() call='socket(AF_PACKET)' ;; *) args=(127.0.0.1 9) call='socket(AF_INET, SOCK_RAW)' ;; esac
        run_split "${AS[@]}" "$DIR/$prog" "${args[@]}"
        note "$prog as $who: exit $status, $stderr"
        is "$prog's exit status as $who" "$status" 1
        one_error
        is "$prog's error line as $who" "$ERROR" "$prog: $call: Operation not permitted (run as root, or inside unshare -r -n)"
    done
}

@test "bad input: a bad port, count, host or interface is refused with one line" {
    for args in "sniff -p 0" "sniff -n 0" "synsend not-an-address 80" "synsend 127.0.0.1 0" "synsend 127.0.0.1" "synsend -p 70000 127.0.0.1 80"; do
        read -ra a <<<"$args"
        run_split "$LAB/${a[0]}" "${a[@]:1}"
        note "$args: exit $status, ${stderr_lines[0]:-}"
        is "exit status of $args (a usage error)" "$status" 2
        [[ ${stderr_lines[1]:-} == "usage: ${a[0]}"* ]] || fail "$args: the usage should follow the error line; stderr: $stderr"
    done
    run_split "$LAB/sniff" -i nosuch0
    note "sniff -i nosuch0: exit $status, $stderr"
    is "sniff -i nosuch0's exit status" "$status" 1
    one_error
}

@test "[extra 1] sniff -w FILE: the packets printed, and only those, written in the pcap format: nanosecond magic, version 2.4, LINKTYPE_RAW, one record per line; an existing FILE is refused" {
    own_netns
    closed_port "$L06/server"
    umask 002   # the file's mode: 0644 asked for, through this umask
    start_sniff sniff -p "$PORT" -n 2 -w "$T/cap.pcap"
    run_split "${NSX[@]}" "$L06/client" -c 127.0.0.1 "$PORT" <<<"hello"
    end_sniff sniff
    packet 0 "127\\.0\\.0\\.1:[0-9]+ > 127\\.0\\.0\\.1:$PORT UDP len=5\$" "the datagram"
    packet 1 "127\\.0\\.0\\.1 > 127\\.0\\.0\\.1 ICMP port unreachable for UDP " "the ICMP error"
    last_match "$T/sniff.err" '^\[sniff\] [0-9]+ packets printed' && note "sniff: $LINE"
    [ -f "$T/cap.pcap" ] || fail "sniff -w $T/cap.pcap made no file"
    pcap_read "$T/cap.pcap"
    mode=$(stat -c %a "$T/cap.pcap")
    note "cap.pcap: ${#B[@]} bytes, mode $mode; header: magic 0x$MAGIC (this machine's byte order), version $VERSION, snaplen $SNAPLEN, link type $LINKTYPE; ${#REC[@]} records"
    is "the magic number, read in this machine's byte order (nanosecond times)" "$MAGIC" a1b23c4d
    is "the format's version" "$VERSION" 2.4
    is "the snapshot length" "$SNAPLEN" 65535
    is "the link type (LINKTYPE_RAW: packets begin at their IP header)" "$LINKTYPE" 101
    is "the file's mode, 0644 through umask 002" "$mode" 644
    is "records in the file: one per printed line (no outgoing copy, nothing -p left out)" "${#REC[@]}" "${#PACKETS[@]}"
    is "the file's length: the header and whole records, nothing cut short" "${#B[@]}" "$PCAP_END"
    local i at sec nsec cap orig ip what protos=(17 1) names=(UDP ICMP) first
    # Each record: its header (seconds, nanoseconds, bytes kept, length),
    # then the packet from its IP header: version, total length, protocol.
    for i in 0 1; do
        at=${REC[i]} ip=$((REC[i] + 16))
        pcap_u32 "$at" && sec=$V
        pcap_u32 $((at + 4)) && nsec=$V
        pcap_u32 $((at + 8)) && cap=$V
        pcap_u32 $((at + 12)) && orig=$V
        what="record $((i + 1)) (${names[i]})"
        note "$what: time $sec.$(printf %09d "$nsec"), $cap bytes kept of $orig; IP: version $((B[ip] >> 4)), total length $((B[ip + 2] << 8 | B[ip + 3])), protocol ${B[ip + 9]}"
        ((nsec < 1000000000)) || fail "$what: nanoseconds $nsec, not below 10^9"
        is "$what: bytes kept, the packet's length" "$cap" "$orig"
        is "$what: the IP header's version (the record begins at the IP header)" $((B[ip] >> 4)) 4
        is "$what: its length, the IP header's total length" "$cap" $((B[ip + 2] << 8 | B[ip + 3]))
        is "$what: the IP header's protocol" "${B[ip + 9]}" "${protos[i]}"
        if ((i == 0)); then first=$((sec * 1000000000 + nsec)); continue; fi
        # sniff prints each time from the first one's, in microseconds.
        at=$((sec * 1000000000 + nsec - first))
        is "$what: its time after the first record's, as sniff printed it" \
            "$((at / 1000000000)).$(printf %06d $((at % 1000000000 / 1000)))" "${PACKETS[1]%% *}"
    done

    # tcpdump is no prerequisite: when it is there, it must read the file.
    if command -v tcpdump >/dev/null; then
        run_split tcpdump -n -r "$T/cap.pcap"
        note_lines "  tcpdump -r: " < <(printf '%s\n' "${stderr_lines[@]}" "${lines[@]}")
        is "tcpdump -n -r's exit status" "$status" 0
        is "tcpdump -n -r's lines: one per packet" "${#lines[@]}" "${#PACKETS[@]}"
    fi

    # -w on a file that exists: refused, the file left as it was.
    printf 'precious\n' >"$T/old.pcap"
    spawn refused "${NSX[@]}" "$LAB/sniff" -n 1 -w "$T/old.pcap"
    wait_exit "$PID" || fail "sniff -w on an existing file did not exit; it printed: $(cat "$T/refused.out" "$T/refused.err")"
    read -d '' -r stderr <"$T/refused.err" || true
    note "sniff -w on an existing file: exit $STATUS, $(grep -v '^\[' "$T/refused.err")"
    is "sniff -w on an existing file: exit status" "$STATUS" 1
    one_error || fail "sniff -w on an existing file should say one line; it said: $stderr"
    [[ $ERROR == "sniff: "*"$T/old.pcap"*"File exists" ]] || fail "the error should name the file and EEXIST (File exists): $ERROR"
    is "the existing file, after sniff -w" "$(<"$T/old.pcap")" precious
}

@test "[extra 2] synsend ::1 PORT: lab 05's server on ::1 answers SYN,ACK; sniff sees the SYN over IPv6 with <mss 1460>; closed, the port answers RST,ACK" {
    own_netns
    spawn server "${NSX[@]}" "$L05/server" -b ::1 0
    SERVER_PID=$PID
    wait_until ready_or_dead "$SERVER_PID"
    if ! read -r READY <"$T/server.out"; then
        # No ::1 in a new namespace: IPv6 is off in this kernel.
        ! has_line "$T/server.err" 'Cannot assign requested address|Address family not supported' ||
            skip "no IPv6 here (lab 05's server -b ::1: $(tail -n 1 "$T/server.err"))"
        fail "lab 05's server did not start on ::1: $(cat "$T/server.err")"
    fi
    note "lab 05's server: $READY"
    PORT=${READY##*:}
    start_sniff sniff -p "$PORT" -n 3
    run_split "${NSX[@]}" "$LAB/synsend" ::1 "$PORT"
    error_said
    note "synsend ::1 $PORT: exit $status, ${output:-$SAID}"
    note_lines "  synsend: " < <(printf '%s\n' "${stderr_lines[@]}" | grep '^\[')
    is "synsend ::1's exit status (${SAID:-no error})" "$status" 0
    [[ $output =~ ^\[::1\]:$PORT\ \>\ \[::1\]:([0-9]+)\ TCP\ \[SYN,ACK\]\ seq=[0-9]+\ ack=[0-9]+\ \(ours\ \+\ 1\)$ ]] ||
        fail "synsend should print the listener's SYN,ACK, addresses as [::1]:PORT, acknowledging our SYN (ours + 1); it printed: $output"
    sp=${BASH_REMATCH[1]}
    end_sniff sniff
    packet 0 "\\[::1\\]:$sp > \\[::1\\]:$PORT TCP \\[SYN\\] seq=0 ack=0 win=64240 len=0 <mss 1460>\$" "synsend's SYN over IPv6"
    packet 1 "\\[::1\\]:$PORT > \\[::1\\]:$sp TCP \\[SYN,ACK\\] seq=0 ack=1 " "the listener's SYN,ACK (the checksum was right)"
    packet 2 "\\[::1\\]:$sp > \\[::1\\]:$PORT TCP \\[RST\\] seq=1 " "our kernel's RST"

    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    run_split "${NSX[@]}" "$LAB/synsend" ::1 "$PORT"
    error_said
    note "synsend ::1 $PORT, the server gone: exit $status, ${output:-$SAID}"
    is "synsend ::1's exit status against a closed port (${SAID:-no error})" "$status" 0
    [[ $output =~ ^\[::1\]:$PORT\ \>\ \[::1\]:[0-9]+\ TCP\ \[RST,ACK\]\ seq=0\ ack=[0-9]+\ \(ours\ \+\ 1\)$ ]] ||
        fail "synsend should print the closed port's RST,ACK; it printed: $output"
}
