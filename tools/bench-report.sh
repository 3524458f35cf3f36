#!/bin/sh
# tools/bench-report.sh CMDS TIMES MEMORY STEPS BARE MACHINE RUNS ROUNDS
#                       NOTE TSV:
# the Markdown report of make bench on stdout, and its figures in TSV
# (for tools/bench-picture.sh). tools/bench.sh gathers the inputs:
#
#   CMDS    LABEL<TAB>GROUP<TAB>COMMAND: what ran, in table order; GROUP
#           is floor, step, veth, unshare or other
#   TIMES   LABEL<TAB>MEDIAN<TAB>MIN<TAB>MAX, in ms, from hyperfine's runs
#   MEMORY  LABEL<TAB>VMHWM_KB<TAB>MAXRSS_KB (tools/bench-launch.c)
#   STEPS   STEP<TAB>UNSHARE-LABEL<TAB>ITS OPTIONS, in order
#   BARE    tools/bench-syscalls.c's lines
#   MACHINE the kernel and CPU, a line; RUNS the timed runs per command,
#           in ROUNDS rounds
#   NOTE    what was changed for crun, or ""
#
# TSV gets one line per command: LABEL<TAB>GROUP<TAB>MEDIAN_MS<TAB>PARTS,
# where PARTS is, for a step, the cost of each layer up to it,
# "00-fork=1.96,01-uts=0.05,...", each the step's median less the one
# before (the first: its whole median); for any other, its median.
set -eu
LC_ALL=C
export LC_ALL

[ $# -eq 10 ] || {
    echo "usage: tools/bench-report.sh CMDS TIMES MEMORY STEPS BARE" \
        "MACHINE RUNS ROUNDS NOTE TSV" >&2
    exit 2
}
cmds=$1 times=$2 memory=$3 steps=$4 bare=$5
machine=$6 runs=$7 rounds=$8 note=$9 tsv=${10}

