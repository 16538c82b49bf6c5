#!/usr/bin/env bats
# The lesson of lab 11 runs as written (tests/docs.sh): labs 01-04 are in
# docs-lessons-unix.bats, 05-07 in docs-lessons-inet.bats, 08 in
# docs-lessons-08.bats, 09 in docs-lessons-09.bats, 10 in
# docs-lessons-10.bats, the rest of the documents in docs.bats. A file of
# its own, so that `make test` runs it beside the others.
# Each command in a ```sh block is typed into a terminal of a sandbox whose
# labs are solved; the narration the lesson shows must appear in that run,
# each ```strace excerpt in the output of the command before it. How to
# mark a document: README.md, "Documentation is tested".
# The lesson measures: its figures are shown, never checked (only the
# narration, and strace -c's counts of read() and write(), which do not
# change from run to run). It pins programs with taskset (util-linux) to
# CPU 0, and once to CPU 1: where this shell may not use both (one CPU, or
# a container's cpuset), the test skips, saying so. Its runs are short
# (1000 round trips, 100 MB, a short bench): about 2.3 s.

bats_require_minimum_version 1.5.0
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

setup() {
    load lib
    load docs
}

@test "lab 11's lesson works as written: its commands run, its narration and strace excerpts are real" {
    command -v taskset >/dev/null 2>&1 || skip "taskset (util-linux) is not installed: the lesson pins its programs with it"
    taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null ||
        skip "the lesson pins its programs to CPUs 0 and 1, and this shell may not use both: $(taskset -pc $$)"
    lesson 11-cost
}
