#!/bin/sh
# tests/skip-allowed.sh NAME: exit 0 when tests/allowed-skips lists the
# skipped test NAME (its first word, shell patterns allowed) with a reason,
# 1 when it does not. tests/run.sh and tools/matrix.sh ask it, so that a
# skip is allowed in one place only.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 TEST_NAME" >&2; exit 2; }
allowed=$(dirname "$0")/allowed-skips
[ -f "$allowed" ] || exit 1
while read -r pattern reason; do
    case "$pattern" in "" | "#"*) continue ;; esac
    # shellcheck disable=SC2254
    case "$1" in $pattern) [ -n "$reason" ] && exit 0 ;; esac
done <"$allowed"
exit 1
