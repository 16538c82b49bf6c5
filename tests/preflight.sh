#!/usr/bin/env bash
# tests/preflight.sh TARGET - before `make TARGET` builds or runs anything:
# is every tool of tests/prerequisites here, and is bats 1.8.2 or newer?
# Names each tool missing and prints the one command that installs them
# all, then exits 2; silent, exit 0, when nothing is missing. The compiler
# checked is $CC (make's, cc by default).
set -uo pipefail
here=${BASH_SOURCE[0]%/*}
target=${1:-test}

# found TOOL: an executable file TOOL in a directory of PATH. (bash's
# `command -v` also names a file that is there but not executable, when
# there is nothing better.)
found() {
    local dir
    local IFS=:
    for dir in $PATH; do
        [ -f "${dir:-.}/$1" ] && [ -x "${dir:-.}/$1" ] && return 0
    done
    return 1
}

missing=() packages=()
while read -r tool package _; do
    case $tool in '' | \#*) continue ;; esac
    # make CC=clang: that compiler, from the package of its name.
    if [ "$tool" = cc ] && [ "${CC:-cc}" != cc ]; then
        tool=${CC%% *}
        package=${tool##*/}
    fi
    found "$tool" && continue
    missing+=("$(printf '%-8s (package %s)' "$tool" "$package")")
    case " ${packages[*]} " in *" $package "*) ;; *) packages+=("$package") ;; esac
done <"$here/prerequisites"

# bats-core 1.8.2 is the oldest the tests are written for (BATS_TEST_TIMEOUT,
# bats_require_minimum_version, run --separate-stderr).
old=""
if found bats; then
    version=$(bats --version 2>/dev/null)
    version=${version#Bats }
    IFS=. read -r major minor patch _ <<<"$version"
    patch=${patch%%[!0-9]*}
    if ! [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ && $patch =~ ^[0-9]+$ ]]; then
        old="'bats --version' does not say which bats this is ('$version'); the tests need bats-core 1.8.2 or newer"
    elif ((major * 10000 + minor * 100 + patch < 10802)); then
        old="bats is $version here; the tests need bats-core 1.8.2 or newer"
    fi
fi

[ "${#missing[@]}" -eq 0 ] && [ -z "$old" ] && exit 0
{
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "make $target: this machine lacks what the course needs:"
        printf '  %s\n' "${missing[@]}"
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo "
        echo "Install them all with:"
        echo "  ${sudo}apt-get install ${packages[*]}"
    fi
    if [ -n "$old" ]; then
        echo "make $target: $old (Debian 12 and Ubuntu 24.04 have it;"
        echo "  elsewhere: https://bats-core.readthedocs.io/en/stable/installation.html)"
    fi
    echo "(The course's prerequisites: README.md, \"Prerequisites\"; the list: tests/prerequisites.)"
} >&2
exit 2
