#!/usr/bin/env bash
# tests/mutants.sh [-j N] [NN-topic...] - the mutation table: wrong answers
# that students really write, and what `make check` makes of each.
#
# tests/mutants/NN-topic.txt holds a lab's mutants, one block each:
#
#   ## 6 client.c: close() for shutdown(): poll() then sees POLLNVAL
#   - shut = shutdown(fd, SHUT_WR);
#   + shut = close(fd);
#
# The header gives the TODO step, the file, and what the mistake is; the
# "- " lines are consecutive lines of the file (compared without their
# leading and trailing blanks) that must occur exactly once, inside that
# step's TODO markers in solutions/; the "+ " lines replace them (none:
# deleted), indented like the first line they replace.
#
# For each lab: a fresh copy of the course whose labs/NN-topic is the
# solution's code (every step solved, no extra), which must pass `make
# check`; then, for each mutant, the same copy with that one change. Each
# mutant must build, fail `make check` within BOUND seconds (60), leave no
# process running (every process the check starts carries a token in its
# environment; any still alive after it is counted and killed) and name its
# own step first ("most likely step N"). Every TODO step needs at least
# MIN_MUTANTS (2) mutants. Prints the table (with TAP=1, also an "ok" or
# "not ok" line per mutant); exits 1 when any row is wrong.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # todo_steps, leftovers, peer_labs

