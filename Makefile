# boxstep: build a Linux container one kernel feature at a time.
#
#   make              build every step into build/NN-name (static)
#   make test         build and run every test suite (root)   [STEP=NN]
#   make demo         a shell in the newest step's container (root)
#   make sandbox      a shell in the tutorial's sandbox, all built (root)
#   make rootfs       the busybox root filesystem, build/rootfs
#   make rootfs-shifted  its copy owned by a mapped range (root; step 06)
#   make diff A=03 B=04    what step 04 adds to step 03
#   make check-diffs  fail when a step's diff does more than add
#   make format-check fail when a file is not clang-formatted
#   make tutorial     regenerate tutorial.md (root); tutorial-check in CI
#   make pictures     redraw the tutorial's pictures; pictures-check in CI
#   make matrix       every isolation property on every step (root); in CI;
#                     matrix-record keeps it for the tutorial (recorded/)
#   make exercise STEP=NN  a step with its layer taken out, to write
#   make grade STEP=NN STEP_BIN=path  a student's step, test by test (root)
#   make doctor       can this machine run the steps? (a preflight table)
#   make bench        what each layer costs, beside unshare, bwrap, crun
#                     and runc (root); bench-record keeps it (recorded/)
#   make vm           a shell in the lab VM (cgroup v2 only); vm-test in CI
#   make image FROM=oci:DIR[:TAG]  import a real image (tools/image.mk);
#                     make images, image-rm, image-prune, image-debian
#   make DEBUG=1      dynamic, -O0 builds for valgrind and gdb
#   make SANITIZE=1   dynamic builds with ASan and UBSan

STEPS := $(sort $(notdir $(wildcard steps/[0-9][0-9]-*)))
NEWEST := $(lastword $(STEPS))
BUILD := build

# Static by default, so a step binary can be copied into any VM. valgrind
# is blind in a static binary and gcc refuses ASan in one: both dynamic.
MODE := $(if $(SANITIZE),sanitize,$(if $(DEBUG),debug,static))
O := $(BUILD)/obj/$(MODE)
CC := gcc
# The language and warnings of every C file here, steps and tests alike.
BASE_CFLAGS := -std=gnu11 -g -O2 -Wall -Wextra -Werror -Wmissing-prototypes \
	-D_GNU_SOURCE -Ishared
# -fconserve-stack: no function is inlined into a caller whose stack frame
# it would make much larger (a path buffer or two): every page of stack a
# run touches stays resident, and counts in the runtime's VmHWM.
# -Os (the last -O wins): a static binary's code is resident nearly whole
# (see below), so smaller code is less memory; the start path waits on
# the kernel, not on this code, and is no slower for it (step 08's
# VmHWM 950 kB against 1012 with -O2, and its start 0.05 ms faster).
CFLAGS := $(BASE_CFLAGS) -Os -fconserve-stack
# Every function and variable in a section of its own, and the sections no
# one calls dropped at link time (--gc-sections): a static binary's text is
# nearly all resident (the kernel maps the cached pages around each page
# fault), so code that is linked but never run still counts in VmHWM.
CFLAGS += -ffunction-sections -fdata-sections
LDFLAGS := -Wl,--gc-sections
# libcap (06 on): cap_to_text(3) shows the capability sets.
LDLIBS := -lcap
ifeq ($(MODE),static)
LDFLAGS += -static
else ifeq ($(MODE),debug)
CFLAGS += -O0
else
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

# The binaries are rebuilt when the mode changes.
$(shell mkdir -p $(BUILD); [ "$$(cat $(BUILD)/.mode 2>/dev/null)" = $(MODE) ] || \
	echo $(MODE) > $(BUILD)/.mode)
# And when the flags change: an object compiled before a change of CFLAGS
# (-ffunction-sections, say) would otherwise stay in every later binary,
# and make it differ from a clean build's.
BUILD_FLAGS := $(CC) $(CFLAGS) / $(LDFLAGS) $(LDLIBS)
$(shell mkdir -p $(O); [ "$$(cat $(O)/.flags 2>/dev/null)" = '$(BUILD_FLAGS)' ] || \
	echo '$(BUILD_FLAGS)' > $(O)/.flags)

