#!/usr/bin/env bash
# tests/reference.sh OUT TREE LAB... - the reference peers of make check and
# make grade (tests/lib.bash, reference_peer). For each LAB (NN-topic):
#   OUT/LAB/sides       where each step and extra lives: "step 6 client"
#   OUT/LAB/mix-server  the student's server (TREE/LAB/server) beside the
#                       reference client
#   OUT/LAB/mix-client  the reference server beside the student's client
# The reference programs are tests/ref/LAB/ in a handout (binaries and
# their sides, no sources), else solutions/LAB/, built here.
#
# tests/reference.sh --sides DIR: print the sides of the sources in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

sides() {
    local f
    for f in "$1"/server.c "$1"/client.c; do
        [ -f "$f" ] || continue
        grep -oE '/\* (TODO|EXTRA) [0-9]+:' "$f" | sed -E "s|/\* TODO ([0-9]+):|step \1|; s|/\* EXTRA ([0-9]+):|extra \1|; s|\$| $(basename "$f" .c)|"
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
        make --no-print-directory -s -C "$ref" server client
        sides "$ref" >"$out/$lab.sides"
    else
        echo "reference: no tests/ref/$lab and no solutions/$lab" >&2
        exit 1
    fi
    mkdir -p "$out/$lab/mix-server" "$out/$lab/mix-client"
    mv "$out/$lab.sides" "$out/$lab/sides"
    ln -sfn "$tree/$lab/server" "$ref/client" "$out/$lab/mix-server/"
    ln -sfn "$ref/server" "$tree/$lab/client" "$out/$lab/mix-client/"
    chmod -R go+rX "$out/$lab"
done
