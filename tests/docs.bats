#!/usr/bin/env bats
# Documentation is code: every document runs as written (tests/docs.sh):
# README.md and the notes here, the lessons in docs-lessons-*.bats.
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

@test "README.md works as written" { doc README.md; }

@test "notes/sockets-are-files.md works as written" { doc notes/sockets-are-files.md; }
@test "notes/domains-and-types.md works as written" { doc notes/domains-and-types.md; }
@test "notes/unix-vs-tcp.md works as written" { doc notes/unix-vs-tcp.md; }
@test "notes/tcp-states.md works as written" { doc notes/tcp-states.md; }
@test "notes/watching.md works as written" { doc notes/watching.md; }
@test "notes/teaching.md works as written" { doc notes/teaching.md; }
@test "the handout's README (tests/handout/README.md) works as written" { doc tests/handout/README.md; }

@test "the READMEs' install command (the course's and the handout's) installs exactly the packages of tests/prerequisites, the list the preflight and CI read" {
    local want=() tool package line readme
    while read -r tool package _; do
        case $tool in '' | \#*) continue ;; esac
        case " ${want[*]} " in *" $package "*) ;; *) want+=("$package") ;; esac
    done <"$ROOT/tests/prerequisites"
    for readme in README.md tests/handout/README.md; do
        line=""
        while IFS= read -r line; do
            if [[ $line == "sudo apt-get install "* ]]; then break; fi
        done <"$ROOT/$readme"
        note "$readme: $line"
        is "$readme's install command (tests/prerequisites)" "$line" "sudo apt-get install ${want[*]}"
    done
}

# falsify SED_SCRIPT WANT: run tests/docs.sh on lab 01's lesson in a copy
# of the course where SED_SCRIPT has changed the lesson; it must fail, and
# its only complaint must be that a line holding WANT was not found.
falsify() {
    local W
    W=$(mktemp -d /tmp/docneg.XXXXXX)
    # Hard links where /tmp is the course's file system (no bytes copied:
    # sed -i below writes a new file, and docs.sh writes nothing here).
    local parts=("$ROOT"/Makefile "$ROOT"/README.md "$ROOT"/.ci "$ROOT"/labs "$ROOT"/notes "$ROOT"/solutions "$ROOT"/tests)
    cp -al "${parts[@]}" "$W"/ 2>/dev/null || { rm -rf "${W:?}"/* "$W"/.ci; cp -a "${parts[@]}" "$W"/; }
    sed -i "$1" "$W/labs/01-unix-stream/README.md"
    not cmp -s "$ROOT/labs/01-unix-stream/README.md" "$W/labs/01-unix-stream/README.md" ||
        { rm -rf "$W"; return 1; }
    run "$W/tests/docs.sh" labs/01-unix-stream/README.md
    rm -rf "$W"
    [ "$status" -ne 3 ] || skip "${lines[-1]}"
    [ "$status" -eq 1 ] || fail "tests/docs.sh on the changed lesson should exit 1; exit $status: $output"
    [[ $output == *"not found"*"$2"* ]] || fail "tests/docs.sh should say that a line with '$2' was not found; it said: $output"
    [ "$(grep -c 'not found' <<<"$output")" -eq 1 ] ||   # and nothing else is wrong
        fail "tests/docs.sh should complain of one line only; it says: $(grep 'not found' <<<"$output")"
    note "$(grep -m1 'not found' <<<"$output")"
}

@test "a false call in a strace excerpt turns the doc test red" {
    # The issue's acceptance check: listen() becomes connect() in lab 01's
    # strace excerpt.
    falsify '/^```strace/,/^```$/s/ listen(3</ connect(3</' ' connect(3<UNIX-STREAM'
}

@test "narration a lesson shows but the programs do not print turns the doc test red" {
    # backlog=16 becomes 5 in lab 01's narration.
    falsify 's/^\[server\] listen(backlog=16) = 0$/[server] listen(backlog=5) = 0/' ': [server] listen(backlog=5) = 0'
}

@test "a false line in a block marked <!-- doc: output --> turns the doc test red" {
    # Lab 01's strace excerpt becomes a ```text block marked output (the
    # rule for a diagram or a report a command prints), with listen()
    # made connect(): the other lines pass, that one is not found.
    falsify '/^```strace$/{
i <!-- doc: output -->
s/strace/text/
}
s/ listen(3</ connect(3</' ' connect(3<UNIX-STREAM'
}

@test "every relative link in the documents leads to a file; each lesson links the notes, each note the labs" {
    local doc link target bad=() n=0
    cd "$ROOT"
    for doc in README.md labs/*/README.md notes/*.md; do
        # [text](target), not http(s) or mailto, without its #anchor.
        while IFS= read -r link; do
            link=${link#*](} link=${link%)} link=${link%%#*}
            [ -n "$link" ] || continue
            n=$((n + 1))
            target=${doc%/*}/$link
            [ "$doc" != README.md ] || target=$link
            [ -e "$target" ] || bad+=("$doc -> $link")
        done < <(grep -oE '\]\([^)# ]*(#[^) ]*)?\)' "$doc" | grep -vE '\]\((https?|mailto):')
    done
    [ "${#bad[@]}" -eq 0 ] || { printf 'broken link: %s\n' "${bad[@]}" >&2; false; }
    for doc in labs/*/README.md; do
        grep -q '](\.\./\.\./notes/' "$doc" || { echo "$doc links no note" >&2; false; }
    done
    for doc in notes/*.md; do
        grep -q '](\.\./labs/' "$doc" || { echo "$doc links no lab" >&2; false; }
    done
    note "$n relative links, each to a file that exists"
}

# tests/learning.sh: lessons teach, hints give; a harder tier; tests that
# say what they saw; a mutation table for every step. Then that the check
# can fail: a lesson that prints a step's code is refused.
@test "every lab teaches rather than dictates: no step's code outside its level-3 hint, three hint levels, two extras, no bare assertion, two mutants a step" {
    run "$ROOT/tests/learning.sh"
    note_lines "  " <<<"$output"
    [ "$status" -eq 0 ] || fail "tests/learning.sh found the breaches above"
    local copy=$BATS_TEST_TMPDIR/course
    mkdir -p "$copy/labs/01-unix-stream"
    cp -r "$ROOT/tests" "$ROOT/solutions" "$copy/"
    cp "$ROOT"/labs/01-unix-stream/* "$copy/labs/01-unix-stream/"
    # The step-3 call with its arguments, put back into the lesson's prose.
    local call
    call=$(grep -oE 'listen\([a-z]+, [A-Z0-9_]+\)' "$ROOT/solutions/01-unix-stream/server.c" | head -n 1)
    [ -n "$call" ] || fail "no listen() call in lab 01's server"
    sed -i "/^## Steps\$/a\\
\\
Step 3, in short: call \`$call\` and you are done." "$copy/labs/01-unix-stream/README.md"
    grep -q "call \`$call\`" "$copy/labs/01-unix-stream/README.md" || fail "the sentence was not put in the lesson's Steps"
    run "$copy/tests/learning.sh" 01-unix-stream
    note "with \`$call\` in the lesson: ${lines[0]}"
    [ "$status" -eq 1 ] && [[ $output == *"shows the code of step 3"* ]] || fail "not refused: $output"
}
