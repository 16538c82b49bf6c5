# The course's top-level Makefile. Each lab also builds alone:
#   make -C solutions/01-unix-stream
#
#   make                   build every lab, solutions/ and labs/
#   make tour [LAB=03]     run each lab (or one) once, narrated, with ss
#   make test              build, then run every test against solutions/
#   make check LAB=01      build labs/01-*, run its tests against it
#   make hint LAB=01 STEP=2 [LEVEL=2]  a hint for one TODO step (3 levels)
#   make trace LAB=05      the tour of one lab, every program under strace
#   make grade [FORMAT=junit|csv|gradescope] [LAB=01,03]  score labs/ by tests/points
#   make grade SUBMISSIONS=DIR  grade each student's sources apart, one CSV
#   make grade-step LAB=01 STEP=3  one step: exit 0 when it earns its points
#   make handout [LAB=01,03]  tarball of what students get, without solutions/
#   make gradescope [LAB=01]  a Gradescope autograder zip
#   make labs [TODO=N]     regenerate labs/ from solutions/ (steps < N solved)
#   make lint              cppcheck and clang-tidy over every lab
#   make memcheck          valgrind memcheck on every program (solutions/)
#   make clean
#
# CC=clang and SANITIZE=1 are passed down to every lab.

SOLUTIONS := $(sort $(wildcard solutions/[0-9][0-9]-*))
SKELETONS := $(sort $(wildcard labs/[0-9][0-9]-*))
# make test runs this many test files at a time (tests/run.sh). Six on a
# 2-core machine: many tests wait on a kernel timer or a timeout (-t 1, a
# retransmission), not on the CPU, and six keep both cores busy. Measured
# here with labs 01-08 (294 tests, fork+exec of /bin/true 0.75 ms): 4 jobs
# 31.9 s, 5 jobs 29.0 s, 6 jobs 28.1-28.9 s; about 53 s of CPU in all.
JOBS      ?= 6

all: $(SOLUTIONS) $(SKELETONS)

$(SOLUTIONS) $(SKELETONS):
	@$(MAKE) --no-print-directory -s -C $@

# A handout (make handout) has no solutions/: test, tour and labs need them.
NEED_SOLUTIONS = @test -d solutions || { echo "make $@: this copy has no solutions/; use make check LAB=NN or make grade" >&2; exit 2; }
# Every tool of tests/prerequisites is here, before anything is built or run
# (exit 2, naming what is missing and the command that installs it).
PREFLIGHT = @CC='$(CC)' tests/preflight.sh $@

# The longest files first (measured: make test prints each file's time),
# so that the jobs end together: a long file started last is the tail.
LONGEST := tests/05-tcp.bats tests/faults.bats tests/hostile.bats tests/07-tcp-close.bats tests/12-many-clients.bats \
	tests/docs.bats tests/docs-lessons-unix.bats tests/01-unix-stream.bats tests/09-raw-packets.bats \
	tests/docs-lessons-inet.bats tests/06-udp.bats tests/03-unix-dgram.bats tests/10-two-hosts.bats \
	tests/docs-lessons-12.bats tests/bad-input.bats tests/11-cost.bats tests/04-seqpacket.bats tests/08-fd-passing.bats \
	tests/docs-lessons-10.bats tests/docs-lessons-09.bats tests/docs-lessons-11.bats tests/02-socketpair.bats tests/docs-lessons-08.bats
TESTS   := $(LONGEST) $(filter-out $(LONGEST),$(wildcard tests/*.bats))

test:
	$(NEED_SOLUTIONS)
	$(PREFLIGHT)
	@$(MAKE) --no-print-directory -j$(JOBS) $(SOLUTIONS)
	@tests/run.sh -j $(JOBS) $(TESTS)

check:
	$(PREFLIGHT)
	@tests/check.sh "$(LAB)"

hint:
	@tests/hint.sh "$(LAB)" "$(STEP)" "$(LEVEL)"

tour:
	$(NEED_SOLUTIONS)
	$(PREFLIGHT)
	@$(MAKE) --no-print-directory all
	@tests/tour.sh $(LAB)

trace: all
	$(NEED_SOLUTIONS)
	@tests/trace.sh $(LAB)

grade:
	$(PREFLIGHT)
	@tests/grade.sh $(if $(FORMAT),-f $(FORMAT)) $(if $(LAB),-l $(LAB)) $(if $(SUBMISSIONS),-s $(SUBMISSIONS))

grade-step:
	$(PREFLIGHT)
	@tests/grade.sh -t "$(LAB)" "$(STEP)"

handout:
	$(NEED_SOLUTIONS)
	@tests/handout.sh $(if $(LAB),-l $(LAB))

gradescope:
	$(NEED_SOLUTIONS)
	@tests/handout.sh -g $(if $(LAB),-l $(LAB))

labs:
	$(NEED_SOLUTIONS)
	tests/mklabs.sh $(TODO)

lint:
	@tests/lint.sh

memcheck:
	$(NEED_SOLUTIONS)
	@tests/memcheck.sh

clean:
	@for d in $(SOLUTIONS) $(SKELETONS); do $(MAKE) --no-print-directory -s -C $$d clean; done

.PHONY: all test check hint tour trace grade grade-step handout gradescope labs lint memcheck clean $(SOLUTIONS) $(SKELETONS)
