#!/usr/bin/env bats
# The lesson of lab 10 runs as written (tests/docs.sh): labs 01-04 are in
# docs-lessons-unix.bats, 05-07 in docs-lessons-inet.bats, 08 in
# docs-lessons-08.bats, 09 in docs-lessons-09.bats, the rest of the
# documents in docs.bats. A file of its own, so that `make test` runs it
# beside the others.
# Each command in a ```sh block is typed into a terminal of a sandbox whose
# labs are solved; the narration the lesson shows must appear in that run,
# each ```strace excerpt in the output of the command before it. How to
# mark a document: README.md, "Documentation is tested".
# The lesson's two hosts are network namespaces (`hosts up`, its /run/netns
# on the sandbox's own /run); host b's own /tmp (`hosts -m up`) a mount
# namespace. Root in the sandbox (real root, or the one uid a user
# namespace maps) may make both; lab 09's sniff, run on host a, needs
# CAP_NET_RAW there, which that root has.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

setup() {
    load lib
    load docs
}

@test "lab 10's lesson works as written: its commands run, its narration and strace excerpts are real" { lesson 10-two-hosts; }
