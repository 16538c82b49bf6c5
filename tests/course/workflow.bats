#!/usr/bin/env bats
# The student's and teacher's commands (make check, hint, grade, handout),
# run on a private copy of the course. Not part of `make test` (they run
# the suite several times over); CI runs them: bats tests/course/.

bats_require_minimum_version 1.5.0

setup() {
    load ../lib
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    W=$(mktemp -d /tmp/course.XXXXXX)
    chmod 755 "$W"   # some tests run programs as user nobody, from here
    # With their times kept, the programs already built stay built: make
    # rebuilds only what a test changes. (That a course builds from nothing
    # is the handout test's, below.)
    cp -a "$ROOT"/Makefile "$ROOT"/README.md "$ROOT"/.clang-tidy "$ROOT"/labs "$ROOT"/solutions "$ROOT"/tests "$ROOT"/notes "$W"
}

teardown() {
    if [ -s "$W/pids" ]; then kill -KILL $(<"$W/pids") 2>/dev/null || true; fi
    rm -rf "$W"
}

# clean COMMAND...: COMMAND in a clean environment: a bats run inside this
# one must not inherit this run's BATS_* variables, nor the PATH that puts
# bats' internal libexec/bats ahead of the real command.
clean() {
    env -i PATH="${PATH#"$BATS_LIBEXEC:"}" HOME="$HOME" ${JUNIT:+JUNIT="$JUNIT"} "$@"
}

# mk DIR ARGS...: make in DIR, in a clean environment.
mk() {
    clean make -s -C "$@"
}

