#!/usr/bin/env bats
# Bad input, program by program: every program of every lab (its
# Makefile's all: line: server and client, lab 09's sniff and synsend) is
# tried with what a hurried user types. Each case must end with the exit
# status of the contract (2: usage error, usage on stderr; 1: runtime
# failure), one error line `prog: what failed: reason`, no crash signal,
# and no file removed or changed that the program did not create. Lab 09's
# programs need CAP_NET_RAW to run, but refuse bad input before asking for
# it: their cases run without it (as root, as user nobody). Lab 10's
# hosts script is misused too, in a mount namespace of the test's own with
# a tmpfs on /run (lib.bash's hosts_world), where its names a and b live.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-30}

UNIX_LABS=(01-unix-stream 03-unix-dgram 04-seqpacket)
INET_LABS=(05-tcp 06-udp 07-tcp-close)

setup() {
    load lib
    lab_setup 01-unix-stream   # for T and the harness; each case names its lab
}

teardown() {
    lab_teardown
}

# expect STATUS REGEX LAB PROG ARGS...: run $TREE/LAB/PROG ARGS (stdin
# empty, or the line $INPUT when set) and check the outcome. STATUS 2: the first line on stderr matches
# REGEX, the usage follows, nothing on stdout. STATUS 1: stderr holds one
# line besides the narration, and it matches REGEX. Prints the case.
# With BIN set, BIN/LAB/PROG runs instead, and with AS set (an array), as
# AS says (lab 09's: setpriv, as user nobody).
expect() {
    local want=$1 regex=$2 lab=$3 prog=$4
    shift 4
    if [ -n "${INPUT:-}" ]; then
        run_split "${AS[@]}" "${BIN:-$ROOT/$TREE}/$lab/$prog" "$@" <<<"$INPUT"
    else
        run_split "${AS[@]}" "${BIN:-$ROOT/$TREE}/$lab/$prog" "$@" </dev/null
    fi
    ERROR=${stderr_lines[0]:-}
    [ "$want" -eq 2 ] || one_error 2>/dev/null || true
    note "$lab $prog $*: exit $status: $ERROR"
    [ "$status" -lt 128 ] || { echo "killed by signal $((status - 128))" >&2; return 1; }
    [ "$status" -eq "$want" ] || { echo "exit $status, not $want: $stderr" >&2; return 1; }
    if [ "$want" -eq 2 ]; then
        [[ ${stderr_lines[0]} =~ ^$prog:\ $regex ]] || { echo "first line: ${stderr_lines[0]}" >&2; return 1; }
        [[ ${stderr_lines[1]} == "usage: $prog"* ]] || { echo "no usage after it: $stderr" >&2; return 1; }
        [ -z "$output" ] || fail "$lab $prog $*: stdout should be empty on a usage error, saw: $output"
    else
        one_error
        [[ $ERROR =~ ^$prog:\ $regex ]] || { echo "error line: $ERROR" >&2; return 1; }
    fi
}

# fingerprint PATH: type, size, mode and content of what is at PATH (no
# following of symlinks), to show that a program left it alone.
fingerprint() {
    stat -c '%F %s %a %N' "$1"
    if [ -f "$1" ] && [ ! -L "$1" ]; then cksum <"$1"; fi
    true
}

