#!/usr/bin/env bash
# tests/handout.sh - `make handout`: pack what students get (labs/, tests/,
# notes/, Makefile, README.md) into a tarball, without solutions/. Prints
# the tarball's path as its last line. In the handout, `make` builds the
# skeletons and `make check` and `make grade` work on their own; `make
# test` and `make labs` need solutions/ and say so.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${HANDOUT:-${TMPDIR:-/tmp}/sockets-handout.tar.gz}
stage=$(mktemp -d /tmp/handout.XXXXXX)
trap 'rm -rf "$stage"' EXIT
dir=$stage/sockets-labs
mkdir -p "$dir"
# Everything students need, but no binaries and nothing of solutions/.
cp -r Makefile README.md .clang-tidy labs tests notes "$dir"
find "$dir/labs" -type f \( -name server -o -name client -o -name '*.o' \) -delete
if grep -rlE '/\* END TODO [0-9]+ \*/' "$dir/labs" >/dev/null; then
    echo "handout: labs/ holds solved steps (END TODO markers); run make labs" >&2
    exit 1
fi
tar -C "$stage" -czf "$out" sockets-labs
echo "handout: $(tar -tzf "$out" | grep -c '[^/]$') files, no solutions/"
echo "$out"
