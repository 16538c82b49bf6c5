#!/usr/bin/env bash
# tests/handout.sh [-l LABS] [-g] - make handout [LAB=01,03], make gradescope.
#
# Packs what students get into a tarball (HANDOUT, default
# /tmp/sockets-handout.tar.gz; its path is the last line printed):
#   README.md      the students' README (tests/handout/README.md), no
#                  command that needs solutions/
#   .gitignore     the binaries
#   Makefile, .clang-tidy, notes/ (whole)
#   labs/NN-*      the chosen labs (-l 01,03; default all): skeletons
#   tests/         the chosen labs' tests, and what check, hint, grade and
#                  lint need: no teacher tool (mklabs.sh, steps.sh,
#                  mutants/, course/, the solutions' own suites)
#   tests/ref/NN-* the reference peers, as binaries only (built here,
#                  stripped), and where each step lives (tests/reference.sh);
#                  also those of the labs a chosen lab's tests run as
#                  peers (lib.bash, peer_lab: lab 09's are 05, 06, 07)
#   tests/MANIFEST the checksums of every test and grading file, which
#                  make grade checks before it grades in place
#   .github/workflows/classroom.yml  GitHub Classroom's autograding: a
#                  command-grader step per step of the points table
# With -g (make gradescope), a Gradescope autograder zip instead
# (GRADESCOPE, default /tmp/sockets-gradescope.zip): setup.sh,
# run_autograder, and the same course as source/.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/lib.bash   # lab_name, lab_programs, peer_labs

labs_arg="" gradescope=""
while getopts l:g opt; do
    case $opt in
    l) labs_arg=$OPTARG ;;
    g) gradescope=1 ;;
    *) echo "usage: make handout [LAB=NN,NN] | make gradescope [LAB=NN,NN]" >&2; exit 2 ;;
    esac
