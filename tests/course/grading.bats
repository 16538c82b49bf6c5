#!/usr/bin/env bats
# Classroom grading (tests/grade.sh, tests/handout.sh), on private copies of
# the course: points per step, tamper evidence, grading apart from the
# students' copies, every format, GitHub Classroom's workflow, Gradescope's
# autograder, one-lab and staged handouts. Not part of `make test`; CI
# runs it with tests/course/.
#
# The commands the documents send here (tests/docs.sh checks each appears
# in this file, and the tests below run them or what they stand for):
#   make grade
#   make grade FORMAT=junit
#   make grade FORMAT=csv
#   make grade SUBMISSIONS=/tmp/class
#   make handout
#   make handout LAB=01,03
#   make labs TODO=3
#   make gradescope LAB=01
#   make check LAB=01
#   make hint LAB=01 STEP=2
#   make hint LAB=01 STEP=2 LEVEL=2
# (check and hint: tests/course/workflow.bats.)

bats_require_minimum_version 1.5.0

setup_file() {
    # One course copy and one handout for the whole file; each test works
    # on copies of them.
    export ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    export G=$(mktemp -d /tmp/grading.XXXXXX)
    chmod 755 "$G"
    mkdir "$G/course"
    cp -a "$ROOT"/Makefile "$ROOT"/README.md "$ROOT"/.clang-tidy "$ROOT"/labs "$ROOT"/solutions "$ROOT"/tests "$ROOT"/notes "$G/course/"
    make -s -C "$G/course" clean >/dev/null
    make -s -C "$G/course" handout HANDOUT="$G/handout.tar.gz" >/dev/null
}

teardown_file() {
    rm -rf "$G"
}

setup() {
    load ../lib
    # Not bats' own directory, which only its owner may enter: some tests
    # run programs as user nobody, from the copies made here.
    T=$(mktemp -d "$G/t.XXXXXX")
    chmod 755 "$T"
}

# clean COMMAND...: COMMAND in a clean environment (no BATS_* variables,
# no bats libexec on PATH).
clean() {
    env -i PATH="${PATH#"$BATS_LIBEXEC:"}" HOME="$HOME" ${JUNIT:+JUNIT="$JUNIT"} ${CSV:+CSV="$CSV"} ${JSON:+JSON="$JSON"} "$@"
}

# unpack DIR: the handout, unpacked in the new, empty directory DIR; H is
# its top.
unpack() {
    mkdir -p "$1"
    chmod 755 "$1"
    tar -C "$1" -xzf "$G/handout.tar.gz"
    H=$1/sockets-labs
}

# solve COPY LAB...: the solutions' sources over COPY's skeletons.
solve() {
    local copy=$1 lab
    shift
    for lab; do cp "$G/course/solutions/$lab"/*.[ch] "$copy/labs/$lab/"; done
}

# half COPY LAB: a half-solved lab: the server's steps solved, the client's
# not (the server.c of a skeleton with every step solved and no extra,
# tests/mklabs.sh, over the skeleton's).
half() {
    [ -d "$G/solved/$2" ] || OUT=$G/solved "$G/course/tests/mklabs.sh" 99 "$2" >/dev/null
    cp "$G/solved/$2/server.c" "$1/labs/$2/server.c"
}

# step_points LAB [server|client|all]: the points of the lab's steps, all
# of them or those in one program.
step_points() {
    local lab=$1 side=${2:-all} kind n p sum=0 where
    while read -r _ kind n p; do
        where=$(grep -l "TODO $n:" "$G/course/solutions/$lab/server.c" "$G/course/solutions/$lab/client.c")
        case $side in all) ;; *) [[ $where == */$side.c ]] || continue ;; esac
        sum=$((sum + p))
    done < <(awk -v lab="$lab" '!/^#/ && $1 == lab && $2 == "step"' "$G/course/tests/points")
    echo "$sum"
}

# total_line OUTPUT: the "total" row of a grade table: sets GOT and MAX.
total_line() {
    local re='(^|'$'\n'')total +([0-9]+) / ([0-9]+)'
    [[ $1 =~ $re ]] || fail "no total row in: $1"
    GOT=${BASH_REMATCH[2]} MAX=${BASH_REMATCH[3]}
}

