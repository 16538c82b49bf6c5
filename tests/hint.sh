#!/usr/bin/env bash
# tests/hint.sh LAB STEP [LEVEL] - `make hint LAB=03 STEP=2 [LEVEL=2]`: one
# hint for one TODO step, from the lesson's "## Hints" section
# (labs/NN-topic/README.md), where "### Step N" has three levels, each a
# "#### N. TITLE" part:
#   LEVEL=1 (the default)  a nudge: the idea, and where in the man page
#   LEVEL=2                the call and its arguments, in words
#   LEVEL=3                the shape of the code
# LAB may be 3, 03 or 03-unix-dgram.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_name

want=${1:-} step=${2:-} level=${3:-1}
lab=$(lab_name "$want")
if [ -z "$lab" ] || ! [[ $step =~ ^[0-9]+$ ]] || ! [[ $level =~ ^[123]$ ]]; then
    echo "usage: make hint LAB=NN STEP=N [LEVEL=1|2|3]   (labs: $(cd labs && echo [0-9][0-9]-*))" >&2
    exit 2
fi
readme=labs/$lab/README.md
hint=$(awk -v step="$step" -v level="$level" '
    /^## / { inhints = ($0 == "## Hints"); instep = 0; found = 0; next }
    inhints && /^### / { instep = ($0 == "### Step " step); found = 0; next }
    instep && /^#### / { found = (substr($0, 6, 2) == level "."); if (found) print; next }
    found { print }
' "$readme")
if [ -z "${hint//[[:space:]]/}" ]; then
    steps=$(sed -n 's/^### Step \([0-9]*\)$/\1/p' "$readme" | tr '\n' ' ')
    if grep -qx "### Step $step" "$readme"; then
        echo "hint: step $step of labs/$lab has no level $level hint" >&2
    else
        echo "hint: labs/$lab has no step $step (its steps: ${steps:-none})" >&2
    fi
    exit 2
fi
where=$(grep -nE "TODO $step:" "labs/$lab"/*.c | head -n 1 | cut -d: -f1,2)
echo "Hint $level of 3 for step $step of $lab${where:+ ($where)}:"
# Drop the heading's "#### " and the blank lines around the text.
printf '%s\n' "$hint" | sed -e '1s/^#### //' -e '/./,$!d' | tac | sed -e '/./,$!d' | tac
if [ "$level" -lt 3 ]; then
    echo
    echo "More: make hint LAB=${lab%%-*} STEP=$step LEVEL=$((level + 1))"
fi