@test "--help prints the usage on stdout and exits 0; extra arguments and unknown options exit 2, with the usage" {
    local lab prog dir
    # Every program of every lab: its Makefile's all: line (lab_programs).
    # An unknown option: lab 02's client takes a descriptor number.
    for dir in "$ROOT/$TREE"/[0-9][0-9]-*/; do
        dir=${dir%/}
        lab=${dir##*/}
        lab_programs "$dir"
        for prog in "${PROGRAMS[@]}"; do
            run_split "$ROOT/$TREE/$lab/$prog" --help
            [ "$status" -eq 0 ] || fail "$lab $prog --help: exit $status, not 0; stdout: $output; stderr: $stderr"
            [[ ${lines[0]} == "usage: $prog"* ]] || fail "$lab $prog --help: first line of stdout should start with 'usage: $prog', saw '${lines[0]:-}'"
            [ -z "$stderr" ] || fail "$lab $prog --help: stderr should be empty, saw: $stderr"
            expect 2 "unknown option '-Z'|FD '-Z' is not a descriptor number" "$lab" "$prog" -Z
        done
    done
    for lab in "${UNIX_LABS[@]}"; do
        expect 2 "too many arguments|unexpected argument" "$lab" server "$T/a" "$T/b"
        expect 2 "too many arguments|unexpected argument" "$lab" client "$T/a" "$T/b"
    done
    expect 2 "unexpected argument" 02-socketpair server "$T/a"
    expect 2 "missing FD" 02-socketpair client
    expect 2 "too many arguments" 02-socketpair client 3 4
    for lab in "${INET_LABS[@]}"; do
        expect 2 "too many arguments" "$lab" server 0 1
        expect 2 "HOST and PORT are needed" "$lab" client
        expect 2 "HOST and PORT are needed" "$lab" client 127.0.0.1
        expect 2 "too many arguments" "$lab" client 127.0.0.1 1 2
    done
}

@test "bad port strings are usage errors for every internet program: abc, -1, 70000, '', 1x, ' 1'" {
    local lab port
    for lab in "${INET_LABS[@]}"; do
        for port in abc -1 70000 "" 1x " 1"; do
            expect 2 "bad PORT '$port'" "$lab" server -- "$port"
            expect 2 "bad PORT '$port'" "$lab" client -- 127.0.0.1 "$port"
        done
        expect 2 "bad PORT '0'" "$lab" client 127.0.0.1 0   # a client cannot connect to port 0
    done
}

@test "a path longer than sun_path holds is a usage error, and nothing is created" {
    local lab long
    mkdir "$T/d"
    printf -v long '%110s' ''
    long=$T/d/${long// /x}
    for lab in "${UNIX_LABS[@]}"; do
        expect 2 "socket path is [0-9]+ bytes; sun_path holds at most 107" "$lab" server "$long"
        expect 2 "socket path is [0-9]+ bytes; sun_path holds at most 107" "$lab" client "$long"
    done
    [ -z "$(ls -A "$T/d")" ] || fail "a program created files in $T/d: $(ls -A "$T/d")"
}

@test "a path in a missing directory: bind() and connect() fail with ENOENT, exit 1" {
    local lab
    for lab in "${UNIX_LABS[@]}"; do
        # The server's first touch of the path is its lock file, PATH.lock.
        expect 1 "open $T/missing/s.lock: No such file or directory" "$lab" server "$T/missing/s"
        expect 1 "connect $T/missing/s: No such file or directory" "$lab" client "$T/missing/s"
    done
    [ ! -e "$T/missing" ] || fail "a program created $T/missing: $(ls -ld "$T/missing")"
}

@test "a path that is a regular file, a directory or a dangling symlink: the server refuses it and leaves it alone; the client cannot connect" {
    local lab what
    local -A before
    echo "precious data" >"$T/file"
    mkdir "$T/dir"
    touch "$T/dir/inside"
    ln -s "$T/nowhere" "$T/dangling"
    for what in file dir dangling; do
        before[$what]=$(fingerprint "$T/$what")
    done
    for lab in "${UNIX_LABS[@]}"; do
        for what in file dir dangling; do
            expect 1 "bind $T/$what: the file exists and is not a socket; left alone" "$lab" server "$T/$what"
            is "what $lab server left at $T/$what (stat, cksum)" "$(fingerprint "$T/$what")" "${before[$what]}"
        done
        expect 1 "connect $T/file: Connection refused" "$lab" client "$T/file"
        expect 1 "connect $T/dir: Connection refused" "$lab" client "$T/dir"
        expect 1 "connect $T/dangling: No such file or directory" "$lab" client "$T/dangling"
    done
    [ -e "$T/dir/inside" ] || fail "$T/dir/inside was removed: $T/dir holds '$(ls -A "$T/dir")'"
    is "the content of $T/file" "$(<"$T/file")" "precious data"
    [ ! -e "$T/nowhere" ] || fail "a program created $T/nowhere, the dangling symlink's target: $(ls -ld "$T/nowhere")"
}

@test "no server: a client exits 1 with ENOENT (no file), ECONNREFUSED (a stale socket file, a closed port), or no reply in time (UDP)" {
    local lab P
    for lab in "${UNIX_LABS[@]}"; do
        expect 1 "connect $T/none: No such file or directory" "$lab" client "$T/none"
    done
    # A stale socket file: a server killed before it could remove it.
    LAB=$ROOT/$TREE/01-unix-stream
    start_server "$T/stale"
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    expect 1 "connect $T/stale: Connection refused" 01-unix-stream client "$T/stale"
    [ -S "$T/stale" ] || fail "the client removed the stale socket file $T/stale: ls shows $(ls -A "$T")"   # the client removes nothing
    # A closed port: one a server had a moment ago.
    LAB=$ROOT/$TREE/05-tcp
    rm "$T/server.out"
    start_server 0
    P=${READY##*:}
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    expect 1 "connect 127.0.0.1:$P: Connection refused" 05-tcp client 127.0.0.1 "$P"
    expect 1 "connect 127.0.0.1:$P: Connection refused" 07-tcp-close client 127.0.0.1 "$P"
    INPUT="anyone?" expect 1 "recvfrom 127.0.0.1:$P: Connection refused" 06-udp client -c 127.0.0.1 "$P"
    INPUT="anyone?" expect 1 "1 of 1 replies missing after 300 ms" 06-udp client -t 300 127.0.0.1 "$P"
}

@test "an address in use: a second server exits 1 (EADDRINUSE) and the first keeps serving" {
    local lab P
    for lab in "${UNIX_LABS[@]}"; do
        LAB=$ROOT/$TREE/$lab
        rm -f "$T/server.out"
        start_server "$T/$lab.sock"
        expect 1 "bind $T/$lab.sock: Address already in use" "$lab" server "$T/$lab.sock"
        [ -S "$T/$lab.sock" ] || fail "$lab: the first server's socket file $T/$lab.sock is gone after the second server failed: ls shows $(ls -A "$T")"
        alive "$SERVER_PID"
    done
    for lab in "${INET_LABS[@]}"; do
        LAB=$ROOT/$TREE/$lab
        rm -f "$T/server.out"
        start_server 0
        P=${READY##*:}
        expect 1 "bind 127.0.0.1:$P: Address already in use" "$lab" server "$P"
        alive "$SERVER_PID"
    done
}

@test "a stale socket file is replaced by every unix server" {
    local lab
    for lab in "${UNIX_LABS[@]}"; do
        LAB=$ROOT/$TREE/$lab
        rm -f "$T/server.out"
        start_server "$T/$lab.sock"
        kill -KILL "$SERVER_PID"
        wait_exit "$SERVER_PID"
        [ -S "$T/$lab.sock" ] || fail "$lab: no stale socket file at $T/$lab.sock after kill -KILL: ls shows $(ls -A "$T")"
        rm "$T/server.out"
        start_server "$T/$lab.sock"
        mapfile -t said < <(grep -E 'stale|unlink' "$T/server.err")
        note "$lab: ${said[*]: -2}"
        has_line "$T/server.err" 'Connection refused: stale socket file'
        : >"$T/server.err"
    done
}

@test "lab 08: a missing DIR or NAME, a DIR that is no directory, bad -a, -c, -o and abstract names are refused before any socket exists" {
    local lab=08-fd-passing
    mkdir "$T/files"
    echo "precious data" >"$T/file"
    expect 2 "DIR is missing" "$lab" server
    expect 2 "NAME is missing" "$lab" client
    expect 2 "too many arguments" "$lab" server "$T/s" "$T/files" extra
    expect 2 "too many arguments" "$lab" client "$T/s" name extra
    for uids in "" x 1,,2 -1 4294967295 1,x "$(seq -s, 0 16)"; do
        expect 2 "bad -a '$uids'" "$lab" server -a "$uids" "$T/s" "$T/files"
    done
    expect 2 "-a needs a value" "$lab" server -a
    for bytes in -1 257 x ""; do
        expect 2 "bad -c '$bytes'" "$lab" client -c "$bytes" "$T/s" name
    done
    expect 2 "bad -o '-5'" "$lab" server -o -5 "$T/s" "$T/files"
    expect 2 "the socket path is empty" "$lab" server @ "$T/files"
    expect 2 "the socket path is empty" "$lab" client @ name
    expect 2 "-m: an abstract name has no file, and no mode" "$lab" server -m 0777 @name "$T/files"
    printf -v long '@%108s' ''
    expect 2 "socket path is 109 bytes; sun_path holds at most 107" "$lab" server "${long// /x}" "$T/files"
    expect 2 "socket path is 109 bytes; sun_path holds at most 107" "$lab" client "${long// /x}" name
    long=${long//@/\/}
    expect 2 "socket path is 109 bytes; sun_path holds at most 107" "$lab" server "${long// /x}" "$T/files"
    expect 1 "open $T/missing: No such file or directory" "$lab" server "$T/s" "$T/missing"
    expect 1 "open $T/file: Not a directory" "$lab" server "$T/s" "$T/file"
    is "the content of $T/file" "$(<"$T/file")" "precious data"
    [ -z "$(ls -A "$T" | grep -v -x -e file -e files -e pids -e 'run\.[a-z]*')" ] ||
        fail "a program created files in $T: $(ls -A "$T")"
}

@test "lab 08: a path or an abstract name in use, no server, a stale socket file: exit 1 with the reason; the first server keeps serving" {
    local lab=08-fd-passing name=lab08-bad-$$-$RANDOM
    LAB=$ROOT/$TREE/$lab
    mkdir "$T/files"
    echo "still here" >"$T/files/greeting"
    expect 1 "connect $T/none: No such file or directory" "$lab" client "$T/none" greeting
    expect 1 "connect @$name: Connection refused" "$lab" client "@$name" greeting
    start_server "$T/s" "$T/files"
    expect 1 "bind $T/s: Address already in use" "$lab" server "$T/s" "$T/files"
    alive "$SERVER_PID"
    run_split "$LAB/client" "$T/s" greeting
    is "the first server's reply, after the second failed" "$output" "still here"
    kill -KILL "$SERVER_PID"
    wait_exit "$SERVER_PID"
    expect 1 "connect $T/s: Connection refused" "$lab" client "$T/s" greeting
    rm "$T/server.out"
    start_server "$T/s" "$T/files"
    expect_line "$T/server.err" 'Connection refused: stale socket file' "the new server's probe of the stale file"
    rm "$T/server.out"
    : >"$T/server.err"
    start_server "@$name" "$T/files"
    expect 1 "bind @$name: Address already in use" "$lab" server "@$name" "$T/files"
    run_split "$LAB/client" "@$name" greeting
    is "the abstract server's reply, after the second failed" "$output" "still here"
}

@test "lab 09: bad ports, counts, hosts and arguments are usage errors, found before the raw socket (exit 2 without CAP_NET_RAW, not 1); a missing interface exits 1" {
    local lab=09-raw-packets port re count host who="uid $EUID"
    # Usage first, then the socket that needs CAP_NET_RAW: run without it
    # (as root: user nobody, from a copy nobody may run), a check made
    # after socket() would exit 1 (Operation not permitted), not 2.
    if [ "$EUID" -eq 0 ]; then
        command -v setpriv >/dev/null || skip "needs setpriv (util-linux), to run the programs as user nobody"
        own_tmp_dir
        chmod 755 "$T"
        mkdir "$T/$lab"
        cp "$ROOT/$TREE/$lab/sniff" "$ROOT/$TREE/$lab/synsend" "$T/$lab/"
        AS=(setpriv --reuid=65534 --regid=65534 --clear-groups) BIN=$T who=nobody
    fi
    # Without the capability indeed: a good command line reaches socket().
    expect 1 "socket\\(AF_INET, SOCK_RAW\\): Operation not permitted \\(run as root, or inside unshare -r -n\\)" "$lab" synsend 127.0.0.1 9
    note "(as $who, without CAP_NET_RAW)"
    for port in abc -1 0 70000 "" 1x 0x10 " 1" +1; do
        re=${port//+/[+]}   # a regular expression: + is literal here
        expect 2 "bad PORT '$re' \\(digits only, 1 to 65535\\)" "$lab" sniff -p "$port"
        expect 2 "bad PORT '$re' \\(digits only, 1 to 65535\\)" "$lab" synsend 127.0.0.1 "$port"
        expect 2 "bad SRCPORT '$re' \\(digits only, 1 to 65535\\)" "$lab" synsend -p "$port" 127.0.0.1 80
    done
    for count in 0 -1 x "" " 2" +2; do
        expect 2 "bad COUNT '${count//+/[+]}' \\(digits only, 1 to 999999999\\)" "$lab" sniff -n "$count"
    done
    for host in localhost 256.0.0.1 127.1 ""; do
        expect 2 "bad HOST '$host' " "$lab" synsend "$host" 80
    done
    expect 2 "HOST and PORT are needed" "$lab" synsend
    expect 2 "HOST and PORT are needed" "$lab" synsend 127.0.0.1
    expect 2 "HOST and PORT are needed" "$lab" synsend -p 4000 127.0.0.1
    expect 2 "too many arguments" "$lab" synsend 127.0.0.1 80 81
    expect 2 "unexpected argument 'x'" "$lab" sniff x
    expect 2 "-i needs a value" "$lab" sniff -i
    expect 2 "-p needs a value" "$lab" synsend -p
    expect 1 "if_nametoindex nosuch0: No such device" "$lab" sniff -i nosuch0
}

# quoted TEXT: RE, TEXT as an extended regular expression that matches it
# literally (lab 10's addresses hold [ ] + . :), with no fork.
quoted() {
    local i c special='][\.*^$+?(){}|'
    RE=
    for ((i = 0; i < ${#1}; i++)); do
        c=${1:i:1}
        if [[ $special == *"$c"* ]]; then RE+="\\$c"; else RE+=$c; fi
    done
}

@test "lab 10: a malformed ADDRESS or -b SRCADDR for the client, a bad -b, -u, -t or PORT for the server: usage errors, before any socket; what is well formed but absent exits 1" {
    local lab=10-two-hosts a long
    cd "$T"   # (unix:relative names a file here)
    printf -v long '%107s' ''
    long=${long// /x}
    # The client: unix:/path, @name, HOST:PORT or [v6]:PORT, numeric, port
    # 1-65535; a path or name longer than sun_path holds (107 bytes) too.
    for a in unix: @ 127.0.0.1: host: :80 1.2.3.4:0 1.2.3.4:+1 1.2.3.4:65536 \
        '[::1]80' '[::1' ::1:80 '[127.0.0.1]:80' localhost:80 10.0.0.1; do
        quoted "$a"
        expect 2 "bad ADDRESS '$RE' \\(unix:/path, @name, HOST:PORT or \\[v6\\]:PORT\\)" "$lab" client "$a"
    done
    # (a path or name too long may also say so, as lab 01's programs do)
    for a in "@x$long" "unix:/$long"; do
        expect 2 "bad ADDRESS '$a' |(socket path|the name) is 108 bytes; sun_path holds at most 107" "$lab" client "$a"
    done
    expect 2 "ADDRESS is needed" "$lab" client
    expect 2 "too many arguments" "$lab" client 127.0.0.1:1 unix:/x
    # Its extra 2, -b SRCADDR (solutions/ only): numeric, of ADDRESS's
    # family, an address of this host.
    run_split "$ROOT/$TREE/$lab/client" --help
    if [[ $output == *"-b SRCADDR"* ]]; then
        expect 2 "unknown option '-b'|-b needs a value" "$lab" client -b
        expect 2 "ADDRESS is needed" "$lab" client -b 10.0.0.2
        expect 2 "bad SRCADDR 'localhost' " "$lab" client -b localhost 127.0.0.1:1
        expect 2 "-b ::1: not of ADDRESS's family \\(127\\.0\\.0\\.1:1\\)" "$lab" client -b ::1 127.0.0.1:1
        expect 2 "-b 127\\.0\\.0\\.1: not of ADDRESS's family \\(unix:/x\\)" "$lab" client -b 127.0.0.1 unix:/x
        expect 2 "-b 127\\.0\\.0\\.1: not of ADDRESS's family \\(@x\\)" "$lab" client -b 127.0.0.1 @x
        expect 1 "bind 10\\.9\\.9\\.9: Cannot assign requested address" "$lab" client -b 10.9.9.9 127.0.0.1:1
    fi
    # Well formed, nobody there: a relative path is a path (ENOENT), a name
    # of 107 bytes fits, and nobody has it; a closed port refuses.
    expect 1 "connect no/such\\.sock: No such file or directory" "$lab" client unix:no/such.sock
    expect 1 "connect @$long: Connection refused" "$lab" client "@$long"
    expect 1 "connect 127\\.0\\.0\\.1:1: Connection refused" "$lab" client 127.0.0.1:1
    # The server: -b numeric, -u at most 107 bytes and not empty, -t and
    # PORT digits only, in range.
    expect 2 "bad ADDR 'localhost' \\(numeric: " "$lab" server -b localhost 0
    expect 2 "bad ADDR '127\\.1\\.1\\.1\\.1' " "$lab" server -b 127.1.1.1.1 0
    expect 2 "-u: socket path is 109 bytes; sun_path holds at most 107" "$lab" server -u "$T/${long:0:108-${#T}}" 0
    expect 2 "-u: the name is 108 bytes; sun_path holds at most 107" "$lab" server -u "@x$long" 0
    expect 2 "-u: the socket path is empty" "$lab" server -u "" 0
    expect 2 "-u: the socket path is empty" "$lab" server -u @ 0
    expect 2 "-u needs a value" "$lab" server -u
    expect 2 "bad PORT '65536' \\(digits only, 0 to 65535\\)" "$lab" server 65536
    expect 2 "bad SECONDS '-1' \\(digits only, 0 to 86400\\)" "$lab" server -t -1 0
    expect 2 "bad SECONDS 'x' " "$lab" server -t x 0
    expect 2 "unknown option '-x'" "$lab" server -x 0
    expect 2 "too many arguments" "$lab" server 0 1
    # Well formed, but an address this host does not have (EADDRNOTAVAIL).
    expect 1 "bind 10\\.9\\.9\\.9:0: Cannot assign requested address" "$lab" server -b 10.9.9.9 0
    [ -z "$(ls -A "$T" | grep -v -x -e pids -e 'run\.[a-z]*')" ] ||
        fail "lab 10's programs created files in $T: $(ls -A "$T")"
}

@test "lab 10: hosts misused: no command, no such host, no command to run, down with nothing up, up twice (the second exits 1 and changes nothing)" {
    local lab=10-two-hosts before after
    LAB=$ROOT/$TREE/$lab
    # Its own /run in a mount namespace of the test's (lib.bash): the names
    # a and b are this test's, and go with it.
    hosts_world world
    hosts() { run_split "${HW[@]}" "$LAB/hosts" "$@"; }
    # Usage errors: exit 2, the usage on stderr, nothing on stdout.
    for args in "" "exec c true" "exec a" "-m down" "sideways"; do
        # shellcheck disable=SC2086 # the words of each case
        hosts $args
        note "hosts $args: exit $status: ${stderr_lines[0]:-}"
        is "hosts $args: exit status" "$status" 2
        [[ $stderr == *"usage: hosts "* ]] || fail "hosts $args: no usage on stderr: $stderr"
        [ -z "$output" ] || fail "hosts $args: stdout should be empty, saw: $output"
    done
    hosts exec c true
    is "hosts exec c true: the reason" "${stderr_lines[0]:-}" "hosts: no host 'c' (a or b)"
    hosts down
    note "hosts down, nothing up: exit $status: $stderr"
    is "hosts down with nothing up: exit status" "$status" 1
    is "hosts down with nothing up: stderr" "$stderr" "hosts: nothing is up"
    hosts exec a true
    note "hosts exec a true, nothing up: exit $status: $stderr"
    is "hosts exec a true with nothing up: exit status" "$status" 1
    hosts up
    is "the first hosts up: exit status (stderr: $stderr)" "$status" 0
    before=$("${HW[@]}" sh -c 'ip netns list; cat /run/hosts/made; ip -n a -br addr; ip -n b -br addr')
    hosts up
    note "hosts up, again: exit $status: $stderr"
    is "the second hosts up: exit status" "$status" 1
    is "the second hosts up: stderr" "$stderr" "hosts: already up (hosts down first)"
    after=$("${HW[@]}" sh -c 'ip netns list; cat /run/hosts/made; ip -n a -br addr; ip -n b -br addr')
    is "namespaces, what hosts made, and the addresses, after the second up" "$after" "$before"
    hosts down
    is "hosts down: exit status (stderr: $stderr)" "$status" 0
    note "hosts down: $(printf '%s; ' "${lines[@]}")"
    hosts down
    is "hosts down, again: exit status" "$status" 1
}

@test "lab 11: an unknown transport or mode, zero or absurd sizes, counts and buffers, a test the transport cannot run: usage errors, before any socket or child" {
    local lab=11-cost n long
    printf -v long '%*s' $((107 - ${#T})) ''
    long=$T/${long// /x}   # 108 bytes: one more than sun_path holds
    # The client: TRANSPORT, then numbers digits only and in range (lab.h:
    # N and WARMUP up to 1000000, SIZE up to 1 MiB, BYTES up to 2^40), and
    # what the transport cannot run. Socket paths in $T: none may appear.
    expect 2 "TRANSPORT is needed \\(pipe, socketpair, unix, tcp, tcp-nodelay, udp\\)" "$lab" client
    expect 2 "unknown TRANSPORT 'bogus' " "$lab" client bogus
    for n in 0 1000001 " 1" +1 1x ""; do
        expect 2 "bad N '${n//+/[+]}' \\(digits only, 1 to 1000000\\)" "$lab" client -n "$n" unix "$T/c.sock"
    done
    expect 2 "bad SIZE '0' \\(digits only, 1 to 1048576\\)" "$lab" client -s 0 pipe
    expect 2 "bad SIZE '1048577' \\(digits only, 1 to 1048576\\)" "$lab" client -s 1048577 unix "$T/c.sock"
    expect 2 "bad SIZE '65508' \\(udp: 1 to 65507" "$lab" client -s 65508 udp
    expect 2 "bad SIZE '2' \\(nagle: 3 or more" "$lab" client -m nagle -s 2 tcp
    expect 2 "bad WARMUP '-1' \\(digits only, 0 to 1000000\\)" "$lab" client -w -1 socketpair
    expect 2 "bad BYTES '0' \\(digits only, 1 to 1099511627776\\)" "$lab" client -m bulk -b 0 pipe
    expect 2 "bad BYTES '1099511627777' " "$lab" client -m bulk -b 1099511627777 tcp
    expect 2 "-m conn: unix, tcp and tcp-nodelay only \\(a pipe has no connect\\(\\)\\)" "$lab" client -m conn pipe
    expect 2 "udp: round trips only" "$lab" client -m bulk udp
    expect 2 "unknown MODE 'bogus' \\(rtt, nagle, bulk, conn\\)" "$lab" client -m bogus pipe
    expect 2 "-n needs a value" "$lab" client -n
    expect 2 "pipe takes no address" "$lab" client pipe EXTRA-ARG
    expect 2 "too many arguments" "$lab" client unix "$T/c.sock" EXTRA-ARG
    expect 2 "bad PATH '$long' \\(1 to 107 bytes\\)" "$lab" client unix "$long"
    expect 2 "bad PATH '' " "$lab" client unix ""
    expect 2 "bad PORT '65536' \\(digits only, 1 to 65535\\)" "$lab" client tcp 65536
    expect 2 "bad PORT '0' \\(digits only, 1 to 65535\\)" "$lab" client udp 0   # a client cannot reach port 0
    # Extra 2's -B (solutions/ only: a skeleton has no -B).
    expect 2 "bad BUFFER '4096' \\(digits only, 16384 to 268435456\\)|unknown option '-B'" "$lab" client -B 4096 unix "$T/c.sock"
    # The server: pipe and socketpair only as the client execs them.
    expect 2 "unknown TRANSPORT 'bogus' " "$lab" server bogus
    expect 2 "pipe needs its inherited descriptors: the client starts it" "$lab" server pipe
    expect 2 "fds 200 and 201 are not both open pipes" "$lab" server pipe 200 201
    expect 2 "fd 200 is no open stream socket" "$lab" server socketpair 200
    expect 2 "bad PORT '65536' \\(digits only, 0 to 65535\\)" "$lab" server tcp 65536
    expect 2 "bad SECONDS '-1' \\(digits only, 0 to 86400\\)" "$lab" server -t -1 unix "$T/s.sock"
    expect 2 "bad SECONDS '86401' " "$lab" server -t 86401 unix "$T/s.sock"
    expect 2 "unknown option '-x'" "$lab" server -x unix "$T/s.sock"
    expect 2 "bad PATH '$long' \\(1 to 107 bytes\\)" "$lab" server unix "$long"
    expect 2 "too many arguments" "$lab" server unix "$T/s.sock" EXTRA-ARG
    [ -z "$(ls -A "$T" | grep -v -x -e pids -e 'run\.[a-z]*')" ] ||
        fail "lab 11's programs created files in $T: $(ls -A "$T")"
}

@test "lab 12: a bad PORT, -t, -c, -u or -b for the server, no HOST or PORT, a bad -i or a HOST that does not resolve for the client: usage errors, before any socket; a port or path in use, a closed port: exit 1" {
    local lab=12-many-clients a long P
    printf -v long '%*s' $((108 - ${#T} - 1)) ''
    long=$T/${long// /x}   # 108 bytes: one more than sun_path holds
    # traced: expect, under strace, the socket calls appended to $T/calls:
    # there must be none. (AS: expect's prefix; strace costs 5 ms a run,
    # so one case of each check, the last ones the programs make.)
    # (LeakSanitizer cannot run under ptrace: under make test SANITIZE=1 it
    # would end the program with exit 1; the other traced tests do the same)
    traced() { local AS=(env ASAN_OPTIONS=detect_leaks=0 strace -qq -A -o "$T/calls" -e trace=socket,bind,listen,connect); expect "$@"; }
    # The server: PORT, -t and -c digits only and in range, -u neither
    # empty nor 108 bytes, -b numeric; every option's value given.
    for a in 65536 abc -1 ""; do
        expect 2 "bad PORT '$a' \\(digits only, 0 to 65535\\)" "$lab" server -- "$a"
    done
    traced 2 "bad PORT '1x' " "$lab" server -t 1 -c 1 -u "$T/s" 1x
    traced 2 "bad MAX '0' \\(digits only, 1 to 1000\\)" "$lab" server -c 0 0
    expect 2 "bad MAX '1001' \\(digits only, 1 to 1000\\)" "$lab" server -c 1001 0
    expect 2 "bad MAX '1x' " "$lab" server -c 1x 0
    expect 2 "bad SECONDS '-1' \\(digits only, 0 to 86400\\)" "$lab" server -t -1 0
    expect 2 "bad SECONDS '86401' " "$lab" server -t 86401 0
    expect 2 "bad SECONDS '0\\.5' " "$lab" server -t 0.5 0
    expect 2 "unknown option '-x'" "$lab" server -x 0
    for a in -t -c -u -b; do
        expect 2 "$a needs a value" "$lab" server "$a"
    done
    expect 2 "too many arguments" "$lab" server 0 1
    expect 2 "-u: the socket path is empty" "$lab" server -u "" 0
    traced 2 "-u: socket path is 108 bytes; sun_path holds at most 107" "$lab" server -u "$long" 0
    traced 2 "bad ADDR .*'localhost'" "$lab" server -b localhost 0
    expect 2 "bad ADDR .*'127\\.1\\.1\\.1\\.1'" "$lab" server -b 127.1.1.1.1 0
    # The client: HOST PORT or a PATH with a '/'; -i at most 3600 s, with
    # 3 decimals at most; PORT 1-65535.
    expect 2 "HOST PORT, or PATH, is needed" "$lab" client
    expect 2 "HOST PORT, or PATH, is needed" "$lab" client -i 1
    expect 2 "PORT is needed \\(or a PATH with a '/': \\./x\\.sock\\)" "$lab" client 127.0.0.1
    expect 2 "too many arguments" "$lab" client 127.0.0.1 1 2
    for a in 1.2345 x 3601 -1 .5 1. ""; do
        expect 2 "bad SECONDS '$a' \\(0 to 3600, at most 3 decimals: 0\\.005\\)" "$lab" client -i "$a" 127.0.0.1 1
    done
    expect 2 "-i needs a value" "$lab" client -i
    expect 2 "unknown option '-x'" "$lab" client -x 127.0.0.1 1
    traced 2 "bad PORT '0' \\(digits only, 1 to 65535\\)" "$lab" client 127.0.0.1 0
    expect 2 "bad PORT '65536' " "$lab" client 127.0.0.1 65536
    traced 2 "PATH: socket path is 108 bytes; sun_path holds at most 107" "$lab" client "$long"
    traced 2 "bad SECONDS '0\\.0001' " "$lab" client -i 0.0001 127.0.0.1 1
    [ ! -s "$T/calls" ] || fail "socket calls before a usage error: $(head -n 3 "$T/calls")"
    note "no socket call before the errors run under strace (-e trace=socket,bind,listen,connect)"
    local made=("$T"/s*)   # (-u $T/s above: no socket file, no lock file)
    [ ! -e "${made[0]}" ] || fail "lab 12's programs created files in $T: ${made[*]}"
    # A name that does not resolve (.invalid: RFC 6761), found before any
    # connect(); a resolver may open sockets of its own to look it up.
    expect 2 "bad HOST .*'no-such-host\\.invalid'" "$lab" client no-such-host.invalid 1
    # Well formed, but in use: a port, a path (its lock held).
    LAB=$ROOT/$TREE/$lab
    start_server -u "$T/s" 0
    P=${READY#listening on 127.0.0.1:}
    P=${P%% *}
    expect 1 "bind 127\\.0\\.0\\.1:$P: Address already in use" "$lab" server "$P"
    expect 1 "bind $T/s: Address already in use \\(another server holds $T/s\\.lock\\)" "$lab" server -u "$T/s" 0
    alive "$SERVER_PID" || fail "the first server exited: $(tail -n 2 "$T/server.err")"
    run_split "$LAB/client" 127.0.0.1 "$P" <<<"still here"
    is "the first server's reply, after the second and third failed (client exit $status)" "$output" "STILL HERE"
    [ -S "$T/s" ] || fail "the first server's socket file $T/s is gone: ls shows $(ls -A "$T")"
    # Nobody there: a closed port, a missing path.
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID"
    expect 1 "connect 127\\.0\\.0\\.1:$P: Connection refused" "$lab" client 127.0.0.1 "$P"
    expect 1 "connect $T/s: No such file or directory" "$lab" client "$T/s"
}
