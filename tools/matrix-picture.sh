#!/bin/sh
# tools/matrix-picture.sh FILE.tsv: the Graphviz source of the picture
# "matrix", the isolation matrix at a glance, on stdout. tools/pictures.sh
# draws it from the recorded matrix, recorded/matrix.tsv; by hand:
#
#     tools/matrix-picture.sh build/matrix.tsv | tools/pictures.sh svg >FILE.svg
#
# FILE.tsv is what tools/matrix.sh writes (its format is at write_tsv
# there): a header line "property suite first_step last_step 00-fork
# 01-uts ...", tab-separated, then one line per isolation property: its
# name, its suite (04-mount), the step that brings it, the last step it
# holds on ("-": every later one), and one cell per step of the header:
#
#   held, leaked               what the check saw, as the suites expect
#   held-by-design, ...        after last_step, where a later layer
#                              changes the property on purpose
#   held-contradicts, leaked-contradicts
#                              not what the suites expect: a suite fails
#   error, skipped             the check failed; this machine cannot run it
#
# The picture is one row per suite, not per property: the properties of
# each suite are listed under the table (twins such as NAME_no_idmap
# counted on a last line; in each row's first cell they made nine step
# columns too wide for a page), and each step's cell says what their
# checks saw, "held" or "leak" when they all agree, else a count of each,
# smaller. A row per property would not fit a page (tools/pictures.sh
# allows 1000 px; 34 properties need more), and the staircase, a suite's
# row turning from leak to held at its own step, is what the picture is
# for; the table in the tutorial has every cell. Held is blue, leak grey, a
# verdict by design pale orange, a contradiction or an error red, a skip
# yellow; each suite's own step has a thick border. Exit 1 on a malformed
# line, with its number; 2 on a usage error.
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

