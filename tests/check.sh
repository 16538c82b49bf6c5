#!/usr/bin/env bash
# tests/check.sh LAB - `make check LAB=01`: build the student's labs/LAB and
# run its tests on it (LAB may be 1, 01 or 01-unix-stream), then say which
# TODO step is most likely wrong, and what that step asks.
#
# - Reference peers: the test of a step in client.c runs the student's
#   client against the reference server, and the reverse (tests/lib.bash,
#   reference_peer), so a mistake in one program fails that program's
#   steps only.
# - The tests run in groups, one per step, CHECK_JOBS (3) at a time; each
#   test is bounded by BATS_TEST_TIMEOUT (20 s here), and the whole check
#   by CHECK_BOUND (50 s): a group still running then is stopped, and its
#   unfinished tests fail. A wrong answer that hangs fails its tests, and
#   the check, building included, ends within a minute.
# - Nothing is left running: every program a test starts carries a token
#   in its environment, whatever its uid; after the tests, any process
#   still holding it is killed and named.
# - The most likely step: the first step all of whose tests fail; else the
#   first with a failing test. Its whole instruction is printed, and the
#   hint command for it.
# - "[extra N]" tests (the lesson's "Going further") are reported apart
#   and never fail the check.
# - Steps handed out solved (make labs TODO=N writes them in the lab's
#   GIVEN file) are never named as the step to look at.
# Exit 0 when every step's test passes, 1 when one fails, 2 on usage.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_name, leftovers

want=${1:-}
if [ -z "$want" ]; then
    echo "usage: make check LAB=NN   (one of: $(cd labs && echo [0-9][0-9]-*))" >&2
    exit 2
fi
lab=$(lab_name "$want")
if [ -z "$lab" ] || [ ! -f "tests/$lab.bats" ]; then
    echo "check: no lab '$1' (labs: $(cd labs && echo [0-9][0-9]-*))" >&2
    exit 2
fi
jobs=${CHECK_JOBS:-3} bound=${CHECK_BOUND:-50}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-20}

make --no-print-directory -C "labs/$lab" || {
    echo "check: labs/$lab does not build; fix the compiler's first error above." >&2
    exit 1
}
# A short directory, searchable by all: the tests run some programs as
# user nobody, and a path cut short by a wrong sockaddr length (14 bytes
# of sun_path) must still fall inside it, never make a file in /tmp.
work=$(mktemp -d /tmp/c.XXXXXX)
chmod 755 "$work"
token=sockets-check-$$-$RANDOM
sweep() {
    local left
    left=$(leftovers "$token")
    [ -z "$left" ] || echo "check: killed what the tests left running: $left" >&2
}
trap 'sweep; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
tests/reference.sh "$work/ref" labs "$lab" || exit 1

# One group per step, in the order of the steps; then the tests of no
# step, then the extras.
steps=$(sed -nE 's/^@test "\[step ([0-9]+)\].*/\1/p' "tests/$lab.bats" | sort -un)
groups=() filters=()
for s in $steps; do groups+=("step $s") filters+=("^\\[step $s\\] "); done
if grep -qE '^@test "[^[]' "tests/$lab.bats"; then groups+=(other) filters+=('^[^[]'); fi
if grep -qE '^@test "\[extra ' "tests/$lab.bats"; then groups+=(extras) filters+=('^\[extra '); fi

run_group() {   # run_group I: the tests of group I, TAP in $work/I.tap
    local left=$((deadline - SECONDS)) status
    if [ "$left" -le 0 ]; then
        echo "not ok - ${groups[$1]}: not run, the check's ${bound} s were up" >"$work/$1.tap"
        return 0
    fi
    SOCKETS_RUN=$token TREE=labs REF=$work/ref TMPDIR=$work QUIET_NOTES=1 \
        timeout -k 2 "$left" bats --formatter tap -f "${filters[$1]}" "tests/$lab.bats" >"$work/$1.tap" 2>&1
    status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "not ok - ${groups[$1]}: stopped when the check's ${bound} s were up (a program that hangs?)" >>"$work/$1.tap"
    fi
    return 0
}
deadline=$((SECONDS + bound))
for i in "${!groups[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_group "$i" &
done
wait
sweep

# The instruction of step S: its whole TODO comment, rewrapped.
instruction() {
    awk -v s="$1" '$0 ~ "TODO " s ":" { on = 1 } on { sub(/^ *(\/\*|\*)? */, ""); printf "%s ", $0 } on && /\*\// { exit } END { print "" }' "labs/$lab"/*.c |
        sed -E 's/^TODO [0-9]+: *//; s/ *\*\/ *$//' | fold -s -w 72 | sed 's/^/      /'
}

given=" $(cat "labs/$lab/GIVEN" 2>/dev/null) "
failed_steps=() first_full="" first_any="" bad=0 extras=""
echo
for i in "${!groups[@]}"; do
    total=$(grep -cE '^(not )?ok ' "$work/$i.tap")
    failing=$(grep -cE '^not ok ' "$work/$i.tap")
    skipped=$(grep -cE '^ok .*# skip' "$work/$i.tap")
    passed=$((total - failing - skipped))
    verdict=ok
    [ "$failing" -gt 0 ] && verdict=FAIL
    skips=""
    [ "$skipped" -gt 0 ] && skips=", $skipped skipped here"
    if [ "${groups[$i]}" = extras ]; then
        extras="$passed of $((total - skipped)) extra tests pass$skips"
        continue
    fi
    s=${groups[$i]#step }
    [[ $given == *" $s "* ]] && skips+=" (handed out solved)"
    printf 'check: %-7s %-4s  %d of %d tests pass%s\n' "${groups[$i]}" "$verdict" "$passed" "$((total - skipped))" "$skips"
    [ "$failing" -eq 0 ] && continue
    bad=1
    case ${groups[$i]} in
    step*)
        [[ $given == *" $s "* ]] && continue
        failed_steps+=("$s")
        [ -z "$first_any" ] && first_any=$s
        [ -z "$first_full" ] && [ "$passed" -eq 0 ] && first_full=$s
        ;;
    esac
done
[ -n "$extras" ] && echo "check: extras  $extras (not needed to pass: the lesson's \"Going further\")"

if [ "$bad" -eq 0 ]; then
    echo "check: labs/$lab passes all its tests."
    exit 0
fi
echo
echo "The failing tests, with what they saw:"
for i in "${!groups[@]}"; do
    [ "${groups[$i]}" = extras ] && continue
    # Each failing test and its diagnostics (TAP's "# " lines after it).
    awk '/^not ok / { on = 1; print; next } /^ok / { on = 0 } on && /^#/ { print }' "$work/$i.tap" | sed 's/^/  /'
done
echo
likely=${first_full:-$first_any}
if [ -n "$likely" ]; then
    where=$(grep -nE "TODO $likely:" "labs/$lab"/*.c | head -n 1 | cut -d: -f1,2)
    others=""
    for s in "${failed_steps[@]}"; do [ "$s" = "$likely" ] || others+=" $s"; done
    echo "check: most likely step $likely is wrong ($where):"
    instruction "$likely"
    [ -n "$others" ] && echo "check: also failing, maybe through step $likely: steps${others}."
    echo "A hint: make hint LAB=${lab%%-*} STEP=$likely   (then LEVEL=2 and LEVEL=3: more of the answer)"
    echo "The lesson, step by step: labs/$lab/README.md"
else
    echo "check: only tests of no single step fail; their messages are above."
fi
exit 1
