#!/usr/bin/env bats
# The lesson of lab 12 runs as written (tests/docs.sh): labs 01-04 are in
# docs-lessons-unix.bats, 05-07 in docs-lessons-inet.bats, 08 in
# docs-lessons-08.bats, 09 in docs-lessons-09.bats, 10 in
# docs-lessons-10.bats, 11 in docs-lessons-11.bats, the rest of the
# documents in docs.bats. A file of its own, so that `make test` runs it
# beside the others.
# Each command in a ```sh block is typed into a terminal of a sandbox whose
# labs are solved; the narration the lesson shows must appear in that run,
# each ```strace excerpt in the output of the command before it. How to
# mark a document: README.md, "Documentation is tested".
# The lesson measures a server out of descriptors (prlimit, util-linux):
# its figures, CPU ticks and failed accept()s, are shown, never checked;
# the spin it shows lasts about a tenth of a second of one CPU. Its waits
# are on the programs' narration; the one timer it waits for is the
# server's own -t 2 (BYE idle), and a 1 s rest out of descriptors.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

setup() {
    load lib
    load docs
}

@test "lab 12's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 12-many-clients; }
