#!/bin/sh
# tools/step-picture.sh NN: the Graphviz source of the picture step-NN,
# what step NN isolates, on stdout. tools/pictures.sh draws it.
#
# The picture is a table: one row per kind of namespace a container gets
# in boxstep, one column for the host and one for the container. A kind
# the step shares is one grey box across both columns; a kind it isolates
# is two boxes, the host's and the container's own; the kind the step adds
# is orange. Which kinds a step isolates comes from the code, not from a
# list kept by hand: its main.c's hook lines for the clone flags,
#
#     flags |= CLONE_NEWPID; /* 03: pid_namespaces(7) */
#
# each a flag and the step that added it. A namespace the child makes
# itself with unshare(2) is named by its hook line in child() instead,
#
#     setup_cgroup_namespace(); /* 07: CLONE_NEWCGROUP, unshare(2) in it */
#
# (06's mount namespace keeps step 04's line; a "flags &= ~" line after
# it takes the flag out of clone() alone). The title is the step text's
# line " * 03-pid: ...". So the six pictures cannot disagree with the
# steps, and a new step gets its picture with no new source to write.
set -eu
LC_ALL=C
export LC_ALL

prog=tools/step-picture.sh
tools=$(dirname "$0")
STEPS_DIR=${STEPS_DIR:-steps}

. "$tools/step-main.sh"
step_main "$@"

# The flags, "CLONE_NEWPID 03" a line (tools/step-flags.sh); then the
# title, from inside the step text.
flags=$("$tools/step-flags.sh" "$1")
title=$(sed -n "s/^ \* \($1-[a-z0-9-]*: .*\)\.\$/\1/p" "$main" | head -n 1)
[ -n "$title" ] || {
    echo "$prog: $main: no title line \" * $1-name: what it does.\"" >&2
    exit 1
}

# esc() and cell() come from tools/picture.awk, put before it.
printf '%s\n' "$flags" | awk -v step="$1" -v title="$title" -v main="$main" \
    -v prog="$prog" "$(cat "$tools/picture.awk")"'
    # The kinds of namespace of boxstep, in the order the steps add them:
    # name, clone flag, what it holds (namespaces(7)).
    BEGIN {
        n = split("UTS IPC PID mount network user cgroup", kind, " ")
        split("CLONE_NEWUTS CLONE_NEWIPC CLONE_NEWPID CLONE_NEWNS " \
              "CLONE_NEWNET CLONE_NEWUSER CLONE_NEWCGROUP", flag, " ")
        what[1] = "hostname, NIS domain name"
        what[2] = "System V IPC, POSIX message queues"
        what[3] = "process IDs"
        what[4] = "mount table: the file tree"
        what[5] = "devices, addresses, routes, ports"
        what[6] = "user and group IDs, capabilities"
        what[7] = "view of the cgroup tree"
        for (i = 1; i <= n; i++)
            known[flag[i]] = 1
    }
    NF == 2 { added[$1] = $2 }
    END {
        for (f in added) {
            if (!(f in known)) {
                printf "%s: %s: %s is not a kind this picture knows: " \
                    "add it to the kinds in %s\n", prog, main, f, prog \
                    >"/dev/stderr"
                exit 1
            }
        }
        shared = "BGCOLOR=\"#e6e6e6\""
        own = "BGCOLOR=\"#cfe2f3\""
        new = "BGCOLOR=\"#f9cb9c\" BORDER=\"3\" COLOR=\"#b45f06\""
        small = "<FONT POINT-SIZE=\"12\">"
        print "// step-" step ": what step " step " isolates, and what it still"
        print "// shares with the host: one row per kind of namespace. Drawn by"
        print "// tools/step-picture.sh from the clone flags in " main ";"
        print "// tools/pictures.sh makes pictures/step-" step ".svg of it."
        print "digraph \"step-" step "\" {"
        print "    graph [fontname=\"DejaVu Sans,Verdana,sans-serif\", pad=\"0.2\"];"
        print "    node [shape=plaintext, fontname=\"DejaVu Sans,Verdana,sans-serif\", fontsize=14];"
        print "    table [label=<"
        print "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"4\" CELLPADDING=\"6\" COLOR=\"#666666\">"
        print "<TR>" cell("COLSPAN=\"3\" BORDER=\"0\"", "<B>Step " esc(title) "</B>") "</TR>"
        print "<TR>" cell("BORDER=\"0\" ALIGN=\"LEFT\"", "<B>namespace</B>") \
            cell("BORDER=\"0\"", "<B>the host</B><BR/>" small "the runtime, the rest</FONT>") \
            cell("BORDER=\"0\"", "<B>the container</B><BR/>" small "the runtime" "\047" "s child</FONT>") "</TR>"
        for (i = 1; i <= n; i++) {
            head = cell("ALIGN=\"LEFT\" BALIGN=\"LEFT\"", "<B>" kind[i] " </B><FONT FACE=\"DejaVu Sans Mono,Menlo,Consolas,monospace\" POINT-SIZE=\"12\">" flag[i] "</FONT><BR/>" small what[i] "</FONT>")
            if (!(flag[i] in added))
                row = cell("COLSPAN=\"2\" " shared, "one, shared")
            else if (added[flag[i]] == step)
                row = cell(new, "<B>the host" "\047" "s</B>") cell(new, "<B>its own: new</B>")
            else
                row = cell(own, "the host" "\047" "s") cell(own, "its own (step " added[flag[i]] ")")
            print "<TR>" head row "</TR>"
        }
        print "<TR>" cell("BORDER=\"0\" ALIGN=\"LEFT\"", small "key:</FONT>") \
            cell(shared, small "shared: one for both</FONT>") \
            cell(own, small "isolated: one each</FONT>") "</TR>"
        print "<TR>" cell("BORDER=\"0\"", "") cell("BORDER=\"0\"", "") \
            cell(new, small "isolated by this step</FONT>") "</TR>"
        print "</TABLE>>];"
        print "}"
    }
'