# solve LAB...: copy the solution's source over the skeleton, as a student
# who has filled in every gap would have it.
solve() {
    local lab
    for lab in "$@"; do
        cp "$W/solutions/$lab"/*.[ch] "$W/labs/$lab/"
    done
}

# without TOOL... -- COMMAND...: COMMAND in a private mount namespace where
# each TOOL's program is covered by an empty file that is not executable,
# so `command -v TOOL` finds nothing (as root: unshare -m; else in a user
# namespace of its own, unshare -rm), in a clean environment (clean).
without() {
    local tools=()
    while [ "$1" != -- ]; do tools+=("$1"); shift; done
    shift
    : >"$W/absent"
    local userns=()
    [ "$(id -u)" -eq 0 ] || userns=(-r)
    clean unshare "${userns[@]}" -m bash -c 'absent=$1; shift; n=$1; shift
        for ((i = 0; i < n; i++)); do
            mount --bind "$absent" "$(command -v "$1")" || exit 99; shift
        done
        exec "$@"' _ "$W/absent" "${#tools[@]}" "${tools[@]}" "$@"
}

@test "a missing prerequisite: make test, check, grade and tour name it and the command that installs it, exit 2, and build nothing" {
    unshare -m true 2>/dev/null || unshare -rm true 2>/dev/null || skip "unshare cannot make a mount namespace here"
    mk "$W" clean
    local targets=(test "check LAB=01" grade tour) i=0 tool package target seen=()
    while read -r tool package _; do
        case $tool in '' | \#*) continue ;; esac
        target=${targets[i++ % ${#targets[@]}]}
        if [ "$tool" = make ]; then
            # Without make, no make target runs: the preflight alone.
            target=check
            run without make -- "$W/tests/preflight.sh" check
        else
            # shellcheck disable=SC2086 # target is words: "check LAB=01"
            run without "$tool" -- timeout 60 make -s -C "$W" $target
        fi
        [ "$status" -eq 2 ] || { echo "make $target without $tool: exit $status: $output" >&2; false; }
        [[ $output == *"lacks what the course needs:"*"  $tool "*"(package $package)"*"apt-get install $package"* ]] ||
            { echo "make $target without $tool said: $output" >&2; false; }
        seen+=("make $target without $tool: exit 2")
    done <"$W/tests/prerequisites"
    [ -z "$(find "$W/labs" "$W/solutions" -type f \( -name server -o -name client \))" ] ||   # nothing built
        fail "programs were built with a prerequisite missing: $(find "$W/labs" "$W/solutions" -type f \( -name server -o -name client \))"
    note_lines "  " < <(printf '%s\n' "${seen[@]}")
    run without strace pgrep -- make -s -C "$W" check LAB=01
    [ "$status" -eq 2 ] || fail "make check LAB=01 without strace and pgrep: exit $status, not 2: $output"
    [[ $output == *"apt-get install strace procps"* ]] || { echo "two tools missing, it said: $output" >&2; false; }
    note_lines "  " <<<"$output"
}

@test "make test's runner (tests/run.sh): two files at a time, each file's lines together, every test counted; a file that crashes or runs nothing fails" {
    local d=$W/runner
    mkdir "$d"
    # Two files that each take about a second, and print as they go: run
    # one after the other they would take two.
    for f in a b; do
        printf '@test "%s 1" { read -r -t 0.5 <> <(:) || true; }\n@test "%s 2" { read -r -t 0.5 <> <(:) || true; }\n' "$f" "$f" >"$d/$f.bats"
    done
    printf '@test "c passes" { true; }\n@test "c fails" { false; }\n@test "c skips" { skip "not here"; }\n' >"$d/c.bats"
    printf '@test "d" {\n' >"$d/d.bats"          # a syntax error
    printf '# no test at all\n' >"$d/e.bats"
    local t0=${EPOCHREALTIME/./}
    run clean "$W/tests/run.sh" -j 2 "$d/a.bats" "$d/b.bats"
    local took=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    note "a.bats and b.bats, 1 s each, took $took ms together; last line: ${lines[-1]}"
    [ "$status" -eq 0 ] || fail "tests/run.sh on a.bats and b.bats: exit $status, not 0: $output"
    is "tests/run.sh's count for a.bats and b.bats" "${lines[-1]}" "4 passed, 0 failed, 0 skipped"
    [ "$took" -lt 1900 ] || { echo "two 1-second files took $took ms: not run side by side" >&2; false; }
    # Each file's lines stand together, under its own header.
    local text=$output
    [[ $text =~ ===\ $d/a\.bats[^$'\n']*$'\n'1\.\.2$'\n'ok\ 1\ a\ 1[^$'\n']*$'\n'ok\ 2\ a\ 2 ]] || { echo "a.bats not together: $text" >&2; false; }
    run clean "$W/tests/run.sh" "$d/c.bats" "$d/d.bats" "$d/e.bats"
    note_lines "  " < <(printf '%s\n' "${lines[@]}" | grep -E '^(===|not ok|[0-9]+ passed)')
    [ "$status" -eq 1 ] || fail "tests/run.sh on c.bats (a failure), d.bats (a syntax error), e.bats (no test): exit $status, not 1: $output"
    [ "${lines[-1]}" = "1 passed, 3 failed, 1 skipped" ] || { echo "counted: ${lines[-1]}" >&2; false; }
}

@test "make test's runner: a program a test leaves running, even in a session of its own, is killed and counted as a failure of its file" {
    local d=$W/runner
    mkdir "$d"
    # A test that starts a program in a new session (out of bats' reach)
    # and never stops it; its pid goes to a file, for the check below.
    printf '@test "leaks" { setsid tail -f /dev/null </dev/null >/dev/null 2>&1 3>&- & echo $! >"%s/pid"; }\n' "$d" >"$d/leak.bats"
    run clean "$W/tests/run.sh" "$d/leak.bats"
    note_lines "  " < <(printf '%s\n' "${lines[@]}" | grep -E '^(not ok|[0-9]+ passed)')
    local pid
    pid=$(<"$d/pid")
    if [ -d "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat")" != Z ]; then
        kill -KILL "$pid"
        fail "the leaked tail -f ($pid) is still running after the runner"
    fi
    is "the runner's exit status" "$status" 1
    [[ $output == *"not ok - $d/leak.bats: left running after its tests: $pid "*"tail -f /dev/null"* ]] || fail "no leftover named: $output"
    is "the count" "${lines[-1]}" "1 passed, 1 failed, 0 skipped"
}

@test "lib.bash's helpers run without bats' per-command trace (set +T), and a failure inside one still names the test's line" {
    # bats traces every command of a test with a DEBUG trap, inherited by
    # the functions it calls under set -T: ~100 us a command, most of
    # make test's CPU once. lib.bash turns the inheritance off.
    local d=$W/trace
    mkdir "$d"
    printf '%s\n' "setup() { load $W/tests/lib; }" \
        'helper() { trap -p DEBUG >"$BATS_TEST_DIRNAME/helper"; }' \
        '@test "t" {' \
        '    trap -p DEBUG >"$BATS_TEST_DIRNAME/body"' \
        '    helper' \
        '    is "the answer" 41 42' \
        '}' >"$d/t.bats"
    run clean bats "$d/t.bats"
    note "the test's own trap: '$(<"$d/body")'; in a helper: '$(<"$d/helper")'"
    note_lines "  " < <(printf '%s\n' "${lines[@]}" | grep -E '^(not ok|# \()')
    [[ $(<"$d/body") == *bats_debug_trap* ]] || fail "the test's body runs without bats' trace: '$(<"$d/body")'"
    [ ! -s "$d/helper" ] || fail "a helper the test calls runs under bats' trace: '$(<"$d/helper")'"
    [[ $output == *"(in test file $d/t.bats, line 6)"*"the answer: expected '42', saw '41'"* ]] ||
        fail "the failure does not name the test's line 6 and what it saw: $output"
}

@test "the runner's sweep takes only its own file's processes: the token run-N-1 does not match another file's run-N-10" {
    # Ten files or more at a time: the first file's token is a prefix of
    # the tenth's. A program of the tenth, still running when the first
    # is swept, must be left alone; the tenth's own sweep takes it.
    local pid left
    SOCKETS_RUN=run-$$-10 setsid tail -f /dev/null </dev/null >/dev/null 2>&1 3>&- &
    pid=$!
    echo "$pid" >>"$W/pids"   # teardown stops it, should the test fail first
    wait_until grep -qzxF "SOCKETS_RUN=run-$$-10" "/proc/$pid/environ"
    left=$(leftovers "run-$$-1")
    note "leftovers run-$$-1: '${left}'; run-$$-10's tail -f is $(alive "$pid" && echo alive || echo gone)"
    [ -z "$left" ] || fail "the sweep of run-$$-1 took another run's process: $left"
    alive "$pid" || fail "the sweep of run-$$-1 killed run-$$-10's process $pid"
    left=$(leftovers "run-$$-10")
    note "leftovers run-$$-10: $left"
    [[ $left == "$pid "*"tail -f /dev/null"* ]] || fail "the sweep of run-$$-10 did not name its own process $pid: '$left'"
    wait_gone "$pid" || fail "the sweep of run-$$-10 left $pid running"
}

@test "make labs regenerates labs/ exactly: the committed skeletons are current" {
    mk "$W" clean   # make labs leaves no programs built; nor does git
    cp -r "$W/labs" "$W/labs.before"
    mk "$W" labs >/dev/null
    diff -r "$W/labs.before" "$W/labs"
    mk "$W" labs TODO=3 >/dev/null
    # Staged: steps 1 and 2 solved (their instructions stay, as comments), 3 on still gaps.
    grep -q 'bound = bind(' "$W/labs/01-unix-stream/server.c"
    not grep -q 'step 2: replace this line' "$W/labs/01-unix-stream/server.c"
    grep -q 'step 3: replace this line' "$W/labs/01-unix-stream/server.c"
    note "make labs TODO=3, 01's server.c: gaps left at $(grep -oE 'step [0-9]+: replace this line' "$W/labs/01-unix-stream/server.c" | cut -d: -f1 | tr '\n' ' ')"
}

@test "make check LAB=01 on the untouched skeleton fails, names step 1 first with its whole instruction, and points to its hint" {
    for want in 1 01 01-unix-stream; do
        run mk "$W" check LAB=$want
        [ "$status" -ne 0 ] || fail "make check LAB=$want on the skeleton: exit 0"
        [[ $output == *"check: most likely step 1 is wrong (labs/01-unix-stream/server.c:"* ]] ||
            fail "make check LAB=$want named no step 1: $(printf '%s\n' "$output" | grep '^check:')"
    done
    # The instruction is the TODO comment whole, not its first sentence.
    local todo
    todo=$(awk '/TODO 1:/ { on = 1 } on { sub(/^ *(\/\*|\*)? */, ""); printf "%s ", $0 } on && /\*\// { exit }' "$W/labs/01-unix-stream/server.c" |
        sed -E 's/^TODO 1: *//; s/ *\*\/ *$//')
    local said
    said=$(printf '%s\n' "$output" | sed -n '/^check: most likely step 1/,/^check: also\|^A hint/p' | sed '1d;$d' | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
    is "the instruction printed for step 1" "$said" "$(echo "$todo" | tr -s ' ' ' ' | sed 's/ $//')"
    [[ $output == *"A hint: make hint LAB=01 STEP=1 "* ]] || fail "no hint command for step 1"
    printf '%s\n' "$output" | grep -E '^check: |^A hint' | note_lines "  "
    run clean "$W/tests/check.sh" 99
    is "tests/check.sh 99: exit status" "$status" 2
}

