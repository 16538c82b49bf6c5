#!/usr/bin/env bash
# tests/steps.sh [NN...] - run by CI: no exercise is already solved, and none
# is unsolvable. For each TODO step N of each lab, build a skeleton whose
# only gap is step N (tests/mklabs.sh with ONLY=N) under -Werror, and run
# the lab's "[step N]" tests against it: at least one test names the step,
# and at least one of those must fail while the gap is open. (That the full
# solution passes every test is `make test`.) Prints one line per step and
# exits 1 when a step is untested or passes unsolved.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # todo_steps

work=$(mktemp -d /tmp/steps.XXXXXX)
chmod 755 "$work"   # some tests run programs as user nobody
trap 'rm -rf "$work"' EXIT
if [ $# -gt 0 ]; then labs=("$@"); else labs=(); for d in solutions/[0-9][0-9]-*/; do labs+=("$(basename "$d")"); done; fi
for lab in "${labs[@]}"; do
    make -s -C "solutions/$lab" || exit 1   # its binaries are copied below
done

# check_lab LAB: one line per step of LAB; exits 1 when a step is
# untested or passes unsolved.
check_lab() {
    local lab=$1 n out total failing bad=0
    local steps
    steps=$(todo_steps "solutions/$lab")
    for n in $steps; do
        out=$work/$lab.$n
        OUT=$out ONLY=$n tests/mklabs.sh 1 "$lab"
        # Only the program with the gap is built: the others are the
        # solution's own code, so their binaries are copied (less compiling).
        lab_programs "solutions/$lab"
        gap=
        for p in "${PROGRAMS[@]}"; do
            program_sources "solutions/$lab" "$p"   # lib.bash: PROG.c, measure.c...
            for f in "${SOURCES[@]}"; do
                grep -q "/\* TODO $n:" "solutions/$lab/$f" 2>/dev/null && gap=$p
            done
        done
        for p in "${PROGRAMS[@]}"; do
            [ "$p" = "$gap" ] || cp "solutions/$lab/$p" "$out/$lab/$p"
        done
        if ! make -s -C "$out/$lab" "$gap" >"$out.build" 2>&1; then
            echo "step $lab/$n: the skeleton with only this gap does not build:"
            sed 's/^/    /' "$out.build"
            bad=1
            continue
        fi
        TREE=$out bats --formatter tap -f "^\[step $n\] " "tests/$lab.bats" >"$out.tap" 2>&1
        total=$(grep -cE '^(not )?ok ' "$out.tap")
        failing=$(grep -cE '^not ok ' "$out.tap")
        if [ "$total" -eq 0 ]; then
            echo "step $lab/$n: NO TEST names [step $n]"
            bad=1
        elif [ "$failing" -eq 0 ]; then
            echo "step $lab/$n: all $total of its tests PASS with the gap open"
            bad=1
        else
            echo "step $lab/$n: $failing of its $total tests fail with only this gap open"
        fi
        rm -rf "$out"
    done
    # The extras: each one's tests fail on the skeleton with every step
    # solved, which has no extra (tests/mklabs.sh leaves them out): no
    # skeleton gives an extra away, and its tests can fail.
    local extras
    extras=$(grep -ohE '\/\* EXTRA [0-9]+:' "solutions/$lab"/*.c | grep -oE '[0-9]+' | sort -un)
    if [ -n "$extras" ]; then
        out=$work/$lab.solved
        OUT=$out tests/mklabs.sh 99 "$lab"
        if ! make -s -C "$out/$lab" >"$out.build" 2>&1; then
            echo "extras $lab: the skeleton with every step solved does not build:"
            sed 's/^/    /' "$out.build"
            return 1
        fi
        for n in $extras; do
            TREE=$out bats --formatter tap -f "^\[extra $n\] " "tests/$lab.bats" >"$out.tap" 2>&1
            total=$(grep -cE '^(not )?ok ' "$out.tap")
            failing=$(grep -cE '^not ok ' "$out.tap")
            if [ "$total" -eq 0 ]; then
                echo "extra $lab/$n: NO TEST names [extra $n]"
                bad=1
            elif [ "$failing" -eq 0 ]; then
                echo "extra $lab/$n: all $total of its tests PASS on the skeleton, which has no extra"
                bad=1
            else
                echo "extra $lab/$n: $failing of its $total tests fail on the skeleton, which has no extra"
            fi
        done
        rm -rf "$out"
    fi
    return "$bad"
}

# Two labs at a time (this machine has 2 cores); each lab's lines are
# printed together, in the labs' order.
pids=()
for lab in "${labs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
    check_lab "$lab" >"$work/$lab.log" 2>&1 &
    pids+=($!)
done
bad=0
for i in "${!labs[@]}"; do
    wait "${pids[$i]}" || bad=1
    cat "$work/${labs[$i]}.log"
done
exit "$bad"
