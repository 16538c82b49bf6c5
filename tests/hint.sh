#!/usr/bin/env bash
# tests/hint.sh LAB STEP - `make hint LAB=03 STEP=2`: print the hint for one
# TODO step, the "### Step N" part of the lesson's "## Hints" section
# (labs/NN-topic/README.md). LAB may be 3, 03 or 03-unix-dgram.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_name

want=${1:-} step=${2:-}
lab=$(lab_name "$want")
if [ -z "$lab" ] || ! [[ $step =~ ^[0-9]+$ ]]; then
    echo "usage: make hint LAB=NN STEP=N   (labs: $(cd labs && echo [0-9][0-9]-*))" >&2
    exit 2
fi
readme=labs/$lab/README.md
hint=$(awk -v step="$step" '
    /^## / { inhints = ($0 == "## Hints"); found = 0; next }
    inhints && /^### / { found = ($0 == "### Step " step); next }
    found { print }
' "$readme")
if [ -z "${hint//[[:space:]]/}" ]; then
    steps=$(sed -n 's/^### Step \([0-9]*\)$/\1/p' "$readme" | tr '\n' ' ')
    echo "hint: labs/$lab has no step $step (its steps: ${steps:-none})" >&2
    exit 2
fi
where=$(grep -nE "TODO $step:" "labs/$lab"/*.c | head -n 1 | cut -d: -f1,2)
echo "Hint for step $step of $lab${where:+ ($where)}:"
# Drop the blank lines around the text, keep the ones inside it.
printf '%s\n' "$hint" | sed -e '/./,$!d' | tac | sed -e '/./,$!d' | tac