@test "make check on a wrong answer that hangs: the client's step fails alone (reference server), within the bound, and nothing is left running" {
    solve 01-unix-stream
    # A student's client that never half-closes and waits for ever for the
    # server's end of file, which never comes: each step-6 test must be
    # stopped by its bounds, and the client with it.
    sed -i 's/shut = shutdown(fd, SHUT_WR);/shut = 0;/' "$W/labs/01-unix-stream/client.c"
    grep -q 'shut = 0;' "$W/labs/01-unix-stream/client.c" || fail "the mutation did not apply"
    local token=course-$$-$RANDOM t0=$SECONDS
    run clean env SOCKETS_MUTANT=$token make -s -C "$W" check LAB=01
    local took=$((SECONDS - t0))
    printf '%s\n' "$output" | grep -E '^check: ' | note_lines "  "
    note "make check took ${took}s (its tests bounded to 50 s, the whole to a minute)"
    [ "$status" -ne 0 ] || fail "make check passed a client that never half-closes"
    [[ $output == *"check: most likely step 6 is wrong"* ]] || fail "step 6 not named first: $(printf '%s\n' "$output" | grep '^check:')"
    # The server's steps ran against the reference client: all pass.
    for s in 1 2 3 4; do
        [[ $output =~ check:\ step\ $s\ +ok ]] || fail "step $s (the server's) does not pass: $(printf '%s\n' "$output" | grep "^check: step $s")"
    done
    [ "$took" -le 60 ] || fail "make check took ${took}s, over a minute"
    local left
    left=$(leftovers "$token" SOCKETS_MUTANT)   # lib.bash: named, killed
    [ -z "$left" ] || fail "left running: $left"
}