jobs=2
if [ "${1:-}" = -j ]; then jobs=$2; shift 2; fi
bound=${BOUND:-60} min=${MIN_MUTANTS:-2}
if [ $# -gt 0 ]; then labs=("$@"); else labs=(); for d in solutions/[0-9][0-9]-*/; do d=${d%/}; labs+=("${d##*/}"); done; fi
work=$(mktemp -d /tmp/mutants.XXXXXX)
trap 'rm -rf "$work"' EXIT

# copy_course DIR LAB: a course copy at DIR whose labs/LAB is solved.
copy_course() {
    mkdir -p "$1/labs" "$1/solutions"
    cp -r Makefile README.md tests notes "$1/"
    cp -r "solutions/$2" "$1/solutions/"
    local p
    for p in $(peer_labs "tests/$2.bats"); do cp -r "solutions/$p" "$1/solutions/"; done   # its tests' peers (peer_lab)
    OUT=$1/labs tests/mklabs.sh 99 "$2"
    cp "labs/$2/README.md" "$1/labs/$2/"
}

# apply LAB N FILE DIR < block: make the change of one mutant in
# DIR/labs/LAB/FILE, checking it lies in step N of the solution.
apply() {
    awk -v n="$2" -v sol="solutions/$1/$3" -v target="$4/labs/$1/$3" '
        function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
        function die(msg) { print "mutant of step " n " in " FILENAME ": " msg > "/dev/stderr"; bad = 1; exit 1 }
        FNR == NR { if (/^- /) old[++nold] = trim(substr($0, 3)); else if (/^\+ /) new[++nnew] = substr($0, 3); next }
        FILENAME == sol {
            if ($0 ~ "/\\* TODO " n ":") instep = 1
            if ($0 ~ "/\\* END TODO " n " \\*/") instep = 0
            sl[FNR] = trim($0); stepat[FNR] = instep; ns = FNR; next
        }
        { tl[FNR] = $0; nt = FNR }
        END {
            if (bad) exit 1
            if (!nold) die("no - lines")
            for (i = 1; i + nold - 1 <= ns; i++) {
                for (j = 1; j <= nold && sl[i + j - 1] == old[j]; j++) ;
                if (j > nold) { if (!stepat[i]) die("the - lines are not inside TODO " n " in " sol); insol = 1 }
            }
            if (!insol) die("the - lines are not in " sol)
            hits = 0
            for (i = 1; i + nold - 1 <= nt; i++) {
                for (j = 1; j <= nold && trim(tl[i + j - 1]) == old[j]; j++) ;
                if (j > nold) { hits++; at = i }
            }
            if (hits != 1) die("the - lines occur " hits " times in the skeleton")
            match(tl[at], /^[ \t]*/); indent = substr(tl[at], 1, RLENGTH)
            for (i = 1; i < at; i++) print tl[i] > target
            for (k = 1; k <= nnew; k++) print indent trim(new[k]) > target
            for (i = at + nold; i <= nt; i++) print tl[i] > target
        }' - "solutions/$1/$3" "$4/labs/$1/$3.orig"
}

# check_one DIR LAB: run make check there; prints "STATUS SECONDS NAMED LEFT".
check_one() {
    local token=mutant-$$-$RANDOM start status named left
    start=$EPOCHREALTIME
    SOCKETS_MUTANT=$token timeout -k 5 "$bound" make --no-print-directory -C "$1" check LAB="$2" >"$1/check.log" 2>&1
    status=$?
    named=$(sed -nE 's/^check: most likely step ([0-9]+) .*/\1/p' "$1/check.log")
    leftovers "$token" SOCKETS_MUTANT >"$1/left.log"   # lib.bash: listed, counted, killed
    left=${#LEFTOVERS[@]}
    printf '%s %.1f %s %s\n' "$status" "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "${named:--}" "$left"
}

# run_lab LAB: the lab's rows of the table; exits 1 when one is wrong.
run_lab() {
    local lab=$1 table=tests/mutants/$1.txt dir=$work/$1 bad=0 i=0 n file what status secs named left verdict
    copy_course "$dir" "$lab" || return 1
    make -s -C "$dir/labs/$lab" >/dev/null 2>&1 || { echo "$lab: the solved copy does not build"; return 1; }
    read -r status secs named left < <(check_one "$dir" "$lab")
    if [ "$status" -ne 0 ] || [ "$left" -ne 0 ]; then
        echo "$lab: the solved copy does not pass make check (exit $status, $left left running):"
        tail -n 30 "$dir/check.log" | sed 's/^/    /'
        return 1
    fi
    printf '%-16s %-4s %-52s %-7s %-5s %5ss %s\n' "$lab" "-" "(the solution itself)" passes "-" "$secs" "$left"
    for f in "$dir/labs/$lab"/*.c "$dir/labs/$lab"/*.h; do cp "$f" "$f.orig"; done
    for n in $(todo_steps "solutions/$lab"); do
        if [ "$(grep -cE "^## $n " "$table" 2>/dev/null)" -lt "$min" ]; then
            echo "$lab: step $n has fewer than $min mutants in $table"
            bad=1
        fi
    done
    [ -f "$table" ] || return 1
    while IFS= read -r header; do
        i=$((i + 1))
        [[ $header =~ ^##\ ([0-9]+)\ ([a-z.]+):\ (.*) ]] || continue
        n=${BASH_REMATCH[1]} file=${BASH_REMATCH[2]} what=${BASH_REMATCH[3]}
        for f in "$dir/labs/$lab"/*.orig; do cp "$f" "${f%.orig}"; done
        # The block: the lines after this header, up to the next one.
        awk -v k="$i" '/^## / { b++; next } b == k && /^[-+] /' "$table" >"$dir/block"
        if ! apply "$lab" "$n" "$file" "$dir" <"$dir/block"; then
            [ -n "${TAP:-}" ] && echo "not ok - mutant $lab/$n: $what (DOES NOT APPLY)"
            bad=1
            continue
        fi
        if ! make -s -C "$dir/labs/$lab" >"$dir/build.log" 2>&1; then
            printf '%-16s %-4s %-52.52s %s\n' "$lab" "$n" "$what" "DOES NOT BUILD (a mutant must compile under -Werror)"
            [ -n "${TAP:-}" ] && echo "not ok - mutant $lab/$n: $what (DOES NOT BUILD)"
            sed 's/^/    /' "$dir/build.log" | head -n 5
            bad=1
            continue
        fi
        read -r status secs named left < <(check_one "$dir" "$lab")
        verdict=ok
        if [ "$status" -eq 0 ]; then verdict=MISSED
        elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then verdict=TIMEOUT
        elif [ "$left" -ne 0 ]; then verdict=LEFT
        elif [ "$named" != "$n" ]; then verdict=MISNAMED
        fi
        printf '%-16s %-4s %-52.52s %-7s %-5s %5ss %s\n' "$lab" "$n" "$what" \
            "$([ "$status" -ne 0 ] && echo caught || echo missed)" "$named" "$secs" "$left"
        # A TAP line too, for CI's count of tests.
        [ -n "${TAP:-}" ] && { [ "$verdict" = ok ] && echo "ok - mutant $lab/$n: $what" || echo "not ok - mutant $lab/$n: $what ($verdict)"; }
        if [ "$verdict" != ok ]; then
            echo "    $verdict: exit $status, named step $named, $left left running; make check said:"
            grep -E '^check: |^  not ok ' "$dir/check.log" | head -n 12 | sed 's/^/    /'
            [ -s "$dir/left.log" ] && sed 's/^/    left running: /' "$dir/left.log" | cut -c1-600
            bad=1
        fi
    done < <(grep -E '^## ' "$table")
    return "$bad"
}

printf '%-16s %-4s %-52s %-7s %-5s %6s %s\n' lab step mutant result named time left
pids=()
for lab in "${labs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_lab "$lab" >"$work/$lab.log" 2>&1 &
    pids+=($!)
done
bad=0
for i in "${!labs[@]}"; do
    wait "${pids[$i]}" || bad=1
    cat "$work/${labs[$i]}.log"
done
rows=$(cat "$work"/*.log | grep -cE '^[0-9]{2}-[a-z-]+ +[0-9]+ ')
caught=$(cat "$work"/*.log | grep -E '^[0-9]{2}-[a-z-]+ +[0-9]+ ' | grep -c ' caught ')
echo "mutants: $rows, caught $caught; $([ "$bad" -eq 0 ] && echo "every one named its own step, in time, leaving nothing running" || echo "SOME ROWS ARE WRONG (above)")"
exit "$bad"