awk -F '\t' -v machine="$machine" -v runs="$runs" -v rounds="$rounds" \
    -v note="$note" \
    -v tsv="$tsv" -v times="$times" -v memory="$memory" -v steps="$steps" \
    -v bare="$bare" '
    function ms(x) { return sprintf("%.2f", x) }
    function signed(x) { return sprintf("%+.2f", x) }
    function ratio(a, b) { return b > 0 ? sprintf("%.1f", a / b) : "-" }
    # The bare calls that stand beside a layer, by the step'"'"'s name.
    function bare_of(step) {
        if (step ~ /-pid$/) return "pid-init"
        if (step ~ /-net$/) return "net-lo"
        if (step ~ /-user$/) return "user-idmap"
        if (step ~ /-mount$/) return "mounts"
        if (step ~ /-cgroup$/) return "cgroup"
        if (step ~ /-overlay$/) return "overlay"
        return ""
    }
    BEGIN {
        while ((getline line < times) > 0) {
            split(line, f, "\t")
            median[f[1]] = f[2]
            min[f[1]] = f[3]
            max[f[1]] = f[4]
        }
        while ((getline line < memory) > 0) {
            split(line, f, "\t")
            hwm[f[1]] = f[2]
            rss[f[1]] = f[3]
        }
        while ((getline line < steps) > 0) {
            split(line, f, "\t")
            step[++nsteps] = f[1]
            uns[f[1]] = f[2]
            opts[f[1]] = f[3]
        }
        while ((getline line < bare) > 0) {
            split(line, f, "\t")
            bare_ms[f[1]] = f[4]
            bare_what[f[1]] = f[5]
            bare_names[++nbare] = f[1]
        }
    }
    { label[++n] = $1; group[$1] = $2; cmd[$1] = $3 }
    END {
        floor = median["fork/exec"]
        crun = ("crun" in median) ? median["crun"] : 0
        printf "Start to exit of busybox `true`, in milliseconds: the median, "
        printf "min and max of %d runs in %d rounds over all the rows, after a warm-up (hyperfine -N). ", runs, rounds
        printf "%s.\n\n", machine
        print "| command | median | min | max | × fork/exec | × crun | VmHWM kB | ru_maxrss kB |"
        print "|---|--:|--:|--:|--:|--:|--:|--:|"
        for (i = 1; i <= n; i++) {
            l = label[i]
            if (!(l in median)) continue
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", l,
                ms(median[l]), ms(min[l]), ms(max[l]), ratio(median[l], floor),
                crun ? ratio(median[l], crun) : "-", hwm[l], rss[l]
        }
        print ""
        print "What each layer adds, in milliseconds: a step'"'"'s median less the step'"'"'s before it; unshare(1)'"'"'s for the same namespaces likewise (the ratio only where unshare adds 0.05 ms or more); the bare calls of a layer that is more than a namespace, or does more than unshare does (tools/bench-syscalls.c), over a fork that does nothing."
        print ""
        print "| layer | the step adds | unshare adds | step / unshare | step − unshare | bare calls |"
        print "|---|--:|--:|--:|--:|--:|"
        prev = ""
        for (s = 1; s <= nsteps; s++) {
            st = step[s]
            if (!(st in median)) { prev = ""; continue }
            adds = prev == "" ? "" : signed(median[st] - median[prev])
            u = uns[st]; pu = prev == "" ? "" : uns[prev]
            uadds = ""; r = ""; over = ""
            if (pu != "" && u != pu && (u in median) && (pu in median)) {
                ud = median[u] - median[pu]
                uadds = signed(ud) " (" u ")"
                # Under 0.05 ms, a ratio would be noise over noise.
                r = ud >= 0.05 ? ratio(median[st] - median[prev], ud) : "-"
                over = signed(median[st] - median[prev] - ud)
            }
            b = bare_of(st)
            bcell = (b in bare_ms) ? "+" bare_ms[b] " (" b ")" : ""
            # The first step is all of it; after a step left out
            # (BENCH_ONLY), there is nothing to subtract.
            if (s == 1) adds = ms(median[st]) " (all)"
            printf "| %s | %s | %s | %s | %s | %s |\n", st, adds, uadds, r, over, bcell
            if ((st "+veth") in median)
                printf "| %s | %s (vs --net none) | | | | |\n", st "+veth",
                    signed(median[st "+veth"] - median[st])
            prev = st
        }
        print ""
        if (nbare) {
            print "The bare calls (tools/bench-syscalls.c), each the median of its runs less a fork that does nothing:"
            print ""
            for (b = 1; b <= nbare; b++)
                if (bare_names[b] != "fork")
                    printf "- %s, +%s ms: %s\n", bare_names[b], bare_ms[bare_names[b]], bare_what[bare_names[b]]
            print ""
        }
        newest = step[nsteps]
        if ((newest in median) && crun) {
            printf "The start path: %s %s, median %s ms; half of crun'"'"'s is %s ms: %s", \
                newest, opts[newest], ms(median[newest]), ms(crun / 2),
                median[newest] <= crun / 2 ? "within" : "NOT within"
            if ("bwrap" in median)
                printf "; bwrap'"'"'s is %s ms: %s", ms(median["bwrap"]),
                    median[newest] <= median["bwrap"] ? "no slower" : "SLOWER"
            printf ". Its own VmHWM: %s kB, %s 1024 kB.\n\n", hwm[newest],
                hwm[newest] < 1024 ? "under" : "NOT under"
        }
        print "How they ran:"
        print ""
        for (s = 1; s <= nsteps; s++)
            if (opts[step[s]] != "" && opts[step[s]] != opts[step[s - 1]])
                printf "- from %s on, the steps ran with `%s`\n", step[s], opts[step[s]]
        for (i = 1; i <= n; i++)
            if (group[label[i]] == "veth")
                printf "- %s: that step with its default network, a veth pair, made and torn down in a network namespace of the bench'"'"'s own\n", label[i]
        print "- unshare-FLAGS: `unshare --fork -FLAGS`, the namespaces of the step; `-r` is a single-uid map (the steps map 65536)"
        if ("bwrap" in median) print "- bwrap: `bwrap --unshare-all --ro-bind ROOTFS / --proc /proc --dev /dev`"
        if (crun || ("runc" in median)) print "- crun, runc: `run` on a bundle of the same rootfs from their own `spec` (pid, network, IPC, UTS and mount namespaces, no user namespace), terminal false, cgroupsPath under /boxstep-bench"
        if (note != "") print "- " note
        print "- VmHWM: the peak resident memory of the command'"'"'s own process; ru_maxrss: the largest of it and of each descendant it waited for (the container'"'"'s busybox too), from wait4(2) (tools/bench-launch.c)"
        for (i = 1; i <= n; i++) {
            l = label[i]
            if (!(l in median)) continue
            if (group[l] == "step")
                parts = layers(l)
            else if (group[l] == "veth") {
                base = substr(l, 1, length(l) - 5)
                parts = layers(base) ",veth=" ms(median[l] - median[base])
            } else
                parts = l "=" ms(median[l])
            printf "%s\t%s\t%s\t%s\n", l, group[l], ms(median[l]), parts > tsv
        }
    }
    # The layers of step l: "00-fork=1.96,01-uts=0.05,...".
    function layers(l,   s, p, parts) {
        p = ""
        parts = ""
        for (s = 1; s <= nsteps; s++) {
            if (!(step[s] in median)) continue
            parts = parts "," step[s] "=" ms(median[step[s]] - (p == "" ? 0 : median[p]))
            p = step[s]
            if (step[s] == l) break
        }
        return substr(parts, 2)
    }
' "$cmds"
