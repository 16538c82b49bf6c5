#!/usr/bin/env bash
# tests/learning.sh [NN-topic...] - the rules that make a lab teach rather
# than dictate, checked without running anything (tests/docs.bats runs it):
#
#   1. Lessons teach, hints give. No step's code appears in the lesson's
#      prose or in the skeleton's TODO comments: neither a line of the
#      step's solution nor a call of it with its arguments (a call with a
#      comma: `listen(lfd, 16)`). Only the third level of the step's hint
#      ("#### 3.") shows code, and the transcripts (fenced blocks) stay as
#      the programs print them.
#   2. Every step has a hint in three levels: "### Step N" under "## Hints"
#      holds "#### 1. ", "#### 2. " and "#### 3. ", in that order.
#   3. A harder tier: "## Going further" holds "### Extra 1", "### Extra 2"
#      (at least two); each has its tests ("[extra N]" in tests/NN-*.bats)
#      and its solution between /* EXTRA N: */ markers in solutions/.
#   4. Assertions say what they saw: no line of a test file (each lab's;
#      with no argument, every other test file too) is a bare
#      [ ... ] or [[ ... ]] without a `|| fail "..."` (or another ||) to
#      say what it saw; use is, expect_line or fail (tests/lib.bash).
#   5. Every step has at least two mutants in tests/mutants/NN-topic.txt,
#      and each mutant's "- " lines are still in the solution, one after
#      the other, inside its step's TODO markers (the mutation table, in CI
#      only, fails a mutant that no longer applies; this says so at once).
# Prints one line per breach; exits 1 when there is any.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # todo_steps

