#!/bin/sh
# vm/run.sh test|shell: boots the lab VM (see vm/vm.mk for the variables).
#
#   test   runs the test suite in the VM exactly as make test runs it on
#          the host (or $VM_CMD instead), streams the console, and exits
#          with the guest's status;
#   shell  a root shell on the VM's serial console (Ctrl-A x kills qemu).
#
# The guest's status reaches us as a line BOXSTEP-VM-EXIT=<status> on the
# serial console, which vm/init prints last before powering off. Nothing
# else counts as a result: a kernel panic (panic=-1 reboots, -no-reboot
# then ends qemu), a guest that powers off without the line, or one that
# outlives $VM_TIMEOUT is a failure with its own message, never a pass.
# The suite's output is shown up to that line, so a passing run ends with
# run.sh's summary; the whole console is kept in $VM_DIR/vm-test.log.
#
# The accelerator: KVM only once a short probe boot under KVM has reached
# init (a nested /dev/kvm can exist and hang), else TCG. The probe's answer
# is kept in $VM_DIR/accel for this host kernel and VM kernel.
set -eu

mode=$1
vmdir=${VM_DIR:?}
share=${VM_SHARE:?}
build=${VM_BUILD:?}
timeout_s=${VM_TIMEOUT:-1200}
probe_timeout=${VM_KVM_PROBE_TIMEOUT:-10}
kdir=$vmdir/kernel
initramfs=$vmdir/initramfs.cpio

die() { echo "vm: $*" >&2; exit 1; }
# Ctrl-C (qemu gets it too) still runs the EXIT traps that tidy build/vm/run.
trap 'exit 130' INT HUP TERM

# The console goes through awk line by line, as it comes. Debian's awk,
# mawk, reads a pipe in blocks and would show nothing until qemu ends:
# -W interactive makes it read lines (other awks read what is there).
lines_awk() {
    if awk -W version 2>&1 | grep -q mawk; then
        awk -W interactive "$@"
    else
        awk "$@"
    fi
}

case "$share$build$vmdir" in
*[[:space:]\"]*) die "the kernel command line cannot carry paths with spaces or quotes: $share" ;;
esac
kernel=$kdir/${VM_KERNEL:-vmlinux}
[ -f "$kernel" ] || kernel=$kdir/vmlinuz
[ -f "$kernel" ] && [ -f "$initramfs" ] || die "no kernel or initramfs in $vmdir: run make vm-image"

# Every boot: 2 vCPUs and 1.5 GiB by default, no network card, no disk,
# no display; 9p for the project. security_model=none: files are created
# as the user running qemu, so this works without root too.
# The console runs at the serial port: quiet keeps the kernel to warnings.
# oops=panic: a kernel bug ends the run at once instead of at the timeout.
qemu_base() { # ACCEL
    set -- -accel "$1" -cpu "$([ "$1" = kvm ] && echo host || echo max)"
    set -- "$@" -nodefaults -no-user-config -display none -no-reboot \
        -m "${VM_MEM:-1536}" -smp "${VM_SMP:-2}" \
        -kernel "$kernel" -initrd "$initramfs"
    echo "$@"
}
cmdline_base="console=ttyS0 panic=-1 oops=panic quiet cgroup_no_v1=all"

# ---- the accelerator ----
probe_kvm() {
    if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        echo "no usable /dev/kvm"
        return 1
    fi
    rc=0
    out=$(timeout --foreground -k 10 "$probe_timeout" qemu-system-x86_64 \
        $(qemu_base kvm) -append "$cmdline_base boxstep.mode=probe" \
        -serial stdio </dev/null 2>&1) || rc=$?
    case $out in
    *BOXSTEP-VM-PROBE-OK*) return 0 ;;
    esac
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "KVM did not boot the kernel within $probe_timeout s"
    else
        echo "qemu -accel kvm failed ($(printf '%s\n' "$out" | tail -n 1))"
    fi
    return 1
}
accel=${VM_ACCEL:-}
if [ -z "$accel" ]; then
    key="host $(uname -r) vm $(cat "$kdir/version")"
    if [ -f "$vmdir/accel" ] && [ "$(sed -n 1p "$vmdir/accel")" = "$key" ]; then
        accel=$(sed -n 2p "$vmdir/accel")
    else
        echo "vm: probing KVM (up to $probe_timeout s)"
        if why=$(probe_kvm); then
            accel=kvm
            echo "vm: KVM works: using it"
        else
            accel=tcg
            echo "vm: $why: using TCG (software emulation)"
        fi
        printf '%s\n%s\n' "$key" "$accel" >"$vmdir/accel"
    fi
fi

# ---- the boot ----
set -- $(qemu_base "$accel") \
    -fsdev "local,id=project,path=$share,security_model=none" \
    -device virtio-9p-pci,fsdev=project,mount_tag=boxstep