# The commands the documents send here (tests/docs.sh checks each appears
# in this file): README.md's make check LAB=01; each lesson's make check LAB=01,
# make check LAB=02, make check LAB=03, make check LAB=04, make check LAB=05,
# make check LAB=06, make check LAB=07, make check LAB=08, make check LAB=09,
# make check LAB=10, make check LAB=11, make check LAB=12: one target, LAB given as 1, 01 or
# 01-unix-stream, run on a skeleton above and on a solved lab here (lab 09,
# whose tests run other labs' programs, in a handout of its own below).
@test "make check passes once the solution's source is copied over the skeleton" {
    solve 02-socketpair
    run mk "$W" check LAB=2
    note "${lines[-1]}"
    [ "$status" -eq 0 ] || fail "make check LAB=2 on the solved lab: exit $status, not 0: $output"
    is "make check LAB=2's last line" "${lines[-1]}" "check: labs/02-socketpair passes all its tests."
}

# README.md's make hint LAB=01 STEP=2 and make hint LAB=01 STEP=2 LEVEL=2: every step of every lab, below,
# at each of its three levels.
@test "make hint gives one step's hint in three levels; every step of every lab has them" {
    run mk "$W" hint LAB=03 STEP=2
    is "make hint LAB=03 STEP=2: exit status" "$status" 0
    [[ ${lines[0]} == "Hint 1 of 3 for step 2 of 03-unix-dgram (labs/03-unix-dgram/"* ]] || fail "first line: ${lines[0]}"
    [[ ${lines[-1]} == "More: make hint LAB=03 STEP=2 LEVEL=2" ]] || fail "last line: ${lines[-1]}"
    note_lines "  " <<<"$output"
    run mk "$W" hint LAB=03 STEP=2 LEVEL=3
    is "make hint LAB=03 STEP=2 LEVEL=3: exit status" "$status" 0
    [[ ${lines[0]} == "Hint 3 of 3 for step 2 of 03-unix-dgram"* ]] || fail "first line: ${lines[0]}"
    local lab n level missing=""
    for lab in "$W"/solutions/[0-9][0-9]-*; do
        lab=${lab##*/}
        for n in $(todo_steps "$W/solutions/$lab"); do
            for level in 1 2 3; do
                mk "$W" hint LAB="$lab" STEP="$n" LEVEL=$level >/dev/null 2>&1 || missing+=" $lab/$n/$level"
            done
        done
    done
    [ -z "$missing" ] || fail "steps/levels with no hint:$missing"
    run mk "$W" hint LAB=01 STEP=99
    is "make hint LAB=01 STEP=99: exit status" "$status" 2
    [[ $output == *"labs/01-unix-stream has no step 99"* ]] || fail "said: $output"
    run mk "$W" hint LAB=01 STEP=1 LEVEL=4
    is "make hint LEVEL=4: exit status" "$status" 2
}

# README.md's make grade and make grade FORMAT=junit (with JUNIT=, where the
# report goes; the skeletons' plain table is graded in the handout test).
@test "make grade: a score table; full marks and exit 0 when every lab is filled in; JUnit XML on request" {
    # (The untouched skeletons' table, and its exit status, are checked in
    # the handout below: one run of the suite the less.)
    solve $(cd "$W/solutions" && echo [0-9][0-9]-*)
    JUNIT=$W/grade.xml run mk "$W" grade FORMAT=junit
    note_lines "  " <<<"$output"
    [ "$status" -eq 0 ] || fail "make grade FORMAT=junit with every lab solved: exit $status, not 0: $output"
    is "make grade FORMAT=junit's last line" "${lines[-1]}" "JUnit report: $W/grade.xml"
    labs=$(ls -d "$W"/labs/[0-9][0-9]-* | wc -l)
    [[ ${lines[-2]} =~ ^total\ +([0-9]+)\ /\ ([0-9]+)\ +([0-9]+)\ /\ ([0-9]+)\ *$ ]] || fail "total line: ${lines[-2]}"
    [ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ] || fail "not full marks: ${lines[-2]}"
    is "the maximum, the points table's" "${BASH_REMATCH[2]}" "$(awk '!/^#/ && $2 == "step" { s += $4 } END { print s }' "$W/tests/points")"
    # Every extra solved too: the solutions have them all, apart.
    [ "${BASH_REMATCH[3]}" -eq "${BASH_REMATCH[4]}" ] && [ "${BASH_REMATCH[4]}" -ge $((2 * labs)) ] ||
        fail "bonus: ${BASH_REMATCH[3]} of ${BASH_REMATCH[4]}, expected all of at least $((2 * labs))"
    [ "$(grep -c '<testsuite ' "$W/grade.xml")" -eq "$labs" ] ||
        fail "grade.xml holds $(grep -c '<testsuite ' "$W/grade.xml") <testsuite> elements, not one per lab ($labs)"
    [ "$(grep -c '<testcase ' "$W/grade.xml")" -ge "$(awk '!/^#/ && NF' "$W/tests/points" | wc -l)" ] ||
        fail "grade.xml holds $(grep -c '<testcase ' "$W/grade.xml") <testcase> elements, not one per step and extra"
    not grep -q '<failure' "$W/grade.xml" || fail "a <failure> in grade.xml: $(grep -m1 -A3 '<failure' "$W/grade.xml")"
}

@test "make handout: a tarball without solutions/ that builds, checks and grades on its own" {
    run mk "$W" handout HANDOUT="$W/handout.tar.gz"
    [ "$status" -eq 0 ] || fail "make handout: exit $status, not 0: $output"
    is "make handout's last line" "${lines[-1]}" "$W/handout.tar.gz"
    mkdir "$W/student"
    tar -C "$W/student" -xzf "$W/handout.tar.gz"
    H=$W/student/sockets-labs
    note "handout: $(ls "$H" | tr '\n' ' ')"
    [ ! -e "$H/solutions" ] || fail "the handout holds solutions/: $(ls "$H/solutions")"
    not grep -rq --include='*.[ch]' 'END TODO' "$H"
    [ -z "$(find "$H/labs" -type f \( -name server -o -name client \))" ] ||   # built from nothing
        fail "the handout holds built programs: $(find "$H/labs" -type f \( -name server -o -name client \))"
    mk "$H"
    run mk "$H" check LAB=01
    [ "$status" -ne 0 ] || fail "make check LAB=01 in the handout passed the untouched skeleton: $output"
    [[ $output == *"check: most likely step 1 is wrong (labs/01-unix-stream/server.c:"* ]] || fail "handout check: $output"
    # The reference peers are binaries, and the mutation table is not there.
    [ -x "$H/tests/ref/01-unix-stream/server" ] && [ -s "$H/tests/ref/01-unix-stream/sides" ] || fail "no reference peers in the handout"
    [ ! -e "$H/tests/mutants" ] || fail "the handout holds tests/mutants/, which quotes the solutions"
    solve 02-socketpair
    cp "$W/labs/02-socketpair"/*.[ch] "$H/labs/02-socketpair/"
    run mk "$H" check LAB=02
    [ "$status" -eq 0 ] || fail "make check LAB=02 in the handout, lab 02 solved: exit $status, not 0: $output"
    run --separate-stderr mk "$H" grade
    [ "$status" -ne 0 ] || fail "make grade in the handout exits 0 without full marks: $output"   # no full marks: no exit 0
    [[ ${lines[0]} == "lab"*"points"*"bonus"*"steps"* ]] || fail "header: ${lines[0]}"
    local total row02
    total=$(printf '%s\n' "${lines[@]}" | grep '^total ')
    row02=$(printf '%s\n' "${lines[@]}" | grep '^02-socketpair ')
    local all
    all=$(awk '!/^#/ && $2 == "step" { s += $4 } END { print s }' "$H/tests/points")
    [[ $total =~ ^total\ +10\ /\ $all ]] || fail "the total should be lab 02's 10 points of $all (tests/points): '$total'"
    [[ $row02 =~ ^02-socketpair\ +10\ /\ 10 ]] || fail "02's row: $row02"   # the lab filled in has all its points
    note "handout grade: $total"
    run mk "$H" test
    [ "$status" -eq 2 ] || fail "make test in the handout: exit $status, not 2: $output"
    [[ $output == *"no solutions/"* ]] || fail "make test in the handout should say there is no solutions/; it said: $output"
}

@test "make handout LAB=09: lab 09's tests run labs 05-07's programs, shipped as binaries; there make check names step 1 on the skeleton, make grade gives 0, and a solved lab passes" {
    # Lab 09's tests capture what lab 05's, 06's and 07's programs send
    # (lib.bash, peer_lab): a handout of lab 09 alone has no solutions/ to
    # build them from, and ships their reference binaries in tests/ref/.
    [ "$(id -u)" -eq 0 ] || unshare -r -n true 2>/dev/null || skip "lab 09's tests need root, or unshare -r -n"
    run mk "$W" handout LAB=09 HANDOUT="$W/h09.tar.gz"
    [ "$status" -eq 0 ] || fail "make handout LAB=09: exit $status, not 0: $output"
    note "${lines[-2]}"
    mkdir "$W/s09"
    tar -C "$W/s09" -xzf "$W/h09.tar.gz"
    H=$W/s09/sockets-labs
    is "the labs in the handout" "$(cd "$H/labs" && echo [0-9][0-9]-*)" 09-raw-packets
    [ ! -e "$H/solutions" ] || fail "the handout holds solutions/: $(ls "$H/solutions")"
    local d p missing=""
    for d in 05-tcp:server 05-tcp:client 06-udp:server 06-udp:client 07-tcp-close:server 07-tcp-close:client 09-raw-packets:sniff 09-raw-packets:synsend; do
        p=$H/tests/ref/${d%%:*}/${d#*:}
        [ -x "$p" ] || missing+=" ${p#"$H/"}"
    done
    [ -z "$missing" ] || fail "reference programs missing from the handout:$missing"
    note "tests/ref: $(cd "$H/tests/ref" && echo *)"
    run mk "$H" check LAB=09
    printf '%s\n' "$output" | grep -E '^check: ' | note_lines "  "
    [ "$status" -ne 0 ] || fail "make check LAB=09 in the handout passed the untouched skeleton: $output"
    [[ $output == *"check: most likely step 1 is wrong (labs/09-raw-packets/sniff.c:"* ]] || fail "make check LAB=09 named no step 1: $(printf '%s\n' "$output" | grep '^check:')"
    run --separate-stderr mk "$H" grade
    local total
    total=$(printf '%s\n' "${lines[@]}" | grep '^total ')
    note "make grade, the skeleton: $total"
    [[ $total =~ ^total\ +0\ /\ ([0-9]+) ]] || fail "the skeleton should score 0: '$total'"
    is "the maximum, lab 09's points in tests/points" "${BASH_REMATCH[1]}" "$(awk '!/^#/ && $1 == "09-raw-packets" && $2 == "step" { s += $4 } END { print s }' "$W/tests/points")"
    cp "$W/solutions/09-raw-packets"/*.[ch] "$H/labs/09-raw-packets/"
    run mk "$H" check LAB=09
    note "solved: ${lines[-1]}"
    [ "$status" -eq 0 ] || fail "make check LAB=09 in the handout, lab 09 solved: exit $status, not 0: $output"
    is "make check LAB=09's last line" "${lines[-1]}" "check: labs/09-raw-packets passes all its tests."
}

@test "make trace LAB=05: the tour under strace -f, socket calls only; it says where the transcripts went" {
    command -v strace >/dev/null || skip "needs strace"
    run mk "$W" trace LAB=05
    [ "$status" -eq 0 ] || fail "make trace LAB=05: exit $status, not 0: $output"
    [[ ${lines[-1]} =~ ^Read\ them\ with:\ less\ (/tmp/trace-05\.[A-Za-z0-9]+)/\*\.trace$ ]] ||
        fail "make trace's last line should say where the transcripts are (Read them with: less /tmp/trace-05.XXXXXX/*.trace), saw '${lines[-1]}'"
    dir=${BASH_REMATCH[1]}
    note "transcripts in $dir: $(cd "$dir" && ls | tr '\n' ' ')"
    calls=$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$dir/server.trace" | grep -E '^(socket|bind|listen|accept4?)$' | uniq | tr '\n' ' ')
    note "server: $calls"
    [[ $calls == "socket bind listen accept"* ]] || fail "the server's socket calls in $dir/server.trace should begin 'socket bind listen accept', saw '$calls'"
    grep -qE '^[0-9]+ +connect\(3, \{sa_family=AF_INET, sin_port=htons\([0-9]+\), sin_addr=inet_addr\("127\.0\.0\.1"\)\}, 16\) = 0' "$dir/client.trace"
    # Socket calls only (-e trace=%network): no read, write, close, execve...
    others=$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$dir"/*.trace | sort -u |
        grep -vxE 'socket|socketpair|bind|listen|accept4?|connect|[gs]etsockopt|getsockname|getpeername|shutdown|sendto|recvfrom|sendmsg|recvmsg' || true)
    [ -z "$others" ] || fail "calls other than socket calls in the transcripts in $dir: $(echo $others)"
    rm -rf "$dir"
}
