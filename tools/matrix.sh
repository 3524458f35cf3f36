#!/bin/sh
# tools/matrix.sh: the isolation matrix (sudo make matrix). Every
# isolation property of the suites, run on every step, in one table:
#
#                              00     01     02     03     04     05
#   01-uts
#     hostname                 leak   held   held   held   held   held
#
# a row per property, under the step that brings it, a column per step.
# It is no second copy of the checks: it runs each suite's binary
# (build/tests/suite-NN-*) with BOXSTEP_MATRIX=1, in which the harness
# (tests/harness.c, run_matrix()) runs every property of the suite on every
# step, each in its own throwaway sandbox, and prints one tab-separated
# line per cell:
#
#   matrix SUITE PROPERTY FIRST_STEP LAST_STEP STEP VERDICT JUDGEMENT
#          TEST REASON
#
# VERDICT is what the check saw (held, leaked, error, skipped); JUDGEMENT
# is the harness's comparison with the property's own table, the one the
# cmocka tests are made from: expected, by-design (after last_step, where
# a later layer changes the property on purpose), contradicts, or error or
# skipped again. This script only draws and counts.
#
# It prints the table, its legend and the reason of every error and skip,
# and writes three files into the build directory (BOXSTEP_BUILD, default
# build):
#
#   matrix.md    the table in Markdown, for the tutorial
#   matrix.tsv   the data, for pictures: one row per property, a column per
#                step (its format is at write_tsv below)
#   matrix.log   the suites' stderr: the whole output of a check that failed
#
# make matrix-record (tools/matrix.mk) copies matrix.md and matrix.tsv
# into recorded/, for the tutorial's closing chapter and its picture; a run
# whose table differs from that recording says so.
#
# Exit 0 when every cell is what the suites expect; 1 when a property
# holds before the step that brings it or leaks on or after it (a suite
# would fail), a check failed, a suite did not finish, or a check was
# skipped without tests/allowed-skips listing it; 2 on a usage error.
set -eu
LC_ALL=C
export LC_ALL

