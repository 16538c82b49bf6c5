#!/usr/bin/env bats
# The lessons run as written (tests/docs.sh): labs 05-07 here, 01-04 in
# docs-lessons-unix.bats, the rest of the documents in docs.bats.
# Each command in a ```sh block is typed into a terminal of a sandbox whose
# labs are solved; the narration a document shows must appear in that run,
# and each ```strace excerpt in the output of the command before it. How to
# mark a document: README.md, "Documentation is tested".

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

setup() {
    load lib
    load docs
}

@test "lab 05's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 05-tcp; }
@test "lab 06's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 06-udp; }
@test "lab 07's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 07-tcp-close; }
