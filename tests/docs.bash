# tests/docs.bash - what tests/docs.bats and tests/docs-lessons-*.bats share.
# Load it with `load docs`, after `load lib`.

# doc FILE: run FILE's session; the test fails with the run's own account.
doc() {
    run "$ROOT/tests/docs.sh" "$1"
    [ "$status" -ne 3 ] || skip "${lines[-1]}"
    if [ "$status" -ne 0 ]; then
        printf '%s\n' "$output" >&2
        return 1
    fi
    note "${lines[-1]}"
}

# lesson NN-topic: a lab's README runs as written, and shows what the
# issue asks of every lesson: commands, the programs' narration, and an
# strace excerpt of their socket calls.
lesson() {
    doc "labs/$1/README.md"
    [[ ${lines[-1]} =~ :\ ([0-9]+)\ commands.*\;\ ([0-9]+)\ narration\ lines\ and\ ([0-9]+)\ strace ]]
    [ "${BASH_REMATCH[1]}" -gt 0 ] || { echo "no command is run" >&2; return 1; }
    [ "${BASH_REMATCH[2]}" -gt 0 ] || { echo "no narration is shown" >&2; return 1; }
    [ "${BASH_REMATCH[3]}" -gt 0 ] || { echo "no strace excerpt is shown" >&2; return 1; }
}
