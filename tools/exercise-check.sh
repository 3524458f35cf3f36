#!/bin/sh
# tools/exercise-check.sh [NN]: make exercise-check [STEP=NN] (root; CI
# runs it for every step). Checks
# that every exercise (make exercise STEP=NN) is what it claims to be: the
# step with its layer taken out, and nothing else.
#
# For each step with a layer, every step in steps/ after the first, it
# generates the skeleton into a temporary directory (never exercises/,
# which is the student's), builds it, grades it as a student's binary
# (tools/grade.sh, every suite) and checks that the fresh skeleton shows
#
#   - every property the step brings (its first step is NN) LEAKED: its
#     layer is missing, and the checks see it;
#   - every property of an earlier step held, and every behaviour of an
#     earlier step ok: the rest of the step is whole.
#
# The step's own behaviours are not judged: they test the layer's own
# features (a ping over the veth, exit status 125 for a bad --volume),
# which a skeleton may or may not happen to have; they are counted apart.
# A skipped test passes only when tests/allowed-skips lists it, as in make
# test. A step without a property of its own fails: nothing would show
# that its skeleton lacks the layer.
#
# One line per step, then a summary; exit 1 when a skeleton is wrong (its
# grade is shown), 2 when there is nothing to check.
set -eu
LC_ALL=C
export LC_ALL

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

steps=$(ls -d steps/[0-9][0-9]-*/ | sed 's,^steps/,,; s,/$,,' | sed 1d)
if [ -n "${1:-}" ]; then
    steps=$(echo "$steps" | grep "^$1-" || true)
    [ -n "$steps" ] || {
        echo "usage: make exercise-check [STEP=NN]; no exercise for step $1" >&2
        exit 2
    }
fi
[ -n "$steps" ] || {
    echo "exercise-check: no step after the first in steps/" >&2
    exit 2
}
work=$(mktemp -d "${TMPDIR:-/tmp}/exercise-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 2' HUP INT TERM

# judge NN SUMMARY: one line on step NN's skeleton; fails when it is wrong.
judge() {
    while IFS="$(printf '\t')" read -r test kind first verdict; do
        if [ "$verdict" = skipped ]; then
            tests/skip-allowed.sh "$test" && verdict=allowed
        fi
        # One word a field for awk: "could not run" is could_not_run.
        echo "$kind $first $(echo "$verdict" | tr ' ' _) $test"
    done <"$2" | awk -v step="$1" '
        function want(what, ok) {
            total[what]++
            if (ok)
                good[what]++
            else
                wrong = wrong "\n    " $4 ": " $3
        }
        $3 == "allowed" { skipped++; next }
        $1 == "property" && $2 == step { want("own", $3 == "LEAKED"); next }
        $1 == "property" { want("earlier", $3 == "held"); next }
        $2 < step { want("behaviours", $3 == "ok"); next }
        { own[$3 == "ok" ? "ok" : "not ok"]++ }
        END {
            if (!total["own"])
                wrong = wrong "\n    step " step " has no property of its own"
            printf "%d/%d own properties LEAKED, %d/%d earlier properties " \
                "held, %d/%d earlier behaviours ok", good["own"],
                total["own"], good["earlier"], total["earlier"],
                good["behaviours"], total["behaviours"]
            if (own["ok"] + own["not ok"])
                printf "; own behaviours, not judged: %d ok, %d not",
                    own["ok"], own["not ok"]
            if (skipped)
                printf "; %d skipped (tests/allowed-skips)", skipped
            printf "%s\n", wrong
            exit (wrong != "")
        }'
}

start=$(date +%s)
failed=""
for name in $steps; do
    step=${name%%-*}
    dir=$work/$name
    if ! tools/exercise.sh "$step" "$dir" >"$work/$name.make" 2>&1; then
        cat "$work/$name.make" >&2
        echo "exercise $name: the skeleton was not made" >&2
        failed="$failed $name"
        continue
    fi
    # A skeleton fails its grade by design: the summary is what counts.
    BOXSTEP_STEP=$step BOXSTEP_STEP_BIN=$dir/$name \
        tools/grade.sh "$step" "$work/$name.summary" >"$work/$name.grade" \
        2>&1 || true
    if line=$(judge "$step" "$work/$name.summary"); then
        echo "exercise $name: $line"
    else
        cat "$work/$name.grade" >&2
        echo "exercise $name: WRONG: $line"
        failed="$failed $name"
    fi
done
n=$(echo "$steps" | wc -w)
[ "$n" -eq 1 ] && n="1 exercise" || n="$n exercises"
time="$(($(date +%s) - start)) s"
if [ -n "$failed" ]; then
    echo "exercise-check: $n, wrong:$failed ($time)"
    exit 1
fi
echo "exercise-check: $n, each leaks its own layer only ($time)"
