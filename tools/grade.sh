#!/bin/sh
# tools/grade.sh NN [SUMMARY]: grades a student's binary for step NN.
#
# make grade STEP=NN STEP_BIN=path runs every suite with that binary in
# place of build/NN-name (the harness's STEP_BIN), so the earlier layers
# are checked on it too, then reports each of step NN's tests:
#
#   held / ok          the property held, the behaviour was right
#   LEAKED             the isolation check observed the leak
#   FAILED             a behaviour was wrong (exit status, error, ...)
#   could not run      the check itself could not run it: with the reason
#   skipped            this machine cannot run the check (tests/allowed-skips)
#
# The controls and later steps keep using boxstep's own builds. Exit 0
# when everything held, 1 otherwise.
#
# With SUMMARY, it also writes there one line per test it reports, for a
# program (tools/exercise-check.sh): the test's name, its kind (property
# or behaviour), the first step it applies to (the first step the test
# names of the run give it, controls aside: a property's first_step) and
# the verdict, separated by tabs:
#
#   uts_ns__step01__isolated<Tab>property<Tab>01<Tab>LEAKED
set -u
step=$1
summary=${2:-/dev/null}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "Grading $BOXSTEP_STEP_BIN as step $step (running every suite)..."
"$(dirname "$0")/../tests/run.sh" >"$log" 2>&1

# One line per test of step NN: name, verdict, reason. The first pass
# notes each test's first step: "hostname__step01__isolated" and
# "hostname__step02__isolated" make 01 the first of "hostname isolated".
awk -v step="$step" -v summary="$summary" '
    function shorten(text) {
        return length(text) > 110 ? substr(text, 1, 107) "..." : text
    }
    NR == FNR {
        if (/^\[ RUN      \] / && split($4, part, "__") == 3 &&
            part[3] != "leaks") {
            key = part[1] " " part[3]
            at = substr(part[2], 5)
            if (!(key in first) || at < first[key])
                first[key] = at
        }
        next
    }
    /^\[ RUN      \] / { name = $4; reason = ""; more = 0; next }
    # A reason that ends in ":" goes on with what the check saw, on the
    # lines after it: its first line joins the reason.
    more && !/^\[/ && !/^ERROR: / && NF {
        reason = shorten(reason " " $0)
        more = 0
    }
    /^    (FAIL|SKIP): / && name != "" && reason == "" {
        reason = shorten(substr($0, 11))
        more = reason ~ /:$/
    }
    /^\[       OK \] / || /^\[  FAILED  \] [a-z]/ || /^\[  SKIPPED \] [a-z]/ {
        # Controls of later steps ("__leaks") are not this step'"'"'s job.
        if ($0 ~ /listed below/ || index(name, "__step" step "__") == 0 ||
            name ~ /__leaks$/)
            next
        split(name, part, "__")
        ok = $0 ~ /OK \]/
        kind = (part[3] == "isolated") ? "property" : "behaviour"
        if ($0 ~ /SKIPPED/) {
            printf "  %-44s skipped: %s\n", part[1], reason
            printf "%s\t%s\t%s\tskipped\n", name, kind,
                first[part[1] " " part[3]] >summary
            name = ""
            next
        }
        if (ok)
            verdict = (kind == "property") ? "held" : "ok"
        else if (reason ~ / leaked on /)
            verdict = "LEAKED"
        # The check could not run the binary or observe it: not a verdict
        # on what the binary did (a wrong exit status is FAILED).
        else if (reason ~ /did not start|cannot |timed out|set-up|: status -?[0-9]+:/)
            verdict = "could not run"
        else
            verdict = "FAILED"
        label = (kind == "property") ? part[1] : part[1] " (" part[3] ")"
        printf "  %-44s %s%s\n", label, verdict, ok ? "" : ": " reason
        printf "%s\t%s\t%s\t%s\n", name, kind, first[part[1] " " part[3]],
            verdict >summary
        total[kind]++
        if (ok) good[kind]++
        name = ""
    }
    # A suite that did not finish, or a skip nobody allowed, is no grade.
    / did not finish \(exit status / || / was skipped, and tests\/allowed-skips/ {
        broken = broken "\n  " $0
    }
    END {
        printf "\nstep %s: %d of %d properties held, %d of %d behaviours right\n",
            step, good["property"], total["property"],
            good["behaviour"], total["behaviour"]
        if (broken != "") {
            printf "no grade: the suites did not all run to the end:%s\n",
                broken
            exit 1
        }
        if (total["property"] + total["behaviour"] == 0) {
            printf "no grade: no test of step %s ran\n", step
            exit 1
        }
        exit (good["property"] != total["property"] ||
              good["behaviour"] != total["behaviour"])
    }' "$log" "$log"
