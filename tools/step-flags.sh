#!/bin/sh
# tools/step-flags.sh NN: the namespaces step NN makes, from its code, one
# "CLONE_NEWPID 03" a line: the clone flag and the step that added it.
#
# They come from the hook lines of steps/NN-name/main.c, outside its step
# text (tools/strip-step-text.awk):
#
#     flags |= CLONE_NEWPID; /* 03: pid_namespaces(7) */
#
# and, for a namespace the child makes itself with unshare(2), the hook
# line in child() that names it:
#
#     setup_cgroup_namespace(); /* 07: CLONE_NEWCGROUP, unshare(2) in it */
#
# (06's mount namespace keeps step 04's line.) tools/step-picture.sh draws
# them; tools/bench.sh gives unshare(1) the same ones.
set -eu
LC_ALL=C
export LC_ALL

prog=tools/step-flags.sh
tools=$(dirname "$0")
STEPS_DIR=${STEPS_DIR:-steps}

. "$tools/step-main.sh"
step_main "$@"
awk -f "$tools/strip-step-text.awk" "$main" |
    sed -n -e 's/.*\(CLONE_NEW[A-Z]*\).*\/\* \([0-9][0-9]\)[:*].*/\1 \2/p' \
        -e 's/.*\/\* \([0-9][0-9]\): \(CLONE_NEW[A-Z]*\).*/\2 \1/p'