@test "the points table has a row for every step of every lab, and every extra; the maximum is the table's" {
    local lab n missing=""
    for lab in "$ROOT"/solutions/[0-9][0-9]-*; do
        lab=${lab##*/}
        for n in $(todo_steps "$ROOT/solutions/$lab"); do
            [ -n "$(awk -v l="$lab" -v n="$n" '!/^#/ && $1 == l && $2 == "step" && $3 == n' "$ROOT/tests/points")" ] || missing+=" $lab/step$n"
        done
        for n in $(grep -ohE '/\* EXTRA [0-9]+:' "$ROOT/solutions/$lab"/*.c | grep -oE '[0-9]+' | sort -un); do
            [ -n "$(awk -v l="$lab" -v n="$n" '!/^#/ && $1 == l && $2 == "extra" && $3 == n' "$ROOT/tests/points")" ] || missing+=" $lab/extra$n"
        done
    done
    [ -z "$missing" ] || fail "no row in tests/points for:$missing"
    # And no row for what does not exist.
    local extra
    extra=$(awk '!/^#/ && NF { print $1 "/" $2 $3 }' "$ROOT/tests/points" | while read -r row; do
        lab=${row%%/*} item=${row#*/}
        case $item in
        step*) grep -q "TODO ${item#step}:" "$ROOT/solutions/$lab"/*.c 2>/dev/null || echo "$row" ;;
        extra*) grep -q "EXTRA ${item#extra}:" "$ROOT/solutions/$lab"/*.c 2>/dev/null || echo "$row" ;;
        esac
    done)
    [ -z "$extra" ] || fail "rows of tests/points for nothing: $extra"
    note "tests/points: $(awk '!/^#/ && $2 == "step" { s += $4 } !/^#/ && $2 == "extra" { b += $4 } END { print s " points, " b " bonus" }' "$ROOT/tests/points")"
}

@test "a handout graded in place: the skeleton scores 0; deleted and rewritten tests make the grade INVALID, naming them; graded apart, the same copy gets what its sources earn" {
    unpack "$T/student"
    run clean "$H/tests/grade.sh" -l 02
    note_lines "  skeleton: " <<<"$output"
    is "tests/grade.sh on the untouched skeleton: exit status" "$status" 1
    total_line "$output"
    is "the skeleton's points" "$GOT" 0
    is "the maximum, from tests/points" "$MAX" "$(step_points 02-socketpair)"
    # The student solves lab 02, then cheats: one test rewritten, one file deleted.
    solve "$H" 02-socketpair
    printf '@test "x" { true; }\n' >"$H/tests/03-unix-dgram.bats"
    rm "$H/tests/04-seqpacket.bats"
    run clean make -s -C "$H" grade
    note_lines "  tampered: " <<<"$output"
    [ "$status" -ne 0 ] || fail "make grade passed a tampered copy: $output"
    [[ $output == *"INVALID"* ]] || fail "not reported invalid: $output"
    [[ $output == *"tests/03-unix-dgram.bats: changed"* && $output == *"tests/04-seqpacket.bats: missing"* ]] ||
        fail "the changed and missing files are not named: $output"
    run clean "$H/tests/grade.sh"
    is "tests/grade.sh on a tampered copy: exit status" "$status" 3
    # Graded apart: only the sources count, in a pristine copy.
    mkdir -p "$T/class"
    mv "$T/student" "$T/class/mallory"
    run clean env CSV="$T/class.csv" make -s -C "$G/course" grade SUBMISSIONS="$T/class" LAB=02,03
    note_lines "  apart: " <"$T/class.csv"
    is "make grade SUBMISSIONS=: exit status" "$status" 0
    local row p02 bonus02 bonus_max
    row=$(grep '^mallory,' "$T/class.csv")
    p02=$(step_points 02-socketpair)
    bonus02=$(awk '!/^#/ && $1 == "02-socketpair" && $2 == "extra" { b += $4 } END { print b + 0 }' "$G/course/tests/points")
    bonus_max=$(awk '!/^#/ && ($1 == "02-socketpair" || $1 == "03-unix-dgram") && $2 == "extra" { b += $4 } END { print b + 0 }' "$G/course/tests/points")
    is "mallory's row" "$row" "mallory,$p02,0,$p02,$((p02 + $(step_points 03-unix-dgram))),$bonus02,$bonus_max,\"ok\""
}

@test "a class of three (solutions, skeletons, a half-solved lab) graded apart into one CSV" {
    mkdir -p "$T/class/ann/repo" "$T/class/ben" "$T/class/cy"
    for s in ann/repo ben cy; do cp -r "$G/course/labs" "$T/class/$s/"; done
    solve "$T/class/ann/repo" 01-unix-stream 05-tcp
    half "$T/class/cy" 01-unix-stream
    run clean env CSV="$T/class.csv" make -s -C "$G/course" grade SUBMISSIONS="$T/class" LAB=01,05
    note_lines "  " <"$T/class.csv"
    is "make grade SUBMISSIONS=: exit status" "$status" 0
    is "the header" "$(head -n 1 "$T/class.csv")" "student,01-unix-stream,05-tcp,total,max,bonus,bonus_max,status"
    local max=$(($(step_points 01-unix-stream) + $(step_points 05-tcp)))
    [[ $(grep '^ann,' "$T/class.csv") == "ann,$(step_points 01-unix-stream),$(step_points 05-tcp),$max,$max,"* ]] ||
        fail "ann (the solutions): $(grep '^ann,' "$T/class.csv")"
    [[ $(grep '^ben,' "$T/class.csv") == "ben,0,0,0,$max,0,"* ]] || fail "ben (the skeletons): $(grep '^ben,' "$T/class.csv")"
    local server
    server=$(step_points 01-unix-stream server)
    [[ $(grep '^cy,' "$T/class.csv") == "cy,$server,0,$server,$max,0,"* ]] ||
        fail "cy (lab 01's server solved, worth $server): $(grep '^cy,' "$T/class.csv")"
}

@test "every format: full marks for the solutions, a half-solved lab its solved steps' points, the skeleton 0, a lab that does not build 0 with the compiler's error (table, JUnit, CSV, Gradescope)" {
    local C=$T/course
    cp -a "$G/course" "$C"
    solve "$C" 04-seqpacket
    half "$C" 01-unix-stream
    echo 'int broken(void) { return undeclared_thing; }' >>"$C/labs/02-socketpair/lab.c"
    local f out
    for f in junit csv gradescope; do
        run clean env JUNIT="$T/g.xml" CSV="$T/g.csv" JSON="$T/g.json" "$C/tests/grade.sh" -f $f -l 01,02,03,04
        out=$output
        is "tests/grade.sh -f $f: exit status (not full marks)" "$status" 1
    done
    note_lines "  " <<<"$out"
    local half04 half01
    half04=$(step_points 04-seqpacket) half01=$(step_points 01-unix-stream server)
    [[ $out =~ 01-unix-stream\ +$half01\ / ]] || fail "lab 01 half-solved should earn $half01: $out"
    [[ $out =~ 02-socketpair\ +0\ /.*does\ not\ build ]] || fail "lab 02 should earn 0 and not build: $out"
    [[ $out =~ 04-seqpacket\ +$half04\ /\ $half04 ]] || fail "lab 04 solved should earn $half04: $out"
    [[ $out =~ 03-unix-dgram\ +0\ / ]] || fail "lab 03, the untouched skeleton, should earn 0: $out"
    [[ $out == *"undeclared_thing"* ]] || fail "the table's output lacks the compiler's error"
    # JUnit: every lab a suite; points as properties; the build error.
    is "JUnit suites" "$(grep -c '<testsuite ' "$T/g.xml")" 4
    is "JUnit's points for lab 03, the skeleton" "$(awk '/<testcase classname="03-unix-dgram"/ { on = 1 } on && /name="points"/ { sub(/.*name="points" value="/, ""); sub(/".*/, ""); s += $0 } /<\/testcase>/ { on = 0 } END { print s + 0 }' "$T/g.xml")" 0
    is "JUnit's failures for lab 03, the skeleton" "$(grep -A3 '<testcase classname="03-unix-dgram" name="step' "$T/g.xml" | grep -c '<failure')" "$(todo_steps "$ROOT/solutions/03-unix-dgram" | wc -l)"
    grep -q '<testcase classname="02-socketpair" name="step 1">' "$T/g.xml" || fail "no suite for the lab that does not build"
    grep -q '<error message="labs/02-socketpair does not build">' "$T/g.xml" && grep -q 'undeclared_thing' "$T/g.xml" ||
        fail "no <error> with the compiler's message in JUnit"
    local junit_points
    junit_points=$(sed -nE 's/.*<property name="points" value="([0-9]+)"\/><property name="max_points" value="[0-9]+"\/><property name="bonus" value="false"\/>.*/\1/p' "$T/g.xml" |
        awk '{ s += $1 } END { print s + 0 }')
    is "JUnit's points" "$junit_points" $((half01 + half04))
    # CSV: a row per step.
    grep -q '^02-socketpair,step 1,0,[0-9]*,unbuilt,"labs/02-socketpair does not build"$' "$T/g.csv" || fail "CSV: $(grep '^02' "$T/g.csv" | head -n 2)"
    is "CSV's points for lab 03, the skeleton" "$(awk -F, '$1 == "03-unix-dgram" && $2 ~ /^step/ { s += $3 } END { print s + 0 }' "$T/g.csv")" 0
    is "CSV's points" "$(awk -F, '$2 ~ /^step/ { s += $3 } END { print s }' "$T/g.csv")" $((half01 + half04))
    # Gradescope: the score, a test per step, the compiler's error.
    local score tests
    score=$(grep -oE '"score": [0-9]+' "$T/g.json" | head -n 1 | grep -oE '[0-9]+')
    tests=$(grep -c '"name": ' "$T/g.json")
    note "results.json: score $score, $tests tests"
    [ "$score" -ge $((half01 + half04)) ] || fail "results.json's score $score < $((half01 + half04))"
    grep -q 'undeclared_thing' "$T/g.json" || fail "results.json lacks the compiler's error"
    if command -v python3 >/dev/null; then
        python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert all("max_score" in t and "score" in t for t in d["tests"])' "$T/g.json" ||
            fail "results.json is not JSON with score and max_score in every test"
    fi
}

