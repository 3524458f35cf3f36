# tools/matrix.mk: the isolation matrix, included by the top-level Makefile.
#
#   sudo make matrix   every isolation property of the suites on every
#                      step, in one table (tools/matrix.sh); also writes
#                      build/matrix.md and build/matrix.tsv
#
# Like make test it builds what it needs first and needs root; with
# STEP=NN STEP_BIN=path a student's binary stands in for step NN's column.

.PHONY: matrix
matrix: test-deps
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs test-build
	@$(TEST_ENV) tools/matrix.sh
