#!/usr/bin/env bats
# The lesson of lab 08 runs as written (tests/docs.sh): labs 01-04 are in
# docs-lessons-unix.bats, 05-07 in docs-lessons-inet.bats, the rest of the
# documents in docs.bats. A file of its own, so that `make test` runs it
# beside the others.
# Each command in a ```sh block is typed into a terminal of a sandbox whose
# labs are solved; the narration the lesson shows must appear in that run,
# and each ```strace excerpt in the output of the command before it. How to
# mark a document: README.md, "Documentation is tested".
# The lesson runs a client as user nobody (setpriv): in the sandbox of a
# user who is not root, uid 0 is the only one mapped, and setpriv cannot
# become another user; so the test needs root, and skips without it.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

setup() {
    load lib
    load docs
}

@test "lab 08's lesson works as written: its commands run, its narration and strace excerpts are real" {
    [ "$(id -u)" -eq 0 ] || skip "needs root: the lesson runs a client as user nobody (setpriv), which a user namespace of one uid cannot"
    lesson 08-fd-passing
}
