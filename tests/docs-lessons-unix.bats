#!/usr/bin/env bats
# The lessons run as written (tests/docs.sh): labs 01-04 here, 05-07 in
# docs-lessons-inet.bats, the rest of the documents in docs.bats. Three
# files, so that `make test` runs them side by side.
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

@test "lab 01's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 01-unix-stream; }
@test "lab 02's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 02-socketpair; }
@test "lab 03's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 03-unix-dgram; }
@test "lab 04's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 04-seqpacket; }
