#!/usr/bin/env bash
# tests/grade.sh - make grade: score the labs in labs/ by the points table.
#
#   tests/grade.sh [-f FORMAT] [-l LABS]               (make grade [FORMAT=] [LAB=01,03])
#   tests/grade.sh -s DIR [-l LABS]                    (make grade SUBMISSIONS=DIR)
#   tests/grade.sh -t LAB STEP                         (make grade-step LAB=01 STEP=3)
#
# - Points: tests/points gives each lab's TODO steps their points, and its
#   "extra N" rows the bonus points of the lessons' "Going further". A
#   step earns its points when every one of its tests ("[step N]") passes,
#   run as make check runs them: the student's program against the
#   reference peer. Tests of no step earn nothing, so the untouched
#   skeleton scores 0. The maximum is the table's, for the labs graded.
# - A step whose tests fail earns 0. A step with a test this machine
#   cannot run (it skips: not root, no IPv6...) and none failing is "not
#   gradable here", with the reason; the total is then marked incomplete,
#   never reweighted. Steps handed out solved (the lab's GIVEN file, from
#   make labs TODO=N) are not graded. A lab that does not build earns 0,
#   and the compiler's messages go in every format.
# - Tampering: a copy made by make handout carries tests/MANIFEST, the
#   checksums of every test and grading file. Graded in place, a changed
#   or missing file is named and the grade is INVALID (exit 3).
#   -s DIR grades apart from the students' copies: for each directory in
#   DIR (one per student, as GitHub Classroom's assistant or a Gradescope
#   export lays them out), only its labs/NN-*/*.c and *.h are copied into
#   a pristine copy of this course, and graded there; one CSV row each.
# - Formats: table (the default, on stdout); junit (a testsuite per lab, a
#   testcase per step, points as properties; to $JUNIT); csv (a row per
#   step; to $CSV); gradescope (results.json, a test per step; to $JSON).
#   The table is printed in every format.
# Exit: 0 full marks, 1 otherwise, 2 usage, 3 invalid (tampered).
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_name, leftovers

usage() {
    echo "usage: make grade [FORMAT=table|junit|csv|gradescope] [LAB=NN,NN] | make grade SUBMISSIONS=DIR [LAB=NN,NN] | make grade-step LAB=NN STEP=N" >&2
    exit 2
}
format=table labs_arg="" submissions="" one_lab="" one_step=""
while getopts f:l:s:t: opt; do
    case $opt in
    f) format=$OPTARG ;;
    l) labs_arg=$OPTARG ;;
    s) submissions=$OPTARG ;;
    t) one_lab=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
if [ -n "$one_lab" ]; then one_step=${1:-}; [[ $one_step =~ ^[0-9]+$ ]] || usage; fi
case $format in table | junit | csv | gradescope) ;; *) echo "grade: FORMAT is table, junit, csv or gradescope, not '$format'" >&2; usage ;; esac

