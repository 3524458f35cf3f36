# tools/bench.mk: make bench, included by the top-level Makefile.
#
#   sudo make bench         what each layer costs: every step beside
#                           fork/exec, unshare, bwrap, crun and runc, in
#                           one table (tools/bench.sh); writes
#                           build/bench.md, build/bench.tsv, build/bench.svg
#   sudo make bench-record  make bench, then keeps its table for the
#                           tutorial: copies build/bench.md and
#                           build/bench.tsv into recorded/ and redraws
#                           pictures/bench.svg from them
#   make bench-deps         install what it runs (Debian packages)
#
# BENCH_RUNS=N (default 200, in BENCH_ROUNDS=4 rounds) sets the timed
# runs per command, BENCH_ONLY=REGEX the commands (tools/bench.sh says
# more). The steps are the Makefile's list, so a new step joins the table
# with no change here. Like matrix-record, the tutorial shows the
# recording and never runs the bench again: its numbers are one
# machine's, and it needs root outside the tutorial's sandbox.

BENCH_PKGS := hyperfine bubblewrap crun runc jq util-linux
BENCH_TOOLS := $(BUILD)/tools/bench-launch $(BUILD)/tools/bench-syscalls

.PHONY: bench bench-deps bench-record

bench-deps:
	@tools/deps.sh $(BENCH_PKGS) busybox-static $(PICTURE_PKGS)

# Static, like the steps, and small: bench-launch's own size is the floor
# of the ru_maxrss it reports (tools/bench-launch.c says why).
# -Wno-format-truncation: gcc 12 sees paths joined into a PATH_MAX
# buffer as possibly too long; they are not.
$(BUILD)/tools/%: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Wno-format-truncation -static -o $@ $<

bench: bench-deps
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs $(BENCH_TOOLS)
	@BUILD=$(BUILD) tools/bench.sh $(STEPS)

bench-record:
	@$(MAKE) --no-print-directory bench
	@mkdir -p $(RECORDED)
	cp $(BUILD)/bench.md $(BUILD)/bench.tsv $(RECORDED)/
	@tools/pictures.sh draw bench
	@echo "make bench-record: recorded $(RECORDED)/bench.md and" \
		"$(RECORDED)/bench.tsv; now 'sudo make tutorial', and commit" \
		"them with pictures/bench.svg and tutorial.md"

# The tutorial's chapter "What each layer costs" runs bench-launch once.
tutorial tutorial-check: $(BUILD)/tools/bench-launch
