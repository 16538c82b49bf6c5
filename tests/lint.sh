#!/usr/bin/env bash
# tests/lint.sh - static analysis of every program of every lab, the
# solutions and the students' skeletons: cppcheck, then clang-tidy; and
# the shared helpers' copies against their one text (tests/canonical.sh).
#
#   tests/lint.sh [LABDIR...]     (default: solutions/*/ labs/*/)
#
# Prints each finding as FILE:LINE:COL: ... [check] and exits 1 if there
# is any (2 if a tool is missing). JOBS=N runs N clang-tidy processes at
# once (default: one per CPU).
#
# The configuration is committed: .clang-tidy at the top (the checks, and
# why some are left out), tests/cppcheck.cfg (what cppcheck must know of
# lab.h's helpers) and tests/cppcheck.suppress (the findings that the
# TODO-marker design causes, by id and tree). One more such rule lives
# here: clang-analyzer-deadcode.DeadStores is off for solutions/ files that
# hold TODO markers, where `rc = -1;` before a step is a store only the
# skeleton reads; labs/ runs it over the same code outside the steps.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

STD=(-std=c11 -D_POSIX_C_SOURCE=200809L)   # as every lab's Makefile
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

for tool in cppcheck clang-tidy; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "lint.sh: $tool is not installed (Debian: apt-get install $tool)" >&2; exit 2; }
done
for conf in .clang-tidy tests/cppcheck.cfg tests/cppcheck.suppress; do
    [ -f "$conf" ] || { echo "lint.sh: $conf is missing" >&2; exit 2; }
done

# The programs: every .c of each lab directory given (or of all of them).
if [ $# -eq 0 ]; then
    shopt -s nullglob   # a handout has no solutions/
    set -- solutions/[0-9][0-9]-*/ labs/[0-9][0-9]-*/
    shopt -u nullglob
fi
files=()
for dir in "$@"; do
    dir=${dir#./}
    dir=${dir%/}
    [ -d "$dir" ] || { echo "lint.sh: no directory $dir" >&2; exit 2; }
    for f in "$dir"/*.c; do
        [ -f "$f" ] && files+=("$f")
    done
done
[ "${#files[@]}" -gt 0 ] || { echo "lint.sh: no .c file in $*" >&2; exit 2; }

status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cppcheck: all the files in one run (it is fast). posix.cfg tells it the
# POSIX calls (valid arguments, descriptors to close, results to use).
echo "== cppcheck (${#files[@]} files)"
cppcheck --quiet -j "$JOBS" --std=c11 -D_POSIX_C_SOURCE=200809L \
    --enable=warning,style,performance,portability \
    --library=posix --library=tests/cppcheck.cfg \
    --suppressions-list=tests/cppcheck.suppress --inline-suppr \
    --error-exitcode=1 --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    "${files[@]}" 2>&1 || status=1

# clang-tidy: one process per file (two files in one process share the
# analyzer's state: va_list checks then report nonsense), JOBS at a time,
# the slowest (client.c, lab.c) first. A labs/ file that is byte for byte
# its solutions/ copy, lab.h included, has the same findings: it is run
# once, as solutions/.
tidy=()
for name in client.c lab.c server.c '*.c'; do
    for f in "${files[@]}"; do
        # shellcheck disable=SC2254  # $name is a pattern on purpose
        case ${f##*/} in $name) ;; *) continue ;; esac
        case " ${tidy[*]} " in *" $f "*) continue ;; esac
        if [ "${f%%/*}" = labs ]; then
            sol=solutions/${f#labs/}
            case " ${files[*]} " in
            *" $sol "*)
                if cmp -s "$f" "$sol" && cmp -s "${f%/*}/lab.h" "${sol%/*}/lab.h"; then
                    continue
                fi
                ;;
            esac
        fi
        tidy+=("$f")
    done
done
echo "== clang-tidy (${#tidy[@]} files; labs/ files identical to solutions/ are checked once)"
export tmp
# shellcheck disable=SC2016  # the script is for sh -c: it expands there
printf '%s\n' "${tidy[@]}" | xargs -P "$JOBS" -I{} sh -c '
    f=$1
    shift
    out=$tmp/$(printf %s "$f" | tr / _)
    extra=
    case $f in
    solutions/*) grep -q "/\* TODO [0-9]*:" "$f" && extra=--checks=-clang-analyzer-deadcode.DeadStores ;;
    esac
    clang-tidy --quiet $extra "$f" -- "$@" >"$out" 2>&1 || echo "$f" >>"$tmp/failed"
' sh {} "${STD[@]}" -Wall -Wextra
for f in "${tidy[@]}"; do
    # Drop clang's "N warnings generated." counts: they include the system
    # headers' warnings, which clang-tidy does not show.
    grep -Ev '^[0-9]+ (warning|error)s? (and [0-9]+ (warning|error)s? )?generated\.$' \
        "$tmp/$(printf %s "$f" | tr / _)"
done
[ -f "$tmp/failed" ] && status=1

# The helpers several labs carry: one text, tests/canonical.[ch].
echo "== canonical helpers (tests/canonical.sh)"
if ! canon=$(tests/canonical.sh); then
    grep -E 'differs|no section|not in|^    ' <<<"$canon"
    status=1
fi

if [ "$status" -ne 0 ]; then
    echo "lint.sh: findings above (cppcheck and/or clang-tidy)" >&2
else
    echo "lint.sh: clean"
fi
exit "$status"