done
labs=()
for sol in solutions/[0-9][0-9]-*/; do
    lab=$(basename "$sol")
    if [ -n "$labs_arg" ]; then
        for want in ${labs_arg//,/ }; do
            [ "$(lab_name "$want")" = "$lab" ] && labs+=("$lab")
        done
    else
        labs+=("$lab")
    fi
done
[ "${#labs[@]}" -gt 0 ] || { echo "handout: no lab '$labs_arg' (labs: $(cd solutions && echo [0-9][0-9]-*))" >&2; exit 2; }

stage=$(mktemp -d /tmp/handout.XXXXXX)
trap 'rm -rf "$stage"' EXIT
dir=$stage/sockets-labs
mkdir -p "$dir/labs" "$dir/tests" "$dir/.github/workflows"
cp -r Makefile .clang-tidy notes "$dir/"
cp tests/handout/README.md "$dir/README.md"
# The programs of the chosen labs (each Makefile's all: line), not sources.
{
    echo '# Built programs: make builds them, make clean removes them.'
    for lab in "${labs[@]}"; do lab_programs "labs/$lab" && printf '%s\n' "${PROGRAMS[@]}"; done |
        sort -u | sed 's|^|/labs/*/|'
    echo '*.o'
} >"$dir/.gitignore"
# What check, hint, grade and lint use, and seqdiag.sh (lab 09's tests and
# lesson draw with it); not the teacher's tools.
cp tests/lib.bash tests/check.sh tests/hint.sh tests/grade.sh tests/preflight.sh tests/prerequisites \
    tests/reference.sh tests/lint.sh tests/canonical.sh tests/canonical.c tests/canonical.h \
    tests/cppcheck.cfg tests/cppcheck.suppress tests/seqdiag.sh "$dir/tests/"
# ship_ref LAB: the reference programs of LAB in tests/ref/LAB: built
# apart, with the lab's own flags (not a SANITIZE=1 build that happens to
# be in solutions/), and stripped; and where each step lives.
ship_ref() {
    local prog
    [ -d "$dir/tests/ref/$1" ] && return 0
    cp -r "solutions/$1" "$stage/$1"
    make --no-print-directory -s -C "$stage/$1" clean
    make --no-print-directory -s -C "$stage/$1"
    mkdir -p "$dir/tests/ref/$1"
    lab_programs "$stage/$1"
    for prog in "${PROGRAMS[@]}"; do
        strip -o "$dir/tests/ref/$1/$prog" "$stage/$1/$prog"
    done
    tests/reference.sh --sides "solutions/$1" >"$dir/tests/ref/$1/sides"
}
for lab in "${labs[@]}"; do
    cp -r "labs/$lab" "$dir/labs/"
    cp "tests/$lab.bats" "$dir/tests/"
    for f in tests/"$lab"-*; do [ -f "$f" ] && cp "$f" "$dir/tests/"; done   # a lab's own helper: 03's peer
    ship_ref "$lab"
    # Other labs' programs its tests run as peers (lab 09 captures lab
    # 05's to 07's; lib.bash, peer_lab): their reference binaries too,
    # handed out with this lab or not.
    for peer in $(peer_labs "tests/$lab.bats"); do ship_ref "$peer"; done
    make --no-print-directory -s -C "$dir/labs/$lab" clean   # no built program in the handout
done
find "$dir/labs" -type f -name '*.o' -delete
# The points of the chosen labs only: the maximum is theirs.
awk -v labs=" ${labs[*]} " '/^#/ || !NF || index(labs, " " $1 " ")' tests/points >"$dir/tests/points"
if grep -rlE '/\* (END TODO|EXTRA) [0-9]+' "$dir/labs" >/dev/null; then
    echo "handout: labs/ holds solved steps or extras; run make labs" >&2
    exit 1
fi

# GitHub Classroom: one command-grader step per step of the points table
# (the extras are bonus, which the reporter cannot add apart: make grade
# shows them), then the reporter that sums them. The prerequisites are
# installed by each step's setup command when missing (preflight).
pkgs=$(awk '!/^#/ && NF { print $2 }' tests/prerequisites | awk '!seen[$0]++' | paste -sd ' ')
{
    echo "# Generated by make handout from tests/points: do not edit; change the"
    echo "# points there and make the handout again."
    echo "name: Autograding"
    echo "on:"
    echo "  - push"
    echo "  - repository_dispatch"
    echo "permissions:"
    echo "  checks: write"
    echo "  actions: read"
    echo "  contents: read"
    echo "jobs:"
    echo "  run-autograding-tests:"
    echo "    runs-on: ubuntu-24.04"
    echo "    if: github.actor != 'github-classroom[bot]'"
    echo "    steps:"
    echo "      - name: Checkout code"
    echo "        uses: actions/checkout@v4"
    ids=()
    while read -r lab kind n pts; do
        id=lab${lab%%-*}-step$n
        ids+=("$id")
        echo "      - name: $lab step $n"
        echo "        id: $id"
        echo "        uses: classroom-resources/autograding-command-grader@v1"
        echo "        with:"
        echo "          test-name: $lab step $n"
        echo "          setup-command: tests/preflight.sh grade >/dev/null 2>&1 || { sudo apt-get update -qq && sudo apt-get install -y -qq $pkgs; }"
        echo "          command: sudo make grade-step LAB=${lab%%-*} STEP=$n"
        echo "          timeout: 3"
        echo "          max-score: $pts"
    done < <(awk '!/^#/ && $2 == "step" { print $1, $2, $3, $4 }' "$dir/tests/points")
    echo "      - name: Autograding Reporter"
    echo "        uses: classroom-resources/autograding-grading-reporter@v1"
    echo "        env:"
    for id in "${ids[@]}"; do
        echo "          ${id^^}_RESULTS: \"\${{steps.$id.outputs.result}}\""
    done
    echo "        with:"
    echo "          runners: $(IFS=,; echo "${ids[*]}")"
} >"$dir/.github/workflows/classroom.yml"

# The manifest: every file that decides a grade, as make handout made it.
(
    cd "$dir"
    shopt -s nullglob
    { find Makefile .github tests -type f ! -name MANIFEST; printf '%s\n' labs/*/Makefile labs/*/GIVEN; } |
        LC_ALL=C sort | xargs sha256sum >tests/MANIFEST
)

if [ -z "$gradescope" ]; then
    out=${HANDOUT:-${TMPDIR:-/tmp}/sockets-handout.tar.gz}
    tar -C "$stage" -czf "$out" sockets-labs
    echo "handout: ${labs[*]}: $(tar -tzf "$out" | grep -c '[^/]$') files, no solutions/ (reference peers as binaries, tests/ref/)"
    echo "$out"
    exit 0
fi

# Gradescope: the course as source/, with setup.sh and run_autograder at
# the top of the zip (Gradescope unpacks it in /autograder/source).
zipdir=$stage/zip
mkdir -p "$zipdir"
cp -a "$dir" "$zipdir/source"
cp tests/handout/run_autograder "$zipdir/"
{
    echo '#!/usr/bin/env bash'
    echo '# setup.sh - Gradescope runs it once, as root, when it builds the'
    echo '# autograder: the prerequisites (tests/prerequisites), then their check.'
    echo '# Choose the Ubuntu 24.04 base image: it has bats 1.10 (22.04: 1.2.1,'
    echo '# too old for the tests, and the check below says so).'
    echo 'set -euo pipefail'
    echo 'export DEBIAN_FRONTEND=noninteractive'
    echo 'apt-get update -qq'
    echo "apt-get install -y -qq --no-install-recommends $pkgs"
    echo 'cd "${AUTOGRADER_ROOT:-/autograder}/source" && tests/preflight.sh grade'
} >"$zipdir/setup.sh"
chmod +x "$zipdir/setup.sh" "$zipdir/run_autograder"
out=${GRADESCOPE:-${TMPDIR:-/tmp}/sockets-gradescope.zip}
rm -f "$out"
case $out in /*) ;; *) out=$PWD/$out ;; esac
if command -v zip >/dev/null 2>&1; then
    (cd "$zipdir" && zip -qr "$out" setup.sh run_autograder source)
elif command -v python3 >/dev/null 2>&1; then
    (cd "$zipdir" && python3 -m zipfile -c "$out" setup.sh run_autograder source)
else
    echo "gradescope: needs zip or python3 to write the zip (apt-get install zip)" >&2
    exit 2
fi
echo "gradescope: ${labs[*]}: an autograder zip (setup.sh, run_autograder, source/)"
echo "$out"
