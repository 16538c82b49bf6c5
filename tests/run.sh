#!/usr/bin/env bash
# tests/run.sh [-j N] FILE.bats... - `make test`'s runner: the bats files N
# at a time (default 2; make test passes its JOBS), with nothing but bash
# and bats (bats' own --jobs needs GNU parallel, which is not a
# prerequisite). Each file's TAP output
# is printed whole once the file is done, under a line naming it and how
# long it took, so two files never interleave; the files start in the
# order given (give the longest first, so the jobs end together). The last
# line counts every test: "N passed, N failed, N skipped". Exits 0 when
# none failed, 1 otherwise, 2 on a usage error. TIMING=1 adds each test's
# time ("in 123ms"): bats forks date(1) twice a test for it, 1.5 ms of CPU
# a test, half a second in all, so it is off unless asked for.
#
# Nothing is left running: each file's run carries a token of its own in
# the environment (SOCKETS_RUN), which every program its tests start
# inherits, whatever its uid. A process that still holds it once the file
# is done is killed, and counted as one more failure of that file.
set -uo pipefail
. "$(dirname "$0")/lib.bash"   # leftovers

jobs=2
if [ "${1:-}" = -j ]; then
    jobs=${2:-}
    shift 2
fi
[[ $jobs =~ ^[1-9][0-9]*$ ]] && [ $# -gt 0 ] || { echo "usage: tests/run.sh [-j N] FILE.bats..." >&2; exit 2; }

out=$(mktemp -d /tmp/run.XXXXXX)
# Ctrl-C or a kill: no bats run is left behind.
cleanup() {
    local pids
    pids=$(jobs -p)
    [ -z "$pids" ] || kill $pids 2>/dev/null
    wait 2>/dev/null
    rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

declare -A file_of start_of log_of num_of
passed=0 failed=0 skipped=0 running=0 n=0

# report PID STATUS: print the finished file's output and count its tests.
report() {
    local pid=$1 status=$2 f=${file_of[$1]} line ok=0 notok=0 skips=0 elapsed
    elapsed=$(( (${EPOCHREALTIME/./} - ${start_of[$1]}) / 100000 ))
    echo "=== $f ($((elapsed / 10)).$((elapsed % 10)) s)"
    while IFS= read -r line; do
        printf '%s\n' "$line"
        case $line in
        "not ok "*) notok=$((notok + 1)) ;;
        "ok "*" # skip"*) skips=$((skips + 1)) ;;
        "ok "*) ok=$((ok + 1)) ;;
        esac
    done <"${log_of[$pid]}"
    # bats that ended badly without a failed test (a syntax error, a
    # crash), or a file that ran no test at all, is one failure.
    if [ "$status" -ne 0 ] && [ "$notok" -eq 0 ]; then
        echo "not ok - $f: bats exited $status"
        notok=1
    elif [ $((ok + notok + skips)) -eq 0 ]; then
        echo "not ok - $f: no test ran"
        notok=1
    fi
    local left
    left=$(leftovers "run-$$-${num_of[$pid]}")
    if [ -n "$left" ]; then
        echo "not ok - $f: left running after its tests: $left"
        notok=$((notok + 1))
    fi
    passed=$((passed + ok)) failed=$((failed + notok)) skipped=$((skipped + skips))
    unset "num_of[$pid]"
    unset "file_of[$pid]" "start_of[$pid]" "log_of[$pid]"
}

# await: wait for one run to end and report it.
await() {
    local pid= status=0 p
    wait -n -p pid || status=$?
    if [ -z "$pid" ]; then
        # No pid from wait -n: the run it would name was already reaped
        # (a signal came, say). Report each run whose process is gone.
        for p in "${!file_of[@]}"; do
            kill -0 "$p" 2>/dev/null && continue
            status=0
            wait "$p" || status=$?
            report "$p" "$status"
            running=$((running - 1))
        done
        return
    fi
    report "$pid" "$status"
    running=$((running - 1))
}

for f; do
    [ "$running" -lt "$jobs" ] || await
    n=$((n + 1))
    SOCKETS_RUN=run-$$-$n bats --formatter tap ${TIMING:+--timing} "$f" >"$out/$n" 2>&1 </dev/null &
    log_of[$!]=$out/$n
    num_of[$!]=$n
    file_of[$!]=$f
    start_of[$!]=${EPOCHREALTIME/./}
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do await; done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
