#!/bin/sh
# tools/bench.sh STEP...: what each layer costs (make bench; root).
#
# Times, side by side in one run (hyperfine, in rounds), the start to
# exit of busybox `true` (/bin/busybox true, the same binary on the host
# and in the rootfs) under:
#   - plain fork/exec: hyperfine starting it itself, the floor;
#   - every STEP (build/NN-name, the list from the Makefile), with
#     --net none from the step that has --net on, and --memory 64M
#     --pids 64 from the step that has them on; the step that brings
#     --net once more with its default, a veth pair;
#   - unshare(1) with the namespaces of each step (their clone flags in
#     steps/NN-name/main.c, as tools/step-flags.sh reads them), always
#     with --fork, so that each figure is fork, namespaces, exec, wait;
#     the user namespace as `unshare -r`, a single-uid map;
#   - bwrap --unshare-all on the same rootfs, crun and runc on an OCI
#     bundle of it (each its own `spec`, with terminal false, the command
#     above and a cgroupsPath under the bench's parent), where installed.
# Then the peak memory of each, with tools/bench-launch.c, and the bare
# calls of step 03's PID 1, step 05's loopback, step 06's maps and
# idmapped rootfs, and the mount, cgroup and overlay layers, with
# tools/bench-syscalls.c. It prints one Markdown table and writes it to
# build/bench.md, the figures to build/bench.tsv, and the picture to
# build/bench.svg (tools/bench-picture.sh; tools/pictures.sh svg).
#
# Where it runs: in a mount and network namespace of its own
# (unshare(1)), so that
#   - crun runs: crun 1.8 refuses this hybrid cgroup layout (v1
#     controllers plus an empty cgroup2 at /sys/fs/cgroup/unified), so
#     cgroup2 is unmounted there, for every runtime alike; the steps use
#     the v1 controllers either way;
#   - the hundreds of veth pairs of the veth row are made, and torn down,
#     in a network namespace the bench made and drops, never the
#     machine's. Nothing sends a packet: `true` does not;
#   - the steps' state directory, /run/boxstep, is the bench's own (a
#     tmpfs on /run), so no other container's lock holds a row up.
# Everything it makes goes in a scratch directory, removed at the end;
# every cgroup under boxstep-bench at a hierarchy's root, removed at the
# end (its own cgroups only: never process_api, never another).
#
# Settings, from the environment:
#   BENCH_RUNS=200     timed runs per command (after BENCH_WARMUP=20), in
#                      BENCH_ROUNDS=4 rounds over all the commands
#   BENCH_MEM_RUNS=5   runs per command for the memory (the median)
#   BENCH_QUIET_RUNS=15  starts after a pause of the newest step, bwrap
#                      and crun (0 leaves that part out)
#   BENCH_ONLY=REGEX   only the commands whose label matches (extended
#                      regular expression), plus fork/exec and crun
set -eu
LC_ALL=C
export LC_ALL

prog=tools/bench.sh
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-200}
WARMUP=${BENCH_WARMUP:-20}
ROUNDS=${BENCH_ROUNDS:-4}
MEM_RUNS=${BENCH_MEM_RUNS:-5}
QUIET_RUNS=${BENCH_QUIET_RUNS:-15}
ONLY=${BENCH_ONLY:-}
CG_PARENT=boxstep-bench
LAUNCH=$BUILD/tools/bench-launch
SYSCALLS=$BUILD/tools/bench-syscalls
ROOTFS=$(pwd)/$BUILD/rootfs
TRUE="/bin/busybox true"

die() {
    echo "$prog: $*" >&2
    exit 1
}

# The cgroups the bench made: boxstep-bench at each hierarchy's root,
# what is under it first (rmdir(2) takes an empty cgroup only).
remove_cgroups() {
    awk '$0 ~ / - cgroup2? / { print $5 }' /proc/self/mountinfo |
        while read -r mnt; do
            [ -d "$mnt/$CG_PARENT" ] || continue
            find "$mnt/$CG_PARENT" -depth -type d -exec rmdir {} + ||
                echo "$prog: could not remove $mnt/$CG_PARENT" >&2
        done
}

