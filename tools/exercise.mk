# tools/exercise.mk: the build-it-yourself track, included by the Makefile.
#
#   make exercise STEP=NN [FORCE=1]   exercises/NN-name: step NN with its
#                     layer taken out, TODO(NN) where it goes, built into
#                     exercises/NN-name/NN-name (tools/exercise.sh)
#   make exercise-build EXERCISE=DIR  rebuild an exercise: DIR/NN-name, with
#                     the steps' flags and shared/'s library (its Makefile
#                     calls this)
#   make exercise-check [STEP=NN]  (root) every step's fresh skeleton, or
#                     step NN's, leaks its own properties and holds the
#                     earlier ones (tools/exercise-check.sh; CI runs it)

EXERCISE_ENV = CC='$(CC)' EXERCISE_CFLAGS='$(BASE_CFLAGS)' MAKE='$(MAKE)'
EXERCISE_DIR = $(patsubst %/,%,$(EXERCISE))

.PHONY: exercise exercise-build exercise-check

exercise: deps
	@$(EXERCISE_ENV) tools/exercise.sh '$(STEP)'

exercise-build: $(SHARED_LIB)
	@[ -n "$(EXERCISE)" ] && [ -f "$(EXERCISE_DIR)/main.c" ] || { echo \
		"usage: make exercise-build EXERCISE=exercises/NN-name" >&2; exit 2; }
	$(CC) $(CFLAGS) -o $(EXERCISE_DIR)/$(notdir $(EXERCISE_DIR)) \
		$(wildcard $(EXERCISE_DIR)/*.c) $(SHARED_LIB) $(LDFLAGS) $(LDLIBS)

exercise-check: test-deps
	$(NEED_ROOT)
	@$(MAKE) --no-print-directory all rootfs rootfs-shifted test-build \
		$(SHARED_LIB)
	@$(EXERCISE_ENV) BOXSTEP_BUILD=$(CURDIR)/$(BUILD) \
		tools/exercise-check.sh $(STEP)