cmdline="$cmdline_base boxstep.mode=$mode boxstep.share=$share"
cmdline="$cmdline boxstep.cache=${VM_9P_CACHE:-loose} boxstep.build=$build"
# vm-test runs the suite on a copy of the build on a tmpfs, where step 06
# can idmap its rootfs (see vm/init); make vm keeps the share, where what
# the host rebuilds shows at once. VM_BUILD_COPY=1 or 0 says otherwise.
copy=${VM_BUILD_COPY:-}
[ -n "$copy" ] || copy=$([ "$mode" = test ] && echo 1 || echo 0)
case $copy in 0 | 1) ;; *) die "VM_BUILD_COPY=$copy: 1 (a copy on a tmpfs) or 0 (the share)" ;; esac
cmdline="$cmdline boxstep.buildcopy=$copy"
case $build/ in
"$share"/*) ;;
*)
    set -- "$@" -fsdev "local,id=build,path=$build,security_model=none" \
        -device virtio-9p-pci,fsdev=build,mount_tag=boxstep-build
    cmdline="$cmdline boxstep.buildshare=$build"
    ;;
esac
echo "vm: booting $(cat "$kdir/release") ($(basename "$kernel"), $accel," \
    "${VM_SMP:-2} vCPUs, ${VM_MEM:-1536} MiB)"

if [ "$mode" = shell ] && [ -t 0 ]; then
    # mon:stdio: Ctrl-C reaches the guest, Ctrl-A x ends qemu.
    exec qemu-system-x86_64 "$@" -append "$cmdline" -serial mon:stdio
elif [ "$mode" = shell ]; then
    # Scripted input (printf 'cmd\npoweroff -f\n' | make vm): bytes that
    # reach the serial port before the guest has opened it are lost, so
    # the input is held back until vm/init announces the shell ("vm: root
    # shell ready"), and ends with "exit", which ends the shell and so the
    # VM (a Ctrl-D that arrives while a command runs is lost). VM_TIMEOUT
    # still bounds the whole run.
    mkdir -p "$vmdir/run"
    fifo=$vmdir/run/stdin-$$ ready=$vmdir/run/ready-$$
    rm -f "$fifo" "$ready"
    mkfifo "$fifo"
    trap 'rm -f "$fifo" "$ready"' EXIT
    exec 3<&0
    {
        while [ ! -e "$ready" ]; do sleep 0.1; done
        cat <&3
        printf '\nexit\n'
    } >"$fifo" &
    feeder=$!
    exec 3<&-
    {
        rc=0
        timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 "$@" \
            -append "$cmdline" -serial stdio <"$fifo" 2>&1 || rc=$?
        echo "$rc" >"$ready.rc"
    } | lines_awk -v ready="$ready" '{ sub(/\r+$/, ""); print; fflush() }
        !seen && index($0, "vm: root shell ready") {
            seen = 1; printf "" > ready; close(ready) }'
    kill "$feeder" 2>/dev/null || true
    rc=$(cat "$ready.rc")
    rm -f "$ready.rc"
    [ "$rc" != 124 ] && [ "$rc" != 137 ] ||
        die "TIMEOUT: the VM ran over VM_TIMEOUT=$timeout_s s and was killed"
    exit "$rc"
fi
[ "$mode" = test ] || die "unknown mode $mode (test or shell)"

# The job: a script on the share, so that any command survives the trip
# (the kernel command line groups words only with double quotes).
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
mkdir -p "$vmdir/run"
job=$vmdir/run/job-$$.sh
log=$vmdir/run/log-$$
trap 'rm -f "$job" "$log" "$log.rc"' EXIT
{
    echo "# make vm-test's job, written by vm/run.sh; run by vm/init."
    echo "cd $(q "$share") || exit 125"
    # Under software emulation, step 08's start-cost test times an image
    # of 5,000 more files, not 20,000 (tests/suite-08-overlay.c).
    echo "export BOXSTEP_BUILD=$(q "$build") BOXSTEP_STEP=$(q "${STEP:-}")" \
        "BOXSTEP_STEP_BIN=$(q "${STEP_BIN:-}") BOXSTEP_IMAGE_FILES=5000"
    if [ -n "${VM_CMD:-}" ]; then
        printf '%s\n' "$VM_CMD"
    else
        echo "tests/run.sh ${STEP:+$(q "$STEP")}"
    fi
} >"$job"
cmdline="$cmdline boxstep.job=$job"

start=$(date +%s)
# qemu's status goes through a file: a pipeline keeps only the last one.
# awk drops the carriage returns of the serial line, keeps everything in
# the log, and shows the console up to the status line.
{
    rc=0
    timeout --foreground -k 10 "$timeout_s" qemu-system-x86_64 "$@" \
        -append "$cmdline" -serial stdio </dev/null 2>&1 || rc=$?
    echo "$rc" >"$log.rc"
} | lines_awk -v logf="$log" '
    { sub(/\r+$/, ""); print > logf; fflush(logf) }
    index($0, "BOXSTEP-VM-EXIT=") { done = 1 }
    !done { print; fflush() }'
qemu_rc=$(cat "$log.rc" 2>/dev/null || echo 1)
elapsed=$(($(date +%s) - start))
cp "$log" "$vmdir/vm-test.log"

# A panic counts whatever was printed before it: the line could have come
# from a test. timeout says 124, or 137 when qemu needed a SIGKILL.
status=$(sed -n 's/.*BOXSTEP-VM-EXIT=\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
    echo "vm: TIMEOUT: the VM ran $elapsed s, over VM_TIMEOUT=$timeout_s s, and was killed" \
        "(console in $vmdir/vm-test.log)" >&2
    exit 124
elif grep -q 'Kernel panic' "$log"; then
    echo "vm: the guest kernel PANICKED ($(grep -m1 'Kernel panic' "$log" | sed 's/^\[[^]]*\] *//'));" \
        "console in $vmdir/vm-test.log" >&2
    exit 125
elif [ -z "$status" ]; then
    echo "vm: the VM stopped without reporting a status (qemu exit status $qemu_rc);" \
        "console in $vmdir/vm-test.log" >&2
    exit 125
elif [ "$status" != 0 ]; then
    echo "vm: the guest's command exited with status $status after $elapsed s" >&2
    exit "$status"
fi
