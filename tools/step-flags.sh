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

case $#:${1-} in
1:[0-9][0-9]) ;;
*)
    echo "usage: $prog NN   (a step number, such as 03)" >&2
    exit 2
    ;;
esac
main=""
for dir in "$STEPS_DIR/$1"-*/; do
    [ -f "${dir}main.c" ] && main=${dir}main.c
done
if [ -z "$main" ]; then
    echo "$prog: no step $1 (no $STEPS_DIR/$1-name/main.c)" >&2
    exit 1
fi
awk -f "$tools/strip-step-text.awk" "$main" |
    sed -n -e 's/.*\(CLONE_NEW[A-Z]*\).*\/\* \([0-9][0-9]\)[:*].*/\1 \2/p' \
        -e 's/.*\/\* \([0-9][0-9]\): \(CLONE_NEW[A-Z]*\).*/\2 \1/p'