prog=tools/matrix.sh
top=$(dirname "$0")/..
build=${BOXSTEP_BUILD:-build}
# The build directory as the user would type it: relative when below here.
shown=${build#"$(pwd)"/}
tab=$(printf '\t')

if [ $# -ne 0 ]; then
    echo "usage: $prog   (no arguments: run it as 'sudo make matrix')" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "$prog: the checks make namespaces and cgroups: sudo make matrix" >&2
    exit 1
fi
suites=$(ls "$build"/tests/suite-[0-9][0-9]-* 2>/dev/null | sort) || true
if [ -z "$suites" ]; then
    echo "$prog: no suites in $shown/tests: run 'sudo make matrix'" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/matrix.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

# Runs every suite in matrix mode, collecting its lines in suite order. A
# suite that exits 0 or 1 (1: it found problem cells) finished.
run_suites() {
    : >"$work/cells"
    : >"$build/matrix.log"
    unfinished=""
    printf 'matrix: running the suites of steps' >&2
    for suite in $suites; do
        name=${suite##*/suite-}
        printf ' %.2s' "$name" >&2
        rc=0
        BOXSTEP_MATRIX=1 "$suite" >"$work/out" 2>>"$build/matrix.log" || rc=$?
        grep "^matrix$tab" "$work/out" >>"$work/cells" || true
        [ "$rc" -le 1 ] || unfinished="$unfinished $name (exit status $rc)"
    done
    echo ": done" >&2
}

# The cells, grouped by the step that brings each property (stable: the
# suites' own order within a group, steps in order within a row).
sorted_cells() {
    sort -t "$tab" -s -k4,4 "$work/cells"
}

# The table as text on stdout, with its legend and the reasons; the
# Markdown table to matrix.md.
draw() {
    if [ -n "${BOXSTEP_STEP_BIN:-}" ]; then
        echo "Column ${BOXSTEP_STEP:-?} runs $BOXSTEP_STEP_BIN (STEP_BIN)."
        echo
    fi
    sorted_cells | awk -F "$tab" -v md="$build/matrix.md" '
        function cell(verdict, judgement) {
            if (judgement == "by-design")
                return "(" (verdict == "held" ? "held" : "leak") ")"
            if (judgement == "contradicts")
                return verdict == "held" ? "HELD!" : "LEAK!"
            if (verdict == "error")
                return "ERROR"
            if (verdict == "skipped")
                return "skip"
            return verdict == "held" ? "held" : "leak"
        }
        # A text row: the name, then each cell in a column of 7.
        function text_row(name, cells) {
            out = sprintf("%-" width "s%s", name, cells)
            sub(/ +$/, "", out)
            print out
        }
        !(($6) in col) { col[$6] = ++ncols; step[ncols] = $6 }
        !(($3) in row) {
            row[$3] = ++nrows; prop[nrows] = $3; first[nrows] = $4
            if (length($3) > width) width = length($3)
        }
        {
            c[row[$3], col[$6]] = cell($7, $8)
            if ($10 != "") {
                note = sprintf("%s on %s: %s: %s", $3, $6, $7, $10)
                if (length(note) > 156)
                    note = substr(note, 1, 153) "..."
                notes[++nnotes] = note
            }
        }
        END {
            width += 3
            head = ""; line = "| property | step |"; rule = "|---|---|"
            for (j = 1; j <= ncols; j++) {
                head = head sprintf(" %-6s", substr(step[j], 1, 2))
                line = line " " substr(step[j], 1, 2) " |"; rule = rule "---|"
            }
            text_row("", head)
            print line > md; print rule > md
            for (i = 1; i <= nrows; i++) {
                if (first[i] != first[i - 1])
                    for (j = 1; j <= ncols; j++)
                        if (index(step[j], first[i]) == 1)
                            print step[j]
                cells = ""; line = "| `" prop[i] "` | " first[i] " |"
                for (j = 1; j <= ncols; j++) {
                    cells = cells sprintf(" %-6s", c[i, j])
                    line = line " " c[i, j] " |"
                }
                text_row("  " prop[i], cells)
                print line > md
            }
            print ""
            print "held    the check saw the property hold"
            print "leak    the check saw the leak: the step lacks the layer"
            print "(held)  after the property\047s last step, where a later" \
                " layer"
            print "(leak)  changes it on purpose: what the check saw, by design"
            print "HELD!   contradicts the suites: held before the step that"
            print "LEAK!   brings it, or leaked on or after it"
            print "ERROR   the check itself failed (why below; all of it in" \
                " matrix.log)"
            print "skip    this machine cannot run the check (why below)"
            for (i = 1; i <= nnotes; i++)
                print (i == 1 ? "\n" : "") notes[i]
        }'
}

# matrix.tsv: a header line, then one line per property in the table's
# order, tab-separated:
#
#   property  suite  first_step  last_step  00-fork  01-uts  ...
#
# first_step and last_step are step numbers ("04"; last_step "-" when
# none), suite the suite's name (04-mount). Each step's cell is the
# verdict, held, leaked, error or skipped, and for held or leaked a
# suffix when the suites do not expect it there: "-by-design" after
# last_step, "-contradicts" where a suite would fail. A matrix that
# exits 0 has neither "-contradicts" nor "error".
write_tsv() {
    sorted_cells | awk -F "$tab" -v OFS="$tab" '
        !(($6) in col) { col[$6] = ++ncols; step[ncols] = $6 }
        !(($3) in row) {
            row[$3] = ++nrows
            head[nrows] = $3 OFS $2 OFS $4 OFS $5
        }
        {
            v = $7
            if ($8 == "by-design" || $8 == "contradicts")
                v = v "-" $8
            c[row[$3], col[$6]] = v
        }
        END {
            printf "property%ssuite%sfirst_step%slast_step", OFS, OFS, OFS
            for (j = 1; j <= ncols; j++)
                printf "%s%s", OFS, step[j]
            printf "\n"
            for (i = 1; i <= nrows; i++) {
                printf "%s", head[i]
                for (j = 1; j <= ncols; j++)
                    printf "%s%s", OFS, c[i, j]
                printf "\n"
            }
        }' >"$build/matrix.tsv"
}

# The closing lines: what the cells were, and how long it took.
summary() {
    awk -F "$tab" -v s="$1" '
        !(($3) in p) { p[$3]; props++ }
        !(($6) in st) { st[$6]; steps++ }
        { n[$7]++; j[$8]++ }
        END {
            printf "\nboxstep matrix: %d properties x %d steps in %d s\n",
                props, steps, s
            printf "%d held, %d leaked, %d by design; %d contradict the " \
                "suites, %d errors, %d skipped\n", n["held"], n["leaked"],
                j["by-design"], j["contradicts"], n["error"], n["skipped"]
        }' "$work/cells"
    echo "wrote $shown/matrix.md and $shown/matrix.tsv"
}

# Whether the tutorial's recording of the matrix (recorded/matrix.tsv,
# sudo make matrix-record) is still this table: a note, never a failure,
# since another machine may skip a check this one ran.
recording() {
    recorded=$top/recorded/matrix.tsv
    [ -z "${BOXSTEP_STEP_BIN:-}" ] && [ -f "$recorded" ] || return 0
    cmp -s "$recorded" "$build/matrix.tsv" && return 0
    echo "note: the tutorial's recording, recorded/matrix.tsv, differs from" \
        "this table: 'sudo make matrix-record' records it again"
}

# Every reason the matrix fails, one line each on stderr; exit 1 if any.
judge() {
    awk -F "$tab" -v logfile="$shown/matrix.log" '
        $8 == "contradicts" { c++ }
        $8 == "error" { e++ }
        END {
            if (c)
                print "cells that contradict the suites (HELD!, LEAK!): " c
            if (e)
                print "checks that failed (ERROR): " e "; see " logfile
        }' "$work/cells" >"$work/problems"
    awk -F "$tab" '$8 == "skipped" { print $9 }' "$work/cells" |
        while read -r test; do
            "$top/tests/skip-allowed.sh" "$test" ||
                echo "$test was skipped, and tests/allowed-skips does" \
                    "not list it"
        done >>"$work/problems"
    [ -z "$unfinished" ] ||
        echo "suites that did not finish:$unfinished; see $shown/matrix.log" \
            >>"$work/problems"
    sed "s|^|$prog: |" "$work/problems" >&2
    [ ! -s "$work/problems" ]
}

start=$(date +%s)
run_suites
seconds=$(($(date +%s) - start))
if [ ! -s "$work/cells" ]; then
    echo "$prog: the suites printed no cells; see $shown/matrix.log" >&2
    exit 1
fi
draw
write_tsv
summary "$seconds"
recording
judge
