#!/usr/bin/env bash
# tests/tour.sh [LAB] - `make tour`: run each lab once as a short scripted
# session (start the server, run the client on a sample input, show both
# programs' narration and the ss rows at the interesting moments, stop the
# server). Each lab's session is tests/tour/NN-topic.sh; it runs with the
# harness of tests/lib.bash and prints to standard output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.bash
. "$here/lib.bash"
exec 3>/dev/null   # note() writes to fd 3, as in the tests; the tour prints directly

want=${1:-}
case $want in [0-9]) want=0$want ;; esac
ran=0
for script in "$here"/tour/[0-9][0-9]-*.sh; do
    name=$(basename "$script" .sh)
    case $name in "$want"* ) ;; *) continue ;; esac
    echo
    echo "=================== lab $name ==================="
    lab_setup "$name" || exit 1
    # shellcheck disable=SC1090
    if ! (. "$script"); then
        echo "tour of $name failed" >&2
        BATS_TEST_COMPLETED='' lab_teardown
        exit 1
    fi
    BATS_TEST_COMPLETED=1 lab_teardown
    ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "tour: no lab '$want'" >&2; exit 2; }
echo
echo "Tour done: $ran lab(s). Next: make test, then make check LAB=01."
