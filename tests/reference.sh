#!/usr/bin/env bash
# tests/reference.sh OUT TREE LAB... - the reference peers of make check and
# make grade (tests/lib.bash, reference_peer). For each LAB (NN-topic):
#   OUT/LAB/sides       where each step and extra lives: "step 6 client"
#   OUT/LAB/mix-PROG    for each program PROG of the lab (its Makefile's
#                       all: line; labs 01-08: server, client), the
#                       student's PROG (TREE/LAB/PROG) beside the reference
#                       build of every other one
# The reference programs are tests/ref/LAB/ in a handout (binaries and
# their sides, no sources), else solutions/LAB/, built here; so are the
# other labs' programs that LAB's tests run as peers (lib.bash, peer_lab).
#
# tests/reference.sh --sides DIR: print the sides of the sources in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_programs, peer_labs, peer_lab

sides() {
    local f p SOURCES
    lab_programs "$1"
    for p in "${PROGRAMS[@]}"; do
        program_sources "$1" "$p"   # PROG.c and its other files (lab 11: measure.c)
        for f in "${SOURCES[@]}"; do
            [ -f "$1/$f" ] || continue
            grep -oE '/\* (TODO|EXTRA) [0-9]+:' "$1/$f" | sed -E "s|/\* TODO ([0-9]+):|step \1|; s|/\* EXTRA ([0-9]+):|extra \1|; s|\$| $p|"
        done
    done | sort -u -k1,1 -k2n
}

if [ "${1:-}" = --sides ]; then
    sides "$2"
    exit
fi
out=$1 tree=$2
shift 2
case $tree in /*) ;; *) tree=$PWD/$tree ;; esac
mkdir -p "$out"
chmod 755 "$out"   # tests run some programs as user nobody
for lab in "$@"; do
    if [ -d "tests/ref/$lab" ]; then
        ref=$PWD/tests/ref/$lab
        cp "$ref/sides" "$out/$lab.sides"
    elif [ -d "solutions/$lab" ]; then
        ref=$PWD/solutions/$lab
        lab_programs "$ref"
        make --no-print-directory -s -C "$ref" "${PROGRAMS[@]}"
        sides "$ref" >"$out/$lab.sides"
    else
        echo "reference: no tests/ref/$lab and no solutions/$lab" >&2
        exit 1
    fi
    # Other labs' programs its tests run as peers (peer_lab): built now,
    # once, not by make check's groups side by side.
    for peer in $(peer_labs "tests/$lab.bats"); do
        peer_lab "$peer" || exit 1
    done
    mkdir -p "$out/$lab"
    mv "$out/$lab.sides" "$out/$lab/sides"
    lab_programs "$tree/$lab"
    for p in "${PROGRAMS[@]}"; do
        mkdir -p "$out/$lab/mix-$p"
        for q in "${PROGRAMS[@]}"; do
            if [ "$q" = "$p" ]; then from=$tree/$lab; else from=$ref; fi
            ln -sfn "$from/$q" "$out/$lab/mix-$p/"
        done
    done
    chmod -R go+rX "$out/$lab"
done
