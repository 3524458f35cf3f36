#!/bin/sh
# tools/matrix-picture.sh FILE.tsv: the Graphviz source of a picture of
# the property x step matrix, on stdout. Draw it with
#
#     tools/matrix-picture.sh build/matrix.tsv | tools/pictures.sh svg >FILE.svg
#
# FILE.tsv is tab-separated: a header line "property first_step 00 01 ...",
# the steps' numbers after the first two fields, then one line per
# isolation property: its name, the step whose test first expects it to
# hold, and one verdict per step of the header:
#
#   held     the property held
#   leaked   the check observed the leak
#   failed   the check itself failed, or could not run
#   skipped  this machine cannot run the check
#   -        not run (a step before the property's control)
#
# The harness expects "leaked" on the step before first_step (the control,
# which shows the check can fail) and "held" from first_step on. A verdict
# as expected is drawn blue (held) or grey (leaked); one that is not, red;
# the first_step column has a thick border. Exit 1 on a malformed line,
# with its number; 2 on a usage error.
set -eu
LC_ALL=C
export LC_ALL

prog=tools/matrix-picture.sh
if [ $# -ne 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: $prog FILE.tsv" >&2
    exit 2
fi
[ -r "$1" ] || {
    echo "$prog: cannot read $1" >&2
    exit 1
}

awk -F '\t' -v file="$1" -v prog="$prog" '
    function fail(msg) {
        printf "%s: %s:%d: %s\n", prog, file, FNR, msg >"/dev/stderr"
        failed = 1
        exit 1
    }
    function esc(s) {
        gsub(/&/, "\\&amp;", s)
        gsub(/</, "\\&lt;", s)
        gsub(/>/, "\\&gt;", s)
        return s
    }
    function cell(attrs, text) {
        return "<TD " attrs ">" text "</TD>"
    }
    # The cell of one verdict: its colour says whether it is expected.
    function verdict_cell(v, step, first,   expect, attrs, text) {
        expect = step + 0 >= first + 0 ? "held" : \
            step + 0 == first - 1 ? "leaked" : "-"
        attrs = step == first ? "BORDER=\"3\" COLOR=\"#b45f06\" " : ""
        if (v == "-" && expect == "-")
            return cell(attrs "BGCOLOR=\"white\"", "")
        if (v == expect)
            return cell(attrs "BGCOLOR=\"" (v == "held" ? "#cfe2f3" : "#e6e6e6") "\"", v)
        if (v == "skipped")
            return cell(attrs "BGCOLOR=\"#fff2cc\"", "skipped")
        text = v == "-" ? "not run" : toupper(v)
        return cell(attrs "BGCOLOR=\"#ea9999\"", "<B>" text "</B>")
    }
    FNR == 1 {
        if ($1 != "property" || $2 != "first_step" || NF < 3)
            fail("the header must be \"property<TAB>first_step<TAB>00<TAB>01...\"")
        for (i = 3; i <= NF; i++) {
            if ($i !~ /^[0-9][0-9]$/)
                fail("header field " i ", \"" $i "\", is not a step number such as 03")
            step[i] = $i
        }
        nsteps = NF
        next
    }
    /^[ \t]*$/ { next }
    {
        if (NF != nsteps)
            fail(sprintf("%d fields, the header has %d", NF, nsteps))
        if ($2 !~ /^[0-9][0-9]$/)
            fail("first_step \"" $2 "\" is not a step number such as 03")
        row = "<TR>" cell("ALIGN=\"LEFT\"", esc($1))
        for (i = 3; i <= NF; i++) {
            if ($i !~ /^(held|leaked|failed|skipped|-)$/)
                fail("verdict \"" $i "\" for step " step[i] " is not held, leaked, failed, skipped or -")
            row = row verdict_cell($i, step[i], $2)
        }
        rows[++nrows] = row "</TR>"
    }
    END {
        if (failed)
            exit 1
        if (nrows == 0)
            fail("no property lines after the header")
        print "// matrix: each isolation property against each step, drawn by"
        print "// tools/matrix-picture.sh from " file "."
        print "digraph \"matrix\" {"
        print "    graph [fontname=\"DejaVu Sans,Verdana,sans-serif\", pad=\"0.2\"];"
        print "    node [shape=plaintext, fontname=\"DejaVu Sans,Verdana,sans-serif\", fontsize=14];"
        print "    matrix [label=<"
        print "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"3\" CELLPADDING=\"5\" COLOR=\"#666666\">"
        head = "<TR>" cell("BORDER=\"0\" ALIGN=\"LEFT\"", "<B>property</B>")
        for (i = 3; i <= nsteps; i++)
            head = head cell("BORDER=\"0\"", "<B>" step[i] "</B>")
        print head "</TR>"
        for (r = 1; r <= nrows; r++)
            print rows[r]
        span = "COLSPAN=\"" (nsteps - 2) "\" BORDER=\"0\" ALIGN=\"LEFT\""
        print "<TR>" cell("BORDER=\"0\"", "") cell(span, "<FONT POINT-SIZE=\"12\">blue: held; grey: leaked, on the control<BR ALIGN=\"LEFT\"/>red: not as expected; yellow: skipped<BR ALIGN=\"LEFT\"/>thick border: the first step that must hold<BR ALIGN=\"LEFT\"/></FONT>") "</TR>"
        print "</TABLE>>];"
        print "}"
    }
' "$1"