# --- outside: the scratch directory, the namespaces, the cleanup ------
if [ "${1-}" != --inside ]; then
    [ $# -ge 1 ] || die "usage: $prog STEP... (make bench)"
    [ "$(id -u)" = 0 ] || die "the runtimes need root: sudo make bench"
    for step in "$@"; do
        [ -x "$BUILD/$step" ] || die "no $BUILD/$step: run make first"
    done
    for tool in "$LAUNCH" "$SYSCALLS" "$ROOTFS/bin/busybox"; do
        [ -x "$tool" ] || die "no $tool: run make bench"
    done
    command -v hyperfine >/dev/null || die "no hyperfine: run make bench-deps"
    # What a bench killed with SIGKILL left, first.
    remove_cgroups
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/boxstep-bench.XXXXXX")
    trap 'remove_cgroups; rm -rf "$scratch"' EXIT
    trap 'exit 1' HUP INT TERM
    # unshare(1): a mount namespace (private: nothing propagates back)
    # and a network namespace, both gone when the bench ends.
    unshare --mount --propagation private --net -- \
        sh "$0" --inside "$scratch" "$@"
    exit 0
fi
shift
scratch=$1
shift
tmp=$scratch/work
mkdir "$tmp"

# The steps' state directory, /run/boxstep, of the bench's own: a tmpfs
# on /run here, as in the tests' sandbox. Its lock is then no other boxstep
# container's, and no row waits for one (and the veth's addresses are
# this network namespace's anyway).
mount -t tmpfs -o mode=0755,size=1m tmpfs /run

# Step 08's layers (BOXSTEP_LAYER_DIR) in the scratch directory, on the
# same disk as the default /var/lib/boxstep here, and gone with it: the
# bench leaves no layer directory on the machine.
# The child mounts the overlay as root of its user namespace, which must
# reach the layers: the scratch directory (mktemp's 0700) is opened to it.
chmod 0711 "$scratch"
BOXSTEP_LAYER_DIR=$scratch/layers
export BOXSTEP_LAYER_DIR

# crun 1.8.1 refuses the hybrid layout: no cgroup2 beside v1 here.
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
    umount /sys/fs/cgroup/unified
    UNIFIED_NOTE="cgroup2 at /sys/fs/cgroup/unified unmounted in the bench's mount namespace (crun refuses the hybrid layout), with a tmpfs on /run; every row ran there"
else
    UNIFIED_NOTE=""
fi

# --- the commands: a label, the command, its group --------------------
# $tmp/cmds: LABEL<TAB>GROUP<TAB>COMMAND, one a line, in table order.
# GROUP: floor, step, veth, unshare, other. A label has no blanks.
add() {
    if [ -n "$ONLY" ] && [ "$2" != floor ] && [ "$1" != crun ] &&
        ! printf '%s\n' "$1" | grep -Eq -- "$ONLY"; then
        return 0
    fi
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$tmp/cmds.$2"
}

# has_option STEP OPTION: when STEP's --help lists OPTION, prints the
# step that brought it: the [NN] that ends its description, on the
# option's line or the next.
has_option() {
    "$BUILD/$1" --help 2>/dev/null | awk -v opt="$2" '
        $1 == opt || $2 == opt { found = 1 }
        found && match($0, /\[[0-9][0-9]\]$/) {
            print substr($0, RSTART + 1, 2)
            exit
        }'
}

# unshare(1) options for clone flags (tools/step-flags.sh NN).
unshare_flags() {
    tools/step-flags.sh "$1" | awk '
        $1 == "CLONE_NEWUTS" { f = f "u" }
        $1 == "CLONE_NEWIPC" { f = f "i" }
        $1 == "CLONE_NEWPID" { f = f "p" }
        $1 == "CLONE_NEWNS" { f = f "m" }
        $1 == "CLONE_NEWNET" { f = f "n" }
        $1 == "CLONE_NEWUSER" { f = f "r" }
        $1 == "CLONE_NEWCGROUP" { f = f "C" }
        END { print f }'
}

: >"$tmp/steps"
add fork/exec floor "$TRUE"
for step in "$@"; do
    nn=${step%%-*}
    args=""
    net_from=$(has_option "$step" --net)
    [ -z "$net_from" ] || args="$args --net none"
    [ -z "$(has_option "$step" --memory)" ] || args="$args --memory 64M"
    [ -z "$(has_option "$step" --pids)" ] || args="$args --pids 64"
    flags=$(unshare_flags "$nn")
    # Sorted, so the same namespaces give the same label.
    flags=$(printf '%s' "$flags" | fold -w 1 | sort | tr -d '\n')
    ulabel="unshare${flags:+-$flags}"
    add "$step" step "$BUILD/$step$args $TRUE"
    printf '%s\t%s\t%s\n' "$step" "$ulabel" "${args# }" >>"$tmp/steps"
    if [ "$net_from" = "$nn" ]; then
        add "$step+veth" veth "$BUILD/$step $TRUE"
    fi
    if ! grep -qs "^$ulabel	" "$tmp/cmds.unshare"; then
        opts=$(printf '%s' "$flags" | sed 's/./ -&/g')
        add "$ulabel" unshare "unshare --fork$opts $TRUE"
    fi
done
mkdir "$tmp/state"
if command -v bwrap >/dev/null; then
    add bwrap other "bwrap --unshare-all --ro-bind $ROOTFS / --proc /proc --dev /dev $TRUE"
fi
# oci_bundle RUNTIME: an OCI bundle of the rootfs from RUNTIME's own spec.
oci_bundle() {
    mkdir "$tmp/bundle-$1"
    (cd "$tmp/bundle-$1" && "$1" spec)
    jq --arg root "$ROOTFS" --arg cg "/$CG_PARENT/$1" '
        .process.terminal = false |
        .process.args = ["/bin/busybox", "true"] |
        .root.path = $root |
        .linux.cgroupsPath = $cg' \
        "$tmp/bundle-$1/config.json" >"$tmp/bundle-$1/config.new"
    mv "$tmp/bundle-$1/config.new" "$tmp/bundle-$1/config.json"
}
for runtime in crun runc; do
    command -v $runtime >/dev/null || continue
    oci_bundle $runtime
    add $runtime other "$runtime --root $tmp/state/$runtime run --bundle $tmp/bundle-$runtime bench-$runtime"
done

# In the table's order: the floor, the steps, unshare, the others.
for group in floor step veth unshare other; do
    cat "$tmp/cmds.$group" 2>/dev/null || true
done >"$tmp/cmds"

# --- the times: hyperfine, in rounds -----------------------------------
# hyperfine runs each command's runs one after the other: a burst of load
# from elsewhere on the machine would land on one or two rows. So the runs
# are split into ROUNDS rounds over every command, and each command's
# times are pooled: a burst is then shared out among the rows.
set --
while IFS='	' read -r label group cmd; do
    set -- "$@" -n "$label" "$cmd"
done <"$tmp/cmds"
per_round=$(((RUNS + ROUNDS - 1) / ROUNDS))
echo "$prog: $(wc -l <"$tmp/cmds") commands, $RUNS runs each in $ROUNDS" \
    "rounds, after $WARMUP warm-up runs (hyperfine)" >&2
round=1
while [ $round -le "$ROUNDS" ]; do
    echo "$prog: round $round of $ROUNDS" >&2
    # The full warm-up before the first round, a short one before others.
    warmup=$WARMUP
    [ $round -eq 1 ] || warmup=$(((WARMUP + ROUNDS - 1) / ROUNDS))
    hyperfine -N --style none --warmup "$warmup" --runs "$per_round" \
        --export-json "$tmp/round-$round.json" "$@" >&2
    round=$((round + 1))
done
# Every run's time, "LABEL<TAB>SECONDS" a line, then per label the
# median, min and max in ms ("LABEL<TAB>MEDIAN<TAB>MIN<TAB>MAX").
jq -r '.results[] | .command as $c | .times[] | "\($c)\t\(.)"' \
    "$tmp"/round-*.json | sort -t '	' -k1,1 -k2,2g | awk -F '\t' '
    function flush() {
        if (n)
            printf "%s\t%.3f\t%.3f\t%.3f\n", label,
                (n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2) * 1000,
                t[1] * 1000, t[n] * 1000
        n = 0
    }
    $1 != label { flush(); label = $1 }
    { t[++n] = $2 }
    END { flush() }
' >"$tmp/times"

# --- the memory: bench-launch, the median of MEM_RUNS runs -------------
echo "$prog: peak memory, the median of $MEM_RUNS run(s) each" \
    "(tools/bench-launch.c)" >&2
: >"$tmp/memory"
while IFS='	' read -r label group cmd; do
    i=0
    while [ $i -lt "$MEM_RUNS" ]; do
        # shellcheck disable=SC2086 # the command's words, as hyperfine -N
        "$LAUNCH" $cmd </dev/null 2>/dev/null
        i=$((i + 1))
    done | awk -v label="$label" '
        { split($1, a, "="); rss[NR] = a[2]; split($2, b, "="); hwm[NR] = b[2] }
        function median(v, n,   i, j, t) {
            for (i = 1; i <= n; i++)
                for (j = i + 1; j <= n; j++)
                    if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
            return v[int((n + 1) / 2)]
        }
        END { printf "%s\t%s\t%s\n", label, median(hwm, NR), median(rss, NR) }
    ' >>"$tmp/memory"
done <"$tmp/cmds"

# --- the bare calls -----------------------------------------------------
echo "$prog: the bare calls of PID 1, the loopback, the user namespace," \
    "mounts, cgroups, overlay" \
    "(tools/bench-syscalls.c)" >&2
mkdir "$tmp/syscalls"
"$SYSCALLS" "$ROOTFS" "$tmp/syscalls" "$CG_PARENT" "$RUNS" >"$tmp/bare"

# --- a start after a pause ---------------------------------------------
# The rounds above start each command back to back. A lock a start takes
# may then stay cheap from the run before (step 07 once waited 10 ms for
# an RCU grace period after every pause, chapter 9), and a start typed at
# a shell comes after a pause. So the newest step, bwrap and crun start
# QUIET_RUNS times more, each after 0.3 s of sleep (hyperfine --prepare).
# "LABEL<TAB>MEDIAN_MS" a line.
: >"$tmp/quiet"
if [ "$QUIET_RUNS" -gt 0 ]; then
    echo "$prog: $QUIET_RUNS starts after a pause each,"         "of the newest step, bwrap and crun" >&2
    set --
    newest=$(awk -F '\t' '$2 == "step" { l = $0 } END { print l }' "$tmp/cmds")
    for line in "$newest" "$(grep -E '^(bwrap|crun)	' "$tmp/cmds")"; do
        [ -n "$line" ] || continue
        printf '%s\n' "$line"
    done | while IFS='	' read -r label group cmd; do
        printf '%s\t%s\n' "$label" "$cmd"
    done >"$tmp/quiet-cmds"
    while IFS='	' read -r label cmd; do
        set -- "$@" -n "$label" "$cmd"
    done <"$tmp/quiet-cmds"
    hyperfine -N --style none --runs "$QUIET_RUNS" --prepare "sleep 0.3" \
        --export-json "$tmp/quiet.json" "$@" >&2
    jq -r '.results[] | "\(.command)\t\(.median * 1000)"' \
        "$tmp/quiet.json" >"$tmp/quiet"
fi

# --- the report ---------------------------------------------------------
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
machine="Linux $(uname -r), $(nproc) CPUs: $cpu"
tools/bench-report.sh "$tmp/cmds" "$tmp/times" "$tmp/memory" \
    "$tmp/steps" "$tmp/bare" "$machine" "$((per_round * ROUNDS))" \
    "$ROUNDS" "$UNIFIED_NOTE" \
    "$BUILD/bench.tsv" >"$BUILD/bench.md"
tools/bench-picture.sh "$BUILD/bench.tsv" |
    tools/pictures.sh svg >"$BUILD/bench.svg" ||
    echo "$prog: could not draw $BUILD/bench.svg (make picture-deps?)" >&2
if [ -s "$tmp/quiet" ]; then
    awk -F '\t' -v runs="$QUIET_RUNS" '
        FNR == NR { back[$1] = $2; next }
        FNR == 1 {
            print ""
            printf "A start after a pause: the median of %d starts, each after ", runs
            print "0.3 s of sleep, beside the same command back to back (above):"
            print ""
            print "| command | after a pause | back to back |"
            print "|---|--:|--:|"
        }
        { printf "| %s | %.2f | %.2f |\n", $1, $2, back[$1] }
    ' "$tmp/times" "$tmp/quiet" >>"$BUILD/bench.md"
fi
cat "$BUILD/bench.md"
echo "$prog: wrote $BUILD/bench.md, $BUILD/bench.tsv and $BUILD/bench.svg" >&2