@test "GitHub Classroom: classroom.yml is generated from the points table, parses, and each of its commands passes for the solutions and fails for the skeletons" {
    unpack "$T/student"
    local yml=$H/.github/workflows/classroom.yml
    if command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
        run python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
steps = d["jobs"]["run-autograding-tests"]["steps"]
graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader")]
reporter = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter")][0]
ids = [s["id"] for s in graders]
assert reporter["with"]["runners"] == ",".join(ids), "runners"
for s in graders:
    w = s["with"]
    assert set(w) >= {"test-name", "setup-command", "command", "timeout", "max-score"}, w
    assert reporter["env"][s["id"].upper() + "_RESULTS"] == "${{steps.%s.outputs.result}}" % s["id"]
print(len(graders), sum(s["with"]["max-score"] for s in graders))' "$yml"
        is "the YAML parse (python3 yaml): exit status; said: $output" "$status" 0
        read -r steps points <<<"$output"
        note "classroom.yml: $steps command-grader steps, $points points"
        is "the workflow's points" "$points" "$(awk '!/^#/ && $2 == "step" { s += $4 } END { print s }' "$ROOT/tests/points")"
    else
        [ -z "${CI:-}" ] || fail "CI must parse classroom.yml: apt-get install python3-yaml"
        skip "no YAML parser here (python3-yaml)"
    fi
    # Each step's command, as the grader runs it (root here: no sudo),
    # for two labs: the skeletons fail every one, the solutions pass.
    local cmds cmd failed=0 passed=0
    mapfile -t cmds < <(sed -nE 's/^ +command: (sudo )?(make grade-step LAB=0[15] STEP=[0-9]+)$/\2/p' "$yml")
    [ "${#cmds[@]}" -ge 10 ] || fail "commands found for labs 01 and 05: ${#cmds[@]}"
    for cmd in "${cmds[@]}"; do
        (cd "$H" && clean $cmd >/dev/null 2>&1) && fail "the skeleton passes: $cmd"
        failed=$((failed + 1))
    done
    solve "$H" 01-unix-stream 05-tcp
    for cmd in "${cmds[@]}"; do
        (cd "$H" && clean $cmd >"$T/out" 2>&1) || fail "the solution fails: $cmd: $(tail -n 5 "$T/out")"
        passed=$((passed + 1))
    done
    note "labs 01 and 05: ${#cmds[@]} step commands; skeletons failed $failed, solutions passed $passed"
}

