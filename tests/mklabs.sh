#!/usr/bin/env bash
# tests/mklabs.sh - derive labs/ (the students' skeletons) from solutions/.
#
#   tests/mklabs.sh [FROM_STEP [NN-topic...]]   (run by `make labs [TODO=N]`)
#
# In solutions/, the code a student writes sits between two markers:
#
#     /* TODO 3: what to do, in words, naming the man page. */
#     ...the solution's lines...
#     /* END TODO 3 */
#
# The skeleton keeps the TODO comment and replaces the lines up to the END
# marker with one placeholder, `errno = ENOSYS;`, so the code after the gap
# fails with "Function not implemented" until the step is written. Steps
# numbered below FROM_STEP stay solved (their markers are dropped), which
# gives staged assignments; the lab's file GIVEN then lists them ("1 2"),
# so that make check does not blame them and make grade does not count
# them. (Not under OUT, below; and `tests/mklabs.sh 99 LAB` in labs/ makes
# every step "handed out solved", which make check never names.) Naming labs after FROM_STEP limits the work to
# them. Every file but README.md and *.svg is rewritten; each lab's
# README.md (the lesson) and its images (*.svg) are written by hand and
# left alone.
#
# Code between /* EXTRA N: ... */ and /* END EXTRA N */ is a "going
# further" exercise, solved in solutions/ only: it is left out of every
# skeleton, markers and all (the student writes it from scratch).
#
# For tests/steps.sh: OUT=DIR writes the skeletons under DIR instead of
# labs/, and ONLY=N leaves step N alone as a gap, every other step solved.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_programs
from=${1:-1}
shift || true
if [ $# -gt 0 ]; then only=("${@/#/solutions/}"); only=("${only[@]/%//}"); else only=(solutions/[0-9][0-9]-*/); fi

for sol in "${only[@]}"; do
    lab=${OUT:-labs}/${sol#solutions/}
    mkdir -p "$lab"
    find "$lab" -maxdepth 1 -type f ! -name README.md ! -name '*.svg' -delete
    # The lab's programs, built ones left out: its Makefile's all: line.
    lab_programs "$sol"
    progs=" ${PROGRAMS[*]} "
    for f in "$sol"*; do
        [ -f "$f" ] || continue
        case ${f##*/} in README.md) continue ;; esac
        case $progs in *" ${f##*/} "*) continue ;; esac
        awk -v from="$from" -v only="${ONLY:-0}" -v file="$f" '
            function fail(msg) { printf "%s:%d: %s\n", file, FNR, msg > "/dev/stderr"; bad = 1; exit 1 }
            # An extra (a "going further" exercise) is never in a skeleton:
            # its lines go, markers and all, whatever the steps solved.
            match($0, /\/\* EXTRA [0-9]+:/) {
                if (extra) fail("EXTRA inside EXTRA " extra)
                extra = substr($0, RSTART + 9, RLENGTH - 10) + 0
                next
            }
            match($0, /\/\* END EXTRA [0-9]+ \*\//) {
                n = substr($0, RSTART + 13, RLENGTH - 16) + 0
                if (n != extra) fail("END EXTRA " n " closes EXTRA " extra)
                extra = 0
                next
            }
            extra { next }
            match($0, /\/\* TODO [0-9]+:/) {
                if (step) fail("TODO inside TODO " step)
                step = substr($0, RSTART + 8, RLENGTH - 9) + 0
                indent = substr($0, 1, RSTART - 1)
                solved = only ? step != only : step < from
                incomment = 1
            }
            match($0, /\/\* END TODO [0-9]+ \*\//) {
                n = substr($0, RSTART + 12, RLENGTH - 15) + 0
                if (n != step) fail("END TODO " n " closes TODO " step)
                if (!solved) print indent "errno = ENOSYS; /* step " step ": replace this line */"
                step = 0
                next
            }
            step && !incomment && !solved { next }
            { print }
            incomment && /\*\// { incomment = 0 }
            END {
                if (step && !bad) fail("TODO " step " has no END TODO " step)
                if (extra && !bad) fail("EXTRA " extra " has no END EXTRA " extra)
            }
        ' "$f" >"$lab${f##*/}"
        # A script handed out whole (lab 10's hosts) stays a program.
        if [ -x "$f" ]; then chmod +x "$lab${f##*/}"; fi
    done
    given=$(grep -ohE '/\* TODO [0-9]+:' "$sol"*.c | grep -oE '[0-9]+' | sort -un | awk -v from="$from" '$1 < from' | paste -sd ' ')
    # Only in labs/ itself: the copies under OUT (tests/steps.sh,
    # tests/mutants.sh) are solved to be tested, not handed out so.
    if [ -z "${OUT:-}" ] && [ -n "$given" ]; then
        echo "$given" >"${lab}GIVEN"
    fi
done
