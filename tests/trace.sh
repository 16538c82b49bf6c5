#!/usr/bin/env bash
# tests/trace.sh LAB - `make trace LAB=05`: run the lab's tour session with
# every program under strace -f, recording the socket calls only
# (-e trace=%network), and say where the transcripts went.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=${1:-}
case $want in [0-9]) want=0$want ;; esac
if [ -z "$want" ] || ! ls "$here"/tour/"$want"*.sh >/dev/null 2>&1; then
    echo "usage: make trace LAB=NN   (NN: $(cd "$here/tour" && ls | sed 's/\.sh$//' | tr '\n' ' '))" >&2
    exit 2
fi
command -v strace >/dev/null || { echo "trace: strace is not installed" >&2; exit 1; }
TRACE_DIR=$(mktemp -d "/tmp/trace-$want.XXXXXX")
export TRACE_DIR
"$here/tour.sh" "$want" || exit 1
echo
echo "strace transcripts (socket calls only), one file per program run:"
for f in "$TRACE_DIR"/*.trace; do
    echo "  $f  ($(wc -l <"$f") lines)"
done
first=$(ls "$TRACE_DIR"/*.trace | head -n 1)
echo "The first calls of $(basename "$first" .trace):"
head -n 8 "$first" | sed 's/^/    /'
echo "Read them with: less $TRACE_DIR/*.trace"
