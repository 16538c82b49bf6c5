#!/usr/bin/env bash
# tests/check.sh LAB - build the student's labs/LAB and run its tests on it
# (`make check LAB=01`; LAB may be 1, 01 or 01-unix-stream). When tests
# fail, say which TODO steps they are about, and where those steps are.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_name

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

make --no-print-directory -C "labs/$lab" || {
    echo "check: labs/$lab does not build; fix the compiler's first error above." >&2
    exit 1
}
report=$(mktemp -d /tmp/check.XXXXXX)
trap 'rm -rf "$report"' EXIT
TREE=labs bats --report-formatter tap --output "$report" "tests/$lab.bats"
status=$?
[ "$status" -eq 0 ] && { echo "check: labs/$lab passes all its tests."; exit 0; }

steps=$(sed -nE 's/^not ok [0-9]+ \[step ([0-9]+)\].*/\1/p' "$report/report.tap" | sort -un)
echo
if [ -n "$steps" ]; then
    echo "check: the failing tests are about these TODO steps of labs/$lab:"
    for s in $steps; do
        where=$(grep -nE "TODO $s:" "labs/$lab"/*.c | head -n 1 | cut -d: -f1,2)
        # The instruction: the whole TODO comment, on one line, cut at its first sentence.
        what=$(awk -v s="$s" '$0 ~ "TODO " s ":" { on = 1 } on { sub(/^ *\/?\*? */, ""); printf "%s ", $0 } on && /\*\// { exit }' "labs/$lab"/*.c |
            sed -E 's/^TODO [0-9]+: *//; s/ *\*\/ *$//; s/\. .*/./')
        echo "  step $s  ($where)  $what"
    done
    echo "The lesson, step by step: labs/$lab/README.md"
    echo "A hint for one step: make hint LAB=${lab%%-*} STEP=$(echo "$steps" | head -n 1)"
else
    echo "check: some tests of labs/$lab fail; their messages are above."
fi
exit 1
