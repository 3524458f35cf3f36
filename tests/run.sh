#!/bin/sh
# tests/run.sh [NN|NAME]: runs the unit tests and every suite (or only
# step NN's suites, or suite-NAME), shows their cmocka output, then one
# closing line:
#
#     boxstep: 120 passed, 0 failed, 0 skipped
#
# It fails when a test failed, when a suite did not finish, or when a test
# was skipped without its name and reason in tests/allowed-skips: on this
# project nothing is skipped silently.
set -u
build=${BOXSTEP_BUILD:-build}
out=$(mktemp)
trap 'rm -f "$out" "$out.rc"' EXIT

if [ -n "${1:-}" ]; then
    # NN: step NN's suites; a name (images): that suite.
    suites=$(ls "$build"/tests/suite-"$1"-* "$build"/tests/suite-"$1" 2>/dev/null)
    [ -n "$suites" ] || { echo "run.sh: no suite for step $1" >&2; exit 2; }
else
    suites="$build/tests/unit-shared $(ls "$build"/tests/suite-* | sort)"
fi

# Whether a skipped test is listed in tests/allowed-skips.
skip_allowed() {
    "$(dirname "$0")/skip-allowed.sh" "$1"
}

passed=0 failed=0 skipped=0 problems=""
for suite in $suites; do
    { "$suite" 2>&1; echo $? >"$out.rc"; } | tee "$out"
    name=${suite##*/}
    n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed.*/\1/p' "$out")
    passed=$((passed + ${n:-0}))
    failed=$((failed + ${f:-0}))
    if [ -z "$n" ] || [ "$(cat "$out.rc")" != "${f:-0}" ]; then
        problems="$problems\n$name did not finish (exit status $(cat "$out.rc"))"
        [ -n "$f" ] || failed=$((failed + 1))
    fi
    for t in $(sed -n 's/^\[  SKIPPED \] \([a-z_0-9]*\)$/\1/p' "$out" | sort -u); do
        skipped=$((skipped + 1))
        skip_allowed "$t" ||
            problems="$problems\n$t was skipped, and tests/allowed-skips does not list it"
    done
done

[ -z "$problems" ] || printf "%b\n" "$problems" >&2
echo "boxstep: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ -z "$problems" ]