# fail(), esc() and cell() come from tools/picture.awk, put before it.
awk -F '\t' -v file="$1" -v prog="$prog" "$(cat "$(dirname "$0")/picture.awk")"'
    # A verdict as the table of make matrix shows it.
    function shown(v) {
        if (v == "held") return "held"
        if (v == "leaked") return "leak"
        if (v == "held-by-design") return "(held)"
        if (v == "leaked-by-design") return "(leak)"
        if (v == "held-contradicts") return "HELD!"
        if (v == "leaked-contradicts") return "LEAK!"
        if (v == "error") return "ERROR"
        if (v == "skipped") return "skip"
        return ""
    }
    FNR == 1 {
        if ($1 != "property" || $2 != "suite" || $3 != "first_step" ||
            $4 != "last_step" || NF < 5)
            fail("the header must be \"property<TAB>suite<TAB>first_step<TAB>last_step<TAB>00-name...\"")
        for (i = 5; i <= NF; i++) {
            if ($i !~ /^[0-9][0-9]-[a-z0-9-]+$/)
                fail("header field " i ", \"" $i "\", is not a step such as 03-pid")
            step[i] = $i
        }
        nf = NF
        next
    }
    /^[ \t]*$/ { next }
    {
        if (NF != nf)
            fail(sprintf("%d fields, the header has %d", NF, nf))
        if ($3 !~ /^[0-9][0-9]$/)
            fail("first_step \"" $3 "\" is not a step number such as 03")
        if (!($2 in row)) {
            row[$2] = ++nrows
            suite[nrows] = $2
            first[nrows] = $3
        }
        r = row[$2]
        if ($3 != first[r])
            fail("property " $1 " of " $2 " has first_step " $3 ", the suite" \
                 "\047" "s others " first[r])
        names[r] = names[r] (names[r] == "" ? "" : " ") $1
        nprops[r]++
        for (i = 5; i <= NF; i++) {
            s = shown($i)
            if (s == "")
                fail("cell \"" $i "\" for step " step[i] " is not held, leaked, held-by-design, leaked-by-design, held-contradicts, leaked-contradicts, error or skipped")
            if (!((r, i, s) in count))
                kinds[r, i] = kinds[r, i] " " s
            count[r, i, s]++
        }
    }
    # The properties of row r, a few a line, in the mono font. A twin,
    # NAME_SUFFIX beside NAME, is not listed when two or more share
    # SUFFIX (the _no_idmap twins of 06-user): a last line counts them.
    function name_lines(r, width,   n, w, i, j, s, twin, nsuf, suf, nsufs, line, out) {
        n = split(names[r], w, " ")
        for (i = 1; i <= n; i++)
            for (j = 1; j <= n; j++)
                if (i != j && index(w[i], w[j] "_") == 1) {
                    s = substr(w[i], length(w[j]) + 1)
                    twin[i] = s
                    if (!(s in nsuf))
                        suf[++nsufs] = s
                    nsuf[s]++
                }
        line = ""
        out = ""
        for (i = 1; i <= n; i++) {
            if ((i in twin) && nsuf[twin[i]] >= 2)
                continue
            if (line != "" && length(line) + 1 + length(w[i]) > width) {
                out = out line "<BR ALIGN=\"LEFT\"/>"
                line = ""
            }
            line = line (line == "" ? "" : " ") w[i]
        }
        out = out line "<BR ALIGN=\"LEFT\"/>"
        for (j = 1; j <= nsufs; j++)
            if (nsuf[suf[j]] >= 2)
                out = out "and " nsuf[suf[j]] " twins NAME" esc(suf[j]) "<BR ALIGN=\"LEFT\"/>"
        return out
    }
    # The cell of row r, step column i.
    function verdict_cell(r, i,   n, k, j, text, colour, attrs, s) {
        n = split(substr(kinds[r, i], 2), k, " ")
        colour = ""
        for (j = 1; j <= n; j++) {
            s = k[j]
            if (s ~ /!$/ || s == "ERROR")
                colour = "#ea9999"
            else if (s == "skip" && colour != "#ea9999")
                colour = "#fff2cc"
        }
        if (colour == "")
            colour = n > 1 || k[1] ~ /^\(/ ? "#fce5cd" : \
                k[1] == "held" ? "#cfe2f3" : "#e6e6e6"
        # Each part escaped alone: the <BR/> between them is markup.
        if (n == 1)
            text = esc(k[1])
        else
            for (j = 1; j <= n; j++)
                text = text (j > 1 ? "<BR/>" : "") count[r, i, k[j]] " " esc(k[j])
        if (colour == "#ea9999")
            text = "<B>" text "</B>"
        if (n > 1)
            text = "<FONT POINT-SIZE=\"10\">" text "</FONT>"
        attrs = "BGCOLOR=\"" colour "\""
        if (substr(step[i], 1, 2) == first[r])
            attrs = attrs " BORDER=\"3\" COLOR=\"#b45f06\""
        return cell(attrs, text)
    }
    END {
        if (failed)
            exit 1
        if (nrows == 0)
            fail("no property lines after the header")
        small = "<FONT POINT-SIZE=\"12\">"
        mono = "<FONT FACE=\"DejaVu Sans Mono,Menlo,Consolas,monospace\" POINT-SIZE=\"10\">"
        print "// matrix: the isolation matrix, one row per suite, drawn by"
        print "// tools/matrix-picture.sh from " file "."
        print "digraph \"matrix\" {"
        print "    graph [fontname=\"DejaVu Sans,Verdana,sans-serif\", pad=\"0.2\"];"
        print "    node [shape=plaintext, fontname=\"DejaVu Sans,Verdana,sans-serif\", fontsize=14];"
        print "    matrix [label=<"
        print "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"1\" CELLPADDING=\"2\" COLOR=\"#666666\">"
        head = "<TR>" cell("BORDER=\"0\" ALIGN=\"LEFT\" VALIGN=\"BOTTOM\"", "<B>suite</B>, properties")
        for (i = 5; i <= nf; i++)
            head = head cell("BORDER=\"0\" VALIGN=\"BOTTOM\"", "<B>" substr(step[i], 1, 2) "</B><BR/>" small esc(substr(step[i], 4)) "</FONT>")
        print "<TR>" cell("COLSPAN=\"" (nf - 3) "\" BORDER=\"0\"", "<B>The isolation matrix</B>: what each suite" "\047" "s checks saw on each step") "</TR>"
        print head "</TR>"
        for (r = 1; r <= nrows; r++) {
            line = "<TR>" cell("ALIGN=\"LEFT\"", "<B>" esc(suite[r]) "</B>" small ", " nprops[r] "</FONT>")
            for (i = 5; i <= nf; i++)
                line = line verdict_cell(r, i)
            print line "</TR>"
        }
        # The properties, under the table: a row of the table each would
        # make it too wide and too high for a page once there are nine steps.
        for (r = 1; r <= nrows; r++)
            print "<TR>" cell("COLSPAN=\"" (nf - 3) "\" BORDER=\"0\" ALIGN=\"LEFT\" BALIGN=\"LEFT\"", small "<B>" esc(suite[r]) ": </B></FONT>" mono name_lines(r, 64) "</FONT>") "</TR>"
        key = "COLSPAN=\"" (nf - 4) "\" BORDER=\"0\" ALIGN=\"LEFT\" BALIGN=\"LEFT\""
        print "<TR>" cell("BORDER=\"0\" ALIGN=\"LEFT\" VALIGN=\"TOP\"", small "key:</FONT>") \
            cell(key, small "blue: held; grey: leak, the layer is missing<BR/>" \
                 "thick border: the step that brings the suite<BR/>" \
                 "pale orange: (held), (leak), by design, or a mix<BR/>" \
                 "red: HELD!, LEAK!, ERROR; yellow: skip</FONT>") "</TR>"
        print "</TABLE>>];"
        print "}"
    }
' "$1"