@test "Gradescope: make gradescope's zip, unpacked in a root like /autograder, grades a submission's sources: solutions full marks, skeletons 0, half-solved its steps" {
    run clean make -s -C "$G/course" gradescope LAB=01 GRADESCOPE="$T/ag.zip"
    is "make gradescope: exit status; said: $output" "$status" 0
    local kind root score
    for kind in solutions skeletons half; do
        root=$T/$kind
        mkdir -p "$root/source" "$root/submission"
        chmod 755 "$root"
        (cd "$root" && { unzip -q "$T/ag.zip" 2>/dev/null || python3 -m zipfile -e "$T/ag.zip" .; }) || fail "cannot unzip"
        [ -x "$root/run_autograder" ] || chmod +x "$root/run_autograder"
        case $kind in
        solutions) cp "$G/course/solutions/01-unix-stream"/*.[ch] "$root/submission/" ;;   # the files, flat: a one-lab assignment
        skeletons) cp -r "$G/course/labs" "$root/submission/" ;;
        half) cp -r "$G/course/labs" "$root/submission/" && half "$root/submission" 01-unix-stream ;;
        esac
        clean env AUTOGRADER_ROOT="$root" "$root/run_autograder" >"$T/$kind.log" 2>&1 || fail "run_autograder failed: $(tail -n 5 "$T/$kind.log")"
        score=$(grep -oE '"score": [0-9]+' "$root/results/results.json" | head -n 1 | grep -oE '[0-9]+')
        note "$kind: results.json score $score, $(grep -c '"name": ' "$root/results/results.json") tests"
        case $kind in
        solutions) [ "$score" -ge "$(step_points 01-unix-stream)" ] || fail "solutions scored $score" ;;
        skeletons) is "the skeleton's score" "$score" 0 ;;
        half) is "the half-solved lab's score" "$score" "$(step_points 01-unix-stream server)" ;;
        esac
    done
}

@test "a one-lab handout (make handout LAB=03) is graded in an empty directory: its maximum is that lab's, full marks when solved" {
    run clean make -s -C "$G/course" handout LAB=03 HANDOUT="$T/one.tar.gz"
    is "make handout LAB=03: exit status; said: $output" "$status" 0
    mkdir "$T/empty"
    tar -C "$T/empty" -xzf "$T/one.tar.gz"
    H=$T/empty/sockets-labs
    is "its labs" "$(cd "$H/labs" && echo *)" 03-unix-dgram
    is "its lab tests" "$(cd "$H/tests" && echo [0-9][0-9]-*.bats)" 03-unix-dgram.bats
    [ ! -e "$H/solutions" ] && [ ! -e "$H/tests/mutants" ] && [ ! -e "$H/tests/mklabs.sh" ] && [ ! -e "$H/tests/course" ] ||
        fail "teacher's files in the handout: $(cd "$H" && ls -d solutions tests/mutants tests/mklabs.sh tests/course 2>/dev/null)"
    [ -s "$H/.gitignore" ] || fail "no .gitignore"
    not grep -qE 'make (tour|test)|solutions/' "$H/README.md" || fail "the students' README sends them to what they do not have: $(grep -nE 'make (tour|test)|solutions/' "$H/README.md")"
    solve "$H" 03-unix-dgram
    run clean make -s -C "$H" grade
    note_lines "  " <<<"$output"
    is "make grade on the solved one-lab handout: exit status" "$status" 0
    total_line "$output"
    is "points" "$GOT" "$(step_points 03-unix-dgram)"
    is "the maximum" "$MAX" "$(step_points 03-unix-dgram)"
}

@test "staged (make labs TODO=3): GIVEN lists steps 1 and 2; make check never names them; make grade does not count them" {
    local C=$T/course
    cp -a "$G/course" "$C"
    run clean make -s -C "$C" labs TODO=3
    is "make labs TODO=3: exit status" "$status" 0
    is "labs/01-unix-stream/GIVEN" "$(cat "$C/labs/01-unix-stream/GIVEN")" "1 2"
    run clean make -s -C "$C" check LAB=01
    printf '%s\n' "$output" | grep -E '^check: ' | note_lines "  "
    [[ $output == *"check: most likely step 3 is wrong"* ]] || fail "step 3 not named: $(printf '%s\n' "$output" | grep '^check:')"
    run clean "$C/tests/grade.sh" -l 01
    note_lines "  " <<<"$output"
    total_line "$output"
    local p1 p2
    p1=$(awk '$1 == "01-unix-stream" && $2 == "step" && $3 == 1 { print $4 }' "$C/tests/points")
    p2=$(awk '$1 == "01-unix-stream" && $2 == "step" && $3 == 2 { print $4 }' "$C/tests/points")
    is "the maximum, steps 1 and 2 given" "$MAX" $(($(step_points 01-unix-stream) - p1 - p2))
    is "the points" "$GOT" 0
}

@test "graded by a normal user, a step whose tests need root is 'not gradable here', and the total says INCOMPLETE, never reweighted" {
    [ "$(id -u)" -eq 0 ] || skip "needs root, to grade as user nobody"
    local C=$T/course
    cp -a "$G/course" "$C"
    solve "$C" 05-tcp
    chown -R nobody "$C"
    run setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="${PATH#"$BATS_LIBEXEC:"}" HOME=/tmp "$C/tests/grade.sh" -l 05
    note_lines "  " <<<"$output"
    is "tests/grade.sh as nobody, not all gradable: exit status" "$status" 1
    [[ $output == *"INCOMPLETE: "*" points not gradable here"* ]] || fail "no INCOMPLETE total: $output"
    [[ $output =~ 05-tcp\ step\ [0-9]+:\ not\ gradable\ here:\ [^$'\n']*root ]] || fail "no step said not gradable, needing root: $output"
    total_line "$output"
    is "the maximum stays the table's" "$MAX" "$(step_points 05-tcp)"
    [ "$GOT" -lt "$MAX" ] || fail "all $GOT points earned as nobody: nothing needed root?"
}