SHARED_SRC := $(wildcard shared/*.c)
SHARED_OBJ := $(SHARED_SRC:%.c=$(O)/%.o)
SHARED_LIB := $(O)/libboxstep.a
STEP_BINS := $(STEPS:%=$(BUILD)/%)

BUILD_PKGS := gcc libc6-dev make libcap-dev
TEST_PKGS := $(BUILD_PKGS) libcmocka-dev busybox-static uidmap $(IMAGE_PKGS)
FORMAT_PKGS := clang-format
# The image importer (tools/image.mk), which the tests run too.
IMAGE_PKGS := libarchive-dev libjansson-dev nettle-dev

.PHONY: all deps test-deps rootfs rootfs-shifted test demo sandbox diff check-diffs format \
	format-check tutorial tutorial-check doctor clean
.DEFAULT_GOAL := all

all: $(STEP_BINS)

# -MMD: each object also depends on the headers it includes (the .d files).
$(O)/%.o: %.c $(BUILD)/.mode $(O)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(O) -name '*.d' 2>/dev/null)

$(SHARED_LIB): $(SHARED_OBJ)
	rm -f $@
	ar rcs $@ $^

# A step is every .c file of its directory: main.c and its layer files.
step_objs = $(patsubst %.c,$(O)/%.o,$(wildcard steps/$(1)/*.c))
.SECONDEXPANSION:
$(STEP_BINS): $(BUILD)/%: $$(call step_objs,$$*) $(SHARED_LIB) $(O)/.flags
	$(CC) $(CFLAGS) -o $@ $(filter %.o %.a,$^) $(LDFLAGS) $(LDLIBS)

deps:
	@tools/deps.sh $(BUILD_PKGS)

test-deps:
	@tools/deps.sh $(TEST_PKGS)

# The container's root filesystem, from Debian's busybox-static.
rootfs: $(BUILD)/rootfs/bin/busybox
$(BUILD)/rootfs/bin/busybox: rootfs/build.sh $(wildcard rootfs/skel/etc/*)
	@tools/deps.sh busybox-static
	rootfs/build.sh /bin/busybox $(BUILD)/rootfs

# Its copy with every owner shifted to boxstep's first host range, for
# step 06 where the rootfs cannot be idmapped, and --no-idmap (root).
rootfs-shifted: $(BUILD)/rootfs-shifted/bin/busybox
$(BUILD)/rootfs-shifted/bin/busybox: $(BUILD)/rootfs/bin/busybox \
		tools/shift-rootfs.sh
	tools/shift-rootfs.sh $(BUILD)/rootfs

include tools/image.mk
include tests/tests.mk
include tools/matrix.mk
include tools/exercise.mk
include tools/pictures.mk
include tools/bench.mk
# The lab VM (make vm, make vm-test), once vm/ exists.
-include vm/vm.mk

# Preflight: can this machine run the steps? A table, and why not.
doctor:
	@tools/doctor.sh

demo: deps
	@tools/deps.sh busybox-static
	@$(MAKE) --no-print-directory all rootfs
	@[ "$$(id -u)" = 0 ] || { echo "make demo: needs root: sudo make demo" >&2; exit 1; }
	$(BUILD)/$(NEWEST)

diff:
	@[ -n "$(A)" ] && [ -n "$(B)" ] || { echo "usage: make diff A=03 B=04" >&2; exit 2; }
	@tools/step-diff.sh $(A) $(B)

check-diffs:
	@tools/check-diffs.sh

# tutorial.md is generated from tutorial.md.in: the diffs from the code,
# the shell sessions run for real in the test sandbox (as root).
# Chapter 8 shows the shifted copy too (rootfs-shifted, as root).
tutorial: all rootfs rootfs-shifted test-build
	@tools/tutorial.sh

tutorial-check: all rootfs rootfs-shifted test-build
	@tools/tutorial.sh --check

FORMAT_FILES = $(wildcard shared/*.[ch] steps/*/*.[ch] tests/*.[ch] tools/*.c \
	tools/image-import/*.[ch])
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@tools/deps.sh $(FORMAT_PKGS)
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)
