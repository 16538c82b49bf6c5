#!/usr/bin/env bash
# tests/grade.sh [junit] - `make grade [FORMAT=junit]`: build every lab in
# labs/ and run its tests against it; print a score table (lab, tests
# passed/total, points) and the total. Each lab is worth 10 points, shared
# evenly among its tests; a lab that does not build scores 0. Exits 0 only
# with full marks. With junit, also writes one JUnit XML file, a testsuite
# per lab, for classroom autograders (to $JUNIT, by default
# /tmp/sockets-grade.xml) and prints its path.
set -uo pipefail
cd "$(dirname "$0")/.."

format=${1:-}
case $format in
"" | junit) ;;
*) echo "grade: FORMAT is junit or nothing, not '$format'" >&2; exit 2 ;;
esac
work=$(mktemp -d /tmp/grade.XXXXXX)
trap 'rm -rf "$work"' EXIT
junit=""
[ "$format" = junit ] && junit=${JUNIT:-${TMPDIR:-/tmp}/sockets-grade.xml}

rows=()
got=0 max=0
for dir in labs/[0-9][0-9]-*/; do
    lab=$(basename "$dir")
    [ -f "tests/$lab.bats" ] || continue
    total=$(bats --count "tests/$lab.bats")
    passed=0
    if make --no-print-directory -s -C "$dir" >"$work/$lab.build" 2>&1; then
        mkdir -p "$work/$lab"
        args=(--formatter tap)
        [ -n "$junit" ] && args+=(--report-formatter junit --output "$work/$lab")
        TREE=labs bats "${args[@]}" "tests/$lab.bats" >"$work/$lab.tap" 2>&1
        passed=$(grep -E '^ok ' "$work/$lab.tap" | grep -vc '# skip')
        skipped=$(grep -E '^ok ' "$work/$lab.tap" | grep -c '# skip')
        total=$((total - skipped))   # a test this machine cannot run counts for nothing
        note=""
    else
        note="  (does not build: make -C $dir)"
    fi
    points=$((total > 0 ? 1000 * passed / total : 0))   # tenths of a point, times 100
    got=$((got + points)) max=$((max + 1000))
    rows+=("$(printf '%-16s %3d/%-3d %5d.%d%s' "$lab" "$passed" "$total" $((points / 100)) $((points % 100 / 10)) "$note")")
done

printf '%-16s %-7s %7s\n' lab passed points
printf '%s\n' "${rows[@]}"
printf '%-16s %-7s %5d.%d / %d\n' total "" $((got / 100)) $((got % 100 / 10)) $((max / 100))
if [ -n "$junit" ]; then
    # One document: bats writes <testsuites> around one <testsuite> per run.
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<testsuites>'
        for f in "$work"/*/report.xml; do
            [ -f "$f" ] && sed -e '/^<?xml/d' -e '/^<\/\?testsuites/d' "$f"
        done
        echo '</testsuites>'
    } >"$junit"
    echo "JUnit report: $junit"
fi
[ "$got" -eq "$max" ]
