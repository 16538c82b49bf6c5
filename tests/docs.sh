#!/usr/bin/env bash
# tests/docs.sh FILE.md - run a document's commands as written, and check the
# transcripts it shows against what really happened. Used by tests/docs.bats
# (part of `make test`); the marking rules are in README.md, "Documentation
# is tested".
#
# The document runs as one session, in a sandbox of its own: private mount,
# network and pid namespaces (Linux-specific; unshare(1)), a /tmp holding
# nothing but the course, and a copy of the course (an overlay on it) whose labs/ are solved
# (the solutions' code and programs copied in). So the labs' default paths
# and ports are free, and `cd labs/01-unix-stream && ./server` works as it
# will for a student who has done the lab.
#
# ```sh blocks are typed into "terminals": one bash each, reading commands
# from a FIFO, output to a file. `<!-- doc: ... -->` before a block says
# which terminal and what to wait for; see README.md.
# Prints what it ran and checked; exits 0 when all is well, 1 when a command
# failed or a transcript did not match, 2 on a usage error, 3 when the
# sandbox cannot be made here (no namespaces: the caller skips).
set -uo pipefail
WAIT_LIMIT=${WAIT_LIMIT:-20}

if [ "${1:-}" != --inside ] && [ "${1:-}" != --course ]; then
    [ $# -eq 1 ] || { echo "usage: tests/docs.sh FILE.md" >&2; exit 2; }
    root=$(cd "$(dirname "$0")/.." && pwd)
    doc=$1
    [ -f "$root/$doc" ] || { echo "docs.sh: $doc: no such file under $root" >&2; exit 2; }
    userns=()
    [ "$(id -u)" -eq 0 ] || userns=(--map-root-user)
    unshare "${userns[@]}" --mount --net --pid --fork --mount-proc true 2>/dev/null ||
        { echo "docs.sh: unshare cannot make private namespaces here" >&2; exit 3; }
    # W is under /tmp; inside the sandbox $W/tmp is mounted on /tmp, so the
    # course at $W/tmp/${W#/tmp/} is found there at $W.
    W=$(mktemp -d /tmp/doc.XXXXXX)
    # DOCS_KEEP=1 keeps the session's files (state/tN.out...) to look at.
    [ -n "${DOCS_KEEP:-}" ] && echo "docs.sh: keeping $W" >&2 || trap 'rm -rf "$W"' EXIT
    mkdir -p "$W/tmp${W#/tmp}/course" "$W/tmp${W#/tmp}/state" "$W/work" "$W/upper/labs"
    # The solved labs: each solution's code and programs, in what will be
    # the course's upper layer (below) as labs/NN-topic/: one cp for them
    # all (cp --parents; a cp a lab was 11 processes a document).
    . "$root/tests/lib.bash"   # lab_programs (the sandbox sources its own copy)
    files=()
    for lab in "$root"/solutions/[0-9][0-9]-*/; do
        lab=${lab%/}
        lab_programs "$lab" || exit 1
        for f in "$lab"/*.c "$lab"/*.h "${PROGRAMS[@]/#/$lab/}"; do
            [ -f "$f" ] || { echo "docs.sh: solutions/${lab##*/} is not built: no ${f##*/}" >&2; exit 1; }
            files+=("${f#"$root"/solutions/}")
        done
    done
    (cd "$root/solutions" && exec cp -p --parents "${files[@]}" "$W/upper/labs/") ||
        { echo "docs.sh: the solved labs could not be put in place" >&2; exit 1; }
    unshare "${userns[@]}" --mount "$root/tests/docs.sh" --course "$W" "$doc"
    exit $?
fi

if [ "$1" = --course ]; then
    W=$2 doc=$3 root=${0%/tests/docs.sh}
    C=$W/tmp${W#/tmp}
    # The course, without copying it: an overlay (overlayfs, Linux-specific)
    # whose lower layer is the course itself, read only, and whose upper
    # layer, $W/upper, holds the solved labs' files and takes what the
    # session writes. (A copy of the course's 6 MB cost each document 0.1 to
    # 0.2 s of CPU.) Where no overlay can be mounted (in a user namespace
    # before Linux 5.11), a copy.
    if ! mount -t overlay overlay -o "lowerdir=$root,upperdir=$W/upper,workdir=$W/work" "$C/course" 2>/dev/null; then
        (cd "$root" && cp -a Makefile README.md .ci labs notes solutions tests "$C/course/") &&
            cp -a "$W/upper/." "$C/course/" || exit 1
    fi
    # The session's own namespaces, made after the course is in place: its
    # first process is pid 1, and the pids a lesson shows are the pids the
    # session's commands get.
    exec unshare --net --pid --fork --mount-proc "$root/tests/docs.sh" --inside "$W" "$doc"
fi

# --- inside the sandbox -----------------------------------------------------
W=$2 doc=$3
# --rbind: the course's overlay, mounted under $W/tmp, comes along.
mount --rbind "$W/tmp" /tmp || exit 1
# /run too: `ip netns add` (lab 07) keeps its names in /run/netns, which
# must be this session's own, and writable when not root.
mount -t tmpfs tmpfs /run || exit 1
ip link set lo up || exit 1
course=$W/course state=$W/state
cd "$course" || exit 1
failed=0

# The harness's bounded poll, wait_until (WAIT_LIMIT above), from the copy
# (this script's own directory may be hidden under the new /tmp). Its pause
# must not look for bats' FIFO, which is outside the sandbox.
unset BATS_SUITE_TMPDIR
. "$course/tests/lib.bash" || exit 1

# After lib.bash, whose fail() (for tests: say it, return 1) this one
# replaces: here a failure is counted, and the document goes on.
fail() {
    echo "FAIL: $*"
    failed=1
}

# A terminal: bash reading one command a line from $state/tN.cmd, each run
# with stdin from /dev/null, output appended to $state/tN.out, no other
# descriptor open, and EDITOR=true (the reader's editor); after each,
# its exit status is appended to $state/tN.status. env resets SIGINT and
# SIGQUIT, which a shell leaves ignored in a background job, so that a
# Ctrl-C (SIGINT) ends a command as it does in a real terminal.
declare -A term_pid term_fd term_sent term_mark
term() {
    local n=$1 fd
    [ -n "${term_pid[$n]:-}" ] && return 0
    mkfifo "$state/t$n.cmd"
    : >"$state/t$n.out"
    : >"$state/t$n.status"
    # ASAN_OPTIONS: under `make test SANITIZE=1`, LeakSanitizer cannot run
    # under ptrace and fails every program the documents run under strace;
    # leaks are the lab tests' and valgrind's to find (tests/memcheck.sh).
    EDITOR=true ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
        env --default-signal=INT,QUIT bash --norc --noprofile -c '
        # Only the standard streams, as in a new terminal: not the fds of
        # bats, nor the other terminals'\'' FIFOs.
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            [ "$fd" -le 2 ] || eval "exec $fd>&-" 2>/dev/null
        done
        # fd 9 reads the commands; the commands do not inherit it (a
        # program that lists its descriptors sees 0, 1 and 2 and its own).
        exec 9<"$1"
        while IFS= read -r -u 9 line; do
            eval "$line" </dev/null 9<&-
            echo "$?" >>"$2"
        done' _ "$state/t$n.cmd" "$state/t$n.status" >>"$state/t$n.out" 2>&1 9>&- &
    term_pid[$n]=$!
    exec {fd}>"$state/t$n.cmd"
    term_fd[$n]=$fd
}

# lines FILE: how many lines FILE has, in NLINES (no subshell: it is polled).
lines() {
    local _
    NLINES=0
    while IFS= read -r _; do NLINES=$((NLINES + 1)); done <"$1"
}

descendants() {
    local c
    for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}

# output N: what terminal N has printed so far, in OUT, and its length in
# bytes, in NBYTES. No fork (it is polled): read(1) to the end of the file.
output() {
    local LC_ALL=C
    OUT=
    IFS= read -r -d '' OUT <"$state/t$1.out" || true
    NBYTES=${#OUT}
}

# output_from N FROM: what terminal N has printed after its first FROM bytes.
output_from() {
    local LC_ALL=C
    output "$1"
    printf '%s' "${OUT:$2}"
}

# printed N FROM TEXT: terminal N has printed TEXT after its first FROM bytes.
printed() {
    local LC_ALL=C
    output "$1"
    [[ ${OUT:$2} == *"$3"* ]]
}

# finished N COUNT: terminal N has finished COUNT commands.
finished() {
    lines "$state/t$1.status" && [ "$NLINES" -ge "$2" ]
}

# printed_or_ended N FROM TEXT COUNT: TEXT is printed (see printed), or
# terminal N has finished COUNT commands (the one meant to print it ended).
printed_or_ended() {
    printed "$1" "$2" "$3" || finished "$1" "$4"
}

# wait_for N COUNT: wait until terminal N has finished COUNT commands.
wait_for() {
    wait_until finished "$1" "$2" 2>/dev/null
}

# last_status N: the exit status of terminal N's last command.
last_status() {
    local s last=
    while IFS= read -r s; do last=$s; done <"$state/t$1.status"
    echo "$last"
}

# run_block N UNTIL FAILS LINE...: type the lines into terminal N.
run_block() {
    local n=$1 until=$2 fails=$3 i cmd status done_before start
    shift 3
    term "$n"
    output "$n"
    start=$NBYTES
    for ((i = 1; i <= $#; i++)); do
        cmd=${!i}
        echo "  [terminal $n] \$ $cmd"
        # As at a real prompt, a command runs once the one before it has
        # ended (a step-mode program that finishes by itself, say).
        if ! wait_for "$n" "${term_sent[$n]:-0}"; then
            fail "terminal $n: the command before '$cmd' still runs after ${WAIT_LIMIT}s (ctrl-c $n first?)"
            return
        fi
        lines "$state/t$n.status"
        done_before=$NLINES
        printf '%s\n' "$cmd" >&"${term_fd[$n]}"
        term_sent[$n]=$((${term_sent[$n]:-0} + 1))
        if [ "$i" -eq $# ] && [ -n "$until" ]; then
            if ! wait_until printed_or_ended "$n" "$start" "$until" "$((done_before + 1))" 2>/dev/null; then
                fail "terminal $n: '$cmd' did not print '$until' within ${WAIT_LIMIT}s"
                return
            fi
            if ! printed "$n" "$start" "$until"; then
                fail "terminal $n: '$cmd' ended (exit $(last_status "$n")) before printing '$until'"
                return
            fi
            continue
        fi
        if ! wait_for "$n" "$((done_before + 1))"; then
            fail "terminal $n: '$cmd' still runs after ${WAIT_LIMIT}s (add until \"...\" if it is meant to keep running)"
            return
        fi
        status=$(last_status "$n")
        if [ "$i" -eq $# ] && [ -n "$fails" ]; then
            [ "$status" -ne 0 ] || fail "terminal $n: '$cmd' was expected to fail, and exited 0"
        elif [ "$status" -ne 0 ]; then
            fail "terminal $n: '$cmd' exited $status"
        fi
    done
    block_out=$state/block.$((++blocks))
    output_from "$n" "$start" >"$block_out"
}

# ctrl_c N: SIGINT to what terminal N runs, then wait for it to end.
ctrl_c() {
    local n=$1 pids done_before
    echo "  [terminal $n] Ctrl-C"
    [ -n "${term_pid[$n]:-}" ] || { fail "ctrl-c $n: no terminal $n"; return; }
    lines "$state/t$n.status"
    done_before=$NLINES
    mapfile -t pids < <(descendants "${term_pid[$n]}")
    [ "${#pids[@]}" -gt 0 ] || { fail "ctrl-c $n: terminal $n runs nothing"; return; }
    kill -INT "${pids[@]}" 2>/dev/null
    wait_for "$n" "$((done_before + 1))" || fail "ctrl-c $n: still running after ${WAIT_LIMIT}s"
}

# wait_text N TEXT: wait until terminal N has printed TEXT (what a reader
# does: look at that terminal, then type on); only output printed after
# the last wait on that terminal counts, so the same line can be waited
# for again, later.
wait_text() {
    local n=$1 text=$2
    echo "  [terminal $n] (wait for \"$text\")"
    [ -n "${term_pid[$n]:-}" ] || { fail "wait $n: no terminal $n"; return; }
    if ! wait_until printed "$n" "${term_mark[$n]:-0}" "$text" 2>/dev/null; then
        fail "terminal $n did not print '$text' within ${WAIT_LIMIT}s"
        return
    fi
    output "$n"
    term_mark[$n]=$NBYTES
}

# check_lines KIND PATTERNS OUTPUT: each line of PATTERNS matches a line of
# OUTPUT, in order (KIND=strace), or in order among the lines of the same
# role, "[server]", "[client]"... (KIND=narration). In a pattern, a run of 5
# or more digits stands for any digits, 0x and hex digits for any hex, @ and
# 5 hex digits for any autobound name (unix(7): Linux, abstract);
# a run of blanks for any run of blanks (strace pads its pid column).
check_lines() {
    awk -v kind="$1" '
        function mark(s) {
            gsub(/[ \t]+/, " ", s)
            gsub(/@"[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"/, "@\"\002\"", s)   # as strace shows it
            gsub(/@[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]/, "@\002", s)
            gsub(/0x[0-9a-f]+/, "0x\002", s)
            gsub(/[0-9][0-9][0-9][0-9][0-9]+/, "\001", s)
            return s
        }
        function squeeze(s) {
            gsub(/[ \t]+/, " ", s)
            return s
        }
        function matches(p, s,   i, c, lit, n) {
            while (p != "") {
                i = 1
                while (i <= length(p) && (c = substr(p, i, 1)) != "\001" && c != "\002") i++
                lit = substr(p, 1, i - 1)
                if (substr(s, 1, length(lit)) != lit) return 0
                s = substr(s, length(lit) + 1)
                if (i > length(p)) break
                if (c == "\001" && !match(s, /^[0-9]+/)) return 0
                if (c == "\002" && !match(s, /^[0-9a-f]+/)) return 0
                s = substr(s, RLENGTH + 1)
                p = substr(p, i + 1)
            }
            return s == ""
        }
        NR == FNR { pat[++np] = $0; next }
        { out[++no] = $0 }
        END {
            bad = 0
            for (k = 1; k <= np; k++) {
                role = kind == "narration" ? substr(pat[k], 1, index(pat[k], "]")) : "all"
                from = (role in pos) ? pos[role] : 1
                for (j = from; j <= no; j++) if (matches(mark(pat[k]), squeeze(out[j]))) break
                if (j > no) { print "not found" (from > 1 ? " after the line before" : "") ": " pat[k]; bad = 1 }
                else pos[role] = j + 1
            }
            exit bad
        }' "$2" "$3"
}

# --- read the document: blocks and directives, in order ----------------------
ncmd=0 nnarr=0 nstrace=0 nout=0 blocks=0 block_out=/dev/null ran=
narr=$state/narration strace_pat=$state/strace
: >"$narr"
directive= info= fence_indent= body=() prev= para=
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    if [ -z "$info" ]; then
        if [[ $line =~ ^[[:space:]]*\<!--\ doc:\ (.*)\ --\>[[:space:]]*$ ]]; then
            directive=${BASH_REMATCH[1]}
            if [[ $directive =~ ^ctrl-c\ ([0-9]+)$ ]]; then
                ctrl_c "${BASH_REMATCH[1]}"
                directive=
            elif [[ $directive =~ ^wait\ ([0-9]+)\ \"(.*)\"$ ]]; then
                wait_text "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
                directive=
            fi
            continue
        fi
        if [[ $line =~ ^([[:space:]]*)\`\`\`([a-z]*)[[:space:]]*$ ]]; then
            fence_indent=${BASH_REMATCH[1]}
            info=${BASH_REMATCH[2]:-plain}
            body=()
            block_line=$lineno
            continue
        fi
        [ -z "$directive" ] || { fail "line $((lineno - 1)): a doc directive must come right before a \`\`\`sh block (output: before a \`\`\`text or \`\`\`mermaid block)"; directive=; }
        # An indented code block (4 spaces after a blank line, not inside a
        # list) would escape every check: commands go in fenced blocks.
        if [[ $line == "    "* && -z $prev && $para != list ]]; then
            fail "line $lineno: an indented code block; use a fenced block (\`\`\`sh, \`\`\`text, \`\`\`strace)"
        fi
        if [[ -z $line ]]; then :
        elif [[ $line =~ ^[[:space:]]*([-*]|[0-9]+\.)\  ]]; then para=list
        elif [[ $line != " "* && -z $prev ]]; then para=text
        fi
        prev=$line
        continue
    fi
    if ! [[ $line =~ ^[[:space:]]*\`\`\`[[:space:]]*$ ]]; then
        body+=("${line#"$fence_indent"}")
        continue
    fi
    # The block ends here.
    case $info in
    sh)
        term_n=1 until= fails= tested= skip=
        IFS=';' read -ra parts <<<"$directive"
        for part in "${parts[@]}"; do
            part=${part# } part=${part% }
            case $part in
            "term "[0-9]*) term_n=${part#term } ;;
            "until \""*\") until=${part#until \"} until=${until%\"} ;;
            fails) fails=1 ;;
            "tested in "*) tested=${part#tested in } ;;
            "not run: "*) skip=${part#not run: } ;;
            *) fail "line $((block_line - 1)): unknown doc directive '$part'" ;;
            esac
        done
        # Join continued lines, drop comments and blank lines.
        cmds=() acc=
        for l in "${body[@]}"; do
            if [[ $l == *\\ ]]; then acc+="${l%\\}"; continue; fi
            l=$acc$l acc=
            [[ $l =~ ^[[:space:]]*(#.*)?$ ]] && continue
            cmds+=("$l")
        done
        if [ -n "$tested" ]; then
            for c in "${cmds[@]}"; do
                [[ $c =~ ^(.*[^[:space:]])[[:space:]]+#.*$ ]] && c=${BASH_REMATCH[1]}
                grep -qF -- "$c" "$course/$tested" ||
                    fail "line $block_line: '$c' is said to be tested in $tested, which does not contain it"
                echo "  (tested in $tested) \$ $c"
            done
            ran=
        elif [ -n "$skip" ]; then
            echo "  (not run: $skip) ${cmds[*]}"
            ran=
        else
            run_block "$term_n" "$until" "$fails" "${cmds[@]}"
            ncmd=$((ncmd + ${#cmds[@]}))
            ran=1
        fi
        ;;
    strace)
        [ -n "$directive" ] && fail "line $((block_line - 1)): a doc directive before a strace block"
        printf '%s\n' "${body[@]}" >"$strace_pat"
        if ! check_lines strace "$strace_pat" "$block_out"; then
            fail "line $block_line: the strace excerpt is not in the output of the command before it:"
            sed 's/^/    | /' "$block_out"
        fi
        nstrace=$((nstrace + ${#body[@]}))
        ;;
    text | plain | mermaid)
        # <!-- doc: output -->: the block is the output of the ```sh block
        # before it (a diagram it draws, a report it prints), every line.
        if [ "$directive" = output ]; then
            printf '%s\n' "${body[@]}" >"$strace_pat"
            if [ -z "$ran" ]; then
                fail "line $((block_line - 1)): doc: output, but the \`\`\`sh block before it was not run here"
            elif ! check_lines output "$strace_pat" "$block_out"; then
                fail "line $block_line: the $info block is not in the output of the command before it:"
                sed 's/^/    | /' "$block_out"
            fi
            nout=$((nout + ${#body[@]}))
        elif [ -n "$directive" ]; then
            fail "line $((block_line - 1)): a doc directive before a $info block (only 'output' is one)"
        fi
        if [ "$info" != mermaid ] && [ "$directive" != output ]; then
            for l in "${body[@]}"; do
                [[ $l =~ ^[[:space:]]*\[[a-z]+\]\  ]] && printf '%s\n' "${l#"${l%%[![:space:]]*}"}" >>"$narr"
            done
        fi
        ;;
    *)   # c, diff...: neither run nor checked
        [ -n "$directive" ] && fail "line $((block_line - 1)): a doc directive before a $info block"
        ;;
    esac
    info= directive= prev=x
done <"$course/$doc"
[ -z "$info" ] || fail "the document ends inside a \`\`\`$info block"

for n in "${!term_pid[@]}"; do
    busy=$(descendants "${term_pid[$n]}")
    [ -z "$busy" ] || fail "terminal $n still runs a command at the end of the document (add <!-- doc: ctrl-c $n -->)"
done

# Narration shown anywhere in the document appeared in this run.
if [ -s "$narr" ]; then
    lines "$narr"
    nnarr=$NLINES
    for ((n = 1; n <= ${#term_pid[@]}; n++)); do cat "$state/t$n.out"; done >"$state/all.out" 2>/dev/null
    check_lines narration "$narr" "$state/all.out" || fail "narration shown in $doc did not appear in the run"
fi

if [ "$failed" -ne 0 ]; then
    for f in "$state"/t*.out; do
        [ -f "$f" ] || continue
        n=${f##*/t} n=${n%.out}
        echo "--- terminal $n, last 25 lines of output"
        tail -n 25 "$f"
    done
fi
outs=
[ "$nout" -eq 0 ] || outs="; $nout lines of output checked"
set +u   # bash: an empty array is "unbound" (a document whose commands are all tested elsewhere)
echo "$doc: $ncmd commands run in ${#term_pid[@]} terminal(s); $nnarr narration lines and $nstrace strace lines checked${outs}"
exit "$failed"