if [ $# -gt 0 ]; then labs=("$@"); else labs=(); for d in solutions/[0-9][0-9]-*/; do d=${d%/}; labs+=("${d##*/}"); done; fi
# bare FILE: print the lines of the test file FILE that are bare
# assertions (a [ or [[ line with no ||, not the start of a chain, not a
# condition followed by an action: `[ -n "$x" ] && y=1`); fails if any.
bare() {
    awk -v f="$1" '
        /^[ \t]*\[\[? / && !/\|\|/ && !/(&&|\\)[ \t]*$/ && !/\][ \t]*&&[ \t]+[^[ \t]/ {
            gsub(/   */, " ")
            print f ":" FNR ": a bare assertion says nothing of what it saw: " $0
            n++
        }
        END { exit n > 0 }' "$1"
}

bad=0
breach() { echo "$*"; bad=1; }

for lab in "${labs[@]}"; do
    sol=solutions/$lab lesson=labs/$lab/README.md tests=tests/$lab.bats
    steps=$(todo_steps "$sol")

    # 1. The code of each step, as lines and as calls, whitespace removed.
    awk '
        function squash(s) { gsub(/[ \t]/, "", s); return s }
        /\/\* TODO [0-9]+:/ { step = $0; sub(/.*TODO /, "", step); sub(/:.*/, "", step); incomment = 1 }
        /\/\* END TODO [0-9]+ \*\// { step = 0; next }
        step && incomment { if (/\*\//) incomment = 0; next }
        step {
            line = $0
            sub(/\/\*.*/, "", line); sub(/\/\/.*/, "", line)
            gsub(/"([^"\\]|\\.)*"/, "\"\"", line)   # no string: narration quotes calls
            s = squash(line)
            if (length(s) >= 12) print step "\t" s
            while (match(line, /[A-Za-z_][A-Za-z_0-9]*\([^()]*,[^()]*\)/)) {
                print step "\t" squash(substr(line, RSTART, RLENGTH))
                line = substr(line, RSTART + RLENGTH)
            }
        }' "$sol"/*.c | sort -u >/tmp/learning.$$.code
    # The places that must not show it: the lesson's prose (no fenced
    # blocks, no level-3 hints) and the skeleton's TODO comments.
    {
        awk -v f="$lesson" '
            /^```/ { fenced = !fenced; next }
            fenced { next }
            /^## / { level3 = 0 }
            /^### / { level3 = 0 }
            /^#### / { level3 = ($0 ~ /^#### 3\./) }
            level3 { next }
            { gsub(/`/, ""); gsub(/[ \t]/, ""); print f ":" NR ":" $0 }' "$lesson"
        for f in labs/"$lab"/*.c; do
            awk -v f="$f" '
                /\/\* TODO [0-9]+:/ { on = 1 }
                on { s = $0; gsub(/`/, "", s); gsub(/[ \t]/, "", s); print f ":" FNR ":" s }
                on && /\*\// { on = 0 }' "$f"
        done
    } >/tmp/learning.$$.prose
    # Each code line's first place in the prose (one awk: a grep per line
    # of code was 500 forks).
    hits=$(awk '
        FNR == NR { t = index($0, "\t"); step[++nc] = substr($0, 1, t - 1); code[nc] = substr($0, t + 1); next }
        { prose[++np] = $0 }
        END {
            for (i = 1; i <= nc; i++)
                for (j = 1; j <= np; j++)
                    if (index(prose[j], code[i])) {
                        split(prose[j], at, ":")
                        print at[1] ":" at[2] ": shows the code of step " step[i] " (" code[i] "); say what the step achieves and leave the code to the level-3 hint"
                        break
                    }
        }' /tmp/learning.$$.code /tmp/learning.$$.prose)
    [ -z "$hits" ] || breach "$hits"
    rm -f /tmp/learning.$$.code /tmp/learning.$$.prose

    # 2. Three levels of hint per step.
    for n in $steps; do
        levels=$(awk -v n="$n" '
            /^## / { inhints = ($0 == "## Hints"); on = 0; next }
            inhints && /^### / { on = ($0 == "### Step " n); next }
            on && /^#### [0-9]\. / { printf "%s", substr($0, 6, 1) }' "$lesson")
        [ "$levels" = 123 ] || breach "$lesson: step $n's hint has levels '${levels:-none}', not 1, 2 and 3 (#### 1. ... #### 3. ... under ### Step $n)"
    done

    # 3. The extras: lesson, tests and solution agree, two at least.
    extras=$(awk '/^## / { on = ($0 == "## Going further"); next } on && /^### Extra [0-9]+/ { print $3 + 0 }' "$lesson")
    [ "$(echo "$extras" | grep -c .)" -ge 2 ] || breach "$lesson: fewer than two \"### Extra N\" under \"## Going further\""
    for n in $extras; do
        grep -qE "^@test \"\\[extra $n\\] " "$tests" || breach "$tests: no test named [extra $n]"
        grep -qE "/\\* EXTRA $n:" "$sol"/*.c "$sol"/*.h 2>/dev/null || breach "$sol: no /* EXTRA $n: */ solution"
    done
    for n in $(grep -oE '^@test "\[extra [0-9]+\]' "$tests" | grep -oE '[0-9]+' | sort -un); do
        grep -qx "### Extra $n.*" "$lesson" || breach "$tests: [extra $n] tests, but no \"### Extra $n\" in the lesson"
    done

    # 4. Bare assertions.
    bare "$tests" || bad=1

    # 5. Two mutants a step.
    for n in $steps; do
        [ "$(count "^## $n " "tests/mutants/$lab.txt")" -ge 2 ] ||
            breach "tests/mutants/$lab.txt: step $n has fewer than two mutants"
    done
    while IFS= read -r line; do breach "$line"; done < <(awk -v lab="$lab" '
        function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
        FNR == 1 { n = 0 }
        /^## [0-9]+ [^ ]+: / { n++; head[n] = $0; step[n] = $2; file[n] = substr($3, 1, length($3) - 1); next }
        /^- / && n { old[n, ++nold[n]] = trim(substr($0, 3)) }
        END {
            for (m = 1; m <= n; m++) {
                path = "solutions/" lab "/" file[m]
                if (!(path in read)) {
                    read[path] = 1; k = 0; at = 0
                    while ((getline line < path) > 0) {
                        if (match(line, /\/\* TODO [0-9]+:/)) { at = substr(line, RSTART + 8, RLENGTH - 9) + 0 }
                        L[path, ++k] = trim(line); S[path, k] = at
                        if (line ~ /\/\* END TODO [0-9]+ \*\//) at = 0
                    }
                    close(path); N[path] = k
                }
                found = 0
                for (i = 1; i + nold[m] - 1 <= N[path] && !found; i++) {
                    for (j = 1; j <= nold[m] && L[path, i + j - 1] == old[m, j]; j++) ;
                    if (j > nold[m] && S[path, i] == step[m]) found = 1
                }
                if (!nold[m] || !found)
                    print "tests/mutants/" lab ".txt: \"" substr(head[m], 4) "\": its - lines are not inside TODO " step[m] " of " path
            }
        }' "tests/mutants/$lab.txt")
done
# 4, for the test files of no lab, when all is checked.
if [ $# -eq 0 ]; then
    for f in tests/*.bats tests/course/*.bats tests/load/*.bats; do
        case $f in tests/[0-9][0-9]-*.bats) continue ;; esac
        bare "$f" || bad=1
    done
fi
exit "$bad"
