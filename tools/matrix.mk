# tools/matrix.mk: the isolation matrix, included by the top-level Makefile.
#
#   sudo make matrix         every isolation property of the suites on every
#                            step, in one table (tools/matrix.sh); also
#                            writes build/matrix.md and build/matrix.tsv
#   sudo make matrix-record  make matrix, then keeps its table for the
#                            tutorial: copies both files into recorded/
#                            and redraws pictures/matrix.svg from them
#
# Like make test it builds what it needs first and needs root; with
# STEP=NN STEP_BIN=path a student's binary stands in for step NN's column.
#
# recorded/ holds what the tutorial shows of commands that make
# tutorial-check does not replay: the matrix runs every property of every
# suite on every step, each in a sandbox of its own, which is too long for
# a session, and a machine's skips would change the table. The closing chapter includes recorded/matrix.md verbatim
# (tools/tutorial.sh, "@recorded"), and pictures/matrix.svg is drawn from
# recorded/matrix.tsv (tools/pictures.sh), so the check stays byte for
# byte deterministic: it compares with the recording, never with a new
# run. make matrix says when its run differs from the recording; record
# again (and commit recorded/, pictures/matrix.svg and tutorial.md) when a
# step or a property is added.

RECORDED := recorded

.PHONY: matrix matrix-record
matrix: test-deps
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs test-build
	@$(TEST_ENV) tools/matrix.sh

# Only boxstep's own steps are recorded, and only a matrix that passes:
# make matrix fails on a contradiction, and then nothing is copied.
matrix-record: picture-deps
	@[ -z "$(STEP_BIN)" ] || { echo "make matrix-record: records boxstep's" \
		"own steps; run it without STEP_BIN" >&2; exit 2; }
	@$(MAKE) --no-print-directory matrix
	@mkdir -p $(RECORDED)
	cp $(BUILD)/matrix.md $(BUILD)/matrix.tsv $(RECORDED)/
	@tools/pictures.sh draw matrix
	@echo "make matrix-record: recorded $(RECORDED)/matrix.md and" \
		"$(RECORDED)/matrix.tsv; now 'sudo make tutorial', and commit" \
		"them with pictures/matrix.svg and tutorial.md"