# Short, and searchable by all: as in check.sh (tests run some programs as
# user nobody; a path cut to 14 bytes by a wrong length stays inside).
work=$(mktemp -d /tmp/g.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# points LAB KIND N: the points of that row of the table ("" if none).
points() {
    awk -v lab="$1" -v kind="$2" -v n="$3" '!/^#/ && $1 == lab && $2 == kind && $3 == n { print $4; exit }' tests/points
}

# table_labs: the labs the points table names, in order.
table_labs() {
    awk '!/^#/ && NF { print $1 }' tests/points | uniq
}

# chosen_labs DIR: the labs to grade in the course copy DIR: those of the
# table that DIR's labs/ has (all, or those of -l).
chosen_labs() {
    local lab want
    for lab in $(table_labs); do
        [ -d "$1/labs/$lab" ] || continue
        if [ -n "$labs_arg" ]; then
            for want in ${labs_arg//,/ }; do
                [ "$(lab_name "$want")" = "$lab" ] && echo "$lab"
            done
        else
            echo "$lab"
        fi
    done
}

# verify DIR: in a copy made by make handout (DIR/tests/MANIFEST), every
# file the manifest lists is there, unchanged. Prints what is not.
verify() {
    [ -f "$1/tests/MANIFEST" ] || return 0
    (cd "$1" && sha256sum --quiet -c tests/MANIFEST 2>/dev/null) | sed -E 's/: FAILED open or read$/: missing/; s/: FAILED$/: changed/'
    return 0
}

# grade_lab DIR LAB OUT [FILTER]: build DIR/labs/LAB, run its tests against
# the reference peers, and write OUT/LAB.items, one row per graded item:
#   KIND N POINTS MAX STATUS DETAIL      (tab-separated)
# KIND is step or extra; STATUS passed, failed, skipped (not gradable
# here; DETAIL says why), given or unbuilt. OUT/LAB.KIND-N.txt holds the
# item's test output; OUT/LAB.build the compiler's; OUT/LAB.other the
# count of the tests of no step ("passed total").
grade_lab() {
    local dir=$1 lab=$2 out=$3 filter=${4:-} token=grade-$$-$RANDOM built=1 kind n max
    local given=" $(cat "$dir/labs/$lab/GIVEN" 2>/dev/null) "
    : >"$out/$lab.items"
    if ! make --no-print-directory -s -C "$dir/labs/$lab" >"$out/$lab.build" 2>&1 ||
        ! (cd "$dir" && tests/reference.sh "$out/ref" labs "$lab") >>"$out/$lab.build" 2>&1; then
        built=0
    else
        (cd "$dir" && SOCKETS_RUN=$token TREE=labs REF=$out/ref TMPDIR=$work \
            bats --formatter tap ${filter:+-f "$filter"} "tests/$lab.bats") >"$out/$lab.tap" 2>&1
        leftovers "$token" >/dev/null
    fi
    # Per item: passed, failed and skipped tests, the skip reasons, and the
    # output of each test (its TAP line and diagnostics).
    awk -v out="$out/$lab" '
        /^(not )?ok [0-9]+ / {
            name = $0; sub(/^(not )?ok [0-9]+ /, "", name)
            key = "other"
            if (match(name, /^\[(step|extra) [0-9]+\]/)) { key = substr(name, 2, RLENGTH - 2); sub(/ /, "-", key) }
            if (/^not ok/) fail[key]++
            else if (/ # skip/) { skip[key]++; r = name; sub(/.* # skip ?/, "", r); why[key] = why[key] (why[key] == "" ? "" : "; ") r }
            else pass[key]++
            seen[key] = 1
            text[key] = text[key] $0 "\n"
            next
        }
        /^#/ { text[key] = text[key] $0 "\n" }
        END {
            for (k in seen) {
                if (k != "other") printf "%s", text[k] > (out "." k ".txt")
                printf "%s\t%d\t%d\t%d\t%s\n", k, pass[k], fail[k], skip[k], why[k] > (out ".counts")
            }
        }' "$out/$lab.tap" 2>/dev/null
    [ -f "$out/$lab.counts" ] || : >"$out/$lab.counts"
    local other
    other=$(awk -F'\t' '$1 == "other" { print $2, $2 + $3 + $4 }' "$out/$lab.counts")
    echo "${other:-0 0}" >"$out/$lab.other"
    while read -r kind n max; do
        [ -n "$one_step" ] && { [ "$kind" = step ] && [ "$n" = "$one_step" ] || continue; }
        local row pass=0 fail=0 skip=0 why="" status detail="" got=0
        if [ "$kind" = step ] && [[ $given == *" $n "* ]]; then
            printf '%s\t%s\t0\t0\tgiven\thanded out solved\n' "$kind" "$n" >>"$out/$lab.items"
            continue
        fi
        row=$(awk -F'\t' -v k="$kind-$n" '$1 == k' "$out/$lab.counts")
        [ -n "$row" ] && IFS=$'\t' read -r _ pass fail skip why <<<"$row"
        if [ "$built" -eq 0 ]; then status=unbuilt detail="labs/$lab does not build"
        elif [ "$fail" -gt 0 ]; then status=failed detail="$fail of $((pass + fail + skip)) tests fail"
        elif [ "$skip" -gt 0 ]; then status=skipped detail="not gradable here: $why"
        elif [ "$pass" -gt 0 ]; then status=passed got=$max
        else status=failed detail="no test names [$kind $n]"
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$got" "$max" "$status" "$detail" >>"$out/$lab.items"
    done < <(awk -v lab="$lab" '!/^#/ && $1 == lab { print $2, $3, $4 }' tests/points)
}

# grade_labs DIR OUT LABS...: grade_lab for each lab, GRADE_JOBS (3) at a
# time: a lab's tests wait on timers more than on the CPU.
grade_labs() {
    local dir=$1 out=$2 lab
    shift 2
    for lab; do
        while [ "$(jobs -rp | wc -l)" -ge "${GRADE_JOBS:-3}" ]; do wait -n; done
        grade_lab "$dir" "$lab" "$out" &
    done
    wait
}

# totals OUT LABS...: sets GOT, MAX (base points), BONUS, BONUS_MAX and
# PENDING (points not gradable here) over the labs' items.
totals() {
    local out=$1 lab
    shift
    read -r GOT MAX BONUS BONUS_MAX PENDING < <(for lab; do cat "$out/$lab.items"; done | awk -F'\t' '
        $1 == "step" && $5 != "given" { got += $3; max += $4; if ($5 == "skipped") pending += $4 }
        $1 == "extra" { bonus += $3; bmax += $4 }
        END { print got + 0, max + 0, bonus + 0, bmax + 0, pending + 0 }')
}

# print_table OUT LABS...: the score table, then what went wrong.
print_table() {
    local out=$1 lab got max b bmax steps other
    shift
    printf '%-16s %-9s %-7s %s\n' lab points bonus "steps (points earned; - failed, ? not gradable here, = given)"
    for lab; do
        read -r got max b bmax _ < <(awk -F'\t' '
            $1 == "step" && $5 != "given" { got += $3; max += $4 } $1 == "extra" { b += $3; bm += $4 }
            END { print got + 0, max + 0, b + 0, bm + 0 }' "$out/$lab.items")
        steps=$(awk -F'\t' '$1 == "step" { s = $5 == "passed" ? $3 : $5 == "skipped" ? "?" : $5 == "given" ? "=" : "-"; printf "%s%s:%s", sep, $2, s; sep = " " }' "$out/$lab.items")
        grep -q unbuilt "$out/$lab.items" && steps="does not build (below)"
        printf '%-16s %3d / %-3d %2d / %-2d %s\n' "$lab" "$got" "$max" "$b" "$bmax" "$steps"
    done
    totals "$out" "$@"
    printf '%-16s %3d / %-3d %2d / %-2d%s\n' total "$GOT" "$MAX" "$BONUS" "$BONUS_MAX" \
        "$([ "$PENDING" -gt 0 ] && echo " INCOMPLETE: $PENDING points not gradable here (below)")"
    for lab; do
        read -r other < <(cat "$out/$lab.other")
        awk -F'\t' -v lab="$lab" '$5 == "skipped" { printf "%s %s %s: %s\n", lab, $1, $2, $6 }' "$out/$lab.items"
        if grep -q unbuilt "$out/$lab.items"; then
            echo
            echo "$lab does not build (make -C labs/$lab):"
            sed 's/^/    /' "$out/$lab.build" | head -n 40
        fi
    done
}

# xml: standard input with XML's special characters escaped.
xml() {
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\\&apos;/g" | tr -d '\000-\010\013\014\016-\037'
}

# json: standard input as one JSON string, quotes included.
json() {
    awk 'BEGIN { ORS = ""; print "\"" }
        { gsub(/\\/, "\\\\\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/[\001-\037]/, ""); print (NR > 1 ? "\\n" : "") $0 }
        END { print "\"" }'
}

# item_text OUT LAB KIND N: what a report says of one item.
item_text() {
    local out=$1 lab=$2 kind=$3 n=$4
    if awk -F'\t' -v k="$kind" -v n="$n" '$1 == k && $2 == n && $5 == "unbuilt" { f = 1 } END { exit !f }' "$out/$lab.items"; then
        cat "$out/$lab.build"
    else
        cat "$out/$lab.$kind-$n.txt" 2>/dev/null
    fi
}

# write_junit OUT FILE LABS...
write_junit() {
    local out=$1 file=$2 lab kind n got max status detail
    shift 2
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<testsuites>'
        for lab; do
            echo "  <testsuite name=\"$lab\" tests=\"$(wc -l <"$out/$lab.items")\" failures=\"$(count $'\tfailed\t' "$out/$lab.items")\" errors=\"$(count $'\tunbuilt\t' "$out/$lab.items")\" skipped=\"$(count $'\t(skipped|given)\t' "$out/$lab.items")\">"
            while IFS=$'\t' read -r kind n got max status detail; do
                echo "    <testcase classname=\"$lab\" name=\"$kind $n\">"
                echo "      <properties><property name=\"points\" value=\"$got\"/><property name=\"max_points\" value=\"$max\"/><property name=\"bonus\" value=\"$([ "$kind" = extra ] && echo true || echo false)\"/></properties>"
                case $status in
                failed) echo "      <failure message=\"$(echo "$detail" | xml)\">$(item_text "$out" "$lab" "$kind" "$n" | xml)</failure>" ;;
                unbuilt) echo "      <error message=\"$(echo "$detail" | xml)\">$(item_text "$out" "$lab" "$kind" "$n" | xml)</error>" ;;
                skipped | given) echo "      <skipped message=\"$(echo "$detail" | xml)\"/>" ;;
                esac
                echo "    </testcase>"
            done <"$out/$lab.items"
            echo "  </testsuite>"
        done
        echo '</testsuites>'
    } >"$file"
}

# write_csv OUT FILE LABS...: a row per item.
write_csv() {
    local out=$1 file=$2 lab
    shift 2
    {
        echo "lab,item,points,max_points,status,detail"
        for lab; do
            awk -F'\t' -v lab="$lab" '{ gsub(/"/, "\"\"", $6); printf "%s,%s %s,%s,%s,%s,\"%s\"\n", lab, $1, $2, ($1 == "extra" ? "+" : "") $3, $4, $5, $6 }' "$out/$lab.items"
        done
    } >"$file"
}

# write_gradescope OUT FILE LABS...: Gradescope's results.json, a test per
# item (extras with max_score 0: extra credit), its output the tests'.
write_gradescope() {
    local out=$1 file=$2 lab kind n got max status detail sep="" extra
    shift 2
    totals "$out" "$@"
    {
        printf '{\n  "score": %s,\n  "output": %s,\n  "tests": [' "$((GOT + BONUS))" \
            "$(print_table "$out" "$@" | json)"
        for lab; do
            while IFS=$'\t' read -r kind n got max status detail; do
                [ "$status" = given ] && continue
                extra=$max
                [ "$kind" = extra ] && extra=0
                printf '%s\n    {"name": %s, "score": %s, "max_score": %s, "status": "%s", "output": %s}' "$sep" \
                    "$(echo "$lab $kind $n" | json)" "$got" "$extra" "$([ "$status" = passed ] && echo passed || echo failed)" \
                    "$( { echo "$status${detail:+: $detail}"; item_text "$out" "$lab" "$kind" "$n" | head -n 200; } | json)"
                sep=,
            done <"$out/$lab.items"
        done
        printf '\n  ]\n}\n'
    } >"$file"
}

# One step (make grade-step, GitHub Classroom's command grader): exit 0
# when the step earns its points here.
if [ -n "$one_lab" ]; then
    lab=$(lab_name "$one_lab")
    [ -n "$lab" ] && [ -n "$(points "$lab" step "$one_step")" ] || { echo "grade: no step $one_step of lab '$one_lab' in tests/points" >&2; exit 2; }
    bad=$(verify .)
    if [ -n "$bad" ]; then
        echo "grade: INVALID: files of the course were changed or removed:" >&2
        echo "$bad" | sed 's/^/    /' >&2
        exit 3
    fi
    grade_lab . "$lab" "$work" "^\\[step $one_step\\] "
    IFS=$'\t' read -r _ _ got max status detail <"$work/$lab.items"
    item_text "$work" "$lab" step "$one_step"
    echo "grade: $lab step $one_step: $got / $max points ($status${detail:+: $detail})"
    [ "$status" = passed ] || [ "$status" = given ]
    exit
fi

# The class (-s DIR): each student's sources in a pristine copy; one CSV.
if [ -n "$submissions" ]; then
    [ -d "$submissions" ] || { echo "grade: SUBMISSIONS=$submissions is not a directory" >&2; exit 2; }
    pristine=$work/pristine
    mkdir -p "$pristine"
    cp -a Makefile tests labs "$pristine/"
    [ -d solutions ] && cp -a solutions "$pristine/"
    # No binary of this copy's labs; the reference peers built once
    # (cp -a keeps their times: each student's copy finds them built).
    for d in "$pristine"/labs/[0-9][0-9]-*/; do [ -d "$d" ] && make -s -C "$d" clean >/dev/null; done
    find "$pristine/labs" -type f -name '*.o' -delete
    for d in "$pristine"/solutions/[0-9][0-9]-*/; do [ -d "$d" ] && make -s -C "$d" >/dev/null; done
    mapfile -t labs < <(chosen_labs "$pristine")
    csv=${CSV:-${TMPDIR:-/tmp}/sockets-grades.csv}
    {
        printf 'student'
        printf ',%s' "${labs[@]}"
        printf ',total,max,bonus,bonus_max,status\n'
    } >"$csv"
    for sub in "$submissions"/*/; do
        student=$(basename "$sub")
        src=$(find "$sub" -maxdepth 4 -type d -name labs | head -n 1)
        copy=$work/s/$student
        mkdir -p "$copy"
        cp -a "$pristine"/. "$copy/"
        note=""
        if [ -z "$src" ]; then
            note="not gradable: no labs/ directory"
        else
            for lab in "${labs[@]}"; do
                # Only the student's C sources: never a Makefile, a test or a binary.
                find "$src/$lab" -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) -exec cp {} "$copy/labs/$lab/" \; 2>/dev/null
            done
        fi
        mkdir -p "$work/r/$student"
        row="$student"
        grade_labs "$copy" "$work/r/$student" "${labs[@]}"
        for lab in "${labs[@]}"; do
            read -r got max < <(awk -F'\t' '$1 == "step" && $5 != "given" { g += $3; m += $4 } END { print g + 0, m + 0 }' "$work/r/$student/$lab.items")
            row+=",$got"
            grep -q unbuilt "$work/r/$student/$lab.items" && note+="${note:+; }$lab does not build"
        done
        totals "$work/r/$student" "${labs[@]}"
        [ "$PENDING" -gt 0 ] && note+="${note:+; }incomplete: $PENDING points not gradable here"
        echo "$row,$GOT,$MAX,$BONUS,$BONUS_MAX,\"${note:-ok}\"" >>"$csv"
        printf '%-24s %3d / %-3d bonus %d / %d  %s\n' "$student" "$GOT" "$MAX" "$BONUS" "$BONUS_MAX" "${note:-}"
        rm -rf "$copy"
    done
    echo "CSV: $csv"
    exit 0
fi

# This copy, in place.
bad=$(verify .)
if [ -n "$bad" ]; then
    echo "grade: INVALID: this copy's tests or grading files were changed or removed:"
    echo "$bad" | sed 's/^/    /'
    echo "grade: no grade is given for a copy whose tests were changed; grade the sources apart: make grade SUBMISSIONS=DIR"
    exit 3
fi
mapfile -t labs < <(chosen_labs .)
[ "${#labs[@]}" -gt 0 ] || { echo "grade: no lab to grade (LAB=$labs_arg?)" >&2; exit 2; }
grade_labs . "$work" "${labs[@]}"
print_table "$work" "${labs[@]}"
case $format in
junit)
    file=${JUNIT:-${TMPDIR:-/tmp}/sockets-grade.xml}
    write_junit "$work" "$file" "${labs[@]}"
    echo "JUnit report: $file"
    ;;
csv)
    file=${CSV:-${TMPDIR:-/tmp}/sockets-grade.csv}
    write_csv "$work" "$file" "${labs[@]}"
    echo "CSV report: $file"
    ;;
gradescope)
    file=${JSON:-${TMPDIR:-/tmp}/results.json}
    write_gradescope "$work" "$file" "${labs[@]}"
    echo "Gradescope results: $file"
    ;;
esac
totals "$work" "${labs[@]}"
[ "$GOT" -eq "$MAX" ] && [ "$PENDING" -eq 0 ]
