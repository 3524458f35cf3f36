# tests.mk: the test suites, included by the top-level Makefile.
#
# The suites link cmocka, which Debian ships only as a shared library, so
# they are dynamic; the probe they run inside containers is static, like
# the steps. The steps themselves are built by the top-level rules.

TEST_DIR := $(BUILD)/tests
# The list of steps lives in one place, steps/NN-name/: the harness gets
# it as BOXSTEP_STEPS, and is rebuilt when it changes (the stamp file).
comma := ,
STEP_LIST := $(BUILD)/steps.list
$(shell mkdir -p $(BUILD); [ "$$(cat $(STEP_LIST) 2>/dev/null)" = "$(STEPS)" ] \
	|| echo "$(STEPS)" > $(STEP_LIST))
# -Wno-format-truncation: gcc 12 reports paths built from an array of
# PATH_MAX buffers as possibly too long for another; they are not.
TEST_CFLAGS := $(BASE_CFLAGS) -Wno-format-truncation -Itests \
	'-DBOXSTEP_STEPS=$(subst $(eval) ,$(comma),$(STEPS:%="%"))'
SUITES := $(sort $(patsubst tests/suite-%.c,%,$(wildcard tests/suite-*.c)))
SUITE_BINS := $(SUITES:%=$(TEST_DIR)/suite-%)
HARNESS_SRC := tests/harness.c tests/sandbox.c shared/netlink.c shared/util.c
HARNESS_DEPS := $(HARNESS_SRC) tests/harness.h shared/boxstep.h \
	shared/internal.h $(STEP_LIST)

.PHONY: test-build
test-build: $(TEST_DIR)/probe $(TEST_DIR)/sandbox $(TEST_DIR)/unit-shared \
	$(SUITE_BINS) $(IMAGE_TOOL)

# libcap: probe caps reads the capability sets as the steps show them.
$(TEST_DIR)/probe: tests/probe.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -static -o $@ $< -lcap

$(TEST_DIR)/sandbox: tests/sandbox-cli.c $(HARNESS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(HARNESS_SRC) -lcmocka

# suite-images writes the archives it imports with libarchive, and
# their digests with nettle, as the importer reads them.
$(TEST_DIR)/suite-images: SUITE_LIBS := -larchive -lnettle
$(TEST_DIR)/suite-%: tests/suite-%.c $(HARNESS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(HARNESS_SRC) -lcmocka $(SUITE_LIBS)

$(TEST_DIR)/unit-shared: tests/unit-shared.c $(SHARED_SRC) shared/boxstep.h \
	shared/internal.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(SHARED_SRC) -lcmocka

# The Debian 12 image suite-08 runs (make image-debian, ~30 s), in a store
# of the tests' own, build/test-images: built once, again when the
# importer or its recipe changes. It needs mmdebstrap and the apt mirror;
# where they fail, the Debian checks skip (tests/allowed-skips), as in the
# lab VM, whose copy of build/ leaves the image out (vm/init).
TEST_IMAGES := $(BUILD)/test-images
TEST_DEBIAN := $(TEST_IMAGES)/images/debian-12/layers

.PHONY: test-image-debian
test-image-debian: $(TEST_DEBIAN)

$(TEST_DEBIAN): $(IMAGE_TOOL) tools/image.mk tools/oci-layout.sh
	rm -rf $(TEST_IMAGES)
	BOXSTEP_IMAGE_DIR=$(abspath $(TEST_IMAGES)) $(MAKE) --no-print-directory \
		image-debian || { rm -rf $(TEST_IMAGES); echo "make $@: no" \
		"Debian image: its checks in suite-08 will skip" >&2; }

NEED_ROOT = @[ "$$(id -u)" = 0 ] || { echo "make $@: the tests make" \
	"namespaces and cgroups: run 'sudo make $@'" >&2; exit 1; }
TEST_ENV = BOXSTEP_BUILD=$(CURDIR)/$(BUILD) BOXSTEP_STEP=$(STEP) \
	BOXSTEP_STEP_BIN=$(if $(STEP_BIN),$(abspath $(STEP_BIN)))

# make test [STEP=NN [STEP_BIN=path]]: every suite, or step NN's.
test: test-deps
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs rootfs-shifted test-build \
		test-image-debian
	@$(TEST_ENV) tests/run.sh $(STEP)

# make sandbox: everything the tutorial uses, built outside; then a shell
# in the sandbox its sessions run in (tests/sandbox-cli.c).
sandbox: test-deps
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs rootfs-shifted test-build
	@$(TEST_DIR)/sandbox --interactive

# make grade STEP=NN STEP_BIN=path: a report on a student's step NN.
grade: test-deps
	@[ -n "$(STEP)" ] && [ -f "$(STEP_BIN)" ] || { echo "usage: sudo make" \
		"grade STEP=NN STEP_BIN=path/to/their/binary" >&2; exit 2; }
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs rootfs-shifted test-build
	@$(TEST_ENV) tools/grade.sh $(STEP)
