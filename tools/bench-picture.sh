#!/bin/sh
# tools/bench-picture.sh FILE.tsv: the Graphviz source of the picture
# "bench", what each layer costs, on stdout. tools/pictures.sh draws it
# from the recorded bench, recorded/bench.tsv; make bench draws
# build/bench.svg from build/bench.tsv the same way:
#
#     tools/bench-picture.sh build/bench.tsv | tools/pictures.sh svg >FILE.svg
#
# FILE.tsv is what tools/bench-report.sh writes: one line per command,
# LABEL<TAB>GROUP<TAB>MEDIAN_MS<TAB>PARTS, PARTS "NAME=MS,..." (for a
# step, the cost of each of its layers; for the rest, one part).
#
# A bar per command, its length its median start-to-exit time. A step's
# bar is split into its layers, each in the colour of the step that brought
# it, so the picture shows what each layer adds; a layer that measured
# less than nothing (noise, or a step that got faster) draws nothing, and
# the next ones fill the bar up to their sum: every bar is its median. Bars longer than the longest step's by far (runc)
# are cut, and marked so. Exit 1 on a malformed line, 2 on a usage error.
set -eu
LC_ALL=C
export LC_ALL

prog=tools/bench-picture.sh
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
    /^[ \t]*$/ { next }
    {
        if (NF != 4 || $3 !~ /^[0-9.]+$/)
            fail("not LABEL<TAB>GROUP<TAB>MEDIAN_MS<TAB>PARTS")
        n++
        label[n] = $1
        group[n] = $2
        median[n] = $3 + 0
        parts[n] = $4
        if (($2 == "step" || $2 == "veth") && $3 + 0 > longest_step)
            longest_step = $3 + 0
        if ($3 + 0 > longest)
            longest = $3 + 0
    }
    # A colour per layer, in the order the steps bring them.
    function colour(name) {
        if (!(name in hue)) {
            split("#4e79a7 #f28e2b #e15759 #76b7b2 #59a14f #edc948 " \
                  "#b07aa1 #ff9da7 #9c755f #bab0ac #86bcb6 #d37295", pal, " ")
            hue[name] = pal[(nhues++ % 12) + 1]
            order[nhues] = name
        }
        return hue[name]
    }
    END {
        if (failed)
            exit 1
        if (n == 0)
            fail("no lines")
        # Points for the longest bar drawn; a bar over 3 times the
        # longest step'"'"'s is cut there.
        bar_pt = 300
        cap = longest_step > 0 && longest > 3 * longest_step ? 3 * longest_step : longest
        scale = bar_pt / cap
        print "// bench: what each layer costs, drawn by"
        print "// tools/bench-picture.sh from " file "."
        print "digraph \"bench\" {"
        print "    graph [fontname=\"DejaVu Sans,Verdana,sans-serif\", pad=\"0.2\"];"
        print "    node [shape=plaintext, fontname=\"DejaVu Sans,Verdana,sans-serif\", fontsize=12];"
        print "    bench [label=<"
        print "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"2\" CELLPADDING=\"1\">"
        print "<TR>" cell("COLSPAN=\"3\" ALIGN=\"LEFT\"", "<B>What each layer costs</B>: start to exit of busybox true, median ms") "</TR>"
        for (i = 1; i <= n; i++) {
            np = split(parts[i], p, ",")
            bar = ""
            drawn = 0
            # The layers add up to the median; a layer less than nothing
            # draws nothing, and the ones after it fill up to their sum.
            sum = 0
            done_ms = 0
            for (j = 1; j <= np; j++) {
                eq = index(p[j], "=")
                name = substr(p[j], 1, eq - 1)
                sum += substr(p[j], eq + 1)
                if (group[i] == "step" || group[i] == "veth")
                    colour(name) # in the key, drawn or not
                end = sum < median[i] ? sum : median[i]
                v = end - done_ms
                if (v <= 0)
                    continue
                done_ms = end
                if (group[i] == "step" || group[i] == "veth")
                    c = colour(name)
                else
                    c = group[i] == "unshare" ? "#a0cbe8" : group[i] == "floor" ? "#555555" : "#888888"
                w = int(done_ms * scale + 0.5) - drawn
                if (drawn + w > bar_pt)
                    w = bar_pt - drawn
                if (w < 1)
                    continue
                drawn += w
                bar = bar cell("BGCOLOR=\"" c "\" WIDTH=\"" w "\" HEIGHT=\"14\" FIXEDSIZE=\"TRUE\"", "")
            }
            # Every bar'"'"'s table is bar_pt wide, so none is stretched.
            if (drawn < bar_pt)
                bar = bar cell("WIDTH=\"" (bar_pt - drawn) "\" HEIGHT=\"14\" FIXEDSIZE=\"TRUE\"", "")
            value = sprintf("%.2f", median[i])
            if (median[i] > cap)
                value = value " (cut)"
            print "<TR>" cell("ALIGN=\"RIGHT\"", esc(label[i])) \
                cell("ALIGN=\"LEFT\"", "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"0\"><TR>" bar "</TR></TABLE>") \
                cell("ALIGN=\"LEFT\"", value) "</TR>"
        }
        # The key: each layer'"'"'s colour, four a row.
        key = "<TR>"
        for (k = 1; k <= nhues; k++) {
            if (k > 1 && k % 4 == 1)
                key = key "</TR><TR>"
            key = key cell("BGCOLOR=\"" hue[order[k]] "\" WIDTH=\"10\" HEIGHT=\"10\" FIXEDSIZE=\"TRUE\"", "") \
                cell("ALIGN=\"LEFT\"", esc(order[k]))
        }
        key = key "</TR>"
        print "<TR>" cell("ALIGN=\"RIGHT\" VALIGN=\"TOP\"", "layers:") \
            cell("COLSPAN=\"2\" ALIGN=\"LEFT\"", "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"3\" CELLPADDING=\"0\">" key "</TABLE>") "</TR>"
        print "<TR>" cell("COLSPAN=\"3\" ALIGN=\"LEFT\"", "light blue: unshare(1) with the same namespaces; grey: fork/exec, bwrap, crun, runc") "</TR>"
        print "</TABLE>>];"
        print "}"
    }
' "$1"
